"""pip's TBB library made visible to numba, on import (``sim.kernels`` imports this before numba).

numba's TBB threading layer (the fork- and thread-safe one behind ``kernel_threads``) links to
``libtbb.so.12``, which pip installs into the environment's ``lib`` folder, where the dynamic
loader does not look. This module imports no Mesa.
"""

from __future__ import annotations


def load() -> None:
    """Load pip's TBB library so that numba's TBB layer finds it.

    pip installs ``libtbb.so.12`` into the environment's ``lib`` folder, which the dynamic loader
    does not search; loaded here first (by its soname, globally), numba's layer links to it.
    Without it numba falls back to workqueue: slower threads, the same results.
    """
    import ctypes
    import sys
    from pathlib import Path

    library = Path(sys.prefix) / "lib" / "libtbb.so.12"
    if library.is_file():
        try:
            ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
        except OSError:  # a broken install: the workqueue layer still runs the threaded kernels
            pass


load()

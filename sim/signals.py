"""Starting child processes that leave Ctrl-C to their parent.

Ctrl-C in a terminal sends SIGINT to the whole foreground process group: a sweep's workers, the
proposal explorer's workers and a dask LocalCluster's processes too. Each would print a
KeyboardInterrupt traceback, while their parent decides what to do (stop submitting, let the
runs in flight finish, print one line). A child started while SIGINT is ignored inherits the
ignored signal through exec, and Python then leaves it ignored.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT in this process while the block starts child processes, then put the handler back.

    Signal handlers can only be changed in the main thread: elsewhere this does nothing (the
    children then ignore SIGINT once their own start-up code says so).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        # None: a handler not set from Python, which cannot be put back; Python's own takes its place.
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)

"""SIGINT (Ctrl-C) around the starting of child processes and the importing of libraries.

Ctrl-C in a terminal sends SIGINT to the whole foreground process group: a sweep's workers, the
proposal explorer's workers and a dask LocalCluster's processes too. Each would print a
KeyboardInterrupt traceback, while their parent decides what to do (stop submitting, let the
runs in flight finish, print one line). A child started while SIGINT is ignored inherits the
ignored signal through exec, and Python then leaves it ignored; a Python handler, unlike SIG_IGN,
is reset to the default in a child at exec.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import FrameType
from typing import Any

Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


@contextmanager
def sigint_as(handler: Handler) -> Iterator[None]:
    """SIGINT's handler is ``handler`` during the block; afterwards the one before it, whatever the block set.

    Signal handlers can only be changed in the main thread: elsewhere this does nothing. ``None``
    (a handler not set from Python, as :func:`signal.getsignal` reports it) cannot be set: the
    handler is then left alone during the block, and Python's own is put back after it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler) if handler is not None else signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def sigint_ignored() -> AbstractContextManager[None]:
    """Ignore SIGINT while the block starts child processes, so that they start ignoring it."""
    return sigint_as(signal.SIG_IGN)


def sigint_kept() -> AbstractContextManager[None]:
    """Put SIGINT's handler back as it was after the block (an import that sets its own, for one)."""
    return sigint_as(signal.getsignal(signal.SIGINT))

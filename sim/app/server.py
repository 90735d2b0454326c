"""The explorer's uvicorn server: a stop signal ends it once, with one line and no traceback.

Imported only when the explorer is served (uvicorn is not needed to import :mod:`sim.app`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn

GRACE_EXCEEDED = "timeout graceful shutdown exceeded"
"""Part of the line uvicorn logs when connections are still open at the end of the stop grace."""


def cancelled_for_grace(exc: BaseException | None) -> bool:
    """Whether an exception is, or was raised while handling, uvicorn's cancellation at the grace's end.

    Middleware such as anyio's task groups re-raise a bare CancelledError with uvicorn's (which
    carries the message) as its context, so the chain is followed.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, asyncio.CancelledError) and GRACE_EXCEEDED in str(exc):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


class GraceExceeded(logging.Filter):
    """Takes uvicorn's error lines for connections cut after the stop grace out of the log.

    These are its "timeout graceful shutdown exceeded" line and the traceback of each request it
    cancelled for it. Cutting them is what the grace is for; the closing line reports it instead,
    so a stop prints one line however slow the open pages (or a loaded machine) are to disconnect.
    Any other record passes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        """False (drop the record) for the grace line, which it notes; True for any other."""
        exc = record.exc_info[1] if record.exc_info else None
        if cancelled_for_grace(exc) or GRACE_EXCEEDED in record.getMessage():
            self.seen = True
            return False
        return True


class ExplorerServer(uvicorn.Server):
    """uvicorn's server, except that a stop signal is not raised again after its graceful shutdown.

    uvicorn re-raises the signal it caught once it has stopped, so SIGINT ends in a
    KeyboardInterrupt traceback and SIGTERM kills the process before the workers are ended.

    Attributes:
        received: the first stop signal received, or None.
        grace_exceeded: the filter noting whether connections were cut after the stop grace.

    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.received: int | None = None
        self.grace_exceeded = GraceExceeded()
        # After Config, which sets uvicorn's logging up and would otherwise replace it.
        logging.getLogger("uvicorn.error").addFilter(self.grace_exceeded)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle SIGINT and SIGTERM while serving, then give the previous handlers back."""
        if threading.current_thread() is not threading.main_thread():  # only the main thread may
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Note the first stop signal and begin the graceful shutdown."""
        self.received = self.received or sig
        super().handle_exit(sig, frame)

    def close_log(self) -> None:
        """Remove the grace filter from uvicorn's logger (a process may serve more than once)."""
        logging.getLogger("uvicorn.error").removeFilter(self.grace_exceeded)


def make_server(app: Any, host: str, port: int, stop_grace: int) -> ExplorerServer:
    """The explorer's server for an ASGI app on ``host:port``.

    Args:
        app: the ASGI app.
        host: address to listen on.
        port: port to listen on.
        stop_grace: seconds open connections get to close on a stop before they are cut.

    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        limit_concurrency=200,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=stop_grace,  # open pages' websockets must not hold the stop up
    )
    return ExplorerServer(config)


__all__ = ["GRACE_EXCEEDED", "ExplorerServer", "GraceExceeded", "cancelled_for_grace", "make_server"]

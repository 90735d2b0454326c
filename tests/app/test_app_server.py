"""The explorer's uvicorn server stops with one line even when a connection outlasts the stop grace.

A real uvicorn server on a loopback port, with an ASGI app whose one request never finishes
(as a page still loading on a loaded machine): the stop cuts it after the grace, the closing
line says so, and uvicorn's own error line for it is not printed.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from typing import Any

import pytest

from sim.app.server import GRACE_EXCEEDED, make_server
from tests.app.test_app_browser import free_port


def serve_one_request(hold: str, capfd: pytest.CaptureFixture[str]) -> tuple[Any, float, str]:
    """Serve an app whose request is held open (or answered), stop it with SIGTERM mid-request.

    Args:
        hold: "no" (the request is answered), "plain" (held; uvicorn's cancellation ends it) or
            "rewrapped" (held; ends in a bare CancelledError raised while handling uvicorn's, as
            the task groups of Starlette's file responses do).
        capfd: pytest's capture of the process's output.

    """
    arrived = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        arrived.set()
        if hold == "plain":
            await asyncio.sleep(60)
        elif hold == "rewrapped":
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                raise asyncio.CancelledError from None  # a new one; uvicorn's stays its __context__
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    port = free_port()
    server = make_server(app, "127.0.0.1", port, stop_grace=1)

    def client() -> None:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            arrived.wait(30)
            if hold == "no":
                sock.recv(1024)
            server.handle_exit(signal.SIGTERM, None)
            time.sleep(3)  # the connection stays open through the grace

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    start = time.monotonic()
    try:
        server.run()
    finally:
        server.close_log()
    took = time.monotonic() - start
    thread.join(10)
    return server, took, capfd.readouterr().err


@pytest.mark.parametrize("hold", ["plain", "rewrapped"])
def test_a_request_held_past_the_grace_is_cut_and_reported_once(hold: str, capfd: pytest.CaptureFixture[str]) -> None:
    server, took, err = serve_one_request(hold, capfd)
    assert server.received == signal.SIGTERM
    assert server.grace_exceeded.seen, "the held request was not cut at the end of the grace"
    assert GRACE_EXCEEDED not in err, err
    assert "Traceback" not in err, err
    assert took < 20, f"the stop took {took:.1f} s with a 1 s grace"


def test_a_stop_with_no_open_request_reports_no_cut(capfd: pytest.CaptureFixture[str]) -> None:
    server, _, err = serve_one_request("no", capfd)
    assert server.received == signal.SIGTERM
    assert not server.grace_exceeded.seen
    assert GRACE_EXCEEDED not in err, err

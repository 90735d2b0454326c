"""The proposal explorer: a Solara web app to test a policy proposal against a baseline.

Start it with ``python -m sim app`` (or ``python -m sim app --port 8800``); it serves on
127.0.0.1 by default. Its parts:

- :mod:`sim.app.proposal`: the proposal, its validation, links, reproduce commands, runs and
  analysis (no UI);
- :mod:`sim.app.jobs`: background runs on a bounded process pool, with progress;
- :mod:`sim.app.cache`: the app's own cache folder, the only place it writes;
- :mod:`sim.app.safe`: escaping, the safe Markdown renderer and the Host-header check;
- :mod:`sim.app.live`: the live Mesa model and views of its communities and services;
- :mod:`sim.app.charts`: the charts;
- :mod:`sim.app.app`: the Solara page (the Mesa ``app.py`` pattern).

Importing this package does not import Solara, so :func:`serve` can point Solara's own files
into the cache folder before Solara reads its settings.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def configure_environment(cache: str | Path | None = None) -> Path:
    """Point Solara's files into the app's cache folder and switch off its telemetry; return the folder.

    Must run before Solara is imported (Solara reads these settings when it is imported).
    """
    if cache is not None:
        os.environ["SIM_APP_CACHE"] = str(Path(cache).resolve())
    from sim.app.cache import cache_dir

    folder = cache_dir()
    solara_home = folder / "solara"
    solara_home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "SOLARA_HOME": str(solara_home),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "SOLARA_THEME_TITLE": "Proposal explorer",
        "SOLARA_THEME_SHOW_BANNER": "false",
        # Free a closed page's state (its live model) a minute after its tab is closed.
        "SOLARA_KERNEL_CULL_TIMEOUT": "60s",
        # At most this many open pages at once; later ones wait for a free slot.
        "SOLARA_KERNEL_MAX_COUNT": "30",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(folder / "matplotlib"),
        # Solara runs each page in a virtual IPython kernel: keep IPython's and Jupyter's files here too.
        "IPYTHONDIR": str(folder / "ipython"),
        "JUPYTER_CONFIG_DIR": str(folder / "jupyter" / "config"),
        "JUPYTER_DATA_DIR": str(folder / "jupyter" / "data"),
        "JUPYTER_RUNTIME_DIR": str(folder / "jupyter" / "runtime"),
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    return folder


DEFAULT_STOP_GRACE = 5
"""Seconds open pages get to disconnect when the server stops, before their connections are cut."""

MAX_STOP_GRACE = 600


def check_stop_grace(seconds: int) -> None:
    """Reject a stop grace that is negative or longer than ten minutes.

    Raises:
        ValueError: naming the problem.

    """
    if not isinstance(seconds, int) or not 0 <= seconds <= MAX_STOP_GRACE:
        raise ValueError(f"--stop-grace {seconds!r} is out of range; allowed: 0 to {MAX_STOP_GRACE} whole seconds")


def check_address(host: str, port: int) -> None:
    """Reject a host or port that cannot be served.

    Raises:
        ValueError: naming the problem.

    """
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"--port {port!r} is out of range; allowed: 1 to 65535")
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"--host {host!r} is not an IP address (e.g. 127.0.0.1) or 'localhost'") from None


class Stopped(BaseException):
    """A stop signal (SIGTERM or SIGINT) arrived while the server was starting or stopping."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def bind_warning(host: str, port: int) -> str | None:
    """The one-line warning printed when the server is bound on purpose to a non-loopback address."""
    from sim.app.safe import is_loopback

    if is_loopback(host):
        return None
    return (
        f"warning: serving on {host}, not this machine's loopback address: anyone who can reach it on port "
        f"{port} can use the explorer and run proposals, and requests for any host name are answered."
    )


def build_app(bound_to: str) -> Any:
    """Solara's ASGI app behind the Host check of :class:`sim.app.safe.HostGuard`.

    Bound to a loopback address, only loopback ``Host`` headers are served; bound on purpose to
    another address, any host name is (the caller warns).
    """
    from solara.server.starlette import app as solara_app

    from sim.app.safe import HostGuard, is_loopback

    return HostGuard(solara_app, any_host=not is_loopback(bound_to))


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    cache: str | Path | None = None,
    stop_grace: int = DEFAULT_STOP_GRACE,
) -> None:
    """Serve the explorer until SIGINT (Ctrl+C) or SIGTERM, then end its workers and exit with one line.

    Args:
        host: address to listen on; 127.0.0.1 (this machine only) by default. Use 0.0.0.0 to let
            colleagues on your network open it (a warning is printed: anyone who can reach the
            machine can then use it).
        port: port to listen on.
        cache: the app's cache folder (default ``$SIM_APP_CACHE`` or ``~/.cache/sim-app``).
        stop_grace: seconds open pages get to disconnect when the server stops; connections
            still open then are cut, and the one closing line says so.

    """
    check_address(host, port)
    check_stop_grace(stop_grace)
    # Until uvicorn takes the signals over (and again once it gives them back), a stop signal
    # unwinds to the clean exit below rather than printing a KeyboardInterrupt traceback.
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    manager = None
    stopped_by: int | None = None
    cut_off = False
    try:
        manager, stopped_by, cut_off = _serve(host, port, cache, stop_grace)
    except Stopped as exc:
        stopped_by = exc.signum
    finally:
        for sig in previous:  # a second Ctrl+C while the workers end must not interrupt their ending
            signal.signal(sig, signal.SIG_IGN)
        if manager is None:
            from sim.app import jobs

            manager = jobs._MANAGER
        if manager is not None:
            manager.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopped_by is not None:
        cut = f"; connections still open after {stop_grace} s were cut" if cut_off else ""
        print(
            f"Proposal explorer stopped ({_signal_name(stopped_by)}){cut}; its worker processes have ended.",
            flush=True,
        )


def _serve(host: str, port: int, cache: str | Path | None, stop_grace: int) -> tuple[Any, int | None, bool]:
    """Start the workers and run the server.

    Returns:
        The job manager, the stop signal received (or None) and whether connections still open
        after the stop grace were cut.

    """
    folder = configure_environment(cache)
    os.environ["SOLARA_APP"] = "sim.app.app"
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    # Solara warns on every page served over http to an address other than "localhost" that it
    # falls back to samesite=lax cookies: right for a loopback server, and noise in the terminal.
    import warnings

    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)

    from solara.server import settings

    from sim.app.server import make_server

    settings.main.mode = "production"
    from sim.app import jobs

    manager = jobs.manager()
    manager.warm_up()
    server = make_server(build_app(host), host, port, stop_grace)
    shown = f"[{host}]" if ":" in host else host
    warning = bind_warning(host, port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    print(f"Proposal explorer: open http://{shown}:{port}/ in a browser (Ctrl+C stops it)", flush=True)
    print(f"cache folder: {folder}", flush=True)
    try:
        server.run()
    finally:
        server.close_log()
    return manager, server.received, server.grace_exceeded.seen


def main(argv: list[str] | None = None) -> None:
    """``python -m sim app [--host HOST] [--port PORT] [--cache FOLDER] [--stop-grace SECONDS]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m sim app",
        description="Serve the proposal explorer: test a policy proposal against a baseline in the browser.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", default=DEFAULT_PORT, type=int, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--cache", default=None, help="the app's cache folder (default ~/.cache/sim-app)")
    parser.add_argument(
        "--stop-grace",
        default=DEFAULT_STOP_GRACE,
        type=int,
        metavar="SECONDS",
        help=f"on stopping, how long open pages get to disconnect before they are cut (default {DEFAULT_STOP_GRACE})",
    )
    args = parser.parse_args(argv)
    try:
        check_address(args.host, args.port)
        check_stop_grace(args.stop_grace)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    serve(args.host, args.port, args.cache, args.stop_grace)


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_STOP_GRACE",
    "Stopped",
    "bind_warning",
    "build_app",
    "check_address",
    "check_stop_grace",
    "configure_environment",
    "main",
    "serve",
]

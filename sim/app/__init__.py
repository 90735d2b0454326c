"""The proposal explorer: a Solara web app to test a policy proposal against a baseline.

Start it with ``python -m sim app`` (or ``python -m sim app --port 8800``); it serves on
127.0.0.1 by default. Its parts:

- :mod:`sim.app.proposal`: the proposal, its validation, links, reproduce commands, runs and
  analysis (no UI);
- :mod:`sim.app.jobs`: background runs on a bounded process pool, with progress;
- :mod:`sim.app.cache`: the app's own cache folder, the only place it writes;
- :mod:`sim.app.live`: the live Mesa model and views of its communities and services;
- :mod:`sim.app.charts`: the charts;
- :mod:`sim.app.app`: the Solara page (the Mesa ``app.py`` pattern).

Importing this package does not import Solara, so :func:`serve` can point Solara's own files
into the cache folder before Solara reads its settings.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

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


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, cache: str | Path | None = None) -> None:
    """Serve the explorer until interrupted (Ctrl+C).

    Args:
        host: address to listen on; 127.0.0.1 (this machine only) by default. Use 0.0.0.0 to let
            colleagues on your network open it.
        port: port to listen on.
        cache: the app's cache folder (default ``$SIM_APP_CACHE`` or ``~/.cache/sim-app``).

    """
    check_address(host, port)
    folder = configure_environment(cache)
    os.environ["SOLARA_APP"] = "sim.app.app"
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)

    import uvicorn
    from solara.server import settings

    settings.main.mode = "production"
    from sim.app import jobs

    manager = jobs.manager()
    manager.warm_up()
    config = uvicorn.Config(
        "solara.server.starlette:app",
        host=host,
        port=port,
        log_level="warning",
        limit_concurrency=200,
        timeout_keep_alive=5,
    )
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    print(f"Proposal explorer: open http://{shown}:{port}/ in a browser (Ctrl+C stops it)", flush=True)
    print(f"cache folder: {folder}", flush=True)
    try:
        server.run()
    finally:
        manager.shutdown()


def main(argv: list[str] | None = None) -> None:
    """``python -m sim app [--host HOST] [--port PORT] [--cache FOLDER]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m sim app",
        description="Serve the proposal explorer: test a policy proposal against a baseline in the browser.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", default=DEFAULT_PORT, type=int, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--cache", default=None, help="the app's cache folder (default ~/.cache/sim-app)")
    args = parser.parse_args(argv)
    try:
        check_address(args.host, args.port)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    serve(args.host, args.port, args.cache)


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "check_address", "configure_environment", "main", "serve"]

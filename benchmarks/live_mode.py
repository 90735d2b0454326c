"""How fast the explorer's live mode plays, as a user sees it: months a second in a real browser.

Starts ``python -m sim app`` on a free loopback port (its own cache folder), opens the page in
Chromium (Debian's, or ``SIM_CHROMIUM``) through Playwright, goes to the Live model tab with the
standard settings (2,000 citizens, 20 communities), chooses a playing speed, presses Play and
reads the month shown on the page until the run ends or ``--seconds`` pass; Reset between
repetitions. The figure is the months the page showed per second of wall time, from the first
month shown to the last, so it counts the model's steps, the page's updates and the browser's
drawing together. Each speed is measured: the page's default (12 months a second, which a user
meets first: does the page keep the pace asked for?) and its fastest (24: how fast it can go).
The repetitions alternate between the speeds, so that a change in the machine's load touches both.

    .venv/bin/python benchmarks/live_mode.py            # 3 repetitions at 12 and at 24 months a second
    .venv/bin/python benchmarks/live_mode.py --speed 12 --reps 5

It writes ``benchmarks/live_results.json``; ``benchmarks/run.py --render benchmarks/results.json``
puts it into ``docs/performance.md``. On a shared machine, quote the load average it records.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "benchmarks" / "live_results.json"
MONTH = re.compile(r"Month (\d+) of (\d+)")


def free_port() -> int:
    """A free loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def exit_on_sigterm() -> None:
    """Turn SIGTERM (``kill``, a job scheduler's stop) into SystemExit, so that ``finally`` stops the app server.

    Python's default for SIGTERM ends the process at once, which left the server's process group
    running after a benchmark was stopped.
    """
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The app as a user starts it, with its own cache folder; (process, its address)."""
    port = free_port()
    env = {**os.environ, "SIM_APP_CACHE": str(folder / "cache"), "HOME": str(folder)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "app", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url + "/", timeout=5) as r:
                    if r.status == 200:
                        return proc, url
            time.sleep(0.5)
        raise SystemExit("the app did not start within 120 s")
    except BaseException:  # not started, or stopped while waiting: take the server down with us
        stop_server(proc)
        raise


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop the app server's whole process group (it runs its jobs in child processes)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def month_shown(page: Any) -> int:
    """The month the page shows now."""
    match = MONTH.search(page.locator(".live-month").first.inner_text())
    return int(match.group(1)) if match else -1


def play_once(page: Any, seconds: float) -> dict[str, float]:
    """Press Play and time the months shown; Pause at the end."""
    page.get_by_role("button", name="Play", exact=True).click()
    first = month_shown(page)
    while month_shown(page) == first:  # the first update after pressing Play starts the clock
        time.sleep(0.01)
    start, m0 = time.perf_counter(), month_shown(page)
    t, m = start, m0
    horizon = int(MONTH.search(page.locator(".live-month").first.inner_text()).group(2))
    while time.perf_counter() - start < seconds:
        now = month_shown(page)
        if now != m:
            t, m = time.perf_counter(), now
        if m >= horizon:
            break
        time.sleep(0.02)
    with contextlib.suppress(Exception):
        page.get_by_role("button", name="Pause", exact=True).click(timeout=2000)
    return {"months": m - m0, "seconds": t - start, "months_per_second": (m - m0) / max(t - start, 1e-9)}


DEFAULT_SPEED = 12  # the page's own setting (sim/app/app.py)


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    """Median, min and max months a second of ``runs``."""
    rates = [r["months_per_second"] for r in runs]
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--speed",
        type=int,
        action="append",
        choices=[2, 6, 12, 24],
        help=f"playing speed chosen on the page; repeat for several (default: {DEFAULT_SPEED} and 24)",
    )
    ap.add_argument("--reps", type=int, default=3, help="repetitions at each speed (Reset between them)")
    ap.add_argument("--seconds", type=float, default=12.0, help="longest time to play each repetition")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"results file (default {DEFAULT_JSON})")
    args = ap.parse_args(argv)
    speeds = args.speed or [DEFAULT_SPEED, 24]
    exit_on_sigterm()

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    load_start = list(os.getloadavg())
    runs: dict[int, list[dict[str, float]]] = {speed: [] for speed in speeds}
    with tempfile.TemporaryDirectory(prefix="live-bench-") as tmp:
        proc, url = start_server(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                page.set_default_timeout(120_000)
                page.goto(url + "/")
                page.get_by_role("tab", name="Live model").click()
                page.wait_for_selector("text=Run the model")
                label = page.locator(".live-tab .area-n_citizens .sim-label").inner_text()
                citizens = label.split(": ")[-1] + " citizens"  # "Population (citizens): 2,000"
                first = True
                for _ in range(args.reps):
                    for speed in speeds:
                        if not first:
                            page.get_by_role("button", name="Reset", exact=True).click()
                            page.wait_for_function(
                                "() => /Month 0 of/.test(document.querySelector('.live-month').innerText)"
                            )
                        first = False
                        speed_group = page.locator(".live-tab .v-btn-toggle").filter(
                            has=page.get_by_role("button", name="24", exact=True)
                        )  # the speed buttons (another group has a "12" too)
                        speed_group.get_by_role("button", name=str(speed), exact=True).click()
                        run = {"speed_chosen": speed, "load": os.getloadavg()[0], **play_once(page, args.seconds)}
                        runs[speed].append(run)
                        print(json.dumps(run), flush=True)
                browser.close()
        finally:
            stop_server(proc)
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "population": citizens,
        "speeds": [
            {"speed_chosen": speed, "runs": runs[speed], "months_per_second": summary(runs[speed])} for speed in speeds
        ],
        "cores": os.cpu_count(),
        "load_average_start": load_start,
        "load_average_end": list(os.getloadavg()),
    }
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for entry in result["speeds"]:
        print(entry["speed_chosen"], json.dumps(entry["months_per_second"]))


if __name__ == "__main__":
    main()

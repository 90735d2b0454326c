"""How close the explorer's time estimate comes to the real time, as a user sees both.

Starts ``python -m sim app`` on a free loopback port (its own cache folder) and drives it in
Chromium through Playwright, as ``benchmarks/live_mode.py`` does. For each proposal size (small
to large) it opens the size's shared link (which runs it once: not measured), then repeats:
change the chance events (a new seed, so nothing comes from the cache), and on every other
repetition the proposal's support for participation too (a new config to compose, as when a
user changes a lever); read the estimate the page shows next to the Run button; press Run; and
time until the answer is on screen (the headline for the new settings). Both arms use the page's
standard regimes.

    .venv/bin/python benchmarks/app_estimate.py            # 6 sizes x 3 repetitions
    .venv/bin/python benchmarks/app_estimate.py --reps 2 --sizes 3

It writes ``benchmarks/app_estimate.json`` (every repetition, the load average) and prints the
ratio real / shown estimate: its median and worst, and how many fell inside the shown range.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from live_mode import ROOT, exit_on_sigterm, start_server, stop_server

DEFAULT_JSON = ROOT / "benchmarks" / "app_estimate.json"
# (citizens, communities, months, runs of each policy): small to large, the standard one third.
SIZES: tuple[tuple[int, int, int, int], ...] = (
    (100, 5, 12, 2),
    (500, 10, 36, 3),
    (2000, 20, 120, 5),
    (5000, 50, 120, 5),
    (10_000, 100, 120, 3),
    (20_000, 100, 120, 2),
)
STALE = "You changed the settings since these results"
AMOUNT = r"(\d+(?:\.\d+)?)(?: (seconds|second|minutes|minute))?"
ESTIMATE = re.compile(rf"about {AMOUNT}(?: \({AMOUNT} to {AMOUNT}\))?")
TIMEOUT_MS = 600_000


def seconds_of(value: str, unit: str | None, default: str) -> float:
    """A number of seconds from the page's words ('1.5', 'minutes')."""
    return float(value) * (60 if (unit or default).startswith("minute") else 1)


def shown_estimate(text: str) -> tuple[float, float, float]:
    """(low, estimate, high) seconds from 'about 5 seconds (4 to 7)' or 'about 50 seconds (40 seconds to 1 minute)'."""
    match = ESTIMATE.search(text)
    if match is None:
        raise SystemExit(f"no estimate in {text!r}")
    mid_value, mid_unit, lo_value, lo_unit, hi_value, hi_unit = match.groups()
    mid = seconds_of(mid_value, mid_unit, "seconds")
    if lo_value is None:
        return mid, mid, mid
    high = seconds_of(hi_value, hi_unit, mid_unit)
    low = seconds_of(lo_value, lo_unit, hi_unit or mid_unit)
    return low, mid, high


def headline_is_current(page: Any) -> bool:
    """Whether the page shows an answer for its settings as they are now."""
    box = page.locator(".impact-headline")
    return box.count() > 0 and page.locator(".headline-difference").count() > 0 and STALE not in box.inner_text()


def wait_until(check: Any, what: str, timeout: float = TIMEOUT_MS / 1000) -> None:
    """Wait until ``check()`` holds (``what`` names it in the error)."""
    print(f"waiting for {what}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def measure(page: Any, seed: int, new_config: bool) -> dict[str, Any]:
    """Change the settings, read the estimate, press Run and time the answer."""
    if new_config:
        page.locator(".proposal-tab .arm-proposal .lever-participation_support [role=slider]").first.press("ArrowRight")
    field = page.locator(".proposal-tab").get_by_label("Chance events (number)")
    for _ in range(5):  # a redraw of the page (its scroll to the answer) can swallow the typing: type again
        field.fill(str(seed))
        field.press("Enter")
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: f"seed={seed}" in page.url and not headline_is_current(page), "the new settings", 15)
            break
    else:
        raise SystemExit(f"the page did not take seed {seed}: {page.url}")
    page.wait_for_timeout(500)  # let the estimate line follow the settings
    text = page.locator(".time-estimate").inner_text()
    parts = page.locator(".time-estimate").get_attribute("title")  # the estimate's parts, in seconds
    low, mid, high = shown_estimate(text)
    start = time.perf_counter()
    page.get_by_role("button", name="Run the comparison").click()
    wait_until(lambda: headline_is_current(page), "the answer")
    real = time.perf_counter() - start
    ran = re.search(r"run in (\d+) s", page.locator(".impact-headline").inner_text())
    return {
        "seed": seed,
        "new_config": new_config,
        "shown": text,
        "parts": parts,
        "estimate": mid,
        "low": low,
        "high": high,
        "real": real,
        "job_seconds_shown": int(ran.group(1)) if ran else None,  # the server's part, as the headline says
        "ratio": real / mid,
        "in_range": low <= real <= high,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="repetitions of each size")
    ap.add_argument("--sizes", type=int, default=len(SIZES), help=f"how many of the {len(SIZES)} sizes, smallest first")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"results file (default {DEFAULT_JSON})")
    args = ap.parse_args(argv)
    exit_on_sigterm()

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    load_start = list(os.getloadavg())
    rows: list[dict[str, Any]] = []
    seed = 1000
    with tempfile.TemporaryDirectory(prefix="estimate-bench-") as tmp:
        proc, url = start_server(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(url + "/")
                # The server measures its speed at start-up; the page redraws its estimate when it has.
                estimate = page.locator(".time-estimate")
                wait_until(lambda: "measuring" not in estimate.inner_text(), "the calibration", 300)
                for citizens, communities, months, runs in SIZES[: args.sizes]:
                    seed += 1
                    query = {"citizens": citizens, "communities": communities, "months": months, "runs": runs}
                    page.goto(f"{url}/?{urlencode({**query, 'seed': seed})}")  # runs it once: not measured
                    wait_until(lambda: headline_is_current(page), "the shared link's answer")
                    for rep in range(args.reps):
                        seed += 1
                        row = {**query, "rep": rep, "load": os.getloadavg()[0], **measure(page, seed, rep % 2 == 1)}
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                        write_results(rows, args.json, load_start, complete=False)
                browser.close()
        finally:
            stop_server(proc)
    print(json.dumps(write_results(rows, args.json, load_start, complete=True)["summary"]))


def write_results(rows: list[dict[str, Any]], path: Path, load_start: list[float], complete: bool) -> dict[str, Any]:
    """Write the repetitions so far with their summary (after each one, so that a stopped run keeps them)."""
    ratios = [r["ratio"] for r in rows]
    summary = {
        "median_ratio": statistics.median(ratios),
        "worst_ratio": max(ratios, key=lambda r: abs(math.log(r))),
        "within_1_5": sum(1 / 1.5 <= r <= 1.5 for r in ratios),
        "in_shown_range": sum(r["in_range"] for r in rows),
        "n": len(rows),
    }
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "complete": complete,
        "cores": os.cpu_count(),
        "load_average_start": load_start,
        "load_average_end": list(os.getloadavg()),
        "summary": summary,
        "runs": rows,
    }
    path.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()

"""How long ``python -m sim --help`` takes (not a test: run it by hand).

Starts ``python -m sim --help`` N times in fresh processes and prints the median and the range of
the wall times as JSON, with ``python -c pass`` (the interpreter's own start-up) for comparison.
The help is answered before any heavy module (Hydra, pandas, numpy, Mesa) is imported;
``tests/test_ergonomics.py`` checks that, since a timed test would fail on a loaded machine.

Usage::

    .venv/bin/python benchmarks/cli_help.py [--repeat 11]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall_times(args: list[str], repeat: int) -> list[float]:
    """Wall seconds of ``python ARGS`` in fresh processes, run from the repository's root."""
    root = Path(__file__).resolve().parents[1]
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=root, check=True, capture_output=True)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    """Measure and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    n = parser.parse_args().repeat
    helps = wall_times(["-m", "sim", "--help"], n)
    bare = wall_times(["-c", "pass"], n)
    print(
        json.dumps(
            {
                "help_median_s": round(statistics.median(helps), 3),
                "help_min_s": round(min(helps), 3),
                "help_max_s": round(max(helps), 3),
                "python_startup_median_s": round(statistics.median(bare), 3),
                "repeat": n,
            }
        )
    )


if __name__ == "__main__":
    main()

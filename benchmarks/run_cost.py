"""Per-run cost and storage of a sweep, for sizing 10^4-10^6-run studies (not a test; docs/sweeps.md quotes it).

Runs the main experiment's runs (default: its four arms x 3 replications, the default population
and horizon) twice: once as a dask or pool worker runs them (``run_task``, in this process, timed
one by one) and once as a real sweep (``serial`` backend, end to end) to measure what the sweep
folder holds per run. Prints one JSON object with the machine's load average before and after.

Usage::

    .venv/bin/python benchmarks/run_cost.py                      # about a minute on 2 cores
    .venv/bin/python benchmarks/run_cost.py --replications 5 population.n_citizens=10000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from sim.config import compose
from sim.runner import run_experiment
from sim.sweep.plan import build_plan
from sim.sweep.worker import run_task, warm_up


def folder_bytes(folder: Path, *parts: str) -> int:
    """Bytes of every file under ``folder/part`` for each part."""
    return sum(f.stat().st_size for part in parts for f in (folder / part).rglob("*") if f.is_file())


def main() -> None:
    """Measure and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replications", type=int, default=3)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides of the main experiment")
    args = ap.parse_args()
    ov = ["experiment.progress=false", f"experiment.replications={args.replications}", *args.overrides]
    load_before = os.getloadavg()
    cfg = compose(ov)
    plan = build_plan(cfg, ov)
    warm_up()
    seconds, cpu = [], []
    for row in plan.execution_order():
        task = plan.task(row, None, chunk_steps=240)
        start, start_cpu = time.perf_counter(), time.process_time()
        outcome = run_task(task)
        seconds.append(time.perf_counter() - start)
        # CPU time: what the run costs on a core of its own (wall time grows with the machine's load).
        cpu.append(time.process_time() - start_cpu)
        assert outcome.ok, outcome.error
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sweep"
        start = time.perf_counter()
        run_experiment(compose([*ov, "experiment.backend=serial"]), [*ov, "experiment.backend=serial"], folder)
        sweep_seconds = time.perf_counter() - start
        n = len(seconds)
        per_run = folder_bytes(folder, "runs", "details", "checksums") / n
        combined = (folder / "timeseries.parquet").stat().st_size / n
        total = folder_bytes(folder, ".")
    print(
        json.dumps(
            {
                "runs": n,
                "n_citizens": cfg.population.n_citizens,
                "months": cfg.steps,
                "burn_in": cfg.burn_in,
                "run_seconds_median": round(statistics.median(seconds), 4),
                "run_seconds_min": round(min(seconds), 4),
                "run_seconds_max": round(max(seconds), 4),
                "run_cpu_seconds_median": round(statistics.median(cpu), 4),
                "sweep_wall_seconds_serial_with_analysis": round(sweep_seconds, 2),
                "bytes_per_run_files": round(per_run),
                "bytes_per_run_combined_table": round(combined),
                "bytes_whole_folder": total,
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                "cpus": os.cpu_count(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()

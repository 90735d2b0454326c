"""Sweep overhead and throughput (not a test: run it by hand, on a quiet machine).

0. Planning: expanding a 10,240-run Sobol' design (one Hydra composition, then cheap merges),
   against what a Hydra composition per run would cost.
1. Overhead: a 200-run sweep of short runs on the ``processes`` backend with 2 workers. Its
   wall time is compared with (sum of the run times) / 2, where the run times are measured
   (a) inside the workers during the sweep and (b) by running the same 200 runs one after
   another in one process (the serial backend), which no contention inflates.
2. Throughput: a 1,000-run sweep of 2,000 citizens over 120 months (plus the 24-month burn-in)
   on 2 workers, timed end to end (planning, runs, combined table, analysis, figures).

Usage::

    .venv/bin/python benchmarks/sweep_overhead.py            # both (about 8 minutes on 2 cores)
    .venv/bin/python benchmarks/sweep_overhead.py --only overhead
    .venv/bin/python benchmarks/sweep_overhead.py --only throughput --runs 1000

Prints one JSON object per measurement; docs/sweeps.md quotes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from sim.config import compose
from sim.runner import run_experiment
from sim.sweep.engine import run_sweep
from sim.sweep.plan import build_plan, experiment_of


def _overrides(*extra: str) -> list[str]:
    return ["experiment.progress=false", *extra]


def overhead(n_runs: int, citizens: int, steps: int, workers: int) -> dict[str, object]:
    """Wall time of a sweep of short runs against the ideal (sum of run times) / workers."""
    reps = n_runs // 4
    ov = _overrides(f"population.n_citizens={citizens}", f"steps={steps}", f"experiment.replications={reps}")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = compose([*ov, "experiment.backend=serial"])
        plan = build_plan(cfg, ov)
        serial = run_sweep(plan, Path(tmp) / "serial", experiment_of(cfg), ov)
        cfg = compose([*ov, "experiment.backend=processes", f"experiment.workers={workers}"])
        start = time.perf_counter()
        plan = build_plan(cfg, ov)  # planning is part of the sweep: compose each arm once, merge points, keys
        par = run_sweep(plan, Path(tmp) / "processes", experiment_of(cfg), ov)
        wall = time.perf_counter() - start
    ideal_in_worker = par.run_seconds / workers
    ideal_serial = serial.run_seconds / workers
    return {
        "measurement": "overhead",
        "runs": par.ran,
        "workers": workers,
        "citizens": citizens,
        "steps": steps,
        "mean_run_seconds_serial": round(serial.run_seconds / serial.ran, 4),
        "mean_run_seconds_in_workers": round(par.run_seconds / par.ran, 4),
        "sweep_wall_seconds": round(wall, 2),
        "ideal_seconds_from_worker_times": round(ideal_in_worker, 2),
        "ideal_seconds_from_serial_times": round(ideal_serial, 2),
        "overhead_vs_worker_times_pct": round(100 * (wall / ideal_in_worker - 1), 1),
        "overhead_vs_serial_times_pct": round(100 * (wall / ideal_serial - 1), 1),
    }


def throughput(n_runs: int, citizens: int, steps: int, workers: int) -> dict[str, object]:
    """A whole experiment, end to end: the main job's four arms with n_runs / 4 replications."""
    reps = n_runs // 4
    ov = _overrides(
        f"population.n_citizens={citizens}",
        f"steps={steps}",
        f"experiment.replications={reps}",
        "experiment.backend=processes",
        f"experiment.workers={workers}",
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_experiment(compose(ov), ov, Path(tmp) / "sweep")
        wall = time.perf_counter() - start
        stats = result.stats
    return {
        "measurement": "throughput",
        "runs": stats.ran,
        "failed": stats.failed,
        "workers": workers,
        "citizens": citizens,
        "steps": steps,
        "wall_seconds_end_to_end": round(wall, 1),
        "sweep_seconds": round(stats.seconds, 1),
        "mean_run_seconds_in_workers": round(stats.run_seconds / max(stats.ran, 1), 3),
        "under_5_minutes": wall < 300,
    }


def planning(n_base: int) -> dict[str, object]:
    """Expanding a 10,000-run Sobol' design: one Hydra composition per arm plus cheap merges."""
    sweep = (
        f"++experiment.sweep={{design:sobol,samples:{n_base},parameters:{{citizens.cc_slope:[0.5,1.0],"
        "citizens.motivation_loss:[0.01,0.06],citizens.trust_loss:[0.04,0.16],population.trust_mean:[0.3,0.8],"
        "services.ethos_mean:[0.2,0.8],services.ces_rho:[-3.0,-0.2],services.manipulation_cost:[0.1,0.5],"
        "regime.audit_rate:[0,0.3]}}"
    )
    ov = _overrides("~experiment.arms.negotiated", "~experiment.arms.functioning", "~experiment.arms.none", sweep)
    ov += ["experiment.replications=1", "experiment.analysis.compare=[]"]
    cfg = compose(ov)
    start = time.perf_counter()
    plan = build_plan(cfg, ov)
    seconds = time.perf_counter() - start
    t0 = time.perf_counter()
    for _ in range(10):
        compose(["regime=targets", "seed=1"])
    per_compose = (time.perf_counter() - t0) / 10
    return {
        "measurement": "planning",
        "runs": len(plan.manifest),
        "plan_seconds": round(seconds, 2),
        "plan_ms_per_run": round(1000 * seconds / len(plan.manifest), 3),
        "hydra_compose_ms": round(1000 * per_compose, 1),
        "hydra_compose_every_run_seconds": round(per_compose * len(plan.manifest), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("planning", "overhead", "throughput"))
    parser.add_argument("--runs", type=int, default=0, help="runs (default 200 for overhead, 1000 for throughput)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps({"machine": platform.platform(), "cores": os.cpu_count(), "python": platform.python_version()}))
    if args.only in (None, "planning"):
        print(json.dumps(planning(1024)), flush=True)
    if args.only in (None, "overhead"):
        print(json.dumps(overhead(args.runs or 200, 1000, 60, args.workers)), flush=True)
    if args.only in (None, "throughput"):
        print(json.dumps(throughput(args.runs or 1000, 2000, 120, args.workers)), flush=True)


if __name__ == "__main__":
    main()

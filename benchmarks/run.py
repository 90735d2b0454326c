"""Performance benchmark of the model: one command, a JSON file of results and a Markdown report.

Run from the repository root::

    .venv/bin/python benchmarks/run.py            # the full benchmark (about 10 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick    # a check that every section runs (about 3 min)
    make bench                                    # the same as the first line

It writes ``benchmarks/results.json`` and rewrites ``docs/performance.md`` (``--json`` and
``--markdown`` choose other paths). Every figure is the median of ``--reps`` repetitions, with
their min and max, because shared machines are noisy. What is measured, all on the default
model (``configs/``) with model-level data collection on (months are recorded from month 0):

* ``step``: citizen-steps per second of the full model step (``model.step()``) at each N, each
  repetition in a fresh process (so sizes do not contaminate each other), which also gives the
  model's construction time and the process's peak resident memory (``ru_maxrss``);
* ``agent``: the same model, rules and seed with the per-agent Mesa driver (``driver=agent``)
  at small N, and the ratio of the vectorised to the per-agent rate at each such N, plus
  Mesa's own cost of an empty per-agent step (``AgentSet.do``) for reference;
* ``scaling``: the exponents of a least-squares fit of log time on log N (from the step
  medians at N >= 10^4) and of log time on log steps (runs of growing length at one N);
* ``sweep``: runs per minute of an experiment's tasks with ``sim.runner.execute`` on the
  ``processes`` backend on all cores against ``serial``;
* ``main_job``: the wall time of the main job, ``python -m sim`` in a subprocess, start-up
  included;
* ``profile``: where one month's time goes, phase by phase and by function, at one N.

Speed is never asserted here or in the tests: the report says which targets were met.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import inspect
import io
import json
import math
import os
import platform
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: import the repository's package
    sys.path.insert(0, str(ROOT))
from sim.provenance import cpu_model  # noqa: E402  (one CPU-name reader for run folders and benchmarks)

DEFAULT_JSON = ROOT / "benchmarks" / "results.json"
DEFAULT_MARKDOWN = ROOT / "docs" / "performance.md"

# The issue's targets (one process on the 2-core machine unless stated).
TARGET_RATE_1E5 = 5e6  # citizen-steps per second at N = 10^5
STRETCH_RATE_1E5 = 10e6
TARGET_AGENT_RATIO = 50.0  # vectorised / per-agent at N = 10^4
TARGET_CONSTRUCT_1E6 = 2.0  # seconds
TARGET_MEMORY_1E6 = 1024.0  # MiB
TARGET_100_STEPS_1E6 = 30.0  # seconds
TARGET_EXPONENT = 1.1
TARGET_SWEEP_SPEEDUP = 1.7
TARGET_MAIN_JOB = 60.0  # seconds
# The fused driver's targets (issue 15).
FUSED_RATE_1E5 = 20e6
FUSED_RATE_2000 = 5e6
FUSED_RUN_CPU_2000 = 0.06  # seconds of CPU for a 2,000 x 120-month run, burn-in included
FUSED_OVER_VECTORISED_2000 = 10.0
FUSED_OVER_AGENT_1E4 = 500.0
FUSED_100_STEPS_1E6 = 8.0  # seconds
FUSED_MEMORY_1E6 = 600.0  # MiB
FUSED_SWEEP_10000 = 600.0  # seconds for 10,000 runs of 2,000 x 120 months on 2 cores
FUSED_MAIN_JOB = 10.0  # seconds
FUSED_EXPONENT = (0.9, 1.1)

FULL = {
    "sizes": [1_000, 10_000, 100_000, 1_000_000],
    "agent_sizes": [1_000, 10_000],
    "agent_steps": {1_000: 5, 10_000: 2},
    "scaling_steps": [25, 50, 100, 200],
    "scaling_n": 10_000,
    "sweep": {"arms": 4, "replications": 24, "citizens": 2_000, "steps": 60},
    "main_job_overrides": [],
    "profile_n": 100_000,
    "details_n": 100_000,
    "details_steps": 120,
    "reps": 5,
    "main_job_reps": 3,
    "fused": {
        "sizes": [1_000, 2_000, 10_000, 100_000],
        "agent_n": 10_000,
        "agent_steps": 2,
        "run_n": 2_000,
        "run_months": 120,
        "big_n": 1_000_000,
        "big_steps": 10,
        "thread_sizes": [100_000, 1_000_000],
        "profile_steps": 60,
        # A real sweep: the four main arms x 250 replications of 2,000 citizens x 120 months.
        "sweep": {"arms": 4, "replications": 250, "citizens": 2_000, "steps": 120},
    },
}
# A check that every section runs and is written, not a measurement: one repetition, the fewest
# fresh processes (each costs seconds of start-up) and short runs; the sizes are among the step
# sizes so that no section measures the numpy path again.
QUICK = {
    "sizes": [100, 1_000],
    "agent_sizes": [100],
    "agent_steps": {100: 2},
    "scaling_steps": [5, 10],
    "scaling_n": 1_000,
    "sweep": {"arms": 2, "replications": 1, "citizens": 200, "steps": 6},
    "main_job_overrides": ["experiment.replications=1", "steps=6", "burn_in=2", "population.n_citizens=300"],
    "profile_n": 1_000,
    "details_n": 1_000,
    "details_steps": 12,
    "reps": 1,
    "main_job_reps": 1,
    "fused": {
        "sizes": [300],
        "agent_n": 300,
        "agent_steps": 2,
        "run_n": 300,
        "run_months": 12,
        "profile_steps": 10,
        "sweep": {"arms": 4, "replications": 2, "citizens": 300, "steps": 12},
    },
}


# ---------------------------------------------------------------------- statistics
def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median, min and max of repeated measurements (and the values themselves)."""
    vals = [float(v) for v in values]
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals), "values": vals}


def fit_exponent(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Slope of the least-squares line of log(y) on log(x): y grows like x ** slope."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx if sxx > 0 else float("nan")


def fixed_and_growing(ns: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float] | None:
    """The curve ``y = a + b * n ** k`` through three points whose ``n`` grow by one factor (10^4, 10^5, 10^6).

    ``a`` is the part of a step that does not grow with N and ``k`` the exponent of the rest: the
    exponent "once the fixed overhead is gone". Three points fix three numbers exactly (no residual,
    so no uncertainty of its own beyond the rows' run-to-run spread). None where the points do not
    have that shape: not three, not a common factor, not rising and convex, or ``a`` outside
    ``[0, y1)`` (a step whose cost per citizen falls with N has no fixed part to speak of).

    Returns:
        ``(a, b, k)``.
    """
    if len(ns) != 3 or len(ys) != 3:
        return None
    (n1, n2, n3), (y1, y2, y3) = ns, ys
    factor = n2 / n1
    if factor <= 1.0 or not math.isclose(n3 / n2, factor, rel_tol=1e-9):
        return None
    # With r = factor ** k: y3 - y2 = r * (y2 - y1), so (y2 - a) ** 2 = (y1 - a) * (y3 - a).
    curvature = (y3 - y2) - (y2 - y1)
    if not (y2 > y1 and curvature > 0.0):
        return None
    a = (y1 * y3 - y2 * y2) / curvature
    if not 0.0 <= a < y1:
        return None
    k = math.log((y3 - a) / (y2 - a)) / math.log(factor)
    return a, (y1 - a) / n1**k, k


def steps_for(n: int) -> int:
    """Timed steps per repetition at N citizens: about a second of work, at least 3 steps."""
    return max(3, min(200, int(4e6 // max(n, 1))))


# ---------------------------------------------------------------------- machine facts
def git_revision() -> str:
    """The repository's commit, with '+dirty' when the work tree has changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True)
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_generation() -> str:
    """The CPU's family, model and stepping (Linux ``/proc/cpuinfo``): a virtual machine's model name
    ("AMD EPYC") hides its generation, and two generations differ by 2x in these figures."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("cpu family", "model", "stepping") and key not in fields:
                fields[key] = value.strip()
            if not line.strip() and fields:
                break
    except OSError:
        return ""
    return ", ".join(f"{k} {fields[k]}" for k in ("cpu family", "model", "stepping") if k in fields)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import mesa
    import numpy as np

    return {
        "cpu": cpu_model(),
        "cpu_generation": cpu_generation(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git_revision": git_revision(),
        "load_average_start": list(os.getloadavg()),
    }


# ---------------------------------------------------------------------- measurements in a fresh process
def _config(n: int, driver: str = "vectorised", steps: int | None = None, threads: int = 1) -> Any:
    import sim

    overrides = [f"population.n_citizens={n}", "burn_in=0", "output.save=false", f"driver={driver}"]
    if steps is not None:
        overrides.append(f"steps={steps}")
    if threads != 1:
        overrides.append(f"kernel_threads={threads}")
    return sim.load_config(overrides)


def worker_step(n: int, steps: int, driver: str, warmup: int, threads: int = 1) -> dict[str, Any]:
    """Construct the default model at N, warm up, then time ``steps`` calls of ``model.step()``.

    The config's horizon is the months stepped (``warmup + steps``), so every timed month is one
    a run of that length makes, its end-of-run window of detail tables (the last 12 months) included
    once. Until 2026-11-30 the horizon stayed the default 120 months whatever the steps: at N up to
    20,000, 200 timed months of a 120-month config, 94 of them in or past the window.
    """
    from sim.model import SocialProductivityModel

    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cfg = _config(n, driver, steps=warmup + steps, threads=threads)
    t0 = time.perf_counter()
    model = SocialProductivityModel(cfg)
    construct = time.perf_counter() - t0
    for _ in range(warmup):  # the per-agent driver creates its Mesa agents on the first step
        model.step()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.step()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    assert len(model.recorder) == warmup + steps, "model-level data collection must be on"
    return {
        "n": n,
        "driver": driver,
        "threads": model.kernel_threads,
        "ranges": 0 if model.citizen_ranges is None else len(model.citizen_ranges) - 1,
        "steps": steps,
        "construct_s": construct,
        "step_s": wall / steps,
        "step_cpu_s": cpu / steps,
        "rate": n * steps / wall,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_model_mib": rss_start / 1024,
    }


def worker_run_cost(n: int, months: int, driver: str, regime: str = "") -> dict[str, Any]:
    """CPU and wall time of one whole run: construction with its burn-in, then ``months`` recorded months.

    The fused driver's kernels are loaded first (from the on-disk cache, as a sweep's worker does
    once), so the figure is a run's own cost, not the process's start-up. ``regime`` names a
    preset (``configs/regime``); empty for the default config's.
    """
    import sim
    from sim.model import SocialProductivityModel, warm_fused_kernels

    if driver == "fused":
        warm_fused_kernels()
    overrides = [f"population.n_citizens={n}", f"steps={months}", "output.save=false", f"driver={driver}"]
    cfg = sim.load_config(overrides + ([f"regime={regime}"] if regime else []))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    model = SocialProductivityModel(cfg)
    model.run()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    assert len(model.recorder) == months
    return {
        "n": n,
        "months": months,
        "burn_in": cfg.burn_in,
        "driver": driver,
        "regime": regime,
        "cpu_s": cpu,
        "wall_s": wall,
    }


def worker_compile() -> dict[str, Any]:
    """Seconds to make the fused kernels ready in a fresh process: compile, or load from ``NUMBA_CACHE_DIR``."""
    import sim.model

    t0 = time.perf_counter()
    from sim import kernels

    imported = time.perf_counter()
    sim.model.warm_fused_kernels()
    done = time.perf_counter()
    stats = [kernel.stats for kernel in kernels.ENTRY_POINTS]
    return {
        "import_numba_s": imported - t0,
        "ready_s": done - imported,
        "cache_hits": sum(sum(x.cache_hits.values()) for x in stats),
        "cache_misses": sum(sum(x.cache_misses.values()) for x in stats),
    }


def worker_run_length(n: int, steps: int) -> dict[str, Any]:
    """Time a whole run of ``steps`` months (construction excluded) at N."""
    from sim.model import SocialProductivityModel

    model = SocialProductivityModel(_config(n, steps=steps))
    t0 = time.perf_counter()
    model.run()
    return {"n": n, "steps": steps, "seconds": time.perf_counter() - t0}


def worker_empty_do(n: int, reps: int) -> dict[str, Any]:
    """Mesa's own floor: ``AgentSet.do`` of a method that does nothing, per agent."""
    import mesa

    class Empty(mesa.Agent):
        def step(self) -> None:
            pass

    model = mesa.Model(rng=0)
    agents = mesa.agent.AgentSet([Empty(model) for _ in range(n)], random=model.random)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        agents.shuffle_do("step")
        times.append((time.perf_counter() - t0) / n)
    return {"n": n, "seconds_per_agent": statistics.median(times)}


def worker_profile(n: int, steps: int, driver: str = "vectorised") -> dict[str, Any]:
    """Per-phase times of ``steps`` months at N with a driver, and the functions that take the most time."""
    from sim.model import SocialProductivityModel, warm_fused_kernels

    if driver == "fused":
        warm_fused_kernels()
    model = SocialProductivityModel(_config(n, driver))
    for _ in range(2):
        model.step()
    phases = re.findall(r"self\.(\w+)\(\)", inspect.getsource(type(model).step))
    times: dict[str, list[float]] = {p: [] for p in phases}
    for p in phases:
        method = getattr(model, p)

        def timed(method: Callable[[], None] = method, p: str = p) -> None:
            t0 = time.perf_counter()
            method()
            times[p].append(time.perf_counter() - t0)

        setattr(model, p, timed)
    steps_wall = []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.step()
        steps_wall.append(time.perf_counter() - t0)
    for p in phases:
        delattr(model, p)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        model.step()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]  # type: ignore[attr-defined]
    functions = [
        {
            "function": f"{Path(file).name}:{line}({name})" if file != "~" else name,
            "ms_per_step": 1e3 * tt / steps,
            "share": tt / total if total > 0 else float("nan"),
        }
        for (file, line, name), (_cc, _nc, tt, _ct, _callers) in top
    ]
    step_med = statistics.median(steps_wall)
    return {
        "n": n,
        "driver": driver,
        "steps": steps,
        "step_ms": 1e3 * step_med,
        "phases": [
            {"phase": p, "ms": 1e3 * statistics.median(times[p]), "share": statistics.median(times[p]) / step_med}
            for p in phases
        ],
        "top_functions_by_own_time": functions,
    }


def worker_details(n: int, steps: int, reps: int) -> dict[str, Any]:
    """Whole runs with and without the detail tables (``sim.details``), alternating in one process."""
    import sim.details as details
    from sim.model import SocialProductivityModel

    real = details.DetailRecorder.add
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(reps):
        for record in (True, False):
            if not record:
                details.DetailRecorder.add = lambda self, model: None  # type: ignore[method-assign]
            try:
                model = SocialProductivityModel(_config(n, steps=steps))
                t0 = time.perf_counter()
                model.run()
                times[record].append(time.perf_counter() - t0)
            finally:
                details.DetailRecorder.add = real  # type: ignore[method-assign]
    return {"n": n, "steps": steps, "with_s": times[True], "without_s": times[False]}


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "details": worker_details,
    "step": worker_step,
    "run_length": worker_run_length,
    "empty_do": worker_empty_do,
    "profile": worker_profile,
    "run_cost": worker_run_cost,
    "compile": worker_compile,
}


def in_fresh_process(kind: str, env: dict[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Run one measurement in a new Python process (with extra environment variables) and return its JSON result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--worker-args", json.dumps(kwargs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker {kind} {kwargs} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- sections
def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bench_steps(sizes: list[int], reps: int) -> list[dict[str, Any]]:
    """Throughput, construction time and peak memory at each N (a fresh process per repetition)."""
    rows = []
    for n in sizes:
        steps = steps_for(n)
        runs = [in_fresh_process("step", n=n, steps=steps, driver="vectorised", warmup=2) for _ in range(reps)]
        row = {
            "n": n,
            "steps_per_rep": steps,
            "rate": summary([r["rate"] for r in runs]),
            "step_ms": summary([1e3 * r["step_s"] for r in runs]),
            "step_cpu_ms": summary([1e3 * r["step_cpu_s"] for r in runs]),
            "construct_s": summary([r["construct_s"] for r in runs]),
            "peak_rss_mib": summary([r["peak_rss_mib"] for r in runs]),
            "rss_before_model_mib": statistics.median(r["rss_before_model_mib"] for r in runs),
        }
        row["seconds_per_100_steps"] = {k: row["step_ms"][k] / 10 for k in ("median", "min", "max")}
        rows.append(row)
        log(
            f"  N={n:>9,}: {row['rate']['median'] / 1e6:7.2f} M citizen-steps/s, "
            f"construct {row['construct_s']['median']:.3f} s, peak {row['peak_rss_mib']['median']:.0f} MiB"
        )
    return rows


def bench_agent(sizes: list[int], steps: dict[int, int], reps: int, vectorised: dict[int, float]) -> dict[str, Any]:
    """The per-agent Mesa driver at small N, and its ratio to the vectorised driver."""
    rows = []
    for n in sizes:
        runs = [in_fresh_process("step", n=n, steps=steps[n], driver="agent", warmup=1) for _ in range(reps)]
        rate = summary([r["rate"] for r in runs])
        vec = vectorised.get(n)
        if vec is None:  # not among the step sizes: measure the vectorised driver here too
            vruns = [
                in_fresh_process("step", n=n, steps=steps_for(n), driver="vectorised", warmup=2) for _ in range(reps)
            ]
            vec = statistics.median(r["rate"] for r in vruns)
        row = {
            "n": n,
            "steps_per_rep": steps[n],
            "rate": rate,
            "us_per_citizen_step": summary([1e6 / r["rate"] for r in runs]),
            "vectorised_rate_median": vec,
            "ratio": vec / rate["median"],
        }
        rows.append(row)
        log(f"  N={n:>9,}: per-agent {rate['median']:,.0f} citizen-steps/s, vectorised/agent = {row['ratio']:.0f}x")
    empty = [in_fresh_process("empty_do", n=10_000, reps=5)["seconds_per_agent"] for _ in range(reps)]
    return {"rows": rows, "mesa_empty_step_us": summary([1e6 * e for e in empty])}


def bench_fused(spec: dict[str, Any], reps: int) -> dict[str, Any]:
    """The fused driver next to the numpy path and the per-agent driver, in one run (ratios compare like with like).

    Per N, the drivers alternate repetition by repetition (each in a fresh process), so a change
    of load hits both. Then the cost of a whole run at the sweeps' size, and the kernels'
    compile time with an empty cache and with a filled one.
    """
    out: dict[str, Any] = {"load_average_start": list(os.getloadavg()), "date": datetime.now(UTC).isoformat()}
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        first = in_fresh_process("compile", env=env)
        cached = [in_fresh_process("compile", env=env) for _ in range(reps)]
    out["compile"] = {
        "first_s": first["ready_s"],
        "first_misses": first["cache_misses"],
        "cached_s": summary([c["ready_s"] for c in cached]),
        "cached_hits": cached[0]["cache_hits"],
        "cached_misses": cached[0]["cache_misses"],
        "import_numba_s": summary([c["import_numba_s"] for c in cached]),
    }
    log(f"  kernels: {first['ready_s']:.1f} s to compile, {out['compile']['cached_s']['median']:.2f} s from the cache")
    in_fresh_process("compile")  # fill the project's own cache for the runs below
    rows = []
    for n in spec["sizes"]:
        steps = steps_for(n)
        runs: dict[str, list[dict[str, Any]]] = {"vectorised": [], "fused": []}
        for _ in range(reps):
            for driver in runs:
                runs[driver].append(in_fresh_process("step", n=n, steps=steps, driver=driver, warmup=2))
        row: dict[str, Any] = {"n": n, "steps_per_rep": steps}
        for driver, rs in runs.items():
            row[driver] = {
                "rate": summary([r["rate"] for r in rs]),
                "step_ms": summary([1e3 * r["step_s"] for r in rs]),
                "peak_rss_mib": summary([r["peak_rss_mib"] for r in rs]),
            }
        row["fused_over_vectorised"] = row["fused"]["rate"]["median"] / row["vectorised"]["rate"]["median"]
        rows.append(row)
        log(
            f"  N={n:>9,}: fused {row['fused']['rate']['median'] / 1e6:.2f} M/s, "
            f"vectorised {row['vectorised']['rate']['median'] / 1e6:.2f} M/s ({row['fused_over_vectorised']:.1f}x)"
        )
    out["rows"] = rows
    agent_n, agent_steps = spec["agent_n"], spec["agent_steps"]
    agent = [in_fresh_process("step", n=agent_n, steps=agent_steps, driver="agent", warmup=1) for _ in range(reps)]
    fused_at = _by_n(rows, agent_n)
    out["agent"] = {"n": agent_n, "rate": summary([r["rate"] for r in agent])}
    out["agent"]["fused_over_agent"] = (
        fused_at["fused"]["rate"]["median"] / out["agent"]["rate"]["median"] if fused_at else None
    )
    n, months = spec["run_n"], spec["run_months"]
    cost: dict[str, list[dict[str, Any]]] = {"vectorised": [], "fused": []}
    for _ in range(reps):
        for driver in cost:
            cost[driver].append(in_fresh_process("run_cost", n=n, months=months, driver=driver))
    out["run_cost"] = {
        "n": n,
        "months": months,
        "burn_in": cost["fused"][0]["burn_in"],
        **{
            d: {"cpu_s": summary([r["cpu_s"] for r in rs]), "wall_s": summary([r["wall_s"] for r in rs])}
            for d, rs in cost.items()
        },
    }
    fused_cpu = out["run_cost"]["fused"]["cpu_s"]["median"]
    # The same run under each of the main experiment's regimes (the forums' rounds cost CPU where
    # forums meet), the regimes alternating repetition by repetition.
    by_regime: dict[str, list[float]] = {r: [] for r in SWEEP_REGIMES}
    for _ in range(reps):
        for regime in SWEEP_REGIMES:
            by_regime[regime].append(
                in_fresh_process("run_cost", n=n, months=months, driver="fused", regime=regime)["cpu_s"]
            )
    out["run_cost_by_regime"] = {r: summary(v) for r, v in by_regime.items()}
    log(
        "  fused CPU per run by regime: "
        + ", ".join(f"{r} {v['median']:.3f} s" for r, v in out["run_cost_by_regime"].items())
    )
    out["sweep"] = bench_real_sweep(spec["sweep"])
    # Where a month's time goes at the sweeps' size, on both drivers (the fixed cost per month).
    out["profile"] = {
        d: in_fresh_process("profile", n=n, steps=spec["profile_steps"], driver=d) for d in ("fused", "vectorised")
    }
    # A sweep of 10,000 such runs on the processes backend: the runs' CPU over the cores (pool start-up aside).
    out["sweep_10000_estimate_s"] = 10_000 * fused_cpu / (os.cpu_count() or 1)
    vec_cpu = out["run_cost"]["vectorised"]["cpu_s"]["median"]
    log(f"  a {n:,} x {months}-month run: fused {fused_cpu:.3f} s CPU, vectorised {vec_cpu:.3f} s")
    big = spec.get("big_n")
    if big:
        runs_big = [
            in_fresh_process("step", n=big, steps=spec["big_steps"], driver="fused", warmup=2)
            for _ in range(max(1, reps // 2))
        ]
        out["big"] = {
            "n": big,
            "steps": spec["big_steps"],
            "seconds_per_100_steps": summary([100 * r["step_s"] for r in runs_big]),
            "peak_rss_mib": summary([r["peak_rss_mib"] for r in runs_big]),
            "rate": summary([r["rate"] for r in runs_big]),
        }
    rates = fused_step_ms_from_1e4(out)
    out["exponent_in_n"] = fit_exponent([x for x, _ in rates], [y for _, y in rates]) if len(rates) >= 2 else None
    out["exponent_range"] = [rates[0][0], rates[-1][0]] if rates else None
    out["threads"] = bench_threads(spec.get("thread_sizes", []), reps)
    out["load_average_end"] = list(os.getloadavg())
    return out


def fused_step_ms_from_1e4(fu: dict[str, Any]) -> list[tuple[int, float]]:
    """The fused section's median ms per step from N = 10^4 on: its rows, then the big size's 100 steps."""
    rates = [(r["n"], r["fused"]["step_ms"]["median"]) for r in fu["rows"] if r["n"] >= 10_000]
    if fu.get("big"):
        rates.append((fu["big"]["n"], 10 * fu["big"]["seconds_per_100_steps"]["median"]))
    return rates


def bench_threads(sizes: list[int], reps: int) -> dict[str, Any]:
    """The fused driver on one thread and on every core (``kernel_threads``), alternating in fresh processes."""
    threads = os.cpu_count() or 1
    out: dict[str, Any] = {"threads": threads, "rows": [], "load_average_start": list(os.getloadavg())}
    for n in sizes if threads > 1 else []:
        steps = steps_for(n)
        runs: dict[int, list[dict[str, Any]]] = {1: [], threads: []}
        for _ in range(reps):
            for t, rs in runs.items():
                rs.append(in_fresh_process("step", n=n, steps=steps, driver="fused", warmup=2, threads=t))
        one, many = runs[1], runs[threads]
        row = {
            "n": n,
            "steps_per_rep": steps,
            "ranges": many[0]["ranges"],
            "one": {"rate": summary([r["rate"] for r in one]), "step_ms": summary([1e3 * r["step_s"] for r in one])},
            "threaded": {
                "rate": summary([r["rate"] for r in many]),
                "step_ms": summary([1e3 * r["step_s"] for r in many]),
                "peak_rss_mib": summary([r["peak_rss_mib"] for r in many]),
            },
        }
        row["speedup"] = row["threaded"]["rate"]["median"] / row["one"]["rate"]["median"]
        out["rows"].append(row)
        log(
            f"  N={n:>9,}: fused on {threads} threads {row['threaded']['rate']['median'] / 1e6:.2f} M/s, "
            f"on one {row['one']['rate']['median'] / 1e6:.2f} M/s ({row['speedup']:.2f}x)"
        )
    out["load_average_end"] = list(os.getloadavg())
    return out


def bench_scaling(steps_rows: list[dict[str, Any]], step_counts: list[int], n: int, reps: int) -> dict[str, Any]:
    """Exponents of time in N (from the step medians, N >= 10^4 when there are two) and in steps."""
    big = [r for r in steps_rows if r["n"] >= 10_000]
    use = big if len(big) >= 2 else steps_rows
    in_n = fit_exponent([r["n"] for r in use], [r["step_ms"]["median"] for r in use])
    runs = {
        s: summary([in_fresh_process("run_length", n=n, steps=s)["seconds"] for _ in range(reps)]) for s in step_counts
    }
    in_steps = fit_exponent(step_counts, [runs[s]["median"] for s in step_counts])
    log(f"  exponent in N ({use[0]['n']:,}..{use[-1]['n']:,}) = {in_n:.3f}; in steps (N={n:,}) = {in_steps:.3f}")
    return {
        "exponent_in_n": in_n,
        "n_range": [use[0]["n"], use[-1]["n"]],
        "exponent_in_steps": in_steps,
        "steps_n": n,
        "run_seconds_by_steps": {str(s): runs[s] for s in step_counts},
    }


# The main experiment's regimes (configs/experiment/main.yaml): the arms of the benchmark's sweeps.
SWEEP_REGIMES = ("targets", "negotiated", "functioning", "none")


def sweep_tasks(arms: int, replications: int, citizens: int, steps: int) -> list[Any]:
    """Tasks as ``sim.runner.run_experiment`` builds them: arms x replications on common seeds."""
    import sim
    from sim.runner import replication_seeds

    regimes = SWEEP_REGIMES
    seeds = replication_seeds(0, replications)
    tasks = []
    for a in range(arms):
        regime = regimes[a % len(regimes)]
        cfg = sim.load_config([f"regime={regime}", f"population.n_citizens={citizens}", f"steps={steps}"])
        for r in range(replications):
            tasks.append((regime, r, replace(cfg, seed=seeds[r], output=replace(cfg.output, save=False))))
    return tasks


def bench_real_sweep(spec: dict[str, int]) -> dict[str, Any]:
    """A real sweep on the fused driver: arms x replications runs through ``sim.runner.execute`` on all cores.

    The arms are the main experiment's regimes on common seeds, as an experiment runs them; the
    time includes starting the pool of workers. The 10,000-run figure scales the measured time.
    """
    from sim.runner import execute

    tasks = sweep_tasks(spec["arms"], spec["replications"], spec["citizens"], spec["steps"])
    workers = os.cpu_count() or 1
    gc.collect()
    load_before = list(os.getloadavg())
    t0, c0 = time.perf_counter(), _cpu_seconds()
    results = execute(tasks, "processes", workers)
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    assert len(results) == len(tasks)
    out = {
        **spec,
        "runs": len(tasks),
        "workers": workers,
        "wall_s": wall,
        "cpu_s_per_run": cpu / len(tasks),
        "runs_10000_s": wall * 10_000 / len(tasks),
        "load_average_before": load_before,
        "load_average_after": list(os.getloadavg()),
    }
    log(
        f"  a real sweep of {len(tasks):,} runs ({spec['citizens']:,} x {spec['steps']}) on {workers} workers: "
        f"{wall:.1f} s, {out['cpu_s_per_run']:.3f} s CPU a run; "
        f"10,000 runs would take {out['runs_10000_s'] / 60:.1f} min"
    )
    return out


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes (the pool's workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bench_sweep(spec: dict[str, int], reps: int) -> dict[str, Any]:
    """Runs per minute on the processes backend on all cores against serial."""
    from sim.runner import execute

    tasks = sweep_tasks(spec["arms"], spec["replications"], spec["citizens"], spec["steps"])
    workers = os.cpu_count() or 1
    out: dict[str, Any] = {**spec, "runs": len(tasks), "workers": workers}
    for backend in ("serial", "processes"):
        rates, cpu = [], []
        for _ in range(reps):
            gc.collect()
            t0 = time.perf_counter()
            c0 = _cpu_seconds()
            results = execute(tasks, backend, workers)
            rates.append(60.0 * len(tasks) / (time.perf_counter() - t0))
            cpu.append((_cpu_seconds() - c0) / len(tasks))
            assert len(results) == len(tasks)
        out[backend] = {"runs_per_minute": summary(rates), "cpu_s_per_run": summary(cpu)}
    out["load_average"] = list(os.getloadavg())
    out["speedup"] = out["processes"]["runs_per_minute"]["median"] / out["serial"]["runs_per_minute"]["median"]
    # What starting the worker pool costs: the same backend on one tiny run per worker.
    tiny = sweep_tasks(1, workers, 10, 1)
    startup = []
    for _ in range(reps):
        t0 = time.perf_counter()
        execute(tiny, "processes", workers)
        startup.append(time.perf_counter() - t0)
    out["pool_startup_s"] = summary(startup)
    t_serial = 60.0 * len(tasks) / out["serial"]["runs_per_minute"]["median"]
    t_parallel = 60.0 * len(tasks) / out["processes"]["runs_per_minute"]["median"]
    steady = t_parallel - out["pool_startup_s"]["median"]
    out["speedup_without_pool_startup"] = t_serial / steady if steady > 0 else float("nan")
    log(
        f"  serial {out['serial']['runs_per_minute']['median']:.1f} runs/min, processes x{workers} "
        f"{out['processes']['runs_per_minute']['median']:.1f} runs/min: speed-up {out['speedup']:.2f} "
        f"({out['speedup_without_pool_startup']:.2f} without the pool's start-up of "
        f"{out['pool_startup_s']['median']:.1f} s)"
    )
    return out


def bench_details(n: int, steps: int, reps: int) -> dict[str, Any]:
    """What recording the detail tables costs: whole runs with and without them, medians and their ratio."""
    r = in_fresh_process("details", n=n, steps=steps, reps=reps)
    with_s, without_s = summary(r["with_s"]), summary(r["without_s"])
    out = {"n": n, "steps": steps, "with_s": with_s, "without_s": without_s}
    out["ratio"] = with_s["median"] / without_s["median"]
    log(f"  N={n:,}, {steps} months: {with_s['median']:.2f} s with, {without_s['median']:.2f} s without")
    return out


def default_driver() -> str:
    """The driver the default config runs (``configs/config.yaml``)."""
    import sim

    return str(sim.load_config([]).driver)


def bench_main_job(overrides: list[str], reps: int) -> dict[str, Any]:
    """Wall time of ``python -m sim`` (the main job) in a fresh process, start-up included."""
    times = []
    for _ in range(reps):
        with tempfile.TemporaryDirectory(prefix="sim-bench-") as tmp:
            cmd = [sys.executable, "-m", "sim", f"output.dir={tmp}", *overrides]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            elapsed = time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(f"main job failed:\n{proc.stderr[-3000:]}")
            times.append(elapsed)
    out = {"command": "python -m sim " + " ".join(["output.dir=<tmp>", *overrides]), "seconds": summary(times)}
    log(f"  main job {out['seconds']['median']:.1f} s")
    return out


# ---------------------------------------------------------------------- targets
def _by_n(rows: list[dict[str, Any]], n: int) -> dict[str, Any] | None:
    return next((r for r in rows if r["n"] == n), None)


def evaluate_targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue: the measured median, met or not, and by how much."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float | None, target: float, higher_is_better: bool, unit: str) -> None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            rows.append({"target": name, "goal": target, "unit": unit, "value": None, "met": None, "margin": None})
            return
        met = value >= target if higher_is_better else value <= target
        # The margin: how far past the target (positive) or short of it (negative), relative to it.
        margin = (value / target - 1.0) if higher_is_better else (1.0 - value / target)
        rows.append({"target": name, "goal": target, "unit": unit, "value": value, "met": met, "margin": margin})

    r5 = _by_n(res["step"], 100_000)
    add("citizen-steps/s at N=10^5", r5["rate"]["median"] if r5 else None, TARGET_RATE_1E5, True, "citizen-steps/s")
    add(
        "stretch: citizen-steps/s at N=10^5",
        r5["rate"]["median"] if r5 else None,
        STRETCH_RATE_1E5,
        True,
        "citizen-steps/s",
    )
    a4 = _by_n(res["agent"]["rows"], 10_000)
    add("vectorised / per-agent at N=10^4", a4["ratio"] if a4 else None, TARGET_AGENT_RATIO, True, "x")
    r6 = _by_n(res["step"], 1_000_000)
    add("construction at N=10^6", r6["construct_s"]["median"] if r6 else None, TARGET_CONSTRUCT_1E6, False, "s")
    add("peak memory at N=10^6", r6["peak_rss_mib"]["median"] if r6 else None, TARGET_MEMORY_1E6, False, "MiB")
    add("100 steps at N=10^6", r6["seconds_per_100_steps"]["median"] if r6 else None, TARGET_100_STEPS_1E6, False, "s")
    sc = res["scaling"]
    full_range = sc["n_range"] == [10_000, 1_000_000]
    add("exponent in N (10^4..10^6)", sc["exponent_in_n"] if full_range else None, TARGET_EXPONENT, False, "")
    add("exponent in steps", sc["exponent_in_steps"], TARGET_EXPONENT, False, "")
    add("processes / serial sweep rate (2 cores)", res["sweep"]["speedup"], TARGET_SWEEP_SPEEDUP, True, "x")
    add(
        "the same, pool start-up excluded (long sweeps)",
        res["sweep"]["speedup_without_pool_startup"],
        TARGET_SWEEP_SPEEDUP,
        True,
        "x",
    )
    quick_main = bool(res["settings"]["main_job_overrides"])
    add("main job wall time", None if quick_main else res["main_job"]["seconds"]["median"], TARGET_MAIN_JOB, False, "s")
    fu = res.get("fused")
    if fu:
        rows.extend(fused_targets(fu))
    return rows


def fused_targets(fu: dict[str, Any]) -> list[dict[str, Any]]:
    """The fused driver's targets (issue 15), from the ``fused`` section."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float | None, target: float, higher_is_better: bool, unit: str) -> None:
        if value is None:
            rows.append({"target": name, "goal": target, "unit": unit, "value": None, "met": None, "margin": None})
            return
        met = value >= target if higher_is_better else value <= target
        margin = (value / target - 1.0) if higher_is_better else (1.0 - value / target)
        rows.append({"target": name, "goal": target, "unit": unit, "value": value, "met": met, "margin": margin})

    r5, r2 = _by_n(fu["rows"], 100_000), _by_n(fu["rows"], 2_000)
    rate = "citizen-steps/s"
    add("fused: citizen-steps/s at N=10^5", r5["fused"]["rate"]["median"] if r5 else None, FUSED_RATE_1E5, True, rate)
    add("fused: citizen-steps/s at N=2,000", r2["fused"]["rate"]["median"] if r2 else None, FUSED_RATE_2000, True, rate)
    rc = fu["run_cost"]
    full_run = rc["n"] == 2_000 and rc["months"] == 120
    run_cpu = rc["fused"]["cpu_s"]["median"] if full_run else None
    add("fused: CPU of a 2,000 x 120-month run (burn-in included)", run_cpu, FUSED_RUN_CPU_2000, False, "s")
    ratio = r2["fused_over_vectorised"] if r2 else None
    add("fused / vectorised at N=2,000", ratio, FUSED_OVER_VECTORISED_2000, True, "x")
    agent = fu["agent"]["fused_over_agent"] if fu["agent"]["n"] == 10_000 else None
    add("fused / per-agent at N=10^4", agent, FUSED_OVER_AGENT_1E4, True, "x")
    big = fu.get("big")
    add(
        "fused: 100 steps at N=10^6",
        big["seconds_per_100_steps"]["median"] if big else None,
        FUSED_100_STEPS_1E6,
        False,
        "s",
    )
    add("fused: peak memory at N=10^6", big["peak_rss_mib"]["median"] if big else None, FUSED_MEMORY_1E6, False, "MiB")
    # The same two targets with the citizen kernels on every core (kernel_threads; the same bits).
    th = fu.get("threads") or {"threads": 1, "rows": []}
    t5, t6 = _by_n(th["rows"], 100_000), _by_n(th["rows"], 1_000_000)
    on = "on every core"
    add(
        f"fused {on}: citizen-steps/s at N=10^5",
        t5["threaded"]["rate"]["median"] if t5 else None,
        FUSED_RATE_1E5,
        True,
        rate,
    )
    add(
        f"fused {on}: 100 steps at N=10^6",
        t6["threaded"]["step_ms"]["median"] / 10 if t6 else None,
        FUSED_100_STEPS_1E6,
        False,
        "s",
    )
    real = fu.get("sweep")
    if real and real["citizens"] == 2_000 and real["steps"] == 120 and real["runs"] >= 1_000:
        # Scaled from a real sweep of the main experiment's four arms (forums' rounds included).
        add(
            "fused: 10,000-run sweep (2,000 x 120) on 2 cores, scaled from a real sweep",
            real["runs_10000_s"],
            FUSED_SWEEP_10000,
            False,
            "s",
        )
    else:
        sweep = fu["sweep_10000_estimate_s"] if full_run else None
        add("fused: 10,000-run sweep (2,000 x 120) on 2 cores, estimated", sweep, FUSED_SWEEP_10000, False, "s")
    add("fused: main job wall time", fu.get("main_job_s"), FUSED_MAIN_JOB, False, "s")
    exponent = fu.get("exponent_in_n") if fu.get("exponent_range") == [10_000, 1_000_000] else None
    lo, hi = FUSED_EXPONENT
    if exponent is None:
        rows.append(
            {
                "target": "fused: exponent in N (10^4..10^6)",
                "goal": hi,
                "unit": "",
                "value": None,
                "met": None,
                "margin": None,
            }
        )
    else:
        rows.append(
            {
                "target": "fused: exponent in N (10^4..10^6)",
                "goal": hi,
                "unit": "",
                "value": exponent,
                "met": lo <= exponent <= hi,
                "margin": min(exponent - lo, hi - exponent) / hi,
            }
        )
    return rows


# ---------------------------------------------------------------------- report
def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e5 else f"{x:,.0f}"


def _percent(margin: float) -> str:
    """A target's margin as a percentage: one decimal below 1 %, so that a near miss does not read as 0 %."""
    share = abs(margin) * 100
    return f"{share:.1f}%" if share < 1 else f"{share:.0f}%"


def _mmm(s: dict[str, Any], fmt: Callable[[float], str]) -> str:
    return f"{fmt(s['median'])} | {fmt(s['min'])} | {fmt(s['max'])}"


def markdown(res: dict[str, Any]) -> str:
    """The performance report (docs/performance.md)."""
    m, st = res["machine"], res["settings"]
    lines = [
        "# Performance",
        "",
        "<!-- Generated by benchmarks/run.py: edit the generator, not this file. -->",
        "",
        "How fast the model runs, measured by one command that anyone can rerun:",
        "",
        "```bash",
        "make bench                                # or: .venv/bin/python benchmarks/run.py",
        ".venv/bin/python benchmarks/run.py --quick  # a check that every section runs, about 3 min",
        "```",
        "",
        "It writes `benchmarks/results.json` (every repetition) and this file. Every figure is the",
        "median of repeated measurements with their min and max: the machines are shared and noisy.",
        "All runs use the default model (`configs/`) with model-level data collection on. The full model",
        "step, the per-agent driver, how time grows and the detail tables measure the numpy path",
        "(`driver=vectorised`), their original baseline; the sweeps and the main job run the default driver",
        "(`fused`), which has its own section below.",
        "",
        f"**Machine**: {_cpu(m)}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}, "
        f"Mesa {m['mesa']}; {m['platform']}.  ",
        f"**Run**: {m['date']}, git {m['git_revision']}, {st['reps']} repetitions"
        f"{' (quick run)' if st['quick'] else ''}; load average {m['load_average_start'][0]:.2f} at the start, "
        f"{res['load_average_end'][0]:.2f} at the end.",
        "",
        "## Targets",
        "",
        "| target | goal | measured (median) | met | margin |",
        "|---|---|---|---|---|",
    ]
    for t in res["targets"]:
        goal = f"{_fmt_rate(t['goal'])}" if t["unit"] == "citizen-steps/s" else f"{t['goal']:g} {t['unit']}".strip()
        if t["value"] is None:
            lines.append(f"| {t['target']} | {goal} | not measured in this run | | |")
            continue
        val = _fmt_rate(t["value"]) if t["unit"] == "citizen-steps/s" else f"{t['value']:.3g} {t['unit']}".strip()
        met = "yes" if t["met"] else "**no**"
        word = "better" if t["margin"] >= 0 else "short"
        lines.append(f"| {t['target']} | {goal} | {val} | {met} | {_percent(t['margin'])} {word} |")
    lines += [
        "",
        "## Full model step",
        "",
        "Citizen-steps per second of `model.step()` on the numpy path (`driver=vectorised`; all phases,",
        "metrics recorded every month), one",
        "fresh process per repetition, after two warm-up months. Construction is",
        "`SocialProductivityModel(config)`; peak memory is the process's peak resident set",
        "(`ru_maxrss`, interpreter and libraries included).",
        "",
        "| N | citizen-steps/s median | min | max | ms/step median | min | max "
        "| construction s median | min | max | peak MiB median | min | max |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["step"]:
        lines.append(
            f"| {r['n']:,} | {_mmm(r['rate'], _fmt_rate)} | {_mmm(r['step_ms'], lambda x: f'{x:.2f}')} "
            f"| {_mmm(r['construct_s'], lambda x: f'{x:.3f}')} | {_mmm(r['peak_rss_mib'], lambda x: f'{x:.0f}')} |"
        )
    base = res["step"][0]["rss_before_model_mib"] if res["step"] else float("nan")
    lines += [
        "",
        f"The interpreter with numpy, pandas, Mesa and Hydra loaded holds about {base:.0f} MiB before any model.",
        "",
        "## Per-agent Mesa driver",
        "",
        "`driver=agent` runs the same rule functions one Mesa agent at a time (`AgentSet.do`) on the",
        "same config and seed; it is the correctness oracle (its time series equal the vectorised",
        "ones bit for bit, `tests/test_model.py`) and the speed baseline. Measured in the same run.",
        "",
        "| N | per-agent citizen-steps/s median | min | max | µs per citizen-step | vectorised (median) "
        "| vectorised / per-agent |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in res["agent"]["rows"]:
        lines.append(
            f"| {r['n']:,} | {_mmm(r['rate'], _fmt_rate)} | {r['us_per_citizen_step']['median']:.1f} "
            f"| {_fmt_rate(r['vectorised_rate_median'])} | {r['ratio']:.0f}x |"
        )
    e = res["agent"]["mesa_empty_step_us"]
    lines += [
        "",
        f"For reference, Mesa's own `AgentSet.shuffle_do` of an empty step costs {e['median']:.2f} µs per agent "
        f"(min {e['min']:.2f}, max {e['max']:.2f}) at N = 10,000.",
        "",
        "## How time grows",
        "",
    ]
    sc = res["scaling"]
    lines += [
        f"* In N: time per step grows like N^{sc['exponent_in_n']:.2f} "
        f"(least-squares fit of the medians, N = {sc['n_range'][0]:,} to {sc['n_range'][1]:,}).",
        f"* In steps: a whole run at N = {sc['steps_n']:,} grows like steps^{sc['exponent_in_steps']:.2f}:",
        "",
        "| steps | run seconds median | min | max |",
        "|---|---|---|---|",
    ]
    for s, v in sc["run_seconds_by_steps"].items():
        lines.append(f"| {s} | {_mmm(v, lambda x: f'{x:.3f}')} |")
    sw = res["sweep"]
    lines += [
        "",
        "## Sweeps",
        "",
        f"{sw['runs']} runs ({sw['arms']} regimes x {sw['replications']} replications, {sw['citizens']:,} citizens, "
        f"{sw['steps']} months after the burn-in) through `sim.runner.execute`, as an experiment runs them; "
        "the processes backend includes starting its worker pool.",
        "",
        "| backend | runs per minute median | min | max |",
        "|---|---|---|---|",
        f"| serial | {_mmm(sw['serial']['runs_per_minute'], lambda x: f'{x:.1f}')} |",
        f"| processes ({sw['workers']} workers) | {_mmm(sw['processes']['runs_per_minute'], lambda x: f'{x:.1f}')} |",
        "",
        f"Speed-up: {sw['speedup']:.2f}x on {sw['workers']} cores. Starting the pool of spawned workers (each",
        f"imports numpy, pandas, Mesa and Hydra) takes {sw['pool_startup_s']['median']:.1f} s (median; min "
        f"{sw['pool_startup_s']['min']:.1f}, max {sw['pool_startup_s']['max']:.1f}); without it, as in a sweep of",
        f"thousands of runs, the speed-up would be {sw['speedup_without_pool_startup']:.2f}x. Both depend on the",
        "cores being free: with other jobs on the machine the workers share the cores with them (load average",
        f"{sw['load_average'][0]:.2f} after this section). The CPU time a run costs shows the backend's own",
        f"overhead whatever the load: {sw['serial']['cpu_s_per_run']['median']:.3f} s per run serially, "
        f"{sw['processes']['cpu_s_per_run']['median']:.3f} s on the processes backend (workers' start-up included).",
        "",
    ]
    if "details" in res:  # results files from before the detail tables lack this section
        d = res["details"]
        lines += [
            "## Detail tables",
            "",
            f"Recording each run's detail tables (`sim/details.py`: the indicator histogram every month, "
            f"service and community sums over the last 12 months) at N = {d['n']:,} over {d['steps']} months: "
            f"{_mmm(d['with_s'], lambda x: f'{x:.2f}')} s with them, {_mmm(d['without_s'], lambda x: f'{x:.2f}')} s "
            f"without (median | min | max, alternating runs in one process): a ratio of {d['ratio']:.3f}.",
            "",
        ]
    lines += [
        "## Main job",
        "",
        f"`{res['main_job']['command']}`: {_mmm(res['main_job']['seconds'], lambda x: f'{x:.1f}')} s "
        "(median | min | max), start-up and writing the outputs included.",
        "",
    ]
    pr = res["profile"]
    lines += [
        f"## Where the time goes (N = {pr['n']:,})",
        "",
        f"One month takes {pr['step_ms']:.2f} ms (median of {pr['steps']}). By phase (`SocialProductivityModel.step`):",
        "",
        "| phase | ms (median) | share |",
        "|---|---|---|",
    ]
    for p in pr["phases"]:
        lines.append(f"| `{p['phase']}` | {p['ms']:.3f} | {100 * p['share']:.0f}% |")
    lines += [
        "",
        "Functions with the most own time (cProfile, which slows small calls; random draws count",
        "in the function that makes them):",
        "",
        "| function | ms per step | share |",
        "|---|---|---|",
    ]
    for f in pr["top_functions_by_own_time"][:10]:
        lines.append(f"| `{f['function']}` | {f['ms_per_step']:.3f} | {100 * f['share']:.0f}% |")
    if res.get("fused"):
        lines += fused_section(res["fused"])
    lines += ["", NOTES]
    gaps = [t for t in res["targets"] if t["met"] is False]
    if gaps:
        lines += ["Targets not met in this run, by how much, and what would close the gap:", ""]
        for t in gaps:
            lines.append(f"* **{t['target']}** ({_percent(t['margin'])} short): {GAPS.get(t['target'], '')}")
    near = [t for t in res["targets"] if t["met"] is True and t.get("margin") is not None and t["margin"] < NEAR_MARGIN]
    if near:
        lines += [
            "",
            f"Targets met by less than {NEAR_MARGIN:.0%} in this run: within this machine's run-to-run noise, so not "
            "counted as reliably met:",
            "",
        ]
        for t in near:
            lines.append(f"* **{t['target']}** (met by {t['margin'] * 100:.1f}%): {NEAR.get(t['target'], '')}")
    lines.append("")
    lines += live_mode_section(LIVE_JSON)
    lines += estimate_section(ESTIMATE_JSON)
    return "\n".join(lines)


BUSY = " (other jobs were running: the absolute figures are lower bounds for an idle machine)"


def _cpu(m: dict[str, Any]) -> str:
    """The CPU's name, with its generation where the results record it."""
    return f"{m['cpu']} ({m['cpu_generation']})" if m.get("cpu_generation") else m["cpu"]


def fused_section(fu: dict[str, Any]) -> list[str]:
    """The fused driver's section of the report."""
    m = fu["machine"]
    c = fu["compile"]
    lines = [
        "",
        "## Fused driver (`driver=fused`)",
        "",
        "The citizens' decide and adapt phases (with what citizens met in their services), the",
        "services' conditions and month (the allocation in force, six trials, the case records and",
        "the managers' learning) and the month's service metrics and detail-table counts run as numba",
        "kernels, one call each (`sim/kernels.py`); they take the numpy path's random draws and give",
        "the same bits (`tests/test_fused.py`). Measured in one run, the drivers alternating repetition by",
        "repetition in fresh processes, so that the ratios compare like with like: "
        f"{_cpu(m)}, {m['cores']} cores; {m['date']}, git {m['git_revision']}, {fu['reps']} repetitions; load average "
        f"{fu['load_average_start'][0]:.2f} at the start, {fu['load_average_end'][0]:.2f} at the end"
        f"{BUSY if fu['load_average_start'][0] > 1.5 else ''}.",
        "",
        "| N | fused citizen-steps/s median | min | max | vectorised median | min | max "
        "| fused / vectorised | fused ms/step |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in fu["rows"]:
        f, v = r["fused"]["rate"], r["vectorised"]["rate"]
        lines.append(
            f"| {r['n']:,} | {_fmt_rate(f['median'])} | {_fmt_rate(f['min'])} | {_fmt_rate(f['max'])} | "
            f"{_fmt_rate(v['median'])} | {_fmt_rate(v['min'])} | {_fmt_rate(v['max'])} | "
            f"{r['fused_over_vectorised']:.1f}x | {r['fused']['step_ms']['median']:.2f} |"
        )
    a = fu["agent"]
    ratio = a["fused_over_agent"]
    lines += [
        "",
        f"Per-agent Mesa driver at N = {a['n']:,} in the same run: {_fmt_rate(a['rate']['median'])} citizen-steps/s "
        f"(min {_fmt_rate(a['rate']['min'])}, max {_fmt_rate(a['rate']['max'])})"
        + (f"; fused / per-agent = {ratio:,.0f}x." if ratio else "."),
        "",
    ]
    rc = fu["run_cost"]
    lines += [
        f"A whole run at the sweeps' size ({rc['n']:,} citizens, {rc['burn_in']} burn-in months and {rc['months']} "
        "recorded months, construction included, kernels already loaded as in a sweep's worker), CPU seconds "
        "(median | min | max):",
        "",
        "| driver | CPU s per run median | min | max | wall s median | min | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in ("fused", "vectorised"):
        lines.append(
            f"| {d} | {_mmm(rc[d]['cpu_s'], lambda x: f'{x:.3f}')} | {_mmm(rc[d]['wall_s'], lambda x: f'{x:.3f}')} |"
        )
    lines += [
        "",
        f"At that cost a sweep of 10,000 such runs on the processes backend would take about "
        f"{fu['sweep_10000_estimate_s'] / 60:.1f} minutes on {m['cores']} cores (the runs' CPU over the cores; "
        "the pool's start-up of a few seconds aside).",
        "",
    ]
    if fu.get("run_cost_by_regime"):
        lines += [
            "That run is the default config's (`regime=none`, where no forum meets). The same run under each "
            "of the main experiment's regimes, fused driver, CPU seconds (median | min | max; the regimes "
            "alternating, each in a fresh process):",
            "",
            "| regime | CPU s per run median | min | max |",
            "|---|---|---|---|",
        ]
        for regime, v in fu["run_cost_by_regime"].items():
            lines.append(f"| `{regime}` | {_mmm(v, lambda x: f'{x:.3f}')} |")
        lines.append("")
    if fu.get("sweep"):
        sw = fu["sweep"]
        lines += [
            f"A real sweep: {sw['runs']:,} runs (the main experiment's {sw['arms']} regimes x {sw['replications']} "
            f"replications, {sw['citizens']:,} citizens x {sw['steps']} months) through `sim.runner.execute` on "
            f"the processes backend with {sw['workers']} workers took {sw['wall_s']:.1f} s, the pool's start-up "
            f"included ({sw['cpu_s_per_run']:.3f} s of the parent's and workers' CPU a run; load average "
            f"{sw['load_average_before'][0]:.2f} before, {sw['load_average_after'][0]:.2f} after). At that pace "
            f"10,000 runs take {sw['runs_10000_s'] / 60:.1f} minutes.",
            "",
        ]
    if fu.get("profile"):
        pf, pv = fu["profile"]["fused"], fu["profile"]["vectorised"]
        lines += [
            f"Where a month goes at N = {pf['n']:,} (median of {pf['steps']} months, one process per driver, "
            f"phase by phase; the month: fused {pf['step_ms']:.2f} ms, vectorised {pv['step_ms']:.2f} ms):",
            "",
            "| phase | fused ms | share | vectorised ms | share |",
            "|---|---|---|---|---|",
        ]
        for a, b in zip(pf["phases"], pv["phases"], strict=True):
            lines.append(f"| `{a['phase']}` | {a['ms']:.3f} | {a['share']:.0%} | {b['ms']:.3f} | {b['share']:.0%} |")
        lines += [
            "",
            "The fused month's functions with the most own time (cProfile; a kernel's time counts in the "
            "method that calls it, random draws in the function that makes them):",
            "",
            "| function | ms per step | share |",
            "|---|---|---|",
        ]
        for f in pf["top_functions_by_own_time"][:8]:
            lines.append(f"| `{f['function']}` | {f['ms_per_step']:.3f} | {f['share']:.0%} |")
        lines.append("")
    if fu.get("big"):
        b = fu["big"]
        lines += [
            f"At N = {b['n']:,}: 100 steps take {_mmm(b['seconds_per_100_steps'], lambda x: f'{x:.1f}')} s "
            f"(median | min | max), peak memory {_mmm(b['peak_rss_mib'], lambda x: f'{x:.0f}')} MiB.",
            "",
        ]
    th = fu.get("threads")
    if th and th["rows"]:
        lines += [
            f"On every core: the citizen kernels (decide, adapt and the citizen means) on {th['threads']} threads "
            "(`kernel_threads=0`), against one thread, alternating in fresh processes; the same bits either way "
            "(`tests/test_fused.py`). The other phases, numpy's random draws and the Python between the calls stay "
            f"on one thread. Git {th.get('git_revision', m['git_revision'])[:10]}; load average "
            f"{th['load_average_start'][0]:.2f} at the start, "
            f"{th['load_average_end'][0]:.2f} at the end.",
            "",
            "| N | ranges | one thread: citizen-steps/s median | ms/step | every core: citizen-steps/s median | min "
            "| max | ms/step | speed-up |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in th["rows"]:
            one, many = r["one"], r["threaded"]
            lines.append(
                f"| {r['n']:,} | {r['ranges']} | {_fmt_rate(one['rate']['median'])} | {one['step_ms']['median']:.1f} | "
                f"{_fmt_rate(many['rate']['median'])} | {_fmt_rate(many['rate']['min'])} | "
                f"{_fmt_rate(many['rate']['max'])} | {many['step_ms']['median']:.1f} | {r['speedup']:.2f}x |"
            )
        lines.append("")
    if fu.get("exponent_in_n") is not None:
        lo, hi = fu["exponent_range"]
        lines += [f"Time per step grows like N^{fu['exponent_in_n']:.2f} (fused, N = {lo:,} to {hi:,}).", ""]
        rates = fused_step_ms_from_1e4(fu)
        fit = fixed_and_growing([n for n, _ in rates], [ms for _, ms in rates])
        if fit is not None:
            a, b, k = fit
            (n_lo, ms_lo), (n_hi, ms_hi) = rates[0], rates[-1]
            lines += [
                f"Through those three medians, ms/step = a + b N^k with a = {a:.2f} ms that does not grow with N "
                f"and the rest growing like N^{k:.2f}: at N = {n_lo:,} the part that does not grow is "
                f"{a / ms_lo:.0%} of the step, at N = {n_hi:,} {a / ms_hi:.1%} (`fixed_and_growing`; "
                "what it is: the exponent's gap text below).",
                "",
            ]
    lines += [
        "Compiling the kernels: the first process with an empty cache takes "
        f"{c['first_s']:.1f} s ({c['first_misses']} kernels compiled); a later process loads them from the on-disk "
        f"cache in {_mmm(c['cached_s'], lambda x: f'{x:.2f}')} s (median | min | max; {c['cached_hits']} cache hits, "
        f"{c['cached_misses']} misses), after {c['import_numba_s']['median']:.2f} s to import numba. The cache is "
        "`sim/__pycache__` (or `NUMBA_CACHE_DIR`); in a pool of workers the first to start readies them "
        "(`sim.model.warm_fused_kernels`: compiles, or loads) while the others import, and they wait for it, "
        "so only one process compiles (`sim.sweep.backends.WorkerPool`).",
    ]
    return lines


LIVE_JSON = ROOT / "benchmarks" / "live_results.json"
ESTIMATE_JSON = ROOT / "benchmarks" / "app_estimate.json"
LIVE_TARGET = 10.0  # months a second at 2,000 citizens (issue 17)
ESTIMATE_FACTOR = 1.5  # the time estimate's aim: within this factor of the real time (issue 17)


def _load_note(data: dict[str, Any], repetitions: str) -> str:
    """When a browser benchmark ran and under what load (the machines are shared)."""
    load = data["load_average_start"][0], data["load_average_end"][0]
    return (
        f"Measured {data['when']} on {data['cores']} shared cores, {repetitions}; load average "
        f"{load[0]:.2f} at the start and {load[1]:.2f} at the end (other jobs were running: the figures are "
        "those of a loaded machine)."
    )


def live_mode_section(path: Path) -> list[str]:
    """The proposal explorer's live mode, from ``benchmarks/live_mode.py``'s results (nothing if not run)."""
    if not path.is_file():
        return []
    live = json.loads(path.read_text())
    speeds = live.get("speeds") or [  # results written before several speeds were measured
        {"speed_chosen": live["speed_chosen"], "runs": live["runs"], "months_per_second": live["months_per_second"]}
    ]
    lines = [
        "## Live mode of the proposal explorer",
        "",
        "Months a second that the explorer's Live model tab shows while playing, in Chromium, with the "
        f"standard settings ({live['population']}, 20 communities): the model's steps, the page's updates and the "
        "browser's drawing together (`benchmarks/live_mode.py`, which writes `benchmarks/live_results.json`). It is "
        "measured at the page's default speed setting (12 months a second: does the page keep the pace a user "
        "first meets?) and at its fastest (24: how fast it can go), the repetitions alternating between the two. "
        "The charts are drawn in the browser from the numbers; the server draws nothing per month.",
        "",
        "| speed setting (months/s asked) | goal | months/s at 2,000 citizens (median) | min | max | met |",
        "|---|---|---|---|---|---|",
    ]
    for entry in speeds:
        rate = entry["months_per_second"]
        met = "yes" if rate["median"] >= LIVE_TARGET else "**no**"
        lines.append(
            f"| {entry['speed_chosen']} | {LIVE_TARGET:g} | {rate['median']:.1f} | {rate['min']:.1f} | "
            f"{rate['max']:.1f} | {met} |"
        )
    reps = ", ".join(f"{len(e['runs'])} at {e['speed_chosen']}" for e in speeds)
    return [*lines, "", _load_note(live, f"repetitions: {reps}"), ""]


def estimate_section(path: Path) -> list[str]:
    """The explorer's time estimate against the real time, from ``benchmarks/app_estimate.py`` (nothing if not run)."""
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    rows, summary = data["runs"], data["summary"]
    lines = [
        "## Time estimate of the proposal explorer",
        "",
        "The estimate the explorer shows next to its Run button (`docs/app.md`, *Time estimates*) against the "
        "real time from pressing Run to the answer on screen, in Chromium, for proposals from small to large "
        "(`benchmarks/app_estimate.py`, which writes `benchmarks/app_estimate.json`). Each repetition changes the "
        "chance events (so nothing comes from the cache) and every other one a lever too (a new config to "
        "compose). The ratio is real / shown estimate; the goal is a ratio between "
        f"1/{ESTIMATE_FACTOR:g} and {ESTIMATE_FACTOR:g}.",
        "",
        "| citizens | communities | months | runs of each policy | shown (first repetition) | real s (each) | "
        "real / estimate (each) |",
        "|---|---|---|---|---|---|---|",
    ]
    sizes: dict[tuple[int, int, int, int], list[dict[str, Any]]] = {}
    for r in rows:
        sizes.setdefault((r["citizens"], r["communities"], r["months"], r["runs"]), []).append(r)
    for (n, c, m, k), reps in sizes.items():
        shown = reps[0]["shown"].split("expected to take ")[-1].rstrip(".")
        real = ", ".join(f"{r['real']:.1f}" for r in reps)
        ratio = ", ".join(f"{r['ratio']:.2f}" for r in reps)
        lines.append(f"| {n:,} | {c} | {m} | {k} | {shown} | {real} | {ratio} |")
    ratios = [r["ratio"] for r in rows]
    inside = sum(1 / ESTIMATE_FACTOR <= x <= ESTIMATE_FACTOR for x in ratios)
    lines += [
        "",
        f"Real / estimate: median {summary['median_ratio']:.2f}, worst {summary['worst_ratio']:.2f}; "
        f"{inside} of {len(ratios)} within a factor of {ESTIMATE_FACTOR:g}, {summary['in_shown_range']} of "
        f"{len(ratios)} inside the range shown.",
        "",
        _load_note(data, f"{len(rows)} comparisons" + ("" if data.get("complete", True) else ", a run stopped early")),
        "",
    ]
    return lines


NOTES = """## How the speed is obtained, and what would go further

* Citizen state is a struct of numpy arrays and every rule is a pure function over arrays. The
  vectorised driver calls the rules on blocks of 32,768 citizens (`CITIZEN_BLOCK` in
  `sim/model.py`) so that a block's temporaries stay in the CPU cache; the rules being
  elementwise, the result is the same as on the whole population, or one agent at a time.
* The network is a dense (N, k) index array (a CSR matrix whose rows all hold k contacts),
  stored column-major. `sim.rules.network.neighbour_mean` gathers one contact slot at a time
  and adds the k vectors in numpy's pairwise order, so it equals `values[contacts].mean(axis=1)`
  to the last bit at less than half its cost; there is no Python loop over citizens.
* Branches per citizen (`np.where` on random conditions) are replaced by table lookups
  (`np.take`) or by exact arithmetic (a finite value times a 0/1 flag); fast paths skip masked
  divides when no citizen has a zero budget and commitment arithmetic when no one has committed.
  Metrics count with `np.count_nonzero` instead of averaging temporary 0/1 arrays.
* Services are few (one per community and domain) but each month a manager evaluates its
  allocation and six trials over the month's case records; with few cases the seven are
  stacked into one evaluation (`sim.rules.management.service_months`) to pay numpy's per-call
  overhead once. The cost of the services does not grow with N beyond the cap on cases per
  service, which is why throughput rises with N and time grows more slowly than N.
* Every optimisation keeps the results bit-identical: the same configuration and seed give the
  same time series as the straightforward code (checked on all regimes, several seeds and
  sizes, payments, ratchets, switches and the per-agent driver).
* The fused driver (`driver=fused`, the default; its own section above) runs a month in eight
  compiled calls on the same random draws, with the same bits: `service_conditions` (the
  services' conditions and each case's noise, from the month's draws), `services` (the
  allocation in force, six trials, the records, learning, and the counts the metrics and detail
  tables need: bunching and the indicator histogram), `decide` and `adapt` (one pass over the
  citizens each, counting the active and motivated citizens as they go), `adapt_context` (what
  citizens met in their services, per community), `service_metrics` (every service and
  community metric), `citizen_means` (the citizen metrics' means, added in numpy's pairwise
  order) and `social_capital` (the communities' stock); a month with a forum round adds two
  (below), and the citizens' two normal draws one each (`normals_in_place`, numpy's ziggurat on
  the stream's raw words; below). What is left in Python is the draws themselves (the streams'
  calls) and about a hundred small operations of bookkeeping a month.
* Forum rounds (`forums_negotiate`, in months where forums meet) take two compiled calls on the
  fused driver, with the numpy rules' bits: `forum_inputs_kernel` (each resident's experience
  of their services and resources index; the median budget by numpy's own partition) and
  `forum_round_kernel` (attendance, the forum's reading, the quorum, the Nash bargain of each
  quorate service over its 21 x 21 grid of deals, commitments and hours: one pass over the
  citizens, one over the services). The bargain packs the deals both sides gain from, in grid
  order, and takes their logarithms (the portable `log`) in a branch-free loop; the first
  maximum wins, as `np.argmax`. A round's scalar constants are made once per forum constants and
  support level. `sim/rules/forum.py` stays the oracle (`tests/unit/test_forum_kernel.py`
  compares every field bit for bit, the bargain's edges included). Measured alternating old and
  new code on the shared 2-core machine (load average 3-3.5, 2026-11-30): a 2,000-citizen
  144-month run under `regime=negotiated` went from 325 to 210 ms of CPU (median of 36 runs
  each; `negotiated_unpaid` 329 to 228 ms; `regime=none`, which has no forum, 161 and 157 ms),
  its forum phase from 115 to 23 ms (median of 9). The two kernels add about 6 s to a first
  compile of about 50 s, and 0.03 s to a cached load.
* The services kernel does not evaluate each case seven times. A case's true value under an
  evaluation is `logit + noise`, and float addition is monotone in each term, so a case at or
  above the standard under the lowest of the seven logits is so under all of them, one below
  the near-miss window under the highest is below it under all, and one inside the window under
  both is inside it under all. One pass over a service's cases sorts them into these regions
  and counts, with integer counters in registers, the draws that decide moves, audits and
  cream-skimming for each distinct level of gaming effort (at most three: the allocation in
  force, the gaming trial, and the five other trials, which share it); the few cases between
  the lowest and highest logit (about 2 %) are evaluated under each of the seven one by one,
  as before. Counts are integers, so the results are exact, not approximated; a NaN logit or a
  negative window sends every case down the one-by-one path. The production function is
  computed once for the two trials with the same inputs (gaming and slack).
* The portable `log` and `exp` (`sim.rules.portable`, ported operation for operation) read
  `frexp`'s mantissa and exponent off the float's bits and build `ldexp`'s power of two from
  bits, the same values without libm calls; the case noise's logarithms run in one branch-free
  loop after a check that every odds value is a positive normal float (else the general path),
  four times faster than one at a time. The decide kernel keeps the running per-community sums
  in registers while the community stays the same (the same additions in the same order), and
  both citizen kernels count without branches.
* Contacts are 32-bit indices (`CONTACT_DTYPE` in `sim.rules.network`; the config allows at most
  10^7 citizens): the gather of contacts' contributions, a month's largest memory traffic, reads
  half as many bytes, and the decide kernel at 10^6 citizens went from 135 to 87 ms a month (min
  of 5 calls on the same inputs; the results are the same bits). The decide kernel also sums,
  per community, the citizens with a commitment and how far they met it (`commitment_met`), so
  the services' objectives and the `citizen_commitment_kept` metric no longer make their own
  passes when no one has committed; the services under a central target are worked out once per
  set of instruments, not three times a month.
* What is left at 2,000 citizens, measured in one process by timing every kernel call and every
  random draw of whole runs (`regime=none`, best of 5 runs, load average 0.2-2.5,
  2026-11-30): of 130-145 ms a run, the kernels take 60-64 ms (the services kernel, its seven
  evaluations over some 6,000 case records a month, about half), numpy's random draws 27-31 ms
  (some 32,000 uniforms, 60 Poisson counts and 4,000 normals a month) and Python 43-51 ms spread
  over about a hundred small calls (the calls into the kernels and the boxing of the arrays they
  return, metrics, detail tables, Mesa's event scheduling), with the run's construction on top.
  The kernels and the draws alone, about 95 ms, are more than the 0.06 s target: removing every
  line of Python bookkeeping would not meet it. Meeting it needs fewer random numbers per case
  (five uniforms per case record, a sixth of a month, most of them never read because they only
  matter near the standard) or fewer evaluations per service (the six trials every month), both
  changes to the model's rules that change every result, so they are for the team to decide, not
  an optimisation to slip in. Where forums meet, their rounds add about 20-25 ms a run (two
  compiled calls per round since the forum kernels, 110-120 ms before; see the runs
  by regime above).
* Python bookkeeping of the fused month, trimmed with the same bits (2026-11-30): the kernels'
  constant arrays are made once per config and set of instruments
  (`FusedConstants`, compared by identity; made again at month 0 and at each switch), not every
  month; the decide kernel makes each community's peer pressure from its social capital and
  divides its per-community sums itself (no clip, divides and temporaries around it), and also
  gives the share of commitments kept per community (with its `nan_to_num`, as the objectives
  read it) and the `citizen_commitment_kept` metric (numpy's pairwise mean, read while its
  commitments are in force); the services kernel makes its case offsets (no `cumsum`); social
  capital is one small kernel (`social_capital`); whether any service is targeted is cached
  with `targeted()`; the detail histogram is looked up, not made and dropped each month.
  Measured against the code before, at 2,000 citizens x 120 months (burn-in included), CPU time
  per run alternating fresh processes (10 rounds x 3 runs each, load average 0.9-1.3,
  2026-11-30): `regime=none` median 169 to 159 ms (ratio 0.94; min 130 to 116), `targets` 178 to
  159 ms (0.90), `negotiated` 217 to 194 ms (0.89); an earlier set of 8 x 3 gave 0.87, 0.92 and
  0.94. On this shared machine the same run varies by 20 % between processes, so the
  instruction counts are the firmer figure: valgrind (cachegrind) counts 860 to 827 million
  instructions a run under `none` (0.962), 867 to 841 million under `targets` (0.970) and 989 to
  956 million under `negotiated` (0.966). What is left in Python is mostly the calls into the
  kernels and the boxing of the arrays they return (some 30 a month), numpy's random draws'
  own Python checks, the metrics' dictionaries and Mesa's event scheduling.
* Threads (`kernel_threads`, 2026-11-30): `decide`, `adapt` and `citizen_means` have threaded twins
  (`parallel=True`, one `prange` region each) that run ranges of citizens on several threads with
  the same bits: ranges are cut where a community starts (`community_bounds`), so each
  community's sums are added by one thread in index order; the committed citizens' values are put
  back in citizen order before their pairwise mean; counts are integers; and the pairwise sums are
  cut at numpy's own first two halvings (`_leaves`), summed as tasks and joined in numpy's order.
  `tests/test_fused.py` steps threaded and one-thread models side by side (state and every metric
  bit for bit every month, two threads calling at once included); cutting a range inside a
  community, or dropping the compaction, fails it. The layer is numba's TBB one (`tbb`, fork- and
  thread-safe); numba's own workqueue layer took 0.1-0.25 ms to wake its threads for each parallel
  region on this VM (TBB: 4-40 us), enough to make 2 threads slower than one at 10^5 citizens.
  Threads are used only for ranges of at least 16,384 citizens (`MIN_RANGE`), so small runs and
  sweeps (one run per core already) are unchanged; the default is one thread. The serial kernels
  now share the twins' range bodies, called on slices with loops from 0: with a range's start as
  loop base, numba could not see that indices are never negative and wrapped every access (25 %
  more instructions); from 0, the same instructions as before (in-process A/B at 10^5 and 10^6:
  0.97 and 1.05).
* The machine (2026-11-30 afternoon): the figures above this date's morning were measured on an
  earlier CPU generation behind the same name ("AMD EPYC"); this one (cpu family 26) runs the same
  code about 2.4 times as fast, so the report now gives the family and model. Ratios measured in one
  run are comparable across machines; absolute figures are not.
* Month-long allocations (2026-11-30): the decide kernel returned its six new citizen arrays as
  rows of one (6, N) block. At 10^6 citizens that is 48 MB, above the 32 MiB up to which glibc
  reuses freed memory, so the block was mapped afresh each month and its pages faulted in again,
  and it stayed alive while any one row was referenced. Six arrays instead: at 10^6 one thread,
  0.110 -> 0.082 s a month and peak memory 560 -> 545 MiB (the session's first code against the
  new, one after the other, 10 months each). The services' five uniforms per case are five arrays
  for the same reason (at a million cases; at the default sizes, capped per service, they are small).
  Peak memory differs by tens of MiB between times of day on this VM for the same code (the
  shared libraries' resident pages): compare memory only within one run.
* The draw thread (2026-11-30): with `kernel_threads`, the adapt phase's uniform and normal draws
  per citizen (streams no other phase reads) are made on one thread of their own from the start of
  the month; numpy fills arrays without the interpreter lock and the kernels release it (`nogil`).
  In-process A/B, 2 cores, threads against the same draws made inline: 1.21x at 10^5 (5.04 against
  6.11 ms a month, medians of 6) and 1.10x at 10^6 (48.1 against 52.8 ms, medians of 3). Drawn
  during the services phase only, the gain was 1.04x: the adapt phase waited for the draws.
* Standard normals (2026-11-30, evening): numpy's `standard_normal` calls the bit generator through
  a function pointer for each number, about 8 ns a number here against under 2 ns for the raw words.
  The fused driver's two normals per citizen a month (`citizens` and `experience` streams) are now
  made by `sim.normals.standard_normal`: the stream's raw words (`random_raw`, the words numpy's
  ziggurat reads) and numpy's ziggurat run on them in a compiled loop (`kernels.normals_in_place`),
  with the same tables and operations, the wedge and tail with the C library's `exp` and `log1p` as
  numpy's. The same numbers, and the stream left where numpy leaves it (words are drawn as needed,
  never ahead); `tests/unit/test_normals.py` checks both over sizes and seeds, a million numbers
  through the wedges and tail included. The numbers are written over the words in place: a second
  array of 10^5 numbers a call was given back to the system and faulted in again each time (356
  page faults a call). numpy negates a number on its sign bit; the loop multiplies by -1.0 instead
  (the same float): on the generic target the branch was mispredicted half the time and made the
  loop three times slower. 2.5x numpy's call at 10^5 and 10^6 numbers, 1.6x at 2,000 (below a few
  hundred numbers numpy's call is quicker, so the services' draws keep it). In-process A/B against
  numpy's call, alternating blocks of 5 months on one model, one thread: 10^5 citizens 7.41 to 6.41
  ms a month (1.16x), 10^6 83.3 to 71.5 ms (1.17x), 2,000 0.392 to 0.383 ms (1.02x).
* PCG64, four steps at a time (2026-11-30, twelfth session): numpy makes PCG64's numbers one at a
  time, each step of its 128-bit recurrence waiting for the last (about 1.5 ns a number here). Four
  steps are again one affine step (state x M^4 + inc x (M^3 + M^2 + M + 1), modulo 2^128), so
  `kernels.pcg64_fill` runs four lanes started at consecutive states: the same words in the same
  order, about 0.85 ns a number, exact integer arithmetic on any CPU. `sim.pcg64.random` and
  `random_raw` read the stream's state through numpy's public `bit_generator.state` and write it
  back advanced (about 4 us a call, so numpy's call is kept below 6,144 numbers). Used for the
  services' five uniforms per case record (about 30,000 a month at 2,000 citizens, 90,000 from
  9,000 on), the adapt phase's uniform per citizen and the normals' raw words;
  `tests/unit/test_pcg64.py` checks numbers and stream state against numpy's. Month A/B against the
  commit before, fresh processes alternating (medians): 2,000 citizens 417 to 402 us, 10^4 1,037
  to 979 us, 10^5 5.13 to 4.93 ms.
* The pool's start (2026-11-30): `python -m sim` starts the process pool as soon as the experiment
  is checked (`sim.sweep.backends.prestart`), and the first worker readies the kernels while the
  others import; before, the driver loaded the kernels and only then spawned the workers, after
  planning. The main job, alternating the old and new code, 3 runs each: 11.18, 11.20, 10.90 s
  against 10.20, 10.41, 10.30 s.
* An experiment's fixed cost (`python -m sim experiment=NAME` with a handful of tiny runs) is about
  20-25 s on this machine besides the runs themselves: starting Python and importing numpy,
  pandas, Hydra, Mesa, numba's cached kernels, scipy and matplotlib (about 4 s), Hydra compositions (one for the
  checks, one for Hydra's job, one per arm: 0.3-0.7 s each under load), the pool of spawned
  workers (each imports the model and loads the kernels: about 3 s of CPU), and the analysis
  (about 7 s, of which the figures' PNG and SVG files are 4 s and the report 1.5 s). Each distinct
  config is composed once per process (`sim.config.compose` keeps the composition, keyed on the
  overrides and the config files' bytes, and hands out copies), the schemas are registered once,
  the code fingerprint parses a model file only once per process unless its bytes change
  (`sim.sweep.plan`; the figures below were measured with an on-disk copy of that cache, since
  dropped as not worth its code: each process now parses the model's files once, about 0.3 s),
  and workers no longer import Hydra. Measured alternating old and new code, 3 runs each, load
  average about 4 (2026-11-30): a 4-run `experiment=main`
  (`experiment.replications=1 steps=12 burn_in=0 population.n_citizens=100`) went from 24.9 s to
  23.0 s (median; ratio 0.92), and the suite's reduced `trust_deprivation` check
  (`tests/test_catalogue.py`, 32 runs, one worker) from 24.4 s to 21.6 s (ratio 0.88). In the
  process the compositions went from 2.3 s to 1.4 s and the fingerprints from 0.9 s to 0.04 s. The
  rest was left: the imports and the worker pool are what the runs need (running a tiny experiment
  in this process instead would change what `experiment.backend=processes` means), and the
  figures' time is spread over their many texts and lines, with no redundant draw to remove.
* Branches and calls in the compiled code (2026-11-30, thirteenth session), found by reading the
  kernels' assembly (`inspect_asm`):
  - numpy's clip written with numpy's two tests (`a >= b or a != a`) was compiled to branches in
    the decide and adapt kernels, mispredicted where random per-citizen values are clipped. For
    bounds that are not NaN, numba's `min` and `max` of two floats are numpy's `minimum` and
    `maximum` to the bit (NaN and signed zeros included; `tests/test_fused.py` checks every pair of
    special values) and compile to `maxsd`/`minsd`: decide 5-12 % and adapt 11-18 % faster on
    captured months of three regimes (`kernels._clip_branchless`). Also in the forums'
    per-citizen kernels (a run under the negotiated regime 1.3 % faster) and in the services
    kernel's histogram bins, where true values fall outside the histogram's range at random (the
    kernel 1-3 % faster, 18 % in a month under targets). Not in the services kernel's three
    per-evaluation clips: with them too it was 7 % slower;
  - the kernels' `exp` rounded x / ln 2 with `rint`, a libm call on the generic target (which has
    no `roundsd`): adding and subtracting 1.5 x 2^52 gives the same integer, but for the sign of a
    zero, which leaves every result unchanged (the proof is in `kernels._exp`; the test covers
    every tie of the range): the services kernel 2.5-3.4 % faster.
  - numpy's ziggurat kept its counters on the stack because its rare paths (the wedges and the
    tail, with `exp` and `log1p`, and the retries) shared the loop: with the about 1 % of numbers
    whose first word is not accepted made by a function of their own (`kernels._ziggurat_number`),
    the normals are 28-30 % faster at 2,000 and 10^5 numbers, 18 % at 10^6; the same numbers and
    stream positions (`tests/unit/test_normals.py`).
  Months in fresh processes, alternating with the session's start (c29abc6), medians of 7 (5 at
  10^4), after the first two changes: 2,000 citizens 381 to 369 us, 10^4 931 to 900 us, 10^5 4.50
  to 4.26 ms; the histogram bins then made the months at 2,000 and 10^4 a further 5 and 7 % faster
  (384 to 364 us, 977 to 910 us).
* Tried and not kept (2026-11-30, thirteenth session; warm captured inputs of a model's month,
  one process, medians, every variant checked to give the same bits):
  - the decide phase's normals drawn inside the decide kernel's own loop (the PCG64 state carried
    through it, numpy's ziggurat per citizen, the stream left where numpy leaves it): 5.6-6.0 ms
    at 10^5 citizens, against 1.95 ms for the kernel and 0.27 ms for the draws apart. The
    recurrence's chain and the ziggurat's rejection loop inside the citizens' loop cost more than
    the array they save;
  - the decide kernel as three loops per chunk of 512 citizens (the contacts' gathers, the
    per-citizen arithmetic alone so that LLVM could vectorise it, then the sums, counts and
    compaction): 2.9 times slower at 2,000 citizens (32 to 92 us) and 2.6 times at 10^5;
  - in the services kernel's case loop: the detail histogram in four interleaved copies, no
    change (the whole histogram is at most 13 of the kernel's 75 us at 2,000 citizens); the loop
    split in two (the counts, then the histogram and the ambiguous cases), 2 % faster;
  - the citizen means as one pass over numpy's pairwise leaves (the six sums of a leaf together,
    no temporary arrays): 13 % faster (320 to 278 us at 10^5), 0.8 % of a month;
  - in the services kernel's case loop, a moved record chosen by integer bit masks rather than a
    branch on its random condition: 5-7 % slower in captured months of two regimes, 17 % faster at
    10^5 in a month under targets;
  - decide's and adapt's 0/1 flags as conversions (`np.float64(flag)`) rather than `1.0 if flag
    else 0.0`: no change;
  - an upper bound for any faster draw: at 10^5 citizens, months with the two normal draws
    replaced by one cached array took 4.3-4.7 ms against 4.9-5.6 ms (4.7-4.8 ms with a copy of
    the array each month). The draws cost their arithmetic (about 2.7 ns a number), which a fused
    draw would still spend.
  The decide kernel costs about the same per citizen at 2,000 citizens (0.043 ms in a month, every
  array in the second-level cache) as at 10^5 (1.96 ms; both before the branchless clip above): it
  is bound by its instructions (about 35 floating-point operations, three divisions and a dozen
  NaN-preserving selects per citizen, on the generic x86-64 target, which has no blend
  instruction), not by memory.
* Noise: on a shared 2-core machine another process running tests can halve the measured
  rates; compare medians, and rerun on an idle machine for the best figures. Even with the load
  average near 1, the same 2,000 x 120-month run took from 0.13 to 0.22 s of CPU in different
  fresh processes (2026-11-30 07:05 run): the machine's other tenants are not seen in its load.
"""

FIXED_COST_GAP = (
    "at 2,000 citizens a month is mostly the kernels (above all the services' seven evaluations of "
    "their allocations, about 60 services x 7, and the some 6,000 case records a month) and the random "
    "draws (some 30,000 uniforms and 4,000 normals a month, kept so that every result keeps its bits); "
    "Python bookkeeping spread over about a hundred small calls a month is the rest (the phase and "
    "function tables above). Measured 2026-12-01 00:25 on the machine above (after the thirteenth "
    "session's changes), inside one process, each kernel call timed (means): the services kernel "
    "0.074 ms, the services' conditions 0.028 ms, decide 0.036 ms, adapt 0.021 ms, the normals' "
    "ziggurat 0.006 ms, the metrics' kernels about 0.017 ms: about 0.18 ms of kernels; the draws "
    "(the five uniforms per case record, about 0.03 ms made four steps at a time by `sim.pcg64`, the "
    "normals' raw words, the cases' Poisson, the services' own draws) about 0.05 ms more. The numpy "
    "path's month at this size is about 2.1 ms, so 10x asks for a month of 0.21 ms, less than the "
    "kernels and the draws alone take (about 0.23 ms), before any of the Python that calls them: out "
    "of reach without a month compiled whole and faster kernels still, or changes to the rules (fewer "
    "random numbers per case record, fewer evaluations per service: both change every result). The "
    "kernels are compiled for numba's generic x86-64 target (the issue asks for a "
    "portable target): compiled for this CPU (AVX-512) the services' conditions took 0.014 instead of "
    "0.037 ms and the decide kernel 0.039 instead of 0.045 ms (2026-11-30 afternoon, an earlier version "
    "of the kernels). A vectorised adapt loop (the citizens of a community in an inner loop without "
    "branches, which LLVM turns into SSE2 pairs) was 6 % faster at 10^5 but a quarter slower at 2,000, and "
    "was dropped."
)

GAPS = {
    "stretch: citizen-steps/s at N=10^5": (
        "the month is spread over some 150 numpy calls on citizen arrays, each a separate pass over "
        "memory, plus three random draws per citizen (two normal, one uniform: about 2 ms of a month at "
        "N = 10^5 that any implementation must spend to keep the same random numbers) and the services' "
        "seven allocation trials over the case records, a cost of about 5 ms that does not grow with N "
        "beyond the cap on cases per service (`services_act` in the profile above). Fusing each "
        "citizen phase into one compiled loop (numba, compiled once per worker and cached to disk) "
        "would make decide and adapt one pass each, "
        "roughly halving them; the seven trials could share their per-case transforms (`log(u)`, "
        "`log1p(-u)`, the landing values and the case counts are the same in all seven), saving about "
        "0.5 ms. Both keep the results identical if the compiled code performs the same floating-point "
        "operations in the same order. The fused driver (the default; its section above) is that path; its "
        "own rows give its rate at 10^5."
    ),
    "the same, pool start-up excluded (long sweeps)": (
        "on a shared machine the two workers compete with other jobs for the two cores; rerun when "
        "the machine is idle (the load average is given above)."
    ),
    "processes / serial sweep rate (2 cores)": (
        "the worker pool is spawned per call of `sim.runner.execute`, and each worker imports numpy, "
        "pandas, Mesa (with networkx and scipy) and Hydra before its first run, which a short sweep does "
        "not amortise (the extra CPU seconds per run above are that start-up); and on a shared "
        "machine the two workers compete with other jobs for the two cores. Without the start-up the "
        "backend runs at the rate of the cores (the next row), so a sweep long enough to amortise it, "
        "or a pool kept across calls (one pool for a whole sweep, as `sim.sweep` does), closes the gap; "
        "lighter imports in the workers (Mesa pulls in networkx and scipy) would shorten the start-up."
    ),
    "vectorised / per-agent at N=10^4": "the per-agent driver got faster than expected: check the rules.",
    "citizen-steps/s at N=10^5": (
        "see the profile above; on a shared machine rerun when it is idle before concluding."
    ),
    "main job wall time": (
        "the main job is 40 runs of 144 months at 3,000 citizens on the processes backend; its time "
        "follows the sweep rate above (worker start-up, free cores)."
    ),
    "fused: citizen-steps/s at N=10^5": (
        "at this size the citizen kernels' arithmetic dominates: the decide kernel costs about as much per "
        "citizen here as at 2,000 citizens, where every array is in the second-level cache (about 20 ns "
        "before this session's branchless clips, 16-18 ns after), so it is bound "
        "by its instructions rather than by memory (see 'Tried and not kept' above: the ways to fewer "
        "instructions measured so far were slower). The same month takes 4.3 to 6.0 ms from one run to "
        "the next on this shared machine. Measured 2026-11-30 21:00, one process, each call timed, months 0 to "
        "100 of a run without burn-in (as this row runs it): the decide kernel 2.4 ms (2.7 ms in the first "
        "20 months, which the row's 40 months mostly are), adapt 1.1 ms, the two normal draws per citizen "
        "0.58 ms (numpy's ziggurat on raw words in a compiled loop, `sim.normals`; the words made four "
        "steps at a time, `sim.pcg64`), the metrics' means 0.36 ms and the services' kernels 0.33 ms. "
        "Reading the communities as int32 and the types as int8 made decide 6 % faster on warm inputs; "
        "the same numbers must be drawn to keep the results. On one thread; the citizen kernels on every "
        "core are the row 'fused on every core' below. In the same run the thread section's one-thread "
        "rate at 10^5 (the table above) can differ from this row's."
    ),
    "fused on every core: citizen-steps/s at N=10^5": (
        "on 2 cores the threaded citizen kernels (decide, adapt, the citizen means) run about twice as fast "
        "as on one, but the rest of a month stays on one thread: numpy's three draws per citizen from the "
        "model's named streams (one stream each, so one thread each to keep the numbers), the services' "
        "kernels, and the Python between the calls. The adapt phase's draws are made on a thread of their "
        "own from the start of the month (`sim.model.draw_thread`); the citizens' normal draws for the "
        "decide phase and the services' draws stay on the main thread. See the speed-up in the table above."
    ),
    "fused on every core: 100 steps at N=10^6": (
        "the threaded citizen kernels halve their part of a month on 2 cores; the decide phase's normal "
        "draws, the metrics' means and the serial phases are left (the table above). The same limits as "
        "the row above."
    ),
    "fused: citizen-steps/s at N=2,000": FIXED_COST_GAP,
    "fused: CPU of a 2,000 x 120-month run (burn-in included)": FIXED_COST_GAP,
    "fused / vectorised at N=2,000": FIXED_COST_GAP,
    "fused: 10,000-run sweep (2,000 x 120) on 2 cores, scaled from a real sweep": (
        "follows the CPU of the runs (the rows above: the forums' rounds and the objectives they set make "
        "the regimes with forums the dearest), plus the sweep's own handling of each run's results in the "
        "workers and the parent; see the run's cost at 2,000 citizens above for why the runs themselves "
        "cannot get cheap enough without changes to the rules."
    ),
    "fused: main job wall time": (
        "the main job is 40 runs of 3,000 citizens x 144 months, about 3 s of its time on 2 cores; the "
        "rest is its fixed cost: starting Python and importing the libraries, Hydra's compositions (the "
        "workers now start meanwhile, `sim.sweep.backends.prestart`), and the analysis, whose six "
        "figures (each written as PNG and SVG) take about 2.5 s on one core and the report about 0.6 s "
        "(py-spy, 2026-11-30). Drawing the three detail figures in a process of their own was tried and "
        "dropped: its start-up (spawn and imports) cost about what it saved (three main jobs 10.0-10.2 s "
        "against 10.0-10.3 s), and it would have made `sim.api.analyse_folder` spawn a process (a script "
        "without a `__main__` guard then fails). Under 10 s every time would need lighter figures, or "
        "fewer of them in the main job, which would change what it gives users."
    ),
    "fused: 10,000-run sweep (2,000 x 120) on 2 cores, estimated": (
        "follows the CPU of one run (the row above), now mostly the kernels' own work (above all the "
        "services' seven evaluations over the case records)."
    ),
    "fused: 100 steps at N=10^6": (
        "a month at 10^6 citizens is about 80 ms (2026-11-30, one process, the machine above): the decide "
        "kernel about 44 ms (the gather of eight contacts' contributions per citizen is half of it, even "
        "with 32-bit indices), the two normal draws and one uniform per citizen about 20 ms (about 8 ms "
        "since the normals are made from raw words, `sim.normals`), the adapt kernel about 11 ms and the "
        "metrics about 4 ms. "
        "On one thread; with the citizen kernels on every core (`kernel_threads=0`, same bits) see the row "
        "'fused on every core' below: the draws stay serial, and threads inside a sweep's workers would "
        "compete with the other workers for the same cores."
    ),
    "fused: peak memory at N=10^6": (
        "each kernel allocates its new state arrays (the synchronous update keeps last month's); "
        "writing into two buffers swapped each month would save a few arrays of N floats."
    ),
    "fused: exponent in N (10^4..10^6)": (
        "what keeps the fit near 0.9 is model work, not overhead: the services' phase. A service records "
        "at most 300 cases a month (`services.max_cases_per_service`), so from about 9,000 citizens on "
        "the 60 services make 18,000 case records a month, and their phase (the services kernel over the "
        "records, their conditions, five uniforms per record) costs about the same at every size: 0.41 ms "
        "at 10^4 and 0.53-0.60 ms at 10^5 (measured 2026-11-30 21:50, one process, phases timed; 0.77 ms "
        "at 10^6 earlier the same day), against months of about 0.94, 4.3-5.5 and 49-62 ms (the rows "
        "above). Without that phase the same fit gives about 1.0. So the faster the citizens' kernels, the "
        "lower the fit: after the thirteenth session's branchless clips (2026-11-30) the month at 10^6 "
        "took 49 ms against 55-62 ms the day before, while the one at 10^4 stayed at 0.94 ms, and the fit "
        "fell from 0.90 to 0.86; the services' histogram bins then made the month at 10^4 0.84 ms (the "
        "fit 0.875, the month at 10^6 47 ms). The phase is already compiled and shared by the seven "
        "evaluations, and its uniforms are made four at a time (`sim.pcg64`); making it cheaper per "
        "record, or sampling fewer records, would raise the fit towards 1 (the second changes results). "
        "The Python left is not enough on its own: timed kernel by kernel inside one process "
        "(2026-12-01 01:50, 10 runs at 10^4), a month at 10^4 spent 0.66 ms in compiled kernels, the "
        "draws' kernels included, of 0.80 ms. With no Python at all the fit would be about "
        "log10(47.1 / 0.66) / 2 = 0.93; 0.9 asks for a month at 10^4 of at most 0.75 ms, so between two "
        "fifths and two thirds of that Python would have to go (from the 0.80 ms here, or the 0.83-0.84 ms "
        "of the benchmark's rows at 00:15 and 02:20). It is spread over some hundred calls of "
        "0.3-3 us a month: the services' own small draws from eight streams, the cases' Poisson, the "
        "kernels' dispatch, the metrics' bookkeeping and Mesa's event loop (Mesa's own `step`, its event "
        "list and time signals, took 11-18 us a month in the model and 3.9 us in an empty model; "
        "2026-12-01 02:20). The fit of a + b N^k through the same three medians (the fused section above) "
        "separates the two parts. In the runs of 2026-12-01 00:15 (git b8b6df6) and 02:20 (git fdf2b4a), "
        "a = 0.54 and 0.51 ms a month does not grow with N, about the services' phase and the Python around "
        "the kernels measured apart, and the rest grows like N^1.10 in both, at the window's upper edge "
        "rather than below it: per citizen it costs about 30 ns at 10^4 (every array in the second-level "
        "cache), 37-41 ns at 10^5 and 47-52 ns at 10^6 (main memory). The plain fit was 0.875 and 0.896 in "
        "those runs, the month at 10^6 taking 47 and 52 ms: it moves with the noise of that one row, at "
        "the window's lower edge. So once the part that does not grow is set aside the cost is within the "
        "target's window, at its upper edge, and that part is mostly the model's capped case records, not "
        "overhead. Whether the target should be read that way is for the team to decide."
    ),
}


# A target met by less than this share of its goal is reported as within the noise (the same code's
# figures moved by 5-15 % between runs on this shared machine, 2026-11-30).
NEAR_MARGIN = 0.03
NEAR = {
    "fused: exponent in N (10^4..10^6)": (
        "the fit rises when the months at 10^5 and 10^6 run slow against the one at 10^4, as in this run, "
        "whose 10^5 and 10^6 rows are the slowest of the day; the run at 20:58 the same day (at 273cf09, "
        "before the narrow integer arrays) gave 0.884. The cause, as in a run where it is not met: "
        + GAPS["fused: exponent in N (10^4..10^6)"]
    ),
    "fused: citizen-steps/s at N=2,000": FIXED_COST_GAP,
    "fused: citizen-steps/s at N=10^5": (
        "before this session's branchless clips (a month about 5 % faster: see 'Branches and calls' above), "
        "full runs gave 16.8 to 18.9 M the day before and 18.3 M earlier this evening; the thread section's "
        "one-thread figure (the table above) is a second measurement in this run. Where a month goes: "
        + GAPS["fused: citizen-steps/s at N=10^5"]
    ),
}


# ---------------------------------------------------------------------- main
def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every section, in order; returns the results (also written to JSON and Markdown)."""
    plan = dict(QUICK if args.quick else FULL)
    if args.sizes:
        plan["sizes"] = [int(float(x)) for x in args.sizes.split(",")]
    reps = args.reps or plan["reps"]
    res: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "quick": args.quick,
            "reps": reps,
            "sizes": plan["sizes"],
            "agent_sizes": plan["agent_sizes"],
            "main_job_overrides": plan["main_job_overrides"],
        },
    }
    log(f"benchmark: {res['machine']['cpu']}, {res['machine']['cores']} cores, {reps} repetitions")
    if args.only == "fused":  # this section alone, added to an earlier full run's results
        earlier = json.loads(args.json.read_text()) if args.json.exists() else {}
        log("fused driver:")
        earlier["fused"] = bench_fused(plan["fused"], reps)
        earlier["fused"]["machine"] = res["machine"]
        earlier["fused"]["reps"] = reps
        if not args.quick and default_driver() == "fused":
            job = bench_main_job(plan["main_job_overrides"], args.main_job_reps or plan["main_job_reps"])
            earlier["fused"]["main_job_s"] = job["seconds"]["median"]
        earlier["targets"] = evaluate_targets(earlier) if "step" in earlier else fused_targets(earlier["fused"])
        return earlier
    log("step throughput, construction and memory:")
    res["step"] = bench_steps(plan["sizes"], reps)
    log("per-agent Mesa driver:")
    vec = {r["n"]: r["rate"]["median"] for r in res["step"]}
    res["agent"] = bench_agent(plan["agent_sizes"], plan["agent_steps"], reps, vec)
    log("scaling:")
    res["scaling"] = bench_scaling(res["step"], plan["scaling_steps"], plan["scaling_n"], reps)
    log("sweep throughput:")
    res["sweep"] = bench_sweep(plan["sweep"], max(1, min(reps, 3)))
    log("detail tables:")
    res["details"] = bench_details(plan["details_n"], plan["details_steps"], reps)
    log("main job:")
    res["main_job"] = bench_main_job(plan["main_job_overrides"], args.main_job_reps or plan["main_job_reps"])
    log("fused driver:")
    res["fused"] = bench_fused(plan["fused"], reps)
    res["fused"]["machine"], res["fused"]["reps"] = res["machine"], reps
    if not args.quick and default_driver() == "fused":  # the main job above ran on the fused driver
        res["fused"]["main_job_s"] = res["main_job"]["seconds"]["median"]
    log("profile:")
    res["profile"] = in_fresh_process("profile", n=plan["profile_n"], steps=20 if not args.quick else 5)
    res["load_average_end"] = list(os.getloadavg())
    res["targets"] = evaluate_targets(res)
    return res


def _has_full_run(path: Path) -> bool:
    """Whether ``path`` holds the results of a full run (what ``--only`` adds a section to)."""
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(earlier, dict) and all(k in earlier for k in ("machine", "settings", "step"))


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a check that everything runs")
    ap.add_argument("--reps", type=int, default=0, help="repetitions per figure (default 5, quick 1)")
    ap.add_argument("--main-job-reps", type=int, default=0, help="repetitions of the main job (default 3, quick 1)")
    ap.add_argument("--sizes", default="", help="comma-separated N for the step benchmark, e.g. 1e3,1e4")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"results file (default {DEFAULT_JSON})")
    ap.add_argument("--markdown", type=Path, default=DEFAULT_MARKDOWN, help=f"report (default {DEFAULT_MARKDOWN})")
    ap.add_argument(
        "--only", choices=["fused"], help="run one section and add it to the results file's earlier full run"
    )
    ap.add_argument("--render", type=Path, help="only rewrite the report from this results file")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--worker-args", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.only and not _has_full_run(args.json):
        ap.error(
            f"--only {args.only} adds its section to an earlier full run's results, and {args.json} holds none: "
            "run benchmarks/run.py without --only first, or name such a file with --json"
        )
    if args.worker:
        print(json.dumps(WORKERS[args.worker](**json.loads(args.worker_args))))
        return
    if args.render:
        res = json.loads(args.render.read_text())
        res["targets"] = evaluate_targets(res)
        args.markdown.write_text(markdown(res))
        log(f"wrote {args.markdown}")
        return
    res = run(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1) + "\n")
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(markdown(res))
    log(f"wrote {args.json} and {args.markdown}")
    for t in res["targets"]:
        state = "not measured" if t["met"] is None else ("met" if t["met"] else "NOT MET")
        log(f"  {t['target']}: {state}")


if __name__ == "__main__":
    main()

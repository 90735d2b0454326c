"""Running simulations: one run (``sim.run``) and an experiment of arms x sweep points x replications.

One run returns its time series and end-of-run summary and, by default, writes a
self-describing folder. An experiment (:func:`run_experiment`) is a sweep (:mod:`sim.sweep`):
it composes each arm's config once, merges sweep points into it cheaply, gives replication r
the same seed in every arm and point (common random numbers, spawned from one root
SeedSequence so that adding replications keeps the earlier ones), stores each run as its own
Parquet file so that an interrupted experiment resumes, and runs on a serial loop, a process
pool or a dask cluster.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.config import AppConfig, ExperimentConfig, SimConfig, to_sim_config
from sim.metrics import COLUMNS
from sim.provenance import config_hash, provenance, write_json
from sim.sweep.plan import arm_configs, replication_seeds  # experiments are sweeps; names kept here

SUMMARY_WINDOW = 12  # months averaged for end-of-run figures


@dataclass
class RunResult:
    """The outcome of one simulation.

    Attributes:
        timeseries: one row per month, the columns of ``sim.metrics.COLUMNS``.
        summary: end-of-run figures (each metric averaged over the final 12 months) and run facts.
        config: the configuration that ran.
        path: the run folder, if one was written.

    """

    timeseries: pd.DataFrame
    summary: dict[str, Any]
    config: SimConfig
    path: Path | None = None


def config_yaml(cfg: SimConfig) -> str:
    """The resolved config as YAML."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def summarise(ts: pd.DataFrame, cfg: SimConfig) -> dict[str, Any]:
    """End-of-run figures: each numeric metric averaged over the last 12 months (NaN-aware)."""
    tail = ts.tail(SUMMARY_WINDOW)
    out: dict[str, Any] = {
        "seed": cfg.seed,
        "steps": cfg.steps,
        "n_citizens": cfg.population.n_citizens,
        "regime_start": cfg.regime.name,
        "regime_end": str(ts["regime"].iloc[-1]) if len(ts) else cfg.regime.name,
    }
    for col in COLUMNS:
        if col in ("step", "regime"):
            continue
        vals = tail[col].astype(float)
        out[col] = float(vals.mean()) if vals.notna().any() else float("nan")
    return out


def simulate(cfg: SimConfig) -> pd.DataFrame:
    """Run one simulation and return its time series (no files)."""
    from sim.model import SocialProductivityModel

    model = SocialProductivityModel(cfg)
    model.run()
    return model.timeseries()


def run_folder_name(cfg: SimConfig) -> str:
    """A unique, readable folder name for one run."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    return f"{stamp}-{cfg.regime.name}-seed{cfg.seed}"


def write_run(folder: Path, ts: pd.DataFrame, summary: dict[str, Any], cfg: SimConfig) -> None:
    """Write a self-describing run folder: tables, resolved config, seed and provenance."""
    folder.mkdir(parents=True, exist_ok=True)
    text = config_yaml(cfg)
    tmp = folder / "timeseries.parquet.tmp"
    ts.to_parquet(tmp, index=False)
    tmp.replace(folder / "timeseries.parquet")
    write_json(folder / "summary.json", summary)
    (folder / "config.yaml").write_text(text)
    (folder / "seed.txt").write_text(f"{cfg.seed}\n")
    write_json(folder / "provenance.json", provenance(cfg.seed, text))


def run(config: SimConfig | Any, folder: str | Path | None = None) -> RunResult:
    """Run one simulation.

    Args:
        config: a :class:`SimConfig` (e.g. from ``sim.load_config``) or a composed DictConfig.
        folder: where to write the run folder; by default a new folder under
            ``config.output.dir/runs`` (nothing is written if ``output.save`` is false).

    Returns:
        The run's time series, summary and (if written) folder.

    """
    cfg = to_sim_config(config)
    ts = simulate(cfg)
    summary = summarise(ts, cfg)
    path: Path | None = None
    if cfg.output.save:
        path = Path(folder) if folder is not None else Path(cfg.output.dir) / "runs" / run_folder_name(cfg)
        write_run(path, ts, summary, cfg)
    return RunResult(ts, summary, cfg, path)


# ---------------------------------------------------------------------- experiments
def _run_task(task: tuple[str, int, SimConfig]) -> pd.DataFrame:
    arm, rep, cfg = task
    ts = simulate(cfg)
    ts.insert(0, "seed", cfg.seed)
    ts.insert(0, "replication", rep)
    ts.insert(0, "arm", arm)
    return ts


def execute(tasks: list[tuple[str, int, SimConfig]], backend: str, workers: int) -> list[pd.DataFrame]:
    """Run (arm, replication, config) tasks in memory, in order (no store; see :mod:`sim.sweep` for sweeps)."""
    if backend == "serial" or len(tasks) <= 1:
        return [_run_task(t) for t in tasks]
    n = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=min(n, len(tasks)), mp_context=get_context("spawn")) as pool:
        return list(pool.map(_run_task, tasks, chunksize=max(1, len(tasks) // (4 * n))))


@dataclass
class ExperimentResult:
    """Outputs of an experiment."""

    folder: Path
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    figures: list[Path]
    seconds: float
    stats: Any = None  # sim.sweep.SweepStats: planned, done, ran, failed
    warnings: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def summary_table(ts: pd.DataFrame) -> pd.DataFrame:
    """Per arm and metric: mean of the end-of-run figure across replications with a 95% interval."""
    from scipy import stats

    last = ts[ts["step"] >= ts["step"].max() - SUMMARY_WINDOW + 1]
    metrics = [c for c in COLUMNS if c not in ("step", "regime")]
    per_run = last.groupby(["arm", "replication"], sort=False)[metrics].mean()
    rows = []
    for arm, grp in per_run.groupby(level="arm", sort=False):
        for m in metrics:
            v = grp[m].dropna()
            n = len(v)
            mean = float(v.mean()) if n else float("nan")
            half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
            rows.append({"arm": arm, "metric": m, "mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n})
    return pd.DataFrame(rows)


def run_experiment(cfg: AppConfig | Any, base_overrides: list[str], folder: Path) -> ExperimentResult:
    """Run every arm x sweep point x replication into ``folder``, resuming what is there, then analyse.

    Each arm is composed once (``base_overrides`` plus the arm's own); sweep points are merged
    into it cheaply; replication r has the same seed in every arm and point. Runs already stored
    in ``folder`` are skipped; a run that raises is recorded under ``failed/`` and the sweep goes
    on. Writes the tables, figures and provenance listed in :mod:`sim.sweep.report`.

    Raises:
        ConfigError: the experiment or its sweep is malformed (naming the key); nothing has run.
        SweepError: another process is running a sweep in ``folder``.

    """
    start = time.perf_counter()
    if OmegaConf.select(cfg, "experiment.kind", default="simulation") == "lab":
        from sim.lab import run_lab_experiment  # the public-goods laboratory (validation)

        return run_lab_experiment(cfg, base_overrides, folder)
    from sim.sweep.engine import run_sweep
    from sim.sweep.plan import build_plan, experiment_of
    from sim.sweep.report import analyse, parse_analysis

    exp: ExperimentConfig = experiment_of(cfg)
    plan = build_plan(cfg, base_overrides)
    parse_analysis(exp.analysis, list(plan.arms), plan.spec)  # fail before running, not after
    text = OmegaConf.to_yaml(cfg) if not isinstance(cfg, SimConfig) else config_yaml(cfg)
    stats = run_sweep(plan, folder, exp, base_overrides, text)
    res = analyse(folder, plan, exp, stats)
    return ExperimentResult(
        Path(folder),
        res.timeseries,
        res.summary,
        res.figures,
        time.perf_counter() - start,
        stats=stats,
        warnings=res.warnings,
        files=res.files,
    )


__all__ = [
    "ExperimentResult",
    "RunResult",
    "arm_configs",
    "config_hash",
    "replication_seeds",
    "run",
    "run_experiment",
    "simulate",
]

"""Running simulations: one run (``sim.run``) and an experiment of arms x replications.

One run returns its time series and end-of-run summary and, by default, writes a
self-describing folder. An experiment composes each arm's config once, gives replication r
the same seed in every arm (common random numbers, spawned from one root SeedSequence so that
adding replications keeps the earlier ones), and runs the runs serially or on a process pool.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.config import AppConfig, ExperimentConfig, SimConfig, compose, to_sim_config
from sim.metrics import COLUMNS
from sim.provenance import config_hash, provenance, write_json

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
def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Seeds for replications 0..n-1, spawned from one root; a longer list extends a shorter one."""
    children = np.random.SeedSequence(root_seed).spawn(replications)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def arm_configs(base_overrides: list[str], experiment: ExperimentConfig) -> dict[str, SimConfig]:
    """Compose each arm once: the experiment's base overrides, then the arm's own."""
    return {arm: to_sim_config(compose([*base_overrides, *overrides])) for arm, overrides in experiment.arms.items()}


def _run_task(task: tuple[str, int, SimConfig]) -> pd.DataFrame:
    arm, rep, cfg = task
    ts = simulate(cfg)
    ts.insert(0, "seed", cfg.seed)
    ts.insert(0, "replication", rep)
    ts.insert(0, "arm", arm)
    return ts


def execute(tasks: list[tuple[str, int, SimConfig]], backend: str, workers: int) -> list[pd.DataFrame]:
    """Run tasks in order on the chosen backend; results come back in task order."""
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
    """Run every arm x replication, write tables, figures and provenance into ``folder``."""
    from sim.plots import plot_metrics_over_time

    start = time.perf_counter()
    if OmegaConf.select(cfg, "experiment.kind", default="simulation") == "lab":
        from sim.lab import run_lab_experiment  # the public-goods laboratory (validation)

        return run_lab_experiment(cfg, base_overrides, folder)
    exp: ExperimentConfig = (
        OmegaConf.to_object(cfg.experiment) if not isinstance(cfg.experiment, ExperimentConfig) else cfg.experiment
    )  # type: ignore[assignment]
    base = to_sim_config(cfg)
    seeds = replication_seeds(base.seed, exp.replications)
    arms = arm_configs(base_overrides, exp)
    tasks = [
        (arm, r, replace(acfg, seed=seeds[r], output=replace(acfg.output, save=False)))
        for arm, acfg in arms.items()
        for r in range(exp.replications)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    ts = pd.concat(execute(tasks, exp.backend, exp.workers), ignore_index=True)
    tmp = folder / "timeseries.parquet.tmp"
    ts.to_parquet(tmp, index=False)
    tmp.replace(folder / "timeseries.parquet")
    summary = summary_table(ts)
    summary.to_csv(folder / "summary.csv", index=False)
    text = OmegaConf.to_yaml(cfg) if not isinstance(cfg, SimConfig) else config_yaml(cfg)
    (folder / "config.yaml").write_text(text)
    write_json(
        folder / "provenance.json",
        {**provenance(base.seed, text), "replication_seeds": seeds, "arms": exp.arms, "base_overrides": base_overrides},
    )
    figures = plot_metrics_over_time(folder / "timeseries.parquet", list(exp.metrics_to_plot), folder)
    return ExperimentResult(folder, ts, summary, figures, time.perf_counter() - start)


__all__ = ["RunResult", "config_hash", "replication_seeds", "run", "run_experiment", "simulate"]

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

import json
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
from omegaconf import DictConfig, OmegaConf

from sim.config import AppConfig, ExperimentConfig, SimConfig, to_sim_config
from sim.metrics import COLUMNS, SUMMARY_WINDOW
from sim.provenance import config_hash, provenance
from sim.sweep.plan import arm_configs, replication_seeds  # experiments are sweeps; names kept here


@dataclass
class RunResult:
    """The outcome of one simulation.

    Attributes:
        timeseries: one row per month, the columns of ``sim.metrics.COLUMNS``.
        summary: end-of-run figures (each metric averaged over the final 12 months) and run facts.
        config: the configuration that ran.
        path: the run folder, if one was written.
        details: the run's detail tables (``sim.details``): indicator histogram, services, communities.

    """

    timeseries: pd.DataFrame
    summary: dict[str, Any]
    config: SimConfig
    path: Path | None = None
    details: dict[str, pd.DataFrame] = field(default_factory=dict)


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
    return simulate_with_details(cfg)[0]


def simulate_with_details(cfg: SimConfig) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Run one simulation and return its time series and detail tables (no files)."""
    from sim.model import SocialProductivityModel

    model = SocialProductivityModel(cfg)
    model.run()
    return model.timeseries(), model.detail_tables()


def run_folder_name(cfg: SimConfig) -> str:
    """A unique, readable folder name for one run."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    return f"{stamp}-{cfg.regime.name}-seed{cfg.seed}"


class RunWriteError(OSError):
    """A run folder could not be written (no permission, not a folder, disk full); nothing partial is left."""

    def __str__(self) -> str:
        return str(self.strerror)


RUN_FILES = ("timeseries.parquet", "summary.json", "config.yaml", "seed.txt", "provenance.json")


def write_run(
    folder: Path,
    ts: pd.DataFrame,
    summary: dict[str, Any],
    cfg: SimConfig,
    details: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Write a self-describing run folder: tables, detail tables, resolved config, seed and provenance.

    Detail tables go to ``details/<name>.parquet``. Every file is written under a temporary name
    (``*.tmp``) and renamed only once all of them are written, provenance.json last; if any write
    fails (e.g. a full disk) the files of this call are removed and :class:`RunWriteError` names
    the folder and the cause, so no partial file can be taken for a complete one.
    """
    folder = Path(folder)
    text = config_yaml(cfg)
    detail_files = {f"details/{name}.parquet": table for name, table in (details or {}).items()}
    tmps = {name: folder / f"{name}.tmp" for name in (*detail_files, *RUN_FILES)}
    renamed: list[Path] = []
    made: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if detail_files:
            (folder / "details").mkdir(exist_ok=True)
            made.append(folder / "details")
        for name, table in detail_files.items():
            table.to_parquet(tmps[name], index=False)
        ts.to_parquet(tmps["timeseries.parquet"], index=False)
        tmps["summary.json"].write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
        tmps["config.yaml"].write_text(text)
        tmps["seed.txt"].write_text(f"{cfg.seed}\n")
        prov = json.dumps(provenance(cfg.seed, text), indent=2, sort_keys=True, default=str) + "\n"
        tmps["provenance.json"].write_text(prov)
        for name, tmp in tmps.items():
            os.replace(tmp, folder / name)
            renamed.append(folder / name)
    except OSError as exc:
        for path in [*tmps.values(), *renamed]:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        for path in made:
            try:
                path.rmdir()  # only if empty: never another run's files
            except OSError:
                pass
        reason = exc.strerror or str(exc)
        raise RunWriteError(exc.errno or 0, f"cannot write run folder {folder}: {reason}") from exc


@dataclass
class RerunReport:
    """The outcome of :func:`rerun`: whether the new tables equal the saved ones, and why not."""

    identical: bool
    difference: str
    warnings: list[str]
    rows: int


class RunFolderError(ValueError):
    """A saved run folder is damaged: a file cannot be read. The message names the file and what is wrong."""


def load_run_config(folder: str | Path) -> SimConfig:
    """The exact configuration of a saved run folder (its resolved ``config.yaml``), validated.

    Raises:
        RunFolderError: ``config.yaml`` is not valid YAML or does not hold a run's config.
        ConfigError: the saved config no longer validates (naming the key).

    """
    import yaml
    from omegaconf.errors import OmegaConfBaseException

    from sim.config import ConfigError, compose_error_message

    path = Path(folder) / "config.yaml"
    try:
        saved = OmegaConf.load(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RunFolderError(
            f"{path} is damaged: not valid YAML{where}; it must be the config.yaml written with the run"
        ) from None
    except UnicodeDecodeError:
        raise RunFolderError(
            f"{path} is damaged: not a text file; it must be the config.yaml written with the run"
        ) from None
    if not isinstance(saved, DictConfig):
        raise RunFolderError(f"{path} is damaged: it holds no mapping of config keys; it must be the run's config.yaml")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(SimConfig), saved)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{path}: {compose_error_message(exc)}") from None
    return to_sim_config(merged)


def read_saved_table(path: Path) -> pd.DataFrame:
    """A saved Parquet table, or :class:`RunFolderError` naming the file if it is truncated or not Parquet."""
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        size = path.stat().st_size if path.exists() else 0
        raise RunFolderError(
            f"{path} is damaged: not a readable Parquet file ({size} bytes; truncated or overwritten?); "
            "rerun the original command to write it again"
        ) from exc


def first_difference(saved: pd.DataFrame, new: pd.DataFrame) -> str:
    """The first column/row where two tables differ (NaN equals NaN), or '' if they are identical."""
    if list(saved.columns) != list(new.columns):
        return f"columns differ: saved {list(saved.columns)}, new {list(new.columns)}"
    if len(saved) != len(new):
        return f"row counts differ: saved {len(saved)}, new {len(new)}"
    for col in saved.columns:
        a, b = saved[col].to_numpy(), new[col].to_numpy()
        if a.dtype.kind in "fc" and b.dtype.kind in "fc":
            same = (a == b) | (np.isnan(a) & np.isnan(b))
        else:
            same = np.asarray([x == y for x, y in zip(a, b, strict=True)], dtype=bool)
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            return f"column {col!r}, row {i}: saved {a[i]!r}, new {b[i]!r}"
        if str(saved[col].dtype) != str(new[col].dtype):
            return f"column {col!r}: dtype saved {saved[col].dtype}, new {new[col].dtype}"
    return ""


def provenance_warnings(saved: dict[str, Any], seed: int) -> list[str]:
    """Differences between a saved provenance and the current package, dependencies, revision and Python."""
    now = provenance(seed, "")
    out = []
    for key in ("package_version", "git_revision", "python"):
        if saved.get(key) != now[key]:
            out.append(f"{key} differs: saved {saved.get(key)}, now {now[key]}")
    old, cur = saved.get("dependencies") or {}, now["dependencies"]
    for name in sorted(set(old) | set(cur)):
        if old.get(name) != cur.get(name):
            out.append(f"{name} version differs: saved {old.get(name)}, now {cur.get(name)}")
    return out


def rerun(folder: str | Path) -> RerunReport:
    """Rerun a saved run folder from its own config and seed and compare the new time series with the saved one.

    Raises:
        FileNotFoundError: the folder lacks config.yaml or timeseries.parquet.
        RunFolderError: config.yaml or timeseries.parquet is damaged (naming the file).
        ConfigError: the saved config no longer validates (naming the key).

    """
    import tempfile

    folder = Path(folder)
    for name in ("config.yaml", "timeseries.parquet"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder} is not a complete run folder: {name} is missing")
    cfg = load_run_config(folder)
    warnings: list[str] = []
    seed_file = folder / "seed.txt"
    if seed_file.is_file() and seed_file.read_text().strip() != str(cfg.seed):
        warnings.append(f"seed.txt says {seed_file.read_text().strip()}, config.yaml says seed={cfg.seed}")
    prov_file = folder / "provenance.json"
    if prov_file.is_file():
        try:
            prov = json.loads(prov_file.read_text())
        except (ValueError, UnicodeDecodeError):
            prov = None
        if isinstance(prov, dict):
            warnings += provenance_warnings(prov, cfg.seed)
        else:
            warnings.append("provenance.json is damaged (not a JSON object): versions cannot be compared")
    else:
        warnings.append("provenance.json is missing: versions cannot be compared")
    saved = read_saved_table(folder / "timeseries.parquet")
    # The same round trip the saved table went through: to a Parquet file and back. A file on disk,
    # not an in-memory Python file: pyarrow keeps the Python file object of a table it read and may
    # let go of it on one of its own threads while the interpreter shuts down, which then aborts
    # the process ("terminate called without an active exception", about one rerun in twenty).
    with tempfile.TemporaryDirectory(prefix="sim-rerun-") as tmp:
        path = Path(tmp) / "timeseries.parquet"
        simulate(cfg).to_parquet(path, index=False)
        new = read_saved_table(path)
    diff = first_difference(saved, new)
    return RerunReport(not diff, diff, warnings, len(new))


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
    ts, details = simulate_with_details(cfg)
    summary = summarise(ts, cfg)
    path: Path | None = None
    if cfg.output.save:
        path = Path(folder) if folder is not None else Path(cfg.output.dir) / "runs" / run_folder_name(cfg)
        write_run(path, ts, summary, cfg, details)
    return RunResult(ts, summary, cfg, path, details)


# ---------------------------------------------------------------------- experiments
def _run_task(task: tuple[str, int, SimConfig]) -> pd.DataFrame:
    arm, rep, cfg = task
    ts = simulate(cfg)
    ts.insert(0, "seed", cfg.seed)
    ts.insert(0, "replication", rep)
    ts.insert(0, "arm", arm)
    return ts


def warm_threads(tasks: list[tuple[str, int, SimConfig]]) -> int:
    """The most threads any task's kernels run on, so that warming up readies every kernel they call.

    ``kernel_threads=0`` means every thread, so it is counted as that many, not as 0.
    """
    from sim import kernels

    return max(kernels.thread_count(cfg.kernel_threads) for _, _, cfg in tasks)


def execute(tasks: list[tuple[str, int, SimConfig]], backend: str, workers: int) -> list[pd.DataFrame]:
    """Run (arm, replication, config) tasks in memory, in order (no store; see :mod:`sim.sweep` for sweeps)."""
    if backend == "serial" or len(tasks) <= 1:
        return [_run_task(t) for t in tasks]
    n = workers or os.cpu_count() or 1
    if any(cfg.driver == "fused" for _, _, cfg in tasks):  # compile once here; the workers load the cache
        from sim.model import warm_fused_kernels

        warm_fused_kernels(warm_threads(tasks))
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
    options = parse_analysis(exp.analysis, list(plan.arms), plan.spec)  # fail before running, not after
    text = OmegaConf.to_yaml(cfg) if not isinstance(cfg, SimConfig) else config_yaml(cfg)
    stats = run_sweep(plan, folder, exp, base_overrides, text)
    if not options.enabled:  # runs only; `python -m sim analyse FOLDER` (sim.api.analyse_folder) later
        empty = pd.DataFrame()
        note = f"analysis off (experiment.analysis.enabled=false); run it later: python -m sim analyse {folder}"
        return ExperimentResult(
            Path(folder), empty, empty, [], time.perf_counter() - start, stats=stats, warnings=[note]
        )
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
    "RerunReport",
    "RunFolderError",
    "RunResult",
    "RunWriteError",
    "arm_configs",
    "config_hash",
    "replication_seeds",
    "rerun",
    "run",
    "run_experiment",
    "simulate",
    "simulate_with_details",
]

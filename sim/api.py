"""The Python API for experiments: run or resume one and get its tables, read one back, analyse again.

In the spirit of EMA Workbench's ``perform_experiments``::

    import sim
    res = sim.experiment("main", overrides=["experiment.replications=3"])
    res.summary        # per arm (and point) and metric: mean and 95 % interval across replications
    res.differences    # paired differences between arms on common seeds (per point for a sweep)
    again = sim.read_sweep(res.folder)   # the same tables, read back from the folder

An experiment is named (a packaged one, or one on the search path), given as a YAML file, or given
as a mapping holding what such a file holds. The folder is the one ``python -m sim`` would use for
the same experiment and overrides, so the command line and the API resume each other's sweeps.
See docs/api.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

# The tables a sweep folder may hold, by attribute name (docs/sweeps.md lists what each holds).
TABLES = {
    "summary": "summary.csv",
    "differences": "differences.csv",
    "pooled_differences": "differences_pooled.csv",
    "run_summary": "run_summary.parquet",
    "bands": "bands.csv",
    "sufficiency": "sufficiency.csv",
    "factor_effects": "factor_effects.csv",
    "scenario_rules": "scenario_rules.csv",
}


@dataclass
class SweepResult:
    """An experiment's folder and its tables as pandas DataFrames (None where the folder has no such table).

    Attributes:
        folder: the sweep folder.
        name: the experiment's name.
        timeseries: one row per run and month: arm, point, replication, seed, swept parameters, metrics.
        summary: per arm (and point) and metric: mean, 95 % interval and n across replications.
        differences: paired differences a - b on common seeds; one row per pair, point and metric
            when the design has several points (with the point's parameter values).
        pooled_differences: for sampled designs (LHS, Sobol', Morris) and large grids, the same
            pooled over the points (column ``pooled_over_points``).
        run_summary: one row per run, each metric averaged over the last months.
        sensitivity: Sobol' or Morris indices per arm, output and parameter.
        manifest: the planned runs (key, arm, point, replication, seed, parameters).
        stats: what this session did (runs planned, already done, run, failed), if it ran.
        files: the files the analysis wrote.
        warnings: the analysis' warnings.

    """

    folder: Path
    name: str
    timeseries: pd.DataFrame
    summary: pd.DataFrame | None = None
    differences: pd.DataFrame | None = None
    pooled_differences: pd.DataFrame | None = None
    run_summary: pd.DataFrame | None = None
    bands: pd.DataFrame | None = None
    sufficiency: pd.DataFrame | None = None
    factor_effects: pd.DataFrame | None = None
    scenario_rules: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    manifest: pd.DataFrame | None = None
    stats: Any = None
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table the folder holds, by name."""
        names = ["timeseries", *TABLES, "sensitivity", "manifest"]
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def read_sweep(folder: str | Path) -> SweepResult:
    """Read a sweep folder back: its runs (even while it runs, or unfinished) and whatever analysis it holds.

    Args:
        folder: a sweep folder, e.g. ``outputs/main/latest``.

    Raises:
        FileNotFoundError: the folder holds no sweep (no ``manifest.parquet``).

    """
    from sim.sweep.store import MANIFEST, Store
    from sim.sweep.store import read_sweep as read_runs

    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise FileNotFoundError(f"{folder} is not a sweep folder (no {MANIFEST}); allowed: outputs/NAME/sweep-ID")
    plan = _read_json(folder / "plan.json")
    out = SweepResult(folder=folder, name=str(plan.get("experiment", folder.parent.name)), timeseries=read_runs(folder))
    out.manifest = Store(folder).manifest()
    for attr, name in TABLES.items():
        path = folder / name
        if path.is_file():
            setattr(out, attr, pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path))
    sens = sorted(folder.glob("sensitivity_sobol.csv")) + sorted(folder.glob("sensitivity_morris.csv"))
    if sens:
        out.sensitivity = pd.read_csv(sens[0])
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _experiment_override(spec_or_name: str | os.PathLike[str] | Mapping[str, Any]) -> str:
    """The ``experiment=...`` override of a name, a file or a mapping (registered under its name)."""
    from omegaconf import OmegaConf

    from sim.config import ConfigError, register_experiment_node

    if isinstance(spec_or_name, Mapping):
        node = OmegaConf.create(dict(spec_or_name))
        name = OmegaConf.select(node, "experiment.name", default=None)
        if not name:
            raise ConfigError("an experiment given as a mapping needs experiment.name (its folder's name)")
        return f"experiment={register_experiment_node(str(name), node, origin='a mapping given to sim.experiment')}"
    return f"experiment={os.fspath(spec_or_name)}"


def experiment(
    spec_or_name: str | os.PathLike[str] | Mapping[str, Any] = "main",
    overrides: Sequence[str] = (),
    *,
    folder: str | Path | None = None,
) -> SweepResult:
    """Run an experiment, or resume it where it stopped, and return its tables.

    Args:
        spec_or_name: a packaged experiment's name (``"sensitivity"``), one on the search path
            (with ``hydra.searchpath=[file://DIR]`` among the overrides), a YAML file
            (``"./mine.yaml"``), or a mapping with what such a file holds (``{"steps": 60,
            "experiment": {"name": "mine", "arms": {...}, "sweep": {...}}}``).
        overrides: Hydra overrides as on the command line (``experiment.replications=3``,
            ``experiment.arms={a: [regime=targets]}``, ``~experiment.arms.none`` ...).
        folder: the sweep folder; by default ``output.dir/NAME/sweep-ID``, the command line's.

    Returns:
        The folder's tables (:class:`SweepResult`), with ``stats`` saying what this call ran.

    Raises:
        ConfigError: a bad experiment or override (naming the key); nothing has run.
        SweepError: another process is running this sweep, or the folder is another experiment's.

    """
    from sim.config import compose_checked
    from sim.runner import run_experiment
    from sim.sweep.plan import default_folder, experiment_of, sweep_id
    from sim.sweep.store import check_folder

    all_overrides = [_experiment_override(spec_or_name), *overrides]
    if folder is not None:
        all_overrides.append(f"experiment.folder={Path(folder).absolute()}")
    cfg = compose_checked(all_overrides, record=True)
    exp = experiment_of(cfg)
    target = default_folder(cfg)
    check_folder(target, str(exp.name), sweep_id(cfg))
    result = run_experiment(cfg, all_overrides, target)
    out = (
        read_sweep(target)
        if (target / "manifest.parquet").is_file()
        else SweepResult(target, exp.name, result.timeseries)
    )
    out.stats = result.stats
    out.files = list(result.files)
    out.warnings = list(result.warnings)
    return out


def plan_of_folder(folder: str | Path) -> tuple[Any, Any]:
    """The plan and experiment block of a saved sweep, from its own files (no config folder needed).

    Returns:
        (:class:`sim.sweep.plan.Plan`, :class:`sim.config.ExperimentConfig`).

    Raises:
        FileNotFoundError: the folder lacks plan.json, config.yaml or an arm's config.

    """
    from omegaconf import DictConfig, OmegaConf

    from sim.config import ExperimentConfig, to_sim_config
    from sim.sweep.plan import Plan
    from sim.sweep.spec import parse_sweep
    from sim.sweep.store import IDENTITY, Store

    folder = Path(folder)
    for name in ("plan.json", "config.yaml", "manifest.parquet"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder} is not a sweep folder (no {name})")
    saved = json.loads((folder / "plan.json").read_text())
    cfg = OmegaConf.load(folder / "config.yaml")
    block = OmegaConf.to_container(cfg.experiment, resolve=True) if "experiment" in cfg else {}
    exp = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ExperimentConfig), block))
    assert isinstance(exp, ExperimentConfig)
    spec = parse_sweep(saved.get("sweep") or {})
    arms = {}
    for a in saved["arms"]:
        arm_cfg = OmegaConf.load(folder / "arms" / f"{a}.yaml")
        assert isinstance(arm_cfg, DictConfig)  # written by the sweep from a SimConfig
        arms[a] = to_sim_config(arm_cfg)
    plan = Plan(
        name=str(saved["experiment"]),
        arms=arms,
        arm_overrides={a: list(o) for a, o in saved["arms"].items()},
        spec=spec,
        points=spec.points(),
        seeds=list(saved["replication_seeds"]),
        manifest=Store(folder).manifest(),
        root_seed=int(saved["root_seed"]),
        fingerprint=str(saved.get("code_fingerprint", "")),
        sweep_id=str(_read_json(folder / IDENTITY).get("sweep_id", "")),
    )
    return plan, exp


def analyse_folder(folder: str | Path) -> Any:
    """Redo a sweep's analysis, tables, figures and report from its saved runs; run no simulation.

    Used by ``python -m sim analyse FOLDER``, e.g. after a sweep run with
    ``experiment.analysis.enabled=false``.

    Returns:
        The :class:`sim.sweep.report.AnalysisResult`.

    """
    from dataclasses import replace

    from sim.sweep.report import analyse

    plan, exp = plan_of_folder(folder)
    options = {k: v for k, v in dict(exp.analysis or {}).items() if k != "enabled"}  # asked for: so on
    return analyse(Path(folder), plan, replace(exp, analysis=options))

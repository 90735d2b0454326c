"""Expanding an experiment into runs: arms x sweep points x replications, each with its key.

Each arm is composed once with Hydra (50-130 ms each); every sweep point is then applied to the
composed config with cheap dataclass replaces and validated with :func:`sim.config.validate`.
Replication r gets the same seed in every arm and at every point (common random numbers),
spawned from the experiment's root seed, so adding replications later keeps the earlier ones.

A run's key is a hash of its resolved config (as YAML, identical to :func:`sim.runner.config_yaml`;
the seed is part of the config; ``kernel_threads`` read as 1, since threads give the same bits), so
the key of a finished run does not depend on which arm, point or sweep asked for it, and resuming
never runs anything twice.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf

from sim.config import ConfigError, ExperimentConfig, OutputConfig, SimConfig, to_sim_config, validate
from sim.sweep.spec import SweepSpec, apply_point, check_arms, parse_sweep
from sim.sweep.worker import RunTask

# Options of the experiment block that say how to run, not what: changing them keeps the folder.
EXECUTION_KEYS = (
    "replications",
    "backend",
    "workers",
    "dask",
    "folder",
    "chunk_steps",
    "retry_failed",
    "progress",
    "metrics_to_plot",
    "question",
    "analysis",
)
# What a run executes: these modules and every sim module they import (see model_sources).
MODEL_ROOTS = ("sim.model", "sim.config")

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Seeds for replications 0..n-1, spawned from one root; a longer list extends a shorter one."""
    children = np.random.SeedSequence(root_seed).spawn(replications)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def fast_yaml(cfg: SimConfig) -> str:
    """The resolved config as YAML, as :func:`sim.runner.config_yaml` writes it, ~30x faster."""
    return yaml.dump(dataclasses.asdict(cfg), Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _with_seed(text: str, seed: int) -> str:
    head, _, rest = text.partition("\n")
    if not head.startswith("seed: "):  # pragma: no cover - SimConfig declares seed first
        raise AssertionError("the config YAML must start with its seed")
    return f"seed: {seed}\n{rest}"


def key_yaml(cfg: SimConfig) -> str:
    """The text a run's key hashes: its resolved config as YAML (:func:`fast_yaml`), ``kernel_threads`` as 1.

    The fused kernels give the same bits on any number of threads (``tests/test_fused.py``), so
    the threads are how a run is run, as the backend and the workers are: a sweep resumed with
    other threads (a laptop's sweep finished on a cluster node) finds the runs it has.
    """
    return fast_yaml(cfg if cfg.kernel_threads == 1 else replace(cfg, kernel_threads=1))


def run_key(config_yaml: str) -> str:
    """A run's key: the first 16 hex digits of the SHA-256 of its resolved config YAML.

    Its first 12 digits are :func:`sim.provenance.config_hash` of the same text.
    """
    return hashlib.sha256(config_yaml.encode()).hexdigest()[:16]


def normalise(cfg: SimConfig) -> SimConfig:
    """The config a sweep runs: where run folders would go plays no part in a run's result or key."""
    return replace(cfg, output=OutputConfig(save=False))


# The ``sim`` modules each source file imports, by (module, SHA-256 of its bytes): reading the
# import statements needs a parse, the bytes only a read, so within a process a file is parsed
# again only when its bytes change (an experiment takes the fingerprint several times).
_IMPORTS: dict[tuple[str, str], list[str]] = {}


def _package_root() -> Path:
    return Path(__file__).resolve().parent.parent  # the sim package


def _sim_imports(source: bytes, path: Path, package: str) -> list[str]:
    """The ``sim.*`` names a module's import statements mention (anywhere in the file)."""
    out: list[str] = []
    for node in ast.walk(ast.parse(source, str(path))):
        found: list[str] = []
        if isinstance(node, ast.Import):
            found = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found = [base, *(f"{base}.{a.name}" for a in node.names)]
        out += [n for n in found if n.startswith("sim.")]
    return out


def _model_files(root: Path) -> list[tuple[Path, bytes]]:
    """:func:`model_sources` with each file's bytes (read once, hashed to look up its imports)."""

    def path_of(name: str) -> Path | None:
        parts = name.split(".")[1:]
        if not parts:
            return None  # sim/__init__.py only re-exports the public API
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    seen: dict[str, tuple[Path, bytes]] = {}
    todo = list(MODEL_ROOTS)
    while todo:
        name = todo.pop()
        path = path_of(name)
        if name in seen or path is None:
            continue
        source = path.read_bytes()
        seen[name] = (path, source)
        parents = name.split(".")
        todo += [".".join(parents[:i]) for i in range(2, len(parents))]  # packages run their __init__
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        key = (name, hashlib.sha256(source).hexdigest())
        if key not in _IMPORTS:
            _IMPORTS[key] = _sim_imports(source, path, package)
        todo += _IMPORTS[key]
    return sorted(seen.values())


def model_sources(root: Path | None = None) -> list[Path]:
    """The source files a run executes: ``sim.model`` and every ``sim`` module it imports, transitively.

    Found by reading the import statements (anywhere in each file, so imports inside functions
    count too); a new module the model imports is covered automatically, while code that does
    not change results (the sweep machinery, the command line, the app, plots) is not.

    Args:
        root: the ``sim`` package folder (this package by default).

    """
    return [path for path, _ in _model_files(root or _package_root())]


@cache
def _library_versions() -> tuple[str, ...]:
    # The libraries loaded in this process: their versions cannot change under it.
    out = []
    for dist in ("numpy", "mesa"):
        try:
            out.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:  # pragma: no cover
            pass
    return tuple(out)


def code_fingerprint(root: Path | None = None) -> str:
    """A hash of the model's source (:func:`model_sources`) and of the numerical libraries' versions.

    Part of the default sweep folder's name, so that results of changed model code are never
    mixed with earlier ones on resume. The files' bytes are read and hashed on every call (about
    a millisecond), so any edit changes it; only the parse that finds the imports is cached, by
    each file's content hash.

    Args:
        root: the ``sim`` package folder (this package by default).

    """
    root = root or _package_root()
    h = hashlib.sha256()
    for path, source in _model_files(root):
        h.update(str(path.relative_to(root)).encode())
        h.update(source)
    for version in _library_versions():
        h.update(version.encode())
    return h.hexdigest()[:12]


def experiment_of(cfg: Any) -> ExperimentConfig:
    """The experiment block as a typed object, its bounds and choices checked.

    Raises:
        ConfigError: naming the key (e.g. ``experiment.backend``).

    """
    from sim.config import validate_experiment  # bounds, safe names, arms, metrics, dask address

    exp = cfg.experiment
    obj = exp if isinstance(exp, ExperimentConfig) else OmegaConf.to_object(exp)
    assert isinstance(obj, ExperimentConfig)
    validate_experiment(obj)
    return obj


def sweep_id(cfg: DictConfig) -> str:
    """A short id of what a sweep computes: the resolved config and arms, less how it is run, plus the code.

    The same experiment with the same code gives the same id, so the same command resumes in the
    same folder; changing the replications (or the backend) keeps it.
    """
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    data.pop("output", None)
    data.pop("hydra", None)
    if "kernel_threads" in data:  # the same bits on any number of threads (key_yaml); 1 keeps the ids made before
        data["kernel_threads"] = 1
    exp = data.get("experiment", {})
    for k in EXECUTION_KEYS:
        exp.pop(k, None)
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=True) + code_fingerprint()
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def default_folder(cfg: DictConfig) -> Path:
    """Where a sweep goes unless ``experiment.folder`` says otherwise."""
    folder = OmegaConf.select(cfg, "experiment.folder", default="") or ""
    if folder:
        return Path(folder)
    return Path(cfg.output.dir) / str(cfg.experiment.name) / f"sweep-{sweep_id(cfg)}"


@dataclass
class Plan:
    """Every run of an experiment, with its key, and how to build each run's config.

    Attributes:
        name: the experiment's name.
        arms: each arm's composed (normalised) config at the root seed.
        arm_overrides: each arm's Hydra overrides.
        spec: the validated sweep.
        points: one row per sweep point (parameters as columns).
        seeds: the replication seeds.
        manifest: one row per planned run: key, arm, point, replication, seed, parameters.
        root_seed: the experiment's seed, which the replication seeds are spawned from.
        fingerprint: the model code's fingerprint.
        sweep_id: :func:`sweep_id` of the experiment's config ("" if it was not a Hydra config):
            recorded in the folder's ``sweep.json``, so that no other sweep runs into the folder.

    """

    name: str
    arms: dict[str, SimConfig]
    arm_overrides: dict[str, list[str]]
    spec: SweepSpec
    points: pd.DataFrame
    seeds: list[int]
    manifest: pd.DataFrame
    root_seed: int
    fingerprint: str
    sweep_id: str = ""
    _point_records: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def parameters(self) -> list[str]:
        """The swept parameters' names (columns of the manifest and of the tables)."""
        return list(self.points.columns)

    def config(self, arm: str, point: int, seed: int) -> SimConfig:
        """One run's config: the arm, the point's values, the seed."""
        if not self._point_records:
            self._point_records = self.points.to_dict("records")
        return replace(apply_point(self.arms[arm], self._point_records[point]), seed=seed)

    def describe(self) -> str:
        """E.g. '640 runs: 2 arms x 320 points (sobol) x 1 replication'."""
        a, p, r = len(self.arms), len(self.points), len(self.seeds)
        design = f" ({self.spec.design})" if self.spec.design != "none" else ""
        parts = [f"{a} arm{'s' * (a != 1)}"]
        if self.spec.design != "none":
            parts.append(f"{p} point{'s' * (p != 1)}{design}")
        parts.append(f"{r} replication{'s' * (r != 1)}")
        distinct = self.manifest["key"].nunique()
        extra = f", {distinct} distinct" if distinct != len(self.manifest) else ""
        return f"{len(self.manifest)} runs{extra}: {' x '.join(parts)}"

    def execution_order(self) -> Iterator[pd.Series]:
        """Distinct runs, replication by replication: an interrupted sweep holds whole replications."""
        m = self.manifest.assign(_arm=self.manifest["arm"].map({a: i for i, a in enumerate(self.arms)}))
        m = m.sort_values(["replication", "point", "_arm"], kind="stable").drop_duplicates("key")
        for _, row in m.iterrows():
            yield row

    def task(self, row: Mapping[str, Any], folder: str | None, chunk_steps: int, fsync: bool = True) -> RunTask:
        """The worker task of one manifest row."""
        cfg = self.config(str(row["arm"]), int(row["point"]), int(row["seed"]))
        labels = {c: _py(row[c]) for c in self.manifest.columns if c != "key"}
        return RunTask(
            key=str(row["key"]),
            labels=labels,
            config=cfg,
            folder=folder,
            chunk_steps=chunk_steps,
            config_yaml=fast_yaml(cfg),
            fsync=fsync,
        )


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def arm_configs(base_overrides: list[str], experiment: ExperimentConfig) -> dict[str, SimConfig]:
    """Compose each arm once: the experiment's base overrides, then the arm's own."""
    from sim.config import compose_checked

    out = {}
    for arm, overrides in experiment.arms.items():
        try:
            out[arm] = to_sim_config(compose_checked([*base_overrides, *overrides]))
        except ConfigError as exc:  # name the arm whose overrides are wrong
            raise ConfigError(f"experiment.arms.{arm}: {exc}") from None
    return out


def _override_key(override: str) -> str:
    return override.partition("=")[0].lstrip("+~")


def check_effective(base_overrides: Sequence[str], experiment: ExperimentConfig, swept: Sequence[str]) -> None:
    """Refuse a command-line override that every arm, or the sweep, sets again (it would change nothing).

    Raises:
        ConfigError: naming the override and what sets it instead.

    """
    for o in base_overrides:
        key = _override_key(o)
        if "=" not in o or o.startswith("~") or key.startswith(("experiment", "hydra")):
            continue
        if key in swept:
            raise ConfigError(
                f"{o!r} has no effect: experiment.sweep varies {key}; allowed: change its range "
                f"(experiment.sweep.parameters.{key}=[lo,hi]) or drop the sweep (~experiment.sweep)"
            )
        arms = experiment.arms
        if arms and all(key in {_override_key(x) for x in arm} for arm in arms.values()):
            sets = ", ".join(f"{a}: {next(x for x in arm if _override_key(x) == key)}" for a, arm in arms.items())
            raise ConfigError(
                f"{o!r} has no effect: every arm sets {key} ({sets}); allowed: change the arms, "
                "e.g. 'experiment.arms={a: [\"" + o + "\"]}', or drop some with ~experiment.arms.NAME"
            )


def _point_text(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_py(v)!r}" for k, v in point.items() if not (isinstance(v, float) and math.isnan(v)))


def build_plan(cfg: Any, base_overrides: list[str]) -> Plan:
    """Validate the experiment and expand it into its planned runs.

    Args:
        cfg: the composed config (DictConfig or AppConfig) with its ``experiment`` block.
        base_overrides: the overrides that composed it; each arm is composed from these plus its own.

    Raises:
        ConfigError: naming the key, for a malformed sweep, an arm clash, or a point whose config
            is invalid; nothing has run.

    """
    exp = experiment_of(cfg)
    if not exp.arms:
        raise ConfigError("experiment.arms is empty; an experiment needs at least one arm")
    spec = parse_sweep(exp.sweep)
    check_arms(spec, exp.arms)
    check_effective(base_overrides, exp, spec.names)
    base = to_sim_config(cfg)
    seeds = replication_seeds(base.seed, exp.replications)
    arms = {a: normalise(c) for a, c in arm_configs(base_overrides, exp).items()}
    points = spec.points()
    records = points.to_dict("records")
    keys, arm_col, point_col, rep_col, seed_col = [], [], [], [], []
    first_seen: dict[str, tuple[str, int]] = {}
    repeats_allowed = spec.design in ("sobol", "morris")
    for arm, acfg in arms.items():
        for p, point in enumerate(records):
            cfg_ap = apply_point(acfg, point)
            try:
                validate(cfg_ap)
            except ConfigError as exc:
                where = f"arm {arm!r}" + (f", point {p} ({_point_text(point)})" if spec.design != "none" else "")
                raise ConfigError(f"experiment.sweep: {where}: {exc}") from None
            text = key_yaml(cfg_ap)
            probe = run_key(text)
            if probe in first_seen and not repeats_allowed:
                other_arm, other_p = first_seen[probe]
                if other_arm != arm:
                    raise ConfigError(
                        f"experiment.arms: arms {other_arm!r} and {arm!r} give the same config; "
                        "an arm must differ from the others"
                    )
                raise ConfigError(f"experiment.sweep: points {other_p} and {p} are the same; each point must differ")
            first_seen.setdefault(probe, (arm, p))
            for r, s in enumerate(seeds):
                keys.append(run_key(_with_seed(text, s)))
                arm_col.append(arm)
                point_col.append(p)
                rep_col.append(r)
                seed_col.append(s)
    manifest = pd.DataFrame(
        {
            "key": keys,
            "arm": arm_col,
            "point": np.asarray(point_col, dtype=np.int64),
            "replication": np.asarray(rep_col, dtype=np.int64),
            "seed": np.asarray(seed_col, dtype=np.int64),
        }
    )
    if len(points.columns):
        manifest = manifest.join(points, on="point")
    return Plan(
        name=exp.name,
        arms=arms,
        arm_overrides={a: list(o) for a, o in exp.arms.items()},
        spec=spec,
        points=points,
        seeds=seeds,
        manifest=manifest,
        root_seed=base.seed,
        fingerprint=code_fingerprint(),
        sweep_id=sweep_id(cfg) if OmegaConf.is_config(cfg) else "",
        _point_records=records,
    )

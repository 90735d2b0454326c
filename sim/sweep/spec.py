"""Sweep specifications: which parameters vary within each arm, and over which values.

An experiment's ``experiment.sweep`` block names a *design* and the parameters it varies, by
their dotted config path (``regime.audit_rate``), nested or flat::

    sweep:
      design: sobol          # grid | list | lhs | sobol | morris
      samples: 64            # lhs: points; sobol: base samples N (a power of 2)
      parameters:
        regime:
          audit_rate: [0, 0.5]      # a range [lo, hi] for lhs / sobol / morris
        citizens.cc_slope: [0.5, 1.0]

A grid takes a list of values per parameter (or ``{lo, hi, num}``); a list design takes
``points:``, a list of mappings. Every parameter must exist, be a number, a flag or a choice
(never a whole section or a list), and every value or range must lie within the bounds declared
with :func:`sim.config.param`: a malformed spec raises :class:`~sim.config.ConfigError` naming
the key before anything runs.

The design expands to a table of *points* (one row per point, one column per parameter). Each
point is applied to an arm's composed config with :func:`apply_point`: a few
``dataclasses.replace`` calls, microseconds, instead of a Hydra composition per run.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, SimConfig

DESIGNS: tuple[str, ...] = ("none", "grid", "list", "lhs", "sobol", "morris")
SAMPLED: tuple[str, ...] = ("lhs", "sobol", "morris")
KEYS: dict[str, tuple[str, ...]] = {
    "none": ("design",),
    "grid": ("design", "parameters"),
    "list": ("design", "points"),
    "lhs": ("design", "parameters", "samples", "seed"),
    "sobol": ("design", "parameters", "samples", "second_order", "seed"),
    "morris": ("design", "parameters", "trajectories", "levels", "seed"),
}
RANGE_KEYS = frozenset({"lo", "hi", "num"})


@dataclass(frozen=True)
class ParamInfo:
    """What the config schema says about one sweepable parameter."""

    path: str
    kind: str  # "float", "int", "bool" or "str"
    lo: float | None
    hi: float | None
    choices: tuple[str, ...] | None
    help: str


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: its values (grid) or its range (sampled designs)."""

    info: ParamInfo
    values: tuple[Any, ...] = ()
    lo: float = math.nan
    hi: float = math.nan

    @property
    def path(self) -> str:
        """The dotted config path, e.g. ``regime.audit_rate``."""
        return self.info.path


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: the design and its parameters.

    Attributes:
        design: ``none`` (one point: the arm as composed), ``grid``, ``list``, ``lhs``, ``sobol`` or ``morris``.
        parameters: the varied parameters, in the order given.
        points_list: the explicit points of a ``list`` design.
        samples: points of an LHS, base samples N of a Sobol design.
        second_order: Sobol: also estimate second-order indices (N(2D+2) points instead of N(D+2)).
        trajectories: Morris: number of trajectories r (r(D+1) points).
        levels: Morris: grid levels p.
        seed: seed of the sampler (the design), independent of the replication seeds.

    """

    design: str = "none"
    parameters: tuple[Parameter, ...] = ()
    points_list: tuple[dict[str, Any], ...] = ()
    samples: int = 0
    second_order: bool = False
    trajectories: int = 0
    levels: int = 4
    seed: int = 0
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)

    @property
    def names(self) -> list[str]:
        """The varied parameters' dotted paths, in order."""
        if self.design == "list":
            seen: dict[str, None] = {}
            for p in self.points_list:
                seen.update(dict.fromkeys(p))
            return list(seen)
        return [p.path for p in self.parameters]

    def problem(self) -> dict[str, Any]:
        """The SALib problem definition (sampled designs)."""
        return {
            "num_vars": len(self.parameters),
            "names": [p.path for p in self.parameters],
            "bounds": [[p.lo, p.hi] for p in self.parameters],
        }

    def points(self) -> pd.DataFrame:
        """One row per point, one column per varied parameter, values of the parameter's type.

        A sweep with no design has one point with no columns: the arm as composed.
        """
        if "points" not in self._cache:
            self._cache["points"] = _expand(self)
        return self._cache["points"].copy()

    def raw_samples(self) -> np.ndarray:
        """The sampler's matrix before rounding integer parameters (what SALib's analyzers expect)."""
        return _sample(self)


# ---------------------------------------------------------------------- schema look-up
def _default_sim() -> SimConfig:
    return SimConfig()


def param_info(path: str, key: str = "experiment.sweep.parameters") -> ParamInfo:
    """Look a dotted path up in the config schema.

    Args:
        path: e.g. ``regime.audit_rate``.
        key: the spec key to name in errors.

    Raises:
        ConfigError: the path is unknown, or names a section or a list (not sweepable).

    """
    obj: Any = _default_sim()
    parts = path.split(".")
    f: dataclasses.Field[Any] | None = None
    for i, part in enumerate(parts):
        if not dataclasses.is_dataclass(obj):
            raise ConfigError(f"{key}.{path}: {'.'.join(parts[:i])} is not a section; unknown parameter")
        fields = {fl.name: fl for fl in dataclasses.fields(obj)}
        if part not in fields:
            prefix = ".".join(parts[:i])
            options = [f"{prefix}.{n}" if prefix else n for n in fields]
            hint = difflib.get_close_matches(path, options, n=1)
            extra = f"; did you mean {hint[0]}?" if hint else ""
            raise ConfigError(f"{key}.{path}: unknown parameter{extra}")
        f = fields[part]
        obj = getattr(obj, part)
    assert f is not None
    if dataclasses.is_dataclass(obj):
        raise ConfigError(f"{key}.{path}: is a whole section; name one of its parameters, e.g. {path}.<name>")
    if isinstance(obj, list | dict):
        raise ConfigError(f"{key}.{path}: is a list; lists cannot be swept (use arms for whole lists)")
    if path in ("output.dir", "output.save", "seed"):
        raise ConfigError(f"{key}.{path}: cannot be swept (seeds come from experiment.replications)")
    kind = "bool" if isinstance(obj, bool) else "int" if isinstance(obj, int) else type(obj).__name__
    meta = dict(f.metadata)
    return ParamInfo(path, kind, meta.get("lo"), meta.get("hi"), meta.get("choices"), meta.get("help", ""))


def _bounds_text(info: ParamInfo) -> str:
    lo = "-inf" if info.lo is None else f"{info.lo:g}"
    hi = "inf" if info.hi is None else f"{info.hi:g}"
    return f"{lo} to {hi}"


def coerce(info: ParamInfo, value: Any, key: str) -> Any:
    """Convert one value to the parameter's type and check it against its bounds and choices.

    Raises:
        ConfigError: naming ``key``, the value and what is allowed.

    """
    if info.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key}={value!r}: {info.path} is a flag; allowed: true or false")
        return value
    if info.kind == "str":
        if info.choices is not None and value not in info.choices:
            raise ConfigError(f"{key}={value!r} is not allowed; choose one of {', '.join(info.choices)}")
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{key}={value!r}: {info.path} is a number")
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(f"{key}={value!r} must be a finite number")
    if info.kind == "int":
        if v != round(v):
            raise ConfigError(f"{key}={value!r}: {info.path} is a whole number")
        out: float | int = round(v)
    else:
        out = v
    if (info.lo is not None and v < info.lo) or (info.hi is not None and v > info.hi):
        raise ConfigError(f"{key}={value!r} is out of range; allowed: {_bounds_text(info)}")
    return out


# ---------------------------------------------------------------------- parsing
def _flatten(node: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Nested or dotted mappings to (dotted path, leaf); a leaf is anything but a non-range mapping."""
    for k, v in node.items():
        path = f"{prefix}{k}"
        if isinstance(v, Mapping) and not (set(v) <= RANGE_KEYS and v):
            yield from _flatten(v, path + ".")
        else:
            yield path, v


def _as_plain(raw: Any) -> Any:
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(raw, DictConfig | ListConfig):
            return OmegaConf.to_container(raw, resolve=True)
    except ImportError:  # pragma: no cover
        pass
    return raw


def _int(raw: Mapping[str, Any], name: str, key: str, lo: int, default: int | None = None) -> int:
    if name not in raw:
        if default is None:
            raise ConfigError(f"{key}.{name} is required for design {raw.get('design')!r}")
        return default
    v = raw[name]
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ConfigError(f"{key}.{name}={v!r}: allowed: a whole number of at least {lo}")
    return v


def _grid_values(info: ParamInfo, leaf: Any, key: str) -> tuple[Any, ...]:
    if isinstance(leaf, Mapping):
        missing = {"lo", "hi", "num"} - set(leaf)
        if missing:
            raise ConfigError(f"{key}: a grid range needs lo, hi and num (missing {', '.join(sorted(missing))})")
        lo, hi, num = leaf["lo"], leaf["hi"], leaf["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ConfigError(f"{key}.num={num!r}: allowed: a whole number of at least 1")
        if not hi > lo:
            raise ConfigError(f"{key}: empty range [{lo}, {hi}]; hi must be above lo")
        raw_values = list(np.linspace(float(lo), float(hi), num))
        if info.kind == "int":
            raw_values = [round(x) for x in raw_values]
    elif isinstance(leaf, list | tuple):
        raw_values = list(leaf)
    else:
        raw_values = [leaf]
    if not raw_values:
        raise ConfigError(f"{key}: empty list of values")
    values = tuple(coerce(info, v, key) for v in raw_values)
    if len(set(values)) != len(values):
        raise ConfigError(f"{key}: repeated values {list(values)}; each grid value must appear once")
    return values


def _range(info: ParamInfo, leaf: Any, key: str) -> tuple[float, float]:
    if isinstance(leaf, Mapping):
        if set(leaf) != {"lo", "hi"}:
            raise ConfigError(f"{key}: a range is [lo, hi] or {{lo: .., hi: ..}}")
        pair = [leaf["lo"], leaf["hi"]]
    elif isinstance(leaf, list | tuple) and len(leaf) == 2:
        pair = list(leaf)
    else:
        raise ConfigError(f"{key}={leaf!r}: a sampled design needs a range [lo, hi]")
    if info.kind not in ("float", "int"):
        raise ConfigError(f"{key}: {info.path} is a {info.kind}; sample numbers only (use a grid or arms)")
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ConfigError(f"{key}={leaf!r}: range bounds must be numbers")
    lo, hi = float(pair[0]), float(pair[1])
    if not hi > lo:
        raise ConfigError(f"{key}: empty range [{pair[0]}, {pair[1]}]; hi must be above lo")
    if (info.lo is not None and lo < info.lo) or (info.hi is not None and hi > info.hi):
        raise ConfigError(
            f"{key}: range [{pair[0]}, {pair[1]}] is outside the parameter's bounds; allowed: {_bounds_text(info)}"
        )
    return lo, hi


def parse_sweep(raw: Any, key: str = "experiment.sweep") -> SweepSpec:
    """Validate a sweep block and return its typed form.

    Args:
        raw: the ``experiment.sweep`` mapping (a DictConfig or a dict); empty means no sweep.
        key: the config key to name in errors.

    Raises:
        ConfigError: naming the offending key: an unknown design, option or parameter; an empty
            range; a value or range outside the parameter's bounds; a missing sample size.

    """
    raw = _as_plain(raw) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{key}={raw!r}: expected a mapping with a design")
    design = raw.get("design", "none" if not raw else None)
    if design is None:
        raise ConfigError(f"{key}.design is missing; allowed: one of {', '.join(DESIGNS[1:])} (e.g. {key}.design=grid)")
    if design not in DESIGNS:
        raise ConfigError(f"{key}.design={design!r} is not allowed; choose one of {', '.join(DESIGNS[1:])}")
    for k in raw:
        if k not in KEYS[design]:
            raise ConfigError(f"{key}.{k}: unknown option for design {design!r}; allowed: {', '.join(KEYS[design])}")
    if design == "none":
        return SweepSpec()
    seed = _int(raw, "seed", key, 0, default=0)
    if design == "list":
        points_raw = raw.get("points")
        if not isinstance(points_raw, list) or not points_raw:
            raise ConfigError(f"{key}.points: a list design needs a non-empty list of points")
        points: list[dict[str, Any]] = []
        for i, p in enumerate(points_raw):
            if not isinstance(p, Mapping) or not p:
                raise ConfigError(f"{key}.points[{i}]: each point is a non-empty mapping of parameter: value")
            point = {}
            for path, v in _flatten(p):
                info = param_info(path, f"{key}.points[{i}]")
                point[path] = coerce(info, v, f"{key}.points[{i}].{path}")
            points.append(point)
        return SweepSpec(design="list", points_list=tuple(points), seed=seed)
    params_raw = raw.get("parameters")
    if not isinstance(params_raw, Mapping) or not params_raw:
        raise ConfigError(f"{key}.parameters: design {design!r} needs at least one parameter")
    params: list[Parameter] = []
    seen: set[str] = set()
    for path, leaf in _flatten(params_raw):
        pkey = f"{key}.parameters.{path}"
        info = param_info(path, f"{key}.parameters")
        if path in seen:
            raise ConfigError(f"{pkey}: given twice")
        seen.add(path)
        if design == "grid":
            params.append(Parameter(info, values=_grid_values(info, leaf, pkey)))
        else:
            lo, hi = _range(info, leaf, pkey)
            params.append(Parameter(info, lo=lo, hi=hi))
    if design == "grid":
        return SweepSpec(design="grid", parameters=tuple(params), seed=seed)
    if design == "lhs":
        return SweepSpec(design="lhs", parameters=tuple(params), samples=_int(raw, "samples", key, 1), seed=seed)
    if design == "sobol":
        n = _int(raw, "samples", key, 2)
        if n & (n - 1):
            raise ConfigError(
                f"{key}.samples={n}: Sobol' base samples must be a power of 2 (e.g. {1 << n.bit_length()})"
            )
        second = raw.get("second_order", False)
        if not isinstance(second, bool):
            raise ConfigError(f"{key}.second_order={second!r}: allowed: true or false")
        if len(params) < 2:
            raise ConfigError(f"{key}.parameters: a Sobol' analysis needs at least two parameters")
        return SweepSpec(design="sobol", parameters=tuple(params), samples=n, second_order=second, seed=seed)
    levels = _int(raw, "levels", key, 2, default=4)
    if levels % 2:
        raise ConfigError(f"{key}.levels={levels}: Morris levels must be even (4 is usual)")
    return SweepSpec(
        design="morris",
        parameters=tuple(params),
        trajectories=_int(raw, "trajectories", key, 2),
        levels=levels,
        seed=seed,
    )


# ---------------------------------------------------------------------- expansion
def _sample(spec: SweepSpec) -> np.ndarray:
    problem = spec.problem()
    if spec.design == "lhs":
        from SALib.sample import latin

        return np.asarray(latin.sample(problem, spec.samples, seed=spec.seed))
    if spec.design == "sobol":
        from SALib.sample import sobol

        return np.asarray(
            sobol.sample(problem, spec.samples, calc_second_order=spec.second_order, scramble=True, seed=spec.seed)
        )
    if spec.design == "morris":
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, spec.trajectories, num_levels=spec.levels, seed=spec.seed))
    raise ValueError(f"design {spec.design!r} is not sampled")


def expected_size(spec: SweepSpec) -> int:
    """How many points the design has (without expanding it)."""
    d = len(spec.parameters)
    if spec.design == "none":
        return 1
    if spec.design == "grid":
        return math.prod(len(p.values) for p in spec.parameters)
    if spec.design == "list":
        return len(spec.points_list)
    if spec.design == "lhs":
        return spec.samples
    if spec.design == "sobol":
        return spec.samples * (2 * d + 2 if spec.second_order else d + 2)
    return spec.trajectories * (d + 1)


def _expand(spec: SweepSpec) -> pd.DataFrame:
    if spec.design == "none":
        return pd.DataFrame(index=pd.RangeIndex(1))
    if spec.design == "grid":
        rows = list(itertools.product(*(p.values for p in spec.parameters)))
        return _typed(pd.DataFrame(rows, columns=spec.names), spec)
    if spec.design == "list":
        names = spec.names
        return _typed(pd.DataFrame([{n: p.get(n) for n in names} for p in spec.points_list], columns=names), spec)
    x = _sample(spec)
    frame = pd.DataFrame(x, columns=spec.names)
    for p in spec.parameters:
        if p.info.kind == "int":
            frame[p.path] = np.clip(np.rint(frame[p.path]), p.lo, p.hi).astype(np.int64)
    return frame


def _typed(frame: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """Give each column the parameter's dtype (points of a list may leave some unset: kept as object)."""
    for name in frame.columns:
        kind = param_info(name).kind
        col = frame[name]
        if col.isna().any():
            frame[name] = col.astype(object)
        elif kind == "float":
            frame[name] = col.astype(np.float64)
        elif kind == "int":
            frame[name] = col.astype(np.int64)
        elif kind == "bool":
            frame[name] = col.astype(bool)
        else:
            frame[name] = col.astype(object)
    return frame


# ---------------------------------------------------------------------- applying points
def apply_point(cfg: SimConfig, point: Mapping[str, Any]) -> SimConfig:
    """A copy of ``cfg`` with the point's values set (nested ``dataclasses.replace``, no Hydra).

    Values that are missing (None or NaN, in a list design's unset columns) leave the arm's value.
    """
    nested: dict[str, Any] = {}
    for path, value in point.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        node = nested
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _python(value)
    return _replace(cfg, nested) if nested else cfg


def _python(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _replace(obj: Any, changes: dict[str, Any]) -> Any:
    kw = {k: _replace(getattr(obj, k), v) if isinstance(v, dict) else v for k, v in changes.items()}
    return dataclasses.replace(obj, **kw)


def override_keys(overrides: Iterable[str]) -> set[str]:
    """The config keys a list of Hydra overrides sets (``+a.b=1`` -> ``a.b``)."""
    keys = set()
    for o in overrides:
        if "=" in o:
            keys.add(o.split("=", 1)[0].lstrip("+~"))
    return keys


def check_arms(spec: SweepSpec, arms: Mapping[str, Iterable[str]], key: str = "experiment.sweep") -> None:
    """Refuse a parameter that both the sweep and an arm set (the sweep would silently win).

    Raises:
        ConfigError: naming the parameter and the arm.

    """
    names = set(spec.names)
    for arm, overrides in arms.items():
        clash = names & override_keys(overrides)
        if clash:
            name = sorted(clash)[0]
            raise ConfigError(
                f"{key}.parameters.{name}: also set by arm {arm!r}; vary it in the sweep or in the arms, not both"
            )

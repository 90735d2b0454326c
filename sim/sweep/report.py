"""After a sweep: the combined table, summaries, comparisons, sensitivity, scenarios and figures.

:func:`analyse` reads the sweep folder back (never a live model) and writes, beside the runs:

- ``timeseries.parquet``: the whole sweep, one row per run and month, parameters as columns;
- ``run_summary.parquet``: one row per run, each metric averaged over its last 12 months;
- ``summary.csv``: per arm (and point) and metric, the mean across replications with a 95 % interval;
- ``bands.csv``: per arm (and point), month and metric, the mean and 95 % band across replications;
- ``differences.csv``: paired differences between arms on common seeds, 95 % intervals, d_z;
- ``sufficiency.csv`` / ``sufficiency.png``: standard errors against replications, with warnings;
- ``sensitivity_sobol.csv`` or ``sensitivity_morris.csv`` and a bar chart per arm;
- ``scenarios.txt`` / ``scenarios.csv``: where one arm beats another (PRIM rules and peeling trajectories),
  and ``scenario_rules.csv``: each chosen box's conditions in words, with coverage and density;
- ``conditions_*.csv`` and ``conditions_map.*``: where each arm wins (:mod:`sim.sweep.conditions`),
  with an ``analysis.conditions`` block;
- ``indicator_distribution.*``, ``reported_vs_true.*``, ``equity.*``: figures from the runs' detail
  tables (:mod:`sim.present.details`);
- ``over_time.*`` (no sweep points) or ``response.*`` (one swept parameter);
- ``report.md``: what ran, what failed, and the warnings (the run log);
- ``report.html`` and ``differences_over_time.*``: the reader's report (:mod:`sim.present.report`), whose
  Markdown twin goes at the top of ``report.md``, above the run log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.config import ConfigError, ExperimentConfig
from sim.metrics import COLUMNS
from sim.sweep import analysis as an
from sim.sweep.conditions import MAP_STEM, ConditionsSpec, analyse_conditions, parse_conditions
from sim.sweep.plan import Plan
from sim.sweep.spec import SweepSpec
from sim.sweep.store import atomic_write_table, read_sweep

ANALYSIS_KEYS = (
    "enabled",
    "outputs",
    "compare",
    "reference",
    "discover",
    "window",
    "power",
    "factors",
    "conditions",
)
DISCOVER_KEYS = ("better", "worse", "output", "lower_is_better", "threshold", "alpha", "min_mass")
MAX_POINT_TABLES = 50  # per-point bands and standard-error curves only for designs up to this size


@dataclass
class Discovery:
    """One scenario-discovery question: where does ``better`` beat ``worse`` on ``output``?"""

    better: str
    worse: str
    output: str
    lower_is_better: bool
    threshold: float = 0.8
    alpha: float = 0.05
    min_mass: float = 0.05


@dataclass
class AnalysisSpec:
    """The validated ``experiment.analysis`` block."""

    outputs: list[str] = field(default_factory=lambda: list(an.MAIN_OUTPUTS))
    enabled: bool = True  # false: runs only (no tables, figures or report); python -m sim analyse FOLDER later
    pairs: list[tuple[str, str]] = field(default_factory=list)
    discover: list[Discovery] = field(default_factory=list)
    window: int = an.SUMMARY_WINDOW
    power: float = 0.8
    factors: dict[str, list[str]] = field(default_factory=dict)
    conditions: ConditionsSpec | None = None  # where each arm wins (sim.sweep.conditions)


def _metrics() -> list[str]:
    return [c for c in COLUMNS if c not in ("step", "regime")]


def parse_analysis(raw: Any, arms: Sequence[str], spec: SweepSpec, key: str = "experiment.analysis") -> AnalysisSpec:
    """Validate the analysis block against the arms and metrics.

    Raises:
        ConfigError: naming the key.

    """
    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(raw, resolve=True) if OmegaConf.is_config(raw) else dict(raw or {})
    for k in raw:
        if k not in ANALYSIS_KEYS:
            raise ConfigError(f"{key}.{k}: unknown option; allowed: {', '.join(ANALYSIS_KEYS)}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{key}.enabled={enabled!r}: allowed: true or false")
    metrics = _metrics()
    outputs = list(raw.get("outputs", an.MAIN_OUTPUTS))
    for i, m in enumerate(outputs):
        if m not in metrics:
            raise ConfigError(f"{key}.outputs[{i}]={m!r} is not a metric; see sim.metrics.COLUMNS")

    def arm(name: Any, where: str) -> str:
        if name not in arms:
            raise ConfigError(
                f"{where}={name!r} is not an arm; arms: {', '.join(arms)} (when you change the arms, "
                f"set {key}.compare to pairs of them, or {key}.compare=[] for all pairs)"
            )
        return str(name)

    compare = raw.get("compare") or []
    for i, pair in enumerate(compare):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ConfigError(f"{key}.compare[{i}]={pair!r}: a pair [a, b] of arms (reported as a - b)")
        arm(pair[0], f"{key}.compare[{i}][0]")
        arm(pair[1], f"{key}.compare[{i}][1]")
        if str(pair[0]) == str(pair[1]):  # a difference of an arm with itself is 0 by construction
            raise ConfigError(
                f"{key}.compare[{i}]={list(pair)!r} compares arm {pair[0]!r} with itself; allowed: two different arms"
            )
    reference = raw.get("reference")
    if reference is not None:
        arm(reference, f"{key}.reference")
    pairs = an.arm_pairs(list(arms), compare, reference)
    found = raw.get("discover") or []
    found = [found] if isinstance(found, Mapping) else list(found)
    discover = []
    for i, d in enumerate(found):
        where = f"{key}.discover[{i}]" if len(found) > 1 else f"{key}.discover"
        if not isinstance(d, Mapping):
            raise ConfigError(f"{where}: a mapping with better, worse and output")
        for k in d:
            if k not in DISCOVER_KEYS:
                raise ConfigError(f"{where}.{k}: unknown option; allowed: {', '.join(DISCOVER_KEYS)}")
        for k in ("better", "worse", "output"):
            if k not in d:
                raise ConfigError(f"{where}.{k} is required")
        if d["output"] not in metrics:
            raise ConfigError(f"{where}.output={d['output']!r} is not a metric")
        if spec.design in ("none",) or not spec.names:
            raise ConfigError(f"{where}: scenario discovery needs a sweep over parameters (experiment.sweep)")
        discover.append(
            Discovery(
                better=arm(d["better"], f"{where}.better"),
                worse=arm(d["worse"], f"{where}.worse"),
                output=str(d["output"]),
                lower_is_better=bool(d.get("lower_is_better", d["output"] in an.LOWER_IS_BETTER)),
                threshold=float(d.get("threshold", 0.8)),
                alpha=float(d.get("alpha", 0.05)),
                min_mass=float(d.get("min_mass", 0.05)),
            )
        )
    window = raw.get("window", an.SUMMARY_WINDOW)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ConfigError(f"{key}.window={window!r}: allowed: a whole number of months, at least 1")
    power = raw.get("power", 0.8)
    if not isinstance(power, int | float) or not 0 < power < 1:
        raise ConfigError(f"{key}.power={power!r}: allowed: between 0 and 1")
    factors = raw.get("factors") or {}
    if not isinstance(factors, Mapping) or not all(
        isinstance(v, list | tuple) and len(v) == 2 and all(isinstance(x, str) and "_" not in x for x in v)
        for v in factors.values()
    ):
        raise ConfigError(
            f"{key}.factors={factors!r}: allowed: a mapping factor -> [level, level] of two names without '_'"
        )
    if factors:
        factors = {str(k): [str(x) for x in v] for k, v in factors.items()}
        for name in arms:
            if an.factor_levels(name, factors) is None:
                raise ConfigError(
                    f"{key}.factors: arm {name!r} does not spell one level per factor; "
                    f"allowed: arm names like {'_'.join(v[0] for v in factors.values())}"
                )
    conditions = parse_conditions(raw.get("conditions"), list(arms), metrics, spec.design, f"{key}.conditions")
    return AnalysisSpec(outputs, enabled, pairs, discover, window, float(power), dict(factors), conditions)


@dataclass
class AnalysisResult:
    """What :func:`analyse` wrote and found."""

    timeseries: pd.DataFrame
    per_run: pd.DataFrame
    summary: pd.DataFrame
    figures: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    differences: pd.DataFrame | None = None
    pooled_differences: pd.DataFrame | None = None  # sampled designs: over all points (differences_pooled.csv)
    sensitivity: pd.DataFrame | None = None
    scenarios: list[str] = field(default_factory=list)
    factor_effects: pd.DataFrame | None = None


def _write_csv(frame: pd.DataFrame, path: Path, files: list[Path]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)
    files.append(path)


def _per_point_outputs(per_run: pd.DataFrame, arm: str, outputs: Sequence[str], n_points: int) -> dict[str, np.ndarray]:
    """Each output's mean over replications at every point of the design, in the sample's order."""
    sub = per_run[per_run["arm"] == arm].groupby("point")[list(outputs)].mean().reindex(range(n_points))
    return {m: sub[m].to_numpy(dtype=float) for m in outputs}


def _sensitivity(plan: Plan, per_run: pd.DataFrame, outputs: Sequence[str], folder: Path, res: AnalysisResult) -> None:
    spec = plan.spec
    problem = spec.problem()
    tables = []
    n_points = len(plan.points)
    for arm in plan.arms:
        ys = _per_point_outputs(per_run, arm, outputs, n_points)
        usable = {}
        for m, y in ys.items():
            if np.isnan(y).any():
                res.warnings.append(
                    f"sensitivity ({arm}): {m} is undefined (NaN) or missing at {int(np.isnan(y).sum())} of "
                    f"{n_points} points; its indices are left out"
                )
            elif np.ptp(y) == 0:
                res.warnings.append(f"sensitivity ({arm}): {m} does not vary across the design; left out")
            else:
                usable[m] = y
        if not usable:
            continue
        if spec.design == "sobol":
            idx, idx2 = an.sobol_indices(problem, usable, second_order=spec.second_order, seed=spec.seed)
            if len(idx2):
                _write_csv(idx2.assign(arm=arm), folder / f"sensitivity_sobol_second_order_{arm}.csv", res.files)
        else:
            idx = an.morris_indices(problem, spec.raw_samples(), usable, levels=spec.levels, seed=spec.seed)
        idx.insert(0, "arm", arm)
        tables.append(idx)
        from sim.present.figures import plot_sensitivity

        stem = "sensitivity" if len(plan.arms) == 1 else f"sensitivity_{arm}"
        res.figures += plot_sensitivity(
            idx.drop(columns="arm"), spec.design, folder, stem, title=f"under {arm}", arm=arm, arms=list(plan.arms)
        )
    if tables:
        res.sensitivity = pd.concat(tables, ignore_index=True)
        _write_csv(res.sensitivity, folder / f"sensitivity_{spec.design}.csv", res.files)


def _discover(plan: Plan, per_run: pd.DataFrame, specs: Sequence[Discovery], folder: Path, res: AnalysisResult) -> None:
    lines, tables, rules = [], [], []
    x = plan.points.reset_index(drop=True)
    for d in specs:
        a = per_run[per_run["arm"] == d.better].groupby("point")[d.output].mean()
        b = per_run[per_run["arm"] == d.worse].groupby("point")[d.output].mean()
        diff = (a - b).reindex(range(len(x)))
        ok = diff.notna().to_numpy()
        gain = -diff if d.lower_is_better else diff
        wins = (gain > 0).to_numpy()
        head = (
            f"Where does '{d.better}' beat '{d.worse}' on {d.output} "
            f"({'lower' if d.lower_is_better else 'higher'} is better)?"
        )
        lines += [head, "=" * len(head)]
        if ok.sum() < 4:
            lines += ["too few points with results for scenario discovery", ""]
            continue
        lines.append(
            f"'{d.better}' beats '{d.worse}' at {int(wins[ok].sum())} of {int(ok.sum())} points "
            f"(mean over replications at each point; common seeds)."
        )
        for label, target in (("helps", wins[ok]), ("fails", ~wins[ok])):
            if target.sum() == 0:
                lines.append(f"It {label} nowhere in the sampled space.")
                continue
            result = an.prim(x[ok], target, alpha=d.alpha, min_mass=d.min_mass, threshold=d.threshold)
            what = "the points where it " + label
            lines.append(f"It {label} when: {result.describe(what)}")
            traj = pd.DataFrame(
                [
                    {
                        "question": f"{d.better} vs {d.worse} on {d.output}",
                        "where": label,
                        "wins": int(wins[ok].sum()),
                        "box": i,
                        "coverage": b.coverage,
                        "density": b.density,
                        "mass": b.mass,
                        "n": b.n,
                        "chosen": b is result.chosen,
                        **{
                            f"{k}_lo": v[0] if not isinstance(v[0], frozenset) else ",".join(map(str, sorted(v[0])))
                            for k, v in b.limits.items()
                        },
                        **{f"{k}_hi": v[1] for k, v in b.limits.items() if not isinstance(v[0], frozenset)},
                    }
                    for i, b in enumerate(result.trajectory)
                ]
            )
            tables.append(traj)
            res.scenarios.append(f"{d.better} {label} vs {d.worse} on {d.output}: {result.describe(what)}")
            box = result.chosen
            rules.append(
                {
                    "better": d.better,
                    "worse": d.worse,
                    "output": d.output,
                    "lower_is_better": d.lower_is_better,
                    "where": label,
                    "wins": int(wins[ok].sum()),
                    "conditions": " and ".join(result.rules()) or "anywhere (no restriction improves on the base rate)",
                    "coverage": box.coverage,
                    "density": box.density,
                    "base_rate": result.base_rate,
                    "points_in_box": box.n,
                    "points": result.n,
                }
            )
        lines.append("")
    (folder / "scenarios.txt").write_text("\n".join(lines) + "\n")
    res.files.append(folder / "scenarios.txt")
    if tables:
        _write_csv(pd.concat(tables, ignore_index=True), folder / "scenarios.csv", res.files)
    if rules:
        _write_csv(pd.DataFrame(rules), folder / "scenario_rules.csv", res.files)


def analyse(folder: str | Path, plan: Plan, exp: ExperimentConfig, stats: Any = None) -> AnalysisResult:
    """Write the sweep's combined table, summaries, comparisons, sensitivity, scenarios and figures.

    Args:
        folder: the sweep folder.
        plan: its plan.
        exp: the experiment block (analysis options, metrics to plot).
        stats: the session's :class:`~sim.sweep.engine.SweepStats`, for the report.

    """
    from sim.present.details import write_detail_figures
    from sim.present.figures import plot_metrics_over_time, plot_response, plot_sufficiency

    folder = Path(folder)
    spec = parse_analysis(exp.analysis, list(plan.arms), plan.spec)
    ts = read_sweep(folder)
    files: list[Path] = []
    atomic_write_table(pa.Table.from_pandas(ts, preserve_index=False), folder / "timeseries.parquet")
    files.append(folder / "timeseries.parquet")
    if ts.empty:
        res = AnalysisResult(ts, ts, pd.DataFrame(), files=files, warnings=["no run has results yet"])
        _report(folder, plan, exp, stats, res, spec)
        return res
    per_run = an.end_of_run(ts, spec.window)
    atomic_write_table(pa.Table.from_pandas(per_run, preserve_index=False), folder / "run_summary.parquet")
    files.append(folder / "run_summary.parquet")
    params = plan.parameters
    n_points = len(plan.points)
    few_points = n_points <= MAX_POINT_TABLES
    by = ["arm"] if n_points == 1 else ["arm", "point", *params]
    summary = an.summary_table(per_run, by)
    res = AnalysisResult(ts, per_run, summary, files=files)
    _write_csv(summary, folder / "summary.csv", res.files)
    if few_points:
        bands = an.step_bands(ts, ["arm"] if n_points == 1 else ["arm", "point"])
        _write_csv(bands, folder / "bands.csv", res.files)
    replications = int(per_run["replication"].max()) + 1
    if len(plan.arms) > 1 and spec.pairs:
        # Compared at each point, with the point's parameter values. A sample of the parameter
        # space (LHS, Sobol', Morris) or many points also gets the differences pooled over the
        # points (paired on point and seed), in their own file that says so.
        designed = few_points and plan.spec.design in ("none", "grid", "list")
        res.differences = an.paired_differences(per_run, spec.pairs, spec.outputs, by=("point",))
        _write_csv(res.differences, folder / "differences.csv", res.files)
        if not designed:
            pooled = an.paired_differences(per_run, spec.pairs, spec.outputs, by=())
            res.pooled_differences = pooled.assign(pooled_over_points=n_points)
            _write_csv(res.pooled_differences, folder / "differences_pooled.csv", res.files)
        if replications >= 2 and designed:
            res.warnings += an.sufficiency_warnings(res.differences, replications, spec.power)
    if spec.factors:
        effects = an.factorial_effects(per_run, spec.factors, spec.outputs)
        _write_csv(effects, folder / "factor_effects.csv", res.files)
        res.factor_effects = effects
    if replications >= 2 and few_points:
        curve = an.standard_error_curve(per_run, spec.outputs, spec.pairs if len(plan.arms) > 1 else ())
        if len(curve):
            _write_csv(curve, folder / "sufficiency.csv", res.files)
            res.figures += plot_sufficiency(curve, spec.outputs, folder, list(plan.arms))
    elif replications < 2:
        res.warnings.append("one replication: no intervals across replications and no replicate-sufficiency check")
    if plan.spec.design in ("sobol", "morris"):
        _sensitivity(plan, per_run, spec.outputs, folder, res)
    if spec.discover:
        _discover(plan, per_run, spec.discover, folder, res)
    if spec.conditions is not None:
        from sim.present.figures import plot_conditions_map

        found = analyse_conditions(plan.points, per_run, spec.conditions, folder)
        res.files += found.files
        res.figures += plot_conditions_map(
            found.points, found.winners, found.importance, found.default_values, spec.conditions.arms, folder, MAP_STEM
        )
    metrics_to_plot = [m for m in exp.metrics_to_plot if m in ts.columns]
    if n_points == 1 and metrics_to_plot:
        res.figures += plot_metrics_over_time(
            folder / "timeseries.parquet", metrics_to_plot, folder, arms=list(plan.arms)
        )
    elif len(params) == 1 and plan.spec.design in ("grid", "list"):
        shown = list(dict.fromkeys([*spec.outputs, *metrics_to_plot]))
        res.figures += plot_response(summary, params[0], shown, folder, list(plan.arms))
    res.figures += write_detail_figures(folder, plan)
    _report(folder, plan, exp, stats, res, spec)
    _reader_report(folder, res)
    return res


def _reader_report(folder: Path, res: AnalysisResult) -> None:
    """``report.html`` and the reader's ``report.md`` (:mod:`sim.present.report`), from the files just written.

    A failure here leaves every result in place (``python -m sim report FOLDER`` rebuilds the
    report) and becomes a warning, unless SIM_DEBUG is set.
    """
    import os

    from sim.present.report import build_report

    try:
        written = build_report(folder)
    except Exception as exc:
        if os.environ.get("SIM_DEBUG"):
            raise
        res.warnings.append(
            f"report.html not written ({type(exc).__name__}: {exc}); retry: python -m sim report {folder}"
        )
        return
    res.figures += [p for p in written if p.stem != "report"]
    res.files += [folder / "report.html"]


def _fmt(x: float) -> str:
    from sim.present.words import number

    return "nan" if not math.isfinite(x) else number(x)


def _report(
    folder: Path, plan: Plan, exp: ExperimentConfig, stats: Any, res: AnalysisResult, spec: AnalysisSpec
) -> None:
    lines = [f"# Experiment '{plan.name}'", ""]
    if exp.question:
        lines += [f"Question: {exp.question.strip()}", ""]
    lines += [f"Plan: {plan.describe()}.", f"Arms: {', '.join(f'{a} {o}' for a, o in plan.arm_overrides.items())}."]
    if plan.parameters:
        lines.append(f"Swept parameters: {', '.join(plan.parameters)}.")
    if stats is not None:
        lines.append(
            f"This session: {stats.ran} runs finished, {stats.failed} failed, {stats.already_done} found done "
            f"(resumed), {stats.skipped_failed} earlier failures not retried; {stats.seconds:.1f} s."
        )
    n_done = res.per_run["key"].nunique() if len(res.per_run) else 0
    lines.append(f"Runs with results: {n_done} of {plan.manifest['key'].nunique()} distinct.")
    failed = sorted((folder / "failed").glob("*.json")) if (folder / "failed").is_dir() else []
    if failed:
        lines.append(f"Failed runs: {len(failed)} (tracebacks and configs in failed/); run the command again to retry.")
    lines.append("")
    if res.differences is not None and len(res.differences):
        lines += ["## Paired differences (a - b on common seeds, end-of-run, 95% CI, d_z)", ""]
        d = res.differences
        if res.pooled_differences is not None:
            d = res.pooled_differences
            lines.append(
                f"(pooled over the {len(plan.points)} points, paired on point and seed; per point in differences.csv)"
            )
        elif "point" in d.columns and d["point"].nunique() > 1:
            d = d[d["point"] == d["point"].min()]
            lines.append("(first sweep point shown; all points in differences.csv)")
        for _, r in d.iterrows():
            lines.append(
                f"- {r['metric']}: {r['a']} - {r['b']} = {_fmt(r['diff'])} "
                f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}], d_z = {_fmt(r['d_z'])}, n = {int(r['n'])}"
            )
        lines.append("")
    if res.factor_effects is not None and len(res.factor_effects):
        lines += [
            "## Factor main effects (second level - first, averaged over the other factors; 95% CI over seeds)",
            "",
        ]
        for _, r in res.factor_effects.iterrows():
            lines.append(
                f"- {r['metric']}: {r['factor']} {r['high']} - {r['low']} = {_fmt(r['effect'])} "
                f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}], n = {int(r['n'])}"
            )
        lines.append("")
    if res.sensitivity is not None:
        lines += [f"## Sensitivity ({plan.spec.design})", ""]
        col = "ST" if plan.spec.design == "sobol" else "mu_star"
        for (arm, out), grp in res.sensitivity.groupby(["arm", "output"], sort=False):
            top = grp.sort_values(col, ascending=False).head(3)
            lines.append(
                f"- {arm}, {out}: most influential "
                + ", ".join(f"{p} ({col} {_fmt(v)})" for p, v in zip(top["parameter"], top[col], strict=True))
            )
        lines.append("")
    if res.scenarios:
        lines += ["## Scenario discovery (PRIM)", "", *[f"- {s}" for s in res.scenarios], ""]
    if res.warnings:
        lines += ["## Warnings", "", *[f"- {w}" for w in res.warnings], ""]
    lines += ["## Files", "", *[f"- {p.name}" for p in dict.fromkeys([*res.files, *res.figures])], ""]
    (folder / "report.md").write_text("\n".join(lines))
    res.files.append(folder / "report.md")

"""Statistics of a sweep: bands, paired differences, replicate sufficiency, sensitivity, scenarios.

Bands over time, paired differences between arms, replicate sufficiency, global sensitivity
(Morris, Sobol' via SALib) and scenario discovery (PRIM).

Every function takes tidy pandas tables (as :func:`sim.sweep.read_sweep` returns them) and
returns tidy tables; nothing here runs a model or draws a figure.

Conventions: intervals are 95 % Student-t intervals across replications; a *paired difference*
compares two arms replication by replication on their common seeds (and point by point in a
sweep), which removes the noise both arms share; its standardised effect size is Cohen's
:math:`d_z` (mean difference over the standard deviation of the differences).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics import COLUMNS, SUMMARY_WINDOW

MAIN_OUTPUTS: tuple[str, ...] = ("prosocial_rate", "gaming_gap", "true_outcome", "equity_gap")
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"gaming_gap", "gaming_share", "equity_gap", "public_cost", "bunching_ratio", "skimmed_share", "slack_share"}
)
RUN_LABELS: tuple[str, ...] = ("arm", "point", "replication", "seed")


def metric_names(frame: pd.DataFrame) -> list[str]:
    """The numeric metric columns of a table (``COLUMNS`` less step and regime), in order."""
    return [c for c in COLUMNS if c not in ("step", "regime") and c in frame.columns]


def t_half_width(sd: Any, n: Any, level: float = 0.95) -> Any:
    """Half-width of a Student-t interval of a mean (NaN for fewer than two values)."""
    n_arr = np.asarray(n, dtype=float)
    tcrit = stats.t.ppf(0.5 + level / 2, np.maximum(n_arr - 1, 1))
    return np.where(n_arr > 1, tcrit * np.asarray(sd, dtype=float) / np.sqrt(np.maximum(n_arr, 1)), np.nan)


# ---------------------------------------------------------------------- per step and per run
def step_bands(ts: pd.DataFrame, by: Sequence[str] = ("arm",), metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Per group and month: mean and 95 % band across replications, for every metric.

    Returns:
        Long table: the ``by`` columns, step, metric, mean, ci_low, ci_high, n.

    """
    metrics = list(metrics or metric_names(ts))
    keys = [*by, "step"]
    g = ts.groupby(keys, sort=False)[metrics]
    mean, sd, n = g.mean(), g.std(), g.count()
    out = []
    for m in metrics:
        half = t_half_width(sd[m].to_numpy(), n[m].to_numpy())
        part = mean[[m]].rename(columns={m: "mean"}).reset_index()
        part.insert(len(keys), "metric", m)
        part["ci_low"] = part["mean"].to_numpy() - half
        part["ci_high"] = part["mean"].to_numpy() + half
        part["n"] = n[m].to_numpy()
        out.append(part)
    return pd.concat(out, ignore_index=True)


def end_of_run(ts: pd.DataFrame, window: int = SUMMARY_WINDOW) -> pd.DataFrame:
    """One row per run: each metric averaged over its last ``window`` months (NaN-aware).

    Label and parameter columns (everything that is constant within a run) are kept.
    """
    metrics = metric_names(ts)
    labels = [c for c in ts.columns if c not in (*COLUMNS, "key")]
    run_cols = [c for c in RUN_LABELS if c in ts.columns]
    last = ts.groupby(run_cols, sort=False)["step"].transform("max")
    tail = ts[ts["step"] > last - window]
    means = tail.groupby(run_cols, sort=False)[metrics].mean()
    first = tail.groupby(run_cols, sort=False)[[c for c in labels if c not in run_cols] + ["key"]].first()
    return first.join(means).reset_index()


def summary_table(
    per_run: pd.DataFrame, by: Sequence[str] = ("arm",), metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per group and metric: mean of the end-of-run figure across replications, with a 95 % interval."""
    metrics = list(metrics or metric_names(per_run))
    g = per_run.groupby(list(by), sort=False)[metrics]
    mean, sd, n = g.mean(), g.std(), g.count()
    rows = []
    for idx in mean.index:
        key = idx if isinstance(idx, tuple) else (idx,)
        for m in metrics:
            mu, k = float(mean.at[idx, m]), int(n.at[idx, m])
            half = float(t_half_width(sd.at[idx, m], k))
            rows.append(
                {
                    **dict(zip(by, key, strict=True)),
                    "metric": m,
                    "mean": mu,
                    "ci_low": mu - half,
                    "ci_high": mu + half,
                    "n": k,
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- paired differences
def arm_pairs(arms: Sequence[str], compare: Any = None, reference: str | None = None) -> list[tuple[str, str]]:
    """The (a, b) pairs to compare as a minus b: given pairs, each arm against a reference, or all pairs."""
    if compare:
        return [(str(a), str(b)) for a, b in compare]
    if reference:
        return [(a, reference) for a in arms if a != reference]
    return [(arms[i], arms[j]) for i in range(len(arms)) for j in range(i + 1, len(arms))]


def paired_differences(
    per_run: pd.DataFrame,
    pairs: Iterable[tuple[str, str]],
    metrics: Sequence[str] = MAIN_OUTPUTS,
    by: Sequence[str] = ("point",),
) -> pd.DataFrame:
    """Differences between arms on common seeds: a minus b, replication by replication.

    Args:
        per_run: one row per run (:func:`end_of_run`).
        pairs: (a, b) arm pairs.
        metrics: the outputs compared.
        by: groups compared separately (the sweep point by default; empty: pooled over points).

    Returns:
        One row per pair, group and metric: mean_a, mean_b, diff (mean of a - b), ci_low,
        ci_high (95 % t-interval), sd (of the differences), n (pairs), d_z (standardised effect
        size: diff / sd), p_value (paired t-test).

    """
    by = [c for c in by if c in per_run.columns]
    # Runs pair on their point and replication (common seeds); ``by`` only groups the pairs.
    keys = [c for c in ("point", "replication") if c in per_run.columns]
    extra = [c for c in per_run.columns if c not in (*RUN_LABELS, "key", *metric_names(per_run))]
    rows = []
    for a, b in pairs:
        left = per_run[per_run["arm"] == a].set_index(keys)
        right = per_run[per_run["arm"] == b].set_index(keys)
        common = left.index.intersection(right.index)
        if not len(common):
            continue
        for m in metrics:
            d = (left.loc[common, m] - right.loc[common, m]).rename("d").reset_index()
            d["a"] = left.loc[common, m].to_numpy()
            d["b"] = right.loc[common, m].to_numpy()
            groups = d.groupby(by, sort=False) if by else [((), d)]
            for gkey, grp in groups:
                gkey = gkey if isinstance(gkey, tuple) else (gkey,)
                v = grp["d"].dropna()
                n = len(v)
                mean = float(v.mean()) if n else math.nan
                sd = float(v.std(ddof=1)) if n > 1 else math.nan
                half = float(t_half_width(sd, n))
                p = float(stats.ttest_1samp(v, 0.0).pvalue) if n > 1 and sd > 0 else math.nan
                row = {
                    "a": a,
                    "b": b,
                    **dict(zip(by, gkey, strict=True)),
                    "metric": m,
                    "mean_a": float(grp["a"].mean()),
                    "mean_b": float(grp["b"].mean()),
                    "diff": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "sd": sd,
                    "n": n,
                    "d_z": mean / sd if n > 1 and sd > 0 else math.nan,
                    "p_value": p,
                }
                rows.append(row)
    out = pd.DataFrame(rows)
    if len(out) and extra and by:
        params = per_run.drop_duplicates("point").set_index("point")[extra] if "point" in by else None
        if params is not None:
            out = out.join(params, on="point")
    return out


def factor_levels(arm: str, factors: dict[str, list[str]]) -> dict[str, str] | None:
    """The level of each factor an arm's name spells (``level_level_...`` in factor order), or None."""
    parts = arm.split("_")
    if len(parts) != len(factors):
        return None
    levels = dict(zip(factors, parts, strict=True))
    return levels if all(levels[f] in lv for f, lv in factors.items()) else None


def factorial_effects(
    per_run: pd.DataFrame, factors: dict[str, list[str]], metrics: Sequence[str] = MAIN_OUTPUTS
) -> pd.DataFrame:
    """Main effects of a two-level factorial over arms, paired on common seeds.

    For each replication, a factor's effect is the mean over arms at its second level minus the
    mean over arms at its first (each half averages the other factors' combinations equally);
    the table gives the mean of that over replications with a 95 % t-interval.

    Args:
        per_run: one row per run (:func:`end_of_run`).
        factors: factor -> [first level, second level]; arm names are ``level_level_...``.
        metrics: the outputs.

    Returns:
        One row per factor and metric: factor, low, high (its levels), metric, effect (high -
        low), ci_low, ci_high, sd, n.

    """
    levels = {a: factor_levels(a, factors) for a in per_run["arm"].unique()}
    design = {a: lv for a, lv in levels.items() if lv is not None}
    rows = []
    keys = [c for c in ("point", "replication") if c in per_run.columns]
    runs = per_run[per_run["arm"].isin(list(design))]
    for factor, (low, high) in factors.items():
        hi_arms = [a for a, lv in design.items() if lv[factor] == high]
        lo_arms = [a for a, lv in design.items() if lv[factor] == low]
        if not hi_arms or not lo_arms:
            continue
        for m in metrics:
            hi = runs[runs["arm"].isin(hi_arms)].groupby(keys)[m].mean()
            lo = runs[runs["arm"].isin(lo_arms)].groupby(keys)[m].mean()
            d = (hi - lo).dropna()
            n = len(d)
            mean = float(d.mean()) if n else math.nan
            sd = float(d.std(ddof=1)) if n > 1 else math.nan
            half = float(t_half_width(sd, n))
            rows.append(
                {
                    "factor": factor,
                    "low": low,
                    "high": high,
                    "metric": m,
                    "effect": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "sd": sd,
                    "n": n,
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- replicate sufficiency
def replications_needed(diff: float, sd: float, power: float = 0.8, alpha: float = 0.05) -> float:
    """Replications a paired comparison needs to detect ``diff`` (two-sided t-test, normal approximation)."""
    if not (math.isfinite(diff) and math.isfinite(sd)) or sd == 0:
        return math.nan if not math.isfinite(sd) else 2.0
    if diff == 0:
        return math.inf
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return max(2.0, math.ceil((z * sd / abs(diff)) ** 2))


def standard_error_curve(
    per_run: pd.DataFrame,
    metrics: Sequence[str] = MAIN_OUTPUTS,
    pairs: Iterable[tuple[str, str]] = (),
    by: Sequence[str] = ("point",),
) -> pd.DataFrame:
    """How the standard error falls with replications: for n = 2..R, using replications 0..n-1.

    Replication seeds are prefix-stable, so the first n replications are exactly what a sweep
    with n replications would have run.

    Returns:
        Rows of: what ('arm' or 'difference'), arm (or 'a - b'), the ``by`` columns, metric, n,
        mean, se (standard error of the mean over the first n replications).

    """
    by = [c for c in by if c in per_run.columns]
    r_max = int(per_run["replication"].max()) + 1 if len(per_run) else 0
    rows = []

    def curve(values: pd.Series, what: str, label: str, gkey: tuple[Any, ...], m: str) -> None:
        v = values.sort_index().to_numpy()
        for n in range(2, len(v) + 1):
            head = v[:n]
            head = head[~np.isnan(head)]
            if len(head) < 2:
                continue
            rows.append(
                {
                    "what": what,
                    "arm": label,
                    **dict(zip(by, gkey, strict=True)),
                    "metric": m,
                    "n": n,
                    "mean": float(head.mean()),
                    "se": float(head.std(ddof=1) / math.sqrt(len(head))),
                }
            )

    if r_max < 2:
        return pd.DataFrame(rows)
    for (arm, *gkey), grp in per_run.groupby(["arm", *by], sort=False):
        series = grp.set_index("replication")
        for m in metrics:
            curve(series[m], "arm", str(arm), tuple(gkey), m)
    for a, b in pairs:
        left = per_run[per_run["arm"] == a].set_index([*by, "replication"])
        right = per_run[per_run["arm"] == b].set_index([*by, "replication"])
        common = left.index.intersection(right.index)
        for m in metrics:
            d = (left.loc[common, m] - right.loc[common, m]).rename("d").reset_index()
            for gkey, grp in d.groupby(by, sort=False) if by else [((), d)]:
                gkey = gkey if isinstance(gkey, tuple) else (gkey,)
                curve(grp.set_index("replication")["d"], "difference", f"{a} - {b}", gkey, m)
    return pd.DataFrame(rows)


def sufficiency_warnings(differences: pd.DataFrame, replications: int, power: float = 0.8) -> list[str]:
    """Warn where the replications are too few for a difference being reported.

    A difference is under-replicated when detecting a true difference of its size (paired t-test,
    5 % level) with the given ``power`` needs more replications than were run.
    """
    out = []
    for _, row in differences.iterrows():
        scale = max(1.0, abs(row["mean_a"]), abs(row["mean_b"]))
        if abs(row["diff"]) <= 1e-9 * scale and not (row["sd"] > 1e-9 * scale):
            continue  # the arms do not differ at all (to rounding): nothing is being reported
        need = replications_needed(row["diff"], row["sd"], power)
        if not math.isfinite(need) and need != math.inf:
            continue
        if need > replications:
            where = (
                f" at point {int(row['point'])}"
                if "point" in row and pd.notna(row.get("point")) and row.get("point", 0)
                else ""
            )
            need_txt = "more than 10,000" if need > 10_000 else f"about {int(need)}"
            out.append(
                f"{row['metric']}: {row['a']} - {row['b']}{where} = {row['diff']:.4g} "
                f"(95% CI {row['ci_low']:.4g} to {row['ci_high']:.4g}) from {replications} replications; "
                f"{need_txt} would be needed to detect a difference this size ({power:.0%} power, 5% level)"
            )
    return out


# ---------------------------------------------------------------------- global sensitivity
def _problem(names: Sequence[str], bounds: Sequence[Sequence[float]]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}


def bootstrap_seed(seed: int) -> int:
    """A nonzero seed derived from ``seed`` for SALib's Sobol' bootstrap.

    ``SALib.analyze.sobol`` seeds its bootstrap only ``if seed:``, so seed 0 would leave the
    intervals unseeded and different on every call; every seed maps to a distinct nonzero one.
    """
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) or 1


def sobol_indices(
    problem: Mapping[str, Any], outputs: Mapping[str, np.ndarray], second_order: bool = False, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First-order and total Sobol' indices with 95 % bootstrap intervals (SALib), per output.

    Args:
        problem: SALib problem (names and bounds).
        outputs: output name -> model outputs in the order of the Saltelli sample.
        second_order: the sample includes the second-order columns.
        seed: seed of the bootstrap.

    Returns:
        First/total table (output, parameter, S1, S1_conf, ST, ST_conf) and, with second order,
        a table of pairs (output, parameter, other, S2, S2_conf).

    """
    from SALib.analyze import sobol

    rows, rows2 = [], []
    names = list(problem["names"])
    for out, y in outputs.items():
        res = sobol.analyze(
            dict(problem), np.asarray(y, dtype=float), calc_second_order=second_order, seed=bootstrap_seed(seed)
        )
        for i, name in enumerate(names):
            rows.append(
                {
                    "output": out,
                    "parameter": name,
                    "S1": float(res["S1"][i]),
                    "S1_conf": float(res["S1_conf"][i]),
                    "ST": float(res["ST"][i]),
                    "ST_conf": float(res["ST_conf"][i]),
                }
            )
        if second_order:
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    rows2.append(
                        {
                            "output": out,
                            "parameter": names[i],
                            "other": names[j],
                            "S2": float(res["S2"][i, j]),
                            "S2_conf": float(res["S2_conf"][i, j]),
                        }
                    )
    return pd.DataFrame(rows), pd.DataFrame(rows2)


def morris_indices(
    problem: Mapping[str, Any], x: np.ndarray, outputs: Mapping[str, np.ndarray], levels: int = 4, seed: int = 0
) -> pd.DataFrame:
    """Morris elementary effects per output: mu, mu* with its 95 % bootstrap interval, and sigma."""
    from SALib.analyze import morris

    rows = []
    for out, y in outputs.items():
        res = morris.analyze(
            dict(problem), np.asarray(x, dtype=float), np.asarray(y, dtype=float), num_levels=levels, seed=seed
        )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": out,
                    "parameter": name,
                    "mu": float(res["mu"][i]),
                    "mu_star": float(res["mu_star"][i]),
                    "mu_star_conf": float(res["mu_star_conf"][i]),
                    "sigma": float(res["sigma"][i]),
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- scenario discovery
@dataclass
class Box:
    """A box of PRIM's peeling trajectory: limits per parameter and how well it captures the cases."""

    limits: dict[str, tuple[Any, Any]]
    coverage: float
    density: float
    mass: float
    n: int
    n_cases: int


@dataclass
class PrimResult:
    """PRIM's peeling trajectory, the chosen box and its rules in words."""

    trajectory: list[Box]
    chosen: Box
    full: dict[str, tuple[Any, Any]]
    base_rate: float
    n: int
    restricted: list[str] = field(default_factory=list)

    def rules(self, digits: int = 3) -> list[str]:
        """The chosen box's limits that are tighter than the data's range, as readable conditions."""
        out = []
        for name in self.restricted:
            lo, hi = self.chosen.limits[name]
            flo, fhi = self.full[name]
            if isinstance(lo, frozenset):
                out.append(f"{name} in {{{', '.join(sorted(map(str, lo)))}}}")
                continue
            parts = []
            if lo > flo:
                parts.append(f"{name} >= {lo:.{digits}g}")
            if hi < fhi:
                parts.append(f"{name} <= {hi:.{digits}g}")
            if len(parts) == 2:
                out.append(f"{lo:.{digits}g} <= {name} <= {hi:.{digits}g}")
            elif parts:
                out.append(parts[0])
        return out

    def describe(self, what: str = "cases") -> str:
        """E.g. 'trust_mean >= 0.42 and support >= 0.3 (coverage 80%, density 93%, 40 of 128 points)'."""
        rules = self.rules()
        cond = " and ".join(rules) if rules else "anywhere (no restriction improves on the base rate)"
        b = self.chosen
        return (
            f"{cond}  [coverage {b.coverage:.0%} of {what}, density {b.density:.0%} "
            f"(base rate {self.base_rate:.0%}), {b.n} of {self.n} points]"
        )


def prim(
    x: pd.DataFrame, y: Sequence[bool] | np.ndarray, alpha: float = 0.05, min_mass: float = 0.05, threshold: float = 0.8
) -> PrimResult:
    """Patient Rule Induction Method (Friedman & Fisher 1999), peeling only, as in EMA Workbench.

    Starting from the whole sample, repeatedly peel off the ``alpha`` share of points at the low
    or high end of one parameter (or one category of a categorical one) that most raises the
    share of cases of interest in the box, until the box would hold less than ``min_mass`` of
    the points. The chosen box is the one of highest coverage whose density reaches
    ``threshold``; if none does, the densest box.

    Args:
        x: parameters, one row per point.
        y: whether each point is a case of interest.
        alpha: share peeled per step.
        min_mass: smallest box, as a share of the points.
        threshold: density the chosen box must reach.

    """
    y = np.asarray(y, dtype=bool)
    n = len(y)
    if n == 0 or len(x) != n:
        raise ValueError("prim needs one outcome per row of x")
    cols = list(x.columns)
    numeric = {c: pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c]) for c in cols}
    values = {c: x[c].to_numpy() for c in cols}
    full: dict[str, tuple[Any, Any]] = {
        c: (float(np.min(values[c])), float(np.max(values[c]))) if numeric[c] else (frozenset(values[c].tolist()), None)
        for c in cols
    }
    inside = np.ones(n, dtype=bool)
    limits = dict(full)
    total_cases = max(int(y.sum()), 1)

    def box(mask: np.ndarray, lim: dict[str, tuple[Any, Any]]) -> Box:
        k = int(mask.sum())
        cases = int(y[mask].sum())
        return Box(dict(lim), cases / total_cases, cases / k if k else 0.0, k / n, k, cases)

    trajectory = [box(inside, limits)]
    while True:
        best: tuple[float, np.ndarray, dict[str, tuple[Any, Any]]] | None = None
        k_in = int(inside.sum())
        for c in cols:
            v = values[c]
            candidates: list[tuple[np.ndarray, tuple[Any, Any]]] = []
            if numeric[c]:
                vin = v[inside].astype(float)
                vmin, vmax = float(vin.min()), float(vin.max())
                lo, hi = limits[c]
                lo_q, hi_q = float(np.quantile(vin, alpha)), float(np.quantile(vin, 1 - alpha))
                # Peel at least one distinct value, even when many points tie at the edge.
                low = inside & ((v >= lo_q) if lo_q > vmin else (v > vmin))
                high = inside & ((v <= hi_q) if hi_q < vmax else (v < vmax))
                if low.any():
                    candidates.append((low, (float(v[low].min()), hi)))
                if high.any():
                    candidates.append((high, (lo, float(v[high].max()))))
            else:
                cats = limits[c][0]
                if len(cats) > 1:
                    for cat in cats:
                        keep = frozenset(cats - {cat})
                        candidates.append((inside & np.isin(v, list(keep)), (keep, None)))
            for mask, lim in candidates:
                k = int(mask.sum())
                if k == k_in or k < max(1, math.ceil(min_mass * n)):
                    continue
                dens = float(y[mask].mean())
                if best is None or dens > best[0]:
                    new_limits = dict(limits)
                    new_limits[c] = lim
                    best = (dens, mask, new_limits)
        if best is None or best[0] <= trajectory[-1].density:
            break
        _, inside, limits = best
        trajectory.append(box(inside, limits))
    reaching = [b for b in trajectory if b.density >= threshold]
    chosen = (
        max(reaching, key=lambda b: (b.coverage, b.density)) if reaching else max(trajectory, key=lambda b: b.density)
    )
    restricted = [c for c in cols if chosen.limits[c] != full[c]]
    return PrimResult(trajectory, chosen, full, float(y.mean()), n, restricted)

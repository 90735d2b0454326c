"""Where each arm wins: winners point by point, and the conditions that describe them.

An experiment's ``experiment.analysis.conditions`` block asks, at every point of a sampled design
(LHS, Sobol'), which arm does best on each measure, and then where in the sampled space each arm
wins (issue 14, ``experiments/conditions``):

- **winner**: at a point, the arm with the best mean over replications (in the direction the
  glossary gives the measure) wins only where its paired 95 % interval (common seeds) against
  *every* other arm excludes zero in its favour; otherwise the point is a ``tie``. With
  ``multiplicity: bh`` a win also needs the place's p value to survive Benjamini-Hochberg over the
  measure's places (a 5 % false discovery rate; :func:`winners`);
- **share**: the share of the sampled points each arm wins, per measure (and the share of ties),
  with a 95 % Wilson score interval (:func:`share_interval`): a share is an estimate from a few
  dozen or hundred places, not an exact figure;
- **PRIM** (Friedman & Fisher 1999), by ``ema_workbench``: for each measure and each arm that wins
  somewhere, one box of the parameters that holds most of its wins (coverage) and in which it
  mostly wins (density);
- **classification tree** (scikit-learn's ``DecisionTreeClassifier``): the winner (tie included)
  against the parameters; each leaf is a rule with its coverage and density, and the tree's
  feature importances rank the conditions that decide the winner;
- **defaults**: the model's default value of each swept parameter, the tree's prediction at the
  default parameterisation, and the splits on its path that decide it (with who wins on the
  other side of each), so the report can state which defaults decide the winner.

Files written into the sweep folder (read back by :mod:`sim.present.report`, never recomputed):
``conditions_winners.csv``, ``conditions_share.csv``, ``conditions_rules.csv``,
``conditions_importance.csv``, ``conditions_defaults.csv`` and the map ``conditions_map.*``.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError
from sim.sweep import analysis as an

TIE = "tie"
CONDITIONS_KEYS = (
    "measures",
    "arms",
    "threshold",
    "peel_alpha",
    "mass_min",
    "qp_max",
    "max_depth",
    "min_leaf",
    "multiplicity",
)
# How a place's winner test allows for testing many places: "none", each place on its own (its paired
# 95 % intervals), or "bh", Benjamini-Hochberg over a measure's places (a 5 % false discovery rate).
MULTIPLICITY = ("none", "bh")
WIN_LEVEL = 0.05  # a place's test level (the 95 % intervals), and with "bh" the false discovery rate
SAMPLED = ("lhs", "sobol", "morris")
WINNERS_FILE = "conditions_winners.csv"
SHARE_FILE = "conditions_share.csv"
RULES_FILE = "conditions_rules.csv"
IMPORTANCE_FILE = "conditions_importance.csv"
DEFAULTS_FILE = "conditions_defaults.csv"
MAP_STEM = "conditions_map"
# The share table's columns: the first five are a contract (readers, the ledger); the interval is appended.
SHARE_COLUMNS = ("measure", "regime", "points", "of", "share", "share_low", "share_high")
SHARE_CONFIDENCE = 0.95
# How a condition is written in the tables: "services.ethos_mean <= 0.42" (the report puts it in words).
CONDITION_FORMAT = "{key} {op} {value:.3g}"


@dataclass
class ConditionsSpec:
    """The validated ``experiment.analysis.conditions`` block.

    Attributes:
        measures: the metric columns judged (each with a better direction in the glossary).
        arms: the arms compared (default: every arm of the experiment).
        threshold: the density a PRIM box must reach to be chosen (the highest-coverage such box
            on the peeling trajectory; if none reaches it, the densest box).
        peel_alpha: PRIM's peeling share.
        mass_min: PRIM's smallest box, as a share of the points.
        qp_max: a restriction of the chosen box is kept only where its quasi-p value (Bryant &
            Lempert 2010: a one-sided binomial test of the box with that restriction lifted) is at
            most this on some restricted side; the others are dropped.
        max_depth: the classification tree's depth (a few levels, so its rules stay readable).
        min_leaf: the tree's smallest leaf, as a share of the points.
        design: the sweep's design (``lhs``, ``sobol`` or ``morris``): the share intervals assume
            places drawn independently or by a Latin hypercube; a Sobol' (Saltelli) or Morris
            design's points share coordinates by construction, so its shares get no interval.
        multiplicity: ``none`` (each place's winner test on its own) or ``bh`` (a win also needs
            its place's p value to survive Benjamini-Hochberg over the measure's places at a 5 %
            false discovery rate): see :func:`winners`.

    """

    measures: list[str]
    arms: list[str] = field(default_factory=list)
    threshold: float = 0.8
    peel_alpha: float = 0.05
    mass_min: float = 0.05
    qp_max: float = 0.05
    max_depth: int = 3
    min_leaf: float = 0.05
    design: str = "lhs"
    multiplicity: str = "none"


# The designs whose points are independent draws, or stratified ones no less precise (LHS): a
# share's Wilson interval holds for them (share_interval).
INTERVAL_DESIGNS = ("lhs",)


def better_direction(metric: str) -> str:
    """``higher`` or ``lower``: the glossary's better direction of a measure (``neither`` if it gives none)."""
    from sim.glossary import load_glossary

    try:
        better = load_glossary().get(metric, "Measures").better
    except (KeyError, OSError):
        better = ""
    if better in ("higher", "lower"):
        return better
    return "lower" if metric in an.LOWER_IS_BETTER else "neither"


def parse_conditions(
    raw: Any, arms: Sequence[str], metrics: Sequence[str], design: str, key: str = "experiment.analysis.conditions"
) -> ConditionsSpec | None:
    """Validate the conditions block (``None`` if there is none).

    Raises:
        ConfigError: naming the key and what is allowed.

    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{key}: a mapping with keys {', '.join(CONDITIONS_KEYS)}")
    for k in raw:
        if k not in CONDITIONS_KEYS:
            raise ConfigError(f"{key}.{k}: unknown option; allowed: {', '.join(CONDITIONS_KEYS)}")
    if design not in SAMPLED:
        raise ConfigError(
            f"{key}: where each arm wins needs a sampled design (experiment.sweep.design: one of "
            f"{', '.join(SAMPLED)}), got {design!r}"
        )
    measures = raw.get("measures")
    if not isinstance(measures, list | tuple) or not measures:
        raise ConfigError(f"{key}.measures: a non-empty list of metrics (sim.metrics.COLUMNS)")
    for i, m in enumerate(measures):
        if m not in metrics:
            raise ConfigError(f"{key}.measures[{i}]={m!r} is not a metric; see sim.metrics.COLUMNS")
        if better_direction(str(m)) == "neither":
            raise ConfigError(
                f"{key}.measures[{i}]={m!r} has no better direction in docs/glossary.md; allowed: a measure "
                "whose glossary entry says *better* higher or lower"
            )
    chosen = list(raw.get("arms") or arms)
    for i, a in enumerate(chosen):
        if a not in arms:
            raise ConfigError(f"{key}.arms[{i}]={a!r} is not an arm; arms: {', '.join(arms)}")
    if len(chosen) < 2:
        raise ConfigError(f"{key}.arms: at least two arms to compare, got {chosen!r}")

    multiplicity = raw.get("multiplicity", "none")
    if multiplicity not in MULTIPLICITY:
        raise ConfigError(
            f"{key}.multiplicity={multiplicity!r}: allowed: none (each place tested on its own) or bh "
            "(Benjamini-Hochberg over the places, a 5% false discovery rate)"
        )

    def number(name: str, default: float, lo: float, hi: float, whole: bool = False) -> Any:
        v = raw.get(name, default)
        ok = isinstance(v, int | float) and not isinstance(v, bool) and lo <= v <= hi
        if whole:
            ok = ok and float(v).is_integer()
        if not ok:
            kind = "a whole number" if whole else "a number"
            raise ConfigError(f"{key}.{name}={v!r}: allowed: {kind} from {lo:g} to {hi:g}")
        return int(v) if whole else float(v)

    return ConditionsSpec(
        measures=[str(m) for m in measures],
        arms=[str(a) for a in chosen],
        threshold=number("threshold", 0.8, 0.0, 1.0),
        peel_alpha=number("peel_alpha", 0.05, 0.01, 0.5),
        mass_min=number("mass_min", 0.05, 0.0, 0.5),
        qp_max=number("qp_max", 0.05, 0.0, 1.0),
        max_depth=number("max_depth", 3, 1, 8, whole=True),
        min_leaf=number("min_leaf", 0.05, 0.0, 0.5),
        design=design,
        multiplicity=multiplicity,
    )


# ---------------------------------------------------------------------- winners point by point
def paired_p(d: np.ndarray) -> float:
    """Two-sided p value of a paired t-test that ``d`` (one arm minus another, better side positive) is zero.

    1 where the mean difference is not on the better side (the test is of a win), 0 where every
    difference is the same positive number, NaN for fewer than two pairs. Below 0.05 exactly where
    the pairs' 95 % t-interval lies wholly above zero (the same t quantile, up to rounding).
    """
    n = d.size
    if n < 2:
        return math.nan
    mean, sd = float(d.mean()), float(np.std(d, ddof=1))
    if not mean > 0:
        return 1.0
    if sd == 0:
        return 0.0
    from scipy import stats

    return float(min(1.0, 2.0 * stats.t.sf(mean / (sd / math.sqrt(n)), n - 1)))


def winners(
    per_run: pd.DataFrame, arms: Sequence[str], measures: Sequence[str], multiplicity: str = "none"
) -> pd.DataFrame:
    """The winner of every point on every measure, with the margin over the runner-up.

    At a point, the arm with the best mean over replications is the candidate. It wins only where
    the 95 % t-interval of its paired differences (common seeds: same point, same replication)
    with every other arm lies wholly on its better side of zero; otherwise the point is a tie.

    A place's p value is that of the same test as one intersection-union test (Berger 1982): the
    largest of the candidate's paired p values (:func:`paired_p`) against the other arms. Each
    place's test holds its 5 % level, but over hundreds of places where arms are tied some 5 % of
    them still show a winner by chance. With ``multiplicity="bh"`` a win also needs the place's
    p value, adjusted by Benjamini & Hochberg (1995) over the measure's places
    (``scipy.stats.false_discovery_control``), to be at most 0.05: of the wins declared, at most
    5 % are expected to be false (places whose test cannot be made count as p = 1).

    Args:
        per_run: one row per run: ``arm``, ``point``, ``replication`` and the measures.
        arms: the arms compared.
        measures: the measures judged.
        multiplicity: one of :data:`MULTIPLICITY`.

    Returns:
        One row per point and measure: ``winner`` (an arm or ``tie``), ``best`` (the candidate),
        ``runner_up`` (the next-best arm by mean), ``diff`` / ``ci_low`` / ``ci_high`` (best minus
        runner-up, paired, 95 % interval; in the measure's own units, so negative is better for a
        lower-is-better measure), ``n`` (pairs), ``better`` (the direction); then ``p`` (the
        place's p value), ``p_adjusted`` (Benjamini-Hochberg over the measure's places, whichever
        rule decided) and ``multiplicity`` (the rule that decided ``winner``).

    Raises:
        ValueError: ``multiplicity`` not one of :data:`MULTIPLICITY`.

    """
    if multiplicity not in MULTIPLICITY:
        raise ValueError(f"multiplicity={multiplicity!r}: allowed: {', '.join(MULTIPLICITY)}")
    from scipy.stats import false_discovery_control

    rows = []
    sub = per_run[per_run["arm"].isin(arms)]
    for m in measures:
        sign = 1.0 if better_direction(m) == "higher" else -1.0
        wide = sub.pivot_table(index=["point", "replication"], columns="arm", values=m, aggfunc="first")
        wide = wide.reindex(columns=list(arms))
        first = len(rows)
        for point, t in wide.groupby(level="point", sort=True):
            t = t.dropna(axis=0, how="any")
            if len(t) == 0:
                continue
            means = t.mean()
            order = (sign * means).sort_values(ascending=False, kind="mergesort").index.tolist()
            best, runner = order[0], order[1]
            n = len(t)
            wins_all = True
            p_others = []
            for other in order[1:]:
                d = sign * (t[best] - t[other]).to_numpy(dtype=float)
                half = float(an.t_half_width(np.std(d, ddof=1), n)) if n > 1 else math.nan
                if not (n > 1 and math.isfinite(half) and d.mean() - half > 0):
                    wins_all = False
                p_others.append(paired_p(d))
            p_place = math.nan if any(math.isnan(p) for p in p_others) else max(p_others)
            d = (t[best] - t[runner]).to_numpy(dtype=float)
            half = float(an.t_half_width(np.std(d, ddof=1), n)) if n > 1 else math.nan
            rows.append(
                {
                    "point": int(point),
                    "measure": m,
                    "better": better_direction(m),
                    "winner": best if wins_all else TIE,
                    "best": best,
                    "runner_up": runner,
                    "diff": float(d.mean()),
                    "ci_low": float(d.mean()) - half,
                    "ci_high": float(d.mean()) + half,
                    "n": n,
                    "p": p_place,
                    "multiplicity": multiplicity,
                }
            )
        placed = rows[first:]
        if placed:
            ps = np.array([1.0 if math.isnan(r["p"]) else r["p"] for r in placed])
            for r, adjusted in zip(placed, false_discovery_control(ps, method="bh"), strict=True):
                r["p_adjusted"] = float(adjusted)
                if multiplicity == "bh" and not adjusted <= WIN_LEVEL:
                    r["winner"] = TIE
    columns = [
        *("point", "measure", "better", "winner", "best", "runner_up", "diff", "ci_low", "ci_high", "n"),
        *("p", "p_adjusted", "multiplicity"),
    ]
    return pd.DataFrame(rows, columns=columns)


def share_interval(k: int, n: int, confidence: float = SHARE_CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval (Wilson 1927) of a share of ``k`` wins in ``n`` sampled places.

    Computed by SciPy (``binomtest(k, n).proportion_ci(method="wilson")``). Wilson's interval
    keeps its coverage near the nominal level for shares near 0 or 1 and small ``n`` (Newcombe
    1998), where the textbook normal (Wald) interval collapses to a single point at 0 of ``n``;
    its bounds stay within [0, 1]. It treats the places as independent draws; a Latin hypercube's
    share is never less precise than one from ``n - 1`` independent places (Owen 1997), so the
    interval is at most a factor sqrt(n / (n - 1)) too narrow, and wider than needed insofar as
    single conditions explain who wins. It covers which places were drawn, not the winner test's
    own dependence on the number of replications (docs/conditions.md).

    Args:
        k: places won (0 to ``n``).
        n: places sampled; with none, there is no interval: ``(nan, nan)``.
        confidence: the interval's confidence level.

    Returns:
        (low, high), as shares from 0 to 1.

    Raises:
        ValueError: ``k`` outside 0..``n``, or ``confidence`` outside (0, 1).

    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r}: allowed: a number between 0 and 1 (exclusive)")
    if n <= 0:
        return math.nan, math.nan
    if not 0 <= k <= n:
        raise ValueError(f"k={k!r} wins of n={n!r} places: allowed: k from 0 to n")
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    # Clipped: at 0 or n wins a bound is 0 or 1 up to rounding in the last bit.
    return max(0.0, float(ci.low)), min(1.0, float(ci.high))


def shares(table: pd.DataFrame, arms: Sequence[str], interval: bool = True) -> pd.DataFrame:
    """Per measure, the number and share of the sampled points each arm wins (and the ties).

    Args:
        table: the winners (:func:`winners`).
        arms: the compared arms, in the order the table lists them.
        interval: give each share its 95 % interval (a design of independent or Latin hypercube
            points, :data:`INTERVAL_DESIGNS`); otherwise the interval columns are NaN.

    Returns:
        One row per measure and arm (then ``tie``), columns :data:`SHARE_COLUMNS`: ``points``
        won of ``of``, ``share`` = points / of, and its 95 % Wilson interval ``share_low`` /
        ``share_high`` (:func:`share_interval`).

    """
    rows = []
    for m, t in table.groupby("measure", sort=False):
        total = len(t)
        for who in [*arms, TIE]:
            k = int((t["winner"] == who).sum())
            low, high = share_interval(k, total) if interval else (math.nan, math.nan)
            rows.append(
                {
                    "measure": m,
                    "regime": who,
                    "points": k,
                    "of": total,
                    "share": k / total if total else 0.0,
                    "share_low": low,
                    "share_high": high,
                }
            )
    return pd.DataFrame(rows, columns=list(SHARE_COLUMNS))


# ---------------------------------------------------------------------- scenario discovery
def _condition(key: str, op: str, value: float) -> str:
    return CONDITION_FORMAT.format(key=key, op=op, value=value)


def _inside(limits: Mapping[str, tuple[float, float]], point: Mapping[str, float]) -> bool:
    return all(lo <= float(point[k]) <= hi for k, (lo, hi) in limits.items() if k in point)


def prim_box(
    x: pd.DataFrame, y: np.ndarray, threshold: float, peel_alpha: float, mass_min: float, qp_max: float = 0.05
) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """One PRIM box (ema_workbench) for the cases ``y``: its restricted limits and its statistics.

    The box is the highest-coverage one on the peeling (and pasting) trajectory whose density
    reaches ``threshold``; if none does, the densest. Its restrictions whose quasi-p values
    exceed ``qp_max`` on every restricted side are then dropped (ema_workbench's
    ``drop_restriction``), as Bryant & Lempert (2010) advise: with a few dozen points PRIM peels
    on chance, and those peels would read as conditions. The statistics are the final box's.

    Returns:
        (limits of the restricted parameters as (low, high), {coverage, density, mass, n, k}).

    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ema_workbench warns on import that ipyparallel is absent
        from ema_workbench.analysis import prim as ema_prim
    logging.getLogger("EMA").setLevel(logging.WARNING)
    logging.getLogger("EMA.ema_workbench.analysis.prim").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas FutureWarnings inside ema_workbench's trajectory table
        p = ema_prim.Prim(x.astype(float), y.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
        box = p.find_box()
    traj = box.peeling_trajectory.reset_index(drop=True)
    reaching = traj[traj["density"] >= threshold]
    if len(reaching):
        i = int(reaching.sort_values(["coverage", "density"], ascending=False, kind="mergesort").index[0])
    else:
        i = int(traj["density"].to_numpy(dtype=float).argmax())
    weak = [d for d, sides in box.p_values[i].items() if all(q < 0 or q > qp_max for q in sides)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dim in weak:
            box.drop_restriction(dim, i)
            i = len(box.peeling_trajectory) - 1  # each drop adds the lifted box to the trajectory
    traj = box.peeling_trajectory.reset_index(drop=True)
    lims = box.box_lims[i]
    init = box.box_lims[0]
    limits = {
        str(c): (float(lims[c].iloc[0]), float(lims[c].iloc[1]))
        for c in lims.columns
        if not (lims[c].iloc[0] == init[c].iloc[0] and lims[c].iloc[1] == init[c].iloc[1])
    }
    r = traj.iloc[i]
    stats = {k: float(r[k]) for k in ("coverage", "density", "mass", "n", "k")}
    return limits, stats


def _limit_words(limits: Mapping[str, tuple[float, float]], full: Mapping[str, tuple[float, float]]) -> str:
    parts = []
    for key, (lo, hi) in limits.items():
        flo, fhi = full[key]
        if lo > flo:
            parts.append(_condition(key, ">=", lo))
        if hi < fhi:
            parts.append(_condition(key, "<=", hi))
    return " and ".join(parts) or "anywhere"


def prim_rules(
    x: pd.DataFrame, table: pd.DataFrame, arms: Sequence[str], spec: ConditionsSpec, defaults: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Per measure and arm that wins at some point: its PRIM box with coverage and density."""
    rows = []
    full = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    for m, t in table.groupby("measure", sort=False):
        t = t.set_index("point").reindex(range(len(x)))
        ok = t["winner"].notna().to_numpy()
        for arm in arms:
            y = (t["winner"] == arm).to_numpy()[ok]
            if not y.any():
                continue
            limits, s = prim_box(
                x[ok].reset_index(drop=True), y, spec.threshold, spec.peel_alpha, spec.mass_min, spec.qp_max
            )
            rows.append(
                {
                    "method": "prim",
                    "measure": m,
                    "regime": arm,
                    "conditions": _limit_words(limits, full),
                    "wins": int(y.sum()),
                    "points_in_box": int(s["n"]),
                    "wins_in_box": int(s["k"]),
                    "points": int(ok.sum()),
                    "coverage": s["coverage"],
                    "density": s["density"],
                    "base_rate": float(y.mean()),
                    "defaults_inside": bool(_inside(limits, defaults)) if defaults else False,
                }
            )
    return rows


def _tree(x: pd.DataFrame, labels: np.ndarray, spec: ConditionsSpec) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    leaf = max(1, math.ceil(spec.min_leaf * len(x)))
    model = DecisionTreeClassifier(max_depth=spec.max_depth, min_samples_leaf=leaf, random_state=0)
    return model.fit(x.to_numpy(dtype=float), labels)


def _paths(model: Any, names: Sequence[str]) -> dict[int, list[tuple[int, str, float, int]]]:
    """Each leaf's path from the root: (node, feature, threshold, 0 for the left '<=' branch or 1 for '>')."""
    tree = model.tree_
    out: dict[int, list[tuple[int, str, float, int]]] = {}

    def walk(node: int, path: list[tuple[int, str, float, int]]) -> None:
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:  # a leaf
            out[node] = path
            return
        f, thr = names[tree.feature[node]], float(tree.threshold[node])
        walk(left, [*path, (node, f, thr, 0)])
        walk(right, [*path, (node, f, thr, 1)])

    walk(0, [])
    return out


def _path_words(path: Sequence[tuple[int, str, float, int]]) -> str:
    # Merge repeated splits on one parameter into its tightest bounds.
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    order: list[str] = []
    for _, f, thr, side in path:
        if f not in order:
            order.append(f)
        if side == 0:
            hi[f] = min(hi.get(f, math.inf), thr)
        else:
            lo[f] = max(lo.get(f, -math.inf), thr)
    parts = []
    for f in order:
        if f in lo:
            parts.append(_condition(f, ">", lo[f]))
        if f in hi:
            parts.append(_condition(f, "<=", hi[f]))
    return " and ".join(parts) or "anywhere"


def tree_rules(
    x: pd.DataFrame, table: pd.DataFrame, arms: Sequence[str], spec: ConditionsSpec, defaults: Mapping[str, float]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Per measure, a classification tree of the winner: leaf rules, importances, and its reading at the defaults.

    Returns:
        (rules: one row per leaf whose majority is an arm; importances: one row per parameter;
        defaults: the predicted winner at the default point, with the splits on its path and the
        majority winner on the other side of each).

    """
    rules, importance, at_defaults = [], [], []
    names = list(x.columns)
    for m, t in table.groupby("measure", sort=False):
        t = t.set_index("point").reindex(range(len(x)))
        ok = t["winner"].notna().to_numpy()
        xs = x[ok].reset_index(drop=True)
        labels = t["winner"].to_numpy()[ok].astype(str)
        model = _tree(xs, labels, spec)
        for name, imp in zip(names, model.feature_importances_, strict=True):
            importance.append({"measure": m, "parameter": name, "importance": float(imp)})
        leaves = model.apply(xs.to_numpy(dtype=float))
        paths = _paths(model, names)
        for leaf, path in paths.items():
            here = labels[leaves == leaf]
            if not len(here):
                continue
            values, counts = np.unique(here, return_counts=True)
            who = str(values[np.argmax(counts)])
            if who == TIE:
                continue
            k = int((here == who).sum())
            rules.append(
                {
                    "method": "tree",
                    "measure": m,
                    "regime": who,
                    "conditions": _path_words(path),
                    "wins": int((labels == who).sum()),
                    "points_in_box": len(here),
                    "wins_in_box": k,
                    "points": len(labels),
                    "coverage": k / max(int((labels == who).sum()), 1),
                    "density": k / len(here),
                    "base_rate": float((labels == who).mean()),
                    "defaults_inside": False,
                }
            )
        if defaults and all(n in defaults for n in names):
            point = np.array([[float(defaults[n]) for n in names]])
            leaf = int(model.apply(point)[0])
            for r in rules:
                if r["method"] == "tree" and r["measure"] == m and r["conditions"] == _path_words(paths[leaf]):
                    r["defaults_inside"] = True
            here = labels[leaves == leaf]
            values, counts = np.unique(here, return_counts=True)
            predicted = str(values[np.argmax(counts)])
            other_sides = []
            for node, f, thr, side in paths[leaf]:
                # The points that reach this split but go the other way: who wins most of them.
                reach = np.array([node in [p[0] for p in paths[lf]] for lf in leaves])
                go = xs[f].to_numpy(dtype=float) <= thr
                other = reach & (go if side == 1 else ~go)
                if other.any():
                    v, c = np.unique(labels[other], return_counts=True)
                    other_sides.append(
                        f"{_condition(f, '<=' if side == 1 else '>', thr)}: {v[np.argmax(c)]} "
                        f"({int(c.max())} of {int(other.sum())})"
                    )
            at_defaults.append(
                {
                    "measure": m,
                    "predicted": predicted,
                    "leaf_density": float((here == predicted).mean()) if len(here) else math.nan,
                    "leaf_points": len(here),
                    "deciding": _path_words(paths[leaf]),
                    "otherwise": "; ".join(other_sides),
                }
            )
    return rules, importance, at_defaults


def default_values(config: Mapping[str, Any], parameters: Sequence[str]) -> dict[str, float]:
    """The default of each swept parameter, read from a resolved config (nested mapping)."""
    out = {}
    for p in parameters:
        node: Any = config
        for part in p.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, int | float) and not isinstance(node, bool):
            out[p] = float(node)
    return out


def model_defaults(parameters: Sequence[str]) -> dict[str, float]:
    """The model's defaults (``SimConfig()`` as composed from configs/config.yaml) of the swept parameters."""
    from omegaconf import OmegaConf

    from sim.config import compose

    cfg = OmegaConf.to_container(compose([]), resolve=True)
    return default_values(cfg if isinstance(cfg, Mapping) else {}, parameters)


def parameter_basis(key: str) -> str:
    """Whether a parameter's default is ``sourced``, set by a ``pattern``, or an ``assumption`` (docs/parameters.md).

    Read from the ``source`` of its ``param(...)`` metadata in :mod:`sim.config`: none, or one that
    starts "stylised", is an assumption; "pattern:" is a default chosen to keep a pattern from the
    evidence (docs/patterns.md); any other source is sourced.
    """
    import dataclasses

    from sim.config import SimConfig

    node: Any = SimConfig()
    meta: Mapping[str, Any] = {}
    for part in key.split("."):
        if not dataclasses.is_dataclass(node):
            return "assumption"
        found = next((f for f in dataclasses.fields(node) if f.name == part), None)
        if found is None:
            return "assumption"
        meta, node = found.metadata, getattr(node, part)
    source = str(meta.get("source") or "").strip()
    if not source or source.lower().startswith("stylised"):
        return "assumption"
    if source.lower().startswith("pattern"):
        return "pattern"
    return "sourced"


@dataclass
class ConditionsResult:
    """What :func:`analyse_conditions` wrote."""

    winners: pd.DataFrame
    shares: pd.DataFrame
    rules: pd.DataFrame
    importance: pd.DataFrame
    defaults: pd.DataFrame
    files: list[Path] = field(default_factory=list)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    default_values: dict[str, float] = field(default_factory=dict)


def analyse_conditions(
    points: pd.DataFrame, per_run: pd.DataFrame, spec: ConditionsSpec, folder: Path
) -> ConditionsResult:
    """Winners, shares, PRIM and tree rules and importances, written into ``folder`` (the map: the report's).

    Args:
        points: the design's points (one row per point, one column per swept parameter).
        per_run: one row per run (:func:`sim.sweep.analysis.end_of_run`).
        spec: the conditions block.
        folder: the sweep folder.

    """
    x = points.reset_index(drop=True).astype(float)
    table = winners(per_run, spec.arms, spec.measures, spec.multiplicity)
    share = shares(table, spec.arms, interval=spec.design in INTERVAL_DESIGNS)
    defaults = model_defaults(list(x.columns))
    rules = prim_rules(x, table, spec.arms, spec, defaults)
    t_rules, importance, at_defaults = tree_rules(x, table, spec.arms, spec, defaults)
    rules_df = pd.DataFrame([*rules, *t_rules])
    imp = pd.DataFrame(importance)
    ranges = pd.DataFrame(
        [
            {
                "parameter": c,
                "default": defaults.get(c, math.nan),
                "low": float(x[c].min()),
                "high": float(x[c].max()),
                "basis": parameter_basis(c),
            }
            for c in x.columns
        ]
    )
    at = pd.DataFrame(at_defaults)
    files = []
    for frame, name in (
        (table, WINNERS_FILE),
        (share, SHARE_FILE),
        (rules_df, RULES_FILE),
        (imp, IMPORTANCE_FILE),
        (at, DEFAULTS_FILE),
        (ranges, "conditions_ranges.csv"),
    ):
        path = folder / name
        tmp = path.with_name(f".{name}.tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(path)
        files.append(path)
    return ConditionsResult(table, share, rules_df, imp, at, files, x, defaults)

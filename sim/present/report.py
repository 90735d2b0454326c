"""A report people read: ``report.html`` and its Markdown twin, built from a saved folder.

:func:`build_report` reads only the files an experiment wrote (``config.yaml``, ``plan.json``,
``provenance.json``, ``summary.csv``, ``differences.csv``, ``scenario_rules.csv``, ``fit.csv``,
``timeseries.parquet``, the figures and their CSVs); it never runs the model. It works for sweeps,
single runs and the public-goods lab. It writes:

- ``differences_over_time.png``/``.svg``/``.csv``: paired differences between the compared arms
  month by month, with 95 % intervals (when the experiment compares arms);
- ``report.html``: one self-contained page (figures embedded as base64 PNG, inline CSS, no
  scripts, nothing fetched from the network) that works offline;
- ``report.md``: the same report in Markdown, followed by the sweep's own run log.

The page opens with its **answer**: sentences built from the numbers that answer the
experiment's question (:func:`answer`). Every sentence that reads a figure is built by a function
that returns the text together with the numbers it quotes (:class:`Sentence`), each taken from
the figure's CSV, so tests can check them. Words follow :mod:`sim.present.words`: values in the
reader's units, differences below the smallest that matters called negligible, directions
called better or worse only where the glossary says which way is better.
``python -m sim report FOLDER`` rebuilds both files; the result depends only on the folder.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import math
import os
import re
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.present.details import DISTRIBUTION_STEM, EQUITY_STEM, REPORTED_STEM
from sim.present.figures import plot_differences_over_time as _plot_differences
from sim.present.style import pair_name, regime_periods
from sim.present.words import (
    GlossaryLinks,
    Measure,
    arm_name,
    capital,
    change,
    compare,
    join,
    lever,
    lever_value,
    lever_words,
    measure,
    number,
    reading,
    verdict,
)

REPO_DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
ODD_PATH = REPO_DOCS / "ODD.md"
RUN_LOG_MARKER = "<!-- sim report: the sweep's run log follows -->"
DIFF_STEM = "differences_over_time"
IGNORED_CONFIG = ("experiment.", "output.", "lab.", "hydra.")
CONCEPTS = ("paired_difference", "common_random_numbers", "interval_95", "end_of_run", "replications")
# Concepts a figure or table needs, added to the report's glossary when it is shown.
FIGURE_CONCEPTS = {
    "indicator_distribution": ("standard", "indicator_distribution"),
    "reported_vs_true": ("reported_outcome", "true_outcome"),
    "equity": ("deprivation", "deprivation_fifth"),
    "sensitivity": ("sensitivity_index",),
}
MAX_DIFFERENCE_POINTS = 4  # design points drawn in the differences-over-time figure (first and last beyond)
COST_SPIKES = (
    "Public cost jumps in the months forums meet (once a year by default: the negotiation frequency): seats, "
    "support and staff time are paid in the month of the round (docs/ODD.md, section 8)."
)
SCIENTIFIC = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+\b")
SPIKE = 0.005  # a spike of records just above the standard smaller than half a percentage point is none

# How to read each figure: fixed guidance shown before the sentences that read its numbers.
HOW_TO_READ = {
    "over_time": (
        "Each line is an arm's mean over its runs, month by month, with its 95% band; each arm keeps its colour "
        "in every figure of the experiment. Where an arm switches regime, the months under each regime are shaded."
    ),
    DIFF_STEM: (
        "Each line is one arm minus another on the same seeds, month by month, with its 95% band: above the zero "
        "line the first arm is higher. Differences are drawn in black and greys, told apart by line style."
    ),
    "response": (
        "Each line is an arm's end-of-run mean (last 12 months) at each value of the swept lever, with its 95% "
        "band. A log scale spreads out the small values, where a change often happens."
    ),
    "sufficiency": (
        "How the standard error of each end-of-run mean falls as runs are added; a curve that still falls "
        "steeply at the right needs more runs."
    ),
    DISTRIBUTION_STEM: (
        "Bars are where the recorded case values fall around the standard (the dashed line; right of it passes), "
        "the black line where the cases' true values fall; all panels share one scale. Where no record is moved "
        "the bars follow the line; a spike in the bar just right of the standard is records moved to pass "
        "(Bevan & Hood 2006). A panel of months under a regime without targets can still spike when the run had "
        "targets before: services move staff time away from gaming only gradually (organisational inertia, "
        "docs/ODD.md), so records go on being moved for a while after the targets go."
    ),
    REPORTED_STEM: (
        "One dot per service and run: across, the outcome its citizens live with; up, what its records say. "
        "Above the diagonal the record says more than people get; crosses are the means."
    ),
    EQUITY_STEM: (
        "Communities are ranked by deprivation into fifths (1 least, 5 most deprived); a line that falls to the "
        "right means the most deprived fare worst."
    ),
    "lab_fit": (
        "Thin grey lines are the laboratory cities, the grey band their range and the black line their mean; "
        "the coloured line is the model's mean with its 95% band."
    ),
    "sensitivity": (
        "Longer bars mean the measure depends more on that lever or parameter; the whiskers are 95% intervals."
    ),
    "conditions_map": (
        "One panel per measure. Each dot is a sampled place (a point of the sampled design); its axes are the two "
        "conditions the measure's classification tree leans on most, and its colour the arm that wins there (the "
        "sentences below say what a win needs). Hollow grey dots are ties (no arm does better than all others "
        "beyond noise). The black star is the model's default parameterisation."
    ),
}


@dataclass(frozen=True)
class Sentence:
    """A sentence reading a figure or a table, with the numbers it quotes.

    Attributes:
        text: the sentence.
        numbers: (CSV column, value as stored in the CSV, the value as the text shows it) for
            each number quoted.

    """

    text: str
    numbers: tuple[tuple[str, float, str], ...] = ()


class _Quotes:
    """Collects the numbers a sentence quotes while it is written."""

    def __init__(self) -> None:
        self.numbers: list[tuple[str, float, str]] = []

    def __call__(self, column: str, value: float, shown: str) -> str:
        self.numbers.append((column, float(value), shown))
        return shown

    def sentence(self, text: str) -> Sentence:
        out = Sentence(text, tuple(self.numbers))
        self.numbers = []
        return out


@dataclass
class Figure:
    """One figure of the report: its files, title, how to read it and the sentences that read it."""

    stem: str
    title: str
    sentences: list[Sentence] = field(default_factory=list)
    how: str = ""


def fmt(x: float) -> str:
    """A plain number as the report quotes it (no scientific notation; see :func:`~sim.present.words.number`)."""
    return number(x)


def _draws(csv: Path, metric: str) -> bool:
    """Whether a figure's CSV draws a measure."""
    table = _read_csv(csv)
    return table is not None and "metric" in table.columns and metric in set(table["metric"])


def _read_csv(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict) and v:
                out.update(_flatten(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
    return out


# --- what differs from the defaults -------------------------------------------------------------


def setup_rows(config: dict[str, Any], base_overrides: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """(parameter, default, this experiment, set by) for each setting that differs from ``SimConfig()``."""
    from sim.config import SimConfig

    defaults = _flatten(dataclasses.asdict(SimConfig()))
    given = {o.split("=", 1)[0].lstrip("+~") for o in base_overrides if "=" in o}
    rows = []
    for key, value in _flatten(config).items():
        if key.startswith(IGNORED_CONFIG) or key not in defaults or defaults[key] == value:
            continue
        source = "command line" if key in given else "experiment / configs"
        rows.append((key, str(defaults[key]), str(value), source))
    return rows


# --- the paired-differences-over-time figure -----------------------------------------------------


def point_labels(frame: pd.DataFrame, parameters: Sequence[str]) -> dict[int, str]:
    """Each design point's swept values in words, e.g. ``£0.50 per hour`` (empty without a sweep)."""
    params = [p for p in parameters if p in frame.columns]
    if "point" not in frame.columns or not params:
        return {}
    first = frame.drop_duplicates("point").set_index("point")[params]
    return {int(pt): ", ".join(lever_words(k, v) for k, v in row.items()) for pt, row in first.iterrows()}


def shown_points(points: Sequence[int]) -> list[int]:
    """The design points a figure over time draws: all of a few, else the first and the last."""
    points = sorted(points)
    return points if len(points) <= MAX_DIFFERENCE_POINTS else [points[0], points[-1]]


def paired_differences_over_time(
    ts: pd.DataFrame, differences: pd.DataFrame, parameters: Sequence[str] = ()
) -> pd.DataFrame:
    """Per compared pair, design point, metric and month: mean of a - b over common seeds, 95 % t-interval.

    With several designed points (grid, list), each is drawn when there are at most four, else the
    first and the last, and the pair's label names the point's swept values; a sampled design
    (pooled differences, no point column in ``differences``) is pooled over its points the same way.
    """
    from sim.sweep.analysis import t_half_width

    if "point" not in ts.columns:
        ts = ts.assign(point=0)
    # differences.csv has a point column when the design's points were compared one by one;
    # otherwise (a sampled design) the differences are pooled over points, paired on point and seed.
    per_point = "point" in differences.columns
    points = shown_points(ts["point"].unique().tolist()) if per_point else [-1]
    names = point_labels(ts, parameters) if len(points) > 1 else {}
    pairs = list(dict.fromkeys(zip(differences["a"], differences["b"], strict=True)))
    metrics = [m for m in dict.fromkeys(differences["metric"]) if m in ts.columns]
    rows = []
    for a, b in pairs:
        for pt in points:
            at = ts[ts["point"] == pt] if per_point else ts
            ta = at[at["arm"] == a].set_index(["point", "replication", "step"])[metrics]
            tb = at[at["arm"] == b].set_index(["point", "replication", "step"])[metrics]
            diff = (ta - tb).dropna(how="all")
            name = pair_name(a, b) + (f" ({names[pt]})" if pt in names else "")
            for m in metrics:
                agg = diff[m].groupby(level="step").agg(["mean", "std", "count"])
                n = agg["count"].to_numpy()
                half = t_half_width(agg["std"].to_numpy(), n)
                for step, mean, h, k in zip(agg.index, agg["mean"], half, n, strict=True):
                    rows.append(
                        {
                            "pair": name,
                            "a": a,
                            "b": b,
                            "point": int(pt),
                            "metric": m,
                            "step": int(step),
                            "mean": float(mean),
                            "ci_low": float(mean - h),
                            "ci_high": float(mean + h),
                            "n": int(k),
                        }
                    )
    columns = ["pair", "a", "b", "point", "metric", "step", "mean", "ci_low", "ci_high", "n"]
    return pd.DataFrame(rows, columns=columns)


def plot_differences_over_time(
    table: pd.DataFrame, folder: Path, stem: str = DIFF_STEM, periods: Sequence[tuple[str, int, int]] = ()
) -> list[Path]:
    """One panel per measure, a neutral line per pair (:func:`sim.present.figures.plot_differences_over_time`)."""
    return _plot_differences(table, folder, stem, periods)


# --- sentences that read a figure from its CSV ---------------------------------------------------


def _months(first: int, last: int) -> str:
    return f"month {first}" if first == last else f"months {first} to {last}"


def _period_words(periods: Sequence[tuple[str, int, int]]) -> list[str]:
    return [f"{_months(a, b)} (under {arm_name(r)})" for r, a, b in periods]


def read_over_time(
    csv: pd.DataFrame, limit: int = 3, periods: Sequence[tuple[str, int, int]] = (), switching: str = ""
) -> list[Sentence]:
    """Per plotted measure: how the arms compare in the last month, and how the first arm moved.

    With regime periods (an arm that switches regime), the switching arm's mean in each period.
    """
    out = []
    q = _Quotes()
    for key in list(dict.fromkeys(csv["metric"]))[:limit]:
        m = measure(key)
        t = csv[csv["metric"] == key]
        first, last = int(t["step"].min()), int(t["step"].max())
        end = t[t["step"] == last]
        start = t[t["step"] == first].set_index("arm")["mean"]
        if len(end) == 1:
            r = end.iloc[0]
            before = float(start.get(r["arm"], np.nan))
            q("mean", before, m.value(before))
            q("mean", r["mean"], m.value(r["mean"]))
            out.append(
                q.sentence(
                    f"{m.title} under {arm_name(r['arm'])} {change(m, before, r['mean'])} between month "
                    f"{q('step', first, str(first))} and month {q('step', last, str(last))}."
                )
            )
        else:
            values = [(arm_name(a), float(v)) for a, v in zip(end["arm"], end["mean"], strict=True)]
            hi, lo = max(v for _, v in values), min(v for _, v in values)
            q("mean", hi, m.value(hi))
            if m.value(hi) != m.value(lo):
                q("mean", lo, m.value(lo))
            out.append(q.sentence(f"In month {q('step', last, str(last))}, {m.name} was {compare(m, values)}."))
        if len(periods) > 1 and switching:
            s = t[t["arm"] == switching]
            parts = []
            for (_, a, b), words in zip(periods, _period_words(periods), strict=True):
                v = float(s[(s["step"] >= a) & (s["step"] <= b)]["mean"].mean())
                parts.append(f"{m.value(v)} in {words}")
            out.append(Sentence(f"Under {arm_name(switching)}, {m.name} averaged {join(parts)}."))
    return out


def _difference_clause(
    m: Measure, d: float, lo: float, hi: float, a: str, b: str, q: _Quotes, names: bool = True
) -> str:
    """``was 4.5 percentage points higher under A than under B (95% interval +3.2 to +5.8), which is better``.

    Without ``names`` (the sentence already names the pair): ``was 4.5 percentage points higher (...)``.
    """
    judged = verdict(m, d, lo, hi)
    if m.negligible(d):
        between = f" under {arm_name(a)} and {arm_name(b)}" if names else ""
        return f"was about the same{between} (a difference of {q('mean', d, m.signed(d))}: {judged})"
    way = "higher" if d > 0 else "lower"
    where = f" under {arm_name(a)} than under {arm_name(b)}" if names else ""
    interval = ""
    if math.isfinite(lo) and math.isfinite(hi):
        ends = m.interval_ends(lo, hi)
        q("ci_low", lo, ends[0])
        q("ci_high", hi, ends[1])
        interval = f" (95% interval {m.interval(lo, hi)})"
    size = q("mean", d, m.difference(d))
    text = f"was {size} {way}{where}{interval}"
    if judged.startswith("within noise"):
        return f"{text}: {judged}"
    return f"{text}, which is {judged}" if judged in ("better", "worse") else text


def read_differences_over_time(
    csv: pd.DataFrame, limit: int = 4, periods: Sequence[tuple[str, int, int]] = ()
) -> list[Sentence]:
    """The last month's difference, its interval and reading; per regime period when the run switches.

    With one line per measure panel: per measure, for the first compared pair. With several
    (pairs at several design points): per line, for the first measure.
    """
    if csv.empty:
        return []
    names = list(dict.fromkeys(csv["pair"]))
    a, b = csv["a"].iloc[0], csv["b"].iloc[0]
    first_pair = [n for n in names if n.startswith(pair_name(a, b))]
    if len(first_pair) > 1:
        cases = [(n, csv["metric"].iloc[0]) for n in names[: MAX_DIFFERENCE_POINTS + 1]]
    else:
        cases = [(names[0], k) for k in list(dict.fromkeys(csv["metric"]))[:limit]]
    out = []
    q = _Quotes()
    for name, key in cases:
        m = measure(key)
        t = csv[(csv["pair"] == name) & (csv["metric"] == key)]
        last = int(t["step"].max())
        r = t[t["step"] == last].iloc[0]
        where = name.removeprefix(pair_name(r["a"], r["b"])).strip(" ()")
        at = f" at {where}" if where else ""
        clause = _difference_clause(m, r["mean"], r["ci_low"], r["ci_high"], r["a"], r["b"], q)
        out.append(q.sentence(f"In month {q('step', last, str(last))}{at}, {m.name} {clause}."))
        if len(periods) > 1:
            parts = []
            for (_, lo, hi), words in zip(periods, _period_words(periods), strict=True):
                v = float(t[(t["step"] >= lo) & (t["step"] <= hi)]["mean"].mean())
                parts.append(f"{m.signed(v)} in {words}")
            after = t[t["step"] >= periods[1][1]]
            peak = after.loc[after["mean"].abs().idxmax()] if len(after) else None
            text = f"{capital(pair_name(r['a'], r['b']))} on {m.name}, averaged over each regime period: {join(parts)}."
            if peak is not None and not m.negligible(peak["mean"]):
                text += (
                    f" From month {periods[1][1]} on, the largest difference was "
                    f"{q('mean', peak['mean'], m.signed(peak['mean']))}, in month "
                    f"{q('step', peak['step'], str(int(peak['step'])))}."
                )
            out.append(q.sentence(text))
    return out


def _at_bin(t: pd.DataFrame, low: float) -> pd.Series:
    return t[np.isclose(t["bin_low"], low)].iloc[0]


def read_indicator_distribution(csv: pd.DataFrame, limit: int = 4) -> list[Sentence]:
    """Per panel: the share of records just above and just below the standard, against the true values."""
    out = []
    q = _Quotes()
    pct = measure("reported_outcome")  # a share of cases, shown in %
    width = float(csv["bin_high"].iloc[0] - csv["bin_low"].iloc[0])
    for name in list(dict.fromkeys(csv["panel"]))[:limit]:
        t = csv[csv["panel"] == name]
        above, below = _at_bin(t, 0.0), _at_bin(t, -width)
        spike = float(above["recorded_share"] - above["true_share"])
        verdict = (
            f"a spike of {pct.difference(spike)} above the true values: records moved to pass"
            if spike >= SPIKE
            else "no spike: the records follow the true values"
        )
        out.append(
            q.sentence(
                f"Under {name}, {q('recorded_share', above['recorded_share'], pct.value(above['recorded_share']))} "
                f"of records fell just above the standard and "
                f"{q('recorded_share', below['recorded_share'], pct.value(below['recorded_share']))} just below it, "
                f"where the true values put {q('true_share', above['true_share'], pct.value(above['true_share']))} "
                f"and {q('true_share', below['true_share'], pct.value(below['true_share']))}: {verdict}."
            )
        )
    return out


def read_reported_vs_true(csv: pd.DataFrame, limit: int = 4) -> list[Sentence]:
    """Per panel: the mean recorded pass rate against the mean lived outcome, and the gap."""
    means = csv[csv["level"] == "mean"]
    several = means["domain_kind"].nunique() > 1
    m, gap = measure("true_outcome"), measure("gaming_gap")
    out = []
    q = _Quotes()
    for name in list(dict.fromkeys(means["panel"]))[:limit]:
        for _, r in means[means["panel"] == name].iterrows():
            which = f" in {r['domain_kind']} domains" if several else ""
            size = (
                "no gap worth noting"
                if gap.negligible(r["gap"])
                else f"a gap of {q('gap', r['gap'], gap.difference(r['gap']))}"
            )
            out.append(
                q.sentence(
                    f"Under {name}, services{which} recorded a mean pass rate of "
                    f"{q('reported_rate', r['reported_rate'], m.value(r['reported_rate']))} while their citizens "
                    f"lived with an outcome of {q('lived_outcome', r['lived_outcome'], m.value(r['lived_outcome']))} "
                    f"({size})."
                )
            )
    return out


def read_equity(csv: pd.DataFrame, limit: int = 4) -> list[Sentence]:
    """Per panel: outcome and pro-social activity in the least and the most deprived fifth."""
    out = []
    q = _Quotes()
    true, pro = measure("true_outcome"), measure("prosocial_rate")
    for name in list(dict.fromkeys(csv["panel"]))[:limit]:
        t = csv[csv["panel"] == name].set_index("fifth")
        least, most = t.loc[t.index.min()], t.loc[t.index.max()]
        parts = []
        for column, m in (("lived_outcome", true), ("prosocial_rate", pro)):
            lo, hi = float(least[column]), float(most[column])
            if m.value(lo) == m.value(hi):
                parts.append(f"{m.name} was {q(column, lo, m.value(lo))} in both the least and the most deprived fifth")
            else:
                parts.append(
                    f"{m.name} was {q(column, lo, m.value(lo))} in the least deprived fifth of communities and "
                    f"{q(column, hi, m.value(hi))} in the most deprived"
                    + (" (a negligible difference)" if m.negligible(hi - lo) else "")
                )
        out.append(q.sentence(f"Under {name}, {parts[0]}; {parts[1]}."))
    return out


def read_scenario_rules(csv: pd.DataFrame) -> list[Sentence]:
    """Per scenario-discovery question: at how many points the better arm won, and where it failed."""
    out = []
    q = _Quotes()
    for (better, worse, output), t in csv.groupby(["better", "worse", "output"], sort=False):
        fails = t[t["where"] == "fails"]
        n, wins = int(t["points"].iloc[0]), int(t["wins"].iloc[0])
        text = (
            f"{capital(arm_name(better))} beat {arm_name(worse)} on {measure(output).name} at "
            f"{q('wins', wins, number(wins))} of the {q('points', n, number(n))} points"
        )
        if len(fails):
            f = fails.iloc[0]
            text += (
                f"; it failed mostly where {f['conditions']} (coverage "
                f"{q('coverage', f['coverage'], number(f['coverage']))}: the share of its failures inside that box; "
                f"density {q('density', f['density'], number(f['density']))}: the share of failures among the "
                "points in it)"
            )
        out.append(q.sentence(text + "."))
    return out


def read_sufficiency(csv: pd.DataFrame) -> list[Sentence]:
    """The largest and smallest standard error of an arm's mean at the most replications."""
    t = csv[csv["n"] == csv["n"].max()].sort_values("se", ascending=False)
    if t.empty:
        return []
    hi, lo = t.iloc[0], t.iloc[-1]
    n = int(hi["n"])
    q = _Quotes()
    mh, ml = measure(hi["metric"]), measure(lo["metric"])
    return [
        q.sentence(
            f"With {q('n', n, number(n))} replications the least precise end-of-run mean is {mh.name} under "
            f"{arm_name(hi['arm'])} (standard error {q('se', hi['se'], mh.difference(hi['se']))}), the most precise "
            f"{ml.name} under {arm_name(lo['arm'])} (standard error {q('se', lo['se'], ml.difference(lo['se']))})."
        ),
        Sentence(
            "The dashed line is how the standard error would fall (as 1 over the square root of the number of runs) "
            "with more replications; curves that run above it are not yet settled."
        ),
    ]


def read_sensitivity(csv: pd.DataFrame, limit: int = 3) -> list[Sentence]:
    """Per measure (Sobol' ST or Morris mu*): the most influential lever or parameter and its index."""
    col = "ST" if "ST" in csv.columns else "mu_star" if "mu_star" in csv.columns else None
    if col is None or not {"output", "parameter"} <= set(csv.columns):
        return read_generic(csv)
    name = "total Sobol' index" if col == "ST" else "Morris mean size of effect"
    out = []
    q = _Quotes()
    for o in list(dict.fromkeys(csv["output"]))[:limit]:
        top = csv[csv["output"] == o].sort_values(col, ascending=False).iloc[0]
        known = lever(top["parameter"])
        what = known.name if known.unit else f"`{top['parameter']}`"
        out.append(
            q.sentence(f"{measure(o).title} depends most on {what} ({name} {q(col, top[col], number(top[col]))}).")
        )
    return out


def _runs(xs: Sequence[float], signs: Sequence[int]) -> list[tuple[int, float, float]]:
    """Consecutive stretches of equal sign: (sign, first x, last x)."""
    out: list[tuple[int, float, float]] = []
    for x, s in zip(xs, signs, strict=True):
        if out and out[-1][0] == s:
            out[-1] = (s, out[-1][1], x)
        else:
            out.append((s, x, x))
    return out


def _span(key: str, a: float, b: float) -> str:
    """``£0.50 per hour``, or ``£0.50 to £10 per hour`` (the unit said once)."""
    if a == b:
        return lever_value(key, a)
    first, last = lever_value(key, a), lever_value(key, b)
    unit = lever(key).unit.removeprefix("£").strip()
    if unit and first.endswith(" " + unit) and last.endswith(" " + unit):
        first = first.removesuffix(" " + unit)
    return f"{first} to {last}"


def response_sentence(t: pd.DataFrame, x: str, key: str, arm: str, q: _Quotes) -> str:
    """How an arm's measure at each swept value compares with its value at the lowest one.

    Says where it is higher, lower or about the same (within the smallest difference that
    matters), and, when it dips, whether it comes back to the starting level.
    """
    m = measure(key)
    t = t.sort_values(x)
    base = t.iloc[0]
    lv = lever(x)
    start = f"with no {lv.name}" if float(base[x]) == 0 else f"at {lv.name} {lever_value(x, base[x])}"
    text = f"Under {arm_name(arm)}, {m.name} was {q('mean', base['mean'], m.value(base['mean']))} {start}"
    rest = t.iloc[1:]
    if rest.empty:
        return text + "."
    d = rest["mean"].to_numpy(dtype=float) - float(base["mean"])
    signs = [0 if m.negligible(v) else (1 if v > 0 else -1) for v in d]
    xs = rest[x].to_numpy(dtype=float)
    words = {1: "higher", -1: "lower", 0: "about the same"}
    if len(set(signs)) == 1:
        s = signs[0]
        if s == 0:
            return text + f"; at every other value it was about the same (within {m.smallest_text})."
        size = (
            f"by {m.difference(min(abs(d)))} to {m.difference(max(abs(d)))}"
            if len(d) > 1
            else f"by {m.difference(d[0])}"
        )
        text += f"; at every value above it, up to {lever_value(x, xs[-1])}, it was {words[s]} ({size})"
        if s < 0:
            text += f": it never returned to the level {start}"
        return text + "."
    runs = _runs(xs, signs)
    parts = [f"{words[s]} at {_span(x, a, b)}" for s, a, b in runs]
    low = rest.iloc[int(np.argmin(d))]
    text += f"; it was {join(parts)}"
    if min(d) < 0 and not m.negligible(min(d)):
        text += f", lowest at {lever_value(x, low[x])} ({q('mean', low['mean'], m.value(low['mean']))})"
    # The shape the design brief expects of a price effect: a dip at small values, a recovery at large ones.
    if runs[0][0] < 0 and runs[-1][0] > 0:
        text += f": small values lowered it and the largest raised it above the level {start}"
    elif runs[0][0] < 0 and runs[-1][0] == 0:
        text += f": the largest values brought it back to about the level {start}, not above it"
    elif runs[0][0] < 0:
        text += f": it did not return to the level {start} even at {lever_value(x, xs[-1])}"
    return text + "."


def read_response(csv: pd.DataFrame, limit: int = 3) -> list[Sentence]:
    """Per plotted measure and arm: the end-of-run mean at each swept value against the lowest value."""
    fixed = {"arm", "point", "metric", "mean", "ci_low", "ci_high", "n"}
    params = [c for c in csv.columns if c not in fixed]
    if len(params) != 1:
        return read_generic(csv)
    x = params[0]
    out = []
    q = _Quotes()
    for key in list(dict.fromkeys(csv["metric"]))[:limit]:
        for arm in dict.fromkeys(csv["arm"]):
            t = csv[(csv["metric"] == key) & (csv["arm"] == arm)]
            out.append(q.sentence(response_sentence(t, x, key, str(arm), q)))
    return out


def read_lab_fit(csv: pd.DataFrame) -> list[Sentence]:
    """Per arm: the model's and the data's mean contribution in the first and the last period."""
    out = []
    q = _Quotes()
    for arm in dict.fromkeys(csv["arm"]):
        t = csv[csv["arm"] == arm]
        model, data = (
            t[t["series"] == "model"].sort_values("period"),
            t[t["series"] == "data_mean"].sort_values("period"),
        )
        if model.empty:
            continue
        first, last = model.iloc[0], model.iloc[-1]
        text = (
            f"Under {arm_name(arm)}, simulated citizens contributed "
            f"{q('value', first['value'], number(first['value']))} "
            f"tokens in period {q('period', first['period'], number(first['period']))} and "
            f"{q('value', last['value'], number(last['value']))} in period "
            f"{q('period', last['period'], number(last['period']))}"
        )
        if len(data):
            d0, d1 = data.iloc[0], data.iloc[-1]
            text += (
                f"; the laboratory pools' mean went from {q('value', d0['value'], number(d0['value']))} to "
                f"{q('value', d1['value'], number(d1['value']))}"
            )
        out.append(q.sentence(text + "."))
    return out


def read_generic(csv: pd.DataFrame) -> list[Sentence]:
    """Figures without their own reader: say how many values the CSV holds."""
    return [Sentence(f"The figure draws the {number(len(csv))} rows of its CSV.", ())]


DETAIL_FIGURES = (
    (DISTRIBUTION_STEM, "The recorded indicator around the standard", read_indicator_distribution),
    (REPORTED_STEM, "Reported against true outcome, service by service", read_reported_vs_true),
    (EQUITY_STEM, "Outcomes and pro-social activity by community deprivation", read_equity),
)


# --- the answer: the page's first paragraph ------------------------------------------------------


def _pair_sentences(headline: pd.DataFrame, q: _Quotes) -> list[Sentence]:
    """Per compared pair: each measure's difference in words; over a grid, its range across points."""
    out = []
    for (a, b), t in headline.groupby(["a", "b"], sort=False):
        parts, negligible = [], []
        for key, s in t.groupby("metric", sort=False):
            m = measure(key)
            d = s["diff"].to_numpy(dtype=float)
            if all(m.negligible(v) for v in d):
                negligible.append(m.name)
                continue
            if len(s) == 1:
                r = s.iloc[0]
                clause = _difference_clause(m, r["diff"], r["ci_low"], r["ci_high"], a, b, q, names=False)
                parts.append(f"{m.name} {clause}")
                continue
            counted = Counter(verdict(m, v, lo, hi) for v, lo, hi in zip(d, s["ci_low"], s["ci_high"], strict=True))
            judged = [
                f"{j.split(' (')[0]} at {'every point' if k == len(d) else f'{k} of {len(d)} points'}"
                for j, k in counted.items()
                if j
            ]
            if (d > 0).all() or (d < 0).all():
                way = "higher" if d[0] > 0 else "lower"
                lo, hi = np.argmin(abs(d)), np.argmax(abs(d))
                parts.append(
                    f"{m.name} was {way} at every point, by {q('diff', d[lo], m.difference(d[lo]))} to "
                    f"{q('diff', d[hi], m.difference(d[hi]))}" + (f" ({join(judged)})" if judged else "")
                )
            else:
                parts.append(
                    f"{m.name} was higher at {int((d > 0).sum())} points and lower at {int((d < 0).sum())}, from "
                    f"{m.signed(d.min())} to {m.signed(d.max())}"
                )
        if negligible:
            every = " at every point" if t["metric"].duplicated().any() else ""
            parts.append(
                f"{join(negligible)} differed negligibly{every} (less than the smallest difference that matters)"
            )
        out.append(
            q.sentence(
                f"Under {arm_name(a)} compared with {arm_name(b)}, at the end of the run: " + "; ".join(parts) + "."
            )
        )
    return out


def answer(c: Contents) -> list[Sentence]:
    """The page's first paragraph: the question answered from the numbers.

    - the compared pairs: each measure's difference, its size and reading;
    - a swept lever: each measure against its value at the lowest setting (for a payment, payment
      against no payment), saying where it is higher, lower or about the same;
    - a run that switches regime: the difference in each regime period;
    - a sensitivity design: the lever or parameter each measure depends on most; scenario
      discovery: where one arm beats the other.
    """
    q = _Quotes()
    out: list[Sentence] = list(c.conditions.sentences) if c.conditions is not None else []
    if c.response is not None and len(c.response):
        params = [
            p for p in c.response.columns if p not in {"arm", "point", "metric", "mean", "ci_low", "ci_high", "n"}
        ]
        if len(params) == 1:
            keys = list(dict.fromkeys(c.headline["metric"])) or list(dict.fromkeys(c.response["metric"]))
            for key in keys:
                for arm in c.arms or dict.fromkeys(c.response["arm"]):
                    t = c.response[(c.response["metric"] == key) & (c.response["arm"] == arm)]
                    if len(t):
                        out.append(q.sentence(response_sentence(t, params[0], key, arm, q)))
    if len(c.headline) and c.conditions is None:  # where each arm wins answers first; pooled pairs stay in the table
        out += _pair_sentences(c.headline, q)
    # Sampled designs answer "which levers matter" and "where does one arm win".
    for f in c.figures:
        if f.stem.startswith("sensitivity"):
            out += [dataclasses.replace(x, text=f"{f.title}: {x.text}") for x in f.sentences if x.numbers]
    out += c.scenarios
    diffs = next((f for f in c.figures if f.stem == DIFF_STEM), None)
    if diffs is not None and len(c.periods) > 1:
        out += [s for s in diffs.sentences if "averaged over each regime period" in s.text]
    if not out and len(c.summary):
        for key in summary_metrics(c.summary, c.headline)[:3]:
            m = measure(key)
            s = c.summary[c.summary["metric"] == key]
            if "point" in s.columns:
                s = s[s["point"] == s["point"].min()]
            values = [(arm_name(a), float(v)) for a, v in zip(s["arm"], s["mean"], strict=True)]
            out.append(Sentence(f"At the end of the run, {m.name} was {compare(m, values)}."))
    return out


# --- collecting the contents ---------------------------------------------------------------------


@dataclass
class Contents:
    """Everything the report shows, read from the folder."""

    name: str
    question: str
    arms: dict[str, list[str]]
    setup: list[tuple[str, str, str, str]]
    figures: list[Figure]
    headline: pd.DataFrame
    summary: pd.DataFrame
    replications: int
    noise: list[str]
    limitations: list[tuple[str, str]]
    warnings: list[str]
    command: str
    recorded_argv: str
    provenance: list[tuple[str, str]]
    glossary: list[tuple[str, str, str]]
    glossary_link: str
    odd_link: str
    fit: pd.DataFrame = field(default_factory=pd.DataFrame)
    parameters: list[str] = field(default_factory=list)
    sampled: bool = False  # a sampled design (LHS, Sobol', Morris): means per point stay in summary.csv
    scenarios: list[Sentence] = field(default_factory=list)
    scenario_rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    response: pd.DataFrame | None = None
    periods: list[tuple[str, int, int]] = field(default_factory=list)
    answer: list[Sentence] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)
    conditions: Any = None  # where each arm wins (sim.present.conditions.ConditionsContents), if written


def _limitations() -> list[tuple[str, str]]:
    """Section 10 of docs/ODD.md: each limitation's bold title and first sentence."""
    if not ODD_PATH.is_file():
        return []
    text = ODD_PATH.read_text(encoding="utf-8")
    match = re.search(r"^## 10\..*?$(.*?)(^---|^## )", text, flags=re.M | re.S)
    if not match:
        return []
    items = re.split(r"^- ", match.group(1), flags=re.M)[1:]
    out = []
    for item in items:
        flat = " ".join(item.split())
        m = re.match(r"\*\*(.+?)\*\*\s*(.+?[.!?])(\s|$)", flat)
        if m:
            sentence = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", m.group(2))  # links to other docs: text only
            out.append((m.group(1).rstrip("."), sentence))
    return out


def _glossary(keys: Sequence[str]) -> list[tuple[str, str, str]]:
    from sim.glossary import load_glossary

    try:
        g = load_glossary()
    except OSError:
        return []
    out = []
    for key in dict.fromkeys(keys):
        for section in ("Measures", "Regimes", "Concepts", "Levers"):
            try:
                e = g.get(key, section)
            except KeyError:
                continue
            out.append((e.key, e.title, " ".join(e.text.split())))
            break
    return out


def _run_log(folder: Path) -> str:
    """The sweep's own report (what ran, failed, warned), kept below the reader's report."""
    path = folder / "report.md"
    if not path.is_file():
        return ""
    text = path.read_text()
    if RUN_LOG_MARKER in text:
        return text.split(RUN_LOG_MARKER, 1)[1].strip("\n")
    return re.sub(r"^(#+) ", r"#\1 ", text, flags=re.M).strip("\n")  # its headings one level down


def _warnings(run_log: str) -> list[str]:
    part = run_log.split("## Warnings", 1)
    if len(part) < 2:
        return []
    lines = []
    for line in part[1].splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("- "):
            # The run log writes numbers for engineers (4 significant figures, 1e-05); the page for readers.
            lines.append(SCIENTIFIC.sub(lambda m: number(float(m.group(0))), line[2:]))
    return lines


def _headline(differences: pd.DataFrame | None, parameters: Sequence[str]) -> pd.DataFrame:
    """The compared differences, each with ``where``: its design point's swept values (empty if one point)."""
    if differences is None or differences.empty:
        return pd.DataFrame(columns=["a", "b", "metric", "diff", "ci_low", "ci_high", "n", "where"])
    names = point_labels(differences, parameters) if "point" in differences.columns else {}
    where = [names.get(int(p), "") for p in differences["point"]] if names else [""] * len(differences)
    return differences.assign(where=where).reset_index(drop=True)


def collect(folder: str | Path) -> Contents:
    """Read the folder and work out everything the report shows (writes the new figure's files)."""
    import yaml

    folder = Path(folder)
    config = yaml.safe_load((folder / "config.yaml").read_text()) if (folder / "config.yaml").is_file() else {}
    config = config or {}
    plan = _read_json(folder / "plan.json")
    prov = _read_json(folder / "provenance.json")
    exp = config.get("experiment") or {}
    base = list(plan.get("base_overrides") or prov.get("base_overrides") or [])
    # A sampled design's headline is its pooled comparison; differences.csv holds it point by point.
    pooled = folder / "differences_pooled.csv"
    differences = _read_csv(pooled if pooled.is_file() else folder / "differences.csv")
    summary = _read_csv(folder / "summary.csv")
    if summary is None or "metric" not in summary.columns:  # none, or a lab summary (per period, read by its figure)
        summary = pd.DataFrame(columns=["arm", "metric", "mean", "ci_low", "ci_high"])
    headline = _headline(differences, list(plan.get("parameters") or []))
    single_run = is_run_folder(folder)
    if single_run:
        from sim.present.details import write_run_figures

        write_run_figures(folder)
        summary, regime = _run_summary(folder)
        exp = {
            "name": f"run {folder.name}",
            "question": f"What happened in one run under the '{regime}' regime (seed {config.get('seed')}, "
            f"{config.get('steps')} months)? To compare regimes with intervals, run an experiment.",
            "arms": {regime: []},
            "replications": 1,
        }
        base = [a for a in (prov.get("command") or [])[1:] if "=" in a and not a.startswith(("hydra.", "-"))]

    from sim.present.conditions import read_conditions

    figures: list[Figure] = []
    conditions = read_conditions(folder)
    if conditions is not None and (folder / "conditions_map.png").is_file():
        figures.append(Figure("conditions_map", "Where each arm wins", conditions.sentences))
    ts = pd.read_parquet(folder / "timeseries.parquet") if (folder / "timeseries.parquet").is_file() else None
    periods = regime_periods(ts) if ts is not None and "arm" in ts.columns else []
    switching = ""
    if len(periods) > 1 and ts is not None:
        switching = next(
            (str(a) for a, t in ts.groupby("arm", sort=False) if t["regime"].astype(str).nunique() > 1), ""
        )
    ot = _read_csv(folder / "over_time.csv")
    if ot is not None and (folder / "over_time.png").is_file():
        figures.append(Figure("over_time", "Measures over time, by arm", read_over_time(ot, 3, periods, switching)))
    parameters = list(plan.get("parameters") or [])
    if differences is not None and not differences.empty and ts is not None:
        table = paired_differences_over_time(ts, differences, parameters)
        if len(table):
            plot_differences_over_time(table, folder, periods=periods)
            csv = pd.read_csv(folder / f"{DIFF_STEM}.csv")  # read back: sentences quote the saved numbers
            figures.append(
                Figure(DIFF_STEM, "Paired differences over time", read_differences_over_time(csv, 4, periods))
            )
    resp = _read_csv(folder / "response.csv")
    if resp is not None and (folder / "response.png").is_file():
        figures.append(Figure("response", "End-of-run measures against the swept lever", read_response(resp)))
    suff = _read_csv(folder / "sufficiency.csv")
    if suff is not None and (folder / "sufficiency.png").is_file() and {"n", "se", "arm"} <= set(suff.columns):
        figures.append(Figure("sufficiency", "Are there enough replications?", read_sufficiency(suff)))
    lab = _read_csv(folder / "lab_fit.csv")
    if lab is not None and (folder / "lab_fit.png").is_file():
        figures.append(Figure("lab_fit", "The citizens' rules against the laboratory data", read_lab_fit(lab)))
    for stem, title, reader in DETAIL_FIGURES:
        csv = _read_csv(folder / f"{stem}.csv")
        if csv is not None and len(csv) and (folder / f"{stem}.png").is_file():
            figures.append(Figure(stem, title, reader(csv)))
    for png in sorted(folder.glob("sensitivity*.png")):
        csv_path = png.with_suffix(".csv")
        csv = _read_csv(csv_path)
        if csv is not None:
            arm = png.stem.removeprefix("sensitivity").strip("_")
            title = f"Sensitivity under {arm_name(arm)}" if arm else "Sensitivity"
            figures.append(Figure(png.stem, title, read_sensitivity(csv)))
    for f in figures:
        f.how = next((text for stem, text in HOW_TO_READ.items() if f.stem.startswith(stem)), "")
        if f.stem in (DIFF_STEM, "over_time") and _draws(folder / f"{f.stem}.csv", "public_cost"):
            f.how += " " + COST_SPIKES
    rules = _read_csv(folder / "scenario_rules.csv")
    scenarios = read_scenario_rules(rules) if rules is not None and len(rules) else []

    reps = int(plan.get("replications") or exp.get("replications") or (summary["n"].max() if len(summary) else 0))
    noise = [
        f"{measure(r['metric']).name}, {pair_name(r['a'], r['b'])}{f' ({w})' if (w := r['where']) else ''}: "
        f"{measure(r['metric']).signed(r['diff'])} ({measure(r['metric']).signed(r['ci_low'])} to "
        f"{measure(r['metric']).signed(r['ci_high'])})"
        for _, r in headline.iterrows()
        if not (r["ci_low"] > 0 or r["ci_high"] < 0) and not measure(r["metric"]).negligible(r["diff"])
    ]
    run_log = _run_log(folder)
    argv = [str(a) for a in prov.get("command") or []]
    sub = argv[0].removeprefix("sim ").strip() if argv else "experiment"
    command = " ".join(["python -m sim", sub, *(shlex.quote(o) for o in base)]).strip()
    keys_prov = ("package_version", "git_revision", "seed", "config_hash", "code_fingerprint", "python", "platform")
    provenance = [(k, str(prov[k])) for k in keys_prov if k in prov]
    if "replication_seeds" in prov:
        provenance.append(("replication_seeds", ", ".join(map(str, prov["replication_seeds"]))))
    if "created_utc" in prov:
        provenance.append(("created_utc (first session)", str(prov["created_utc"])))
    provenance.append(("sessions", str(len(prov.get("sessions") or []) or 1)))
    provenance += [(f"dependency {k}", str(v)) for k, v in sorted((prov.get("dependencies") or {}).items())]
    arms = {str(k): list(v) for k, v in (exp.get("arms") or plan.get("arms") or {}).items()}
    shown = [*headline["metric"], *(ot["metric"] if ot is not None else []), *summary_metrics(summary, headline)]
    shown += [*(resp["metric"] if resp is not None and "metric" in resp.columns else [])]
    contents = Contents(
        name=str(exp.get("name") or plan.get("experiment") or folder.parent.name),
        question=" ".join(str(exp.get("question") or "").split()),
        arms=arms,
        setup=setup_rows(config, base),
        figures=figures,
        headline=headline,
        summary=summary,
        replications=reps,
        noise=noise,
        limitations=_limitations(),
        warnings=_warnings(run_log),
        command=command,
        recorded_argv=shlex.join(argv),
        provenance=provenance,
        glossary=_glossary([*shown, *arms, *CONCEPTS, *_figure_concepts(figures, rules)]),
        glossary_link=doc_link(REPO_DOCS / "glossary.md", folder),
        odd_link=doc_link(ODD_PATH, folder),
        fit=_read_csv(folder / "fit.csv") if (folder / "fit.csv").is_file() else pd.DataFrame(),
        parameters=parameters,
        sampled=str(plan.get("design", "none")) not in ("none", "grid", "list"),
        scenarios=scenarios,
        scenario_rules=rules if rules is not None else pd.DataFrame(),
        response=resp,
        periods=periods,
        measures=list(dict.fromkeys([*shown, *FIGURE_MEASURES])),
        conditions=conditions,
    )
    contents.answer = answer(contents)
    return contents


# Measures the detail figures' sentences name (linked to the glossary at first use).
FIGURE_MEASURES = ("true_outcome", "reported_outcome", "gaming_gap", "prosocial_rate")


def _figure_concepts(figures: Sequence[Figure], rules: pd.DataFrame | None) -> list[str]:
    keys = [k for f in figures for stem, ks in FIGURE_CONCEPTS.items() if f.stem.startswith(stem) for k in ks]
    return keys + (["scenario_discovery"] if rules is not None and len(rules) else [])


def is_run_folder(folder: Path) -> bool:
    """A single run's folder (``python -m sim run``, ``sim.run``), not an experiment's."""
    return (folder / "summary.json").is_file() and (folder / "timeseries.parquet").is_file()


def _run_summary(folder: Path) -> tuple[pd.DataFrame, str]:
    """A run's end-of-run figures (summary.json) as a one-arm summary table, and its starting regime."""
    from sim.sweep.analysis import MAIN_OUTPUTS

    saved = _read_json(folder / "summary.json")
    regime = str(saved.get("regime_start", "run"))
    metrics = [m for m in (*MAIN_OUTPUTS, "gaming_share", "trust_mean") if m in saved]
    rows = [
        {"arm": regime, "metric": m, "mean": float(saved[m]), "ci_low": np.nan, "ci_high": np.nan, "n": 1}
        for m in metrics
    ]
    return pd.DataFrame(rows), regime


def doc_link(doc: Path, folder: Path) -> str:
    """A link from the report to a page of the docs that works where the report is read.

    Relative when the report sits in the same source tree (it survives moving the whole tree);
    otherwise the page's absolute ``file://`` address on this machine.
    """
    folder = folder.resolve()
    root = REPO_DOCS.parent
    if folder.is_relative_to(root):
        return Path(os.path.relpath(doc, folder)).as_posix()
    return doc.resolve().as_uri()


def summary_metrics(summary: pd.DataFrame, headline: pd.DataFrame) -> list[str]:
    """The metrics of the summary table: those compared, else the first four."""
    compared = list(dict.fromkeys(headline["metric"]))
    return compared or list(dict.fromkeys(summary["metric"]))[:4]


# --- writing -------------------------------------------------------------------------------------


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table (cells with ``|`` escaped, line breaks flattened), then a blank line."""

    def cell(x: str) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(cell(c) for c in r) + " |" for r in rows],
        "",
    ]


HEADLINE_HEADER = ("comparison", "measure", "difference", "95% interval", "reading")
SMALLEST_NOTE = (
    "A difference smaller than the smallest one that matters for its measure (in the glossary) reads "
    "negligible, whatever its interval; better and worse follow the glossary's direction for each measure."
)


def headline_table(c: Contents) -> tuple[list[str], list[list[str]]]:
    """The headline comparisons' header and rows: each difference in the reader's units, with its reading."""
    points = bool(c.headline["where"].astype(bool).any()) if len(c.headline) else False
    rows = [
        [
            pair_name(r["a"], r["b"]),
            *([str(r["where"])] if points else []),
            measure(r["metric"]).title,
            measure(r["metric"]).signed(r["diff"]),
            measure(r["metric"]).interval(r["ci_low"], r["ci_high"]),
            reading(measure(r["metric"]), r["diff"], r["ci_low"], r["ci_high"]),
        ]
        for _, r in c.headline.iterrows()
    ]
    header = [HEADLINE_HEADER[0], *(["where"] if points else []), *HEADLINE_HEADER[1:]]
    return header, rows


def _summary_rows(c: Contents) -> tuple[list[str], list[list[str]]]:
    metrics = summary_metrics(c.summary, c.headline)
    s = c.summary[c.summary["metric"].isin(metrics)]
    names = point_labels(s, c.parameters) if "point" in s.columns else {}
    keys = ["arm", "point"] if names else ["arm"]
    rows = []
    for key, grp in s.groupby(keys, sort=False):
        g = grp.set_index("metric")
        arm = key[0] if isinstance(key, tuple) else key
        where = [names[int(key[1])]] if names else []
        rows.append(
            [arm_name(arm), *where]
            + [
                _mean_with_interval(measure(m), g.loc[m, "mean"], g.loc[m, "ci_low"], g.loc[m, "ci_high"])
                if m in g.index
                else ""
                for m in metrics
            ]
        )
    return ["arm", *(["where"] if names else []), *[measure(m).axis_label for m in metrics]], rows


FIT_HEADER = (
    "arm",
    "RMSE (tokens)",
    "first period: model",
    "first period: data",
    "last period: model",
    "last period: data",
)
FIT_INTRO = (
    "How far the simulated curves are from the laboratory data: root mean squared error over the ten periods, and "
    "the mean contribution as a share of the endowment in the first and last period (fit.csv)."
)


def fit_rows(c: Contents) -> list[list[str]]:
    """The lab's fit table rows: per arm, the error and the first and last periods, model beside data."""
    cols = ("rmse_tokens", "model_first_share", "data_first_share", "model_last_share", "data_last_share")
    return [[str(r["arm"]), *(fmt(r[k]) for k in cols)] for _, r in c.fit.iterrows()]


def _mean_with_interval(m: Measure, mean: float, lo: float, hi: float) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{m.value(mean)} (no interval)"
    return f"{m.value(mean)} ({m.value(lo)} to {m.value(hi)})"


SCENARIO_HEADER = ("better", "than", "on", "where", "conditions", "coverage", "density", "points in box")


def _scenario_rows(c: Contents) -> list[list[str]]:
    return [
        [
            arm_name(r["better"]),
            arm_name(r["worse"]),
            measure(r["output"]).title,
            "it helps" if r["where"] == "helps" else "it fails",
            str(r["conditions"]),
            fmt(r["coverage"]),
            fmt(r["density"]),
            f"{fmt(r['points_in_box'])} of {fmt(r['points'])}",
        ]
        for _, r in c.scenario_rules.iterrows()
    ]


SCENARIO_INTRO = (
    "Scenario discovery (PRIM, Friedman & Fisher 1999) finds a box of conditions that holds most of the points "
    "where one arm beat the other (coverage: the share of those points inside the box) and in which that outcome "
    "is common (density: its share among the points in the box)."
)


SETUP_HEADER = ("parameter", "default", "this experiment", "set by")
INTRO_HEADLINE = (
    "End-of-run figures (mean of the last 12 months), differences a - b paired on common seeds, "
    "with 95% intervals across replications."
)


def render_markdown(c: Contents, run_log: str) -> str:
    """The report as Markdown, figures linked beside it, then the sweep's run log."""
    links = GlossaryLinks(c.glossary_link, c.measures, lambda text, url: f"[{text}]({url})")
    out = [f"# Experiment '{c.name}'", ""]
    out += ["## Question", "", c.question or "(no question recorded in config.yaml)", ""]
    if c.answer:
        out += ["## Answer", "", links.link(" ".join(s.text for s in c.answer)), ""]
    out += ["## Setup", "", "Arms: " + "; ".join(f"{a}: {' '.join(o) or 'defaults'}" for a, o in c.arms.items()), ""]
    out += [f"Replications per arm: {c.replications}. What differs from the model's defaults (`SimConfig()`):", ""]
    out += markdown_table(SETUP_HEADER, c.setup) if c.setup else ["(nothing: the defaults)", ""]
    out += ["## Figures", ""]
    for f in c.figures:
        out += [f"### {f.title}", "", f"![{f.title}]({f.stem}.png)", ""]
        if f.how:
            out += [f"*How to read it.* {f.how}", ""]
        out += [
            links.link(" ".join(s.text for s in f.sentences)),
            "",
            f"Numbers drawn: [{f.stem}.csv]({f.stem}.csv).",
            "",
        ]
    if len(c.headline):
        out += ["## Headline comparisons", "", f"{INTRO_HEADLINE} {SMALLEST_NOTE}", ""]
        out += markdown_table(*headline_table(c))
    if len(c.summary) and not c.sampled:
        header, rows = _summary_rows(c)
        out += ["## End-of-run means by arm (95% interval)", "", *markdown_table(header, rows)]
    if len(c.fit):
        out += ["## Fit to the data", "", FIT_INTRO, "", *markdown_table(FIT_HEADER, fit_rows(c))]
    if c.conditions is not None:
        from sim.present.conditions import RULES_HEADER, RULES_INTRO

        out += ["## Where each arm wins", "", "Read in words in the answer above and under the map.", ""]
        out += [
            "### Share of the sampled space each arm wins",
            "",
            *markdown_table(c.conditions.share_header, c.conditions.share_rows),
        ]
        if c.conditions.share_note:
            out += [c.conditions.share_note, ""]
        out += ["### Rules: where each arm wins (scenario discovery)", "", RULES_INTRO, ""]
        out += markdown_table(RULES_HEADER, c.conditions.rule_rows)
        out += [
            "Numbers: [conditions_share.csv](conditions_share.csv), [conditions_rules.csv](conditions_rules.csv), "
            "[conditions_importance.csv](conditions_importance.csv), [conditions_winners.csv](conditions_winners.csv) "
            "(winner at every point, with the margin over the runner-up), "
            "[conditions_defaults.csv](conditions_defaults.csv).",
            "",
        ]
    if len(c.scenario_rules):
        out += ["## Where one arm beats the other (scenario discovery)", "", SCENARIO_INTRO, ""]
        out += [" ".join(s.text for s in c.scenarios), ""]
        out += markdown_table(SCENARIO_HEADER, _scenario_rows(c))
        out += ["Numbers: [scenario_rules.csv](scenario_rules.csv); trajectories in scenarios.csv.", ""]
    out += ["## Caveats", ""]
    out += [f"- {c.replications} replication(s) per arm: intervals are across replications."]
    if c.noise:
        out += ["- Within noise (95% interval includes zero): " + links.link("; ".join(c.noise)) + "."]
    out += [f"- What the model leaves out ([ODD.md section 10]({c.odd_link})):"]
    out += [f"  - **{t}.** {s}" for t, s in c.limitations]
    out += [f"- Warning: {w}" for w in c.warnings]
    out += ["", "## How to reproduce", "", "From the folder the command was run in:", "", "```", c.command, "```", ""]
    out += [f"Recorded command line: `{c.recorded_argv}`. Running it again resumes this folder.", ""]
    out += ["## Provenance", "", *markdown_table(("what", "value"), c.provenance)]
    out += ["## Glossary", "", f"Full glossary: [docs/glossary.md]({c.glossary_link}).", ""]
    out += [f"- **{t}** (`{k}`): {text}" for k, t, text in c.glossary]
    out += ["", RUN_LOG_MARKER, ""]
    if run_log:
        out += [run_log, ""]
    return "\n".join(out)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.5}
h1{border-bottom:3px solid #0072B2;padding-bottom:.2em}h2{color:#0072B2;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f2f2f2}
figure{margin:1em 0 1.6em}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.95em;margin-top:.4em}code,pre{background:#f6f6f6;border-radius:3px}
pre{padding:.6em;overflow-x:auto}.noise{color:#D55E00}dt{font-weight:600;margin-top:.5em}dd{margin-left:1.2em}
"""


def _h(x: Any) -> str:
    return html.escape(str(x))


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_h(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_h(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _code(text: str) -> str:
    """Escape, then show `backticks` as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _h(text))


def render_html(c: Contents, folder: Path) -> str:
    """The report as one self-contained HTML page (figures embedded as base64 PNG)."""
    links = GlossaryLinks(c.glossary_link, c.measures, lambda text, url: f'<a href="{_h(url)}">{text}</a>')
    p = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Experiment {_h(c.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Experiment &lsquo;{_h(c.name)}&rsquo;</h1>",
        "<h2>Question</h2>",
        f"<p>{_h(c.question or '(no question recorded in config.yaml)')}</p>",
        *(["<h2>Answer</h2>", f"<p>{links.link(' '.join(_h(s.text) for s in c.answer))}</p>"] if c.answer else []),
        "<h2>Setup</h2>",
        _html_table(("arm", "settings"), [(a, " ".join(o) or "defaults") for a, o in c.arms.items()]),
        f"<p>Replications per arm: {c.replications}. What differs from the model's defaults "
        "(<code>SimConfig()</code>):</p>",
        _html_table(SETUP_HEADER, c.setup) if c.setup else "<p>Nothing: the defaults.</p>",
        "<h2>Figures</h2>",
    ]
    for f in c.figures:
        data = base64.b64encode((folder / f"{f.stem}.png").read_bytes()).decode("ascii")
        p += [
            f'<figure id="{_h(f.stem)}"><h3>{_h(f.title)}</h3>',
            f'<img alt="{_h(f.title)}" src="data:image/png;base64,{data}">',
            f"<figcaption>{f'<em>How to read it.</em> {_h(f.how)} ' if f.how else ''}"
            f"{links.link(' '.join(_h(s.text) for s in f.sentences))} Numbers drawn: "
            f"<code>{_h(f.stem)}.csv</code> (also <code>{_h(f.stem)}.svg</code>).</figcaption></figure>",
        ]
    if len(c.headline):
        p += ["<h2>Headline comparisons</h2>", f"<p>{_h(INTRO_HEADLINE)} {_h(SMALLEST_NOTE)}</p>"]
        p.append(_html_table(*headline_table(c)))
    if len(c.summary) and not c.sampled:
        header, rows = _summary_rows(c)
        p += ["<h2>End-of-run means by arm (95% interval)</h2>", _html_table(header, rows)]
    if len(c.fit):
        p += ["<h2>Fit to the data</h2>", f"<p>{_h(FIT_INTRO)}</p>", _html_table(FIT_HEADER, fit_rows(c))]
    if c.conditions is not None:
        from sim.present.conditions import RULES_HEADER, RULES_INTRO

        p += [
            '<h2 id="conditions">Where each arm wins</h2>',
            "<p>Read in words in the answer above and under the map.</p>",
            "<h3>Share of the sampled space each arm wins</h3>",
            _html_table(c.conditions.share_header, c.conditions.share_rows),
            *([f"<p>{_h(c.conditions.share_note)}</p>"] if c.conditions.share_note else []),
            "<h3>Rules: where each arm wins (scenario discovery)</h3>",
            f"<p>{_h(RULES_INTRO)}</p>",
            _html_table(RULES_HEADER, c.conditions.rule_rows),
            "<p>Numbers: <code>conditions_share.csv</code>, <code>conditions_rules.csv</code>, "
            "<code>conditions_importance.csv</code>, <code>conditions_winners.csv</code>, "
            "<code>conditions_defaults.csv</code>.</p>",
        ]
    if len(c.scenario_rules):
        p += [
            '<h2 id="scenarios">Where one arm beats the other (scenario discovery)</h2>',
            f"<p>{_h(SCENARIO_INTRO)}</p>",
            f"<p>{' '.join(_h(s.text) for s in c.scenarios)}</p>",
            _html_table(SCENARIO_HEADER, _scenario_rows(c)),
            "<p>Numbers: <code>scenario_rules.csv</code>; peeling trajectories in <code>scenarios.csv</code>.</p>",
        ]
    p += [
        "<h2>Caveats</h2><ul>",
        f"<li>{c.replications} replication(s) per arm: intervals are across replications.</li>",
    ]
    if c.noise:
        items = "".join(f"<li>{links.link(_h(n))}</li>" for n in c.noise)
        p.append(f'<li class="noise">Within noise (95% interval includes zero):<ul>{items}</ul></li>')
    lim = "".join(f"<li><strong>{_h(t)}.</strong> {_code(s)}</li>" for t, s in c.limitations)
    p.append(f'<li>What the model leaves out (<a href="{_h(c.odd_link)}">ODD.md</a>, section 10):<ul>{lim}</ul></li>')
    p += [f"<li>Warning: {_h(w)}</li>" for w in c.warnings]
    p += [
        "</ul><h2>How to reproduce</h2><p>From the folder the command was run in:</p>",
        f"<pre>{_h(c.command)}</pre>",
        f"<p>Recorded command line: <code>{_h(c.recorded_argv)}</code>. Running it again resumes this folder.</p>",
        "<h2>Provenance</h2>",
        _html_table(("what", "value"), c.provenance),
        f'<h2>Glossary</h2><p>Full glossary: <a href="{_h(c.glossary_link)}">docs/glossary.md</a>.</p><dl>',
        *[f"<dt>{_h(t)} (<code>{_h(k)}</code>)</dt><dd>{_code(text)}</dd>" for k, t, text in c.glossary],
        "</dl></body></html>",
        "",
    ]
    return "\n".join(p)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def build_report(folder: str | Path) -> list[Path]:
    """Write ``report.html`` and ``report.md`` (and the new figure's files) from a saved folder.

    Raises:
        FileNotFoundError: the folder has no ``config.yaml`` (not an experiment's folder).

    """
    folder = Path(folder)
    if not (folder / "config.yaml").is_file():
        raise FileNotFoundError(f"{folder / 'config.yaml'} not found: not an experiment's output folder")
    run_log = _run_log(folder)
    contents = collect(folder)
    _write(folder / "report.md", render_markdown(contents, run_log))
    _write(folder / "report.html", render_html(contents, folder))
    written = [folder / "report.html", folder / "report.md"]
    if (folder / f"{DIFF_STEM}.png").is_file():
        written += [folder / f"{DIFF_STEM}.{ext}" for ext in ("png", "svg", "csv")]
    return written


__all__ = [
    "DETAIL_FIGURES",
    "DIFF_STEM",
    "FIT_HEADER",
    "FIT_INTRO",
    "HOW_TO_READ",
    "Contents",
    "Figure",
    "Sentence",
    "answer",
    "build_report",
    "collect",
    "fit_rows",
    "fmt",
    "headline_table",
    "markdown_table",
    "paired_differences_over_time",
    "plot_differences_over_time",
    "read_differences_over_time",
    "read_equity",
    "read_indicator_distribution",
    "read_lab_fit",
    "read_over_time",
    "read_reported_vs_true",
    "read_response",
    "read_scenario_rules",
    "read_sensitivity",
    "read_sufficiency",
    "render_html",
    "render_markdown",
    "setup_rows",
]

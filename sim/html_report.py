"""A report people read: ``report.html`` and its Markdown twin, built from a saved sweep folder.

:func:`build_report` reads only the files an experiment wrote (``config.yaml``, ``plan.json``,
``provenance.json``, ``summary.csv``, ``differences.csv``, ``scenario_rules.csv``, ``fit.csv``,
``timeseries.parquet``, the figures and their CSVs); it never runs the model. It works for sweeps
and for the public-goods lab. It writes:

- ``differences_over_time.png``/``.svg``/``.csv``: paired differences between the compared arms
  month by month, with 95 % intervals (when the experiment compares arms);
- ``report.html``: one self-contained page (figures embedded as base64 PNG, inline CSS, no
  scripts, nothing fetched from the network) that works offline;
- ``report.md``: the same report in Markdown, followed by the sweep's own run log.

Every sentence that reads a figure is built by a function that returns the text together with the
numbers it quotes (:class:`Sentence`), each taken from the figure's CSV, so tests can check them.
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.plots import OKABE_ITO, label, save_figure
from sim.sweep.detail_figures import DISTRIBUTION_STEM, EQUITY_STEM, REPORTED_STEM

REPO_DOCS = Path(__file__).resolve().parent.parent / "docs"
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


@dataclass(frozen=True)
class Sentence:
    """A sentence reading a figure, with the numbers it quotes.

    Attributes:
        text: the sentence.
        numbers: (CSV column, value as stored in the CSV) for each number quoted; the text shows
            each value as :func:`fmt` writes it.

    """

    text: str
    numbers: tuple[tuple[str, float], ...] = ()


@dataclass
class Figure:
    """One figure of the report: its files, title and the sentences that read it."""

    stem: str
    title: str
    sentences: list[Sentence] = field(default_factory=list)


def fmt(x: float) -> str:
    """A number as the report quotes it (3 significant figures; whole numbers as they are)."""
    x = float(x)
    if not math.isfinite(x):
        return "undefined"
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.3g}"


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
    """Each design point's swept values in words, e.g. ``target_level=0.6`` (empty without a sweep)."""
    params = [p for p in parameters if p in frame.columns]
    if "point" not in frame.columns or not params:
        return {}
    first = frame.drop_duplicates("point").set_index("point")[params]
    return {
        int(pt): ", ".join(f"{k.split('.')[-1]}={fmt(v) if isinstance(v, float) else v}" for k, v in row.items())
        for pt, row in first.iterrows()
    }


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
            name = f"{a} - {b}" + (f" ({names[pt]})" if pt in names else "")
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


def plot_differences_over_time(table: pd.DataFrame, folder: Path, stem: str = DIFF_STEM) -> list[Path]:
    """One panel per metric, a line per compared pair with its 95 % band; PNG, SVG and CSV."""
    metrics = list(dict.fromkeys(table["metric"]))
    pairs = list(dict.fromkeys(table["pair"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.9), squeeze=False)
    for ax, m in zip(axes[0], metrics, strict=True):
        for colour, pair in zip(OKABE_ITO, pairs, strict=False):
            t = table[(table["pair"] == pair) & (table["metric"] == m)]
            ax.plot(t["step"], t["mean"], color=colour, label=pair, lw=1.6)
            ax.fill_between(t["step"], t["ci_low"], t["ci_high"], color=colour, alpha=0.2, lw=0)
        ax.axhline(0, color="black", lw=0.7)
        ax.set_title(label(m))
        ax.set_xlabel("month")
        ax.set_ylabel(f"difference in {m} (a - b)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(title="a - b", frameon=False, fontsize=8)
    n = int(table["n"].min()) if len(table) else 0
    fig.suptitle(f"Paired differences over time (mean over {n} common seeds, 95% band)")
    fig.tight_layout()
    return save_figure(fig, table, folder, stem)


# --- sentences that read a figure from its CSV ---------------------------------------------------


def read_over_time(csv: pd.DataFrame, limit: int = 3) -> list[Sentence]:
    """Per plotted metric: which arm ends highest and lowest, and where the highest started."""
    out = []
    for m in list(dict.fromkeys(csv["metric"]))[:limit]:
        t = csv[csv["metric"] == m]
        first, last = int(t["step"].min()), int(t["step"].max())
        end = t[t["step"] == last].sort_values("mean", ascending=False)
        hi, lo = end.iloc[0], end.iloc[-1]
        start = t[(t["step"] == first) & (t["arm"] == hi["arm"])].iloc[0]
        if len(end) == 1:
            out.append(
                Sentence(
                    f"{label(m)} under {hi['arm']} went from {fmt(start['mean'])} in month {fmt(first)} to "
                    f"{fmt(hi['mean'])} in month {fmt(last)}.",
                    (("mean", start["mean"]), ("step", first), ("mean", hi["mean"]), ("step", last)),
                )
            )
            continue
        out.append(
            Sentence(
                f"{label(m)}: by month {fmt(last)}, it was highest under {hi['arm']} ({fmt(hi['mean'])}) and "
                f"lowest under {lo['arm']} ({fmt(lo['mean'])}); under {hi['arm']} it was {fmt(start['mean'])} "
                f"in month {fmt(first)}.",
                (("step", last), ("mean", hi["mean"]), ("mean", lo["mean"]), ("mean", start["mean"]), ("step", first)),
            )
        )
    return out


def _verdict(lo: float, hi: float) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "no interval (one replication)"
    if lo > 0:
        return "clearly above zero"
    if hi < 0:
        return "clearly below zero"
    return "within noise (the interval crosses zero)"


def read_differences_over_time(csv: pd.DataFrame, limit: int = 3) -> list[Sentence]:
    """The last month's difference, its interval and verdict.

    With one line per metric panel: per metric, for the first compared pair. With several (pairs at
    several design points): per line, for the first metric.
    """
    if csv.empty:
        return []
    names = list(dict.fromkeys(csv["pair"]))
    a, b = csv["a"].iloc[0], csv["b"].iloc[0]
    first_pair = [n for n in names if n.startswith(f"{a} - {b}")]
    if len(first_pair) > 1:
        cases = [(n, csv["metric"].iloc[0]) for n in names[: MAX_DIFFERENCE_POINTS + 1]]
    else:
        cases = [(names[0], m) for m in list(dict.fromkeys(csv["metric"]))[:limit]]
    out = []
    for name, m in cases:
        t = csv[(csv["pair"] == name) & (csv["metric"] == m)]
        last = int(t["step"].max())
        r = t[t["step"] == last].iloc[0]
        out.append(
            Sentence(
                f"In month {fmt(last)}, {name} on {label(m).lower()} was {fmt(r['mean'])} "
                f"(95% interval {fmt(r['ci_low'])} to {fmt(r['ci_high'])}): {_verdict(r['ci_low'], r['ci_high'])}.",
                (("step", last), ("mean", r["mean"]), ("ci_low", r["ci_low"]), ("ci_high", r["ci_high"])),
            )
        )
    return out


def _at_bin(t: pd.DataFrame, low: float) -> pd.Series:
    return t[np.isclose(t["bin_low"], low)].iloc[0]


def read_indicator_distribution(csv: pd.DataFrame, limit: int = 4) -> list[Sentence]:
    """Per panel: the share of records just above and just below the standard, and of true values just above."""
    out = [
        Sentence(
            "Bars are where the records fall, the black line where the cases' true values fall; where no record is "
            "moved the bars follow the line."
        )
    ]
    width = float(csv["bin_high"].iloc[0] - csv["bin_low"].iloc[0])
    for name in list(dict.fromkeys(csv["panel"]))[:limit]:
        t = csv[csv["panel"] == name]
        above, below = _at_bin(t, 0.0), _at_bin(t, -width)
        out.append(
            Sentence(
                f"Under {name}, {fmt(above['recorded_share'])} of records fell in the bin just above the standard "
                f"and {fmt(below['recorded_share'])} in the bin just below it, where the true values put "
                f"{fmt(above['true_share'])} and {fmt(below['true_share'])}.",
                (
                    ("recorded_share", above["recorded_share"]),
                    ("recorded_share", below["recorded_share"]),
                    ("true_share", above["true_share"]),
                    ("true_share", below["true_share"]),
                ),
            )
        )
    return out


def read_reported_vs_true(csv: pd.DataFrame, limit: int = 4) -> list[Sentence]:
    """Per panel: the mean recorded pass rate against the mean lived outcome, and the gap."""
    means = csv[csv["level"] == "mean"]
    several = means["domain_kind"].nunique() > 1
    out = []
    for name in list(dict.fromkeys(means["panel"]))[:limit]:
        for _, r in means[means["panel"] == name].iterrows():
            which = f" in {r['domain_kind']} domains" if several else ""
            out.append(
                Sentence(
                    f"Under {name}, services{which} recorded a mean pass rate of {fmt(r['reported_rate'])} while "
                    f"their citizens lived with an outcome of {fmt(r['lived_outcome'])} (a gap of {fmt(r['gap'])}).",
                    (("reported_rate", r["reported_rate"]), ("lived_outcome", r["lived_outcome"]), ("gap", r["gap"])),
                )
            )
    return out


def read_equity(csv: pd.DataFrame, limit: int = 4) -> list[Sentence]:
    """Per panel: outcome and pro-social activity in the least and the most deprived fifth."""
    out = []
    for name in list(dict.fromkeys(csv["panel"]))[:limit]:
        t = csv[csv["panel"] == name].set_index("fifth")
        least, most = t.loc[t.index.min()], t.loc[t.index.max()]
        out.append(
            Sentence(
                f"Under {name}, the outcome people lived with was {fmt(least['lived_outcome'])} in the least "
                f"deprived fifth of communities and {fmt(most['lived_outcome'])} in the most deprived; pro-social "
                f"activity was {fmt(least['prosocial_rate'])} and {fmt(most['prosocial_rate'])}.",
                (
                    ("lived_outcome", least["lived_outcome"]),
                    ("lived_outcome", most["lived_outcome"]),
                    ("prosocial_rate", least["prosocial_rate"]),
                    ("prosocial_rate", most["prosocial_rate"]),
                ),
            )
        )
    return out


def read_scenario_rules(csv: pd.DataFrame) -> list[Sentence]:
    """Per scenario-discovery question: at how many points the better arm won, and where it failed."""
    out = []
    for (better, worse, output), t in csv.groupby(["better", "worse", "output"], sort=False):
        fails = t[t["where"] == "fails"]
        n, wins = int(t["points"].iloc[0]), int(t["wins"].iloc[0])
        text = f"{better} beat {worse} on {label(output).lower()} at {fmt(wins)} of the {fmt(n)} points"
        numbers: list[tuple[str, float]] = [("wins", wins), ("points", n)]
        if len(fails):
            f = fails.iloc[0]
            text += (
                f"; it failed mostly where {f['conditions']} (coverage {fmt(f['coverage'])}: the share of its "
                f"failures inside that box; density {fmt(f['density'])}: the share of failures among the points in it)"
            )
            numbers += [("coverage", f["coverage"]), ("density", f["density"])]
        out.append(Sentence(text + ".", tuple(numbers)))
    return out


def read_sufficiency(csv: pd.DataFrame) -> list[Sentence]:
    """The largest and smallest standard error of an arm's mean at the most replications."""
    t = csv[csv["n"] == csv["n"].max()].sort_values("se", ascending=False)
    if t.empty:
        return []
    hi, lo = t.iloc[0], t.iloc[-1]
    n = int(hi["n"])
    return [
        Sentence(
            f"With {fmt(n)} replications the least precise end-of-run mean is {label(hi['metric']).lower()} under "
            f"{hi['arm']} (standard error {fmt(hi['se'])}), the most precise {label(lo['metric']).lower()} under "
            f"{lo['arm']} (standard error {fmt(lo['se'])}).",
            (("n", n), ("se", hi["se"]), ("se", lo["se"])),
        ),
        Sentence(
            "The dashed line is how the standard error would fall (as 1/sqrt(n)) with more replications; "
            "curves that run above it are not yet settled."
        ),
    ]


def read_sensitivity(csv: pd.DataFrame, limit: int = 3) -> list[Sentence]:
    """Per output (Sobol' ST or Morris mu*): the most influential parameter and its index."""
    col = "ST" if "ST" in csv.columns else "mu_star" if "mu_star" in csv.columns else None
    if col is None or not {"output", "parameter"} <= set(csv.columns):
        return read_generic(csv)
    name = "total Sobol' index ST" if col == "ST" else "Morris mu* (mean absolute effect)"
    out = []
    for o in list(dict.fromkeys(csv["output"]))[:limit]:
        top = csv[csv["output"] == o].sort_values(col, ascending=False).iloc[0]
        out.append(
            Sentence(
                f"{label(o)} depends most on {top['parameter']} ({name} {fmt(top[col])}).",
                ((col, top[col]),),
            )
        )
    return out


def read_response(csv: pd.DataFrame, limit: int = 3) -> list[Sentence]:
    """Per plotted metric and arm: the end-of-run mean at the lowest and the highest swept value."""
    fixed = {"arm", "point", "metric", "mean", "ci_low", "ci_high", "n"}
    params = [c for c in csv.columns if c not in fixed]
    if len(params) != 1:
        return read_generic(csv)
    x = params[0]
    out = []
    for m in list(dict.fromkeys(csv["metric"]))[:limit]:
        for arm in dict.fromkeys(csv["arm"]):
            t = csv[(csv["metric"] == m) & (csv["arm"] == arm)].sort_values(x)
            lo, hi = t.iloc[0], t.iloc[-1]
            out.append(
                Sentence(
                    f"{label(m)} under {arm}: {fmt(lo['mean'])} at {x} = {fmt(lo[x])} and {fmt(hi['mean'])} at "
                    f"{fmt(hi[x])}.",
                    (("mean", lo["mean"]), (x, lo[x]), ("mean", hi["mean"]), (x, hi[x])),
                )
            )
    return out


def read_lab_fit(csv: pd.DataFrame) -> list[Sentence]:
    """Per arm: the model's and the data's mean contribution in the first and the last period."""
    out = []
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
            f"Under {arm}, simulated citizens contributed {fmt(first['value'])} tokens in period "
            f"{fmt(first['period'])} and {fmt(last['value'])} in period {fmt(last['period'])}"
        )
        numbers: list[tuple[str, float]] = [
            ("value", first["value"]),
            ("period", first["period"]),
            ("value", last["value"]),
            ("period", last["period"]),
        ]
        if len(data):
            d0, d1 = data.iloc[0], data.iloc[-1]
            text += f"; the laboratory pools' mean went from {fmt(d0['value'])} to {fmt(d1['value'])}"
            numbers += [("value", d0["value"]), ("value", d1["value"])]
        out.append(Sentence(text + ".", tuple(numbers)))
    return out


def read_generic(csv: pd.DataFrame) -> list[Sentence]:
    """Figures without their own reader: say how many values the CSV holds."""
    return [Sentence(f"The figure draws the {fmt(len(csv))} rows of its CSV.", ())]


DETAIL_FIGURES = (
    (DISTRIBUTION_STEM, "The recorded indicator around the standard", read_indicator_distribution),
    (REPORTED_STEM, "Reported against true outcome, service by service", read_reported_vs_true),
    (EQUITY_STEM, "Outcomes and pro-social activity by community deprivation", read_equity),
)


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
            lines.append(line[2:])
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
        from sim.sweep.detail_figures import write_run_figures

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

    figures: list[Figure] = []
    ot = _read_csv(folder / "over_time.csv")
    if ot is not None and (folder / "over_time.png").is_file():
        figures.append(Figure("over_time", "Measures over time, by arm", read_over_time(ot)))
    parameters = list(plan.get("parameters") or [])
    if differences is not None and not differences.empty and (folder / "timeseries.parquet").is_file():
        ts = pd.read_parquet(folder / "timeseries.parquet")
        table = paired_differences_over_time(ts, differences, parameters)
        if len(table):
            plot_differences_over_time(table, folder)
            csv = pd.read_csv(folder / f"{DIFF_STEM}.csv")  # read back: sentences quote the saved numbers
            figures.append(Figure(DIFF_STEM, "Paired differences over time", read_differences_over_time(csv)))
    resp = _read_csv(folder / "response.csv")
    if resp is not None and (folder / "response.png").is_file():
        figures.append(Figure("response", "End-of-run outputs against the swept parameter", read_response(resp)))
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
            figures.append(Figure(png.stem, f"Sensitivity ({png.stem})", read_sensitivity(csv)))
    rules = _read_csv(folder / "scenario_rules.csv")
    scenarios = read_scenario_rules(rules) if rules is not None and len(rules) else []

    reps = int(plan.get("replications") or exp.get("replications") or (summary["n"].max() if len(summary) else 0))
    noise = [
        f"{r['metric']}: {r['a']} - {r['b']}{f' ({w})' if (w := r['where']) else ''} = {fmt(r['diff'])} "
        f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"
        for _, r in headline.iterrows()
        if not (r["ci_low"] > 0 or r["ci_high"] < 0)
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
    return Contents(
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
    )


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
    def cell(x: str) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(cell(c) for c in r) + " |" for r in rows],
        "",
    ]


HEADLINE_HEADER = ("comparison", "measure", "difference", "95% interval", "reading")


def headline_table(c: Contents) -> tuple[list[str], list[list[str]]]:
    points = bool(c.headline["where"].astype(bool).any()) if len(c.headline) else False
    rows = [
        [
            f"{r['a']} - {r['b']}",
            *([str(r["where"])] if points else []),
            label(r["metric"]),
            fmt(r["diff"]),
            f"{fmt(r['ci_low'])} to {fmt(r['ci_high'])}",
            _verdict(r["ci_low"], r["ci_high"]),
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
            [str(arm), *where]
            + [
                _mean_with_interval(g.loc[m, "mean"], g.loc[m, "ci_low"], g.loc[m, "ci_high"]) if m in g.index else ""
                for m in metrics
            ]
        )
    return ["arm", *(["where"] if names else []), *[label(m) for m in metrics]], rows


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
    cols = ("rmse_tokens", "model_first_share", "data_first_share", "model_last_share", "data_last_share")
    return [[str(r["arm"]), *(fmt(r[k]) for k in cols)] for _, r in c.fit.iterrows()]


def _mean_with_interval(mean: float, lo: float, hi: float) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{fmt(mean)} (no interval)"
    return f"{fmt(mean)} ({fmt(lo)} to {fmt(hi)})"


SCENARIO_HEADER = ("better", "than", "on", "where", "conditions", "coverage", "density", "points in box")


def _scenario_rows(c: Contents) -> list[list[str]]:
    return [
        [
            str(r["better"]),
            str(r["worse"]),
            label(r["output"]),
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
    out = [f"# Experiment '{c.name}'", ""]
    out += ["## Question", "", c.question or "(no question recorded in config.yaml)", ""]
    out += ["## Setup", "", "Arms: " + "; ".join(f"{a}: {' '.join(o) or 'defaults'}" for a, o in c.arms.items()), ""]
    out += [f"Replications per arm: {c.replications}. What differs from the model's defaults (`SimConfig()`):", ""]
    out += markdown_table(SETUP_HEADER, c.setup) if c.setup else ["(nothing: the defaults)", ""]
    out += ["## Figures", ""]
    for f in c.figures:
        out += [f"### {f.title}", "", f"![{f.title}]({f.stem}.png)", ""]
        out += [" ".join(s.text for s in f.sentences), "", f"Numbers drawn: [{f.stem}.csv]({f.stem}.csv).", ""]
    if len(c.headline):
        out += ["## Headline comparisons", "", INTRO_HEADLINE, ""]
        out += markdown_table(*headline_table(c))
    if len(c.summary) and not c.sampled:
        header, rows = _summary_rows(c)
        out += ["## End-of-run means by arm (95% interval)", "", *markdown_table(header, rows)]
    if len(c.fit):
        out += ["## Fit to the data", "", FIT_INTRO, "", *markdown_table(FIT_HEADER, fit_rows(c))]
    if len(c.scenario_rules):
        out += ["## Where one arm beats the other (scenario discovery)", "", SCENARIO_INTRO, ""]
        out += [" ".join(s.text for s in c.scenarios), ""]
        out += markdown_table(SCENARIO_HEADER, _scenario_rows(c))
        out += ["Numbers: [scenario_rules.csv](scenario_rules.csv); trajectories in scenarios.csv.", ""]
    out += ["## Caveats", ""]
    out += [f"- {c.replications} replication(s) per arm: intervals are across replications."]
    if c.noise:
        out += ["- Within noise (95% interval crosses zero): " + "; ".join(c.noise) + "."]
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
    p = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Experiment {_h(c.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Experiment &lsquo;{_h(c.name)}&rsquo;</h1>",
        "<h2>Question</h2>",
        f"<p>{_h(c.question or '(no question recorded in config.yaml)')}</p>",
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
            f"<figcaption>{' '.join(_h(s.text) for s in f.sentences)} Numbers drawn: "
            f"<code>{_h(f.stem)}.csv</code> (also <code>{_h(f.stem)}.svg</code>).</figcaption></figure>",
        ]
    if len(c.headline):
        p += ["<h2>Headline comparisons</h2>", f"<p>{_h(INTRO_HEADLINE)}</p>"]
        p.append(_html_table(*headline_table(c)))
    if len(c.summary) and not c.sampled:
        header, rows = _summary_rows(c)
        p += ["<h2>End-of-run means by arm (95% interval)</h2>", _html_table(header, rows)]
    if len(c.fit):
        p += ["<h2>Fit to the data</h2>", f"<p>{_h(FIT_INTRO)}</p>", _html_table(FIT_HEADER, fit_rows(c))]
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
        items = "".join(f"<li>{_h(n)}</li>" for n in c.noise)
        p.append(f'<li class="noise">Within noise (95% interval crosses zero):<ul>{items}</ul></li>')
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
    "Contents",
    "Figure",
    "Sentence",
    "build_report",
    "collect",
    "fmt",
    "paired_differences_over_time",
    "plot_differences_over_time",
    "read_differences_over_time",
    "read_over_time",
    "read_sensitivity",
    "read_sufficiency",
    "render_html",
    "render_markdown",
    "setup_rows",
]

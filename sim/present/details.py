"""Figures from the runs' detail tables (``sim.details``), read back from a sweep folder.

- ``indicator_distribution``: where recorded case values fall around the standard, per arm and
  regime in force, against where the cases' true values fall. Moved records show as a spike in
  the bin just above the standard (Bevan & Hood 2006).
- ``reported_vs_true``: each service's recorded pass rate against the outcome its citizens live
  with (end-of-run window), per arm; points above the diagonal report more than is lived.
- ``equity``: the outcome people live with and pro-social activity by fifth of community
  deprivation, per arm, with 95 % intervals across runs.

An experiment with one design point draws a panel per arm. A grid (or list) draws a panel per
arm and point when there are at most :data:`MAX_PANELS`, else each arm at its first and last
point. A sampled design (LHS, Sobol', Morris) pools each arm over all its sampled points, and the
panel's name says so. Each figure's CSV holds exactly the numbers drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from sim.details import BINS_PER_UNIT
from sim.present.style import ArmStyle, arm_gid, finish, save_figure, value_axis
from sim.present.words import arm_name, lever_words, measure

if TYPE_CHECKING:
    from sim.sweep.plan import Plan

MAX_PANELS = 8
DISTRIBUTION_STEM = "indicator_distribution"
REPORTED_STEM = "reported_vs_true"
EQUITY_STEM = "equity"
# Per community, the outcome people live with is the true outcome of its services.
EQUITY_METRICS = {"lived_outcome": "true_outcome", "prosocial_rate": "prosocial_rate"}
RUN = ["arm", "point", "replication"]


@dataclass(frozen=True)
class Panel:
    """The runs one panel draws: an arm at one or more design points."""

    label: str
    arm: str
    points: tuple[int, ...]


def panels(plan: Plan) -> list[Panel]:
    """The panels of the detail figures for a plan (see the module docstring)."""
    arms, points = list(plan.arms), plan.points.reset_index(drop=True)
    n = len(points)
    if n <= 1:
        return [Panel(arm_name(arm), arm, (0,)) for arm in arms]
    if plan.spec.design in ("grid", "list"):
        chosen = list(range(n)) if len(arms) * n <= MAX_PANELS else [0, n - 1]

        def label(arm: str, p: int) -> str:
            where = ", ".join(lever_words(k, v) for k, v in points.iloc[p].items())
            return f"{arm_name(arm)}, {where}" if len(arms) > 1 else where

        return [Panel(label(arm, p), arm, (p,)) for arm in arms for p in chosen]
    return [Panel(f"{arm_name(arm)} (pooled over {n} sampled points)", arm, tuple(range(n))) for arm in arms]


def _runs_of(frame: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    return frame[(frame["arm"] == panel.arm) & frame["point"].isin(panel.points)]


def _mean_ci(values: pd.DataFrame, keys: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Per group: each column's mean across runs and its 95 % t-interval, and the number of runs."""
    from sim.sweep.analysis import t_half_width

    g = values.groupby(list(keys), sort=False)[list(columns)]
    mean, sd, n = g.mean(), g.std(), g.count()
    out = mean.reset_index()
    for c in columns:
        half = np.asarray(t_half_width(sd[c].to_numpy(), n[c].to_numpy()), dtype=float)
        out[f"{c}_ci_low"] = mean[c].to_numpy() - half
        out[f"{c}_ci_high"] = mean[c].to_numpy() + half
    out["runs"] = n[columns[0]].to_numpy()
    return out


# --- the recorded indicator around the standard --------------------------------------------------


def indicator_distribution(histogram: pd.DataFrame, chosen: Sequence[Panel]) -> pd.DataFrame:
    """Per panel, regime in force and bin: the mean share of records (and of true values) across runs."""
    parts = []
    for panel in chosen:
        h = _runs_of(histogram, panel)
        if h.empty:
            continue
        h = h.assign(
            recorded_share=h["recorded"] / h["recorded_total"].where(h["recorded_total"] > 0),
            true_share=h["true"] / h["true_total"].where(h["true_total"] > 0),
        )
        several = h["regime"].nunique() > 1
        for regime, part in h.groupby("regime", sort=False):
            name = f"{panel.label}, months under {arm_name(regime)}" if several else panel.label
            table = _mean_ci(part, ["bin_low", "bin_high"], ["recorded_share", "true_share"])
            table.insert(0, "regime", regime)
            table.insert(0, "arm", panel.arm)
            table.insert(0, "panel", name)
            parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _grid(n: int, width: float = 4.2, height: float = 3.4) -> tuple[MplFigure, list[Axes]]:
    cols = min(4, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.6), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def plot_indicator_distribution(table: pd.DataFrame, folder: Path, arms: Sequence[str] = ()) -> list[Path]:
    """One panel per arm (and regime in force): recorded shares as bars, true shares as a line.

    All panels share one y axis, so a spike of 3% never looks as tall as one of 6%.
    """
    names = list(dict.fromkeys(table["panel"]))
    style = ArmStyle(arms or dict.fromkeys(table["arm"]))
    fig, axes = _grid(len(names))
    width = 1.0 / BINS_PER_UNIT
    top = float(np.nanmax([table["recorded_share"].max(), table["true_share"].max()])) * 1.08 or 0.01
    for ax, name in zip(axes, names, strict=True):
        t = table[table["panel"] == name]
        arm = str(t["arm"].iloc[0])
        ax.bar(
            t["bin_low"],
            t["recorded_share"],
            width=width,
            align="edge",
            color=style.colour(arm),
            alpha=0.75,
            gid=arm_gid(arm),
        )
        ax.step(t["bin_low"], t["true_share"], where="post", color="black", lw=1.2)
        ax.axvline(0.0, color="black", lw=1.2, ls="--")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("Distance of the case from the standard (0 and right: passes)")
        ax.set_ylabel("Cases in each bin (% of all cases)")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.set_ylim(0, top)
        finish(ax)
    handles = [
        Rectangle((0, 0), 1, 1, color="#777777", alpha=0.75),
        Line2D([], [], color="black", lw=1.2),
        Line2D([], [], color="black", lw=1.2, ls="--"),
    ]
    fig.legend(
        handles,
        ["recorded values (what the figures count; the arm's colour)", "true values (all cases)", "the standard"],
        loc="lower center",
        ncol=3,
        frameon=False,
    )
    runs = int(table["runs"].min())
    fig.suptitle(
        f"Recorded case values around the standard: a spike just right of it means records were moved to pass "
        f"(mean over {runs} runs per panel, whole recorded period)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return save_figure(fig, table, folder, DISTRIBUTION_STEM)


# --- reported versus true outcome, per service ---------------------------------------------------


def reported_vs_true(services: pd.DataFrame, chosen: Sequence[Panel]) -> pd.DataFrame:
    """Per panel: every service's recorded pass rate and lived outcome, and their means by domain kind."""
    parts = []
    for panel in chosen:
        s = _runs_of(services, panel)
        if s.empty:
            continue
        s = s.assign(
            panel=panel.label,
            # Domains that carry central targets when the regime sets them (regime.measured_domains).
            domain_kind=np.where(s["measured"], "measured", "unmeasured"),
            gap=s["reported_rate"] - s["lived_outcome"],
        )
        rows = s[["panel", *RUN, "service", "domain_kind", "lived_outcome", "reported_rate", "gap"]].assign(
            level="service"
        )
        means = (
            s.groupby("domain_kind", sort=True)[["lived_outcome", "reported_rate", "gap"]]
            .mean()
            .reset_index()
            .assign(panel=panel.label, arm=panel.arm, level="mean")
        )
        parts += [rows, means]
    if not parts:
        return pd.DataFrame()
    cols = ["panel", "level", *RUN, "service", "domain_kind", "lived_outcome", "reported_rate", "gap"]
    out = pd.concat(parts, ignore_index=True)[cols]
    return out.astype({c: "Int64" for c in ("point", "replication", "service")})


def plot_reported_vs_true(table: pd.DataFrame, folder: Path, arms: Sequence[str] = ()) -> list[Path]:
    """One panel per arm: services as dots (filled: measured domains, hollow: unmeasured), means as crosses."""
    names = list(dict.fromkeys(table["panel"]))
    style = ArmStyle(arms or dict.fromkeys(table["arm"].dropna()))
    fig, axes = _grid(len(names), width=3.8, height=3.8)
    kinds = sorted(set(table["domain_kind"]))
    true, reported = measure("true_outcome"), measure("reported_outcome")
    for ax, name in zip(axes, names, strict=True):
        t = table[table["panel"] == name]
        arm = str(t["arm"].dropna().iloc[0])
        colour = style.colour(arm)
        for kind in kinds:
            d = t[(t["level"] == "service") & (t["domain_kind"] == kind)]
            what = f"services, {kind} domains" if len(kinds) > 1 else "services (one dot per service and run)"
            hollow = kind == "unmeasured"
            ax.scatter(
                d["lived_outcome"],
                d["reported_rate"],
                s=9,
                facecolors="none" if hollow else colour,
                edgecolors=colour,
                alpha=0.5,
                lw=0.6,
                label=what,
                gid=arm_gid(arm),
            )
            m = t[(t["level"] == "mean") & (t["domain_kind"] == kind)]
            ax.scatter(
                m["lived_outcome"],
                m["reported_rate"],
                s=90,
                marker="X",
                color="white" if hollow else colour,
                edgecolor="black",
                lw=0.8,
                label=f"mean, {kind} domains" if len(kinds) > 1 else "mean",
            )
        ax.plot([0, 1], [0, 1], color="black", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=9)
        value_axis(ax, true, "x")
        value_axis(ax, reported, "y")
        finish(ax)
    axes[0].legend(frameon=False, fontsize=8, loc="upper left")
    fig.suptitle(
        "Reported against true outcome, service by service (last 12 months; crosses: means; "
        "above the diagonal = the record says more than people get)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_figure(fig, table, folder, REPORTED_STEM)


# --- equity: outcomes and pro-social activity by deprivation --------------------------------------


def deprivation_fifths(communities: pd.DataFrame) -> pd.DataFrame:
    """Per run and fifth of its communities by deprivation (1 = least deprived): size-weighted means."""
    c = communities[communities["size"] > 0].copy()
    rank = c.groupby("key")["deprivation"].rank(method="first") - 1
    count = c.groupby("key")["deprivation"].transform("size")
    c["fifth"] = (rank * 5 // count).astype(int) + 1
    metrics = ["deprivation", *EQUITY_METRICS]
    weighted = c[metrics].mul(c["size"], axis=0).assign(size=c["size"])
    keys = [*RUN, "key", "fifth"]
    sums = pd.concat([c[keys], weighted], axis=1).groupby(keys, sort=False).sum()
    return sums[metrics].div(sums["size"], axis=0).reset_index()


def equity_by_deprivation(communities: pd.DataFrame, chosen: Sequence[Panel]) -> pd.DataFrame:
    """Per panel and deprivation fifth: mean deprivation, outcome and pro-social activity, 95 % intervals."""
    fifths = deprivation_fifths(communities)
    parts = []
    for panel in chosen:
        f = _runs_of(fifths, panel)
        if f.empty:
            continue
        table = _mean_ci(f, ["fifth"], list(EQUITY_METRICS)).sort_values("fifth")
        table.insert(1, "deprivation", f.groupby("fifth")["deprivation"].mean().reindex(table["fifth"]).to_numpy())
        table.insert(0, "arm", panel.arm)
        table.insert(0, "panel", panel.label)
        parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def plot_equity(table: pd.DataFrame, folder: Path, arms: Sequence[str] = ()) -> list[Path]:
    """One panel per measure (same axis for both); a line per panel of runs, in its arm's colour."""
    names = list(dict.fromkeys(table["panel"]))
    style = ArmStyle(arms or dict.fromkeys(table["arm"]))
    fig, axes = plt.subplots(1, len(EQUITY_METRICS), figsize=(6.2 * len(EQUITY_METRICS), 4.4), squeeze=False)
    styles = ("-", "--", ":", "-.")
    for ax, (column, key) in zip(axes[0], EQUITY_METRICS.items(), strict=True):
        m = measure(key)
        for name in names:
            t = table[table["panel"] == name]
            arm = str(t["arm"].iloc[0])
            # Several panels of one arm (design points) keep the arm's colour, told apart by line style.
            same_arm = [n for n in names if str(table.loc[table["panel"] == n, "arm"].iloc[0]) == arm]
            ls = styles[same_arm.index(name) % len(styles)]
            colour = style.colour(arm)
            ax.plot(
                t["fifth"],
                t[column],
                ls=ls,
                marker=style.marker(arm),
                color=colour,
                lw=1.6,
                ms=4,
                label=name,
                gid=arm_gid(arm),
            )
            ax.fill_between(
                t["fifth"],
                t[f"{column}_ci_low"],
                t[f"{column}_ci_high"],
                color=colour,
                alpha=0.18,
                lw=0,
                gid=arm_gid(arm),
            )
        ax.set_title(m.title, fontsize=10)
        ax.set_xticks([1, 2, 3, 4, 5], ["1\nleast", "2", "3", "4", "5\nmost"])
        ax.set_xlabel("Fifth of communities by deprivation")
        value_axis(ax, m)
        ax.set_ylim(0, 1)
        finish(ax)
    axes[0][0].legend(frameon=False, fontsize=8)
    runs = int(table["runs"].min())
    fig.suptitle(
        f"Outcomes and pro-social activity by community deprivation (last 12 months; mean and 95% interval over "
        f"{runs} runs)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return save_figure(fig, table, folder, EQUITY_STEM)


def write_detail_figures(folder: str | Path, plan: Plan) -> list[Path]:
    """Draw the three detail figures of a sweep folder (those whose tables the runs wrote)."""
    from sim.sweep.store import read_details

    folder = Path(folder)
    arms = [str(a) for a in plan.arms]
    return _draw(folder, panels(plan), lambda name: read_details(folder, name), arms)


def _draw(
    folder: Path, chosen: Sequence[Panel], read: Callable[[str], pd.DataFrame], arms: Sequence[str]
) -> list[Path]:
    written: list[Path] = []
    table = indicator_distribution(read("indicator_histogram"), chosen)
    if len(table):
        written += plot_indicator_distribution(table, folder, arms)
    table = reported_vs_true(read("services"), chosen)
    if len(table):
        written += plot_reported_vs_true(table, folder, arms)
    table = equity_by_deprivation(read("communities"), chosen)
    if len(table):
        written += plot_equity(table, folder, arms)
    return written


RUN_METRICS = ["prosocial_rate", "gaming_share", "trust_mean", "true_outcome"]


def write_run_figures(folder: str | Path) -> list[Path]:
    """Draw a single run folder's figures (``python -m sim run``): its measures over time and detail figures.

    The run is labelled as one arm (its starting regime), one point and one replication, so the
    same figure code draws it; with one run there are no intervals.
    """
    from sim.present.figures import plot_metrics_over_time

    folder = Path(folder)
    ts = pd.read_parquet(folder / "timeseries.parquet")
    arm = str(ts["regime"].iloc[0]) if len(ts) else "run"
    labels = {"arm": arm, "point": 0, "replication": 0, "key": folder.name}
    written = plot_metrics_over_time(ts.assign(**labels), RUN_METRICS, folder)

    def read(name: str) -> pd.DataFrame:
        path = folder / "details" / f"{name}.parquet"
        return pd.read_parquet(path).assign(**labels) if path.is_file() else pd.DataFrame(columns=list(labels))

    return written + _draw(folder, [Panel(arm_name(arm), arm, (0,))], read, [arm])

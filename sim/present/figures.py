"""Figures of an experiment's or a run's measures, drawn from saved tables (never from a live model).

- ``over_time``: each measure month by month, a line per arm with its 95 % band;
- ``differences_over_time``: paired differences between compared arms month by month;
- ``response``: end-of-run measures against one swept lever, a line per arm;
- ``sufficiency``: the standard error of each arm's mean against the number of replications;
- ``sensitivity*``: Sobol' or Morris indices per lever;
- ``lab_fit``: the public-goods laboratory, model beside data.

All in the style of :mod:`sim.present.style`; each figure's CSV holds exactly the numbers drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter, NullFormatter

from sim.present.style import (
    ArmStyle,
    arm_gid,
    arm_legend,
    difference_axis,
    finish,
    level_axis,
    month_axis,
    neutral,
    note_overlaps,
    pair_gid,
    regime_periods,
    save_figure,
    shade_regimes,
    share_same_quantity,
    value_axis,
)
from sim.present.words import MONEY, POINTS, PP, SHARE, arm_name, lever, lever_value, measure, money, number


def _half_width(sd: np.ndarray, n: np.ndarray) -> np.ndarray:
    from sim.sweep.analysis import t_half_width

    return np.asarray(t_half_width(sd, n), dtype=float)


def band(ts: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and 95% t-interval across replications, per arm and step."""
    g = ts.groupby(["arm", "step"], sort=False)[metric]
    out = g.agg(["mean", "std", "count"]).reset_index()
    half = _half_width(out["std"].to_numpy(), out["count"].to_numpy())
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    out.insert(2, "metric", metric)
    return out[["arm", "step", "metric", "mean", "ci_low", "ci_high", "count"]]


def _panels(n: int, width: float, height: float, sharex: bool = False) -> tuple[MplFigure, list[Axes]]:
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False, sharex=sharex)
    return fig, list(axes[0])


def plot_metrics_over_time(
    parquet: Path | pd.DataFrame,
    metrics: list[str],
    out_dir: Path,
    stem: str = "over_time",
    arms: Sequence[str] = (),
) -> list[Path]:
    """Panels of each measure over time, a line per arm with its 95 % band; returns the files written.

    Months under each regime are shaded when an arm switches regime during the run; lines that
    coincide are named on the panel.

    Args:
        parquet: a saved time series with ``arm``, ``replication`` and ``step`` (a path, or the table).
        metrics: one panel each.
        out_dir: where the figure goes.
        stem: its file name.
        arms: the experiment's arms in its order (their colours); default: order of appearance.

    """
    ts = parquet if isinstance(parquet, pd.DataFrame) else pd.read_parquet(parquet)
    style = ArmStyle(arms or dict.fromkeys(ts["arm"]))
    shown = style.order(dict.fromkeys(ts["arm"]))
    periods = regime_periods(ts)
    fig, axes = _panels(len(metrics), 5.2, 4.2)
    tables = []
    for ax, metric in zip(axes, metrics, strict=True):
        m = measure(metric)
        b = band(ts, metric)
        tables.append(b)
        shade_regimes(ax, periods)
        lines = {}
        for arm in shown:
            a = b[b["arm"] == arm]
            style.band(ax, arm, a["step"], a["ci_low"], a["ci_high"])
            style.line(ax, arm, a["step"], a["mean"])
            lines[arm] = a["mean"].to_numpy(dtype=float)
        note_overlaps(ax, m, lines)
        ax.set_title(m.title)
        month_axis(ax)
        value_axis(ax, m)
        level_axis(ax, [*b["ci_low"], *b["ci_high"], *b["mean"]], m)
        finish(ax)
    n_reps = int(ts.groupby("arm")["replication"].nunique().min())
    runs = f"mean and 95% band over {n_reps} replications per arm" if n_reps > 1 else "one run: no band"
    shaded = "; shaded: months under each regime" if len(periods) > 1 else ""
    fig.suptitle(f"Measures over time ({runs}{shaded})", fontsize=10)
    fig.tight_layout()
    arm_legend(fig, axes[0])
    return save_figure(fig, pd.concat(tables, ignore_index=True), out_dir, stem)


def _lever_axis(ax: Axes, parameter: str, values: Sequence[float]) -> None:
    """Label the x axis with the swept lever; a log axis when the values span two orders of magnitude.

    A zero among them stays on the axis (a symmetric-log scale, linear below the smallest
    positive value), so the change at small values is not squeezed into a few pixels.
    """
    lv = lever(parameter)
    ax.set_xlabel(lv.axis_label)
    v = np.asarray(sorted({float(x) for x in values}), dtype=float)
    positive = v[v > 0]
    if len(positive) >= 2 and positive.max() / positive.min() >= 20 and (v >= 0).all():
        if (v == 0).any():
            ax.set_xscale("symlog", linthresh=float(positive.min()), linscale=0.5)
            ax.set_xlim(-0.15 * float(positive.min()), float(v.max()) * 1.15)
        else:
            ax.set_xscale("log")
        ax.set_xlabel(f"{lv.axis_label}, log scale")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ticks = [money(x) if lv.kind == MONEY else number(x) for x in v]
        ax.set_xticks(v, ticks, rotation=45, ha="right", rotation_mode="anchor")
    elif lv.kind == SHARE:
        value_axis(ax, lv, "x")


def plot_response(
    summary: pd.DataFrame, parameter: str, metrics: Sequence[str], folder: Path, arms: Sequence[str] = ()
) -> list[Path]:
    """End-of-run measures against one swept lever, a line per arm with 95 % intervals.

    Args:
        summary: per arm, point and metric (:func:`sim.sweep.analysis.summary_table` by arm and
            point, with the parameter's column).
        parameter: the swept lever on the x axis.
        metrics: one panel each.
        folder: where the figure goes (``response.png``/``.svg``/``.csv``).
        arms: the experiment's arms in its order (their colours).

    """
    metrics = [m for m in metrics if m in set(summary["metric"])]
    table = summary[summary["metric"].isin(metrics)].sort_values(["arm", parameter], kind="stable")
    style = ArmStyle(arms or dict.fromkeys(table["arm"]))
    fig, axes = _panels(len(metrics), 4.6, 3.9)
    for ax, metric in zip(axes, metrics, strict=True):
        m = measure(metric)
        lines = {}
        for arm in style.order(dict.fromkeys(table["arm"])):
            t = table[(table["arm"] == arm) & (table["metric"] == metric)]
            style.band(ax, arm, t[parameter], t["ci_low"], t["ci_high"])
            style.line(ax, arm, t[parameter], t["mean"])
            lines[arm] = t["mean"].to_numpy(dtype=float)
        note_overlaps(ax, m, lines)
        ax.set_title(m.title)
        value_axis(ax, m)
        level_axis(
            ax, [*table.loc[table["metric"] == metric, "ci_low"], *table.loc[table["metric"] == metric, "ci_high"]], m
        )
        _lever_axis(ax, parameter, table[parameter])
        finish(ax)
    share_same_quantity(axes)
    n = int(table["n"].min()) if len(table) else 0
    fig.suptitle(
        f"End-of-run measures against {lever(parameter).name} (mean of the last 12 months; 95% interval over "
        f"{n} replications)",
        fontsize=10,
    )
    fig.tight_layout()
    arm_legend(fig, axes[0])
    return save_figure(fig, table, folder, "response")


def plot_sensitivity(
    indices: pd.DataFrame,
    method: str,
    folder: Path,
    stem: str,
    title: str = "",
    arm: str = "",
    arms: Sequence[str] = (),
) -> list[Path]:
    """Bar chart of sensitivity indices with their 95 % intervals, one panel per measure.

    Sobol': first-order (S1, solid) and total (ST, hatched) indices per lever. Morris: mu* per
    lever (sigma, the spread of the elementary effects, as a marker). Bars take the arm's colour.
    """
    outputs = list(dict.fromkeys(indices["output"]))
    params = list(dict.fromkeys(indices["parameter"]))
    colour = ArmStyle(arms or [arm]).colour(arm) if arm else "#555555"
    gid = arm_gid(arm) if arm else None
    fig, axes = plt.subplots(1, len(outputs), figsize=(4.4 * len(outputs), 0.42 * len(params) + 1.8), squeeze=False)
    y = np.arange(len(params))
    names = [lever(p).title for p in params]
    for ax, out in zip(axes[0], outputs, strict=True):
        t = indices[indices["output"] == out].set_index("parameter").reindex(params)
        if method == "sobol":
            h = 0.38
            ax.barh(
                y - h / 2, t["S1"], h, xerr=t["S1_conf"], color=colour, label="first-order index", capsize=2, gid=gid
            )
            ax.barh(
                y + h / 2,
                t["ST"],
                h,
                xerr=t["ST_conf"],
                color="white",
                edgecolor=colour,
                hatch="///",
                label="total index",
                capsize=2,
                gid=gid,
            )
            ax.set_xlabel("Sobol' index (share of the measure's variance)")
            ax.axvline(0, color="black", lw=0.6)
        else:
            ax.barh(
                y,
                t["mu_star"],
                0.6,
                xerr=t["mu_star_conf"],
                color=colour,
                label="mean size of effect",
                capsize=2,
                gid=gid,
            )
            ax.plot(t["sigma"], y, "D", color="black", ms=4, label="spread of effects")
            ax.set_xlabel(f"Effect on {measure(out).name} (Morris screening)")
        ax.set_yticks(y, names if ax is axes[0][0] else [""] * len(params))
        ax.invert_yaxis()
        ax.set_title(measure(out).title)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].legend(frameon=False, loc="lower right", fontsize=8)
    name = "Sobol' indices" if method == "sobol" else "Morris screening"
    fig.suptitle(f"{name}{': ' + title if title else ''} (bars: 95% bootstrap intervals)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, indices, folder, stem)


def plot_sufficiency(curve: pd.DataFrame, metrics: Sequence[str], folder: Path, arms: Sequence[str] = ()) -> list[Path]:
    """Standard error of each arm's mean against the number of replications, one panel per measure."""
    t = curve[(curve["what"] == "arm") & curve["metric"].isin(metrics)]
    if "point" in t.columns:
        t = t[t["point"] == t["point"].min()]
    metrics = [m for m in metrics if m in set(t["metric"])]
    style = ArmStyle(arms or dict.fromkeys(t["arm"]))
    fig, axes = _panels(len(metrics), 4.2, 3.7)
    for ax, metric in zip(axes, metrics, strict=True):
        m = measure(metric)
        for arm in style.order(dict.fromkeys(t["arm"])):
            s = t[(t["arm"] == arm) & (t["metric"] == metric)]
            style.line(ax, arm, s["n"], s["se"])
        n = np.arange(2, int(t["n"].max()) + 1) if len(t) else np.arange(2, 3)
        ref = t[t["metric"] == metric]
        if len(ref):
            first = ref[ref["n"] == ref["n"].min()]["se"].mean()
            ax.plot(n, first * np.sqrt(n.min() / n), "--", color="grey", lw=1, label="falls as 1 / square root of runs")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = [k for k in (2, 3, 5, 10, 20, 30, 50, 100, 200, 500, 1000) if k <= n.max()]
        ax.set_xticks(ticks, [str(k) for k in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        unit = PP if m.kind in (SHARE, POINTS) else m.unit
        if m.kind in (SHARE, POINTS):
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(m.title)
        ax.set_xlabel("Replications (runs per arm), log scale")
        ax.set_ylabel(f"Standard error of the mean{f' ({unit})' if unit else ''}, log scale")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(frameon=False, fontsize=8)
    share_same_quantity(axes)
    fig.suptitle("Are there enough replications? Standard error of each end-of-run mean", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, t, folder, "sufficiency")


def plot_differences_over_time(
    table: pd.DataFrame,
    folder: Path,
    stem: str = "differences_over_time",
    periods: Sequence[tuple[str, int, int]] = (),
) -> list[Path]:
    """One panel per measure, a neutral line per compared pair with its 95 % band.

    Regime periods are shaded when ``periods`` (from :func:`~sim.present.style.regime_periods`)
    has more than one.
    """
    metrics = list(dict.fromkeys(table["metric"]))
    pairs = list(dict.fromkeys(table["pair"]))
    fig, axes = _panels(len(metrics), 4.8, 4.0)
    for ax, metric in zip(axes, metrics, strict=True):
        m = measure(metric)
        shade_regimes(ax, periods)
        for i, pair in enumerate(pairs):
            t = table[(table["pair"] == pair) & (table["metric"] == metric)]
            look = neutral(i)
            ax.fill_between(
                t["step"], t["ci_low"], t["ci_high"], color=look["color"], alpha=0.15, lw=0, gid=pair_gid(pair)
            )
            ax.plot(t["step"], t["mean"], lw=1.6, label=pair, gid=pair_gid(pair), **look)
        difference_axis(ax, m)
        ax.set_title(m.title)
        month_axis(ax)
        finish(ax)
    axes[0].legend(title="difference", frameon=False, fontsize=8)
    n = int(table["n"].min()) if len(table) else 0
    shaded = "; shaded: months under each regime" if len(periods) > 1 else ""
    fig.suptitle(f"Paired differences over time (mean over {n} common seeds, 95% band{shaded})", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, table, folder, stem)


def plot_lab_fit(
    summary: pd.DataFrame,
    data: pd.DataFrame,
    arm_data: Mapping[str, tuple[str | None, tuple[str, ...] | None]],
    arm_titles: Mapping[str, str],
    rmse: Mapping[str, float],
    out_dir: Path,
    stem: str = "lab_fit",
) -> list[Path]:
    """Public-goods laboratory: model beside data, one panel per arm (all panels share the y axis).

    Each panel shows the individual cities (thin grey lines), the range across cities (grey band),
    their mean (black) and the model's mean with its 95% interval over replications (the arm's colour).

    Args:
        summary: the lab's saved ``summary.csv`` (per arm and period).
        data: the laboratory data (``treatment``, ``city``, ``period``, ``contribution``).
        arm_data: per arm, its treatment in the data and the cities it is compared with (None: all).
        arm_titles: per arm, its panel title.
        rmse: per arm, the model's root mean squared error against the data (tokens).
        out_dir: where to write the figure.
        stem: file name stem.

    """
    arms = list(dict.fromkeys(summary["arm"]))
    style = ArmStyle(arms)
    fig, axes = plt.subplots(1, len(arms), figsize=(5.2 * len(arms), 4.3), squeeze=False, sharey=True)
    drawn = []

    def keep(arm: str, series: str, s: pd.DataFrame, value: str, low: object, high: object) -> None:
        drawn.append(
            pd.DataFrame(
                {"arm": arm, "series": series, "period": s["period"], "value": s[value], "low": low, "high": high}
            )
        )

    for ax, arm in zip(axes[0], arms, strict=True):
        s = summary[summary["arm"] == arm].sort_values("period")
        treatment, pools = arm_data.get(str(arm), (None, None))
        if treatment is not None:
            d = data[data["treatment"] == treatment]
            if pools is not None:
                d = d[d["city"].isin(pools)]
            for city, c in d.groupby("city"):
                ax.plot(c["period"], c["contribution"], color="0.75", lw=0.7, zorder=1)
                keep(arm, f"city:{city}", c, "contribution", np.nan, np.nan)
            ax.fill_between(
                s["period"],
                s["data_min"],
                s["data_max"],
                color="0.85",
                alpha=0.6,
                lw=0,
                zorder=0,
                label="range across cities",
            )
            where = "all 16 cities" if pools is None else ", ".join(pools)
            ax.plot(
                s["period"],
                s["data_mean"],
                color="black",
                marker="o",
                ms=4,
                lw=1.8,
                zorder=3,
                label=f"data: mean of {where}",
            )
            keep(arm, "data_mean", s, "data_mean", s["data_min"].to_numpy(), s["data_max"].to_numpy())
        ax.fill_between(
            s["period"],
            s["ci_low"],
            s["ci_high"],
            color=style.colour(arm),
            alpha=0.25,
            lw=0,
            zorder=2,
            gid=arm_gid(arm),
        )
        ax.plot(
            s["period"],
            s["mean"],
            color=style.colour(arm),
            marker=style.marker(arm),
            ms=4,
            lw=1.8,
            zorder=4,
            label="model: mean, 95% interval",
            gid=arm_gid(arm),
        )
        keep(arm, "model", s, "mean", s["ci_low"].to_numpy(), s["ci_high"].to_numpy())
        title = arm_titles.get(str(arm), arm_name(arm))
        if str(arm) in rmse:
            title += f"\nroot mean squared error {rmse[str(arm)]:.2f} tokens"
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("Period of the game")
        ax.set_xticks(range(1, int(s["period"].max()) + 1))
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8, loc="lower left")
    axes[0][0].set_ylabel("Mean contribution (tokens out of 20)")
    axes[0][0].set_ylim(0, 20)
    fig.suptitle("Public-goods laboratory: model (citizens' rules) beside Herrmann, Thöni & Gächter (2008)")
    fig.tight_layout()
    return save_figure(fig, pd.concat(drawn, ignore_index=True), out_dir, stem)


__all__ = [
    "band",
    "lever_value",
    "plot_differences_over_time",
    "plot_lab_fit",
    "plot_metrics_over_time",
    "plot_response",
    "plot_sensitivity",
    "plot_sufficiency",
]


def plot_conditions_map(
    points: pd.DataFrame,
    winners: pd.DataFrame,
    importance: pd.DataFrame,
    defaults: Mapping[str, float],
    arms: Sequence[str],
    folder: Path,
    stem: str = "conditions_map",
) -> list[Path]:
    """Where each arm wins: one panel per measure, the sampled points on its two most important conditions.

    The axes of each panel are the two parameters the measure's classification tree leans on
    most (feature importance); each point is coloured by the arm that wins there (its paired
    interval against every other arm excludes zero, and with the winners' ``multiplicity`` ``bh``
    its place survives Benjamini-Hochberg), hollow grey where no arm does (a tie); the black star
    is the model's default parameterisation.
    """
    style = ArmStyle(arms)
    measures = list(dict.fromkeys(winners["measure"]))
    cols = min(3, len(measures))
    rows_n = math.ceil(len(measures) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(4.6 * cols, 4.1 * rows_n + 0.8), squeeze=False)
    drawn = []
    seen: set[str] = set()
    for ax, m in zip(axes.flat, measures, strict=False):
        imp = importance[importance["measure"] == m].sort_values("importance", ascending=False, kind="mergesort")
        top = [p for p in imp["parameter"] if p in points.columns][:2]
        top += [p for p in points.columns if p not in top][: 2 - len(top)]
        px, py = top
        t = winners[winners["measure"] == m].set_index("point")
        for who in [*arms, "tie"]:
            pts = t.index[t["winner"] == who]
            if not len(pts):
                continue
            xs, ys = points.loc[pts, px].to_numpy(), points.loc[pts, py].to_numpy()
            if who == "tie":
                ax.scatter(xs, ys, s=22, facecolors="none", edgecolors="#999999", lw=0.9, label="tie (no winner)")
            else:
                ax.scatter(
                    xs,
                    ys,
                    s=26,
                    color=style.colour(who),
                    marker=style.marker(who),
                    label=arm_name(who),
                    gid=arm_gid(who),
                )
            seen.add(who)
            drawn += [
                {"measure": m, "point": int(p), "x_parameter": px, "x": float(a), "y_parameter": py, "y": float(b)}
                | {"winner": who}
                for p, a, b in zip(pts, xs, ys, strict=True)
            ]
        if px in defaults and py in defaults:
            ax.plot(defaults[px], defaults[py], "*", ms=15, color="black", mec="white", label="defaults")
            drawn.append(
                {
                    "measure": m,
                    "point": -1,
                    "x_parameter": px,
                    "x": float(defaults[px]),
                    "y_parameter": py,
                    "y": float(defaults[py]),
                    "winner": "defaults",
                }
            )
        ax.set_xlabel(lever(px).axis_label)
        ax.set_ylabel(lever(py).axis_label)
        ax.set_title(f"{measure(m).title} ({'higher' if measure(m).better == 'higher' else 'lower'} is better)")
        finish(ax)
    for ax in list(axes.flat)[len(measures) :]:
        ax.set_visible(False)
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels)), frameon=False, fontsize=9)
    title = "Where each arm wins (coloured: its 95% paired interval against every other arm excludes zero"
    corrected = "multiplicity" in winners.columns and bool((winners["multiplicity"] == "bh").any())
    if corrected:
        title += ",\nand its place survives a Benjamini-Hochberg correction over the places"
    fig.suptitle(title + ")")
    fig.tight_layout(rect=(0, 0.07 if len(labels) <= 5 else 0.1, 1, 0.93 if corrected else 0.97))
    return save_figure(fig, pd.DataFrame(drawn), folder, stem)

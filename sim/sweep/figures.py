"""Figures of a sweep, drawn from its saved tables (never from a live model).

Same style as :mod:`sim.plots`: Okabe-Ito colours, labelled axes, each figure as PNG and SVG
beside a CSV of exactly the numbers drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

from sim.plots import OKABE_ITO, label
from sim.plots import save_figure as _save


def plot_response(summary: pd.DataFrame, parameter: str, metrics: Sequence[str], folder: Path) -> list[Path]:
    """End-of-run outputs against one swept parameter, a line per arm with 95 % intervals.

    Args:
        summary: per arm, point and metric (:func:`sim.sweep.analysis.summary_table` by arm and
            point, with the parameter's column).
        parameter: the swept parameter on the x axis.
        metrics: one panel each.
        folder: where the figure goes (``response.png``/``.svg``/``.csv``).

    """
    metrics = [m for m in metrics if m in set(summary["metric"])]
    table = summary[summary["metric"].isin(metrics)].sort_values(["arm", parameter], kind="stable")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.8), squeeze=False)
    arms = list(dict.fromkeys(table["arm"]))
    for ax, m in zip(axes[0], metrics, strict=True):
        for colour, arm in zip(OKABE_ITO, arms, strict=False):
            t = table[(table["arm"] == arm) & (table["metric"] == m)]
            ax.plot(t[parameter], t["mean"], "o-", color=colour, label=arm, lw=1.6, ms=4)
            ax.fill_between(t[parameter], t["ci_low"], t["ci_high"], color=colour, alpha=0.2, lw=0)
        ax.set_title(label(m))
        ax.set_xlabel(parameter)
        ax.set_ylabel(f"{m} (mean of last 12 months)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(title="arm", frameon=False)
    n = int(table["n"].min()) if len(table) else 0
    fig.suptitle(f"End-of-run outputs against {parameter} (mean and 95% interval over {n} replications)")
    fig.tight_layout()
    return _save(fig, table, folder, "response")


def plot_sensitivity(indices: pd.DataFrame, method: str, folder: Path, stem: str, title: str = "") -> list[Path]:
    """Bar chart of sensitivity indices with their 95 % intervals, one panel per output.

    Sobol': first-order (S1) and total (ST) indices per parameter. Morris: mu* per parameter
    (sigma, the spread of the elementary effects, as a marker).
    """
    outputs = list(dict.fromkeys(indices["output"]))
    params = list(dict.fromkeys(indices["parameter"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(4.4 * len(outputs), 0.42 * len(params) + 1.8), squeeze=False)
    y = np.arange(len(params))
    for ax, out in zip(axes[0], outputs, strict=True):
        t = indices[indices["output"] == out].set_index("parameter").reindex(params)
        if method == "sobol":
            h = 0.38
            ax.barh(y - h / 2, t["S1"], h, xerr=t["S1_conf"], color=OKABE_ITO[0], label="first order S1", capsize=2)
            ax.barh(y + h / 2, t["ST"], h, xerr=t["ST_conf"], color=OKABE_ITO[1], label="total ST", capsize=2)
            ax.set_xlabel("Sobol' index (share of output variance)")
            ax.axvline(0, color="black", lw=0.6)
        else:
            ax.barh(
                y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], color=OKABE_ITO[0], label="mu* (mean |effect|)", capsize=2
            )
            ax.plot(t["sigma"], y, "D", color=OKABE_ITO[1], ms=4, label="sigma (spread of effects)")
            ax.set_xlabel(f"elementary effect on {out}")
        ax.set_yticks(y, params if ax is axes[0][0] else [""] * len(params))
        ax.invert_yaxis()
        ax.set_title(label(out))
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].legend(frameon=False, loc="lower right", fontsize=8)
    name = "Sobol' indices" if method == "sobol" else "Morris screening"
    fig.suptitle(f"{name}{': ' + title if title else ''} (bars: 95% bootstrap intervals)")
    fig.tight_layout()
    return _save(fig, indices, folder, stem)


def plot_sufficiency(curve: pd.DataFrame, metrics: Sequence[str], folder: Path) -> list[Path]:
    """Standard error of each arm's mean against the number of replications, one panel per output."""
    t = curve[(curve["what"] == "arm") & curve["metric"].isin(metrics)]
    if "point" in t.columns:
        t = t[t["point"] == t["point"].min()]
    metrics = [m for m in metrics if m in set(t["metric"])]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), squeeze=False)
    for ax, m in zip(axes[0], metrics, strict=True):
        for colour, arm in zip(OKABE_ITO, dict.fromkeys(t["arm"]), strict=False):
            s = t[(t["arm"] == arm) & (t["metric"] == m)]
            ax.plot(s["n"], s["se"], "o-", color=colour, label=arm, ms=3, lw=1.4)
        n = np.arange(2, int(t["n"].max()) + 1) if len(t) else np.arange(2, 3)
        ref = t[t["metric"] == m]
        if len(ref):
            first = ref[ref["n"] == ref["n"].min()]["se"].mean()
            ax.plot(n, first * np.sqrt(n.min() / n), "--", color="grey", lw=1, label="1/sqrt(n)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = [k for k in (2, 3, 5, 10, 20, 30, 50, 100, 200, 500, 1000) if k <= n.max()]
        ax.set_xticks(ticks, [str(k) for k in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(label(m))
        ax.set_xlabel("replications")
        ax.set_ylabel("standard error of the mean")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.suptitle("Replicate sufficiency: standard error against replications (end-of-run figures)")
    fig.tight_layout()
    return _save(fig, t, folder, "sufficiency")

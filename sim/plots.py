"""Figures drawn from saved results only (never from a live model).

One style: the Okabe-Ito colour-blind-safe palette, labelled axes with units, titles that say
what is shown. Each figure is written as PNG and SVG beside a CSV of exactly the numbers drawn.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

LABELS = {
    "prosocial_rate": ("Pro-social activity", "share of citizens active in the month"),
    "gaming_share": ("Target gaming", "share of service capacity spent gaming"),
    "volunteering_rate": ("Formal volunteering", "share of citizens volunteering in the month"),
    "caring_rate": ("Informal caring", "share of citizens caring in the month"),
    "trust_mean": ("Trust in local services", "mean trust (0-1)"),
    "motivation_mean": ("Intrinsic motivation", "mean motivation (0-1)"),
    "true_outcome": ("Outcome people live with", "share of cases truly meeting the standard"),
    "reported_outcome": ("Reported outcome", "recorded share of cases meeting the standard"),
    "gaming_gap": ("Gap between reported and true", "reported minus true pass rate"),
    "bunching_ratio": ("Bunching at the standard", "records just passing / just failing"),
    "equity_gap": ("Equity gap", "outcome, least minus most deprived fifth"),
    "public_cost": ("Public cost", "GBP per citizen per month"),
}


def label(metric: str) -> str:
    """A metric's name in plain words (its column name, spaced, if it has none)."""
    return LABELS.get(metric, (metric.replace("_", " "),))[0]


def save_figure(fig: plt.Figure, table: pd.DataFrame, folder: Path, stem: str) -> list[Path]:
    """Write a figure as PNG and SVG beside the CSV of exactly the numbers drawn; close it.

    Metadata that changes between runs (dates, software, random SVG ids) is left out, so the
    same numbers give byte-identical files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.png", folder / f"{stem}.svg", folder / f"{stem}.csv"]
    with plt.rc_context({"svg.hashsalt": stem}):
        fig.savefig(paths[0], dpi=120, metadata={"Software": None})
        fig.savefig(paths[1], metadata={"Date": None})
    plt.close(fig)
    table.to_csv(paths[2], index=False)
    return paths


def band(ts: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and 95% t-interval across replications, per arm and step."""
    from scipy import stats

    g = ts.groupby(["arm", "step"], sort=False)[metric]
    out = g.agg(["mean", "std", "count"]).reset_index()
    tcrit = stats.t.ppf(0.975, np.maximum(out["count"] - 1, 1))
    half = np.where(out["count"] > 1, tcrit * out["std"] / np.sqrt(out["count"]), np.nan)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    out.insert(2, "metric", metric)
    return out[["arm", "step", "metric", "mean", "ci_low", "ci_high", "count"]]


def plot_metrics_over_time(
    parquet: Path | pd.DataFrame, metrics: list[str], out_dir: Path, stem: str = "over_time"
) -> list[Path]:
    """Panels of each metric over time per arm with 95% bands; returns the files written.

    Args:
        parquet: a saved time series with ``arm``, ``replication`` and ``step`` (a path, or the table).
        metrics: one panel each.
        out_dir: where the figure goes.
        stem: its file name.

    """
    ts = parquet if isinstance(parquet, pd.DataFrame) else pd.read_parquet(parquet)
    arms = list(dict.fromkeys(ts["arm"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4.2), squeeze=False)
    tables = []
    for ax, metric in zip(axes[0], metrics, strict=True):
        b = band(ts, metric)
        tables.append(b)
        for colour, arm in zip(OKABE_ITO, arms, strict=False):
            a = b[b["arm"] == arm]
            ax.plot(a["step"], a["mean"], color=colour, label=arm, lw=1.8)
            ax.fill_between(a["step"], a["ci_low"], a["ci_high"], color=colour, alpha=0.2, lw=0)
        title, unit = LABELS.get(metric, (metric, metric))
        ax.set_title(f"{title} by regime (mean, 95% band)")
        ax.set_xlabel("month")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
    axes[0][0].legend(title="arm", frameon=False)
    n_reps = int(ts.groupby("arm")["replication"].nunique().min())
    runs = f"{n_reps} replications per arm" if n_reps > 1 else "one run: no band"
    fig.suptitle(f"{', '.join(LABELS.get(m, (m,))[0] for m in metrics)} over time ({runs})")
    fig.tight_layout()
    return save_figure(fig, pd.concat(tables, ignore_index=True), out_dir, stem)

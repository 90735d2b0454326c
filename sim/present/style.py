"""The one figure style: colours, axes, labels and files shared by every figure.

- **Arms** keep one colour (and marker) across all figures of an experiment: :class:`ArmStyle`
  gives them out in the order the experiment lists its arms (``experiment.arms``), from the
  Okabe-Ito colour-blind-safe palette. Artists drawn for an arm carry ``gid="arm:NAME"`` so
  tests can check the colours.
- **Differences** between arms are drawn in neutral colours (black and greys, told apart by
  line style) and named ``A minus B`` in the legend (``gid="pair:A minus B"``).
- **Axes** are labelled in plain words with units from the glossary (:mod:`sim.present.words`),
  shares shown as percentages, levels starting at zero unless that squeezes the data, in which
  case the axis is marked as truncated (:func:`level_axis`).
- **Regime periods** are shaded when a run switches regime (:func:`shade_regimes`).
- **Overlapping lines** get markers and, when they coincide, a note saying so
  (:func:`note_overlaps`).

Each figure is written as PNG and SVG beside a CSV of exactly the numbers drawn
(:func:`save_figure`), in the units the results are saved in (shares as 0-1).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.present.words import MONEY, POINTS, SHARE, Measure, arm_name, join, measure

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
NEUTRALS = ("#000000", "#555555", "#888888", "#AAAAAA", "#333333", "#777777")
NEUTRAL_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 2)))
REGIME_SHADES = ("#00000000", "#0000001A", "#0000000C", "#00000026")
TRUNCATION_SHARE = 0.35  # start the axis at zero unless the data would fill less than this of it


def wrap(label: str, width: int = 42) -> str:
    """An axis label broken into lines that fit beside a panel."""
    return textwrap.fill(label, width)


def arm_gid(arm: str) -> str:
    """The id an arm's artists carry (tests read colours by it)."""
    return f"arm:{arm}"


def pair_gid(name: str) -> str:
    """The id a difference's artists carry."""
    return f"pair:{name}"


class ArmStyle:
    """Colours and markers of an experiment's arms, in the order the experiment lists them.

    Arms met later that the list does not name (a legacy folder) get the next free colours.
    """

    def __init__(self, arms: Iterable[object] = ()) -> None:
        """Args: the arms in the experiment's order (``experiment.arms``)."""
        self._order: list[str] = []
        for arm in arms:
            self._add(str(arm))

    def _add(self, arm: str) -> int:
        if arm not in self._order:
            self._order.append(arm)
        return self._order.index(arm)

    def colour(self, arm: object) -> str:
        """The arm's colour."""
        return OKABE_ITO[self._add(str(arm)) % len(OKABE_ITO)]

    def marker(self, arm: object) -> str:
        """The arm's marker (so lines that lie on top of each other stay visible)."""
        return MARKERS[self._add(str(arm)) % len(MARKERS)]

    def order(self, arms: Iterable[object]) -> list[str]:
        """The given arms, in the experiment's order."""
        for arm in arms:
            self._add(str(arm))
        present = {str(a) for a in arms}
        return [a for a in self._order if a in present]

    def line(self, ax: Axes, arm: object, x: Sequence[float], y: Sequence[float], **kw: Any) -> None:
        """Draw an arm's line in its colour, with its marker every few points."""
        n = max(1, len(x) // 12)
        ax.plot(
            x,
            y,
            color=self.colour(arm),
            marker=self.marker(arm),
            markevery=n,
            ms=4,
            lw=1.8,
            label=arm_name(arm),
            gid=arm_gid(str(arm)),
            **kw,
        )

    def band(self, ax: Axes, arm: object, x: Sequence[float], lo: Sequence[float], hi: Sequence[float]) -> None:
        """Draw an arm's 95 % band."""
        ax.fill_between(x, lo, hi, color=self.colour(arm), alpha=0.18, lw=0, gid=arm_gid(str(arm)))


def neutral(i: int) -> dict[str, Any]:
    """Colour and line style of the i-th difference drawn in a figure."""
    return {"color": NEUTRALS[i % len(NEUTRALS)], "ls": NEUTRAL_STYLES[i % len(NEUTRAL_STYLES)]}


def pair_name(a: object, b: object) -> str:
    """A difference's name in a legend: ``negotiated minus targets``."""
    return f"{arm_name(a)} minus {arm_name(b)}"


def value_axis(ax: Axes, m: Measure, axis: str = "y") -> None:
    """Label an axis with a measure and show its values as readers expect (shares in %)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_label_text(wrap(m.axis_label))
    if m.kind == SHARE:
        target.set_major_formatter(PercentFormatter(1.0, decimals=None))
    elif m.kind == POINTS:
        target.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g}"))
    elif m.kind == MONEY:
        target.set_major_formatter(FuncFormatter(lambda v, _: f"£{v:g}"))


def difference_axis(ax: Axes, m: Measure) -> None:
    """Label a y axis with a difference of a measure (percentage points for shares), zero marked."""
    ax.set_ylabel(wrap(m.difference_label))
    if m.kind in (SHARE, POINTS):
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:+g}" if v else "0"))
    elif m.kind == MONEY:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{'+' if v > 0 else '-' if v < 0 else ''}£{abs(v):g}"))
    ax.axhline(0, color="black", lw=0.8, zorder=1)


def level_axis(ax: Axes, values: Iterable[float], m: Measure) -> None:
    """Start a level's axis at zero, unless the data would fill too little of it: then mark the cut.

    A truncated axis gets a break mark on its bottom spine and says so in its label.
    """
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if not len(v):
        return
    if m.kind in (SHARE, MONEY) or "0 to 1" in m.unit:
        # A band beyond what the quantity can take (below zero, above 100%) is drawn cut there.
        v = np.clip(v, 0.0, 1.0 if m.kind == SHARE or "0 to 1" in m.unit else None)
    lo, hi = float(v.min()), float(v.max())
    if lo < 0 or hi <= 0:
        return
    top = hi * 1.05
    if m.kind == SHARE and hi <= 1:
        top = min(1.0, top)
    if (hi - lo) / top >= TRUNCATION_SHARE or lo <= 0:
        ax.set_ylim(0, top)
        return
    pad = (hi - lo) * 0.08 or abs(hi) * 0.02 or 0.01
    ax.set_ylim(lo - pad, hi + pad)
    mark_truncated(ax)


def mark_truncated(ax: Axes) -> None:
    """Draw the break mark of an axis that does not start at zero, and say so in its label."""
    kw: dict[str, Any] = {"transform": ax.transAxes, "color": "black", "clip_on": False, "lw": 1.0}
    for dy in (0.0, 0.025):
        ax.plot([-0.025, 0.025], [0.01 + dy, 0.035 + dy], **kw)
    label = ax.get_ylabel()
    if "axis does not start at zero" not in label:
        ax.set_ylabel(f"{label}\n(axis does not start at zero)")


def share_limits(axes: Sequence[Axes]) -> None:
    """Give panels of the same quantity the same y limits (the union of their own)."""
    if not axes:
        return
    lows, highs = zip(*(ax.get_ylim() for ax in axes), strict=True)
    for ax in axes:
        ax.set_ylim(min(lows), max(highs))


def share_same_quantity(axes: Sequence[Axes]) -> None:
    """Panels whose y axes show the same quantity (the same label) get the same limits."""
    groups: dict[str, list[Axes]] = {}
    for ax in axes:
        if ax.get_ylabel():
            groups.setdefault(ax.get_ylabel(), []).append(ax)
    for group in groups.values():
        if len(group) > 1:
            share_limits(group)


def regime_periods(ts: pd.DataFrame) -> list[tuple[str, int, int]]:
    """(regime, first month, last month) of each period of a switching arm; empty if none switches.

    Read from a time series with ``arm``, ``step`` and ``regime``: the first arm whose regime
    changes during the run.
    """
    if "regime" not in ts.columns or "step" not in ts.columns:
        return []
    for _, t in ts.groupby("arm", sort=False) if "arm" in ts.columns else [(None, ts)]:
        by_step = t.drop_duplicates("step").sort_values("step")
        regimes = by_step["regime"].astype(str).to_numpy()
        if len(set(regimes)) < 2:
            continue
        steps = by_step["step"].to_numpy()
        cut = np.flatnonzero(regimes[1:] != regimes[:-1]) + 1
        starts = [0, *cut]
        ends = [*(cut - 1), len(steps) - 1]
        return [(regimes[s], int(steps[s]), int(steps[e])) for s, e in zip(starts, ends, strict=True)]
    return []


def shade_regimes(ax: Axes, periods: Sequence[tuple[str, int, int]], label_top: bool = True) -> None:
    """Shade each regime period of a switching run and name the regime at the top of the panel."""
    if len(periods) < 2:
        return
    regimes = list(dict.fromkeys(p[0] for p in periods))
    for regime, first, last in periods:
        shade = REGIME_SHADES[regimes.index(regime) % len(REGIME_SHADES)]
        ax.axvspan(first - 0.5, last + 0.5, color=shade, lw=0, zorder=0)
        if label_top:
            ax.text(
                (first + last) / 2,
                0.98,
                f"under {arm_name(regime)}",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize=7,
                color="#444444",
            )


# A panel names at most this many sets of coinciding lines, each at most NOTE_MAX_CHARS long.
NOTE_MAX_SETS = 2
NOTE_MAX_CHARS = 60
# Above this many arms the legend goes below the panels, in columns, instead of over a panel.
LEGEND_INSIDE_MAX = 6


def _shorten(text: str) -> str:
    return text if len(text) <= NOTE_MAX_CHARS else text[: NOTE_MAX_CHARS - 1].rstrip(" ,") + "…"


def arm_legend(fig: MplFigure, ax: Axes, title: str = "arm") -> None:
    """The arms' legend: over the first panel for a few arms, below the panels in columns for many.

    Call after ``fig.tight_layout()``: with many arms it makes room at the bottom of the figure.
    """
    handles, labels = ax.get_legend_handles_labels()
    if len(labels) <= LEGEND_INSIDE_MAX:
        ax.legend(title=title, frameon=False, fontsize=8)
        return
    columns = 4
    rows = -(-len(labels) // columns)
    height = fig.get_size_inches()[1]
    room = min(0.5, (0.35 + 0.18 * rows) / height)  # inches of legend as a share of the figure
    fig.subplots_adjust(bottom=0.12 + room)
    fig.legend(handles, labels, title=title, loc="lower center", ncol=columns, frameon=False, fontsize=8)


def note_overlaps(ax: Axes, m: Measure, lines: dict[str, np.ndarray]) -> list[str]:
    """Say on the panel which lines coincide (never further apart than the smallest difference that matters).

    Returns:
        The sets of names that coincide, each as words (``targets and none``).

    """
    names = list(lines)
    groups: list[list[str]] = []
    for name in names:
        for g in groups:
            a, b = lines[g[0]], lines[name]
            if len(a) == len(b) and np.nanmax(np.abs(a - b), initial=0.0) <= max(m.smallest, 1e-12):
                g.append(name)
                break
        else:
            groups.append([name])
    same = [join([arm_name(n) for n in g]) for g in groups if len(g) > 1]
    if same:
        # With many arms, name the first sets and count the rest, so the note stays inside the panel.
        shown = [_shorten(s) for s in same[:NOTE_MAX_SETS]]
        if len(same) > NOTE_MAX_SETS:
            shown.append(f"and {len(same) - NOTE_MAX_SETS} more sets of lines coincide")
        ax.text(
            0.02,
            0.03,
            "\n".join(f"lines coincide: {s}" if not s.startswith("and ") else s for s in shown),
            transform=ax.transAxes,
            fontsize=7,
            va="bottom",
            bbox={"facecolor": "white", "edgecolor": "#999999", "alpha": 0.85, "lw": 0.5},
        )
    return same


def month_axis(ax: Axes) -> None:
    """Label an x axis as months."""
    ax.set_xlabel("Month (counted from the start of the policy)")


def finish(ax: Axes) -> None:
    """The light grid every panel has."""
    ax.grid(alpha=0.3)


def save_figure(fig: MplFigure, table: pd.DataFrame, folder: Path, stem: str) -> list[Path]:
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


def label(metric: str) -> str:
    """A metric's name in plain words (kept for :mod:`sim.plots` users)."""
    return measure(metric).title


__all__ = [
    "OKABE_ITO",
    "ArmStyle",
    "arm_gid",
    "difference_axis",
    "label",
    "level_axis",
    "mark_truncated",
    "month_axis",
    "neutral",
    "note_overlaps",
    "pair_gid",
    "pair_name",
    "regime_periods",
    "save_figure",
    "shade_regimes",
    "share_limits",
    "share_same_quantity",
    "value_axis",
]

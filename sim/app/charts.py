"""The explorer's charts: matplotlib figures rendered to PNG bytes (no pyplot, no global state).

Every function takes plain data (a time series, an :class:`~sim.app.proposal.Impact`) and
returns PNG bytes, so the page can cache them by their inputs and tests can call them directly.
The live tab's charts are drawn in the browser instead (``vue/live_chart.vue``): this module
gives them their numbers (:func:`live_panels`). Each chart has a text alternative (``*_alt``).
Colours are from the Okabe-Ito palette, which colour-blind readers can tell apart.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.app.proposal import (
    ARMS,
    FIFTH_MEASURES,
    MAIN_MEASURES,
    MEASURES,
    N_FIFTHS,
    Impact,
    format_change,
    format_level,
    interval_text,
)

BASELINE = "#0072B2"
PROPOSAL = "#E69F00"
DIFFERENCE = "#009E73"
GREY = "#666666"
ARM_COLOURS = {"baseline": BASELINE, "proposal": PROPOSAL}
ARM_TITLES = {"baseline": "Baseline", "proposal": "Proposal"}
FIFTH_LABELS = ["1\nleast", "2", "3", "4", "5\nmost"]
DPI = 90


def _scale(key: str) -> tuple[float, str]:
    """Multiplier and axis unit of a measure's values."""
    kind = MEASURES[key].kind if key in MEASURES else "share"
    return {
        "share": (100.0, "%"),
        "gap": (100.0, "percentage points"),
        "index": (100.0, "0-100"),
        "money": (1.0, "£ per citizen per month"),
    }[kind]


def _change_unit(key: str) -> str:
    kind = MEASURES[key].kind if key in MEASURES else "share"
    return {"share": "points", "gap": "points", "index": "points (0-100)", "money": "£"}[kind]


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def _style(ax: object) -> None:
    ax.spines[["top", "right"]].set_visible(False)  # type: ignore[attr-defined]
    ax.grid(axis="y", alpha=0.3)  # type: ignore[attr-defined]
    ax.tick_params(labelsize=8)  # type: ignore[attr-defined]


LIVE_PANELS: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...] = (
    (
        "Pro-social activity (% of citizens)",
        (
            ("prosocial_rate", "any help", "#000000", ""),
            ("volunteering_rate", "volunteering", GREY, "6 3"),
            ("caring_rate", "caring", GREY, "2 3"),
        ),
    ),
    ("Gaming (% of services' staff time)", (("gaming_share", "gaming", "#D55E00", ""),)),
    ("Trust in local services (0-100)", (("trust_mean", "trust", BASELINE, ""),)),
    (
        "Outcome: reported against true (% of cases)",
        (("reported_outcome", "reported", "#CC79A7", ""), ("true_outcome", "true (lived)", DIFFERENCE, "")),
    ),
)


def live_panels(ts: pd.DataFrame) -> list[dict[str, object]]:
    """The live tab's four panels as numbers for the browser's chart (0-100; None where undefined)."""

    def values(key: str) -> list[float | None]:
        if key not in ts:
            return []
        return [round(100 * float(v), 2) if math.isfinite(float(v)) else None for v in ts[key].to_numpy()]

    return [
        {
            "title": title,
            "lines": [
                {"label": label, "color": colour, "dash": dash, "values": values(key)}
                for key, label, colour, dash in lines
            ],
        }
        for title, lines in LIVE_PANELS
    ]


def _grid(n: int, cols: int = 4, height: float = 2.5) -> tuple[Figure, list[object]]:
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(12, height * rows))
    axes = list(np.atleast_1d(fig.subplots(rows, cols)).flat)
    for ax in axes[n:]:
        ax.set_visible(False)  # type: ignore[attr-defined]
    return fig, axes[:n]


def levels_chart(impact: Impact, measures: Sequence[str] = MAIN_MEASURES) -> bytes:
    """Each measure over time under the baseline and the proposal, with 95% bands across runs."""
    fig, axes = _grid(len(measures))
    x = impact.months
    for ax, key in zip(axes, measures, strict=True):
        mult, unit = _scale(key)
        for arm in ARMS:
            mean, low, high = impact.levels[arm][key]
            ax.plot(x, mult * mean, color=ARM_COLOURS[arm], lw=1.6, label=ARM_TITLES[arm])  # type: ignore[attr-defined]
            if np.isfinite(low).any():
                ax.fill_between(x, mult * low, mult * high, color=ARM_COLOURS[arm], alpha=0.2, lw=0)  # type: ignore[attr-defined]
        ax.set_title(f"{MEASURES[key].title} ({unit})", fontsize=9, loc="left")  # type: ignore[attr-defined]
        _style(ax)
    axes[0].legend(fontsize=8, frameon=False)  # type: ignore[attr-defined]
    fig.supxlabel("month", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def difference_chart(impact: Impact, measures: Sequence[str] = MAIN_MEASURES) -> bytes:
    """Proposal minus baseline over time for each measure, with its 95% interval across paired runs."""
    fig, axes = _grid(len(measures))
    x = impact.months
    for ax, key in zip(axes, measures, strict=True):
        mult, _ = _scale(key)
        mean, low, high = impact.difference[key]
        ax.axhline(0, color=GREY, lw=0.8)  # type: ignore[attr-defined]
        ax.plot(x, mult * mean, color=DIFFERENCE, lw=1.6)  # type: ignore[attr-defined]
        if np.isfinite(low).any():
            ax.fill_between(x, mult * low, mult * high, color=DIFFERENCE, alpha=0.25, lw=0)  # type: ignore[attr-defined]
        ax.set_title(f"{MEASURES[key].title} ({_change_unit(key)})", fontsize=9, loc="left")  # type: ignore[attr-defined]
        _style(ax)
    fig.supxlabel("month", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def fifths_chart(impact: Impact) -> bytes:
    """The end-of-run difference in each deprivation fifth of communities, with 95% intervals."""
    fig = Figure(figsize=(12, 3.2))
    axes = fig.subplots(1, len(FIFTH_MEASURES))
    x = np.arange(N_FIFTHS)
    titles = {
        "true_outcome": "True outcome",
        "trust_mean": "Trust in local services",
        "prosocial_rate": "Pro-social activity",
    }
    for ax, key in zip(np.atleast_1d(axes), FIFTH_MEASURES, strict=True):
        mult, _ = _scale(key)
        est = impact.fifths[key]["difference"]
        mean = np.array([e.mean for e in est]) * mult
        low = np.array([e.low for e in est]) * mult
        high = np.array([e.high for e in est]) * mult
        err = np.vstack([mean - low, high - mean]) if np.isfinite(low).all() else None
        ax.bar(x, mean, color=DIFFERENCE, alpha=0.85, yerr=err, capsize=4, ecolor="#333333")
        ax.axhline(0, color=GREY, lw=0.8)
        ax.set_xticks(x, FIFTH_LABELS)
        ax.set_title(f"{titles[key]} ({_change_unit(key)})", fontsize=9, loc="left")
        ax.set_xlabel("deprivation fifth of communities", fontsize=8)
        _style(ax)
    fig.tight_layout()
    return _png(fig)


def forum_chart(impact: Impact) -> bytes:
    """Forum participation by deprivation fifth and by confidence (self-efficacy) fifth, per arm with forums."""
    fig = Figure(figsize=(12, 3.2))
    axes = fig.subplots(1, 2)
    arms = [a for a in ARMS if a in impact.forum]
    width = 0.8 / max(len(arms), 1)
    x = np.arange(N_FIFTHS)
    for ax, part, xlabel in (
        (axes[0], "by_deprivation", "deprivation fifth of communities (1 least, 5 most deprived)"),
        (axes[1], "by_efficacy", "confidence fifth of residents (1 least, 5 most confident)"),
    ):
        for j, arm in enumerate(arms):
            est = impact.forum[arm][part]
            mean = np.array([e.mean for e in est]) * 100
            low = np.array([e.low for e in est]) * 100
            high = np.array([e.high for e in est]) * 100
            err = np.vstack([mean - low, high - mean]) if np.isfinite(low).all() else None
            ax.bar(
                x + (j - (len(arms) - 1) / 2) * width,
                mean,
                width,
                color=ARM_COLOURS[arm],
                yerr=err,
                capsize=3,
                label=ARM_TITLES[arm],
                ecolor="#333333",
            )
        ax.set_xticks(x, [str(k + 1) for k in range(N_FIFTHS)])
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_title("Took part in a forum round (% of residents called)", fontsize=9, loc="left")
        _style(ax)
        if arms:
            ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return _png(fig)


# ---------------------------------------------------------------------------- alt texts
# Each chart's text alternative says what it shows and its key numbers, read from the same
# Impact as the chart, so that a screen-reader user gets the chart's message.
def _end(impact: Impact, key: str) -> str:
    d = impact.row(key).difference
    return f"{MEASURES[key].title} {format_change(key, d.mean)} ({interval_text(key, d)})"


def difference_alt(impact: Impact, measures: Sequence[str] = MAIN_MEASURES) -> str:
    """Alt text of :func:`difference_chart`."""
    return (
        f"Line charts of the difference, proposal minus baseline, month by month for {len(measures)} measures, "
        "with shaded 95% intervals; where the band covers zero the runs cannot tell the policies apart. "
        "At the end of the run: " + "; ".join(_end(impact, k) for k in measures) + "."
    )


def levels_alt(impact: Impact, measures: Sequence[str] = MAIN_MEASURES) -> str:
    """Alt text of :func:`levels_chart`."""
    parts = [
        f"{MEASURES[k].title} {format_level(k, impact.row(k).baseline.mean)} under the baseline and "
        f"{format_level(k, impact.row(k).proposal.mean)} under the proposal"
        for k in measures
    ]
    return (
        "Line charts of both policies month by month (blue: baseline; orange: proposal; bands: 95% intervals). "
        "At the end of the run: " + "; ".join(parts) + "."
    )


def fifths_alt(impact: Impact) -> str:
    """Alt text of :func:`fifths_chart`."""
    diff = impact.fifths["true_outcome"]["difference"]
    return (
        "Bar charts of the end-of-run difference in each fifth of communities, from the least deprived (1) to "
        "the most deprived (5), with 95% intervals. True outcome: "
        + "; ".join(f"fifth {k + 1} {format_change('true_outcome', e.mean)}" for k, e in enumerate(diff))
        + "."
    )


def forum_alt(impact: Impact) -> str:
    """Alt text of :func:`forum_chart`."""
    parts = []
    for arm in ARMS:
        f = impact.forum.get(arm)
        if not f:
            continue
        dep, eff = f["by_deprivation"], f["by_efficacy"]
        parts.append(
            f"under the {arm}, {format_level('participation_rate', f['overall'].mean)} took part overall, "
            f"{format_level('participation_rate', dep[0].mean)} in the least deprived fifth against "
            f"{format_level('participation_rate', dep[-1].mean)} in the most deprived, and "
            f"{format_level('participation_rate', eff[0].mean)} of the least confident fifth against "
            f"{format_level('participation_rate', eff[-1].mean)} of the most confident"
        )
    return (
        "Bar charts of the share of residents called to a forum round who took part, over all rounds, by the "
        "deprivation of their community and by their confidence, with 95% intervals: " + "; ".join(parts) + "."
    )


def live_alt(ts: pd.DataFrame) -> str:
    """Alt text of the live tab's charts (:func:`live_panels`) at its latest month."""
    if ts.empty:
        return "Live charts: the run has not started yet."
    last = ts.iloc[-1]
    keys = [k for k in ("prosocial_rate", "gaming_share", "trust_mean", "true_outcome", "reported_outcome") if k in ts]
    return (
        f"Live charts month by month, now at month {int(last.get('step', len(ts) - 1))}: "
        + "; ".join(f"{MEASURES[k].title} {format_level(k, float(last[k]))}" for k in keys)
        + "."
    )


def warm_up() -> None:
    """Draw a small figure once, so that fonts and the PNG writer are loaded before the first chart."""
    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_title("warm-up", fontsize=9, loc="left")
    fig.tight_layout()
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")

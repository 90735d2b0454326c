"""Where each arm wins, in words: the report's reading of the conditions tables (saved results only).

Reads the files :mod:`sim.sweep.conditions` wrote (``conditions_share.csv``,
``conditions_rules.csv``, ``conditions_defaults.csv``, ``conditions_ranges.csv``) and returns:

- the answer's sentences: per measure, the share of the sampled space each arm wins and the ties,
  each with its 95 % interval (``share_low`` / ``share_high``; a folder written before those
  columns existed shows the shares alone);
  and, at the model's default parameterisation, who the tree puts as winner, which conditions on
  its path decide it (each with its default value: the assumptions the winner rests on), and who
  wins where those conditions go the other way;
- the tables the report shows: share won, and the PRIM and tree rules in plain words with their
  coverage and density.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.present.report import Sentence
from sim.present.words import arm_name, join, lever, measure, number

TIE = "tie"
_CONDITION = re.compile(r"^(?P<key>[\w.]+) (?P<op><=|>=|<|>) (?P<value>[-+0-9.eE]+)$")
_OPS = {"<=": "at most", "<": "below", ">=": "at least", ">": "above"}
SHARE_FIRST = "measure (share of the sampled space won, 95% interval)"
# What a share's interval covers, said once under the share table and in the answer's last sentence.
SHARE_NOTE = (
    "A share is an estimate from the sampled places, and its 95% interval (Wilson's score interval for a "
    "proportion) says how far it could move with another draw of as many places; it does not cover how the "
    "number of replications decides what counts as a win (more replications turn ties into wins)."
)
RULES_HEADER = ("method", "measure", "arm wins", "where", "coverage", "density", "points in box", "defaults inside")
RULES_INTRO = (
    "Each rule is a box of conditions where one arm wins. PRIM (Friedman & Fisher 1999, by ema_workbench) "
    "finds one box per arm and measure; the classification tree (scikit-learn) splits the space into leaves, "
    "each with its majority winner. Coverage: the share of the arm's wins that fall inside the box; density: "
    "the share of the points inside the box that the arm wins. The other parameters are free in a box."
)


@dataclass
class ConditionsContents:
    """What the report shows about where each arm wins."""

    sentences: list[Sentence] = field(default_factory=list)
    share_header: list[str] = field(default_factory=list)
    share_rows: list[list[str]] = field(default_factory=list)
    share_note: str = ""  # what the shares' intervals cover (empty where the table has none)
    rule_rows: list[list[str]] = field(default_factory=list)
    defaults: dict[str, float] = field(default_factory=dict)


BASIS_WORDS = {
    "sourced": "sourced in docs/parameters.md",
    "pattern": "set to keep a pattern, docs/patterns.md",
    "assumption": "an assumption: stylised or unsourced",
}


def condition_words(
    text: str, defaults: Mapping[str, float] | None = None, basis: Mapping[str, str] | None = None
) -> str:
    """``services.ethos_mean <= 0.42 and ...`` in plain words, each with its default (and its basis) where known."""
    if text in ("", "anywhere") or not isinstance(text, str):
        return "anywhere in the sampled space"
    # Bounds per parameter, in the order met: a lower and an upper bound read "from a to b".
    bounds: dict[str, list[tuple[str, float]]] = {}
    other: list[str] = []
    for piece in text.split(" and "):
        m = _CONDITION.match(piece.strip())
        if m is None:
            other.append(piece)
            continue
        bounds.setdefault(m["key"], []).append((m["op"], float(m["value"])))
    parts = []
    for key, found in bounds.items():
        name = lever(key).name
        default = (defaults or {}).get(key)
        tail = f"; default {number(default)}" if default is not None and math.isfinite(default) else ""
        if basis and key in basis and basis[key] in BASIS_WORDS:
            tail += f", {BASIS_WORDS[basis[key]]}"
        low = [v for op, v in found if op in (">", ">=")]
        high = [v for op, v in found if op in ("<", "<=")]
        if low and high:
            parts.append(f"{name} from {number(max(low))} to {number(min(high))} ({key}{tail})")
        else:
            op, value = found[0]
            parts.append(f"{name} {_OPS[op]} {number(value)} ({key}{tail})")
    return join([*parts, *other])


def share_bounds(row: Mapping[str, object]) -> tuple[float, float]:
    """A share-table row's 95 % interval (NaN where the table has none: an older folder, or a Sobol'/Morris design)."""
    try:
        low, high = float(row["share_low"]), float(row["share_high"])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return math.nan, math.nan
    return low, high


def interval_words(low: float, high: float) -> str:
    """A share's interval as the text shows it, ``29 to 45%`` (empty where there is none)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"{number(100 * low, 0)} to {number(100 * high, 0)}%"


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / name
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:  # a table with no rows and no columns: nothing found (no box, no rule)
        return None


def _quoted(row: pd.Series, first: bool, numbers: list[tuple[str, float, str]], after: str = "") -> str:
    """A share as a sentence quotes it (``after`` follows the share), noting the numbers in ``numbers``.

    ``37%`` and, where the table has it, its interval: ``(95% interval 29 to 45%)`` the first time
    in a sentence, ``(29 to 45%)`` after that.
    """
    shown = f"{number(100 * row['share'], 0)}%"
    numbers.append(("share", float(row["share"]), shown))
    low, high = share_bounds(row)
    between = interval_words(low, high)
    if not between:
        return shown + after
    numbers.append(("share_low", low, number(100 * low, 0)))
    numbers.append(("share_high", high, f"{number(100 * high, 0)}%"))
    return f"{shown}{after} ({'95% interval ' if first else ''}{between})"


def _share_cell(row: pd.Series) -> str:
    """A cell of the share table: ``37% (29 to 45%)``, or the share alone where there is no interval."""
    between = interval_words(*share_bounds(row))
    shown = f"{number(100 * row['share'], 0)}%"
    return f"{shown} ({between})" if between else shown


# What a win at a place needs, under each multiplicity rule (sim.sweep.conditions.winners).
WIN_RULE = {
    "none": "the arm's paired interval against every other arm excludes zero",
    "bh": (
        "the arm's paired interval against every other arm excludes zero, and the place's p value survives a "
        "Benjamini-Hochberg correction over the sampled places at a 5% false discovery rate"
    ),
}


def winner_multiplicity(folder: Path) -> str:
    """The multiplicity rule that decided the saved winners (``none`` for a folder written before the rule was saved).

    Raises:
        ValueError: the winners table names a rule other than those of :data:`WIN_RULE`, or more than one.
    """
    path = folder / "conditions_winners.csv"
    try:
        saved = pd.read_csv(path, usecols=lambda c: c == "multiplicity")
    except (OSError, pd.errors.EmptyDataError):
        return "none"
    if "multiplicity" not in saved.columns:
        return "none"
    values = sorted(set(saved["multiplicity"].dropna().astype(str)))
    if not values:
        return "none"
    if len(values) > 1 or values[0] not in WIN_RULE:
        raise ValueError(f"{path}: multiplicity {', '.join(values)}: allowed: one of {', '.join(WIN_RULE)}")
    return values[0]


def read_conditions(folder: Path) -> ConditionsContents | None:
    """The conditions part of the report, or ``None`` if the experiment wrote no conditions tables."""
    share = _read(folder, "conditions_share.csv")
    if share is None or share.empty:
        return None
    rules = _read(folder, "conditions_rules.csv")
    at = _read(folder, "conditions_defaults.csv")
    ranges = _read(folder, "conditions_ranges.csv")
    defaults = (
        {str(p): float(d) for p, d in zip(ranges["parameter"], ranges["default"], strict=True)}
        if ranges is not None
        else {}
    )
    basis = (
        {str(p): str(b) for p, b in zip(ranges["parameter"], ranges["basis"], strict=True)}
        if ranges is not None and "basis" in ranges.columns
        else {}
    )
    out = ConditionsContents(defaults=defaults)
    win_rule = WIN_RULE[winner_multiplicity(folder)]
    for m, t in share.groupby("measure", sort=False):
        meas = measure(str(m))
        won = t[(t["regime"] != TIE) & (t["points"] > 0)].sort_values("share", ascending=False, kind="mergesort")
        tie = t[t["regime"] == TIE]
        numbers: list[tuple[str, float, str]] = []
        parts = [
            f"{arm_name(r['regime'])} won {_quoted(r, i == 0, numbers, ' of them')}"
            for i, (_, r) in enumerate(won.iterrows())
        ]
        tie_text = _quoted(tie.iloc[0], not parts, numbers) if len(tie) else "0%"
        total = int(t["of"].iloc[0])
        if parts:
            text = (
                f"On {meas.name}, of the {number(total)} sampled places (a win at a place: {win_rule}), "
                f"{join(parts)}; no arm won at {tie_text}."
            )
        else:
            text = (
                f"On {meas.name}, no arm won anywhere in the {number(total)} sampled places (a win at a place: "
                f"{win_rule}): every point is a tie."
            )
        if at is not None and len(at[at["measure"] == m]):
            d = at[at["measure"] == m].iloc[0]
            who = str(d["predicted"])
            deciding = str(d["deciding"]) if isinstance(d["deciding"], str) else ""
            otherwise = str(d["otherwise"]) if isinstance(d["otherwise"], str) else ""
            who_words = "no arm wins (a tie)" if who == TIE else f"{arm_name(who)} wins"
            text += f" At the defaults the classification tree says {who_words}"
            if deciding and deciding != "anywhere":
                text += f", resting on the assumption that {condition_words(deciding, defaults, basis)}"
            text += "."
            alt = []
            for piece in filter(None, otherwise.split("; ")):
                cond, _, rest = piece.partition(": ")
                winner = rest.split(" (")[0]
                alt.append(
                    f"where {condition_words(cond, defaults)}, {'no arm' if winner == TIE else arm_name(winner)}"
                )
            if alt:
                text += " Otherwise, " + "; ".join(alt) + " wins most places."
        out.sentences.append(Sentence(text, tuple(numbers)))
        if not out.share_header:
            out.share_header = [
                SHARE_FIRST,
                *["tie (no winner)" if r == TIE else arm_name(r) for r in t["regime"]],
            ]
        out.share_rows.append([meas.title, *[_share_cell(r) for _, r in t.iterrows()]])
        if any(math.isfinite(share_bounds(r)[0]) for _, r in t.iterrows()):
            out.share_note = SHARE_NOTE
    if rules is not None:
        for _, r in rules.iterrows():
            out.rule_rows.append(
                [
                    "PRIM" if r["method"] == "prim" else "tree",
                    measure(str(r["measure"])).title,
                    arm_name(r["regime"]),
                    condition_words(str(r["conditions"]), defaults),
                    number(r["coverage"]),
                    number(r["density"]),
                    f"{int(r['points_in_box'])} of {int(r['points'])}",
                    "yes" if bool(r["defaults_inside"]) else "no",
                ]
            )
    return out

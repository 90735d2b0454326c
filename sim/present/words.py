"""The words of figures and pages: measures' names and units, numbers as readers expect, readings.

Everything a reader sees about a measure comes from its entry in ``docs/glossary.md``
(:mod:`sim.glossary`): its title, how its values are shown (``*Shown as*``), which way is better
(``*better*``) and the smallest difference that matters (``*smallest difference that matters*``).
This module turns those into:

- :class:`Measure`: a measure's axis label, value and difference in the reader's units
  (shares as percentages with one decimal, money in £, never scientific notation);
- :func:`reading`: what a difference means, ``negligible`` below the smallest difference that
  matters whatever its interval says, else its direction and whether that is better or worse;
- :func:`compare`: a sentence naming the highest and lowest of several values, or saying they
  are equal (or within the smallest difference that matters) instead;
- :class:`GlossaryLinks`: the first use of each measure on a page linked to the glossary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sim.glossary import Entry, load_glossary

SHARE, POINTS, MONEY, NUMBER = "share", "points", "money", "number"
PP = "percentage points"


def number(x: float, decimals: int | None = None) -> str:
    """A plain number without scientific notation: three significant figures, at most four decimals.

    Whole numbers print as they are (with thousands separators); a value too small to show in
    four decimals prints as ``0`` with its sign (``-0`` never appears).
    """
    x = float(x)
    if not math.isfinite(x):
        return "undefined"
    fixed = decimals is not None  # a fixed number of decimals is kept (45.0%), a chosen one trimmed
    if decimals is None:
        if x == int(x):
            return f"{int(x):,}"
        magnitude = math.floor(math.log10(abs(x)))
        decimals = min(4, max(0, 2 - magnitude))
    text = f"{x:,.{decimals}f}"
    if "." in text and not fixed:
        text = text.rstrip("0").rstrip(".")
    return text.lstrip("-") if float(text.replace(",", "")) == 0 else text


def money(x: float) -> str:
    """Pounds: ``£24.10``, ``£30`` (whole pounds without pence), ``-£0.30``."""
    x = float(x)
    text = f"£{abs(x):,.0f}" if x == round(x) else f"£{abs(x):,.2f}"
    return f"-{text}" if x < 0 else text


def _kind(unit: str) -> str:
    if unit.startswith("%"):
        return SHARE
    if unit == PP:
        return POINTS
    if unit.startswith("£"):
        return MONEY
    return NUMBER


def _smallest(text: str, kind: str) -> float:
    """The smallest difference that matters, in the measure's stored units (shares as 0-1)."""
    match = re.search(r"[-+]?\d+(\.\d+)?", text)
    if match is None:
        return 0.0
    value = float(match.group(0))
    return value / 100 if "percentage point" in text or (kind in (SHARE, POINTS) and "%" in text) else value


@dataclass(frozen=True)
class Measure:
    """A measure as readers see it.

    Attributes:
        key: its column name (never shown to readers).
        title: its plain-words name.
        unit: how its values are shown (``% of citizens``, ``£ per resident per month``).
        better: ``higher``, ``lower`` or ``neither``.
        smallest: the smallest difference that matters, in stored units (a share's 1 percentage
            point is 0.01); 0 when the glossary gives none.
        kind: ``share`` (stored 0-1, shown in %), ``points`` (a difference of shares, shown in
            percentage points), ``money`` (£) or ``number``.

    """

    key: str
    title: str
    unit: str = ""
    better: str = "neither"
    smallest: float = 0.0
    kind: str = NUMBER

    @property
    def name(self) -> str:
        """The title as it reads inside a sentence (first letter lower case unless an acronym)."""
        return self.title if self.title[:2].isupper() else self.title[:1].lower() + self.title[1:]

    @property
    def axis_label(self) -> str:
        """The measure's axis label: its title and unit."""
        return f"{self.title} ({self.unit})" if self.unit else self.title

    @property
    def difference_label(self) -> str:
        """The axis label of a difference of this measure."""
        unit = PP if self.kind in (SHARE, POINTS) else self.unit
        return f"Difference in {self.name}" + (f" ({unit})" if unit else "")

    @property
    def shown_scale(self) -> float:
        """What a stored value is multiplied by to be shown (100 for shares and points)."""
        return 100.0 if self.kind in (SHARE, POINTS) else 1.0

    def value(self, x: float) -> str:
        """A value as a reader expects it: ``45.3%``, ``£24.10``, ``3.2 percentage points``, ``0.52``."""
        x = float(x)
        if not math.isfinite(x):
            return "undefined"
        if self.kind == SHARE:
            return f"{number(100 * x, 1)}%"
        if self.kind == POINTS:
            return f"{number(100 * x, 1)} {PP}"
        if self.kind == MONEY:
            return money(x)
        return number(x)

    def difference(self, d: float) -> str:
        """A difference's size, without its sign: ``4.5 percentage points``, ``£24.10``, ``0.052``."""
        d = abs(float(d))
        if not math.isfinite(d):
            return "undefined"
        if self.kind in (SHARE, POINTS):
            if 0 < 100 * d < 0.05:
                return f"less than 0.1 {PP}"
            shown = number(100 * d, 1)
            return f"{shown} {'percentage point' if shown == '1' else PP}"
        if self.kind == MONEY:
            return money(d)
        return number(d)

    def signed(self, d: float) -> str:
        """A difference with its sign, for tables: ``+4.5 percentage points``, ``-£0.30``."""
        d = float(d)
        if not math.isfinite(d):
            return "undefined"
        size = self.difference(d)
        if _is_zero(self, d):
            return size
        if size.startswith("less than"):
            return f"{size} ({'above' if d > 0 else 'below'} zero)"
        return ("+" if d > 0 else "-") + size

    def interval_ends(self, lo: float, hi: float) -> tuple[str, str]:
        """The two ends of a 95 % interval as :meth:`interval` shows them (the unit said once)."""
        a, b = self.signed(lo), self.signed(hi)
        if self.kind in (SHARE, POINTS) and "percentage point" in a and b.endswith(PP):
            a = a.split(" percentage point")[0]
        return a, b

    def interval(self, lo: float, hi: float) -> str:
        """A 95 % interval of a difference: ``+3.2 to +5.8 percentage points``, ``-£0.30 to +£1.20``."""
        a, b = self.interval_ends(lo, hi)
        return f"{a} to {b}"

    @property
    def smallest_text(self) -> str:
        """The smallest difference that matters, in the reader's units."""
        return self.difference(self.smallest) if self.smallest else "not set"

    def negligible(self, d: float) -> bool:
        """Whether a difference is smaller than the smallest one that matters (or shows as 0)."""
        return abs(float(d)) < self.smallest or _is_zero(self, d)


def _is_zero(m: Measure, d: float) -> bool:
    """Whether a difference prints as zero in the reader's units."""
    shown = re.match(r"£?([\d,.]+)", m.difference(d))
    return shown is not None and float(shown.group(1).replace(",", "")) == 0


def _from_entry(key: str, entry: Entry) -> Measure:
    kind = _kind(entry.unit)
    better = entry.better or "neither"
    return Measure(key, entry.title, entry.unit, better, _smallest(entry.smallest, kind), kind)


@lru_cache(maxsize=256)
def measure(key: str) -> Measure:
    """The measure named by a column (``prosocial_rate``), as the glossary describes it.

    A column the glossary does not describe gets its name in words and no unit, so nothing breaks,
    but the figure test (``tests/test_present.py``) flags it.
    """
    try:
        entry = load_glossary().get(key, "Measures")
    except (KeyError, OSError):
        return Measure(key, key.replace("_", " ").capitalize())
    return _from_entry(key, entry)


@lru_cache(maxsize=256)
def lever(key: str) -> Measure:
    """A lever (a swept parameter, ``regime.payment_per_hour``) as readers see it on an axis."""
    short = key.split(".")[-1]
    try:
        entry = load_glossary().get(short, "Levers")
    except (KeyError, OSError):
        return Measure(short, short.replace("_", " ").capitalize())
    return _from_entry(short, entry)


def lever_value(key: str, x: object) -> str:
    """A swept value in words: ``£0.50 per hour``, ``60.0%``, ``12 months``."""
    m = lever(key)
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        return str(x)
    if m.kind == MONEY:
        per = m.unit.removeprefix("£").strip()
        return f"{m.value(x)} {per}".strip()
    if m.kind == SHARE:
        return m.value(x)
    return f"{number(x)} {m.unit}".strip() if m.unit and not m.unit[0].isdigit() and len(m.unit) < 12 else number(x)


def lever_words(key: str, x: object) -> str:
    """A swept value with its lever's name: ``payment for volunteering £0.50 per hour``."""
    return f"{lever(key).name} {lever_value(key, x)}"


def arm_name(arm: object) -> str:
    """An arm's name as readers see it: the experiment's own name, underscores as spaces.

    A number written in scientific notation in the name (``targets_1e3``) is written out
    (``targets 1,000``).
    """
    words = str(arm).split("_")
    return " ".join(f"{int(float(w)):,}" if re.fullmatch(r"\d+e\d+", w) else w for w in words)


def verdict(m: Measure, d: float, lo: float = math.nan, hi: float = math.nan) -> str:
    """The judgement part of a reading, for a sentence that already says the direction.

    ``better``, ``worse``, ``negligible (...)``, ``within noise (...)``, or empty for a measure
    that is neither better higher nor lower.
    """
    text = reading(m, d, lo, hi)
    return (
        text.split(": ", 1)[1]
        if text.startswith(("higher: ", "lower: "))
        else text.removeprefix("higher").removeprefix("lower").strip()
    )


def reading(m: Measure, d: float, lo: float = math.nan, hi: float = math.nan) -> str:
    """What a difference (a - b) means for a reader.

    Below the measure's smallest difference that matters it is ``negligible``, whatever its
    interval says; an interval that crosses zero is ``within noise``; otherwise its direction
    and, for measures with a better direction, whether that is better or worse.
    """
    if not math.isfinite(float(d)):
        return "undefined"
    if m.negligible(d):
        return f"negligible (smaller than {m.smallest_text})" if m.smallest else "negligible"
    if not (math.isfinite(float(lo)) and math.isfinite(float(hi))):
        noise = " (one run: no interval)"
    elif lo <= 0 <= hi:
        return "within noise (the 95% interval includes zero)"
    else:
        noise = ""
    way = "higher" if d > 0 else "lower"
    if m.better == "neither":
        return way + noise
    good = (d > 0) == (m.better == "higher")
    return f"{way}: {'better' if good else 'worse'}{noise}"


def compare(m: Measure, values: Sequence[tuple[str, float]]) -> str:
    """A clause comparing a measure's values under several names.

    ``highest under A (45.3%) and lowest under B (40.1%)``; or, when the highest and lowest are
    within the smallest difference that matters, ``about the same under A, B and C (45.3% to
    45.6%)``; or, when they print the same, ``equal under A, B and C (45.3%)``.
    """
    values = [(n, float(v)) for n, v in values if math.isfinite(float(v))]
    if not values:
        return "undefined"
    ordered = sorted(values, key=lambda nv: nv[1], reverse=True)
    (hi_name, hi), (lo_name, lo) = ordered[0], ordered[-1]
    names = join([n for n, _ in values])
    if len(values) == 1:
        return f"{m.value(hi)} under {hi_name}"
    if m.value(hi) == m.value(lo):
        return f"equal under {names} ({m.value(hi)})"
    if m.negligible(hi - lo):
        return f"about the same under {names} ({m.value(lo)} to {m.value(hi)})"
    return f"highest under {hi_name} ({m.value(hi)}) and lowest under {lo_name} ({m.value(lo)})"


def change(m: Measure, before: float, after: float) -> str:
    """A clause saying how a value moved: ``rose from 40.1% to 45.3%``, ``stayed at 45.3%``."""
    if m.value(before) == m.value(after):
        return f"stayed at {m.value(after)}"
    if m.negligible(after - before):
        return f"barely changed ({m.value(before)} to {m.value(after)})"
    return f"{'rose' if after > before else 'fell'} from {m.value(before)} to {m.value(after)}"


def join(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def capital(text: str) -> str:
    """The text with its first letter in upper case."""
    return text[:1].upper() + text[1:]


def glossary_anchor(entry: Entry) -> str:
    """The anchor GitHub (and most Markdown renderers) give the entry's heading in docs/glossary.md."""
    heading = f"{entry.key} — {entry.title}".lower()
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


class GlossaryLinks:
    """Links the first use of each measure on a page to its glossary entry.

    Call :meth:`link` on each piece of prose in page order; a measure's title (or its in-sentence
    form) is linked the first time it appears, and left as it is afterwards.
    """

    def __init__(self, glossary_url: str, keys: Sequence[str], make: Callable[[str, str], str]) -> None:
        """Args: the glossary's address; the measures to link; ``make(text, url)`` writes a link."""
        self.url = glossary_url
        self.make = make
        self.pending: dict[str, str] = {}
        g = load_glossary()
        for key in dict.fromkeys(keys):
            try:
                entry = g.get(key, "Measures")
            except KeyError:
                continue
            self.pending[entry.title] = f"{glossary_url}#{glossary_anchor(entry)}"

    def link(self, text: str) -> str:
        """The text with the first use on the page of each pending measure linked."""
        # Longest titles first, so "True outcome on what is measured" wins over "True outcome".
        for title in sorted(self.pending, key=len, reverse=True):
            pattern = re.compile(rf"(?<![\w\[>-]){re.escape(title)}(?![\w-])", flags=re.I)
            match = pattern.search(text)
            if match is None:
                continue
            url = self.pending.pop(title)
            text = text[: match.start()] + self.make(match.group(0), url) + text[match.end() :]
        return text


__all__ = [
    "GlossaryLinks",
    "Measure",
    "arm_name",
    "capital",
    "change",
    "compare",
    "glossary_anchor",
    "join",
    "lever",
    "lever_value",
    "lever_words",
    "measure",
    "money",
    "number",
    "reading",
    "verdict",
]

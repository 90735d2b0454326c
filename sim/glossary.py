"""The glossary: plain-words meanings of concepts, regimes, levers and measures, in one place.

The text lives in ``docs/glossary.md`` so that people read and edit it as a document; this
module parses it for programs (the proposal explorer's Explain tab and its help texts, reports).
Its shape: a ``## Section`` heading opens a section; each ``### `key` — Title`` heading is one
entry, and the paragraphs under it are its text.

Example:
    >>> from sim.glossary import load_glossary
    >>> g = load_glossary()
    >>> g.get("prosocial_rate").title
    'Pro-social activity'

"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

GLOSSARY_PATH = Path(__file__).resolve().parent.parent / "docs" / "glossary.md"
SECTIONS = ("Concepts", "Regimes", "Levers", "Measures")

_ENTRY = re.compile(r"^###\s+`(?P<key>[A-Za-z0-9_]+)`\s+[—-]+\s+(?P<title>.+?)\s*$")
# An entry's last line may say how its values are shown and read (measures and levers):
# "*Shown as* % of citizens; *better* higher; *smallest difference that matters* 1 percentage point."
_SHOWN = re.compile(
    r"^\*Shown as\*\s+(?P<unit>[^;]+?)"
    r"(?:;\s+\*better\*\s+(?P<better>higher|lower|neither))?"
    r"(?:;\s+\*smallest difference that matters\*\s+(?P<smallest>.+?))?\.\s*$"
)


class GlossaryError(ValueError):
    """The glossary file does not have the expected shape (names the line)."""


@dataclass(frozen=True)
class Entry:
    """One glossary entry.

    Attributes:
        key: the name used in code and tables (a metric column, a regime, a lever).
        title: a short plain-words name.
        section: the section it belongs to (Concepts, Regimes, Levers, Measures).
        text: its meaning in plain words (paragraphs separated by blank lines), without the
            ``*Shown as*`` line.
        unit: how its values are shown (``% of citizens``, ``£ per resident per month``); empty
            if the entry does not say.
        better: ``higher``, ``lower`` or ``neither`` (measures); empty if the entry does not say.
        smallest: the smallest difference that matters, as written (``1 percentage point``,
            ``£0.50``, ``0.02``); empty if the entry does not say.

    """

    key: str
    title: str
    section: str
    text: str
    unit: str = ""
    better: str = ""
    smallest: str = ""

    @property
    def first_sentence(self) -> str:
        """The text's first sentence, for short help texts."""
        flat = " ".join(self.text.split())
        match = re.match(r"(.+?[.!?])(\s|$)", flat)
        return match.group(1) if match else flat


@dataclass(frozen=True)
class Glossary:
    """The parsed glossary: its introduction and its entries by section.

    Attributes:
        intro: the text before the first section.
        sections: section name to its entries, in file order.

    """

    intro: str
    sections: dict[str, dict[str, Entry]] = field(default_factory=dict)

    def get(self, key: str, section: str | None = None) -> Entry:
        """The entry for ``key``, in ``section`` if given, else the first section that has it.

        Raises:
            KeyError: no such entry.

        """
        names = [section] if section is not None else list(self.sections)
        for name in names:
            entry = self.sections.get(name, {}).get(key)
            if entry is not None:
                return entry
        where = f" in section {section!r}" if section else ""
        raise KeyError(f"no glossary entry {key!r}{where}")

    def title(self, key: str, section: str | None = None) -> str:
        """The entry's title, or the key itself if there is no entry."""
        try:
            return self.get(key, section).title
        except KeyError:
            return key

    def entries(self, section: str) -> list[Entry]:
        """The entries of one section, in file order (empty if there is no such section)."""
        return list(self.sections.get(section, {}).values())


def parse_glossary(text: str) -> Glossary:
    """Parse the glossary's Markdown.

    Raises:
        GlossaryError: an entry outside a section, a malformed entry heading, or a key repeated
            within a section.

    """
    intro: list[str] = []
    sections: dict[str, dict[str, Entry]] = {}
    section: str | None = None
    current: dict[str, str] | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None and section is not None:
            shown: dict[str, str] = {}
            kept = []
            for line in body:
                match = _SHOWN.match(line.strip())
                if match is None:
                    kept.append(line)
                else:
                    shown = {k: v or "" for k, v in match.groupdict().items()}
            sections[section][current["key"]] = Entry(
                current["key"], current["title"], section, "\n".join(kept).strip(), **shown
            )

    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            close()
            current, body = None, []
            section = line[3:].strip()
            sections.setdefault(section, {})
        elif line.startswith("### "):
            close()
            body = []
            match = _ENTRY.match(line)
            if match is None:
                raise GlossaryError(f"glossary line {number}: expected '### `key` — Title', got {line!r}")
            if section is None:
                raise GlossaryError(f"glossary line {number}: entry {match['key']!r} comes before any '## ' section")
            if match["key"] in sections[section]:
                raise GlossaryError(f"glossary line {number}: {match['key']!r} repeated in section {section!r}")
            current = {"key": match["key"], "title": match["title"]}
        elif line.startswith("# "):
            continue
        elif current is not None:
            body.append(line)
        elif section is None:
            intro.append(line)
    close()
    return Glossary("\n".join(intro).strip(), sections)


@lru_cache(maxsize=4)
def load_glossary(path: str | Path | None = None) -> Glossary:
    """Read and parse ``docs/glossary.md`` (or another file of the same shape)."""
    return parse_glossary(Path(path or GLOSSARY_PATH).read_text(encoding="utf-8"))


__all__ = ["GLOSSARY_PATH", "SECTIONS", "Entry", "Glossary", "GlossaryError", "load_glossary", "parse_glossary"]

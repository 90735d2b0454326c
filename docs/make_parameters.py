"""Write ``docs/parameters.md``: every model parameter with its default, unit, range, meaning and source.

The table is generated from the ``param(...)`` metadata of the config dataclasses in
:mod:`sim.config`, so the documentation cannot drift from the code. Run it from anywhere::

    /work/main/.venv/bin/python docs/make_parameters.py           # rewrite docs/parameters.md
    /work/main/.venv/bin/python docs/make_parameters.py --check   # exit 1 if the file is stale
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Iterator
from dataclasses import MISSING, Field
from pathlib import Path
from typing import Any

from sim import config as sc

OUTPUT = Path(__file__).resolve().parent / "parameters.md"

# Headings of the sections of SimConfig, in the order they are written. Any other dataclass-valued
# field of SimConfig (a section added later) follows, headed by its name, so no section is left out.
HEADINGS: dict[str, str] = {
    "": "Run (top level)",
    "population": "Population",
    "citizens": "Citizens",
    "services": "Services",
    "regime": "Regime and levers",
    "costs": "Costs",
    "forum": "Forums",
    "output": "Output",
    "lab": "Public-goods laboratory",
}


def sections() -> list[tuple[str, type, str]]:
    """List the sections to document: SimConfig's top-level scalars, then each of its config dataclasses.

    Returns:
        ``(dotted prefix, dataclass, heading)`` triples; the prefix is '' for the top level.

    """
    found: list[tuple[str, type, str]] = [("", sc.SimConfig, HEADINGS[""])]
    for f in dataclasses.fields(sc.SimConfig):
        default = default_of(f)
        if dataclasses.is_dataclass(default):
            found.append((f.name, type(default), HEADINGS.get(f.name, f.name.replace("_", " ").capitalize())))
    order = list(HEADINGS)
    return sorted(found, key=lambda s: order.index(s[0]) if s[0] in order else len(order))


# Constraints that `sim.config.validate` checks across fields, which the per-field metadata cannot carry.
RELATIONS: dict[str, str] = {
    "population.share_conditional": "share_conditional + share_free_rider ≤ 1 (the rest are 'other')",
    "population.share_free_rider": "share_conditional + share_free_rider ≤ 1 (the rest are 'other')",
    "services.initial_shares": "six positive numbers, normalised to sum to 1",
    "regime.measured_domains": "any subset of " + ", ".join(f"`{d}`" for d in sc.DOMAINS),
    "regime.switches[].step": "at most steps − 1; at most one switch per month",
}

HEADER = (
    "| key | default | unit | allowed | meaning | source |",
    "|---|---|---|---|---|---|",
)


def fmt_number(value: float) -> str:
    """Format a number compactly: integers with thousands separators, others in general format.

    Args:
        value: the number.

    Returns:
        Its text, e.g. ``10,000,000``, ``0.08`` or ``1e-09``.

    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (math.isfinite(value) and value == int(value) and abs(value) < 1e15):
        return f"{int(value):,}"
    return f"{value:g}"


def fmt_default(value: Any) -> str:
    """Format a default value as it would be written in a YAML config.

    Args:
        value: the default (number, bool, string or list).

    Returns:
        The value wrapped in backticks.

    """
    if value is None:  # an instrument left to the preset named by regime.name (sim.config.PRESETS)
        return "unset"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = f"{value:g}" if isinstance(value, float) and not value.is_integer() else str(value)
    elif isinstance(value, list):
        text = "[" + ", ".join(fmt_default(v).strip("`") for v in value) + "]"
    else:
        text = str(value)
    return f"`{text}`"


def fmt_range(meta: dict[str, Any], key: str) -> str:
    """Describe the allowed values of a field from its bounds, choices and cross-field rules.

    Args:
        meta: the field's ``param`` metadata.
        key: the dotted key, used to look up cross-field rules.

    Returns:
        E.g. ``0 to 1``, ``≥ 0``, ``one of `a`, `b```, or an en dash if unconstrained.

    """
    parts: list[str] = []
    choices = meta.get("choices")
    lo, hi = meta.get("lo"), meta.get("hi")
    if choices:
        parts.append("one of " + ", ".join(f"`{c}`" for c in choices))
    elif lo is not None and hi is not None:
        parts.append(f"{fmt_number(lo)} to {fmt_number(hi)}")
    elif lo is not None:
        parts.append(f"≥ {fmt_number(lo)}")
    elif hi is not None:
        parts.append(f"≤ {fmt_number(hi)}")
    if key in RELATIONS:
        parts.append(RELATIONS[key])
    return "; ".join(parts) if parts else "–"


def escape(text: str) -> str:
    """Make text safe inside a Markdown table cell.

    Args:
        text: free text.

    Returns:
        The text with pipes escaped and line breaks removed.

    """
    return " ".join(text.split()).replace("|", "\\|")


def default_of(f: Field[Any]) -> Any:
    """Return the default value of a dataclass field, calling its factory if it has one.

    Args:
        f: a dataclass field.

    Returns:
        The default value.

    """
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    raise ValueError(f"field {f.name!r} has no default")


def rows(prefix: str, cls: type) -> Iterator[str]:
    """Table rows for the scalar and list fields of one config dataclass.

    Nested dataclass fields (the sections of ``SimConfig``) are skipped; a list of dataclasses
    (``regime.switches``) gets one row for the list and one per field of its item type.

    Args:
        prefix: dotted prefix of the section, '' for the top level.
        cls: the dataclass.

    Yields:
        Markdown table rows.

    """
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        default = default_of(f)
        if dataclasses.is_dataclass(default):
            continue
        meta = dict(f.metadata)
        yield row(key, fmt_default(default), meta)
        if f.name == "switches":
            for sub in dataclasses.fields(sc.RegimeSwitch):
                sub_key = f"{key}[].{sub.name}"
                yield row(sub_key, fmt_default(default_of(sub)), dict(sub.metadata))


def row(key: str, default: str, meta: dict[str, Any]) -> str:
    """One table row.

    Args:
        key: dotted key.
        default: formatted default.
        meta: the field's ``param`` metadata.

    Returns:
        A Markdown table row.

    """
    cells = (
        f"`{key}`",
        default,
        escape(meta.get("unit") or "–"),
        escape(fmt_range(meta, key)),
        escape(meta.get("help", "")),
        escape(meta.get("source") or ""),
    )
    return "| " + " | ".join(cells) + " |"


def render() -> str:
    """Render the whole of ``docs/parameters.md``.

    Returns:
        Markdown text ending in a newline.

    """
    lines = [
        "# Parameters",
        "",
        "<!-- Generated by docs/make_parameters.py from the param(...) metadata in sim/config.py. Do not edit. -->",
        "",
        "Every parameter of one simulation, with its default, unit, allowed values (bounds are inclusive "
        "and checked by `sim.config.validate`), meaning and, where the default or functional role rests on "
        "evidence, its source. Keys are the dotted Hydra override paths, e.g. "
        "`python -m sim run population.n_citizens=10000 regime=negotiated`. "
        "Regenerate with `.venv/bin/python docs/make_parameters.py`. "
        "The model description is in [ODD.md](ODD.md); full citations are in its References section.",
        "",
        "`regime.name` is chosen with the config group: `regime=targets` (or `negotiated`, `functioning`, "
        "`none`). A switch list is written e.g. `regime.switches=[{step:24,to:targets},{step:72,to:none}]`.",
    ]
    total = 0
    for prefix, cls, heading in sections():
        body = list(rows(prefix, cls))
        total += len(body)
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        lines += ["", f"## {heading}", "", doc, "", *HEADER, *body]
    lines += ["", f"{total} entries.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write (or check) the parameter table.

    Args:
        argv: command-line arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit code: 0 on success, 1 if ``--check`` finds the file stale.

    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write (default: docs/parameters.md)")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the file differs")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run docs/make_parameters.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

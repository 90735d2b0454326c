"""Fairness rules (DESIGN.md section 4): no effect is keyed to a regime's name.

The rules, the metrics and every phase of the model below the centre's read instruments and
observed behaviour only. This test parses their source (the AST, not a text search, so comments
and docstrings may name regimes) and fails on any comparison or membership test involving a
preset's name. Only the preset definitions (``sim/config.py``, ``configs/regime/``) and the
centre's phase (``centre_sets_regime`` and the helpers it alone calls) may name presets.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from sim.config import (
    INSTRUMENT_KEYS,
    OBJECTIVE_SETTERS,
    OBSERVATIONS,
    PARTNERSHIP_STANDARDS,
    PRESETS,
    REGIMES,
    RegimeConfig,
    SimConfig,
)
from sim.instruments import Instruments

ROOT = Path(__file__).resolve().parent.parent
# The centre's phase: the only methods of the model allowed to know presets by name.
CENTRE_PHASE = {"centre_sets_regime", "_put_in_force"}
CHECKED_FILES = [*sorted((ROOT / "sim" / "rules").glob("*.py")), ROOT / "sim" / "metrics.py"]


# Instrument values that happen to spell a preset's name ("none"): comparing an instrument with
# one of its own values is reading an instrument, not a regime's name.
INSTRUMENT_VALUES = {
    "objective_setter": OBJECTIVE_SETTERS,
    "observation": OBSERVATIONS,
    "partnership_standard": PARTNERSHIP_STANDARDS,
}


def _names_in(node: ast.AST) -> list[str]:
    """Preset names appearing as string constants anywhere inside ``node``."""
    allowed: set[str] = set()
    if isinstance(node, ast.Compare):
        for side in [node.left, *node.comparators]:
            if isinstance(side, ast.Attribute) and side.attr in INSTRUMENT_VALUES:
                allowed |= set(INSTRUMENT_VALUES[side.attr])
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in REGIMES and n.value not in allowed
    ]


def name_comparisons(source: str, skip_functions: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, name) of every comparison or membership test involving a preset's name.

    Covers ``x == "targets"``, ``x in ("negotiated", "functioning")``, ``match`` cases on a
    name, and dictionary lookups keyed by a name (``EFFECT["targets"]``); functions named in
    ``skip_functions`` are left out.
    """
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in skip_functions:
            skipped.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Compare | ast.match_case | ast.Subscript):
            found += [(node.lineno if hasattr(node, "lineno") else 0, name) for name in _names_in(node)]
    return sorted(set(found))


@pytest.mark.parametrize("path", CHECKED_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_rules_and_metrics_never_compare_a_regime_name(path: Path) -> None:
    found = name_comparisons(path.read_text())
    assert not found, f"{path.relative_to(ROOT)} compares regime names at (line, name): {found}"


def test_model_phases_below_the_centre_never_compare_a_regime_name() -> None:
    source = (ROOT / "sim" / "model.py").read_text()
    found = name_comparisons(source, frozenset(CENTRE_PHASE))
    assert not found, f"sim/model.py compares regime names outside the centre's phase at (line, name): {found}"


def test_the_check_catches_what_it_is_for() -> None:
    """The checker fails on the forms the model used before the instruments (so the tests above can fail)."""
    before = """
class M:
    def services_act(self):
        audited = (r < rate) & (self.regime == "targets")
        guaranteed = float(self.regime in ("negotiated", "functioning"))
        off = self.instruments.observation == "none"
    def centre_sets_regime(self):
        if self.regime == "negotiated":
            pass
"""
    found = name_comparisons(before, frozenset(CENTRE_PHASE))
    assert sorted(name for _, name in found) == ["functioning", "negotiated", "targets"]
    assert {line for line, _ in found} == {4, 5}  # not the instrument (line 6) nor the centre (line 8)


def test_presets_yaml_mirror_python() -> None:
    """Each preset's YAML sets exactly the instruments of sim.config.PRESETS (none leaves them to the preset)."""
    folder = ROOT / "configs" / "regime"
    assert sorted(p.stem for p in folder.glob("*.yaml")) == sorted(REGIMES)
    for name in REGIMES:
        data = yaml.safe_load((folder / f"{name}.yaml").read_text())
        assert data["name"] == name
        given = {k: data[k] for k in INSTRUMENT_KEYS if k in data}
        assert given in ({}, PRESETS[name]), name
        assert set(data) - {"defaults", "name"} <= set(INSTRUMENT_KEYS), name


@pytest.mark.parametrize("name", REGIMES)
def test_a_preset_by_yaml_by_name_and_by_switch_gives_the_same_instruments(name: str) -> None:
    import sim

    by_yaml = Instruments.from_config(sim.load_config([f"regime={name}"]).regime)
    by_name = Instruments.from_config(RegimeConfig(name=name))
    by_switch = Instruments.from_config(SimConfig().regime).with_preset(name)
    assert by_yaml == by_name == by_switch
    assert {k: getattr(by_yaml, k) for k in INSTRUMENT_KEYS} == PRESETS[name]


def test_forum_config_mirrors_the_forum_rules_constants() -> None:
    """Every constant of sim.rules.forum.ForumParams is a typed, bounded config key (but the shadow wage)."""
    import dataclasses

    from sim.config import ForumConfig
    from sim.rules.forum import ForumParams

    rules = {f.name: f.default for f in dataclasses.fields(ForumParams)}
    config = {f.name: f.default for f in dataclasses.fields(ForumConfig)}
    assert set(rules) - set(config) == {"citizen_hour_value"}  # costs.shadow_wage
    deprecated = {"citizen_shock_breakage"}  # kept so old files load; acts on nothing
    assert set(config) - set(rules) == deprecated
    assert {k: v for k, v in config.items() if k not in deprecated} == {k: v for k, v in rules.items() if k in config}
    for f in dataclasses.fields(ForumConfig):
        assert f.metadata["help"] and f.metadata["lo"] is not None, f.name

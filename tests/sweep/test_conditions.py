"""Where each arm wins (sim.sweep.conditions): winners with paired intervals, PRIM and tree rules, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError
from sim.present.conditions import condition_words, read_conditions
from sim.present.figures import plot_conditions_map
from sim.sweep.conditions import (
    TIE,
    ConditionsSpec,
    analyse_conditions,
    parameter_basis,
    parse_conditions,
    prim_box,
    shares,
    tree_rules,
    winners,
)

METRICS = ["true_outcome", "gaming_gap", "social_cost"]


def _per_run(effect: np.ndarray, noise: float, reps: int = 4, seed: int = 1) -> pd.DataFrame:
    """Two arms on common seeds: 'b' beats 'a' on true_outcome by effect[point] (plus shared noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for p, e in enumerate(effect):
        for r in range(reps):
            common = rng.normal(0.6, 0.05)  # shared by both arms: common random numbers
            for arm, shift in (("a", 0.0), ("b", e)):
                rows.append(
                    {
                        "arm": arm,
                        "point": p,
                        "replication": r,
                        "true_outcome": common + shift + rng.normal(0, noise),
                        "gaming_gap": 0.1 - shift + rng.normal(0, noise),
                    }
                )
    return pd.DataFrame(rows)


def test_winner_needs_its_interval_to_exclude_zero() -> None:
    per_run = _per_run(np.array([0.05, -0.05, 0.0005]), noise=0.002)
    t = winners(per_run, ["a", "b"], ["true_outcome", "gaming_gap"]).set_index(["measure", "point"])
    assert t.loc[("true_outcome", 0), "winner"] == "b"
    assert t.loc[("true_outcome", 1), "winner"] == "a"
    assert t.loc[("true_outcome", 2), "winner"] == TIE  # a difference well inside the noise
    # Lower is better for the gaming gap (the glossary's direction): 'b' has the smaller gap at point 0.
    assert t.loc[("gaming_gap", 0), "winner"] == "b"
    r = t.loc[("true_outcome", 0)]
    assert r["best"] == "b" and r["runner_up"] == "a" and r["ci_low"] > 0


def test_winner_must_beat_every_other_arm() -> None:
    per_run = _per_run(np.array([0.05]), noise=0.002)
    # A third arm identical to 'b' (same values): b no longer beats every other arm, so a tie.
    twin = per_run[per_run["arm"] == "b"].assign(arm="c")
    t = winners(pd.concat([per_run, twin]), ["a", "b", "c"], ["true_outcome"])
    assert t["winner"].tolist() == [TIE]


def test_shares_count_ties() -> None:
    per_run = _per_run(np.array([0.05, 0.05, -0.05, 0.0]), noise=0.002)
    s = shares(winners(per_run, ["a", "b"], ["true_outcome"]), ["a", "b"]).set_index("regime")
    assert s.loc["b", "points"] == 2 and s.loc["a", "points"] == 1 and s.loc[TIE, "points"] == 1
    assert s["share"].sum() == pytest.approx(1.0)


def test_prim_and_tree_find_the_region_where_an_arm_wins() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"services.ethos_mean": rng.uniform(0, 1, 200), "regime.audit_rate": rng.uniform(0, 0.5, 200)})
    win = x["services.ethos_mean"] < 0.4  # 'targets' wins where ethos is low, 'negotiated' elsewhere
    limits, stats = prim_box(x, win.to_numpy(), threshold=0.8, peel_alpha=0.05, mass_min=0.05)
    assert set(limits) == {"services.ethos_mean"}
    assert limits["services.ethos_mean"][1] == pytest.approx(0.4, abs=0.05)
    assert stats["density"] >= 0.8 and stats["coverage"] >= 0.8
    table = pd.DataFrame(
        {"point": range(200), "measure": "true_outcome", "winner": np.where(win, "targets", "negotiated")}
    )
    spec = ConditionsSpec(measures=["true_outcome"], arms=["targets", "negotiated"])
    defaults = {"services.ethos_mean": 0.7, "regime.audit_rate": 0.1}
    rules, importance, at = tree_rules(x, table, spec.arms, spec, defaults)
    imp = {r["parameter"]: r["importance"] for r in importance}
    assert imp["services.ethos_mean"] > 0.9
    assert at[0]["predicted"] == "negotiated" and "services.ethos_mean > 0.4" in at[0]["deciding"]
    assert "services.ethos_mean <= 0.4" in at[0]["otherwise"] and "targets" in at[0]["otherwise"]
    targets = [r for r in rules if r["regime"] == "targets"]
    assert targets and all(r["density"] == 1.0 for r in targets)


def test_prim_drops_restrictions_the_data_do_not_support() -> None:
    """With few points PRIM peels on chance dimensions too; their quasi-p values drop them (Bryant & Lempert 2010)."""
    rng = np.random.default_rng(2)
    n = 60
    x = pd.DataFrame({f"population.noise_{j}": rng.uniform(0, 1, n) for j in range(10)})
    x["services.ethos_mean"] = rng.uniform(0, 1, n)
    win = ((x["services.ethos_mean"] < 0.4) & (rng.uniform(0, 1, n) < 0.9)).to_numpy()
    kept_all, _ = prim_box(x, win, threshold=0.8, peel_alpha=0.05, mass_min=0.05, qp_max=1.0)
    assert len(kept_all) > 3  # without the test, chance peels read as conditions
    limits, stats = prim_box(x, win, threshold=0.8, peel_alpha=0.05, mass_min=0.05, qp_max=0.05)
    assert set(limits) == {"services.ethos_mean"}
    assert limits["services.ethos_mean"][1] == pytest.approx(0.4, abs=0.05)
    assert stats["density"] >= 0.8 and stats["coverage"] == 1.0


def test_conditions_in_words_name_the_default_and_its_basis() -> None:
    words = condition_words("services.ethos_mean <= 0.42 and regime.audit_rate > 0.1", {"services.ethos_mean": 0.7})
    assert "at most 0.42 (services.ethos_mean; default 0.7)" in words
    assert "above 0.1 (regime.audit_rate)" in words
    basis = {"services.ethos_mean": parameter_basis("services.ethos_mean")}
    words = condition_words("services.ethos_mean <= 0.42", {"services.ethos_mean": 0.7}, basis)
    assert "default 0.7, sourced in docs/parameters.md" in words
    words = condition_words("regime.audit_rate >= 0.1 and regime.audit_rate <= 0.3")
    assert words == "audit rate from 0.1 to 0.3 (regime.audit_rate)"


def test_basis_of_a_default_follows_its_documented_source() -> None:
    # The source column of docs/parameters.md (param metadata in sim.config).
    assert parameter_basis("services.ethos_mean") == "sourced"  # Le Grand 2003 ...
    assert parameter_basis("citizens.control_targets") == "assumption"  # "stylised; ..."
    assert parameter_basis("regime.audit_rate") == "assumption"  # no source
    assert parameter_basis("services.manipulation_cost") == "pattern"  # "pattern: ..."


def test_analysis_writes_tables_and_map_the_report_reads(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    points = pd.DataFrame({"services.ethos_mean": rng.uniform(0, 1, 24), "regime.audit_rate": rng.uniform(0, 0.5, 24)})
    effect = np.where(points["services.ethos_mean"] < 0.5, 0.05, -0.05)
    per_run = _per_run(effect, noise=0.002)
    spec = ConditionsSpec(measures=["true_outcome"], arms=["a", "b"])
    res = analyse_conditions(points, per_run, spec, tmp_path)
    assert {p.name for p in res.files} >= {
        "conditions_winners.csv",
        "conditions_share.csv",
        "conditions_rules.csv",
        "conditions_importance.csv",
        "conditions_defaults.csv",
    }
    # The map is the report's (sim.present), drawn from what the analysis found, as the sweep's report does.
    drawn_files = plot_conditions_map(res.points, res.winners, res.importance, res.default_values, spec.arms, tmp_path)
    assert {p.name for p in drawn_files} >= {"conditions_map.png", "conditions_map.csv"}
    drawn = pd.read_csv(tmp_path / "conditions_map.csv")
    assert (drawn["winner"] == "defaults").sum() == 1  # the default parameterisation is marked
    assert set(drawn["x_parameter"]) == {"services.ethos_mean"}  # the most important condition on the x axis
    c = read_conditions(tmp_path)
    assert c is not None and c.sentences and c.rule_rows
    text = c.sentences[0].text
    assert "At the defaults the classification tree says a wins" in text and "default 0.7" in text
    for column, value, shown in c.sentences[0].numbers:
        assert column == "share" and np.isclose(res.shares["share"], value).any() and shown.endswith("%")


@pytest.mark.parametrize(
    ("raw", "design", "message"),
    [
        ({"measures": ["true_outcome"]}, "grid", "needs a sampled design"),
        ({"measures": []}, "lhs", "a non-empty list of metrics"),
        ({"measures": ["nope"]}, "lhs", "measures[0]='nope' is not a metric"),
        ({"measures": ["social_cost"]}, "lhs", "has no better direction"),
        ({"measures": ["true_outcome"], "arms": ["a", "zzz"]}, "lhs", "arms[1]='zzz' is not an arm"),
        ({"measures": ["true_outcome"], "max_depth": 2.5}, "lhs", "max_depth=2.5: allowed: a whole number"),
        ({"measures": ["true_outcome"], "qp_max": 1.5}, "lhs", "qp_max=1.5: allowed: a number from 0 to 1"),
        ({"measures": ["true_outcome"], "colour": 1}, "lhs", "colour: unknown option"),
    ],
)
def test_bad_conditions_block_is_named(raw: dict, design: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_conditions(raw, ["a", "b"], METRICS, design)

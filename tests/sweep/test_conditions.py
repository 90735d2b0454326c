"""Where each arm wins (sim.sweep.conditions): winners with paired intervals, PRIM and tree rules, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError
from sim.present.conditions import SHARE_NOTE, condition_words, read_conditions, winner_multiplicity
from sim.present.figures import plot_conditions_map
from sim.sweep.conditions import (
    SHARE_COLUMNS,
    TIE,
    ConditionsSpec,
    analyse_conditions,
    parameter_basis,
    parse_conditions,
    prim_box,
    share_interval,
    shares,
    tree_rules,
    winners,
)
from tests._proportions import wilson_textbook

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


@pytest.mark.parametrize(("k", "n"), [(47, 128), (39, 128), (122, 128), (3, 10), (1, 8)])
def test_share_interval_is_wilsons(k: int, n: int) -> None:
    assert share_interval(k, n) == pytest.approx(wilson_textbook(k, n), abs=1e-12)


def test_share_interval_matches_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17, 857-872, Table I, method 3 (score interval).
    published = {
        (81, 263): (0.2553, 0.3662),
        (15, 148): (0.0624, 0.1605),
        (0, 20): (0.0, 0.1611),
        (1, 29): (0.0061, 0.1718),
    }
    for (k, n), bounds in published.items():
        assert share_interval(k, n) == pytest.approx(bounds, abs=5e-5), (k, n)


def test_share_interval_at_the_edges() -> None:
    # 0 of n and n of n: inside [0, 1], not a single point (the normal interval's failure there).
    low, high = share_interval(0, 128)
    assert low == 0.0 and 0.02 < high < 0.04
    low, high = share_interval(128, 128)
    assert high == 1.0 and 0.96 < low < 0.98
    for k in range(0, 9):
        low, high = share_interval(k, 8)
        assert 0.0 <= low < k / 8 + 1e-12 and k / 8 - 1e-12 < high <= 1.0 and high - low > 0.1
    assert all(np.isnan(share_interval(0, 0)))  # no place judged: no interval, not a made-up one
    with pytest.raises(ValueError, match="allowed: k from 0 to n"):
        share_interval(9, 8)
    with pytest.raises(ValueError, match="allowed: a number between 0 and 1"):
        share_interval(1, 8, confidence=95)


def test_share_table_appends_the_interval_to_its_columns() -> None:
    per_run = _per_run(np.array([0.05, 0.05, -0.05, 0.0]), noise=0.002)
    table = winners(per_run, ["a", "b"], ["true_outcome"])
    s = shares(table, ["a", "b"])
    # The first five columns are a contract (readers of conditions_share.csv): same names, same order.
    assert list(s.columns) == list(SHARE_COLUMNS)
    assert list(s.columns[:5]) == ["measure", "regime", "points", "of", "share"]
    for _, r in s.iterrows():
        assert (r["share_low"], r["share_high"]) == share_interval(int(r["points"]), int(r["of"]))
        assert r["share_low"] <= r["share"] <= r["share_high"]
    # A design whose points share coordinates (Sobol', Morris): no interval rather than a false one.
    none = shares(table, ["a", "b"], interval=False)
    assert none[["share_low", "share_high"]].isna().all().all()
    assert none[list(SHARE_COLUMNS[:5])].equals(s[list(SHARE_COLUMNS[:5])])


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
    # The shares are written with their intervals, and the sentences quote them from the file.
    saved = pd.read_csv(tmp_path / "conditions_share.csv")
    assert list(saved.columns) == list(SHARE_COLUMNS) and saved["share_low"].notna().all()
    assert "(95% interval " in text
    quoted = {column for column, _, _ in c.sentences[0].numbers}
    assert quoted == {"share", "share_low", "share_high"}
    for column, value, shown in c.sentences[0].numbers:
        assert np.isclose(saved[column], value, rtol=0, atol=0).any() and shown in text
    won = saved[saved["regime"] != TIE].sort_values("share", ascending=False).iloc[0]  # the first one quoted
    low, high = round(100 * won["share_low"]), round(100 * won["share_high"])
    assert f"won {round(100 * won['share'])}% of them (95% interval {low} to {high}%)" in text
    assert c.share_header[0].endswith("95% interval)") and f"({low} to {high}%)" in " ".join(c.share_rows[0])
    assert c.share_note == SHARE_NOTE


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
        ({"measures": ["true_outcome"], "multiplicity": "holm"}, "lhs", "multiplicity='holm': allowed: none"),
    ],
)
def test_bad_conditions_block_is_named(raw: dict, design: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_conditions(raw, ["a", "b"], METRICS, design)


def test_shares_of_a_design_without_intervals_read_without_them(tmp_path: Path) -> None:
    """A Sobol' design's shares, or a folder written before the interval columns: the shares alone."""
    rng = np.random.default_rng(4)
    points = pd.DataFrame({"services.ethos_mean": rng.uniform(0, 1, 24), "regime.audit_rate": rng.uniform(0, 0.5, 24)})
    per_run = _per_run(np.where(points["services.ethos_mean"] < 0.5, 0.05, -0.05), noise=0.002)
    spec = ConditionsSpec(measures=["true_outcome"], arms=["a", "b"], design="sobol")
    analyse_conditions(points, per_run, spec, tmp_path)
    saved = pd.read_csv(tmp_path / "conditions_share.csv")
    assert list(saved.columns) == list(SHARE_COLUMNS) and saved["share_low"].isna().all()
    c = read_conditions(tmp_path)
    assert c is not None and "95% interval" not in c.sentences[0].text and not c.share_note
    assert {column for column, _, _ in c.sentences[0].numbers} == {"share"}
    saved[list(SHARE_COLUMNS[:5])].to_csv(tmp_path / "conditions_share.csv", index=False)  # an older folder
    old = read_conditions(tmp_path)
    assert old is not None and old.sentences[0].text == c.sentences[0].text
    assert parse_conditions({"measures": ["true_outcome"]}, ["a", "b"], METRICS, "sobol").design == "sobol"


def _many_places(real: int, tied: int, reps: int = 10, seed: int = 0) -> pd.DataFrame:
    """Two arms on common seeds: 'b' better by a clear margin at the first ``real`` places, tied at the rest."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(real + tied):
        shift = 0.05 if p < real else 0.0
        for r in range(reps):
            common = rng.normal(0.6, 0.05)
            for arm, s in (("a", 0.0), ("b", shift)):
                value = common + s + rng.normal(0, 0.02)
                rows.append({"arm": arm, "point": p, "replication": r, "true_outcome": value})
    return pd.DataFrame(rows)


def test_benjamini_hochberg_keeps_the_real_wins_and_drops_most_chance_ones() -> None:
    """360 tied places: each place's own test lets some 5% of them show a winner; BH keeps the false share small."""
    per_run = _many_places(real=40, tied=360)
    each = winners(per_run, ["a", "b"], ["true_outcome"])
    bh = winners(per_run, ["a", "b"], ["true_outcome"], multiplicity="bh")
    real = each["point"] < 40
    false_each = int(((~real) & (each["winner"] != TIE)).sum())
    false_bh = int(((~real) & (bh["winner"] != TIE)).sum())
    assert (each["winner"][real] == "b").all() and (bh["winner"][real] == "b").sum() >= 36
    assert 9 <= false_each <= 30  # about 5% of 360 by chance (binomial: 18 expected)
    assert false_bh <= 4  # about 5% of the ~40 wins declared are expected to be false
    # BH only removes wins: every place it gives a winner, the place's own test gave the same.
    kept = bh["winner"] != TIE
    assert (bh["winner"][kept] == each["winner"][kept]).all()
    assert set(bh["multiplicity"]) == {"bh"} and set(each["multiplicity"]) == {"none"}
    # The adjusted p values are scipy's Benjamini-Hochberg of the places' p values, whichever rule decided.
    from scipy.stats import false_discovery_control

    np.testing.assert_allclose(each["p_adjusted"], false_discovery_control(each["p"], method="bh"), rtol=1e-15)
    assert (kept == (bh["p_adjusted"] <= 0.05)).all()


def test_a_places_p_value_is_its_largest_paired_t_test_p_against_the_other_arms() -> None:
    from scipy.stats import ttest_rel

    per_run = _per_run(np.array([0.01, 0.0]), noise=0.004, reps=6)
    third = per_run[per_run["arm"] == "a"].assign(arm="c")
    third["true_outcome"] += np.random.default_rng(9).normal(0.002, 0.004, len(third))
    table = winners(pd.concat([per_run, third]), ["a", "b", "c"], ["true_outcome"])
    wide = pd.concat([per_run, third]).pivot_table(index=["point", "replication"], columns="arm", values="true_outcome")
    for _, row in table.iterrows():
        place = wide.loc[row["point"]]
        others = [a for a in ("a", "b", "c") if a != row["best"]]
        expected = max(ttest_rel(place[row["best"]], place[o]).pvalue for o in others)
        assert row["p"] == pytest.approx(expected, rel=1e-12)
        assert (row["winner"] != TIE) == (row["p"] < 0.05)  # the interval rule, as a p value
    # Fewer than two pairs: no test can be made, so no p value and no win.
    one = winners(_per_run(np.array([0.05]), noise=0.002, reps=1), ["a", "b"], ["true_outcome"])
    assert np.isnan(one["p"].iloc[0]) and one["winner"].iloc[0] == TIE and one["p_adjusted"].iloc[0] == 1.0


def test_the_report_says_what_a_win_needs_under_each_rule(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    points = pd.DataFrame({"services.ethos_mean": rng.uniform(0, 1, 24), "regime.audit_rate": rng.uniform(0, 0.5, 24)})
    per_run = _per_run(np.where(points["services.ethos_mean"] < 0.5, 0.05, -0.05), noise=0.002)
    spec = parse_conditions({"measures": ["true_outcome"], "multiplicity": "bh"}, ["a", "b"], METRICS, "lhs")
    assert spec is not None and spec.multiplicity == "bh"
    res = analyse_conditions(points, per_run, spec, tmp_path)
    assert winner_multiplicity(tmp_path) == "bh"
    text = read_conditions(tmp_path).sentences[0].text  # type: ignore[union-attr]
    assert "survives a Benjamini-Hochberg correction over the sampled places at a 5% false discovery rate" in text
    plot_conditions_map(res.points, res.winners, res.importance, res.default_values, spec.arms, tmp_path)
    saved = pd.read_csv(tmp_path / "conditions_winners.csv")
    saved.drop(columns=["p", "p_adjusted", "multiplicity"]).to_csv(tmp_path / "conditions_winners.csv", index=False)
    assert winner_multiplicity(tmp_path) == "none"  # a folder written before the rule was saved
    assert "Benjamini" not in read_conditions(tmp_path).sentences[0].text  # type: ignore[union-attr]
    saved.assign(multiplicity="holm").to_csv(tmp_path / "conditions_winners.csv", index=False)
    with pytest.raises(ValueError, match="multiplicity holm: allowed: one of none, bh"):
        winner_multiplicity(tmp_path)


def test_every_figure_concept_is_a_tuple_of_glossary_keys_and_the_map_has_its_reading() -> None:
    """A plain string there was read letter by letter as glossary keys: the map's guidance never showed."""
    from sim.present.report import FIGURE_CONCEPTS, HOW_TO_READ

    assert all(isinstance(keys, tuple) for keys in FIGURE_CONCEPTS.values())
    assert "sentences below say what a win needs" in HOW_TO_READ["conditions_map"]


def test_a_measure_without_wins_says_what_a_win_would_have_needed(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    points = pd.DataFrame({"services.ethos_mean": rng.uniform(0, 1, 12), "regime.audit_rate": rng.uniform(0, 0.5, 12)})
    per_run = _per_run(np.zeros(12), noise=0.02)
    spec = ConditionsSpec(measures=["true_outcome"], arms=["a", "b"], multiplicity="bh")
    analyse_conditions(points, per_run, spec, tmp_path)
    text = read_conditions(tmp_path).sentences[0].text  # type: ignore[union-attr]
    assert "no arm won anywhere in the 12 sampled places (a win at a place:" in text
    assert "Benjamini-Hochberg" in text

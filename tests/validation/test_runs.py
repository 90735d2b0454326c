"""The validation runs compose each arm once and re-seed it: same configs as composing every seed."""

from __future__ import annotations

import pytest

from sim.config import compose, to_sim_config


def test_reseeded_configs_equal_the_configs_composed_per_seed(validate) -> None:
    overrides, steps = validate.PATTERN_ARMS["targets_low"]
    seeds = (0, 4, 9)
    reseeded = validate.seed_configs(overrides, steps, seeds)
    for seed, cfg in zip(seeds, reseeded, strict=True):
        assert cfg == to_sim_config(compose(["output.save=false", f"seed={seed}", f"steps={steps}", *overrides]))
    # Deep copies: a run that changed its config in place could not leak into the next seed's.
    assert reseeded[0].regime is not reseeded[1].regime


def test_a_config_derived_from_the_seed_is_refused(validate) -> None:
    with pytest.raises(RuntimeError, match="depends on the seed beyond `seed`"):
        validate.seed_configs(["regime=none", "regime.payment_per_hour=${seed}"], 12, (0, 3))


def test_an_arm_shared_by_two_panels_runs_once_and_each_caller_gets_its_own_copy(validate) -> None:
    before = validate._arm_panel.cache_info().hits
    a = validate.arm_panel(["regime=none"], 2, (0, 1))
    b = validate.arm_panel(["regime=none"], 2, (0, 1))
    assert validate._arm_panel.cache_info().hits == before + 1
    assert a.equals(b) and a is not b
    assert sorted(a["seed"].unique()) == [0, 1]

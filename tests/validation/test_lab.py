"""The public-goods laboratory itself: no Mesa, deterministic, the shared rule, the antisocial pools."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from sim import lab
from sim.config import SimConfig

pytestmark = pytest.mark.xdist_group("validation")


def test_lab_does_not_import_mesa() -> None:
    code = "import sys, sim.lab; print('mesa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_same_seed_same_play_and_common_subjects_across_treatments() -> None:
    cfg = SimConfig()
    a = lab.play(cfg.citizens, cfg.population, cfg.lab, 7)
    b = lab.play(cfg.citizens, cfg.population, cfg.lab, 7)
    np.testing.assert_array_equal(a.contribution, b.contribution)
    p = lab.play(cfg.citizens, cfg.population, dataclasses.replace(cfg.lab, punishment=True), 7)
    np.testing.assert_array_equal(a.coop_type, p.coop_type)
    # Punishment is felt from period 2 on: period 1 is the same in both treatments.
    np.testing.assert_array_equal(a.contribution[0], p.contribution[0])
    assert not np.array_equal(a.contribution[1], p.contribution[1])


def test_groups_are_fixed_and_contributions_bounded() -> None:
    cfg = SimConfig()
    run = lab.play(cfg.citizens, cfg.population, cfg.lab, 3)
    assert run.contribution.shape == (cfg.lab.periods, cfg.lab.groups * cfg.lab.group_size)
    assert (run.contribution >= 0).all() and (run.contribution <= cfg.lab.endowment).all()
    assert np.bincount(run.group).tolist() == [cfg.lab.group_size] * cfg.lab.groups
    mates = lab.partners(3, 4)
    assert mates.shape == (12, 3) and all(set(mates[i]) == set(range(4 * (i // 4), 4 * (i // 4) + 4)) - {i}
                                          for i in range(12))  # fmt: skip


def test_payoffs_follow_the_game() -> None:
    cfg = SimConfig()
    run = lab.play(cfg.citizens, cfg.population, cfg.lab, 5)
    g = run.contribution[0].reshape(cfg.lab.groups, cfg.lab.group_size)
    expected = cfg.lab.endowment - g + cfg.lab.mpcr * g.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(run.payoff[0].reshape(g.shape), expected)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=(
        "Known limitation, structural, stated in docs/validation.md: HTG (2008) explain antisocial punishment as "
        "revenge by punished low contributors (an act between group members, with memory), while the model has "
        "no punishment acts, only a constant antisocial counter-pressure that nothing but this test curve could "
        "identify. Set a priori (equal to the calibrated punishment strength, 0.469) the curve rises in period 2 "
        "and then declines, -0.56 tokens from period 1 to 10 (data +0.25): the ratio criterion holds but 1 of "
        "10 seeds is more than 1 token from the data's change."
    ),
)
def test_antisocial_punishment_flattens_the_punishment_curve(validate, lab_curves) -> None:
    """Low trust and much antisocial punishment flatten the punishment curve.

    Source: Herrmann, Thoeni & Gaechter (2008), Science 319, 1362-1367: in Athens, Riyadh and Muscat the
    punishment curve does not rise (period 10 - period 1: +0.25 tokens vs +2.7 in the other 13 pools).
    """
    finding = validate.antisocial(lab_curves)
    assert finding.passed, (finding.mean, finding.detail)


def test_antisocial_arm_is_set_from_the_calibrated_punishment_strength(calibrate) -> None:
    """The a-priori antisocial arm: antisocial pressure equal to the calibrated punishment strength, and
    the first belief that gives these pools' first period without punishment (as calibrate.py records it)."""
    import json

    from omegaconf import OmegaConf

    from sim.config import compose

    arms = OmegaConf.to_container(compose(["experiment=public_goods_lab"]).experiment.arms)
    assert isinstance(arms, dict) and set(arms) == {"no_punishment", "punishment", "antisocial"}
    assert f"citizens.antisocial_pressure={SimConfig().lab.punishment_strength:g}" in arms["antisocial"]
    saved = json.loads(calibrate.OUTPUT.read_text())["antisocial_arm"]
    assert saved == calibrate.antisocial_arm({**calibrate.shipped_shares(), **calibrate.shipped_values()})
    for key, value in saved.items():
        assert f"{key}={value:g}" in arms["antisocial"], (key, value, arms["antisocial"])


def test_belief_for_first_period_matches_the_target() -> None:
    cfg = SimConfig()
    seeds = [1, 2]
    target = 8.5
    belief = lab.belief_for_first_period(cfg.citizens, cfg.population, cfg.lab, target, seeds)
    first = lambda b: lab.mean_curve(  # noqa: E731
        dataclasses.replace(cfg.citizens, initial_belief=b), cfg.population, cfg.lab, seeds
    )[0]
    # The closest point of the 0.001 grid: its neighbours are no closer to the target.
    assert abs(first(belief) - target) <= abs(first(belief - 0.001) - target)
    assert abs(first(belief) - target) <= abs(first(belief + 0.001) - target)
    assert abs(first(belief) - target) < 0.05

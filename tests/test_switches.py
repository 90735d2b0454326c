"""Scheduled switches: to a preset (all its instruments), or of chosen instruments and levers at a month."""

from __future__ import annotations

import numpy as np

import sim
from sim.config import INSTRUMENT_KEYS, PRESETS
from sim.model import SocialProductivityModel

SMALL = ["population.n_citizens=400", "population.n_communities=5", "burn_in=2", "output.save=false"]


def _run(overrides: list[str]) -> tuple[SocialProductivityModel, list]:
    model = SocialProductivityModel(sim.load_config([*SMALL, *overrides]))
    seen = []
    while model.month < 0:
        model.step()
    for _ in range(model.config.steps):
        model.step()
        seen.append(model.instruments)
    return model, seen


def test_a_pilot_of_paid_volunteering_starts_and_stops_at_its_months() -> None:
    model, seen = _run(
        ["steps=9", "regime.switches=[{step:3,set:{payment_per_hour:5}},{step:6,set:{payment_per_hour:0}}]"]
    )
    assert [i.payment_per_hour for i in seen] == [0.0] * 3 + [5.0] * 3 + [0.0] * 3
    assert {i.label for i in seen} == {"none"}  # setting a lever keeps the preset's label
    ts = model.timeseries()
    # Payments to volunteers show in public spending only while the pilot runs.
    baseline, _ = _run(["steps=9"])
    extra = (ts["public_cost"] - baseline.timeseries()["public_cost"]).to_numpy()
    assert np.all(extra[3:6] > 0) and np.allclose(extra[:3], 0)


def test_participation_support_phased_in_over_three_steps() -> None:
    switches = (
        "[{step:0,to:negotiated},{step:2,set:{participation_support:0.3}},{step:4,set:{participation_support:0.6}}]"
    )
    _, seen = _run(["steps=6", f"regime.switches={switches}"])
    assert [i.participation_support for i in seen] == [0.0, 0.0, 0.3, 0.3, 0.6, 0.6]
    assert all(i.objective_setter == "forum" for i in seen)


def test_a_switch_to_a_preset_sets_all_its_instruments_and_keeps_levers() -> None:
    model, seen = _run(
        ["steps=6", "regime.audit_rate=0.4", "regime.switches=[{step:2,to:negotiated},{step:4,to:targets}]"]
    )
    for month, name in ((0, "none"), (2, "negotiated"), (4, "targets")):
        assert {k: getattr(seen[month], k) for k in INSTRUMENT_KEYS} == PRESETS[name]
        assert seen[month].label == name and seen[month].audit_rate == 0.4
    ts = model.timeseries()
    assert (ts["participation_rate"].iloc[2:4] > 0).all()
    # Leaving forum-set objectives ends the forums' agreements and citizens' commitments.
    assert ts["participation_rate"].iloc[4] == 0 and np.isnan(model.citizens.commitment).all()
    assert (ts["audits"].iloc[4:] > 0).any() and (ts["audits"].iloc[:4] == 0).all()


def test_setting_one_instrument_changes_only_it() -> None:
    _, seen = _run(["regime=targets", "steps=4", "regime.switches=[{step:2,set:{league_table:false}}]"])
    assert [i.league_table for i in seen] == [True, True, False, False]
    assert all(i.objective_setter == "centre" and i.observation == "indicator" for i in seen)


def test_commitments_cleared_by_a_switch_are_not_read_back_from_the_fused_kernels_sums() -> None:
    # The fused decide kernel sums commitments per community; a switch that stops the forums clears
    # the commitments in place, and what is read between the switch and the next decisions must say so.
    model, _ = _run(["steps=6", "regime=negotiated", "driver=fused"])
    assert model.any_commitment()
    kept = model._citizen_commitment_kept_by_community()
    assert np.isfinite(kept).any()
    model._put_in_force(model.instruments.with_preset("targets"))
    assert np.isnan(model.citizens.commitment).all()
    assert not model.any_commitment()
    assert np.isnan(model._citizen_commitment_kept_by_community()).all()

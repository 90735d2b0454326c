"""Invariants, determinism, the per-agent oracle and common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.metrics import COLUMNS, UNIT_INTERVAL_COLUMNS
from sim.model import SocialProductivityModel
from tests.conftest import small_overrides

RATE_COLUMNS = UNIT_INTERVAL_COLUMNS
# Defined every month whatever the regime; the others are NaN when they have no cases
# (no commitments outside 'negotiated', no targets outside 'targets', no motivated citizens).
SOMETIMES_UNDEFINED = (
    "service_commitment_kept",
    "citizen_commitment_kept",
    "target_level",
    "volunteering_rate_motivated",
)
ALWAYS_DEFINED = [c for c in COLUMNS if c not in SOMETIMES_UNDEFINED]


@pytest.mark.parametrize("regime", ["targets", "negotiated", "functioning", "none"])
def test_invariants_after_many_steps(regime: str) -> None:
    cfg = sim.load_config(small_overrides(f"regime={regime}", "steps=300", "regime.payment_per_hour=2"))
    model = SocialProductivityModel(cfg)  # runs the burn-in months
    for t in range(-1, cfg.steps):
        if t >= 0:
            model.step()
        cit, svc = model.citizens, model.services
        used = cit.volunteering + cit.caring + cit.self_reliance
        assert np.all(used <= cit.budget + 1e-9), "time used exceeds a citizen's budget"
        assert np.all(cit.volunteering >= 0) and np.all(cit.caring >= 0) and np.all(cit.self_reliance >= 0)
        assert np.all(svc.shares >= 0) and np.allclose(svc.shares.sum(axis=1), 1.0), "capacity over- or under-used"
        for name in ("motivation", "trust", "efficacy", "share", "belief", "realised"):
            values = getattr(cit, name)
            assert np.all((values >= 0) & (values <= 1)), name
    ts = model.timeseries()
    assert len(ts) == cfg.steps and ts["step"].tolist() == list(range(cfg.steps))
    assert not ts[ALWAYS_DEFINED].isna().any().any(), ts[ALWAYS_DEFINED].isna().sum()[lambda s: s > 0]
    for col in RATE_COLUMNS:
        v = ts[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    assert (ts["public_cost"] > 0).all() and (ts["prosocial_hours"] >= 0).all()


def test_same_seed_gives_identical_parquet(tmp_path) -> None:
    overrides = small_overrides(
        "regime=negotiated", "steps=40", f"output.dir={tmp_path}", "output.save=true", "seed=11"
    )
    a = sim.run(sim.load_config(overrides))
    b = sim.run(sim.load_config(overrides))
    assert a.path != b.path
    ta = pd.read_parquet(a.path / "timeseries.parquet")
    tb = pd.read_parquet(b.path / "timeseries.parquet")
    pd.testing.assert_frame_equal(ta, tb, check_exact=True)
    assert (a.path / "timeseries.parquet").read_bytes() == (b.path / "timeseries.parquet").read_bytes()


def test_different_seeds_differ() -> None:
    a = sim.run(sim.load_config(small_overrides("steps=20", "seed=1")))
    b = sim.run(sim.load_config(small_overrides("steps=20", "seed=2")))
    assert not a.timeseries["prosocial_rate"].equals(b.timeseries["prosocial_rate"])


@pytest.mark.parametrize("regime", ["targets", "negotiated"])
def test_per_agent_driver_equals_vectorised(regime: str) -> None:
    base = [f"regime={regime}", "population.n_citizens=200", "population.n_communities=5", "steps=25", "burn_in=5"]
    base += ["output.save=false", "regime.payment_per_hour=2", "seed=3"]
    models = {}
    for driver in ("vectorised", "agent"):
        m = SocialProductivityModel(sim.load_config([*base, f"driver={driver}"]))
        m.run()
        models[driver] = m
    vec, agent = models["vectorised"], models["agent"]
    pd.testing.assert_frame_equal(vec.timeseries(), agent.timeseries(), check_exact=True)
    for name in ("motivation", "trust", "efficacy", "share", "belief", "volunteering", "caring", "engaged"):
        np.testing.assert_array_equal(getattr(vec.citizens, name), getattr(agent.citizens, name), err_msg=name)
    assert len(agent.citizen_agents) == 200


def test_common_random_numbers_across_regimes() -> None:
    """Two regimes on one seed see the same citizens, network, services and shocks."""
    a = SocialProductivityModel(sim.load_config(small_overrides("regime=targets", "seed=5")))
    b = SocialProductivityModel(sim.load_config(small_overrides("regime=negotiated", "seed=5")))
    for name in ("community", "coop_type", "budget", "contacts", "motivation", "trust"):
        np.testing.assert_array_equal(getattr(a.citizens, name), getattr(b.citizens, name))
    np.testing.assert_array_equal(a.services.ethos, b.services.ethos)
    for _ in range(30):
        a.step()
        b.step()
    # Shocks come from their own stream, untouched by what each regime does.
    np.testing.assert_array_equal(a.services.shock, b.services.shock)


def test_mesa_agents_view_the_arrays() -> None:
    m = SocialProductivityModel(sim.load_config(small_overrides("steps=5")))
    m.run()
    citizen = m.citizen_agents.to_list()[7]
    assert citizen.motivation == m.citizens.motivation[7]
    assert citizen.cooperation_type in ("conditional", "free_rider", "other")
    from sim.agents import Community, Service

    services = m.agents_by_type[Service]
    communities = m.agents_by_type[Community]
    assert len(services) == 3 * len(communities) == 24
    s = services.to_list()[4]
    assert abs(sum(s.allocation.values()) - 1.0) < 1e-12 and s.domain in ("education", "safety", "health")
    assert sum(c.n_citizens for c in communities) == 600


def test_regime_switch_applies_at_the_step() -> None:
    ts = sim.run(
        sim.load_config(
            small_overrides("steps=30", "regime=none", "regime.switches=[{step:10,to:targets},{step:20,to:negotiated}]")
        )
    ).timeseries
    assert (ts.loc[ts.step < 10, "regime"] == "none").all()
    assert (ts.loc[(ts.step >= 10) & (ts.step < 20), "regime"] == "targets").all()
    assert (ts.loc[ts.step >= 20, "regime"] == "negotiated").all()
    assert ts.loc[ts.step >= 20, "participation_rate"].gt(0).all()


def test_targeted_services_follow_a_switch_of_the_instruments() -> None:
    """``targeted()`` and ``any_targeted()`` are cached per instruments: a switch must make them again."""
    switches = "regime.switches=[{step:2,to:targets},{step:4,to:none}]"
    model = SocialProductivityModel(sim.load_config(small_overrides("steps=6", "regime=none", switches)))
    for month in range(6):
        model.step()
        under_targets = 2 <= month < 4
        assert model.any_targeted() == bool((model.targeted() > 0).any()) == under_targets, month


@pytest.mark.parametrize(
    "overrides",
    [
        ["population.n_citizens=5", "population.n_communities=8"],  # communities with no citizens
        ["services.cases_per_citizen=0"],  # services with no cases
        ["regime=negotiated", "regime.participation_base=0"],  # nobody takes part
        ["population.share_conditional=0", "population.share_free_rider=1"],  # everyone a free rider
        ["population.time_budget_median=0"],  # no discretionary time
        ["population.n_citizens=1", "population.n_communities=1"],
    ],
)
def test_degenerate_settings_run_with_documented_values(overrides: list[str]) -> None:
    ts = sim.run(sim.load_config(small_overrides("steps=15", "regime=targets", *overrides))).timeseries
    assert len(ts) == 15
    for col in ("prosocial_rate", "gaming_share", "true_outcome", "public_cost"):
        assert ts[col].notna().all(), col
    if "services.cases_per_citizen=0" in overrides:
        assert ts["reported_outcome"].isna().all() and ts["bunching_ratio"].isna().all()
    if "population.time_budget_median=0" in overrides:
        assert (ts["prosocial_hours"] == 0).all() and (ts["prosocial_rate"] == 0).all()

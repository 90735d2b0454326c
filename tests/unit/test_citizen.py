"""A citizen's month composed from the rules (sim/rules/citizen.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
from _strategies import default_citizen_params
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules import citizen as cz
from sim.rules import cooperation as co

P = default_citizen_params()


def decide_inputs(rng: np.random.Generator, n: int, k: int = 5, committed: float = 0.3) -> dict:
    commitment = np.where(rng.random(n) < committed, rng.random(n), np.nan)
    return {
        "realised_last": rng.random(n),
        "contacts": rng.integers(0, n, (n, k)),
        "coop_type": rng.integers(0, 3, n),
        "belief": rng.random(n),
        "motivation_": rng.random(n),
        "commitment": commitment,
        "budget": rng.lognormal(np.log(30), 0.5, n),
        "own_need": rng.random(n),
        "efficacy": rng.random(n),
        "engaged": rng.random(n) < 0.4,
        "care_opportunity": rng.random(n),
        "peer_pressure": rng.random(n),
        "payment_per_hour": float(rng.choice([0.0, 1.0, 20.0])),
        "noise": rng.standard_normal(n),
    }


def adapt_inputs(rng: np.random.Generator, n: int) -> dict:
    return {
        "engaged": rng.random(n) < 0.4,
        "motivation_": rng.random(n),
        "motivation_trait": rng.random(n),
        "trust_": rng.random(n),
        "trust_trait": rng.random(n),
        "efficacy": rng.random(n),
        "ask_probability": rng.random(n),
        "support": rng.random(n),
        "control": rng.random(n),
        "experience": rng.random(n),
        "success": rng.random(n),
        "commitment_made": (rng.random(n) < 0.5).astype(float),
        "commitment_kept": rng.random(n),
        "exposure": rng.random(n),
        "assurance": rng.random(n),
        "u_engage": rng.random(n),
        "experience_noise": rng.standard_normal(n),
    }


@settings(deadline=None, max_examples=50)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
def test_decide_bounds_and_budget(seed, n):
    x = decide_inputs(np.random.default_rng(seed), n)
    d = cz.decide(P, **x)
    for arr in (d.belief, d.share, d.realised):
        assert np.all((arr >= 0.0) & (arr <= 1.0))
    for arr in (d.volunteering, d.caring, d.self_reliance):
        assert np.all(arr >= 0.0)
    assert np.all(d.volunteering + d.caring + d.self_reliance <= x["budget"] + 1e-9)
    assert np.all(d.volunteering[~x["engaged"]] == 0.0)


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30))
def test_decide_one_citizen_at_a_time_equals_all_at_once(seed, n):
    # The per-agent driver's oracle: the same rules on length-1 slices give the same decisions.
    x = decide_inputs(np.random.default_rng(seed), n)
    whole = cz.decide(P, **x)
    per_citizen = {"realised_last", "payment_per_hour"}
    for i in range(n):
        sl = slice(i, i + 1)
        one = cz.decide(P, **{key: (v if key in per_citizen else v[sl]) for key, v in x.items()})
        for f in dataclasses.fields(cz.Decision):
            np.testing.assert_allclose(getattr(one, f.name), getattr(whole, f.name)[sl], rtol=1e-12, atol=1e-15)


def test_decide_does_not_touch_its_inputs():
    x = decide_inputs(np.random.default_rng(0), 50)
    before = {key: np.copy(v) for key, v in x.items()}
    cz.decide(P, **x)
    for key, v in x.items():
        np.testing.assert_array_equal(v, before[key])


def test_commitment_raises_contributions_of_those_below_it():
    rng = np.random.default_rng(4)
    n = 500
    x = decide_inputs(rng, n, committed=0.0)
    x.update(
        noise=np.zeros(n), coop_type=np.full(n, co.CONDITIONAL), realised_last=np.full(n, 0.1), belief=np.full(n, 0.1)
    )
    without = cz.decide(P, **x)
    x["commitment"] = np.full(n, 0.8)
    with_commitment = cz.decide(P, **x)
    # Never lower; strictly higher wherever the share is not held at 0 by a very low inclination.
    assert np.all(with_commitment.share >= without.share)
    moving = without.share > 0
    assert moving.mean() > 0.9 and np.all(with_commitment.share[moving] > without.share[moving])


@settings(deadline=None, max_examples=50)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
def test_adapt_bounds(seed, n):
    x = adapt_inputs(np.random.default_rng(seed), n)
    a = cz.adapt(P, **x)
    assert a.engaged.dtype == np.bool_
    for arr in (a.motivation, a.trust, a.efficacy):
        assert arr.shape == (n,)
        assert np.all((arr >= 0.0) & (arr <= 1.0))


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30))
def test_adapt_one_citizen_at_a_time_equals_all_at_once(seed, n):
    x = adapt_inputs(np.random.default_rng(seed), n)
    whole = cz.adapt(P, **x)
    for i in range(n):
        one = cz.adapt(P, **{key: v[i : i + 1] for key, v in x.items()})
        for f in dataclasses.fields(cz.Adaptation):
            np.testing.assert_array_equal(getattr(one, f.name), getattr(whole, f.name)[i : i + 1])


def test_adapt_control_erodes_and_support_builds_motivation():
    rng = np.random.default_rng(3)
    x = adapt_inputs(rng, 200)
    # At their own trait level, so that only control and support act (no pull back to the trait).
    x.update(support=np.zeros(200), control=np.ones(200), motivation_=np.full(200, 0.5))
    x["motivation_trait"] = np.full(200, 0.5)
    assert np.all(cz.adapt(P, **x).motivation < 0.5)
    x.update(support=np.ones(200), control=np.zeros(200))
    assert np.all(cz.adapt(P, **x).motivation > 0.5)


def test_a_yes_to_being_asked_follows_the_stable_disposition_not_this_months_trust() -> None:
    # Bekkers 2012: changes in trust do not move volunteering; at join_current_trust=0 current
    # trust in the services is irrelevant to who joins, at 1 the disposition is.
    rng = np.random.default_rng(7)
    x = adapt_inputs(rng, 5_000)
    x["engaged"] = np.zeros(5_000, dtype=bool)
    low, high = dict(x, trust_=np.zeros(5_000)), dict(x, trust_=np.ones(5_000))
    disposition = dataclasses.replace(P, join_current_trust=0.0)
    np.testing.assert_array_equal(cz.adapt(disposition, **low).engaged, cz.adapt(disposition, **high).engaged)
    np.testing.assert_array_equal(
        cz.adapt(disposition, **x).engaged, x["u_engage"] < x["ask_probability"] * x["trust_trait"]
    )
    current = dataclasses.replace(P, join_current_trust=1.0)
    assert not cz.adapt(current, **low).engaged.any()
    np.testing.assert_array_equal(cz.adapt(current, **x).engaged, x["u_engage"] < x["ask_probability"] * x["trust_"])
    assert (
        cz.adapt(dataclasses.replace(P, join_current_trust=0.5), **high).engaged.sum()
        > cz.adapt(dataclasses.replace(P, join_current_trust=0.5), **low).engaged.sum()
    )

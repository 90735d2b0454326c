"""Conditional cooperation rules (sim/rules/cooperation.py)."""

from __future__ import annotations

import numpy as np
from _strategies import floats, same_length
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.rules import cooperation as co

DEFAULTS = {
    "cc_base": 0.08,
    "cc_slope": 0.8,
    "free_rider_base": 0.02,
    "other_base": 0.35,
    "motivation_weight": 0.4,
    "norm_premium": 0.05,
    "antisocial_pressure": 0.0,
}

params = st.fixed_dictionaries(
    {
        "cc_base": floats(-1, 1),
        "cc_slope": floats(0, 2),
        "free_rider_base": floats(-1, 1),
        "other_base": floats(-1, 1),
        "motivation_weight": floats(0, 2),
        "norm_premium": floats(0, 1),
        "antisocial_pressure": floats(0, 1),
    }
)


def types(n: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.int64, n, elements=st.integers(0, 2))


# ---------------------------------------------------------------- observed_contribution / update_belief


@settings(deadline=None, max_examples=75)
@given(data=st.data())
def test_observed_contribution_is_mean_of_contacts_and_in_unit_interval(data):
    n = data.draw(st.integers(1, 30))
    k = data.draw(st.integers(1, 8))
    share = data.draw(hnp.arrays(np.float64, n, elements=floats()))
    contacts = data.draw(hnp.arrays(np.int64, (n, k), elements=st.integers(0, n - 1)))
    seen = co.observed_contribution(share, contacts)
    assert seen.shape == (n,)
    assert np.all((seen >= 0.0) & (seen <= 1.0))
    for i in range(n):
        assert np.isclose(seen[i], np.mean([share[j] for j in contacts[i]]))


def test_observed_contribution_by_hand():
    share = np.array([0.0, 0.2, 0.4, 1.0])
    contacts = np.array([[1, 2], [3, 3], [0, 1], [0, 0]])
    np.testing.assert_allclose(co.observed_contribution(share, contacts), [0.3, 1.0, 0.1, 0.0])


@settings(deadline=None, max_examples=75)
@given(arrs=same_length((0, 1), (0, 1)), persistence=floats())
def test_update_belief_is_convex_combination(arrs, persistence):
    belief, observed = arrs
    new = co.update_belief(belief, observed, persistence)
    lo, hi = np.minimum(belief, observed), np.maximum(belief, observed)
    assert np.all(new >= lo - 1e-12)
    assert np.all(new <= hi + 1e-12)
    assert np.all((new >= 0.0) & (new <= 1.0))


def test_update_belief_extremes():
    belief, observed = np.array([0.2, 0.9]), np.array([0.6, 0.1])
    np.testing.assert_allclose(co.update_belief(belief, observed, 1.0), belief)
    np.testing.assert_allclose(co.update_belief(belief, observed, 0.0), observed)
    np.testing.assert_allclose(co.update_belief(belief, observed, 0.3), 0.3 * belief + 0.7 * observed)


# ---------------------------------------------------------------- contribution_share: bounds


@settings(deadline=None, max_examples=100)
@given(
    data=st.data(),
    arrs=same_length((0, 1), (0, 1), (0, 1), (0, 1), (-1, 1)),
    kw=params,
)
def test_contribution_share_in_unit_interval(data, arrs, kw):
    belief, motivation, norm, pressure, noise = arrs
    coop_type = data.draw(types(belief.shape[0]))
    out = co.contribution_share(coop_type, belief, motivation, norm, pressure, noise, **kw)
    assert out.shape == belief.shape
    assert np.all((out >= 0.0) & (out <= 1.0))


# ---------------------------------------------------------------- contribution_share: monotonicity


@settings(deadline=None, max_examples=100)
@given(
    arrs=same_length((0, 1), (0, 1), (0, 1), (0, 1), (-0.3, 0.3)),
    delta=floats(0, 1),
    pressures=st.tuples(floats(0, 1), floats(0, 1)).filter(lambda t: t[0] + t[1] <= 1.0),
    kw=params,
)
def test_conditional_cooperators_non_decreasing_in_belief_with_fixed_norm(arrs, delta, pressures, kw):
    # Holds whenever peer pressure + antisocial pressure <= 1 (the default has no antisocial pressure).
    belief, motivation, norm, _, noise = arrs
    pp, ap = pressures
    kw = {**kw, "antisocial_pressure": ap}
    coop_type = np.zeros(belief.shape[0], dtype=np.int64)
    low = co.contribution_share(coop_type, belief, motivation, norm, pp, noise, **kw)
    high = co.contribution_share(coop_type, np.minimum(belief + delta, 1.0), motivation, norm, pp, noise, **kw)
    assert np.all(high >= low - 1e-12)


@settings(deadline=None, max_examples=100)
@given(
    arrs=same_length((0, 1), (0, 1), (0, 1), (-0.3, 0.3)),
    delta=floats(0, 1),
    kw=params,
)
def test_conditional_cooperators_non_decreasing_in_belief_when_norm_is_belief(arrs, delta, kw):
    # In the model the norm is the belief itself (without a forum commitment).
    belief, motivation, pressure, noise = arrs
    coop_type = np.zeros(belief.shape[0], dtype=np.int64)
    hi_belief = np.minimum(belief + delta, 1.0)
    low = co.contribution_share(coop_type, belief, motivation, belief, pressure, noise, **kw)
    high = co.contribution_share(coop_type, hi_belief, motivation, hi_belief, pressure, noise, **kw)
    assert np.all(high >= low - 1e-12)


@settings(deadline=None, max_examples=100)
@given(
    data=st.data(),
    arrs=same_length((0, 1), (0, 1), (0, 1), (-0.3, 0.3)),
    delta=floats(0, 1),
    pressures=st.tuples(floats(0, 1), floats(0, 1)).filter(lambda t: t[0] + t[1] <= 1.0),
    kw=params,
)
def test_contribution_non_decreasing_in_motivation(data, arrs, delta, pressures, kw):
    # Every type, fixed norm; holds whenever peer pressure + antisocial pressure <= 1.
    belief, motivation, norm, noise = arrs
    pp, ap = pressures
    kw = {**kw, "antisocial_pressure": ap}
    coop_type = data.draw(types(belief.shape[0]))
    low = co.contribution_share(coop_type, belief, motivation, norm, pp, noise, **kw)
    high = co.contribution_share(coop_type, belief, np.minimum(motivation + delta, 1.0), norm, pp, noise, **kw)
    assert np.all(high >= low - 1e-12)


@settings(deadline=None, max_examples=75)
@given(arrs=same_length((0, 1), (0, 1), (0, 1)), kw=params)
def test_free_riders_and_others_ignore_belief(arrs, kw):
    belief, motivation, norm = arrs
    n = belief.shape[0]
    zeros = np.zeros(n)
    for t in (co.FREE_RIDER, co.OTHER):
        coop_type = np.full(n, t, dtype=np.int64)
        a = co.contribution_share(coop_type, belief, motivation, norm, 0.3, zeros, **kw)
        b = co.contribution_share(coop_type, 1.0 - belief, motivation, norm, 0.3, zeros, **kw)
        np.testing.assert_array_equal(a, b)


def test_type_ordering_at_neutral_motivation_with_defaults():
    # Conditional cooperators who believe others give a lot give more than free riders.
    coop_type = np.array([co.CONDITIONAL, co.FREE_RIDER, co.OTHER])
    belief = np.full(3, 0.6)
    out = co.contribution_share(coop_type, belief, np.full(3, 0.5), belief, 0.0, np.zeros(3), **DEFAULTS)
    np.testing.assert_allclose(out, [0.08 + 0.8 * 0.6, 0.02, 0.35])
    assert out[0] > out[2] > out[1]


@settings(deadline=None, max_examples=75)
@given(belief=floats(0.41, 1.0), motivation=floats(0, 0.5))
def test_conditional_cooperators_give_less_than_they_believe_without_support(belief, motivation):
    # Slope below one: above the fixed point cc_base / (1 - cc_slope) = 0.4, contributions decay.
    out = co.contribution_share(
        np.array([co.CONDITIONAL]),
        np.array([belief]),
        np.array([motivation]),
        np.array([belief]),
        0.0,
        np.zeros(1),
        **DEFAULTS,
    )
    assert out[0] < belief


@settings(deadline=None, max_examples=100)
@given(
    data=st.data(),
    arrs=same_length((0, 1), (0, 1), (0, 1)),
    pp=floats(0.01, 1),
    kw=params,
)
def test_peer_pressure_raises_contributions_below_the_norm(data, arrs, pp, kw):
    belief, motivation, norm = arrs
    n = belief.shape[0]
    coop_type = data.draw(types(n))
    zeros = np.zeros(n)
    kw = {**kw, "antisocial_pressure": 0.0}
    without = co.contribution_share(coop_type, belief, motivation, norm, 0.0, zeros, **kw)
    with_pp = co.contribution_share(coop_type, belief, motivation, norm, pp, zeros, **kw)
    base = np.where(coop_type == 0, kw["cc_base"], np.where(coop_type == 1, kw["free_rider_base"], kw["other_base"]))
    own = base + np.where(coop_type == 0, kw["cc_slope"], 0.0) * belief + kw["motivation_weight"] * (motivation - 0.5)
    assert np.all(with_pp >= without)
    below = (own < norm) & (own >= 0.0)
    assert np.all(with_pp[below] > without[below])


@settings(deadline=None, max_examples=100)
@given(
    data=st.data(),
    arrs=same_length((0, 1), (0, 1), (0, 1)),
    ap=floats(0.01, 1),
    kw=params,
)
def test_antisocial_pressure_lowers_contributions_above_the_norm(data, arrs, ap, kw):
    belief, motivation, norm = arrs
    n = belief.shape[0]
    coop_type = data.draw(types(n))
    zeros = np.zeros(n)
    without = co.contribution_share(
        coop_type, belief, motivation, norm, 0.0, zeros, **{**kw, "antisocial_pressure": 0.0}
    )
    with_ap = co.contribution_share(
        coop_type, belief, motivation, norm, 0.0, zeros, **{**kw, "antisocial_pressure": ap}
    )
    base = np.where(coop_type == 0, kw["cc_base"], np.where(coop_type == 1, kw["free_rider_base"], kw["other_base"]))
    own = base + np.where(coop_type == 0, kw["cc_slope"], 0.0) * belief + kw["motivation_weight"] * (motivation - 0.5)
    assert np.all(with_ap <= without)
    # With no peer pressure, antisocial punishment hits exactly those giving more than the norm.
    above = (own > norm) & (own < 1.0)
    assert np.all(with_ap[above] < without[above])
    at_or_below = own <= norm
    np.testing.assert_array_equal(with_ap[at_or_below], without[at_or_below])


def test_noise_shifts_contribution_and_is_clipped():
    coop_type = np.array([co.OTHER] * 3)
    half = np.full(3, 0.5)
    out = co.contribution_share(coop_type, half, half, half, 0.0, np.array([0.1, 5.0, -5.0]), **DEFAULTS)
    np.testing.assert_allclose(out, [0.45, 1.0, 0.0])


def test_a_pledge_pulls_up_to_itself_not_a_premium_beyond() -> None:
    # Peers hold a pledger to the pledge: with full pressure a low contributor reaches the pledge,
    # and a pledge below the belief's aim changes nothing (so yearly pledges cannot ratchet).
    kw = {**DEFAULTS, "norm_premium": 0.2}
    t = np.array([co.FREE_RIDER, co.FREE_RIDER])
    belief = np.array([0.1, 0.1])
    half = np.full(2, 0.5)
    without = co.contribution_share(t, belief, half, belief, 1.0, np.zeros(2), **kw)
    np.testing.assert_allclose(without, [0.3, 0.3])  # the belief plus the premium
    pledged = co.contribution_share(t, belief, half, belief, 1.0, np.zeros(2), **kw, pledge=np.array([0.6, 0.2]))
    np.testing.assert_allclose(pledged, [0.6, 0.3])
    none = co.contribution_share(t, belief, half, belief, 1.0, np.zeros(2), **kw, pledge=np.full(2, np.nan))
    np.testing.assert_array_equal(none, without)

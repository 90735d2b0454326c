"""Time use and payments for volunteering (sim/rules/time_use.py)."""

from __future__ import annotations

import numpy as np
from _strategies import arrays, floats, same_length
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.rules import time_use as tu

CROWD_OUT, PRICE_EFFECT = 0.5, 0.04  # config defaults

# ---------------------------------------------------------------- payment_multiplier


def test_small_payment_lowers_willingness_of_motivated_citizens():
    out = tu.payment_multiplier(np.array([0.8]), 1.0, CROWD_OUT, PRICE_EFFECT)
    assert out[0] < 1.0
    assert np.isclose(out[0], 1.0 - 0.5 * 0.8 + 0.04)


def test_large_payment_raises_willingness_above_unpaid():
    out = tu.payment_multiplier(np.array([0.8]), 50.0, CROWD_OUT, PRICE_EFFECT)
    assert out[0] > 1.0


@settings(deadline=None, max_examples=75)
@given(motivation=arrays(20), crowd_out=floats(0, 1), price=floats(0, 1))
def test_no_payment_leaves_willingness_unchanged(motivation, crowd_out, price):
    np.testing.assert_array_equal(tu.payment_multiplier(motivation, 0.0, crowd_out, price), np.ones(20))


@settings(deadline=None, max_examples=100)
@given(motivation=arrays(20), pay=floats(0, 1000), crowd_out=floats(0, 1), price=floats(0, 1))
def test_payment_multiplier_non_negative(motivation, pay, crowd_out, price):
    assert np.all(tu.payment_multiplier(motivation, pay, crowd_out, price) >= 0.0)


@settings(deadline=None, max_examples=100)
@given(
    arrs=same_length((0, 1), (0, 1)),
    pay=floats(0.01, 1000),
    crowd_out=floats(0, 1),
    price=floats(0, 1),
)
def test_payment_crowds_out_the_motivated_more(arrs, pay, crowd_out, price):
    m1, m2 = arrs
    lo, hi = np.minimum(m1, m2), np.maximum(m1, m2)
    assert np.all(
        tu.payment_multiplier(hi, pay, crowd_out, price) <= tu.payment_multiplier(lo, pay, crowd_out, price) + 1e-12
    )


@settings(deadline=None, max_examples=100)
@given(motivation=arrays(10), pays=st.tuples(floats(0.01, 500), floats(0.01, 500)), price=floats(0, 1))
def test_price_effect_grows_with_pay(motivation, pays, price):
    small, large = sorted(pays)
    assert np.all(
        tu.payment_multiplier(motivation, large, CROWD_OUT, price)
        >= tu.payment_multiplier(motivation, small, CROWD_OUT, price) - 1e-12
    )


# ---------------------------------------------------------------- allocate_time


def _allocate(data, arrs, srs, vs):
    budget, need, eff, share, care, will = arrs
    engaged = data.draw(hnp.arrays(np.bool_, budget.shape[0]))
    out = tu.allocate_time(budget, need, eff, share, engaged, care, will, self_reliance_share=srs, volunteer_share=vs)
    return (budget, need, eff, share, care, will, engaged), out


@settings(deadline=None, max_examples=100)
@given(
    data=st.data(),
    arrs=same_length((0, 400), (0, 1), (0, 1), (0, 1), (0, 1), (0, 5)),
    srs=floats(0, 1),
    vs=floats(0, 1),
)
def test_allocation_non_negative_and_within_budget(data, arrs, srs, vs):
    (budget, *_), (vol, care, selfrel) = _allocate(data, arrs, srs, vs)
    for hours in (vol, care, selfrel):
        assert np.all(hours >= 0.0)
    assert np.all(vol + care + selfrel <= budget + 1e-9)


@settings(deadline=None, max_examples=75)
@given(
    data=st.data(),
    arrs=same_length((0, 400), (0, 1), (0, 1), (0, 1), (0, 1), (0, 5)),
    srs=floats(0, 1),
    vs=floats(0, 1),
)
def test_unengaged_citizens_do_not_volunteer(data, arrs, srs, vs):
    (*_, engaged), (vol, _, _) = _allocate(data, arrs, srs, vs)
    assert np.all(vol[~engaged] == 0.0)


@settings(deadline=None, max_examples=75)
@given(arrs=same_length((0, 400), (0, 1), (0, 1), (0, 1)), srs=floats(0, 1))
def test_self_reliance_comes_first(arrs, srs):
    budget, need, eff, share = arrs
    n = budget.shape[0]
    _, _, selfrel = tu.allocate_time(
        budget,
        need,
        eff,
        share,
        np.zeros(n, bool),
        np.ones(n),
        np.ones(n),
        self_reliance_share=srs,
        volunteer_share=0.5,
    )
    np.testing.assert_allclose(selfrel, budget * srs * need * eff)


def test_allocation_by_hand():
    vol, care, selfrel = tu.allocate_time(
        np.array([40.0, 40.0]),
        np.array([0.5, 0.5]),
        np.array([1.0, 1.0]),
        np.array([0.5, 0.5]),
        np.array([True, False]),
        np.array([0.5, 0.5]),
        np.array([1.0, 1.0]),
        self_reliance_share=0.5,
        volunteer_share=0.5,
    )
    # Self-reliance 40 * 0.5 * 0.5 = 10; free 30; pro-social 15.
    np.testing.assert_allclose(selfrel, [10.0, 10.0])
    np.testing.assert_allclose(vol, [7.5, 0.0])
    np.testing.assert_allclose(care, [3.75, 7.5])


# ---------------------------------------------------------------- realised_share


@settings(deadline=None, max_examples=100)
@given(
    data=st.data(),
    arrs=same_length((0, 400), (0, 1), (0, 1), (0, 1), (0, 1), (0, 5)),
    srs=floats(0, 1),
    vs=floats(0, 1),
)
def test_realised_share_in_unit_interval_and_at_most_share(data, arrs, srs, vs):
    (budget, _, _, share, _, _, _), (vol, care, selfrel) = _allocate(data, arrs, srs, vs)
    r = tu.realised_share(vol, care, budget, selfrel)
    assert np.all((r >= 0.0) & (r <= 1.0))
    assert np.all(r <= share + 1e-9)


@settings(deadline=None, max_examples=75)
@given(data=st.data(), arrs=same_length((1, 400), (0, 1), (0, 1), (0, 1), (0, 5)), vs=floats(0, 1))
def test_realised_share_equals_share_when_care_is_always_needed(data, arrs, vs):
    # With care_opportunity = 1 all pro-social time is used, so contacts see the chosen share.
    budget, need, eff, share, will = arrs
    n = budget.shape[0]
    engaged = data.draw(hnp.arrays(np.bool_, n))
    vol, care, selfrel = tu.allocate_time(
        budget, need, eff, share, engaged, np.ones(n), will, self_reliance_share=0.5, volunteer_share=vs
    )
    np.testing.assert_allclose(tu.realised_share(vol, care, budget, selfrel), share, atol=1e-9)


def test_realised_share_zero_when_no_free_time():
    r = tu.realised_share(np.zeros(2), np.zeros(2), np.array([0.0, 10.0]), np.array([0.0, 10.0]))
    np.testing.assert_array_equal(r, [0.0, 0.0])

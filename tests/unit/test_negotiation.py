"""Negotiation and mutual accountability (sim/rules/negotiation.py)."""

from __future__ import annotations

import numpy as np
from _strategies import floats, same_length
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.rules import negotiation as ng

kw_any = st.fixed_dictionaries({"base": floats(0, 1), "barrier": floats(0, 1), "support": floats(0, 1)})


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1)), kw=kw_any)
def test_participation_probability_in_unit_interval(arrs, kw):
    p = ng.participation_probability(*arrs, **kw)
    assert np.all((p >= 0.0) & (p <= 1.0))


@settings(deadline=None, max_examples=100)
@given(
    arrs=same_length((0.05, 1), (0.05, 1), (0, 1), (0, 1)),
    base=floats(0.05, 0.45),
    barrier=floats(0.01, 1),
    support=floats(0, 0.99),
)
def test_participation_decreasing_in_deprivation_without_full_support(arrs, base, barrier, support):
    trust, eff, d1, d2 = arrs
    lo, hi = np.minimum(d1, d2), np.maximum(d1, d2)
    kw = {"base": base, "barrier": barrier, "support": support}
    p_hi = ng.participation_probability(trust, eff, hi, **kw)
    p_lo = ng.participation_probability(trust, eff, lo, **kw)
    assert np.all(p_hi <= p_lo)
    # Strictly lower where the gap in deprivation is real (base < 0.5 keeps p below the clip at 1).
    apart = hi - lo > 1e-3
    assert np.all(p_hi[apart] < p_lo[apart])


@settings(deadline=None, max_examples=75)
@given(arrs=same_length((0, 1), (0, 1), (0, 1), (0, 1)), base=floats(0, 1), support=floats(0, 1))
def test_full_support_removes_the_deprivation_barrier(arrs, base, support):
    trust, eff, d1, d2 = arrs
    kw = {"base": base, "barrier": 1.0, "support": 1.0}
    np.testing.assert_allclose(
        ng.participation_probability(trust, eff, d1, **kw), ng.participation_probability(trust, eff, d2, **kw)
    )
    # No barrier: deprivation plays no part at any support.
    kw0 = {"base": base, "barrier": 0.0, "support": support}
    np.testing.assert_allclose(
        ng.participation_probability(trust, eff, d1, **kw0), ng.participation_probability(trust, eff, d2, **kw0)
    )


@settings(deadline=None, max_examples=100)
@given(
    arrs=same_length((0, 1), (0, 1), (0, 1)),
    base=floats(0, 1),
    barrier=floats(0, 1),
    supports=st.tuples(floats(0, 1), floats(0, 1)),
)
def test_participation_increasing_in_support(arrs, base, barrier, supports):
    lo, hi = sorted(supports)
    p_lo = ng.participation_probability(*arrs, base=base, barrier=barrier, support=lo)
    p_hi = ng.participation_probability(*arrs, base=base, barrier=barrier, support=hi)
    assert np.all(p_hi >= p_lo - 1e-12)


def test_participation_by_hand():
    p = ng.participation_probability(
        np.array([1.0, 0.5]), np.array([1.0, 0.5]), np.array([0.0, 1.0]), base=0.3, barrier=0.5, support=0.0
    )
    np.testing.assert_allclose(p, [0.3, 0.3 * 0.25 * 0.5])


@settings(deadline=None, max_examples=75)
@given(rate=hnp.arrays(np.float64, 20, elements=floats(0, 1)), full=floats(0.001, 1))
def test_forum_information_in_unit_interval_and_full_at_threshold(rate, full):
    info = ng.forum_information(rate, full)
    assert np.all((info >= 0.0) & (info <= 1.0))
    assert np.all(info[rate >= full] == 1.0)
    np.testing.assert_allclose(info[rate < full], rate[rate < full] / full)


@settings(deadline=None, max_examples=75)
@given(data=st.data(), share=hnp.arrays(np.float64, 20, elements=floats(0, 1)), ambition=floats(0, 1))
def test_citizen_commitment(data, share, ambition):
    participates = data.draw(hnp.arrays(np.bool_, 20))
    c = ng.citizen_commitment(share, participates, ambition)
    assert np.all(np.isnan(c[~participates]))
    assert np.all((c[participates] >= share[participates]) & (c[participates] <= 1.0))


@settings(deadline=None, max_examples=100)
@given(data=st.data(), share=hnp.arrays(np.float64, 20, elements=floats(0, 1)))
def test_commitment_met_nan_where_none_and_in_unit_interval_otherwise(data, share):
    commitment = data.draw(hnp.arrays(np.float64, 20, elements=st.one_of(st.just(np.nan), floats(0, 1))))
    met = ng.commitment_met(share, commitment)
    none = np.isnan(commitment)
    assert np.all(np.isnan(met[none]))
    assert not np.any(np.isnan(met[~none]))
    assert np.all((met[~none] >= 0.0) & (met[~none] <= 1.0))


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0.001, 1)))
def test_commitment_met_fully_when_share_reaches_a_positive_commitment(arrs):
    share, commitment = arrs
    met = ng.commitment_met(share, commitment)
    reached = share >= commitment
    np.testing.assert_array_equal(met[reached], 1.0)
    np.testing.assert_allclose(met[~reached], share[~reached] / commitment[~reached])


def test_commitment_met_by_hand():
    met = ng.commitment_met(np.array([0.2, 0.5, 0.1]), np.array([0.4, 0.4, np.nan]))
    np.testing.assert_allclose(met[:2], [0.5, 1.0])
    assert np.isnan(met[2])


def test_a_commitment_of_zero_is_always_met():
    met = ng.commitment_met(np.array([0.0, 0.5]), np.array([0.0, 0.0]))
    np.testing.assert_array_equal(met, [1.0, 1.0])


def test_commitment_met_has_the_straightforward_formulas_bits():
    """The few-pass version equals the masked formula bit for bit, on NaN, zero, negative and NaN-share edges."""
    rng = np.random.default_rng(4)
    share = rng.random(4000)
    share[::29] = np.nan
    share[::31] = 0.0
    commitment = np.where(rng.random(4000) < 0.5, np.nan, rng.random(4000))
    commitment[::17] = 0.0
    commitment[::19] = -0.0
    commitment[::23] = -0.2
    commitment[::37] = share[::37]  # exactly met
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(commitment > 0, commitment, 1.0)
        expected = np.where(commitment > 0, np.minimum(1.0, share / safe), 1.0)
    expected = np.where(np.isnan(commitment), np.nan, expected)
    met = ng.commitment_met(share, commitment)
    assert met.dtype == expected.dtype and met.shape == expected.shape
    np.testing.assert_array_equal(met.view(np.int64), expected.view(np.int64))

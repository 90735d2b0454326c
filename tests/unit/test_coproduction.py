"""Co-production of true outcomes (sim/rules/coproduction.py)."""

from __future__ import annotations

import numpy as np
from _strategies import arrays, floats, same_length, simplex_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules import coproduction as cp

ces_params = st.fixed_dictionaries({"weight": floats(0.1, 0.9), "rho": floats(-5.0, -0.5)})


# ---------------------------------------------------------------- sigmoid


@settings(deadline=None, max_examples=100)
@given(x=arrays(30, -50, 50))
def test_sigmoid_in_unit_interval_and_increasing(x):
    y = cp.sigmoid(x)
    assert np.all((y >= 0.0) & (y <= 1.0))
    order = np.argsort(x)
    assert np.all(np.diff(y[order]) >= 0.0)
    np.testing.assert_allclose(y + cp.sigmoid(-x), 1.0)


def test_sigmoid_values():
    np.testing.assert_allclose(cp.sigmoid(np.array([0.0, np.log(3.0)])), [0.5, 0.75])


# ---------------------------------------------------------------- ces


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0.01, 10), (0.01, 10), (0, 5), (0, 5)), kw=ces_params)
def test_ces_increasing_in_both_inputs(arrs, kw):
    s, k, ds, dk = arrs
    base = cp.ces(s, k, **kw)
    assert np.all(cp.ces(s + ds, k, **kw) >= base * (1 - 1e-12))
    assert np.all(cp.ces(s, k + dk, **kw) >= base * (1 - 1e-12))
    strict = (ds > 1e-3) & (dk > 1e-3)
    assert np.all(cp.ces(s + ds, k + dk, **kw)[strict] > base[strict])


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0.001, 10), (0.001, 10)), kw=ces_params)
def test_ces_complements_below_weighted_arithmetic_mean(arrs, kw):
    s, k = arrs
    out = cp.ces(s, k, **kw)
    mean = kw["weight"] * s + (1.0 - kw["weight"]) * k
    assert np.all(out <= mean * (1 + 1e-9))
    assert np.all(out >= np.minimum(s, k) * (1 - 1e-9))
    assert np.all(out <= np.maximum(s, k) * (1 + 1e-9))
    apart = np.abs(s - k) > 0.01 * np.maximum(s, k)
    assert np.all(out[apart] < mean[apart])


@settings(deadline=None, max_examples=100)
@given(other=arrays(20, 0.0, 10.0), kw=ces_params)
def test_ces_near_zero_when_either_input_is_near_zero(other, kw):
    zero = np.zeros_like(other)
    assert np.all(cp.ces(zero, other, **kw) < 1e-3)
    assert np.all(cp.ces(other, zero, **kw) < 1e-3)
    assert np.all(cp.ces(zero, other, **kw) >= 0.0)


@settings(deadline=None, max_examples=50)
@given(x=arrays(10, 0.01, 10), kw=ces_params)
def test_ces_equal_inputs_give_that_input(x, kw):
    np.testing.assert_allclose(cp.ces(x, x, **kw), x, rtol=1e-9)


def test_ces_default_harmonic_mean():
    # rho = -1, weight 0.5: the harmonic mean.
    np.testing.assert_allclose(cp.ces(np.array([1.0]), np.array([3.0]), 0.5, -1.0), [1.5])


# ---------------------------------------------------------------- service_inputs / partnership / citizen input


@settings(deadline=None, max_examples=75)
@given(shares=simplex_rows(), data=st.data(), fw=floats(0, 2), spill=floats(0, 1))
def test_service_inputs_non_negative_and_by_definition(shares, data, fw, spill):
    capacity = data.draw(arrays(shares.shape[0], 0, 10))
    e_m, e_u = cp.service_inputs(shares, capacity, fw, spill)
    assert np.all(e_m >= 0.0) and np.all(e_u >= 0.0)
    base = fw * shares[:, cp.FUNCTIONING]
    np.testing.assert_allclose(e_m, capacity * (base + shares[:, cp.MEASURED] + spill * shares[:, cp.UNMEASURED]))
    np.testing.assert_allclose(e_u, capacity * (base + shares[:, cp.UNMEASURED] + spill * shares[:, cp.MEASURED]))


def test_measured_work_helps_measured_more_than_unmeasured():
    shares = np.array([[0.2, 0.5, 0.1, 0.1, 0.0, 0.1]])
    e_m, e_u = cp.service_inputs(shares, np.array([2.0]), 0.8, 0.3)
    assert e_m[0] > e_u[0]
    # Gaming and slack add nothing.
    more_gaming = np.array([[0.2, 0.5, 0.1, 0.1, 0.1, 0.0]])
    np.testing.assert_allclose(cp.service_inputs(more_gaming, np.array([2.0]), 0.8, 0.3), (e_m, e_u))


@settings(deadline=None, max_examples=75)
@given(x=arrays(30))
def test_partnership_effect_saturates_in_unit_interval(x):
    y = cp.partnership_effect(x)
    assert np.all((y >= 0.0) & (y < 1.0))
    order = np.argsort(x)
    assert np.all(np.diff(y[order]) >= 0.0)


@settings(deadline=None, max_examples=75)
@given(arrs=same_length((0, 1), (0, 1), (0, 1)), scale=floats(0.001, 10), w=floats(0, 10))
def test_citizen_input_non_negative_and_prosocial_counts_double(arrs, scale, w):
    pro, selfrel, sc = arrs
    k = cp.citizen_input(pro, selfrel, sc, scale=scale, social_capital_weight=w)
    assert np.all(k >= 0.0)
    np.testing.assert_allclose(k, (pro + 0.5 * selfrel) / scale + w * sc)
    zero = np.zeros_like(pro)
    same_time_prosocial = cp.citizen_input(pro, zero, sc, scale=scale, social_capital_weight=w)
    same_time_selfrel = cp.citizen_input(zero, pro, sc, scale=scale, social_capital_weight=w)
    assert np.all(same_time_prosocial >= same_time_selfrel)


# ---------------------------------------------------------------- outcome_logit / update_shock

logit_kw = st.fixed_dictionaries(
    {"intercept": floats(-10, 10), "slope": floats(0.01, 10), "deprivation_effect": floats(0.01, 10)}
)


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((1e-5, 100), (1e-3, 100), (0, 1), (-3, 3)), kw=logit_kw)
def test_outcome_logit_increasing_in_production(arrs, kw):
    prod, extra, dep, shock = arrs
    assert np.all(cp.outcome_logit(prod + extra, dep, shock, **kw) > cp.outcome_logit(prod, dep, shock, **kw))


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((1e-5, 100), (0, 1), (0, 1), (-3, 3)), kw=logit_kw)
def test_outcome_logit_decreasing_in_deprivation(arrs, kw):
    prod, d1, d2, shock = arrs
    lo, hi = np.minimum(d1, d2), np.maximum(d1, d2)
    more = cp.outcome_logit(prod, hi, shock, **kw)
    less = cp.outcome_logit(prod, lo, shock, **kw)
    assert np.all(more <= less)
    apart = hi - lo > 1e-6
    assert np.all(more[apart] < less[apart])


def test_outcome_logit_at_unit_production():
    out = cp.outcome_logit(
        np.array([1.0]), np.array([0.5]), np.array([0.2]), intercept=1.8, slope=1.5, deprivation_effect=1.2
    )
    np.testing.assert_allclose(out, [1.8 - 0.6 + 0.2])


@settings(deadline=None, max_examples=75)
@given(arrs=same_length((-3, 3), (-1, 1), (0, 5)), rho=floats(0, 0.999))
def test_update_shock_ar1(arrs, rho):
    shock, innovation, large = arrs
    out = cp.update_shock(shock, innovation, large, rho)
    np.testing.assert_allclose(out, rho * shock + innovation - large)
    # Large shocks only ever lower outcomes.
    assert np.all(out <= cp.update_shock(shock, innovation, np.zeros_like(large), rho))

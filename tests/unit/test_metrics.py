"""Named metric functions (sim/metrics.py)."""

from __future__ import annotations

import math

import numpy as np
from _strategies import arrays, floats, same_length, simplex_rows
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim import metrics as mx
from sim.rules import coproduction as cp

# ---------------------------------------------------------------- activity_rate / mean_or_nan / self_reliance


@settings(deadline=None, max_examples=100)
@given(hours=hnp.arrays(np.float64, st.integers(1, 50), elements=floats(0, 100)), threshold=floats(0, 100))
def test_activity_rate_in_unit_interval_and_counts_threshold(hours, threshold):
    rate = mx.activity_rate(hours, threshold)
    assert 0.0 <= rate <= 1.0
    assert math.isclose(rate, np.count_nonzero(hours >= threshold) / hours.size)


@settings(deadline=None, max_examples=50)
@given(
    hours=hnp.arrays(np.float64, st.integers(1, 50), elements=floats(0, 100)),
    t=st.tuples(floats(0, 100), floats(0, 100)),
)
def test_activity_rate_non_increasing_in_threshold(hours, t):
    lo, hi = sorted(t)
    assert mx.activity_rate(hours, hi) <= mx.activity_rate(hours, lo)


def test_activity_rate_by_hand_and_empty():
    assert mx.activity_rate(np.array([0.0, 1.9, 2.0, 10.0]), 2.0) == 0.5
    assert math.isnan(mx.activity_rate(np.array([]), 2.0))


def test_mean_or_nan():
    assert mx.mean_or_nan(np.array([1.0, 2.0, 6.0])) == 3.0
    assert math.isnan(mx.mean_or_nan(np.array([])))


@settings(deadline=None, max_examples=75)
@given(arrs=same_length((0, 400), (0, 1)))
def test_self_reliance_share_in_unit_interval(arrs):
    budget, frac = arrs
    out = mx.self_reliance(budget * frac, budget)
    assert 0.0 <= out <= 1.0 + 1e-12
    with_time = budget > 0
    assert math.isclose(out, float(np.mean(np.where(with_time, frac, 0.0))), abs_tol=1e-9)


def test_self_reliance_counts_zero_budget_as_zero():
    assert mx.self_reliance(np.array([5.0, 0.0]), np.array([10.0, 0.0])) == 0.25


# ---------------------------------------------------------------- weighted_share / weighted_mean


@settings(deadline=None, max_examples=75)
@given(shares=simplex_rows(), data=st.data())
def test_weighted_share_in_unit_interval(shares, data):
    w = data.draw(arrays(shares.shape[0], 0.001, 10))
    for col in range(cp.N_ACTIVITIES):
        assert 0.0 <= mx.weighted_share(shares, w, col) <= 1.0 + 1e-12
    total = sum(mx.weighted_share(shares, w, c) for c in range(cp.N_ACTIVITIES))
    assert math.isclose(total, 1.0, rel_tol=1e-9)
    both = mx.weighted_share(shares, w, [cp.MEASURED, cp.UNMEASURED])
    assert math.isclose(both, mx.weighted_share(shares, w, cp.MEASURED) + mx.weighted_share(shares, w, cp.UNMEASURED))


def test_weighted_share_nan_without_weight():
    assert math.isnan(mx.weighted_share(np.full((2, 6), 1 / 6), np.zeros(2), cp.GAMING))


@settings(deadline=None, max_examples=100)
@given(data=st.data(), n=st.integers(1, 30))
def test_weighted_mean_ignores_nan(data, n):
    values = data.draw(hnp.arrays(np.float64, n, elements=st.one_of(st.just(np.nan), floats(-5, 5))))
    weights = data.draw(arrays(n, 0, 10))
    out = mx.weighted_mean(values, weights)
    ok = ~np.isnan(values) & (weights > 0)
    if weights[ok].sum() > 0:
        assert math.isclose(out, np.average(values[ok], weights=weights[ok]), rel_tol=1e-9, abs_tol=1e-12)
        assert values[ok].min() - 1e-12 <= out <= values[ok].max() + 1e-12
    else:
        assert math.isnan(out)


def test_weighted_mean_by_hand():
    assert mx.weighted_mean(np.array([1.0, np.nan, 3.0]), np.array([1.0, 100.0, 3.0])) == 2.5
    assert math.isnan(mx.weighted_mean(np.array([np.nan, 1.0]), np.array([1.0, 0.0])))
    assert math.isnan(mx.weighted_mean(np.array([]), np.array([])))


# ---------------------------------------------------------------- indicator_true_corr


@settings(deadline=None, max_examples=75)
@given(
    x=hnp.arrays(np.float64, st.integers(3, 30), elements=floats(0, 1), unique=True), a=floats(0.1, 5), b=floats(-1, 1)
)
def test_indicator_true_corr_one_for_perfectly_correlated(x, a, b):
    assert math.isclose(mx.indicator_true_corr(x, a * x + b), 1.0, abs_tol=1e-9)
    assert math.isclose(mx.indicator_true_corr(x, -a * x + b), -1.0, abs_tol=1e-9)


@settings(deadline=None, max_examples=75)
@given(arrs=same_length((0, 1), (0, 1), min_size=3, max_size=30))
def test_indicator_true_corr_in_minus_one_one(arrs):
    r, t = arrs
    out = mx.indicator_true_corr(r, t)
    assert math.isnan(out) or -1.0 - 1e-9 <= out <= 1.0 + 1e-9


def test_indicator_true_corr_nan_for_fewer_than_three_services():
    assert math.isnan(mx.indicator_true_corr(np.array([0.1, 0.9]), np.array([0.2, 0.8])))
    # NaN services do not count towards the three.
    assert math.isnan(mx.indicator_true_corr(np.array([0.1, 0.9, np.nan, 0.5]), np.array([0.2, 0.8, 0.5, np.nan])))
    assert not math.isnan(mx.indicator_true_corr(np.array([0.1, 0.9, 0.5, np.nan]), np.array([0.2, 0.8, 0.5, 0.1])))


@settings(deadline=None, max_examples=50)
@given(
    t=hnp.arrays(np.float64, st.integers(3, 20), elements=floats(0, 1)),
    c=st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.7, 1.0]),
)
def test_indicator_true_corr_nan_without_variation(t, c):
    constant = np.full(t.shape, c)
    assert math.isnan(mx.indicator_true_corr(constant, t))
    assert math.isnan(mx.indicator_true_corr(t, constant))


# ---------------------------------------------------------------- equity_gap


@settings(deadline=None, max_examples=100)
@given(data=st.data(), n=st.integers(2, 30))
def test_equity_gap_positive_when_deprived_communities_do_worse(data, n):
    deprivation = data.draw(hnp.arrays(np.float64, n, elements=floats(0, 1), unique=True))
    size = data.draw(arrays(n, 1, 1000))
    outcome = 1.0 - deprivation  # strictly lower outcomes where deprivation is higher ...
    assume(np.unique(outcome).size == n)  # ... as far as floats tell them apart (1 - 1e-176 == 1)
    assert mx.equity_gap(outcome, deprivation, size) > 0.0
    assert mx.equity_gap(deprivation, deprivation, size) < 0.0


@settings(deadline=None, max_examples=50)
@given(outcome=floats(0, 1), deprivation=floats(0, 1), size=floats(1, 1000))
def test_equity_gap_zero_with_one_community(outcome, deprivation, size):
    assert mx.equity_gap(np.array([outcome]), np.array([deprivation]), np.array([size])) == 0.0


@settings(deadline=None, max_examples=100)
@given(data=st.data(), n=st.integers(1, 20), n_empty=st.integers(1, 5))
def test_equity_gap_ignores_empty_communities(data, n, n_empty):
    outcome, deprivation = data.draw(arrays(n)), data.draw(arrays(n))
    size = data.draw(arrays(n, 1, 1000))
    base = mx.equity_gap(outcome, deprivation, size)
    extra_out, extra_dep = data.draw(arrays(n_empty)), data.draw(arrays(n_empty))
    # Empty communities, wherever they fall in the order.
    order = data.draw(st.permutations(range(n + n_empty)))
    out = np.concatenate([outcome, extra_out])[order]
    dep = np.concatenate([deprivation, extra_dep])[order]
    sz = np.concatenate([size, np.zeros(n_empty)])[order]
    # Stable ordering among ties may depend on position, so compare on distinct deprivation only.
    if np.unique(deprivation).size == n:
        assert math.isclose(mx.equity_gap(out, dep, sz), base, abs_tol=1e-12)
    assert math.isnan(mx.equity_gap(extra_out, extra_dep, np.zeros(n_empty)))


def test_equity_gap_by_hand():
    # Ten communities: the least deprived fifth is {0, 1}, the most deprived {8, 9}.
    deprivation = np.linspace(0.0, 0.9, 10)
    outcome = np.array([0.9, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.3, 0.1])
    size = np.array([1.0, 3.0, 1, 1, 1, 1, 1, 1, 1.0, 1.0])
    assert math.isclose(mx.equity_gap(outcome, deprivation, size), (0.9 + 3 * 0.8) / 4 - 0.2)


@settings(deadline=None, max_examples=75)
@given(data=st.data(), n=st.integers(1, 30))
def test_equity_gap_bounded_by_outcome_range(data, n):
    outcome, deprivation = data.draw(arrays(n)), data.draw(arrays(n))
    size = data.draw(arrays(n, 1, 1000))
    gap = mx.equity_gap(outcome, deprivation, size)
    assert -1.0 - 1e-12 <= gap <= 1.0 + 1e-12
    assert abs(gap) <= outcome.max() - outcome.min() + 1e-12


# ---------------------------------------------------------------- commitment_share / by_community


@settings(deadline=None, max_examples=75)
@given(met=hnp.arrays(np.float64, st.integers(0, 30), elements=st.one_of(st.just(np.nan), floats(0, 1))))
def test_commitment_share_ignores_nan_and_in_unit_interval(met):
    out = mx.commitment_share(met)
    ok = ~np.isnan(met)
    if ok.any():
        assert 0.0 <= out <= 1.0
        assert math.isclose(out, met[ok].mean())
    else:
        assert math.isnan(out)


def test_commitment_share_nan_when_empty():
    assert math.isnan(mx.commitment_share(np.array([])))
    assert math.isnan(mx.commitment_share(np.array([np.nan, np.nan])))


def test_by_community_means_over_domains():
    community = np.array([0, 0, 0, 1, 1, 1])
    domain = np.array([0, 1, 2, 0, 1, 2])
    values = np.array([0.3, 0.6, 0.9, 0.0, 0.0, 0.3])
    np.testing.assert_allclose(mx.by_community(values, community, domain, 3), [0.6, 0.1, 0.0])


# ---------------------------------------------------------------- recorder


def test_recorder_keeps_columns_in_order():
    rec = mx.MetricsRecorder()
    for step in range(3):
        rec.append({c: step for c in mx.COLUMNS} | {"extra": 1})
    frame = rec.to_frame()
    assert len(rec) == 3
    assert list(frame.columns) == list(mx.COLUMNS)
    assert frame["step"].tolist() == [0, 1, 2]
    assert rec.get_model_vars_dataframe().equals(frame)


# ---------------------------------------------------------------- collect_metrics on a small model

RATES = mx.UNIT_INTERVAL_COLUMNS


def test_collect_metrics_has_every_column_and_rates_in_unit_interval():
    from sim.config import SimConfig
    from sim.model import SocialProductivityModel

    for regime in ("targets", "negotiated", "functioning", "none"):
        cfg = SimConfig()
        cfg.population.n_citizens = 300
        cfg.population.n_communities = 6
        cfg.regime.name = regime
        model = SocialProductivityModel(cfg)
        model.run(steps=3)
        assert model.regime == regime
        row = mx.collect_metrics(model)
        assert set(mx.COLUMNS) <= set(row)
        for name in RATES:
            v = row[name]
            assert math.isnan(v) or 0.0 <= v <= 1.0 + 1e-12, (regime, name, v)
        assert row["prosocial_hours"] >= 0.0 and row["public_cost"] > 0.0
        assert -1.0 <= row["equity_gap"] <= 1.0

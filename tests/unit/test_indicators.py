"""Measured versus true outcomes and gaming of records (sim/rules/indicators.py)."""

from __future__ import annotations

import math

import numpy as np
from _strategies import arrays, floats, same_length
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.rules import indicators as ind

NEAR_MISS, LANDING, WINDOW = 0.8, 0.1, 0.3  # config defaults


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def uniforms(n: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, n, elements=st.floats(0.0, 1.0, exclude_max=True, allow_nan=False))


# ---------------------------------------------------------------- case_true_values


@settings(deadline=None, max_examples=50)
@given(p=floats(0.02, 0.98), seed=st.integers(0, 2**32 - 1))
def test_case_true_values_pass_share_is_p(p, seed):
    rng = np.random.default_rng(seed)
    u = np.clip(rng.random(200_000), 1e-12, 1 - 1e-12)
    values = ind.case_true_values(np.full(u.shape, logit(p)), u)
    assert abs(np.mean(values >= 0.0) - p) < 0.01


@settings(deadline=None, max_examples=75)
@given(arrs=same_length((-5, 5), (1e-9, 1 - 1e-9), (1e-9, 1 - 1e-9)))
def test_case_true_values_increasing_in_logit_and_draw(arrs):
    case_logit, u1, u2 = arrs
    lo, hi = np.minimum(u1, u2), np.maximum(u1, u2)
    assert np.all(ind.case_true_values(case_logit, hi) >= ind.case_true_values(case_logit, lo))
    assert np.all(ind.case_true_values(case_logit + 1.0, u1) > ind.case_true_values(case_logit, u1))
    np.testing.assert_allclose(ind.case_true_values(case_logit, np.full_like(u1, 0.5)), case_logit, atol=1e-12)


# ---------------------------------------------------------------- gaming_intensities


@settings(deadline=None, max_examples=75)
@given(
    arrs=same_length((0, 1), (0, 10)),
    cost=floats(0.001, 10),
    skim_share=floats(0, 1),
    skim_max=floats(0, 1),
)
def test_gaming_intensities_bounds_and_monotone(arrs, cost, skim_share, skim_max):
    gaming, capacity = arrs
    kw = {"manipulation_cost": cost, "cream_skim_share": skim_share, "cream_skim_max": skim_max}
    move, skim = ind.gaming_intensities(gaming, capacity, **kw)
    assert np.all((move >= 0.0) & (move <= 1.0))
    assert np.all((skim >= 0.0) & (skim <= skim_max))
    move2, skim2 = ind.gaming_intensities(np.minimum(gaming + 0.1, 1.0), capacity, **kw)
    assert np.all(move2 >= move) and np.all(skim2 >= skim)


def test_no_gaming_no_manipulation():
    move, skim = ind.gaming_intensities(
        np.zeros(3), np.ones(3), manipulation_cost=0.25, cream_skim_share=0.3, cream_skim_max=0.5
    )
    np.testing.assert_array_equal(move, 0.0)
    np.testing.assert_array_equal(skim, 0.0)


# ---------------------------------------------------------------- record_cases


def _record(true_value, move, skim, u_move, u_land, u_skim, near=NEAR_MISS, land=LANDING):
    return ind.record_cases(true_value, move, skim, u_move, u_land, u_skim, near_miss_window=near, landing_width=land)


record_inputs = same_length((-3, 3), (0, 1), (0, 1), (0, 1), (0, 0.999999), (0, 1))


@settings(deadline=None, max_examples=100)
@given(arrs=record_inputs, near=floats(0.01, 5), land=floats(0.001, 5))
def test_record_cases_only_moves_near_misses_into_landing_zone(arrs, near, land):
    true_value, move, skim, u_move, u_land, u_skim = arrs
    recorded, manipulated, kept = _record(true_value, move, skim, u_move, u_land, u_skim, near, land)
    near_miss = (true_value < 0.0) & (true_value >= -near)
    # Nothing but a near miss is ever moved, and unmoved records are the truth.
    assert not np.any(manipulated & ~near_miss)
    np.testing.assert_array_equal(recorded[~manipulated], true_value[~manipulated])
    # Moved records land just on the passing side.
    assert np.all((recorded[manipulated] >= 0.0) & (recorded[manipulated] < land))
    # Only hard cases (below the near-miss window) are turned away, and never manipulated ones.
    assert np.all(true_value[~kept] < -near)
    assert not np.any(manipulated & ~kept)


@settings(deadline=None, max_examples=75)
@given(arrs=record_inputs)
def test_record_cases_without_gaming_records_the_truth(arrs):
    true_value, _, _, u_move, u_land, u_skim = arrs
    zero = np.zeros_like(true_value)
    recorded, manipulated, kept = _record(true_value, zero, zero, u_move, u_land, u_skim)
    assert not manipulated.any()
    assert kept.all()
    np.testing.assert_array_equal(recorded, true_value)


@settings(deadline=None, max_examples=75)
@given(arrs=record_inputs)
def test_record_cases_full_move_moves_every_near_miss(arrs):
    true_value, _, skim, u_move, u_land, u_skim = arrs
    one = np.ones_like(true_value)
    recorded, manipulated, _ = _record(true_value, one, skim, u_move * 0.999, u_land, u_skim)
    near_miss = (true_value < 0.0) & (true_value >= -NEAR_MISS)
    np.testing.assert_array_equal(manipulated, near_miss)
    assert np.all(recorded[near_miss] >= 0.0)


# ---------------------------------------------------------------- bunching_ratio


def _smooth_values(rng: np.random.Generator, n: int = 100_000) -> np.ndarray:
    return rng.normal(0.0, 1.0, n)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**32 - 1))
def test_bunching_ratio_about_one_without_manipulation(seed):
    values = _smooth_values(np.random.default_rng(seed))
    ratio = ind.bunching_ratio(values, np.ones(values.shape, bool), WINDOW)
    assert 0.8 <= ratio <= 1.25


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**32 - 1), near=floats(0.15, 0.25))
def test_bunching_ratio_high_after_moving_all_near_misses(seed, near):
    # Near-miss window narrower than the bunching window, so the failing-side window is not empty;
    # for a flat density near 0 the ratio is about (window + near) / (window - near) >= 3.
    rng = np.random.default_rng(seed)
    values = _smooth_values(rng)
    n = values.shape[0]
    recorded, _, kept = _record(
        values, np.ones(n), np.zeros(n), np.zeros(n), rng.random(n), rng.random(n), near, LANDING
    )
    assert ind.bunching_ratio(recorded, kept, WINDOW) >= 2.0


def test_bunching_ratio_high_with_most_near_misses_moved_at_default_windows():
    rng = np.random.default_rng(7)
    values = _smooth_values(rng)
    n = values.shape[0]
    recorded, _, kept = _record(values, np.full(n, 0.8), np.zeros(n), rng.random(n), rng.random(n), rng.random(n))
    assert ind.bunching_ratio(recorded, kept, WINDOW) >= 2.0


def test_bunching_ratio_when_failing_window_empty():
    recorded = np.array([0.05, 0.1, 0.2, -1.0, 0.5])
    assert ind.bunching_ratio(recorded, np.ones(5, bool), WINDOW) == math.inf
    assert math.isnan(ind.bunching_ratio(np.array([-1.0, 1.0]), np.ones(2, bool), WINDOW))
    # Cases turned away do not count either.
    recorded = np.array([0.05, -0.1])
    assert ind.bunching_ratio(recorded, np.array([True, False]), WINDOW) == math.inf
    assert ind.bunching_ratio(recorded, np.array([True, True]), WINDOW) == 1.0


def test_bunching_ratio_by_hand():
    recorded = np.array([0.0, 0.1, 0.29, 0.3, -0.1, -0.3, -0.31])
    assert ind.bunching_ratio(recorded, np.ones(7, bool), WINDOW) == 1.5


# ---------------------------------------------------------------- service_rates


@settings(deadline=None, max_examples=100)
@given(data=st.data(), n_services=st.integers(1, 6), detection=floats(0, 1))
def test_service_rates_bounds_and_empty_services(data, n_services, detection):
    n_cases = data.draw(st.integers(0, 60))
    service = data.draw(hnp.arrays(np.int64, n_cases, elements=st.integers(0, n_services - 1)))
    true_value = data.draw(arrays(n_cases, -3, 3))
    move, skim = data.draw(arrays(n_cases)), data.draw(arrays(n_cases))
    u = [data.draw(uniforms(n_cases)) for _ in range(4)]
    recorded, manipulated, kept = _record(true_value, move, skim, u[0], u[1], u[2])
    reported, true_rate, cases, skimmed, found = ind.service_rates(
        service, n_services, recorded, true_value, manipulated, kept, u[3], detection
    )
    for arr in (reported, true_rate, cases, skimmed, found):
        assert arr.shape == (n_services,)
    np.testing.assert_array_equal(cases, np.bincount(service, minlength=n_services))
    empty = cases == 0
    for arr in (reported, true_rate, skimmed, found):
        assert np.all(np.isnan(arr[empty]))
    for arr in (true_rate, skimmed):
        assert np.all((arr[~empty] >= 0.0) & (arr[~empty] <= 1.0))
    for arr in (reported, found):
        ok = ~np.isnan(arr)
        assert np.all((arr[ok] >= 0.0) & (arr[ok] <= 1.0))


def test_service_rates_by_hand():
    service = np.array([0, 0, 0, 0, 2, 2])
    true_value = np.array([0.5, -0.1, -0.2, -2.0, 1.0, -1.0])
    recorded = np.array([0.5, 0.05, -0.2, -2.0, 1.0, -1.0])
    manipulated = np.array([False, True, False, False, False, False])
    kept = np.array([True, True, True, False, True, True])
    reported, true_rate, cases, skimmed, found = ind.service_rates(
        service, 3, recorded, true_value, manipulated, kept, np.array([0.9, 0.1, 0.9, 0.9, 0.9, 0.9]), 0.5
    )
    np.testing.assert_allclose(cases, [4, 0, 2])
    np.testing.assert_allclose(reported[[0, 2]], [2 / 3, 1 / 2])
    np.testing.assert_allclose(true_rate[[0, 2]], [1 / 4, 1 / 2])
    np.testing.assert_allclose(skimmed[[0, 2]], [1 / 4, 0.0])
    np.testing.assert_allclose(found[[0, 2]], [1 / 3, 0.0])
    assert np.isnan(reported[1]) and np.isnan(true_rate[1]) and np.isnan(skimmed[1]) and np.isnan(found[1])

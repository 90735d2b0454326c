"""Legitimacy, trust, efficacy and engagement (sim/rules/trust.py)."""

from __future__ import annotations

import numpy as np
from _strategies import floats, same_length
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.rules.trust import update_efficacy, update_engagement, update_trust

GAIN, LOSS = 0.04, 0.08  # config defaults
rates = st.tuples(floats(0, 1), floats(0, 1)).map(sorted)  # (gain, loss) with gain <= loss
moderate_rates = st.tuples(floats(0.001, 0.5), floats(0.001, 0.5)).map(sorted)


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1), (0, 1), (0, 1)), gl=rates)
def test_trust_stays_in_unit_interval(arrs, gl):
    trust, experience, made, kept, exposure = arrs
    out = update_trust(trust, experience, made, kept, exposure, *gl)
    assert np.all((out >= 0.0) & (out <= 1.0))


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1), (0, 1), (0, 1), (0, 1)), gl=rates)
def test_higher_experience_gives_higher_trust(arrs, gl):
    trust, e1, e2, made, kept, exposure = arrs
    lo, hi = np.minimum(e1, e2), np.maximum(e1, e2)
    assert np.all(
        update_trust(trust, hi, made, kept, exposure, *gl) >= update_trust(trust, lo, made, kept, exposure, *gl) - 1e-12
    )


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1), (0, 1), (0, 1), (0, 1)), gl=rates)
def test_exposure_lowers_trust(arrs, gl):
    trust, experience, made, kept, x1, x2 = arrs
    lo, hi = np.minimum(x1, x2), np.maximum(x1, x2)
    assert np.all(
        update_trust(trust, experience, made, kept, hi, *gl)
        <= update_trust(trust, experience, made, kept, lo, *gl) + 1e-12
    )


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0.01, 1), (0.01, 1)))
def test_any_exposure_strictly_lowers_positive_trust(arrs):
    trust, exposure = arrs
    zero = np.zeros_like(trust)
    without = update_trust(trust, trust, zero, zero, zero, GAIN, LOSS)
    with_exposure = update_trust(trust, trust, zero, zero, exposure, GAIN, LOSS)
    np.testing.assert_allclose(without, trust)
    assert np.all(with_exposure < without)


@settings(deadline=None, max_examples=100)
@given(t=floats(0.05, 0.95), d=floats(0.001, 0.05), gl=moderate_rates.filter(lambda t: t[1] > 1.1 * t[0]))
def test_fall_from_a_gap_is_bigger_than_rise_from_the_same_gap(t, d, gl):
    gain, loss = gl
    zero = np.zeros(1)
    trust = np.array([t])
    rise = update_trust(trust, trust + d, zero, zero, zero, gain, loss)[0] - t
    fall = t - update_trust(trust, trust - d, zero, zero, zero, gain, loss)[0]
    assert rise > 0.0
    assert fall > rise
    assert np.isclose(fall / rise, loss / gain, rtol=1e-6)


def test_trust_moves_towards_experience_at_default_rates():
    zero = np.zeros(2)
    out = update_trust(np.array([0.5, 0.5]), np.array([0.7, 0.3]), zero, zero, zero, GAIN, LOSS)
    np.testing.assert_allclose(out, [0.5 + 0.04 * 0.2, 0.5 - 0.08 * 0.2])


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0.01, 0.99), (0, 1), (0, 1), (0, 1)), gl=moderate_rates)
def test_kept_commitments_build_trust_and_broken_ones_lose_it(arrs, gl):
    trust, experience, k1, k2 = arrs
    zero, one = np.zeros_like(trust), np.ones_like(trust)
    lo, hi = np.minimum(k1, k2), np.maximum(k1, k2)
    # More of the commitments kept: at least as much trust.
    assert np.all(
        update_trust(trust, experience, one, hi, zero, *gl)
        >= update_trust(trust, experience, one, lo, zero, *gl) - 1e-12
    )
    # All kept beats no commitment; none kept is worse than no commitment.
    none_made = update_trust(trust, experience, zero, zero, zero, *gl)
    assert np.all(update_trust(trust, experience, one, one, zero, *gl) > none_made)
    assert np.all(update_trust(trust, experience, one, zero, zero, *gl) < none_made)


# ---------------------------------------------------------------- efficacy


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1)), rate=floats(0, 1))
def test_efficacy_in_unit_interval_and_moves_towards_success(arrs, rate):
    eff, success = arrs
    out = update_efficacy(eff, success, rate)
    assert np.all((out >= 0.0) & (out <= 1.0))
    assert np.all(np.abs(out - success) <= np.abs(eff - success) + 1e-12)
    assert np.all((out - eff) * (success - eff) >= 0.0)


# ---------------------------------------------------------------- engagement


@settings(deadline=None, max_examples=100)
@given(data=st.data(), arrs=same_length((0, 1), (0, 1), (0, 1)), exit_p=floats(0, 1))
def test_engagement_rule(data, arrs, exit_p):
    ask, trust, u = arrs
    engaged = data.draw(hnp.arrays(np.bool_, ask.shape[0]))
    out = update_engagement(engaged, ask, trust, exit_p, u)
    assert out.dtype == np.bool_
    # Volunteers stay unless their draw falls below the exit probability.
    np.testing.assert_array_equal(out[engaged], u[engaged] >= exit_p)
    # Others join only if asked and willing.
    np.testing.assert_array_equal(out[~engaged], u[~engaged] < ask[~engaged] * trust[~engaged])


def test_engagement_probabilities():
    rng = np.random.default_rng(1)
    n = 100_000
    u = rng.random(n)
    joined = update_engagement(np.zeros(n, bool), np.full(n, 0.5), np.full(n, 0.6), 0.08, u)
    stayed = update_engagement(np.ones(n, bool), np.full(n, 0.5), np.full(n, 0.6), 0.08, u)
    assert abs(joined.mean() - 0.3) < 0.01
    assert abs(stayed.mean() - 0.92) < 0.01
    # Nobody joins who is unwilling.
    assert not update_engagement(np.zeros(n, bool), np.ones(n), np.zeros(n), 0.08, u).any()


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 0.99), (0, 1), (0, 1)), gain=floats(0.001, 1))
def test_credible_assurance_builds_trust_in_proportion(arrs, gain):
    trust, a1, a2 = arrs
    zero = np.zeros_like(trust)
    lo, hi = np.minimum(a1, a2), np.maximum(a1, a2)
    t_lo = update_trust(trust, trust, zero, zero, zero, GAIN, LOSS, lo, gain)
    t_hi = update_trust(trust, trust, zero, zero, zero, GAIN, LOSS, hi, gain)
    np.testing.assert_allclose(t_hi - t_lo, gain * (hi - lo) * (1.0 - trust), atol=1e-12)
    assert np.all(t_hi >= trust)

"""Motivation crowding (sim/rules/motivation.py)."""

from __future__ import annotations

import numpy as np
from _strategies import floats, same_length
from hypothesis import given, settings

from sim.rules.motivation import update_motivation

GAIN, LOSS = 0.01, 0.03  # config defaults


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1)), gain=floats(0, 1), loss=floats(0, 1))
def test_motivation_stays_in_unit_interval(arrs, gain, loss):
    m, support, control = arrs
    out = update_motivation(m, support, control, gain, loss)
    assert np.all((out >= 0.0) & (out <= 1.0))


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1), (0, 1)), gain=floats(0, 1), loss=floats(0, 1))
def test_motivation_non_decreasing_in_support(arrs, gain, loss):
    m, s1, s2, control = arrs
    lo, hi = np.minimum(s1, s2), np.maximum(s1, s2)
    assert np.all(
        update_motivation(m, hi, control, gain, loss) >= update_motivation(m, lo, control, gain, loss) - 1e-12
    )


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1), (0, 1)), gain=floats(0, 1), loss=floats(0, 1))
def test_motivation_non_increasing_in_control(arrs, gain, loss):
    m, support, c1, c2 = arrs
    lo, hi = np.minimum(c1, c2), np.maximum(c1, c2)
    assert np.all(
        update_motivation(m, support, hi, gain, loss) <= update_motivation(m, support, lo, gain, loss) + 1e-12
    )


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0.01, 0.99), (0.01, 1)))
def test_support_raises_and_control_lowers_interior_motivation(arrs):
    m, x = arrs
    zero = np.zeros_like(m)
    assert np.all(update_motivation(m, x, zero, GAIN, LOSS) > m)
    assert np.all(update_motivation(m, zero, x, GAIN, LOSS) < m)
    np.testing.assert_array_equal(update_motivation(m, zero, zero, GAIN, LOSS), m)


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0.01, 0.99), (0.01, 1)))
def test_erosion_faster_than_rebuilding_mirror_image(arrs):
    # Same distance from the pole it moves away from, same magnitude of intervention:
    # control from m falls by loss*x*m, support from 1-m rises by gain*x*m.
    m, x = arrs
    zero = np.zeros_like(m)
    fall = m - update_motivation(m, zero, x, GAIN, LOSS)
    rise = update_motivation(1.0 - m, x, zero, GAIN, LOSS) - (1.0 - m)
    assert np.all(fall > rise)
    np.testing.assert_allclose(fall / rise, LOSS / GAIN, rtol=1e-6)


def test_erosion_takes_fewer_months_than_rebuilding():
    # Full control from 0.8 down to 0.2 versus full support from 0.2 back up to 0.8.
    one, zero = np.ones(1), np.zeros(1)

    def months(start, target, support, control, reached):
        m, t = np.array([start]), 0
        while not reached(m[0], target):
            m = update_motivation(m, support, control, GAIN, LOSS)
            t += 1
            assert t < 10_000
        return t

    down = months(0.8, 0.2, zero, one, lambda v, g: v <= g)
    up = months(0.2, 0.8, one, zero, lambda v, g: v >= g)
    assert down < up
    # Effects outlast the policy: after erosion, as many months of support leave motivation lower.
    m = np.array([0.8])
    for _ in range(down):
        m = update_motivation(m, zero, one, GAIN, LOSS)
    for _ in range(down):
        m = update_motivation(m, one, zero, GAIN, LOSS)
    assert m[0] < 0.8 - 0.1


@settings(deadline=None, max_examples=50)
@given(m=floats(0, 1))
def test_equal_support_and_control_at_neutral_motivation_erodes(m):
    # With support = control = 1 the fixed point is gain / (gain + loss) = 0.25 < 0.5.
    out = update_motivation(np.array([m]), np.ones(1), np.ones(1), GAIN, LOSS)
    fixed = GAIN / (GAIN + LOSS)
    assert (out[0] - fixed) * (m - fixed) >= 0.0  # moves towards, never past, the fixed point
    assert abs(out[0] - fixed) <= abs(m - fixed) + 1e-12


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1)), rate=floats(0.001, 1))
def test_motivation_reverts_towards_the_trait_without_support_or_control(arrs, rate):
    m, trait = arrs
    zero = np.zeros_like(m)
    out = update_motivation(m, zero, zero, GAIN, LOSS, trait, rate)
    np.testing.assert_allclose(out - trait, (1.0 - rate) * (m - trait), atol=1e-12)


def test_a_steady_control_levels_off_instead_of_accumulating():
    # Without reversion a constant control erodes motivation towards 0; with it, motivation settles
    # where the pull back to the trait balances the erosion: loss*c*m = r*(trait - m).
    m0, trait, control, rate = np.array([0.5]), np.array([0.5]), np.array([0.3]), 0.01
    m_free, m_rev = m0.copy(), m0.copy()
    for _ in range(3000):
        m_free = update_motivation(m_free, np.zeros(1), control, GAIN, LOSS)
        m_rev = update_motivation(m_rev, np.zeros(1), control, GAIN, LOSS, trait, rate)
    assert m_free[0] < 0.01
    np.testing.assert_allclose(m_rev, rate * trait / (rate + LOSS * control), rtol=1e-6)

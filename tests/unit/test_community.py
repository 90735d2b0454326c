"""Community stocks (sim/rules/community.py)."""

from __future__ import annotations

import numpy as np
from _strategies import floats, same_length
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.rules.community import community_mean, update_social_capital


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1)), growth=floats(0, 1), decay=floats(0, 1))
def test_social_capital_in_unit_interval(arrs, growth, decay):
    sc, share = arrs
    out = update_social_capital(sc, share, growth, decay)
    assert np.all((out >= 0.0) & (out <= 1.0))


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1)), growth=floats(0, 1), decay=floats(0, 1))
def test_social_capital_rises_with_prosocial_share(arrs, growth, decay):
    sc, s1, s2 = arrs
    lo, hi = np.minimum(s1, s2), np.maximum(s1, s2)
    more = update_social_capital(sc, hi, growth, decay)
    less = update_social_capital(sc, lo, growth, decay)
    assert np.all(more >= less)
    strict = (hi - lo > 1e-6) & (sc < 0.99) & (growth > 1e-3) & (less > 0.0)
    assert np.all(more[strict] > less[strict])


@settings(deadline=None, max_examples=75)
@given(sc=hnp.arrays(np.float64, 10, elements=floats(0.01, 1)), decay=floats(0.001, 1))
def test_social_capital_decays_without_activity(sc, decay):
    out = update_social_capital(sc, np.zeros(10), 0.1, decay)
    assert np.all(out < sc)
    np.testing.assert_allclose(out, (1 - decay) * sc, atol=1e-12)


def test_social_capital_steady_state_at_defaults():
    # growth 0.1, decay 0.03, share 0.3: fixed point g s / (g s + d) = 0.5.
    sc = np.array([0.5])
    np.testing.assert_allclose(update_social_capital(sc, np.array([0.3]), 0.1, 0.03), sc)


@settings(deadline=None, max_examples=100)
@given(data=st.data(), n_comm=st.integers(1, 8))
def test_community_mean_matches_groupwise_mean_and_zero_for_empty(data, n_comm):
    n = data.draw(st.integers(1, 40))
    community = np.sort(data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_comm - 1))))
    values = data.draw(hnp.arrays(np.float64, n, elements=floats(-5, 5)))
    counts = np.bincount(community, minlength=n_comm).astype(np.float64)
    out = community_mean(values, community, counts)
    assert out.shape == (n_comm,)
    for c in range(n_comm):
        members = values[community == c]
        if members.size:
            assert np.isclose(out[c], members.mean())
        else:
            assert out[c] == 0.0


def test_community_mean_by_hand():
    out = community_mean(np.array([1.0, 3.0, 5.0]), np.array([0, 0, 2]), np.array([2.0, 0.0, 1.0]))
    np.testing.assert_array_equal(out, [2.0, 0.0, 5.0])


def test_community_mean_of_no_citizens_is_zero():
    out = community_mean(np.array([]), np.array([], dtype=np.int64), np.zeros(2))
    np.testing.assert_array_equal(out, [0.0, 0.0])

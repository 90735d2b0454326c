"""Service managers: allocation, payoffs and learning (sim/rules/management.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
from _strategies import DEFAULT_SHARES, arrays, default_service_params, floats, make_conditions, simplex_rows
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.rules import coproduction as cp
from sim.rules import indicators as ind
from sim.rules import management as mg

N = cp.N_ACTIVITIES


# ---------------------------------------------------------------- project_shares


@settings(deadline=None, max_examples=100)
@given(raw=hnp.arrays(np.float64, st.tuples(st.integers(1, 8), st.just(N)), elements=floats(-1, 2)))
def test_project_shares_rows_sum_to_one_and_positive(raw):
    out = mg.project_shares(raw)
    assert out.shape == raw.shape
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    assert np.all(out > 0.0)


@settings(deadline=None, max_examples=100)
@given(shares=simplex_rows(lo=0.0))
def test_project_shares_keeps_every_share_at_the_floor(shares):
    out = mg.project_shares(shares)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    assert np.all(out >= mg.SHARE_FLOOR - 1e-15)
    assert mg.project_shares(np.array([[1.0, 0, 0, 0, 0, 0]])).min() >= mg.SHARE_FLOOR - 1e-15


@settings(deadline=None, max_examples=75)
@given(shares=simplex_rows(lo=mg.SHARE_FLOOR))
def test_project_shares_identity_above_floor(shares):
    np.testing.assert_allclose(mg.project_shares(shares), shares, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- trial_allocation


@settings(deadline=None, max_examples=100)
@given(shares=simplex_rows(lo=mg.SHARE_FLOOR), activity=st.integers(0, N - 1), size=floats(0.001, 0.5))
def test_trial_allocation_on_simplex_and_raises_chosen_activity(shares, activity, size):
    before = shares.copy()
    trial = mg.trial_allocation(shares, activity, size)
    np.testing.assert_array_equal(shares, before)  # input untouched
    np.testing.assert_allclose(trial.sum(axis=1), 1.0)
    assert np.all(trial >= 0.0)
    assert np.all(trial[:, activity] > shares[:, activity])
    others = [j for j in range(N) if j != activity]
    assert np.all(trial[:, others] <= shares[:, others])


# ---------------------------------------------------------------- learn_shares


def _trial_payoffs(payoff: np.ndarray, activity: int, bonus: float) -> np.ndarray:
    trials = np.tile(payoff, (N, 1))
    trials[activity] += bonus
    return trials


@settings(deadline=None, max_examples=100)
@given(
    shares=simplex_rows(lo=0.05),
    data=st.data(),
    activity=st.integers(0, N - 1),
    bonus=floats(1e-4, 10),
    rate=floats(0.001, 1),
    max_shift=floats(0.001, 0.04),
)
def test_learn_shares_moves_towards_activity_that_paid_more(shares, data, activity, bonus, rate, max_shift):
    payoff = data.draw(arrays(shares.shape[0], -5, 5))
    size = 0.02
    new = mg.learn_shares(shares, payoff, _trial_payoffs(payoff, activity, bonus), size, rate, max_shift)
    assert np.all(new[:, activity] > shares[:, activity])
    others = [j for j in range(N) if j != activity]
    assert np.all(new[:, others] < shares[:, others])
    np.testing.assert_allclose(new.sum(axis=1), 1.0)


@settings(deadline=None, max_examples=100)
@given(
    data=st.data(),
    rate=floats(0.001, 100),
    max_shift=floats(0.0001, 0.15),
    size=floats(0.001, 0.5),
)
def test_learn_shares_never_moves_a_share_more_than_max_shift(data, rate, max_shift, size):
    # Any allocation on the floored simplex, including shares at the floor.
    shares = mg.project_shares(data.draw(simplex_rows(lo=0.0)))
    s = shares.shape[0]
    payoff = data.draw(arrays(s, -5, 5))
    trials = data.draw(hnp.arrays(np.float64, (N, s), elements=floats(-5, 5)))
    new = mg.learn_shares(shares, payoff, trials, size, rate, max_shift)
    assert np.all(np.abs(new - shares) <= max_shift + 1e-12)


@settings(deadline=None, max_examples=100)
@given(
    shares=simplex_rows(lo=0.0),
    data=st.data(),
    rate=floats(0.0, 100),
    max_shift=floats(0.0001, 1),
    size=floats(0.001, 0.5),
)
def test_learn_shares_keeps_rows_on_simplex(shares, data, rate, max_shift, size):
    s = shares.shape[0]
    payoff = data.draw(arrays(s, -5, 5))
    trials = data.draw(hnp.arrays(np.float64, (N, s), elements=floats(-5, 5)))
    new = mg.learn_shares(shares, payoff, trials, size, rate, max_shift)
    np.testing.assert_allclose(new.sum(axis=1), 1.0)
    assert np.all(new > 0.0)


@settings(deadline=None, max_examples=50)
@given(shares=simplex_rows(lo=mg.SHARE_FLOOR), data=st.data())
def test_learn_shares_no_change_when_every_trial_pays_the_same(shares, data):
    payoff = data.draw(arrays(shares.shape[0], -5, 5))
    trials = np.tile(payoff + 0.3, (N, 1))  # all better by the same amount: no direction
    np.testing.assert_allclose(mg.learn_shares(shares, payoff, trials, 0.02, 0.05, 0.03), shares, atol=1e-12)


# ---------------------------------------------------------------- service_commitment_kept / incentive


@settings(deadline=None, max_examples=75)
@given(shares=simplex_rows(), pc=floats(0, 1), gl=floats(0, 1))
def test_service_commitment_kept_in_unit_interval(shares, pc, gl):
    kept = mg.service_commitment_kept(shares, pc, gl)
    assert np.all((kept >= 0.0) & (kept <= 1.0))


def test_service_commitment_kept_by_hand():
    shares = np.array([[0.3, 0.2, 0.2, 0.12, 0.0, 0.18], [0.15, 0.3, 0.3, 0.06, 0.0, 0.19]])
    np.testing.assert_allclose(mg.service_commitment_kept(shares, 0.12, 0.3), [1.0, 0.25])


@settings(deadline=None, max_examples=100)
@given(r1=floats(0, 1), r2=floats(0, 1), target=floats(0, 1), audited=floats(0, 1), found=floats(0, 1))
def test_target_incentive_increases_with_reported_without_ratchet(r1, r2, target, audited, found):
    p = default_service_params(ratchet=False)
    c = make_conditions(
        [0], np.random.default_rng(0), targeted=np.ones(1), target=np.array([target]), audited=np.array([audited])
    )
    lo, hi = sorted((r1, r2))
    args = (np.array([0.5]), np.array([found]), np.array([0.3]), np.array([0.12]), c, p)
    inc_lo, _ = mg.incentive(np.array([lo]), *args)
    inc_hi, _ = mg.incentive(np.array([hi]), *args)
    assert inc_hi[0] >= inc_lo[0]
    # Strictly more below the reward cap; above it a better figure pays nothing more.
    if hi - lo > 1e-9 and lo < target + p.reward_cap - 1e-9:
        assert inc_hi[0] > inc_lo[0]


def test_incentive_by_hand():
    p = default_service_params(ratchet=False, reward_cap=1.0)  # reward 1, sanction 3, audit penalty 20
    c = make_conditions(
        [0, 0], np.random.default_rng(0), targeted=np.ones(2), target=np.full(2, 0.7), audited=np.array([0.0, 1.0])
    )
    args = (np.full(2, 0.5), np.array([0.5, 0.1]), np.full(2, 0.3), np.full(2, 0.12), c, p)
    inc, paid = mg.incentive(np.array([0.8, 0.6]), *args)
    np.testing.assert_allclose(inc, [0.1, -0.1 - 0.3 - 2.0])
    np.testing.assert_allclose(paid, [0.1, 0.0])  # only the reward above target is paid out
    # A missing figure (no cases) counts as on target.
    inc, paid = mg.incentive(
        np.array([np.nan, np.nan]), np.full(2, 0.5), np.zeros(2), np.full(2, 0.3), np.full(2, 0.12), c, p
    )
    np.testing.assert_allclose(inc, [0.0, 0.0])


def test_reward_stops_at_the_cap_above_the_objective():
    # A target is met or not (Bevan & Hood 2006): beyond the cap a better figure earns no more,
    # while a shortfall still costs the reward and the sanction.
    c = make_conditions([0, 0, 0], np.random.default_rng(0), targeted=np.ones(3), target=np.full(3, 0.7))
    args = (np.full(3, 0.5), np.zeros(3), np.full(3, 0.3), np.full(3, 0.12), c)
    reported = np.array([0.72, 0.9, 0.6])
    capped, paid = mg.incentive(reported, *args, default_service_params(ratchet=False, reward_cap=0.05))
    np.testing.assert_allclose(capped, [0.02, 0.05, -0.1 - 0.3])
    np.testing.assert_allclose(paid, [0.02, 0.05, 0.0])
    pass_fail, _ = mg.incentive(reported, *args, default_service_params(ratchet=False, reward_cap=0.0))
    np.testing.assert_allclose(pass_fail, [0.0, 0.0, -0.1 - 0.3])


def test_theatre_pays_unless_verification_sees_through_it():
    """A service claiming partnership it does not do is paid for the claim, or sanctioned when verified."""
    p = default_service_params(ratchet=False, partnership_pay=1.0)
    kw = {"partnership_paid": np.ones(2), "partnership_level": np.full(2, 0.2), "theatre": np.full(2, 0.5)}
    c = make_conditions([0, 0], np.random.default_rng(0), verified=np.array([0.0, 1.0]), **kw)
    args = (np.full(2, 0.5), np.zeros(2), np.full(2, 0.3))
    inc, paid = mg.incentive(np.full(2, 0.7), *args, np.full(2, 0.1), c, p)
    # Real 0.1 of 0.2 owed; half the shortfall claimed: 0.15 / 0.2 = 0.75 reported, 0.5 real.
    np.testing.assert_allclose(paid, [0.75, 0.5])
    np.testing.assert_allclose(inc, [0.75, 0.5 - 2.0 * 0.25], atol=1e-12)


def test_incentive_of_the_other_instruments_by_hand():
    """Forum observation, inspection, partnership standards and forum commitments, one service each."""
    p = default_service_params(ratchet=False, commitment_enforcement=1.0, partnership_pay=1.0)
    one, zero = np.ones(5), np.zeros(5)
    c = make_conditions(
        [0] * 5,
        np.random.default_rng(0),
        # 0: a forum objective judged on its (noiseless here) perception, legitimacy x citizens' side 0.5.
        objective_set=np.array([1.0, 0, 0, 0, 0]),
        objective=np.full(5, 0.6),
        accountability=np.array([0.5, 1, 1, 1, 1]),
        observe_forum=np.array([1.0, 0, 0, 0, 0]),
        forum_sees=one,
        # 1: functioning inspected, seen 0.05 below its true 0.2 against a guarantee of 0.3.
        inspected=np.array([0, 1.0, 0, 0, 0]),
        functioning_error=np.array([0, -0.05, 0, 0, 0]),
        # 2: a paid partnership standard half met; 3: a required one half met.
        partnership_paid=np.array([0, 0, 1.0, 0, 0]),
        partnership_required=np.array([0, 0, 0, 1.0, 0]),
        # 4: a forum commitment on functioning, 2/3 kept.
        commitments=np.array([0, 0, 0, 0, 1.0]),
    )
    reported = np.full(5, 0.9)  # ignored by the forum's perception
    functioning = np.array([0.3, 0.2, 0.3, 0.3, 0.2])
    inc, paid = mg.incentive(reported, np.full(5, 0.7), zero, functioning, np.full(5, 0.06), c, p)
    # The forum's perceived 0.7 is 0.1 above its objective, rewarded up to the cap (0.05).
    expected = [0.5 * 1.0 * min(0.7 - 0.6, p.reward_cap), -3.0 * (0.3 - 0.15) / 0.3, 0.5, -3.0 * 0.5, 0.2 / 0.3]
    np.testing.assert_allclose(inc, expected)
    np.testing.assert_allclose(paid, [expected[0], 0.0, 0.5, 0.0, 0.2 / 0.3])


# ---------------------------------------------------------------- service_month

PARAMS = default_service_params()


@st.composite
def month_inputs(draw):
    shares = draw(simplex_rows(min_rows=1, max_rows=5))
    s = shares.shape[0]
    cases = draw(hnp.arrays(np.int64, s, elements=st.integers(0, 25)))
    seed = draw(st.integers(0, 2**32 - 1))
    flags = {
        name: draw(hnp.arrays(np.float64, s, elements=st.sampled_from([0.0, 1.0])))
        for name in (
            "objective_set",
            "league_table",
            "observe_forum",
            "inspected",
            "partnership_paid",
            "partnership_required",
            "commitments",
            "audited",
            "verified",
        )
    }
    conds = make_conditions(
        cases,
        np.random.default_rng(seed),
        capacity=draw(arrays(s, 0.1, 3)),
        citizen_input=draw(arrays(s, 0, 3)),
        deprivation=draw(arrays(s)),
        shock=draw(arrays(s, -2, 2)),
        ethos=draw(arrays(s)),
        objective=draw(arrays(s)),
        accountability=draw(arrays(s)),
        forum_sees=draw(hnp.arrays(np.float64, s, elements=st.sampled_from([0.0, 1.0]))),
        perception_error=draw(arrays(s, -0.3, 0.3)),
        functioning_error=draw(arrays(s, -0.2, 0.2)),
        partnership_level=draw(arrays(s, 0, 0.5)),
        theatre=draw(arrays(s)),
        verification_error=draw(arrays(s, -0.1, 0.1)),
        **flags,
    )
    return shares, conds


@settings(deadline=None, max_examples=75)
@given(inputs=month_inputs())
def test_service_month_outputs_in_bounds(inputs):
    shares, c = inputs
    m = mg.service_month(shares, c, PARAMS)
    s = shares.shape[0]
    for arr in (m.p_measured, m.p_unmeasured, m.lived_outcome, m.commitment_kept):
        assert arr.shape == (s,)
        assert np.all((arr >= 0.0) & (arr <= 1.0))
    assert np.all(np.isfinite(m.payoff))
    has_cases = m.n_cases > 0
    for arr in (m.reported, m.true_rate, m.skimmed, m.found_share):
        assert np.all(np.isnan(arr[~has_cases]))
        ok = ~np.isnan(arr)
        assert np.all((arr[ok] >= 0.0) & (arr[ok] <= 1.0))
    assert not np.any(np.isnan(m.true_rate[has_cases]))
    assert m.recorded.shape == c.service_of_case.shape == m.kept.shape


@settings(deadline=None, max_examples=50)
@given(inputs=month_inputs())
def test_learning_from_a_month_keeps_capacity_shares_summing_to_one(inputs):
    # The model's loop: the month, six trial allocations under the same conditions, then learning.
    shares, c = inputs
    size = 0.02
    for shares_used in [mg.trial_allocation(shares, a, size) for a in range(N)] + [shares]:
        np.testing.assert_allclose(shares_used.sum(axis=1), 1.0)
    month = mg.service_month(shares, c, PARAMS)
    trials = np.stack([mg.service_month(mg.trial_allocation(shares, a, size), c, PARAMS).payoff for a in range(N)])
    new = mg.learn_shares(shares, month.payoff, trials, size, 0.05, 0.03)
    np.testing.assert_allclose(new.sum(axis=1), 1.0)
    assert np.all(new > 0.0)


def test_service_month_reported_nan_for_service_without_cases():
    shares = np.tile(DEFAULT_SHARES, (3, 1))
    c = make_conditions([20, 0, 5], np.random.default_rng(3), targeted=np.ones(3))
    m = mg.service_month(shares, c, PARAMS)
    assert np.isnan(m.reported[1]) and np.isnan(m.true_rate[1])
    assert not np.isnan(m.reported[0]) and not np.isnan(m.reported[2])
    np.testing.assert_array_equal(m.n_cases, [20, 0, 5])
    assert np.all(np.isfinite(m.payoff))


@settings(deadline=None, max_examples=50)
@given(
    seeds=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)), ethos=floats(0, 0.95), gaming=floats(0, 0.3)
)
def test_targeted_payoff_rises_with_recorded_pass_rate(seeds, ethos, gaming):
    # Same allocation and conditions, different case draws: the lived outcome is the same, only the
    # recorded figure differs, and under targets (no ratchet, no audit) a higher figure pays more.
    shares = np.tile(DEFAULT_SHARES, (4, 1))
    shares[:, cp.GAMING] = gaming
    shares = shares / shares.sum(axis=1, keepdims=True)
    p = default_service_params(ratchet=False, reward_cap=1.0)  # no cap: every better figure pays more
    months = []
    for seed in seeds:
        c = make_conditions(
            [15, 15, 15, 15],
            np.random.default_rng(seed),
            targeted=np.ones(4),
            ethos=np.full(4, ethos),
            deprivation=np.array([0.0, 0.3, 0.6, 0.9]),
        )
        months.append(mg.service_month(shares, c, p))
    a, b = months
    np.testing.assert_allclose(a.lived_outcome, b.lived_outcome)
    higher = a.reported > b.reported + 1e-12
    lower = a.reported < b.reported - 1e-12
    assert np.all(a.payoff[higher] > b.payoff[higher])
    assert np.all(a.payoff[lower] < b.payoff[lower])
    same = ~higher & ~lower
    np.testing.assert_allclose(a.payoff[same], b.payoff[same])


def test_targeted_payoff_rises_with_recorded_pass_rate_by_construction():
    # All cases drawn to pass versus all drawn to fail.
    shares = np.tile(DEFAULT_SHARES, (2, 1))
    p = default_service_params(ratchet=False)
    c = make_conditions([30, 30], np.random.default_rng(0), targeted=np.ones(2))
    passing = dataclasses.replace(c, case_noise=ind.case_noise(np.full(60, 1 - 1e-9)))
    failing = dataclasses.replace(c, case_noise=ind.case_noise(np.full(60, 1e-9)), u_move=np.ones(60))
    good, bad = mg.service_month(shares, passing, p), mg.service_month(shares, failing, p)
    np.testing.assert_allclose(good.reported, 1.0)
    np.testing.assert_allclose(bad.reported, 0.0)
    assert np.all(good.payoff > bad.payoff)


@settings(deadline=None, max_examples=30)
@given(seeds=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)))
def test_untargeted_payoff_ignores_the_recorded_figure(seeds):
    shares = np.tile(DEFAULT_SHARES, (3, 1))
    a, b = (mg.service_month(shares, make_conditions([10, 10, 10], np.random.default_rng(s)), PARAMS) for s in seeds)
    np.testing.assert_allclose(a.payoff, b.payoff)


def test_gaming_pays_under_targets_with_low_ethos_but_not_without_targets():
    # The learning signal for gaming comes from the regime, not from a switch.
    rng_seed = 11
    shares = np.tile(DEFAULT_SHARES, (3, 1))
    trial = mg.trial_allocation(shares, cp.GAMING, 0.05)
    kw = {"ethos": np.zeros(3), "deprivation": np.full(3, 0.5), "target": np.full(3, 0.9)}
    for targeted, sign in ((1.0, 1.0), (0.0, -1.0)):
        c = make_conditions([5000, 5000, 5000], np.random.default_rng(rng_seed), targeted=np.full(3, targeted), **kw)
        gain = mg.service_month(trial, c, PARAMS).payoff - mg.service_month(shares, c, PARAMS).payoff
        assert np.all(sign * gain > 0.0)

"""Forums that can work and can fail (sim/rules/forum.py)."""

from __future__ import annotations

import ast
import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
from _strategies import floats, same_length
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.rules import forum as fr

P = fr.ForumParams()
ATTEND = 0.0  # an attendance draw below any positive probability: this citizen attends
STAY = 1.0  # an attendance draw above any probability: this citizen stays at home


def one(x: float) -> np.ndarray:
    return np.array([x], dtype=np.float64)


def bargain1(p: fr.ForumParams = P, perceived=0.5, need=0.5, reach=1.0, spare=0.5, ethos=0.5) -> fr.Bargain:
    """The bargain of one service."""
    return fr.bargain(p, one(perceived), one(need), one(reach), one(spare), one(ethos))


def community(
    n: int,
    *,
    need: np.ndarray | None = None,
    experience: np.ndarray | None = None,
    resources: np.ndarray | None = None,
    n_communities: int = 1,
    community_of: np.ndarray | None = None,
    spare: float = 0.5,
    ethos: float = 0.5,
    prior: float = 0.5,
) -> tuple[fr.ForumCitizens, fr.ForumServices, np.ndarray]:
    """Citizens of ``n_communities`` communities with three services each."""
    com = np.zeros(n, dtype=np.int64) if community_of is None else community_of.astype(np.int64)
    citizens = fr.ForumCitizens(
        trust=np.full(n, 0.5),
        efficacy=np.full(n, 0.5),
        resources=np.full(n, 0.5) if resources is None else resources,
        share=np.full(n, 0.1),
        need=np.full((n, 3), 0.5) if need is None else need,
        experience=np.full((n, 3), 0.5) if experience is None else experience,
    )
    s = 3 * n_communities
    services = fr.ForumServices(
        community=np.repeat(np.arange(n_communities), 3).astype(np.int64),
        domain=np.tile(np.arange(3), n_communities).astype(np.int64),
        lived=np.full(s, 0.5),
        spare=np.full(s, spare),
        ethos=np.full(s, ethos),
        prior=np.full(s, prior),
    )
    return citizens, services, com


def run(
    citizens: fr.ForumCitizens,
    services: fr.ForumServices,
    com: np.ndarray,
    attend: np.ndarray,
    *,
    p: fr.ForumParams = P,
    due: np.ndarray | None = None,
    z: np.ndarray | None = None,
    support: float = 0.0,
) -> fr.ForumRound:
    n_c = int(services.community.max()) + 1 if services.community.size else 0
    draws = fr.ForumDraws(attend=attend, perception=np.zeros(services.community.shape[0]) if z is None else z)
    return fr.forum_round(
        p, citizens, services, com, np.ones(n_c, dtype=bool) if due is None else due, draws, support=support
    )


# --- purity -------------------------------------------------------------------------------


def test_module_imports_only_numpy_and_the_rules_own_modules():
    tree = ast.parse(Path(fr.__file__).read_text())
    imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    # sim.rules for its portable (CPU-independent) functions; no Mesa, no config.
    assert imported <= {"__future__", "dataclasses", "numpy", "sim.rules", "sim.rules._types"}, imported


# --- attendance ---------------------------------------------------------------------------


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1)), base=floats(0, 1), support=floats(0, 1))
def test_attendance_probability_in_unit_interval(arrs, base, support):
    prob = fr.attendance_probability(dataclasses.replace(P, attend_base=base), *arrs, support=support)
    assert np.all((prob >= 0.0) & (prob <= 1.0))
    assert not np.isnan(prob).any()


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1), (0, 1)), which=st.integers(0, 2), support=floats(0, 0.99))
def test_better_off_confident_trusting_residents_attend_more(arrs, which, support):
    a, b, other1, other2 = arrs
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    args_lo, args_hi = [other1, other2], [other1, other2]
    args_lo.insert(which, lo)
    args_hi.insert(which, hi)
    p_lo = fr.attendance_probability(P, *args_lo, support=support)
    p_hi = fr.attendance_probability(P, *args_hi, support=support)
    assert np.all(p_hi >= p_lo)
    apart = hi - lo > 1e-3
    assert np.all(p_hi[apart] > p_lo[apart])


def test_support_raises_attendance_and_narrows_the_resource_gap():
    res = np.array([0.0, 1.0])
    mid = np.full(2, 0.5)
    no = fr.attendance_probability(P, res, mid, mid, support=0.0)
    full = fr.attendance_probability(P, res, mid, mid, support=1.0)
    assert np.all(full > no)
    assert full[1] / full[0] < no[1] / no[0]
    # A middling resident attends at the base rate.
    np.testing.assert_allclose(fr.attendance_probability(P, one(0.5), one(0.5), one(0.5), 0.0), P.attend_base)


def test_attendance_base_zero_and_one_are_exact():
    x = np.linspace(0, 1, 5)
    assert np.all(fr.attendance_probability(dataclasses.replace(P, attend_base=0.0), x, x, x, 1.0) == 0.0)
    assert np.all(fr.attendance_probability(dataclasses.replace(P, attend_base=1.0), x, x, x, 0.0) == 1.0)


def test_attenders_are_better_off_than_the_community_they_speak_for():
    rng = np.random.default_rng(3)
    n = 20_000
    resources = rng.random(n)
    citizens, services, com = community(n, resources=resources)
    out = run(citizens, services, com, rng.random(n))
    assert 0.02 < out.turnout[0] < 0.12  # around the base rate
    assert resources[out.attended].mean() > resources.mean() + 0.05
    # With full support the skew shrinks.
    supported = run(citizens, services, com, rng.random(n), support=1.0)
    assert resources[supported.attended].mean() - resources.mean() < resources[out.attended].mean() - resources.mean()


def test_resources_index_bounds_and_direction():
    budget = np.array([0.0, 30.0, 60.0, 600.0])
    dep = np.array([1.0, 0.5, 0.5, 0.0])
    need = np.array([1.0, 0.5, 0.5, 0.0])
    r = fr.resources_index(budget, dep, need, budget_ref=30.0)
    np.testing.assert_allclose(r, [0.0, 0.5, 2.0 / 3.0, 1.0])
    assert np.all(np.diff(r) > 0)


# --- perception ---------------------------------------------------------------------------


@settings(deadline=None, max_examples=100)
@given(
    arrs=same_length((0, 1), (0, 1), (0, 1), (-4, 4)),
    n=st.integers(0, 10_000),
    bias=floats(0, 1),
)
def test_perception_in_bounds_and_prior_without_attenders(arrs, n, bias):
    a, m, prior, z = arrs
    p = dataclasses.replace(P, bias_weight=bias)
    out = fr.perceived_outcome(p, a, m, np.full(a.shape, float(n)), z, prior)
    assert np.all((out >= 0) & (out <= 1))
    if n == 0:
        np.testing.assert_array_equal(out, prior)


@settings(deadline=None, max_examples=100)
@given(n1=st.integers(1, 5000), n2=st.integers(1, 5000), z=floats(-3, 3), floor=floats(0, 0.1))
def test_perception_noise_falls_with_attenders(n1, n2, z, floor):
    p = dataclasses.replace(P, noise_floor=floor)
    lo, hi = min(n1, n2), max(n1, n2)
    truth = one(0.5)
    err_lo = abs(fr.perceived_outcome(p, truth, truth, one(lo), one(z), truth)[0] - 0.5)
    err_hi = abs(fr.perceived_outcome(p, truth, truth, one(hi), one(z), truth)[0] - 0.5)
    assert err_hi <= err_lo + 1e-12
    # The error is |z| sqrt(sd1^2/n + floor^2), clipped where the reading hits 0 or 1.
    expected = min(0.5, abs(z) * np.sqrt(p.noise_sd_one**2 / lo + floor**2))
    assert err_lo == pytest.approx(expected)


def test_perception_is_biased_towards_attenders_and_unbiased_when_all_attend():
    a, m = one(0.9), one(0.5)
    out = fr.perceived_outcome(P, a, m, one(10), one(0.0), one(0.0))
    assert out[0] == pytest.approx(P.bias_weight * 0.9 + (1 - P.bias_weight) * 0.5)
    # Everyone attends: the attenders' mean is the community's, so only noise remains.
    n = 300
    exp = np.tile(np.linspace(0.1, 0.9, n)[:, None], (1, 3))
    citizens, services, com = community(n, experience=exp)
    res = run(citizens, services, com, np.full(n, ATTEND), p=dataclasses.replace(P, attend_base=0.99))
    assert res.attended.all()
    np.testing.assert_allclose(res.perceived, exp.mean())


# --- bargaining ---------------------------------------------------------------------------


def nash_score(p, b, perceived, need, reach, spare, ethos):
    """Brute-force Nash score of every grid deal, for checking the vectorised argmax."""
    k = p.grid_points
    p_max = min(p.partnership_max, spare)
    best = -np.inf
    for i in range(k):
        for j in range(k):
            pp, ee = p_max * i / (k - 1), p.contribution_max * j / (k - 1)
            e_eff = ee * reach
            ces = 2 * pp * e_eff / (pp + e_eff) if pp + e_eff > 0 else 0.0
            g = (1 - perceived) * min(1.0, p.outcome_gain * ces)
            v_s = p.service_value * (1 - p.ethos_weight + p.ethos_weight * ethos)
            sc = p.citizen_value * need * g - p.citizen_cost * ee**2 - p.citizen_outside
            ss = v_s * g - p.service_cost * pp**2 - p.service_outside
            if sc > 0 and ss > 0:
                best = max(best, p.citizen_power * np.log(sc) + (1 - p.citizen_power) * np.log(ss))
    return best


@settings(deadline=None, max_examples=60)
@given(
    perceived=floats(0, 1),
    need=floats(0, 1),
    reach=floats(0, 1),
    spare=floats(0, 1),
    ethos=floats(0, 1),
    alpha=floats(0, 1),
    d_c=floats(0, 0.05),
    d_s=floats(0, 0.05),
)
def test_bargain_is_the_nash_solution_of_the_grid(perceived, need, reach, spare, ethos, alpha, d_c, d_s):
    p = dataclasses.replace(P, citizen_power=alpha, citizen_outside=d_c, service_outside=d_s, grid_points=9)
    b = bargain1(p, perceived, need, reach, spare, ethos)
    best = nash_score(p, b, perceived, need, reach, spare, ethos)
    assert bool(b.feasible[0]) == np.isfinite(best)
    if b.feasible[0]:
        assert b.surplus_citizens[0] > 0 and b.surplus_service[0] > 0
        got = alpha * np.log(b.surplus_citizens[0]) + (1 - alpha) * np.log(b.surplus_service[0])
        assert got == pytest.approx(best, abs=1e-9)
        assert 0 < b.gain[0] <= 1 - perceived
        assert 0 < b.partnership[0] <= min(p.partnership_max, spare) + 1e-12
        assert 0 < b.contribution[0] <= p.contribution_max + 1e-12
    else:
        assert b.gain[0] == b.partnership[0] == b.contribution[0] == 0.0


def test_bargain_in_blocks_equals_bargain_in_one(monkeypatch):
    rng = np.random.default_rng(2)
    s = 50
    args = (rng.random(s), rng.random(s), rng.random(s), rng.random(s) * 0.5, rng.random(s))
    whole = fr.bargain(P, *args)
    monkeypatch.setattr(fr, "BARGAIN_BLOCK", 7)
    blocked = fr.bargain(P, *args)
    assert whole.feasible.sum() > s // 2
    for field in dataclasses.fields(whole):
        np.testing.assert_array_equal(getattr(whole, field.name), getattr(blocked, field.name))


def test_i_representative_attendance_and_real_surplus_give_an_ambitious_deal():
    rng = np.random.default_rng(0)
    n = 2000
    citizens, services, com = community(n)
    # Everyone alike (no capture) and a turnout at which attenders reach the whole community
    # (organisers who each reach ten residents, above the household default).
    p = dataclasses.replace(P, attend_base=0.15, contribution_reach=10.0)
    res = run(citizens, services, com, rng.random(n), p=p)
    assert res.turnout[0] * p.contribution_reach >= 1.0
    assert res.in_force.all()
    # Headroom is 0.5; the deal promises a rise of over a tenth of it in every domain.
    assert np.all(res.ambition > 0.05)
    assert np.all(res.partnership > 0) and np.all(res.contribution > 0)
    np.testing.assert_allclose(res.objective, res.perceived + res.ambition)


def two_groups(n: int = 400):
    """Half better off (need domain 0, live domain 2 well), half worse off (need domain 1)."""
    rich = np.arange(n) < n // 2
    need = np.where(rich[:, None], [0.8, 0.2, 0.5], [0.2, 0.8, 0.5])
    exp = np.where(rich[:, None], [0.5, 0.5, 0.8], [0.5, 0.5, 0.3])
    resources = np.where(rich, 0.9, 0.1)
    return rich, community(n, need=need, experience=exp, resources=resources)


def test_ii_representative_forum_treats_both_groups_needs_alike():
    rich, (citizens, services, com) = two_groups()
    res = run(citizens, services, com, np.full(rich.shape, ATTEND), p=dataclasses.replace(P, attend_base=0.999))
    assert res.attended.all()
    assert res.ambition[0] == pytest.approx(res.ambition[1])
    assert res.perceived[2] == pytest.approx(0.55)


def test_ii_captured_forum_skews_the_deal_to_attenders_needs_and_experience():
    rich, (citizens, services, com) = two_groups()
    res = run(citizens, services, com, np.where(rich, ATTEND, STAY))
    assert res.attended.sum() == rich.sum()
    assert res.in_force[:2].all()
    # The attenders' domain gets the ambitious deal, the absent group's domain a weak one.
    assert res.ambition[0] > 2 * res.ambition[1]
    # The forum reads domain 2 by the attenders' good experience, above what residents live.
    assert res.perceived[2] > 0.55 + 0.15
    # So it asks less of that service than a representative forum would.
    repr_ = run(citizens, services, com, np.full(rich.shape, ATTEND), p=dataclasses.replace(P, attend_base=0.999))
    assert res.ambition[2] < repr_.ambition[2]


def test_ii_low_turnout_gives_a_small_deal():
    # The citizens' input counts only as far as attenders reach the community.
    full, low = bargain1(reach=1.0), bargain1(reach=0.2)
    assert low.feasible[0] and full.feasible[0]
    assert low.gain[0] < 0.25 * full.gain[0]


@pytest.mark.parametrize("side", ["citizen_cost", "service_cost"])
def test_iii_high_costs_give_a_low_ambition_deal(side):
    gains = [bargain1(dataclasses.replace(P, **{side: c})).gain[0] for c in (0.5, 1.0, 2.0, 4.0, 8.0)]
    assert all(g > 0 for g in gains)
    assert all(a > b for a, b in itertools.pairwise(gains))
    assert gains[-1] < 0.35 * gains[1]


def test_iii_a_service_with_little_stake_gives_a_low_ambition_deal():
    gains = [bargain1(ethos=e).gain[0] for e in (1.0, 0.5, 0.0)]
    assert gains[0] > gains[1] > gains[2] > 0
    weak = bargain1(dataclasses.replace(P, service_value=0.3)).gain[0]
    assert 0 < weak < 0.6 * bargain1().gain[0]


def test_iii_a_weak_outside_option_or_weak_power_shifts_the_deal_against_that_side():
    # Citizens with no alternative get less partnership from the service than citizens with one.
    weak, strong = bargain1(), bargain1(dataclasses.replace(P, citizen_outside=0.02))
    assert weak.partnership[0] < strong.partnership[0]
    # Weak bargaining power: the citizens carry more of the work and get less partnership.
    lo, hi = (bargain1(dataclasses.replace(P, citizen_power=a)) for a in (0.1, 0.9))
    assert lo.contribution[0] > hi.contribution[0]
    assert lo.partnership[0] < hi.partnership[0]


@pytest.mark.parametrize(
    "case",
    [
        {"p": dataclasses.replace(P, citizen_value=0.0)},  # attenders gain nothing
        {"need": 0.0},  # attenders have no need of this service
        {"spare": 0.0},  # the service has no capacity to commit
        {"perceived": 1.0},  # nothing left to improve
        {"p": dataclasses.replace(P, service_outside=0.2)},  # the service does better alone
        {"p": dataclasses.replace(P, citizen_outside=0.2)},  # the attenders do better alone
        {"reach": 0.0},  # citizens' input reaches no one
    ],
)
def test_iv_no_surplus_no_agreement(case):
    b = bargain1(**case)
    assert not b.feasible[0]
    assert b.gain[0] == b.partnership[0] == b.contribution[0] == b.surplus_citizens[0] == 0.0


# --- the round: quorum, edges, hours, commitments -----------------------------------------


def test_one_attender_makes_no_agreement_unless_the_minimum_is_one():
    n = 50
    citizens, services, com = community(n)
    attend = np.full(n, STAY)
    attend[7] = ATTEND
    res = run(citizens, services, com, attend)
    assert res.attenders[0] == 1 and not res.in_force.any()
    assert not res.committed.any()
    np.testing.assert_array_equal(res.citizen_commitment, citizens.share)
    loose = run(citizens, services, com, attend, p=dataclasses.replace(P, min_attenders=1))
    assert loose.in_force.all()
    assert loose.committed.sum() == 1 and loose.committed[7]


def test_below_quorum_no_agreement():
    n = 1000
    citizens, services, com = community(n)
    attend = np.where(np.arange(n) < 5, ATTEND, STAY)  # 0.5 % turnout, 5 attenders
    # Attenders who reach enough residents for a deal to pay, so that only the quorum decides.
    reach = dataclasses.replace(P, contribution_reach=10.0)
    assert not run(citizens, services, com, attend, p=reach).in_force.any()
    assert run(citizens, services, com, attend, p=dataclasses.replace(reach, quorum=0.005)).in_force.any()


def test_empty_and_not_due_communities():
    # Community 1 has no residents; community 2 is not due.
    com = np.array([0] * 30 + [2] * 30)
    citizens, services, _ = community(60, n_communities=3, community_of=com, prior=0.4)
    due = np.array([True, True, False])
    res = run(citizens, services, com, np.full(60, ATTEND), p=dataclasses.replace(P, attend_base=0.999), due=due)
    assert res.turnout[1] == 0.0 and res.attenders[1] == 0.0
    assert not res.attended[com == 2].any()
    assert res.in_force[:3].all() and not res.in_force[3:].any()
    np.testing.assert_array_equal(res.perceived[3:], 0.4)
    np.testing.assert_array_equal(res.staff_hours[6:], 0.0)
    np.testing.assert_array_equal(res.staff_hours[3:6], P.staff_hours_meeting)  # met, no one came
    np.testing.assert_allclose(res.staff_hours[:3], P.staff_hours_meeting + P.staff_hours_attender * 30)
    np.testing.assert_array_equal(res.citizen_hours, np.where(res.attended, P.citizen_hours, 0.0))


def test_no_citizens_at_all():
    citizens, services, com = community(0)
    res = run(citizens, services, com, np.zeros(0))
    assert res.attended.shape == (0,) and res.turnout[0] == 0.0 and not res.in_force.any()
    np.testing.assert_array_equal(res.perceived, services.prior)


def test_commitments_bind_attenders_only_and_add_the_agreed_extras():
    rng = np.random.default_rng(1)
    n = 3000
    citizens, services, com = community(n)
    res = run(citizens, services, com, rng.random(n))
    assert res.in_force.all()
    np.testing.assert_array_equal(res.committed, res.attended)
    np.testing.assert_allclose(res.citizen_commitment[res.attended], np.minimum(1.0, 0.1 + res.contribution.sum()))
    np.testing.assert_array_equal(res.citizen_commitment[~res.attended], 0.1)


@settings(deadline=None, max_examples=60)
@given(
    data=st.data(),
    n=st.integers(0, 60),
    n_c=st.integers(1, 4),
    support=floats(0, 1),
    base=floats(0, 1),
)
def test_round_outputs_are_bounded_and_nan_free(data, n, n_c, support, base):
    def u(shape, lo=0.0, hi=1.0):
        return data.draw(hnp.arrays(np.float64, shape, elements=floats(lo, hi)))

    com = np.sort(data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_c - 1))))
    citizens = fr.ForumCitizens(
        trust=u(n), efficacy=u(n), resources=u(n), share=u(n), need=u((n, 3)), experience=u((n, 3))
    )
    s = 3 * n_c
    services = fr.ForumServices(
        community=np.repeat(np.arange(n_c), 3),
        domain=np.tile(np.arange(3), n_c),
        lived=u(s),
        spare=u(s),
        ethos=u(s),
        prior=u(s),
    )
    due = data.draw(hnp.arrays(np.bool_, n_c))
    draws = fr.ForumDraws(attend=u(n), perception=u(s, -4.0, 4.0))
    p = dataclasses.replace(P, attend_base=base, min_attenders=1, quorum=0.0)
    res = fr.forum_round(p, citizens, services, com, due, draws, support=support)
    for field in dataclasses.fields(res):
        value = np.asarray(getattr(res, field.name), dtype=np.float64)
        assert not np.isnan(value).any(), field.name
    for name in ("turnout", "perceived", "objective", "partnership", "contribution", "citizen_commitment"):
        v = getattr(res, name)
        assert np.all((v >= 0) & (v <= 1)), name
    assert np.all(res.objective >= res.perceived)
    assert np.all(res.citizen_commitment >= citizens.share)
    assert not (res.in_force & ~res.due_service).any()
    assert not (res.attended & ~due[com]).any()
    np.testing.assert_array_equal(res.perceived[~res.due_service], services.prior[~res.due_service])
    np.testing.assert_array_equal(res.attenders, np.bincount(com[res.attended], minlength=n_c))


def test_same_draws_same_round():
    rng = np.random.default_rng(5)
    n = 500
    citizens, services, com = community(n, resources=rng.random(n))
    attend, z = rng.random(n), rng.standard_normal(3)
    a = run(citizens, services, com, attend, z=z)
    b = run(citizens, services, com, attend.copy(), z=z.copy())
    for field in dataclasses.fields(a):
        np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name))


# --- theatre, breakage, verification --------------------------------------------------------


@settings(deadline=None, max_examples=100)
@given(e1=floats(0, 1), e2=floats(0, 1), r1=floats(0, 1), r2=floats(0, 1))
def test_theatre_falls_with_ethos_and_verification(e1, e2, r1, r2):
    lo_e, hi_e = sorted((e1, e2))
    lo_r, hi_r = sorted((r1, r2))
    t = lambda e, r: fr.theatre_share(P, one(e), r)[0]  # noqa: E731
    assert t(hi_e, lo_r) <= t(lo_e, lo_r)
    assert t(lo_e, hi_r) <= t(lo_e, lo_r)
    assert 0.0 <= t(lo_e, lo_r) <= P.theatre_max
    assert t(1.0, 0.0) == 0.0


def test_theatre_exists_without_verification_and_enough_verification_stops_it():
    assert fr.theatre_share(P, one(0.2), 0.0)[0] == pytest.approx(0.8)
    deterring = 1.0 / ((1 - P.verification_miss) * P.theatre_sanction)
    assert fr.theatre_share(P, one(0.0), deterring)[0] == 0.0


@settings(deadline=None, max_examples=100)
@given(
    arrs=same_length((0, 1), (0, 1), (0, 2), (0, 1), (0, 1)),
    rate=floats(0, 1),
)
def test_service_delivery_bounds(arrs, rate):
    committed, spare, shock, budget, ethos = arrs
    d = fr.service_commitments_kept(P, committed, spare, shock, budget, ethos, rate)
    assert np.all(d.real <= d.deliverable + 1e-12)
    assert np.all(d.deliverable <= committed + 1e-12)
    assert np.all(d.reported >= d.real - 1e-12)
    assert np.all(d.reported <= committed + 1e-12)
    for v in (d.kept_true, d.kept_reported):
        assert np.all((v >= 0) & (v <= 1))
    assert np.all(d.kept_reported >= d.kept_true - 1e-12)
    assert not np.isnan(d.kept_true).any()


def test_commitments_break_on_shocks_capacity_and_budget():
    c = np.full(4, 0.2)
    spare = np.array([0.5, 0.1, 0.5, 0.5])
    shock = np.array([0.0, 0.0, 0.8, 0.0])
    budget = np.array([1.0, 1.0, 1.0, 0.2])
    d = fr.service_commitments_kept(P, c, spare, shock, budget, np.ones(4), 0.0)
    np.testing.assert_allclose(d.kept_true, [1.0, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(d.kept_reported, d.kept_true)  # an honest service reports the breakage
    # A performing service reports the commitment kept while doing less.
    faker = fr.service_commitments_kept(P, c, spare, shock, budget, np.zeros(4), 0.0)
    np.testing.assert_allclose(faker.kept_reported, 1.0)
    assert np.all(faker.real == 0.0)
    # Nothing committed: nothing to break.
    none = fr.service_commitments_kept(P, np.zeros(2), np.zeros(2), np.ones(2), np.zeros(2), np.zeros(2), 0.0)
    np.testing.assert_array_equal(none.kept_true, 1.0)


def test_personal_experience_follows_need_within_a_community():
    lived = np.full((4, 3), 0.6)
    need = np.array([[0.2] * 3, [0.6] * 3, [0.5] * 3, [0.5] * 3])
    community = np.array([0, 0, 1, 1])
    out = fr.personal_experience(lived, need, community, 2, 1.0)
    # Community 0: mean need 0.4, so the needier resident meets 0.4 and the other 0.8.
    np.testing.assert_allclose(out[:2, 0], [0.8, 0.4])
    np.testing.assert_allclose(out[2:], 0.6)  # equal needs: everyone meets the lived outcome
    np.testing.assert_allclose(fr.personal_experience(lived, need, community, 2, 0.0), lived)


@settings(deadline=None, max_examples=100)
@given(arrs=same_length((0, 1), (0, 1), (0, 1)), weight=st.floats(0, 2))
def test_personal_experience_is_bounded_and_centred(arrs, weight):
    lived1, need1, split = arrs
    n = lived1.shape[0]
    community = (split > 0.5).astype(np.intp)
    lived = np.repeat(np.where(community == 0, 0.5, 0.7)[:, None], 3, axis=1)
    need = np.repeat(need1[:, None], 3, axis=1)
    out = fr.personal_experience(lived, need, community, 2, weight)
    assert out.shape == (n, 3) and np.all((out >= 0) & (out <= 1))
    # Before clipping, the deviations from the lived outcome average zero in each community.
    for c in (0, 1):
        members = community == c
        if members.any() and np.all((out[members] > 0) & (out[members] < 1)):
            assert out[members, 0].mean() == pytest.approx(lived[members, 0].mean(), abs=1e-9)


def test_verification_rate_zero_checks_nothing_and_costs_nothing():
    d = fr.service_commitments_kept(P, np.full(3, 0.2), np.full(3, 0.5), np.zeros(3), np.ones(3), np.zeros(3), 0.0)
    v = fr.verify_commitments(P, d, np.full(3, 0.2), 0.0, np.zeros(3), np.zeros(3), np.zeros(3))
    assert not v.checked.any()
    np.testing.assert_allclose(v.assessed_kept, d.kept_reported)
    assert v.staff_hours.sum() == 0.0


def test_perfect_verification_sees_through_theatre_at_a_cost():
    p = dataclasses.replace(P, verification_miss=0.0, verification_error=0.0)
    c = np.array([0.2, 0.2, 0.0])
    d = fr.service_commitments_kept(p, c, np.full(3, 0.5), np.zeros(3), np.ones(3), np.array([0.0, 1.0, 0.0]), 0.0)
    v = fr.verify_commitments(p, d, c, 1.0, np.zeros(3), np.zeros(3), np.zeros(3))
    np.testing.assert_array_equal(v.checked, [True, True, False])  # no commitment, nothing to check
    np.testing.assert_allclose(v.found, [0.2, 0.0, 0.0])
    np.testing.assert_allclose(v.assessed_kept, [0.0, 1.0, 1.0])
    np.testing.assert_allclose(v.staff_hours, [p.verification_hours, p.verification_hours, 0.0])


def test_verification_checks_about_its_rate_and_misses_about_its_miss_rate():
    rng = np.random.default_rng(11)
    s = 40_000
    c = np.full(s, 0.2)
    d = fr.service_commitments_kept(P, c, np.full(s, 0.5), np.zeros(s), np.ones(s), np.zeros(s), 0.0)
    v = fr.verify_commitments(P, d, c, 0.1, rng.random(s), rng.random(s), rng.standard_normal(s))
    assert v.checked.mean() == pytest.approx(0.1, abs=0.01)
    caught = (v.found > 0.1)[v.checked].mean()
    assert caught == pytest.approx(1 - P.verification_miss, abs=0.03)


def test_forum_params_are_documented_with_a_source_or_as_stylised():
    text = Path(fr.__file__).read_text()
    tree = ast.parse(text)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ForumParams")
    body = cls.body
    for i, node in enumerate(body):
        if isinstance(node, ast.AnnAssign):
            doc = body[i + 1]
            assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant), node.target.id
            words = doc.value.value.lower()
            assert any(w in words for w in ("stylised", "source", "approximate", "numerical", "19", "20")), (
                node.target.id
            )

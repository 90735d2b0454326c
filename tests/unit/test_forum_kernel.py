"""The fused driver's forum kernels (sim/kernels.py) against the numpy rules of sim/rules/forum.py, bit for bit.

``kernels.forum_round`` and ``kernels.forum_inputs`` must give every bit of ``forum.forum_round``,
``forum.personal_experience`` and ``forum.resources_index`` (the numpy rules are the oracle), on random
rounds and on the bargain's edges: no feasible deal (zero or negative surpluses, no spare
capacity, outside options above any gain), ties on the grid (numpy's argmax takes the first),
and non-finite scores (the first NaN wins, an infinite score is no deal).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import kernels
from sim.rules import forum as fr

P = fr.ForumParams()


def assert_same_bits(expected: np.ndarray, got: np.ndarray, name: str) -> None:
    expected, got = np.asarray(expected), np.asarray(got)
    assert expected.dtype == got.dtype and expected.shape == got.shape, (name, expected.dtype, got.dtype)
    assert np.array_equal(expected.view(np.uint8), got.view(np.uint8)), (name, expected, got)


def assert_same_round(expected: fr.ForumRound, got: fr.ForumRound) -> None:
    for field in dataclasses.fields(fr.ForumRound):
        assert_same_bits(getattr(expected, field.name), getattr(got, field.name), field.name)


def one_bargain(p: fr.ForumParams, perceived: float, need: float, reach: float, spare: float, ethos: float) -> tuple:
    """``kernels._bargain_one`` for one service, as the round kernel calls it."""
    params, unit, ee, cost_c = kernels._forum_constants(p, 0.0)
    scratch = np.empty((3, unit.shape[0] ** 2))
    return kernels._bargain_one(perceived, need, reach, spare, ethos, unit, ee, cost_c, params, scratch)


def assert_same_bargain(p: fr.ForumParams, *columns: np.ndarray) -> fr.Bargain:
    """The kernel's bargain of each service equals ``forum.bargain`` of the whole array."""
    with np.errstate(all="ignore"):
        expected = fr.bargain(p, *columns)
        got = [one_bargain(p, *(float(c[s]) for c in columns)) for s in range(columns[0].shape[0])]
    names = ["feasible", "partnership", "contribution", "gain", "surplus_citizens", "surplus_service"]
    for k, name in enumerate(names):
        dtype = bool if name == "feasible" else np.float64
        assert_same_bits(getattr(expected, name), np.array([g[k] for g in got], dtype=dtype), name)
    return expected


# --- random rounds -------------------------------------------------------------------------------

unit_floats = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)


@st.composite
def forum_params(draw: st.DrawFn) -> fr.ForumParams:
    """Forum constants around the defaults, edges included (no attendance, everyone, zero power)."""
    return dataclasses.replace(
        P,
        attend_base=draw(st.sampled_from([0.0, 1.0, 0.05, 0.3]) | unit_floats),
        support_lift=draw(st.sampled_from([0.0, 1.0, 3.0])),
        quorum=draw(st.sampled_from([0.0, 0.01, 0.2])),
        min_attenders=draw(st.integers(0, 4)),
        citizen_power=draw(st.sampled_from([0.0, 0.5, 1.0]) | unit_floats),
        citizen_outside=draw(st.sampled_from([0.0, 0.0, 0.05, 1.0])),
        service_outside=draw(st.sampled_from([0.0, 0.0, 0.02, 1.0])),
        citizen_cost=draw(st.sampled_from([0.0, 1.0, 5.0])),
        service_cost=draw(st.sampled_from([0.0, 1.0, 5.0])),
        outcome_gain=draw(st.sampled_from([0.0, 1.0, 50.0])),
        partnership_max=draw(st.sampled_from([0.0, 0.3, 1.0])),
        grid_points=draw(st.sampled_from([2, 3, 7, 21])),
        bias_weight=draw(unit_floats),
        need_experience=draw(st.sampled_from([0.0, 1.0, 2.0])),
    )


@st.composite
def rounds(draw: st.DrawFn) -> tuple:
    """A random round: citizens in C communities (some empty), three services each."""
    n_c = draw(st.integers(1, 4))
    n = draw(st.integers(1, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    com = np.sort(rng.integers(0, n_c, n)).astype(np.int64)
    need = rng.random((n, 3))
    need[rng.random((n, 3)) < 0.1] = 0.0
    lived = rng.random((n_c, 3))
    s = 3 * n_c
    spare = rng.random(s)
    spare[rng.random(s) < 0.2] = 0.0  # no capacity to commit: no deal
    services = fr.ForumServices(
        community=np.repeat(np.arange(n_c), 3).astype(np.int64),
        domain=np.tile(np.arange(3), n_c).astype(np.int64),
        lived=lived.ravel(),
        spare=spare,
        ethos=rng.random(s),
        prior=np.where(rng.random(s) < 0.2, 1.0, rng.random(s)),  # perceived 1: no headroom, no gain
    )
    citizens = fr.ForumCitizens(
        trust=rng.random(n),
        efficacy=rng.random(n),
        resources=rng.random(n),
        share=rng.random(n),
        need=need,
        experience=np.clip(lived[com] + 0.3 * rng.standard_normal((n, 3)), 0.0, 1.0),
    )
    draws = fr.ForumDraws(attend=rng.random(n) * draw(st.sampled_from([0.1, 1.0])), perception=rng.standard_normal(s))
    due = rng.random(n_c) < draw(st.sampled_from([0.5, 1.0]))
    support = draw(st.sampled_from([0.0, 1.0]) | unit_floats)
    return citizens, services, com, due, draws, support


@settings(max_examples=300, deadline=None)
@given(forum_params(), rounds())
def test_the_round_kernel_gives_the_rules_bits(p: fr.ForumParams, round_: tuple) -> None:
    citizens, services, com, due, draws, support = round_
    expected = fr.forum_round(p, citizens, services, com, due, draws, support=support)
    got = kernels.forum_round(p, citizens, services, com, due, draws, support=support)
    assert_same_round(expected, got)


@settings(max_examples=150, deadline=None)
@given(rounds(), st.sampled_from([0.0, 1.0, 2.0]), st.sampled_from(["random", "zero", "ties", "nan"]))
def test_the_inputs_kernel_gives_the_rules_bits(round_: tuple, weight: float, budgets: str) -> None:
    """Experience and the resources index; budgets with a zero median, repeated values, or a NaN."""
    citizens, services, com, *_ = round_
    n = com.shape[0]
    rng = np.random.default_rng(n)
    lived = services.lived.reshape(-1, 3)
    budget = {
        "random": rng.random(n) * 60.0,
        "zero": np.where(rng.random(n) < 0.6, 0.0, 20.0),
        "ties": rng.integers(0, 3, n) * 10.0,
        "nan": np.where(np.arange(n) == n // 2, np.nan, rng.random(n) * 60.0),
    }[budgets]
    deprivation = rng.random(lived.shape[0])
    own_need = citizens.need.mean(axis=1)
    p = dataclasses.replace(P, need_experience=weight)
    experience, resources = kernels.forum_inputs(lived, citizens.need, com, budget, deprivation, own_need, p)
    expected = fr.personal_experience(lived[com], citizens.need, com, lived.shape[0], weight)
    assert_same_bits(expected, experience, "experience")
    with np.errstate(all="ignore"):
        ref = float(np.median(budget))
        assert_same_bits(fr.resources_index(budget, deprivation[com], own_need, ref), resources, "resources")


def test_a_busy_round_at_the_models_size() -> None:
    """2,000 citizens in 20 communities, most due and quorate: many bargains, many deals."""
    rng = np.random.default_rng(3)
    n, n_c = 2000, 20
    com = np.sort(rng.integers(0, n_c, n)).astype(np.int64)
    s = 3 * n_c
    citizens = fr.ForumCitizens(
        *(rng.random(n) for _ in range(4)), need=rng.random((n, 3)), experience=rng.random((n, 3))
    )
    spare = rng.random(s)
    spare[::7] = 0.0  # some services have nothing to commit: no deal there
    services = fr.ForumServices(
        np.repeat(np.arange(n_c), 3).astype(np.int64),
        np.tile(np.arange(3), n_c).astype(np.int64),
        lived=rng.random(s),
        spare=spare,
        ethos=rng.random(s),
        prior=rng.random(s),
    )
    draws = fr.ForumDraws(attend=rng.random(n) * 0.2, perception=rng.standard_normal(s))
    due = rng.random(n_c) < 0.8
    expected = fr.forum_round(P, citizens, services, com, due, draws, support=0.4)
    assert expected.in_force.sum() > 20 and (~expected.in_force & expected.due_service).any()
    assert_same_round(expected, kernels.forum_round(P, citizens, services, com, due, draws, support=0.4))


# --- the bargain's edges ------------------------------------------------------------------------


def test_no_feasible_deal_gives_no_agreement_and_zeros() -> None:
    """Zero need, no headroom, no spare capacity, outside options above any gain: no deal, as the rule."""
    perceived = np.array([0.5, 1.0, 0.5, 0.5, 0.5, 1.5, -0.5])
    need = np.array([0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    reach = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    spare = np.array([0.5, 0.5, 0.0, 0.5, -0.2, 0.5, 0.5])
    ethos = np.full(7, 0.5)
    out = assert_same_bargain(P, perceived, need, reach, spare, ethos)
    assert not out.feasible[:5].any() and out.feasible[6]
    outside = dataclasses.replace(P, citizen_outside=2.0, service_outside=2.0)
    assert not assert_same_bargain(outside, *(np.full(3, 0.5) for _ in range(5))).feasible.any()


def test_ties_on_the_grid_go_to_the_first_deal() -> None:
    """Free deals with a saturated gain: many grid points share the best score, the first wins."""
    p = dataclasses.replace(P, citizen_cost=0.0, service_cost=0.0, outcome_gain=1e6, grid_points=5)
    columns = (np.full(4, 0.4), np.array([0.5, 1.0, 0.2, 0.7]), np.ones(4), np.full(4, 0.3), np.full(4, 0.6))
    out = assert_same_bargain(p, *columns)
    assert out.feasible.all()
    # The smallest positive partnership and contribution: the tie's first grid point, not a later one.
    np.testing.assert_array_equal(out.partnership, 0.3 / 4)
    np.testing.assert_array_equal(out.contribution, p.contribution_max / 4)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_non_finite_scores_follow_numpys_argmax(alpha: float) -> None:
    """Infinite or NaN needs and readings: infinite scores (no deal) and NaN scores (the first NaN)."""
    p = dataclasses.replace(P, citizen_power=alpha)
    tiny = np.finfo(np.float64).tiny
    need = np.array([np.inf, np.nan, 1e308, tiny, 5e-324, 0.5, 0.5, 0.5])
    perceived = np.array([0.5, 0.5, 0.5, 0.5, 0.5, np.nan, np.inf, -np.inf])
    n = need.shape[0]
    assert_same_bargain(p, perceived, need, np.ones(n), np.full(n, 0.5), np.full(n, 0.5))
    assert_same_bargain(p, np.full(n, 0.5), need, np.ones(n), np.full(n, 0.5), need)  # ethos too


@settings(max_examples=300, deadline=None)
@given(
    forum_params(),
    st.lists(
        st.tuples(
            st.floats(-0.5, 1.5, allow_nan=False),
            st.floats(0.0, 2.0, allow_nan=False),
            unit_floats,
            st.floats(-0.5, 1.5, allow_nan=False),
            unit_floats,
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_the_bargain_gives_the_rules_bits(p: fr.ForumParams, rows: list[tuple[float, ...]]) -> None:
    columns = tuple(np.array(c, dtype=np.float64) for c in zip(*rows, strict=True))
    assert_same_bargain(p, *columns)


def test_the_constants_are_made_again_when_they_change() -> None:
    """The per-round memo of the kernel's constants follows the forum constants and the support level."""
    a = kernels._forum_constants(P, 0.0)
    assert kernels._forum_constants(P, 0.0) is a
    b = kernels._forum_constants(P, 0.5)
    slope = kernels.FORUM_PARAMS.index("resources_slope")
    assert b is not a and b[0][slope] != a[0][slope]
    c = kernels._forum_constants(dataclasses.replace(P, grid_points=5), 0.5)
    assert c[1].shape == (5,) and b[1].shape == (21,)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 1999, 2000])
def test_the_median_is_numpys(n: int) -> None:
    """``kernels.median`` (one partition) equals ``np.median``: odd and even sizes, ties, zeros, a NaN."""
    rng = np.random.default_rng(n)
    cases = [rng.random(n) * 40.0, rng.integers(0, 3, n) * 10.0, np.zeros(n), np.where(rng.random(n) < 0.5, 0.0, 7.5)]
    nan = rng.random(n)
    nan[n // 2] = np.nan
    for values in cases:
        assert_same_bits(np.array([np.median(values)]), np.array([kernels.median(values)]), "median")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns of the NaN (at some sizes)
        assert np.isnan(np.median(nan))
    assert np.isnan(kernels.median(nan))

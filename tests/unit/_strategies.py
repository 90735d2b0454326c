"""Shared Hypothesis strategies and builders for the unit tests of the pure rules."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.config import SimConfig
from sim.rules import indicators as ind
from sim.rules.citizen import CitizenParams
from sim.rules.coproduction import N_ACTIVITIES
from sim.rules.management import ServiceConditions, ServiceParams

MAX_LEN = 40


def floats(lo: float = 0.0, hi: float = 1.0) -> st.SearchStrategy[float]:
    """Bounded finite floats (no NaN, no infinities, no subnormals)."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def unit_interval() -> st.SearchStrategy[float]:
    """A float in [0, 1]."""
    return floats(0.0, 1.0)


def arrays(n: int, lo: float = 0.0, hi: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    """A float64 array of length ``n`` with elements in [lo, hi]."""
    return hnp.arrays(np.float64, n, elements=floats(lo, hi))


@st.composite
def same_length(draw: st.DrawFn, *bounds: tuple[float, float], min_size: int = 1, max_size: int = MAX_LEN):
    """Several float arrays of one common length, each with its own (lo, hi) bounds."""
    n = draw(st.integers(min_size, max_size))
    return tuple(draw(arrays(n, lo, hi)) for lo, hi in bounds)


@st.composite
def simplex_rows(draw: st.DrawFn, min_rows: int = 1, max_rows: int = 8, lo: float = 0.0) -> np.ndarray:
    """A (S, 6) matrix whose rows are capacity allocations (non-negative, each summing to one).

    With ``lo`` > 0 every share is at least ``lo``.
    """
    s = draw(st.integers(min_rows, max_rows))
    raw = draw(hnp.arrays(np.float64, (s, N_ACTIVITIES), elements=floats(0.01, 1.0)))
    rows = raw / raw.sum(axis=1, keepdims=True)
    return lo + (1.0 - N_ACTIVITIES * lo) * rows


def default_citizen_params(**overrides: float) -> CitizenParams:
    """Citizen rule constants from the config defaults, with overrides."""
    cfg = SimConfig().citizens
    values = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(CitizenParams)}
    values.update(overrides)
    return CitizenParams(**values)


def default_service_params(**overrides: float | bool) -> ServiceParams:
    """Service rule constants from the config defaults (services, then regime), with overrides."""
    from sim.instruments import Instruments

    cfg = SimConfig()
    regime = Instruments.from_config(cfg.regime)  # the instruments' preset values filled in
    values = {}
    for f in dataclasses.fields(ServiceParams):
        src = cfg.services if hasattr(cfg.services, f.name) else regime
        values[f.name] = getattr(src, f.name)
    values.update(overrides)
    return ServiceParams(**values)


def make_conditions(
    cases_per_service: list[int] | np.ndarray,
    rng: np.random.Generator,
    **overrides: np.ndarray,
) -> ServiceConditions:
    """Conditions for a few services built the way ``SocialProductivityModel.services_act`` builds them.

    Defaults: no instrument in force (no objective, audit, inspection, partnership standard or
    forum commitment), unit capacity, moderate citizen input, middling deprivation, no shock,
    ethos 0.5, objective 0.7. ``targeted=x`` is shorthand for a central target as the preset
    'targets' sets it (objective in force, league table, full accountability) and ``target=x``
    for its level.
    """
    if "targeted" in overrides:
        targeted = overrides.pop("targeted")
        overrides.setdefault("objective_set", targeted)
        overrides.setdefault("league_table", targeted)
    if "target" in overrides:
        overrides.setdefault("objective", overrides.pop("target"))
    n_cases = np.asarray(cases_per_service, dtype=np.int64)
    n_s = n_cases.shape[0]
    total = int(n_cases.sum())
    u = np.clip(rng.random((5, total)), 1e-12, 1.0 - 1e-12)
    values: dict[str, np.ndarray] = {
        "capacity": np.ones(n_s),
        "citizen_input": np.full(n_s, 1.0),
        "deprivation": np.full(n_s, 0.5),
        "shock": np.zeros(n_s),
        "ethos": np.full(n_s, 0.5),
        "objective_set": np.zeros(n_s),
        "objective": np.full(n_s, 0.7),
        "accountability": np.ones(n_s),
        "league_table": np.zeros(n_s),
        "observe_forum": np.zeros(n_s),
        "forum_sees": np.zeros(n_s),
        "perception_error": np.zeros(n_s),
        "inspected": np.zeros(n_s),
        "functioning_error": np.zeros(n_s),
        "partnership_paid": np.zeros(n_s),
        "partnership_required": np.zeros(n_s),
        "partnership_level": np.full(n_s, 0.12),
        "theatre": np.zeros(n_s),
        "verified": np.zeros(n_s),
        "verification_error": np.zeros(n_s),
        "theatre_penalty": np.full(n_s, 2.0),
        "commitments": np.zeros(n_s),
        "audited": np.zeros(n_s),
        "service_of_case": np.repeat(np.arange(n_s), n_cases),
        "case_noise": ind.case_noise(u[0]),
        "u_move": u[1],
        "u_land": u[2],
        "u_skim": u[3],
        "u_detect": u[4],
    }
    values.update(overrides)
    return ServiceConditions(**values)


DEFAULT_SHARES = np.array([0.3, 0.2, 0.2, 0.08, 0.01, 0.21])

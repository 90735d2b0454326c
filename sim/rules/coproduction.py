"""Co-production of true outcomes (DESIGN.md mechanism 1).

Each service's true outcome on a dimension (the share of its cases that truly meet the
standard) comes from a CES combination of service effort and citizens' input with an
elasticity of substitution below one (complements: neither side can deliver alone), passed
through a logistic link with community deprivation and shocks the service does not control.
Sources: Ostrom 1996; Parks et al. 1981; Arrow et al. 1961 (CES); Marmot Review 2010.
"""

from __future__ import annotations

import numpy as np

from sim.rules import portable
from sim.rules._types import FloatArray

EPS = 1e-6

# Column order of a service's capacity shares.
FUNCTIONING, MEASURED, UNMEASURED, PARTNERSHIP, GAMING, SLACK = range(6)
N_ACTIVITIES = 6
ACTIVITIES = ("functioning", "measured_work", "unmeasured_work", "partnership", "gaming", "slack")


def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function (CPU-independent bits: ``sim.rules.portable``)."""
    return portable.sigmoid(x)


def ces(service_input: FloatArray, citizen_input: FloatArray, weight: float, rho: float) -> FloatArray:
    """CES production with exponent rho < 0 (complements); zero input on either side gives ~0."""
    s = np.maximum(service_input, EPS)
    k = np.maximum(citizen_input, EPS)
    return portable.power(weight * portable.power(s, rho) + (1.0 - weight) * portable.power(k, rho), 1.0 / rho)


def service_inputs(
    shares: FloatArray, capacity: FloatArray, functioning_weight: float, spillover: float
) -> tuple[FloatArray, FloatArray]:
    """Effective service effort on the measured and unmeasured dimensions.

    Core functioning (responsiveness, reliability) supports both dimensions; outcome work is
    split between what the indicator measures and what it does not, and work on one dimension
    partly helps the other (Holmstrom & Milgrom 1991; Dixit 2002).
    """
    base = functioning_weight * shares[:, FUNCTIONING]
    m, u = shares[:, MEASURED], shares[:, UNMEASURED]
    return capacity * (base + m + spillover * u), capacity * (base + u + spillover * m)


def partnership_effect(partnership_share: FloatArray) -> FloatArray:
    """Saturating effect of partnership work on citizens' effective input, in [0, 1)."""
    return partnership_share / (partnership_share + 0.1)


def citizen_input(
    prosocial_share: FloatArray,
    self_reliance_share: FloatArray,
    social_capital: FloatArray,
    *,
    scale: float,
    social_capital_weight: float,
) -> FloatArray:
    """Citizens' input to a community's outcomes per capita, before services' partnership work.

    Pro-social time counts fully, time on own needs half (it meets need without helping
    others), and the community's social capital adds to both.
    """
    return (prosocial_share + 0.5 * self_reliance_share) / scale + social_capital_weight * social_capital


def outcome_logit(
    production: FloatArray,
    deprivation: FloatArray,
    shock: FloatArray,
    *,
    intercept: float,
    slope: float,
    deprivation_effect: float,
) -> FloatArray:
    """Logit of the probability that a case truly meets the standard."""
    return intercept + slope * portable.log(np.maximum(production, EPS)) - deprivation_effect * deprivation + shock


def update_shock(shock: FloatArray, innovation: FloatArray, large: FloatArray, persistence: float) -> FloatArray:
    """AR(1) outcome shocks, plus rare large negative shocks (already scaled)."""
    return persistence * shock + innovation - large

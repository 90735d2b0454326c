"""Legitimacy and trust (DESIGN.md mechanism 5).

Trust moves towards what a citizen experiences of its services (functioning delivered and the
outcome it lives with), faster down than up (Slovic 1993); it rises when commitments made to
citizens are kept, whoever made them (a forum's commitments, a published service standard), and
falls when they are broken; it falls when gaming comes to light, in proportion to what is found,
or when published figures drift away from experience (Van Ryzin 2007; Bouckaert & Van de Walle
2003); credible assurance (checks that find little) builds it (Power 1997; O'Neill 2002).
"""

from __future__ import annotations

import numpy as np

from sim.rules._types import BoolArray, FloatArray


def update_trust(
    trust: FloatArray,
    experience: FloatArray,
    commitment_made: FloatArray,
    commitment_kept: FloatArray,
    exposure: FloatArray,
    gain: float,
    loss: float,
    assurance: FloatArray | None = None,
    assurance_gain: float = 0.0,
) -> FloatArray:
    """One month of trust dynamics.

    Args:
        trust: current trust in [0, 1].
        experience: experienced service quality in [0, 1].
        commitment_made: in [0, 1], how far the local services made commitments citizens can
            hold them to (forum commitments, published standards).
        commitment_kept: share of those commitments kept, in [0, 1].
        exposure: in [0, 1], gaming revealed (in proportion to what audits found) plus the gap
            between published figures and experience.
        gain: rate of rise.
        loss: rate of fall (above gain).
        assurance: in [0, 1], checks of the local services that found little (none if omitted).
        assurance_gain: monthly rate of the rise toward 1 per unit of assurance.

    """
    gap = experience - trust
    # The rate by table lookup on the sign of the gap (a gather, not a branch per citizen).
    rate = np.take(np.array([loss, gain]), (gap > 0).astype(np.intp), mode="clip")
    t = trust + rate * gap
    t = t + gain * commitment_made * commitment_kept * (1.0 - t)
    t = t - loss * commitment_made * (1.0 - commitment_kept) * t
    t = t - loss * np.clip(exposure, 0.0, 1.0) * t
    if assurance is not None:
        t = t + assurance_gain * assurance * (1.0 - t)
    return np.clip(t, 0.0, 1.0)


def update_efficacy(efficacy: FloatArray, success: FloatArray, rate: float) -> FloatArray:
    """Self-efficacy moves towards experienced success (Bandura 1997)."""
    return np.clip(efficacy + rate * (success - efficacy), 0.0, 1.0)


def update_engagement(
    engaged: BoolArray, ask_probability: FloatArray, willing: FloatArray, exit_probability: float, u: FloatArray
) -> BoolArray:
    """Being asked to volunteer: unengaged citizens join if asked and willing; volunteers drop out.

    Willingness is the trust that decides a yes (``sim.rules.citizen.adapt``: a stable disposition,
    with current trust in the services weighted in).
    """
    join = ~engaged & (u < ask_probability * willing)
    stay = engaged & (u >= exit_probability)
    return join | stay

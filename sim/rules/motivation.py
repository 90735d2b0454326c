"""Motivation crowding (DESIGN.md mechanism 4).

Supportive interventions (being asked, recognised, given a voice) raise intrinsic motivation
towards 1; controlling ones (outcome targets that make citizens' efforts inputs to someone
else's figure, small payments) lower it towards 0. Erosion is faster than rebuilding, so
effects outlast the policy that caused them (Frey & Jegen 2001; Deci, Koestner & Ryan 1999).
"""

from __future__ import annotations

import numpy as np

from sim.rules._types import FloatArray


def update_motivation(
    motivation: FloatArray, support: FloatArray, control: FloatArray, gain: float, loss: float
) -> FloatArray:
    """One month of crowding-in and crowding-out; support and control lie in [0, 1]."""
    m = motivation + gain * support * (1.0 - motivation) - loss * control * motivation
    return np.clip(m, 0.0, 1.0)

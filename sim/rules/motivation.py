"""Motivation crowding (DESIGN.md mechanism 4).

What a citizen experiences as supportive (being asked, recognised, given a voice in a forum
they attended, a clear objective with feedback: Locke & Latham 2002) raises intrinsic
motivation towards 1; what they experience as controlling (their effort redirected towards
measured tasks, being pressed for figures, small payments) lowers it towards 0. Erosion is
faster than rebuilding, so effects outlast the policy that caused them (Frey & Jegen 2001;
Deci, Koestner & Ryan 1999), and motivation drifts back towards each person's own trait level
over years (stylised; Roberts & DelVecchio 2000). The inputs come from behaviour and
instruments as the citizen meets them, never from a regime's name.
"""

from __future__ import annotations

import numpy as np

from sim.rules._types import FloatArray


def update_motivation(
    motivation: FloatArray,
    support: FloatArray,
    control: FloatArray,
    gain: float,
    loss: float,
    trait: FloatArray | None = None,
    reversion: float = 0.0,
) -> FloatArray:
    """One month of crowding-in, crowding-out and reversion; support and control lie in [0, 1].

    Args:
        motivation: current intrinsic motivation in [0, 1].
        support: supportive experience in [0, 1].
        control: controlling experience in [0, 1].
        gain: monthly rate of crowding-in toward 1.
        loss: monthly rate of crowding-out toward 0.
        trait: each citizen's own level, toward which motivation reverts (none if omitted).
        reversion: monthly rate of that reversion.

    """
    m = motivation + gain * support * (1.0 - motivation) - loss * control * motivation
    if trait is not None:
        m = m + reversion * (trait - motivation)
    return np.clip(m, 0.0, 1.0)

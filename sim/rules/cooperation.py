"""Conditional cooperation: how much of their free time citizens give to others.

The same rule drives the public-goods laboratory and the full model (DESIGN.md mechanism 3).
A citizen forms a belief about what its contacts contribute (a weighted average of its last
belief and what it saw last month), and contributes according to its type: conditional
cooperators match the belief with a slope below one (so contributions decay without support),
free riders give almost nothing, and others give a roughly fixed amount. Peer recognition or
sanction pulls those below the norm up towards it; antisocial punishment then pulls those above
it down. Sources: Fischbacher, Gaechter & Fehr 2001; Fischbacher & Gaechter 2010; Fehr & Gaechter
2000; Herrmann, Thoeni & Gaechter 2008.
"""

from __future__ import annotations

import numpy as np

from sim.rules._types import ContactArray, FloatArray, IntArray
from sim.rules.network import neighbour_mean

CONDITIONAL, FREE_RIDER, OTHER = 0, 1, 2

# The rule's constants, named as in the citizens' config (and CitizenParams).
CONSTANTS = (
    "cc_base",
    "cc_slope",
    "free_rider_base",
    "other_base",
    "motivation_weight",
    "norm_premium",
    "antisocial_pressure",
)


def constants(source: object) -> dict[str, float]:
    """The rule's keyword constants, read from any object with the same-named fields."""
    return {name: getattr(source, name) for name in CONSTANTS}


def observed_contribution(contribution_share: FloatArray, contacts: ContactArray) -> FloatArray:
    """Mean contribution share of each citizen's contacts last month.

    Args:
        contribution_share: last month's contribution share of every citizen, shape (N,).
        contacts: indices of the contacts each citizen observes, shape (n, k).

    Returns:
        Shape (n,): what each citizen saw its contacts give.

    """
    return neighbour_mean(contribution_share, contacts)


def update_belief(belief: FloatArray, observed: FloatArray, persistence: float) -> FloatArray:
    """Adaptive belief about contacts' contributions (Fischbacher & Gaechter 2010)."""
    return persistence * belief + (1.0 - persistence) * observed


def contribution_share(
    coop_type: IntArray,
    belief: FloatArray,
    motivation: FloatArray,
    norm: FloatArray,
    peer_pressure: FloatArray | float,
    noise: FloatArray,
    *,
    cc_base: float,
    cc_slope: float,
    free_rider_base: float,
    other_base: float,
    motivation_weight: float,
    norm_premium: float,
    antisocial_pressure: float,
    pledge: FloatArray | None = None,
) -> FloatArray:
    """Share of free time a citizen contributes this month, in [0, 1].

    Args:
        coop_type: 0 conditional cooperator, 1 free rider, 2 other.
        belief: believed contribution share of contacts.
        motivation: intrinsic pro-social motivation in [0, 1] (0.5 is neutral).
        norm: the contribution peers expect (the belief, or a public commitment if higher).
        peer_pressure: strength of recognition/sanction in [0, 1].
        noise: a standard-normal draw times the noise sd, one per citizen.
        cc_base: conditional cooperators' intercept.
        cc_slope: conditional cooperators' slope on the belief.
        free_rider_base: free riders' contribution.
        other_base: other types' contribution.
        motivation_weight: shift per unit of motivation above 0.5.
        norm_premium: how far above the norm a sanctioned citizen aims.
        antisocial_pressure: strength of punishment of above-norm contributors.
        pledge: a public commitment per citizen (NaN where none), or None. Pressure pulls a
            pledger up to the pledge itself, not a premium above it: peers hold people to
            what they promised (Cialdini 2001), so a yearly pledge cannot ratchet upwards.

    """
    # Each type's constants by table lookup (a gather, not a branch per citizen).
    base = np.take(np.array([cc_base, free_rider_base, other_base]), coop_type, mode="clip")
    slope = np.take(np.array([cc_slope, 0.0, 0.0]), coop_type, mode="clip")
    own = base + slope * belief + motivation_weight * (motivation - 0.5)
    # Peer sanction pulls those below the aim (norm plus premium) up towards it, weakened where
    # sanctions meet counter-punishment (Nikiforakis 2008); antisocial punishment then hits
    # whoever still gives more than the norm (Herrmann et al. 2008). Each step has slope at
    # least 1 - strength >= 0, so the result never falls as inclination rises.
    effective = peer_pressure * (1.0 - antisocial_pressure)
    aim = norm + norm_premium if pledge is None else np.fmax(norm + norm_premium, pledge)
    pulled = own + effective * np.maximum(0.0, aim - own)
    pushed = pulled - antisocial_pressure * np.maximum(
        0.0, pulled - (norm if pledge is None else np.fmax(norm, pledge))
    )
    return np.clip(pushed + noise, 0.0, 1.0)

"""Community stocks: social capital built by pro-social activity, which decays.

Putnam 2000; Coleman 1988. Social capital feeds citizens' input to co-production and the
strength of peer recognition.
"""

from __future__ import annotations

import numpy as np

from sim.rules._types import FloatArray, IntArray


def update_social_capital(
    social_capital: FloatArray, prosocial_share: FloatArray, growth: float, decay: float
) -> FloatArray:
    """Social capital in [0, 1]: grows with the community's pro-social share, decays each month."""
    sc = social_capital + growth * prosocial_share * (1.0 - social_capital) - decay * social_capital
    return np.clip(sc, 0.0, 1.0)


def community_mean(values: FloatArray, community: IntArray, counts: FloatArray) -> FloatArray:
    """Mean of a citizen quantity per community; 0 for a community with no citizens (documented)."""
    sums = np.bincount(community, weights=values, minlength=counts.shape[0]).astype(np.float64)
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)

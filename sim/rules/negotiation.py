"""Negotiation and mutual accountability (DESIGN.md mechanism 6).

Forums meet on a schedule (and after large shocks). Who turns up depends on trust,
self-efficacy and deprivation, less so with support for participation (Verba, Schlozman &
Brady 1995; Fung 2006). Participants commit to contribute a little more than they do; the
service commits to partnership work and guaranteed functioning; the objective is set from
local conditions. The forum judges the service by lived experience as far as enough people
take part, and by the recorded figure otherwise.
"""

from __future__ import annotations

import numpy as np

from sim.rules._types import BoolArray, FloatArray


def participation_probability(
    trust: FloatArray, efficacy: FloatArray, deprivation: FloatArray, *, base: float, barrier: float, support: float
) -> FloatArray:
    """Chance a citizen takes part in a forum round."""
    p = base * trust * efficacy * (1.0 - barrier * (1.0 - support) * deprivation) * (1.0 + support)
    return np.clip(p, 0.0, 1.0)


def forum_information(participation_rate: FloatArray, full: float) -> FloatArray:
    """How far the forum judges by lived experience rather than the recorded figure, in [0, 1]."""
    return np.clip(participation_rate / full, 0.0, 1.0)


def citizen_commitment(share: FloatArray, participates: BoolArray, ambition: float) -> FloatArray:
    """Contribution share each participant commits to (NaN for non-participants)."""
    return np.where(participates, np.minimum(1.0, share + ambition), np.nan)


def commitment_met(share: FloatArray, commitment: FloatArray) -> FloatArray:
    """How far each committed citizen met its commitment, in [0, 1]; NaN where none was made.

    ``min(1, share / commitment)`` where the commitment is positive, 1 where it is zero or less,
    NaN where it is NaN. It runs twice a month, so in few passes (a comparison with NaN costs
    several times one without, and this array is mostly NaN): the quotient everywhere, then the
    entries without a positive commitment set.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        met = np.divide(share, commitment)
    np.minimum(met, 1.0, out=met)
    np.copyto(met, 1.0, where=commitment <= 0)
    np.copyto(met, np.nan, where=np.isnan(commitment))
    return met

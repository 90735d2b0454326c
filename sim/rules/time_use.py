"""How a citizen splits its discretionary time (hours a month).

Own needs come first (self-reliance, scaled by need and self-efficacy); of the time left,
the contribution share goes to others: to formal volunteering if the citizen has been asked
(engaged), the rest to informal caring as far as someone in its network needs care. Time not
used is 'nothing'. By construction the three uses never exceed the budget.
"""

from __future__ import annotations

import numpy as np

from sim.rules._types import BoolArray, FloatArray


def payment_multiplier(
    motivation: FloatArray, payment_per_hour: float, crowd_out: float, price_effect: float
) -> FloatArray:
    """Willingness to volunteer relative to unpaid, given a payment per hour.

    Any payment crowds out intrinsically motivated volunteering (a fall proportional to
    motivation); the price effect grows with the amount, so small pay lowers participation and
    large pay raises it again (Frey & Jegen 2001; Gneezy & Rustichini 2000).
    """
    paid = 1.0 if payment_per_hour > 0 else 0.0
    return np.maximum(0.0, 1.0 - crowd_out * motivation * paid + price_effect * payment_per_hour)


def allocate_time(
    budget: FloatArray,
    own_need: FloatArray,
    efficacy: FloatArray,
    share: FloatArray,
    engaged: BoolArray,
    care_opportunity: FloatArray,
    volunteer_willingness: FloatArray,
    *,
    self_reliance_share: float,
    volunteer_share: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Split the budget into volunteering, caring and self-reliance hours.

    Args:
        budget: discretionary hours a month.
        own_need: mean need over domains in [0, 1].
        efficacy: self-efficacy in [0, 1].
        share: contribution share in [0, 1] from the cooperation rule.
        engaged: whether the citizen has been asked to volunteer.
        care_opportunity: in [0, 1], how much care the citizen's network needs.
        volunteer_willingness: multiplier on the volunteering share (payment effects).
        self_reliance_share: share of time a fully needy, fully efficacious citizen spends on itself.
        volunteer_share: share of pro-social time an engaged citizen volunteers.

    Returns:
        (volunteering, caring, self_reliance) in hours.

    """
    self_reliance = budget * self_reliance_share * own_need * efficacy
    free = budget - self_reliance
    prosocial = share * free
    # Zero for citizens not asked: multiplying the clipped (finite, non-negative) fraction by
    # the flag gives exactly the per-citizen choice, without a branch per citizen.
    vol_fraction = np.clip(volunteer_share * volunteer_willingness, 0.0, 1.0) * engaged
    volunteering = prosocial * vol_fraction
    caring = prosocial * (1.0 - vol_fraction) * care_opportunity
    return volunteering, caring, self_reliance


def realised_share(
    volunteering: FloatArray, caring: FloatArray, budget: FloatArray, self_reliance: FloatArray
) -> FloatArray:
    """What contacts see: pro-social hours as a share of the time left after own needs."""
    free = budget - self_reliance
    has_time = free > 0
    if has_time.all():  # the usual case: no citizen without free time, so no per-citizen choice
        return np.clip((volunteering + caring) / free, 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(has_time, (volunteering + caring) / np.where(has_time, free, 1.0), 0.0)
    return np.clip(out, 0.0, 1.0)

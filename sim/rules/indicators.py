"""Measured versus true outcomes and the ways figures are fixed (DESIGN.md mechanism 2).

Each case has a true indicator value; the standard is at 0 (pass if >= 0). True values are
drawn on the logit scale, ``logit(p) + logistic noise``, so that the expected share truly
passing is exactly ``p``. Gaming works in two ways: near-miss records (just below the standard)
are moved to just above it, which makes recorded values bunch on the passing side (Bevan & Hood
2006: ambulance response times); and the hardest cases are turned away and never recorded
(cream-skimming). Audits find a share of the moved records.
"""

from __future__ import annotations

import numpy as np

from sim.rules import portable
from sim.rules._types import BoolArray, FloatArray, IntArray


def case_noise(u: FloatArray) -> FloatArray:
    """Standard logistic noise of each case's true value, from uniforms ``u`` in (0, 1).

    Drawn once a month: every allocation a manager tries meets the same cases.
    """
    return portable.logit(u)


def case_true_values(case_logit: FloatArray, u: FloatArray) -> FloatArray:
    """True indicator values: the service's logit plus standard logistic noise from uniforms u."""
    return case_logit + case_noise(u)


def gaming_intensities(
    gaming_share: FloatArray,
    capacity: FloatArray,
    *,
    manipulation_cost: float,
    cream_skim_share: float,
    cream_skim_max: float,
) -> tuple[FloatArray, FloatArray]:
    """Chance that a near-miss record is moved, and that a hard case is turned away."""
    effort = gaming_share * capacity / manipulation_cost
    move = np.clip(effort * (1.0 - cream_skim_share), 0.0, 1.0)
    skim = cream_skim_max * np.clip(effort * cream_skim_share, 0.0, 1.0)
    return move, skim


def record_cases(
    true_value: FloatArray,
    move_prob: FloatArray,
    skim_prob: FloatArray,
    u_move: FloatArray,
    u_land: FloatArray,
    u_skim: FloatArray,
    *,
    near_miss_window: float,
    landing_width: float,
) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Turn true case values into records.

    Returns:
        (recorded value, manipulated flag, kept flag); cases not kept were turned away and are
        absent from the record.

    """
    near_miss = (true_value < 0.0) & (true_value >= -near_miss_window)
    manipulated = near_miss & (u_move < move_prob)
    recorded = np.where(manipulated, u_land * landing_width, true_value)
    kept = ~((true_value < -near_miss_window) & (u_skim < skim_prob))
    return recorded, manipulated, kept


def service_rates(
    service_of_case: IntArray,
    n_services: int,
    recorded: FloatArray,
    true_value: FloatArray,
    manipulated: BoolArray,
    kept: BoolArray,
    u_detect: FloatArray,
    detection: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-service figures from its cases.

    Returns recorded pass rate, true pass rate, number of cases, share turned away, and share
    of records an audit would find manipulated. A service with no recorded cases has NaN
    rates (documented: no cases, no figure).
    """
    n_cases = np.bincount(service_of_case, minlength=n_services).astype(np.float64)
    n_kept = np.bincount(service_of_case, weights=kept, minlength=n_services)
    rec_pass = np.bincount(service_of_case, weights=kept & (recorded >= 0.0), minlength=n_services)
    true_pass = np.bincount(service_of_case, weights=true_value >= 0.0, minlength=n_services)
    found = np.bincount(service_of_case, weights=manipulated & (u_detect < detection), minlength=n_services)
    with np.errstate(invalid="ignore", divide="ignore"):
        reported = rec_pass / n_kept
        true_rate = true_pass / n_cases
        skimmed = 1.0 - n_kept / n_cases
        found_share = found / n_kept
    return reported, true_rate, n_cases, skimmed, found_share


def bunching_ratio(recorded: FloatArray, kept: BoolArray, window: float) -> float:
    """Recorded cases in [0, window) over those in [-window, 0).

    Close to 1 without manipulation (a little above 1 where most cases pass, as the density
    slopes there). Infinite when records fill the passing side and none are left on the failing
    side; NaN when both windows are empty (documented).
    """
    r = recorded[kept]
    above = np.count_nonzero((r >= 0.0) & (r < window))
    below = np.count_nonzero((r < 0.0) & (r >= -window))
    if below == 0:
        return float("inf") if above > 0 else float("nan")
    return float(above / below)

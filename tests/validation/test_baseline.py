"""Baseline calibration: monthly volunteering and informal helping at the defaults under `none`."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("validation")]


@pytest.mark.parametrize(
    "column",
    [
        "volunteering_rate",
        pytest.param(
            "caring_rate",
            marks=pytest.mark.xfail(
                strict=True,
                reason=(
                    "Fails since the instruments, the literature type shares and the patterns' defaults (issue "
                    "13): mean 26.5%, 95% CI 25.8-27.1% against 26-34%, 2 of 10 seeds below 26% "
                    "(docs/validation.md). Reported, not tuned."
                ),
            ),
        ),
    ],
)
def test_community_life_survey_rates(validate, panels, column: str) -> None:
    """Formal volunteering 16-27% and informal helping 26-34% of adults at least once a month.

    Source: Community Life Survey 2013/14-2023/24, DCMS (England). Model: `volunteering_rate` and
    `caring_rate` (share of citizens giving at least `citizens.activity_threshold_hours` in the month),
    mean of the last 60 of 120 months, 10 seeds; mapping in docs/validation.md.
    """
    finding = next(f for f in validate.cls_baseline(panels) if f.key == f"cls_{column}")
    assert finding.n_seeds >= 10
    assert finding.passed, (finding.mean, finding.ci_low, finding.ci_high, finding.seeds_holding)

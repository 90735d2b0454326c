"""Patterns the model must reproduce (issue 14), one test per row of docs/validation.md's patterns section.

Each uses the same finding function that writes the row (``scripts/validate.py``), on the same common
seeds; a pattern the model fails is a strict expected failure with its reason (reported in
docs/validation.md, not tuned away), so a change that makes it pass is noticed too.
"""

from __future__ import annotations

import pytest

# The validation group: one worker makes the panels once and shares the `none` and `targets` arms with `panels`.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("validation")]


def check(finding) -> None:
    assert finding.n_seeds >= 10
    assert finding.passed, (
        f"{finding.key}: {finding.mean:.4f} [{finding.ci_low:.4f}, {finding.ci_high:.4f}], "
        f"{finding.seeds_holding}/{finding.n_seeds} seeds; criterion: {finding.criterion}; {finding.detail}"
    )


def test_targets_work_most_in_low_ethos_high_slack_services(validate, pattern_panels) -> None:
    """Targets raise real measured performance, more where ethos is low and slack high, with gaming alongside.

    Sources: Propper, C., Sutton, M., Whitnall, C. & Windmeijer, F. (2008). Did 'targets and terror' reduce
    waiting times in England for hospital care? B.E. Journal of Economic Analysis & Policy 8(2); Propper et al.
    (2010), Journal of Public Economics 94, 318-335; Bevan, G. & Hood, C. (2006), Public Administration 84(3).
    """
    check(validate.targets_work_low_ethos(pattern_panels))


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Fails (docs/validation.md): at services.manipulation_cost=1.0 targets keep only 36% (95% CI 33-38%) of "
        "the unmeasured work of no management, less than the 64% at the cheap default. Where gaming is costly, "
        "managers chasing the target move effort from unmeasured to measured work instead (displacement replaces "
        "gaming), so the model gives Kelman & Friedman's little displacement only where gaming is cheap. Reported, "
        "not tuned."
    ),
)
def test_costly_gaming_leaves_unmeasured_work_intact(validate, pattern_panels) -> None:
    """Where gaming is costly, targets keep at least half of the unmeasured work of no management.

    Source: Kelman, S. & Friedman, J. N. (2009). JPART 19(4), 917-946.
    """
    check(validate.unmeasured_intact(pattern_panels))


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Fails (docs/validation.md): the best-off fifth attends 1.6 times as often as the worst-off (95% CI "
        "1.5-1.8), below the 2 of the criterion; attenders do need less than residents (-0.012). The resources "
        "index differs by only a fraction of its range between fifths, so forum.attend_resources (1.5 log-odds "
        "over the whole index) "
        "gives a smaller gap than Verba et al. report. Reported, not tuned."
    ),
)
def test_forum_participation_is_skewed_to_the_better_off(validate, pattern_panels) -> None:
    """The best-off fifth attends forums at least twice as often as the worst-off; attenders need less.

    Source: Verba, S., Schlozman, K. L. & Brady, H. E. (1995). Voice and Equality. Harvard University Press.
    """
    check(validate.forum_skew(pattern_panels))


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Fails (docs/validation.md): negotiated minus none equity gap +0.1 percentage points (95% CI -0.1 to "
        "+0.4), 8 of 10 seeds above zero: with a modest participation skew and attenders' needs close to "
        "residents', the deals do not measurably favour the better-off communities. Reported, not tuned."
    ),
)
def test_negotiated_outcomes_skew_towards_attenders(validate, pattern_panels) -> None:
    """Negotiation widens the outcome gap between the least and most deprived communities.

    Sources: Verba, Schlozman & Brady (1995); Fung, A. (2006). Varieties of participation in complex
    governance. Public Administration Review 66, 66-75.
    """
    check(validate.forum_outcome_skew(pattern_panels))


def test_price_effect_of_paying_volunteers(validate, pattern_panels) -> None:
    """Small pay lowers volunteering below unpaid; large pay (GBP 30 an hour) raises it above unpaid.

    Source: Gneezy, U. & Rustichini, A. (2000). Pay enough or don't pay at all. QJE 115(3), 791-810;
    DESIGN.md section 3.4.
    """
    check(validate.price_effect(pattern_panels))


@pytest.mark.parametrize(
    "preset",
    [
        "targets",
        "negotiated",
        "functioning",
        "none",
        "targets_guarantee",
        "targets_partnership",
        "local_targets",
        "negotiated_unpaid",
    ],
)
def test_formal_volunteering_within_survey_range_under_every_preset(validate, pattern_panels, preset) -> None:
    """Monthly formal volunteering stays within 16-27% under every preset at the defaults.

    Sources: Citizenship Survey 2001-2011 and Community Life Survey 2013/14-2023/24 (DCMS), England.
    """
    found = {f.key: f for f in validate.volunteering_every_preset(pattern_panels)}
    check(found[f"volunteering_{preset}"])

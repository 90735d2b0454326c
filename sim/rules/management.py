"""Service managers: how capacity is allocated, what the instruments in force pay, and how managers learn.

A manager's payoff mixes the real outcome its service produces (weighted by its professional
ethos) with what the instruments reward and the private value of slack (weighted by one minus
ethos). Nothing switches gaming on: it grows only where the instruments make it pay (Le Grand
2003; Besley & Ghatak 2005; Bevan & Hood 2006; Braganza 2022). The rules see instruments as
per-service arrays (an objective in force, how it is observed, a league table, audits,
inspections, a partnership standard, forum commitments), never a regime's name.

Learning is local experimentation under common conditions: each month a manager compares the
payoff of its allocation with six trial allocations, each shifting a little capacity to one
activity, and moves capacity towards the activities that paid more, at most ``max_shift`` a
month (a projected gradient step with finite-difference estimates, Kiefer & Wolfowitz 1952).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from sim.rules import coproduction as cp
from sim.rules import indicators as ind
from sim.rules._types import BoolArray, FloatArray, IntArray

SHARE_FLOOR = 1e-3


@dataclass(frozen=True)
class ServiceParams:
    """Constants of the service submodels for one run (built from the config by the model)."""

    functioning_weight: float
    task_spillover: float
    partnership_boost: float
    service_weight: float
    ces_rho: float
    outcome_intercept: float
    outcome_slope: float
    deprivation_effect: float
    measured_weight: float
    manipulation_cost: float
    cream_skim_share: float
    cream_skim_max: float
    cream_skim_harm: float
    near_miss_window: float
    landing_width: float
    slack_value: float
    reward_strength: float
    reward_cap: float
    sanction_strength: float
    audit_detection: float
    audit_penalty: float
    guarantee_level: float
    ratchet: bool
    ratchet_rate: float
    commitment_enforcement: float
    partnership_pay: float
    partnership_commitment: float


@dataclass(frozen=True)
class ServiceConditions:
    """What a service faces this month, fixed whatever allocation it tries (one row per service)."""

    capacity: FloatArray
    citizen_input: FloatArray  # before the service's own partnership effect
    deprivation: FloatArray
    shock: FloatArray
    ethos: FloatArray
    objective_set: FloatArray  # 1 where an outcome objective (a target or a forum's) is in force and observed
    objective: FloatArray  # the objective's level (share of cases meeting the standard)
    accountability: (
        FloatArray  # weight of outcome consequences: 1 for a target, legitimacy x citizens' side for a forum
    )
    league_table: FloatArray  # 1 where figures are published and ranked: sanctions below the objective, ratchet
    observe_forum: FloatArray  # 1 where the forum's perception (not the indicator) is what counts
    forum_sees: FloatArray  # 1 where the forum has attenders to perceive with (else the record stands)
    perception_error: FloatArray  # the forum's error this month: noise falling with attenders (forum rules)
    inspected: FloatArray  # 1 where functioning is inspected against the guarantee this month
    functioning_error: FloatArray  # the inspector's error in the functioning share it measures
    partnership_paid: FloatArray  # 1 where meeting the partnership standard is paid
    partnership_required: FloatArray  # 1 where falling short of the partnership standard is sanctioned
    partnership_level: FloatArray  # the partnership share owed: the standard's, or a forum's bargained one
    theatre: FloatArray  # share of the shortfall a service claims as done ("consultation theatre")
    verified: FloatArray  # 1 where a verification this month sees through to real partnership
    verification_error: FloatArray  # the verifier's error in measuring real partnership
    theatre_penalty: FloatArray  # sanction per unit share of partnership claimed but found not done
    commitments: FloatArray  # weight of the service's forum commitment on functioning (agreement x legitimacy)
    audited: FloatArray
    # Cases: which service each belongs to, and their common random numbers.
    service_of_case: IntArray
    case_noise: FloatArray  # standard logistic noise of each case's true value (indicators.case_noise)
    u_move: FloatArray
    u_land: FloatArray
    u_skim: FloatArray
    u_detect: FloatArray


@dataclass(frozen=True)
class ServiceMonth:
    """What an allocation produces in a month, per service (and per case for records)."""

    p_measured: FloatArray
    p_unmeasured: FloatArray
    lived_outcome: FloatArray
    reported: FloatArray
    true_rate: FloatArray
    n_cases: FloatArray
    skimmed: FloatArray
    found_share: FloatArray
    commitment_kept: FloatArray
    payoff: FloatArray
    payment: FloatArray  # payoff paid out to the service this month (rewards, partnership pay, commitments)
    recorded: FloatArray
    kept: BoolArray
    true_value: FloatArray  # per case, before any record was moved (for the indicator's distribution)


def service_commitment_kept(
    shares: FloatArray, partnership_commitment: FloatArray | float, guarantee_level: float
) -> FloatArray:
    """Share of a service's forum commitments truly kept: partnership and functioning as promised."""
    p = np.minimum(1.0, shares[:, cp.PARTNERSHIP] / np.maximum(partnership_commitment, 1e-9))
    f = np.minimum(1.0, shares[:, cp.FUNCTIONING] / max(guarantee_level, 1e-9))
    return p * f


def incentive(
    reported: FloatArray,
    lived_outcome: FloatArray,
    found_share: FloatArray,
    functioning: FloatArray,
    partnership: FloatArray,
    c: ServiceConditions,
    p: ServiceParams,
) -> tuple[FloatArray, FloatArray]:
    """What the instruments pay a manager this month (rewards minus sanctions), and the part paid out.

    Outcome consequences compare the observed outcome with the objective: the recorded pass rate
    where an indicator is observed, the forum's noisy perception of the lived outcome where the
    forum observes (the record where nobody attends). Rewards are symmetric in the
    gap; a league table adds sanctions below the objective and, under a ratchet, the cost of
    over-performance raising the next target. Audits sanction what they find; inspections
    sanction functioning found below the guarantee; the partnership standard (a central level or
    a forum's bargained one) is paid or sanctioned on what the service reports, unless a
    verification sees through any theatre (which is then sanctioned); a forum commitment on
    functioning is paid as far as it is kept.

    Returns:
        The payoff from the instruments, and the positive payments in it (costed by the centre).

    """
    r = np.where(np.isnan(reported), c.objective, reported)
    found = np.nan_to_num(found_share)
    # The forum perceives the lived outcome with noise that falls with attendance (forum rules);
    # with nobody attending, the record stands.
    perceived = c.forum_sees * np.clip(lived_outcome + c.perception_error, 0.0, 1.0) + (1.0 - c.forum_sees) * r
    observed = c.observe_forum * perceived + (1.0 - c.observe_forum) * r
    gap = observed - c.objective
    over = np.maximum(0.0, r - c.objective)
    weight = c.objective_set * c.accountability
    league = c.league_table * (
        p.sanction_strength * np.maximum(0.0, -gap)
        + (p.sanction_strength * p.ratchet_rate * over if p.ratchet else 0.0)
    )
    # Rewards stop at the cap above the objective: a target is met or not (Bevan & Hood 2006).
    rewarded = np.minimum(gap, p.reward_cap)
    outcome = weight * (p.reward_strength * rewarded - league) - c.audited * p.audit_penalty * found
    level = max(p.guarantee_level, 1e-9)
    seen_functioning = functioning + c.functioning_error
    guarantee = -c.inspected * p.sanction_strength * np.maximum(0.0, p.guarantee_level - seen_functioning) / level
    # Partnership as reported (real plus any theatre) unless a verification sees through it.
    owed = np.maximum(c.partnership_level, 1e-9)
    claimed = np.minimum(1.0, (partnership + c.theatre * np.maximum(0.0, c.partnership_level - partnership)) / owed)
    measured = np.minimum(1.0, np.maximum(0.0, partnership + c.verification_error) / owed)
    partnership_met = c.verified * measured + (1.0 - c.verified) * claimed
    theatre_found = c.verified * np.maximum(0.0, claimed - measured)
    partnership_pay = c.partnership_paid * p.partnership_pay * partnership_met
    partnership_sanction = c.partnership_required * p.sanction_strength * (1.0 - partnership_met)
    partnership_sanction = partnership_sanction + c.theatre_penalty * theatre_found
    commitment_pay = c.commitments * p.commitment_enforcement * np.minimum(1.0, functioning / level)
    paid = weight * p.reward_strength * np.maximum(0.0, rewarded) + partnership_pay + commitment_pay
    return outcome + guarantee + partnership_pay - partnership_sanction + commitment_pay, paid


def service_month(shares: FloatArray, c: ServiceConditions, p: ServiceParams) -> ServiceMonth:
    """Outcomes, records and payoffs of one month under a given capacity allocation."""
    e_m, e_u = cp.service_inputs(shares, c.capacity, p.functioning_weight, p.task_spillover)
    k = c.citizen_input * (1.0 + p.partnership_boost * cp.partnership_effect(shares[:, cp.PARTNERSHIP]))
    move, skim = ind.gaming_intensities(
        shares[:, cp.GAMING],
        c.capacity,
        manipulation_cost=p.manipulation_cost,
        cream_skim_share=p.cream_skim_share,
        cream_skim_max=p.cream_skim_max,
    )
    kw = {"intercept": p.outcome_intercept, "slope": p.outcome_slope, "deprivation_effect": p.deprivation_effect}
    logit_m = cp.outcome_logit(cp.ces(e_m, k, p.service_weight, p.ces_rho), c.deprivation, c.shock, **kw)
    logit_u = cp.outcome_logit(cp.ces(e_u, k, p.service_weight, p.ces_rho), c.deprivation, c.shock, **kw)
    # Hard cases turned away still need help: the unmeasured dimension pays for cream-skimming.
    logit_u = logit_u - p.cream_skim_harm * skim
    p_m, p_u = cp.sigmoid(logit_m), cp.sigmoid(logit_u)
    lived = p.measured_weight * p_m + (1.0 - p.measured_weight) * p_u

    s = c.service_of_case
    true_value = logit_m[s] + c.case_noise
    recorded, manipulated, kept = ind.record_cases(
        true_value,
        move[s],
        skim[s],
        c.u_move,
        c.u_land,
        c.u_skim,
        near_miss_window=p.near_miss_window,
        landing_width=p.landing_width,
    )
    n = shares.shape[0]
    reported, true_rate, n_cases, skimmed, found = ind.service_rates(
        s, n, recorded, true_value, manipulated, kept, c.u_detect, p.audit_detection
    )
    kept_commitments = service_commitment_kept(shares, c.partnership_level, p.guarantee_level)
    inc, paid = incentive(reported, lived, found, shares[:, cp.FUNCTIONING], shares[:, cp.PARTNERSHIP], c, p)
    payoff = c.ethos * lived + (1.0 - c.ethos) * (inc + p.slack_value * np.sqrt(shares[:, cp.SLACK]))
    return ServiceMonth(
        p_m,
        p_u,
        lived,
        reported,
        true_rate,
        n_cases,
        skimmed,
        found,
        kept_commitments,
        payoff,
        paid,
        recorded,
        kept,
        true_value,
    )


# Fields of ServiceConditions that hold one value per case rather than per service.
_CASE_FIELDS = ("case_noise", "u_move", "u_land", "u_skim", "u_detect")
# Fields of ServiceMonth that hold one value per case.
_CASE_RESULTS = ("recorded", "kept", "true_value")
# Above this many cases a month, one call per allocation is faster than stacking copies.
_STACK_MAX_CASES = 8192


def service_months(allocations: list[FloatArray], c: ServiceConditions, p: ServiceParams) -> list[ServiceMonth]:
    """:func:`service_month` of several allocations under the same conditions, in one pass.

    With few cases the allocations are stacked as copies of the services (copy j's service s
    is row ``j * S + s``, with its own copy of every case), so each number is computed by the
    same operations as in a separate call, and equals it, while the per-call overhead is paid
    once; with many cases, where the records dominate, each allocation has its own call.
    """
    if c.service_of_case.shape[0] > _STACK_MAX_CASES:
        return [service_month(shares, c, p) for shares in allocations]
    k, n = len(allocations), c.capacity.shape[0]
    per_service = {
        f.name: np.tile(getattr(c, f.name), k)
        for f in dataclasses.fields(c)
        if f.name not in (*_CASE_FIELDS, "service_of_case")
    }
    per_case = {name: np.tile(getattr(c, name), k) for name in _CASE_FIELDS}
    cases = c.service_of_case.shape[0]
    service_of_case = (c.service_of_case[None, :] + n * np.arange(k)[:, None]).ravel()
    stacked = ServiceConditions(**per_service, **per_case, service_of_case=service_of_case)
    both = service_month(np.concatenate(allocations), stacked, p)

    def part(j: int) -> ServiceMonth:
        values = {}
        for f in dataclasses.fields(both):
            v = getattr(both, f.name)
            size = cases if f.name in _CASE_RESULTS else n
            values[f.name] = v[j * size : (j + 1) * size]
        return ServiceMonth(**values)

    return [part(j) for j in range(k)]


def project_shares(shares: FloatArray, floor: float = SHARE_FLOOR) -> FloatArray:
    """Keep every share at least ``floor`` and make each row sum to one.

    Shares are floored, then only their excess over the floor is rescaled, so no share ends
    below the floor.
    """
    excess = np.maximum(shares, floor) - floor
    total = excess.sum(axis=1, keepdims=True)
    room = 1.0 - shares.shape[1] * floor
    scaled = np.divide(excess * room, total, out=np.full_like(excess, room / shares.shape[1]), where=total > 0)
    projected: FloatArray = floor + scaled
    return projected


def trial_allocation(shares: FloatArray, activity: int, size: float) -> FloatArray:
    """The allocation a manager tries: a little more of one activity, the rest scaled down."""
    trial = (1.0 - size) * shares
    trial[:, activity] += size
    return trial


def learn_shares(
    shares: FloatArray, payoff: FloatArray, trial_payoffs: FloatArray, size: float, rate: float, max_shift: float
) -> FloatArray:
    """Move capacity towards activities whose trials paid more than the current mix.

    Args:
        shares: current allocation, (S, 6).
        payoff: payoff of the current allocation, (S,).
        trial_payoffs: payoff of each trial allocation, (6, S).
        size: share moved in a trial.
        rate: step size per unit of payoff advantage.
        max_shift: most any share may move in a month (organisational inertia).

    """
    advantage = (trial_payoffs - payoff[None, :]).T / size  # dP/da_j minus the current mix's
    step = rate * (advantage - advantage.mean(axis=1, keepdims=True))
    moved = project_shares(shares + step) - shares
    # Scale the projected move back so no share moves more than max_shift; a convex
    # combination of two allocations on the floored simplex stays on it.
    biggest = np.abs(moved).max(axis=1, keepdims=True)
    return shares + moved * np.minimum(1.0, max_shift / np.maximum(biggest, 1e-12))

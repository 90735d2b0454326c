"""Forums that can work and can fail (DESIGN.md mechanism 6; issue 13 item 3).

A forum round, for each community that is due, does four things:

1. **Who attends.** Each resident attends with a logistic probability that rises with their
   resources, self-efficacy and trust (the civic voluntarism model of Verba, Schlozman & Brady
   1995), so attendance, and with it the forum's view, can be captured by the better-off.
   Participation support raises attendance and flattens its resource gradient (Fung 2006).
2. **What the forum perceives.** Residents meet a service differently: those with more need
   than their neighbours are served worse (:func:`personal_experience`, the inverse care law).
   The forum's reading of each service's outcome mixes the experience of those who attend
   (weight ``bias_weight``) with the community's, plus noise whose standard deviation falls as
   ``noise_sd_one / sqrt(attenders)`` towards a floor.
3. **What is agreed.** Each service and the attenders bargain over a deal (the service's
   partnership share, the attenders' extra contribution share). A deal promises an outcome rise,
   the agreed objective. The chosen deal is the generalised Nash bargaining solution (Nash 1950;
   Kalai 1977; Binmore, Rubinstein & Wolinsky 1986): it maximises
   ``(U_c - d_c)^alpha * (U_s - d_s)^(1 - alpha)`` over a grid of candidate deals, where the
   citizens' utility uses the *attenders'* needs, so a deal can skew towards them. If no
   candidate gives both sides a strictly positive surplus, or turnout misses the quorum, no
   agreement forms.
4. **What it costs.** Attenders' hours (to be taken from their time budget) and staff hours.

Between rounds, :func:`service_commitments_kept` says how far services kept their commitments
(shocks, capacity and budget can break them; a service can perform partnership rather than do
it, "consultation theatre"); citizens keep theirs as far as their own month's choice of
contribution reaches it (``sim.rules.negotiation.commitment_met``), and
:func:`verify_commitments` checks a random share of services' reports at a cost and with error.

Every function is pure numpy: random numbers come in as arrays drawn by the caller from the
model's named streams, never inside. ``docs/forums.md`` documents the equations and parameters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from sim.rules import portable
from sim.rules._types import BoolArray, FloatArray, IntArray

N_DOMAINS = 3


@dataclass(frozen=True)
class ForumParams:
    """Constants of the forum rules, with defaults; units, ranges and sources in each comment.

    ``docs/forums.md`` gives the same table with the reasoning behind each default.
    """

    # --- attendance (who comes) ---
    attend_base: float = 0.05
    """Chance a resident of middling resources, efficacy and trust (all 0.5) attends a round;
    probability, [0, 1]. Source: Community Life Survey 2019/20 (DCMS, England): in the past 12
    months 21 % of adults took part in 'civic consultation' (mostly questionnaires, also public
    meetings) and 8 % in 'civic activism' (incl. decision-making groups on local services). One
    local forum round draws a fraction of either; 5 % is a judgement within that range."""
    attend_resources: float = 1.5
    """Log-odds of attending per unit of the resources index (0 = worst off, 1 = best off);
    [0, 5]. Source: Verba, Schlozman & Brady 1995 (participation follows time, money and civic
    skills); a log-odds gap of 1.5 gives roughly a 3-4x gap in attendance between the worst and
    best off at low base rates, the order of the socio-economic gaps they report."""
    attend_efficacy: float = 1.0
    """Log-odds of attending per unit of self-efficacy; [0, 5]. Direction from Verba et al.
    1995 (political efficacy); magnitude stylised."""
    attend_trust: float = 1.0
    """Log-odds of attending per unit of trust in local services; [0, 5]. Direction from the
    trust-participation link (e.g. Almond & Verba 1963); magnitude stylised."""
    support_lift: float = 1.0
    """Rise in the odds of attending at full participation support (childcare, travel,
    outreach), as a multiple: odds x (1 + support_lift * support); [0, 10]. Stylised: Fung 2006
    reports that recruitment and support widen who takes part; no usable effect size."""
    support_equalise: float = 0.7
    """Share of the resource gradient removed at full participation support; [0, 1]. Stylised
    (Fung 2006, targeted recruitment of under-represented residents)."""

    # --- quorum ---
    quorum: float = 0.01
    """Turnout (share of residents) a forum needs for its agreement to be in force; [0, 1].
    Stylised: below this no one would call it a community agreement."""
    min_attenders: int = 3
    """Fewest attenders for an agreement to be in force; count, >= 1. Stylised (a forum of one
    is not a forum)."""

    # --- perception ---
    noise_sd_one: float = 0.25
    """Standard deviation of the forum's reading of an outcome share with one attender; share
    units, [0, 1]. Falls as 1/sqrt(attenders) (sampling of individual experience). Stylised:
    one person's experience of a service is a single draw from a spread of cases."""
    noise_floor: float = 0.02
    """Standard deviation that remains however many attend (group dynamics, loud voices);
    share units, [0, 0.5]. Stylised."""
    bias_weight: float = 0.8
    """Weight of attenders' own experience in the forum's reading (the rest is the whole
    community's experience, as relayed by the service's data and outreach); [0, 1]. Stylised:
    forums mostly hear those in the room (Fung 2006 on self-selection)."""
    need_experience: float = 1.0
    """How far a resident's experience of a service falls short of the community's lived outcome
    per unit of need above the community's mean need (and exceeds it below); [0, 2]. The direction
    is the inverse care law (Tudor Hart 1971: those who need services most are served worst); the
    magnitude is stylised. It is what makes attenders' experience differ from the community's."""

    # --- bargaining (generalised Nash) ---
    citizen_power: float = 0.5
    """Citizens' bargaining power alpha in the generalised Nash product; [0, 1]. 0.5 is the
    symmetric Nash (1950) solution; Binmore, Rubinstein & Wolinsky 1986 read alpha as relative
    patience."""
    citizen_value: float = 1.0
    """Value to attenders of one unit of outcome rise at full need, in the units of their
    costs; >= 0. Stylised (sets the scale of the citizens' side)."""
    citizen_cost: float = 1.0
    """Attenders' cost of an extra contribution share e, as citizen_cost * e^2; >= 0.
    Stylised: convex because free time grows scarcer as more of it is given."""
    citizen_outside: float = 0.0
    """Attenders' disagreement payoff (what they get without a deal: complaint, exit, other
    channels); >= 0. Stylised; 0 means no alternative."""
    service_value: float = 1.0
    """Value to a service of one unit of outcome rise (mission, legitimacy), in the units of
    its costs; >= 0. Scaled by ethos, see ethos_weight. Stylised."""
    ethos_weight: float = 0.5
    """How much of the service's value depends on its public-service ethos: value x
    (1 - ethos_weight + ethos_weight * ethos); [0, 1]. Stylised (Le Grand 2003, knights)."""
    service_cost: float = 1.0
    """Service's cost of a partnership share p of its capacity, as service_cost * p^2; also the
    saving per unit it makes by performing rather than doing partnership; >= 0. Stylised."""
    service_outside: float = 0.0
    """Service's disagreement payoff (what it keeps without a deal, e.g. the ease of no
    local commitments); >= 0. Stylised."""
    outcome_gain: float = 1.0
    """Outcome rise, as a share of the headroom (1 - perceived), when both inputs equal 1;
    [0, 5]. Inputs combine as a CES with elasticity 0.5 (complements, DESIGN.md mechanism 1):
    g = outcome_gain * 2 p e' / (p + e'). Stylised."""
    partnership_max: float = 0.3
    """Largest partnership share of capacity a service can commit; [0, 1]. Stylised; the
    service's spare share caps it further (capacity limit)."""
    contribution_max: float = 0.3
    """Largest extra contribution share an attender can commit per domain; [0, 1]. Stylised."""
    contribution_reach: float = 2.4
    """Residents each attender's commitment reaches (themselves plus those they organise): the
    citizens' input counts as e x min(1, turnout x reach); >= 0. Stylised: a handful of
    attenders cannot deliver a community's contribution alone."""
    grid_points: int = 21
    """Candidate values per side in the bargaining grid; count, >= 2. Numerical, not a model
    parameter: the deal is exact to 1/(grid_points - 1) of each side's range."""

    # --- theatre and verification ---
    theatre_max: float = 1.0
    """Largest share of a commitment a service can perform rather than do; [0, 1]. Stylised
    ('consultation theatre': Arnstein 1969's tokenism rungs)."""
    theatre_sanction: float = 2.0
    """Penalty to a service per unit of theatre found by verification, in units of
    service_cost; >= 0. Stylised."""
    verification_miss: float = 0.2
    """Chance a verification visit misses theatre that is there (1 - detection); [0, 1].
    Stylised."""
    verification_error: float = 0.05
    """Standard deviation of a verifier's measurement of delivered partnership; share units,
    [0, 0.5]. Stylised."""
    verification_hours: float = 7.5
    """Staff hours one verification of one service's commitments takes; hours, >= 0.
    Stylised (one working day)."""

    # --- breakage ---
    shock_breakage: float = 1.0
    """Share of a service's spare capacity lost per unit of shock; [0, 5]. Stylised."""

    # --- hours and shadow prices ---
    citizen_hours: float = 2.5
    """Hours an attender spends on one round (meeting plus travel and reading); hours, [0, 40].
    Stylised from typical two-hour evening meetings."""
    staff_hours_meeting: float = 6.0
    """Staff hours per service per round (preparing, attending, writing up); hours, >= 0.
    Stylised."""
    staff_hours_attender: float = 0.25
    """Extra staff hours per service per attender (follow-up, outreach); hours, >= 0.
    Stylised."""
    citizen_hour_value: float = 15.0
    """Shadow price of a citizen's hour; GBP/hour. Approximate: ONS values volunteering hours
    at a wage rate (replacement cost) in its Household Satellite Account; median gross hourly
    pay in the UK was about GBP 15-17 in 2023 (ASHE, all and full-time employees). To be
    checked against the lead's choice for ``social_cost``."""
    staff_hour_value: float = 30.0
    """Cost of a staff hour including on-costs; GBP/hour. Approximate: local-government officer
    pay (NJC scales) plus about 30 % on-costs and overheads."""


@dataclass(frozen=True)
class ForumCitizens:
    """Per-citizen arrays (length N) the forum reads.

    Attributes:
        trust: trust in local services, [0, 1].
        efficacy: self-efficacy, [0, 1].
        resources: how well off the citizen is, [0, 1] (see :func:`resources_index`).
        share: current contribution share, [0, 1].
        need: need per domain, (N, 3) in [0, 1].
        experience: lived outcome the citizen meets per domain, (N, 3) in [0, 1].
    """

    trust: FloatArray
    efficacy: FloatArray
    resources: FloatArray
    share: FloatArray
    need: FloatArray
    experience: FloatArray


@dataclass(frozen=True)
class ForumServices:
    """Per-service arrays (length S) the forum reads.

    Attributes:
        community: community of each service.
        domain: domain of each service, 0..2.
        lived: the service's true lived outcome, [0, 1] (not used by the forum's reading, which
            comes from citizens' experience; kept for callers that compare the two).
        spare: share of capacity the service could commit without cutting its functioning
            floor, [0, 1] (capacity limit).
        ethos: public-service ethos, [0, 1].
        prior: the forum's previous reading (or the recorded figure), [0, 1]; used where no one
            attends.
    """

    community: IntArray
    domain: IntArray
    lived: FloatArray
    spare: FloatArray
    ethos: FloatArray
    prior: FloatArray


@dataclass(frozen=True)
class ForumDraws:
    """Random numbers for one round, drawn by the caller from the model's named streams.

    Attributes:
        attend: uniform [0, 1) per citizen (N,).
        perception: standard normal per service (S,).
    """

    attend: FloatArray
    perception: FloatArray


@dataclass(frozen=True)
class ForumRound:
    """What one forum round produced.

    Only entries of due communities/services are new; the caller keeps its old values
    elsewhere. No entry is NaN.

    Attributes:
        attended: whether each citizen attended (N,); False outside due communities.
        attend_probability: each citizen's chance of attending (N,).
        attenders: number of attenders per community (C,).
        turnout: attenders / residents per community (C,); 0 for an empty community.
        due_service: whether each service's community met this round (S,).
        perceived: the forum's reading of each service's outcome (S,), in [0, 1]; the prior
            where no one attended or the community was not due.
        in_force: whether an agreement is in force per service (S,).
        objective: the agreed outcome objective (S,), in [0, 1]; the perceived reading where no
            agreement is in force (no promised rise).
        ambition: agreed outcome rise, objective - perceived (S,), >= 0.
        partnership: the service's committed partnership share (S,); 0 without an agreement.
        contribution: the attenders' committed extra contribution share per domain (S,).
        citizen_commitment: each citizen's committed contribution share (N,): current share
            plus the extras agreed in their community; equal to the current share where the
            citizen made no commitment (see ``committed``).
        committed: whether each citizen made a commitment (attended and at least one deal in
            force in their community) (N,).
        surplus_citizens: the attenders' surplus U_c - d_c at the deal (S,); 0 without one.
        surplus_service: the service's surplus U_s - d_s at the deal (S,); 0 without one.
        citizen_hours: forum hours per citizen this month (N,).
        staff_hours: forum staff hours per service this month (S,).
    """

    attended: BoolArray
    attend_probability: FloatArray
    attenders: FloatArray
    turnout: FloatArray
    due_service: BoolArray
    perceived: FloatArray
    in_force: BoolArray
    objective: FloatArray
    ambition: FloatArray
    partnership: FloatArray
    contribution: FloatArray
    citizen_commitment: FloatArray
    committed: BoolArray
    surplus_citizens: FloatArray
    surplus_service: FloatArray
    citizen_hours: FloatArray
    staff_hours: FloatArray


def _sum_by(group: IntArray, weights: FloatArray, n_groups: int) -> FloatArray:
    """Sum of ``weights`` per group, as float64 (bincount returns int64 for empty input)."""
    return np.bincount(group, weights=weights, minlength=n_groups).astype(np.float64)


def personal_experience(
    lived_of_citizen: FloatArray, need: FloatArray, community: IntArray, n_communities: int, weight: float
) -> FloatArray:
    """Each resident's experience of their community's services, (N, 3) in [0, 1].

    ``experience = clip(lived - weight * (need - mean need of the community))`` per domain: a
    service's lived outcome is an average over its residents, and those with more need than their
    neighbours are served worse (the inverse care law, Tudor Hart 1971). Attenders are better off
    and less needy, so a forum that hears them hears a kinder reading than the community's.

    Args:
        lived_of_citizen: the lived outcome of each resident's service per domain, (N, 3).
        need: each resident's need per domain, (N, 3).
        community: each resident's community (N,), 0..C-1.
        n_communities: C.
        weight: ``need_experience``.
    """
    residents = np.maximum(_sum_by(community, np.ones(community.shape[0]), n_communities), 1.0)
    mean_need = np.stack(
        [_sum_by(community, need[:, d], n_communities) / residents for d in range(need.shape[1])], axis=1
    )
    return np.clip(lived_of_citizen - weight * (need - mean_need[community]), 0.0, 1.0)


def resources_index(budget: FloatArray, deprivation: FloatArray, own_need: FloatArray, budget_ref: float) -> FloatArray:
    """How well off each citizen is, in [0, 1], from what the model's state holds.

    Verba, Schlozman & Brady (1995) name time, money and civic skills. The state has no income,
    so "better off" averages three proxies with equal weight: free time (``budget`` against
    twice ``budget_ref``, the population median, capped at 1), the affluence of the citizen's
    community (1 - deprivation) and health and circumstance (1 - mean need across domains).

    Args:
        budget: discretionary hours a month (N,).
        deprivation: deprivation of each citizen's community (N,), [0, 1].
        own_need: mean need across domains (N,), [0, 1].
        budget_ref: the reference budget (e.g. the population median), > 0.

    Returns:
        The resources index (N,), in [0, 1].
    """
    time_ = np.clip(budget / (2.0 * budget_ref), 0.0, 1.0) if budget_ref > 0 else np.zeros_like(budget)
    return np.clip((time_ + (1.0 - deprivation) + (1.0 - own_need)) / 3.0, 0.0, 1.0)


def attendance_probability(
    p: ForumParams, resources: FloatArray, efficacy: FloatArray, trust: FloatArray, support: float
) -> FloatArray:
    """Chance each citizen attends a round: a logistic in resources, efficacy and trust.

    ``logit P = logit(attend_base) + log(1 + support_lift * support)
    + (1 - support_equalise * support) * attend_resources * (resources - 0.5)
    + attend_efficacy * (efficacy - 0.5) + attend_trust * (trust - 0.5)``.
    Centring at 0.5 keeps ``attend_base`` the rate of a middling resident.

    Args:
        p: forum constants.
        resources: resources index (N,), [0, 1].
        efficacy: self-efficacy (N,), [0, 1].
        trust: trust (N,), [0, 1].
        support: participation support, [0, 1].

    Returns:
        Attendance probabilities (N,), in [0, 1].
    """
    base = float(np.clip(p.attend_base, 0.0, 1.0))
    if base <= 0.0:
        return np.zeros_like(resources)
    if base >= 1.0:
        return np.ones_like(resources)
    logit = (
        portable.log(base / (1.0 - base))
        + portable.log(1.0 + p.support_lift * support)
        + (1.0 - p.support_equalise * support) * p.attend_resources * (resources - 0.5)
        + p.attend_efficacy * (efficacy - 0.5)
        + p.attend_trust * (trust - 0.5)
    )
    return portable.sigmoid(logit)


def perceived_outcome(
    p: ForumParams,
    attenders_mean: FloatArray,
    community_mean: FloatArray,
    attenders: FloatArray,
    z: FloatArray,
    prior: FloatArray,
) -> FloatArray:
    """The forum's noisy, attender-biased reading of each service's outcome.

    ``perceived = clip(b * A + (1 - b) * M + z * sqrt(noise_sd_one^2 / n + noise_floor^2))``,
    with A the attenders' mean experience, M the community's, n attenders and b
    ``bias_weight``; the prior where n = 0. When everyone attends, A = M and only noise remains.

    Args:
        p: forum constants.
        attenders_mean: attenders' mean experience of the service (S,); any value where n = 0.
        community_mean: all residents' mean experience of the service (S,).
        attenders: attenders per service's community (S,).
        z: standard normal draws (S,).
        prior: reading to keep where no one attended (S,).

    Returns:
        The perceived outcome (S,), in [0, 1].
    """
    n = np.maximum(attenders, 1.0)
    sd = np.sqrt(p.noise_sd_one**2 / n + p.noise_floor**2)
    a = np.nan_to_num(attenders_mean)
    reading = np.clip(p.bias_weight * a + (1.0 - p.bias_weight) * community_mean + sd * z, 0.0, 1.0)
    return np.where(attenders > 0, reading, prior)


@dataclass(frozen=True)
class Bargain:
    """The generalised Nash bargaining solution per service (all arrays (S,)).

    Attributes:
        feasible: a deal with strictly positive surplus on both sides exists.
        partnership: the service's committed partnership share (0 where not feasible).
        contribution: attenders' committed extra contribution share (0 where not feasible).
        gain: promised outcome rise (0 where not feasible).
        surplus_citizens: U_c - d_c at the deal (0 where not feasible).
        surplus_service: U_s - d_s at the deal (0 where not feasible).
    """

    feasible: BoolArray
    partnership: FloatArray
    contribution: FloatArray
    gain: FloatArray
    surplus_citizens: FloatArray
    surplus_service: FloatArray


BARGAIN_BLOCK = 2048  # services per block: bounds the (block, K, K) grids to ~7 MB each at K = 21


def bargain(
    p: ForumParams,
    perceived: FloatArray,
    attenders_need: FloatArray,
    reach: FloatArray,
    spare: FloatArray,
    ethos: FloatArray,
) -> Bargain:
    """Generalised Nash bargaining over (partnership p, contribution e) per service.

    For a deal (p, e), with e' = e * reach and headroom h = 1 - perceived, the promised rise is
    ``G = h * min(1, outcome_gain * 2 p e' / (p + e'))`` (CES, elasticity 0.5). Then
    ``U_c = citizen_value * need_att * G - citizen_cost * e^2`` and
    ``U_s = service_value * (1 - ethos_weight + ethos_weight * ethos) * G - service_cost * p^2``.
    The deal maximises ``alpha log(U_c - d_c) + (1 - alpha) log(U_s - d_s)`` over a grid
    p in [0, min(partnership_max, spare)], e in [0, contribution_max], among deals where both
    surpluses are strictly positive. Ties go to the first grid point (smallest p, then e).

    Args:
        p: forum constants.
        perceived: the forum's reading per service (S,).
        attenders_need: attenders' mean need in the service's domain (S,); 0 with no attenders.
        reach: min(1, turnout * contribution_reach) per service (S,).
        spare: the service's spare share of capacity (S,).
        ethos: the service's ethos (S,).

    Returns:
        The bargain per service.
    """
    n_s = perceived.shape[0]
    if n_s <= BARGAIN_BLOCK:
        return _bargain_block(p, perceived, attenders_need, reach, spare, ethos)
    # Blocks of services keep memory flat at 100,000 communities; the loop is over blocks only.
    parts = [
        _bargain_block(p, *(a[lo : lo + BARGAIN_BLOCK] for a in (perceived, attenders_need, reach, spare, ethos)))
        for lo in range(0, n_s, BARGAIN_BLOCK)
    ]
    return Bargain(*(np.concatenate([getattr(b, f.name) for b in parts]) for f in dataclasses.fields(Bargain)))


def _bargain_block(
    p: ForumParams,
    perceived: FloatArray,
    attenders_need: FloatArray,
    reach: FloatArray,
    spare: FloatArray,
    ethos: FloatArray,
) -> Bargain:
    """The bargain of one block of services; see :func:`bargain`."""
    k = max(2, int(p.grid_points))
    unit = np.linspace(0.0, 1.0, k)
    p_max = np.clip(np.minimum(p.partnership_max, spare), 0.0, 1.0)
    pp = (p_max[:, None] * unit[None, :])[:, :, None]  # (S, K, 1)
    ee = (p.contribution_max * unit)[None, None, :]  # (1, 1, K)
    e_eff = ee * reach[:, None, None]
    total = pp + e_eff
    with np.errstate(invalid="ignore", divide="ignore"):
        ces = np.where(total > 0, 2.0 * pp * e_eff / np.where(total > 0, total, 1.0), 0.0)
    headroom = np.clip(1.0 - perceived, 0.0, 1.0)[:, None, None]
    gain = headroom * np.minimum(1.0, p.outcome_gain * ces)
    v_s = p.service_value * (1.0 - p.ethos_weight + p.ethos_weight * ethos)
    s_c = p.citizen_value * attenders_need[:, None, None] * gain - p.citizen_cost * ee**2 - p.citizen_outside
    s_s = v_s[:, None, None] * gain - p.service_cost * pp**2 - p.service_outside
    ok = (s_c > 0) & (s_s > 0)
    alpha = float(np.clip(p.citizen_power, 0.0, 1.0))
    # Logs of clipped surpluses, then -inf where a side would lose: fewer temporaries than where().
    tiny = np.finfo(np.float64).tiny
    score = alpha * portable.log(np.maximum(s_c, tiny)) + (1.0 - alpha) * portable.log(np.maximum(s_s, tiny))
    score[~ok] = -np.inf
    n_s = perceived.shape[0]
    flat = score.reshape(n_s, k * k)
    best = np.argmax(flat, axis=1) if n_s else np.zeros(0, dtype=np.int64)
    rows = np.arange(n_s)
    feasible = np.isfinite(flat[rows, best]) if n_s else np.zeros(0, dtype=bool)
    i_p, i_e = np.divmod(best, k)

    def pick(a: FloatArray) -> FloatArray:
        full = np.broadcast_to(a, (n_s, k, k)).reshape(n_s, k * k)
        return np.where(feasible, full[rows, best], 0.0)

    return Bargain(
        feasible=feasible,
        partnership=np.where(feasible, p_max * unit[i_p], 0.0),
        contribution=np.where(feasible, p.contribution_max * unit[i_e], 0.0),
        gain=pick(gain),
        surplus_citizens=pick(s_c),
        surplus_service=pick(s_s),
    )


def forum_round(
    p: ForumParams,
    citizens: ForumCitizens,
    services: ForumServices,
    community_of_citizen: IntArray,
    due_communities: BoolArray,
    draws: ForumDraws,
    support: float = 0.0,
) -> ForumRound:
    """One forum round: attendance, perception, bargaining, commitments and hours.

    Args:
        p: forum constants.
        citizens: citizen arrays (N,).
        services: service arrays (S,).
        community_of_citizen: each citizen's community (N,), 0..C-1.
        due_communities: which communities meet this month (C,).
        draws: uniform and normal draws for this round.
        support: participation support this month, [0, 1].

    Returns:
        The round's outcome; see :class:`ForumRound`.
    """
    n_c = due_communities.shape[0]
    com = community_of_citizen
    prob = attendance_probability(p, citizens.resources, citizens.efficacy, citizens.trust, support)
    attended = (draws.attend < prob) & due_communities[com]
    att_f = attended.astype(np.float64)
    residents = np.bincount(com, minlength=n_c).astype(np.float64)
    attenders = _sum_by(com, att_f, n_c)
    turnout = np.divide(attenders, residents, out=np.zeros(n_c), where=residents > 0)

    # Per community x domain sums, gathered per service: (C, 3) tables.
    def by_community(values: FloatArray, weights: FloatArray) -> FloatArray:
        out = np.empty((n_c, N_DOMAINS))
        for d in range(N_DOMAINS):
            out[:, d] = _sum_by(com, values[:, d] * weights, n_c)
        return out

    ones = np.ones_like(att_f)
    exp_all = by_community(citizens.experience, ones)
    exp_att = by_community(citizens.experience, att_f)
    need_att = by_community(citizens.need, att_f)
    sc, sd = services.community, services.domain
    n_att_s = attenders[sc]
    n_res_s = residents[sc]
    comm_mean = np.divide(
        exp_all[sc, sd], n_res_s, out=np.asarray(services.prior, dtype=np.float64).copy(), where=n_res_s > 0
    )
    att_mean = np.divide(exp_att[sc, sd], n_att_s, out=np.zeros_like(n_att_s), where=n_att_s > 0)
    att_need = np.divide(need_att[sc, sd], n_att_s, out=np.zeros_like(n_att_s), where=n_att_s > 0)
    due_s = due_communities[sc]
    prior = np.asarray(services.prior, dtype=np.float64)
    perceived = np.where(due_s, perceived_outcome(p, att_mean, comm_mean, n_att_s, draws.perception, prior), prior)
    reach = np.minimum(1.0, turnout[sc] * p.contribution_reach)
    quorate = (turnout[sc] >= p.quorum) & (n_att_s >= max(1, p.min_attenders)) & due_s
    # Bargain only where a quorate forum met: usually a small share of services in a month.
    idx = np.flatnonzero(quorate)
    deal = bargain(p, perceived[idx], att_need[idx], reach[idx], services.spare[idx], services.ethos[idx])
    in_force = np.zeros(sc.shape[0], dtype=bool)
    in_force[idx] = deal.feasible

    def agreed(a: FloatArray) -> FloatArray:
        out = np.zeros(sc.shape[0])
        out[idx] = a
        return out

    gain = agreed(deal.gain)
    contribution = agreed(deal.contribution)
    # Each attender commits to the extras agreed for every domain of their community.
    extra_c = _sum_by(sc, contribution, n_c)
    deals_c = _sum_by(sc, in_force.astype(np.float64), n_c)
    committed = attended & (deals_c[com] > 0)
    citizen_commitment = np.where(committed, np.minimum(1.0, citizens.share + extra_c[com]), citizens.share)
    staff = np.where(due_s, p.staff_hours_meeting + p.staff_hours_attender * n_att_s, 0.0)
    return ForumRound(
        attended=attended,
        attend_probability=prob,
        attenders=attenders,
        turnout=turnout,
        due_service=due_s,
        perceived=perceived,
        in_force=in_force,
        objective=np.clip(perceived + gain, 0.0, 1.0),
        ambition=gain,
        partnership=agreed(deal.partnership),
        contribution=contribution,
        citizen_commitment=citizen_commitment,
        committed=committed,
        surplus_citizens=agreed(deal.surplus_citizens),
        surplus_service=agreed(deal.surplus_service),
        citizen_hours=att_f * p.citizen_hours,
        staff_hours=staff,
    )


@dataclass(frozen=True)
class ServiceDelivery:
    """How far each service kept its partnership commitment this month (arrays (S,)).

    Attributes:
        deliverable: partnership share the service could deliver after shocks, capacity and
            budget: min(committed, spare * (1 - shock_breakage * shock) * budget).
        theatre: share of the commitment the service chooses to perform rather than do.
        real: partnership share actually done: deliverable * (1 - theatre).
        reported: partnership share the service reports: real + theatre * (committed - real).
        kept_true: real / committed (1 where nothing was committed).
        kept_reported: reported / committed (1 where nothing was committed).
    """

    deliverable: FloatArray
    theatre: FloatArray
    real: FloatArray
    reported: FloatArray
    kept_true: FloatArray
    kept_reported: FloatArray


def theatre_share(p: ForumParams, ethos: FloatArray, verification_rate: float) -> FloatArray:
    """Share of its commitment a service performs rather than does ("consultation theatre").

    A unit performed saves ``service_cost`` of staff effort, discounted by ethos (a knight does
    not fake); it risks ``theatre_sanction * service_cost`` with the chance of being found,
    ``verification_rate * (1 - verification_miss)``. The share is the net incentive relative
    to the saving: ``theatre_max * clip((1 - ethos) - rate * (1 - miss) * sanction, 0, 1)``.

    Args:
        p: forum constants.
        ethos: service ethos (S,), [0, 1].
        verification_rate: monthly chance a service's commitments are verified, [0, 1].

    Returns:
        Theatre share (S,), in [0, theatre_max].
    """
    deterrence = verification_rate * (1.0 - p.verification_miss) * p.theatre_sanction
    return p.theatre_max * np.clip((1.0 - ethos) - deterrence, 0.0, 1.0)


def service_commitments_kept(
    p: ForumParams,
    committed: FloatArray,
    spare: FloatArray,
    shock: FloatArray,
    budget: FloatArray,
    ethos: FloatArray,
    verification_rate: float,
) -> ServiceDelivery:
    """The services' side of the month: delivered versus committed partnership.

    Args:
        p: forum constants.
        committed: committed partnership share (S,); 0 where no agreement is in force.
        spare: share of capacity free for partnership this month (S,), [0, 1].
        shock: shock to the service this month (S,), >= 0.
        budget: share of planned budget available this month (S,), [0, 1].
        ethos: service ethos (S,), [0, 1].
        verification_rate: monthly chance of verification, [0, 1].

    Returns:
        The delivery per service.
    """
    room = np.clip(spare * (1.0 - p.shock_breakage * shock) * budget, 0.0, 1.0)
    deliverable = np.minimum(committed, room)
    theatre = np.where(committed > 0, theatre_share(p, ethos, verification_rate), 0.0)
    real = deliverable * (1.0 - theatre)
    reported = real + theatre * (committed - real)
    has = committed > 0
    safe = np.where(has, committed, 1.0)
    return ServiceDelivery(
        deliverable=deliverable,
        theatre=theatre,
        real=real,
        reported=reported,
        kept_true=np.where(has, np.minimum(1.0, real / safe), 1.0),
        kept_reported=np.where(has, np.minimum(1.0, reported / safe), 1.0),
    )


@dataclass(frozen=True)
class Verification:
    """The result of verifying services' commitments this month (arrays (S,)).

    Attributes:
        checked: which services were verified.
        measured: the verifier's measure of real partnership (the report where unchecked).
        found: theatre found (reported - measured, when detected; 0 otherwise).
        assessed_kept: measured / committed where checked, reported / committed otherwise.
        staff_hours: verification hours per service.
    """

    checked: BoolArray
    measured: FloatArray
    found: FloatArray
    assessed_kept: FloatArray
    staff_hours: FloatArray


def verify_commitments(
    p: ForumParams,
    delivery: ServiceDelivery,
    committed: FloatArray,
    verification_rate: float,
    u_check: FloatArray,
    u_detect: FloatArray,
    z_error: FloatArray,
) -> Verification:
    """Verify a random share of services' partnership reports, at a cost and with error.

    A service with a commitment is checked with probability ``verification_rate``. A check
    detects theatre with probability 1 - ``verification_miss``; when it does, the verifier
    measures real partnership with normal error ``verification_error``; when it misses, it
    accepts the report.

    Args:
        p: forum constants.
        delivery: the services' delivery this month.
        committed: committed partnership share (S,).
        verification_rate: monthly chance of a check, [0, 1].
        u_check: uniform draws (S,) for who is checked.
        u_detect: uniform draws (S,) for whether a check sees through theatre.
        z_error: standard normal draws (S,) for measurement error.

    Returns:
        What verification found, and its staff hours.
    """
    has = committed > 0
    checked = has & (u_check < verification_rate)
    detects = checked & (u_detect >= p.verification_miss)
    measured_real = np.clip(delivery.real + p.verification_error * z_error, 0.0, 1.0)
    measured = np.where(detects, measured_real, delivery.reported)
    found = np.where(detects, np.maximum(0.0, delivery.reported - measured), 0.0)
    safe = np.where(has, committed, 1.0)
    assessed = np.where(has, np.minimum(1.0, measured / safe), 1.0)
    return Verification(
        checked=checked,
        measured=measured,
        found=found,
        assessed_kept=assessed,
        staff_hours=np.where(checked, p.verification_hours, 0.0),
    )

"""Model state as a struct of arrays, and its initialisation from the config.

Citizens, services and communities each have one dataclass of numpy arrays. Mesa agents
(``sim/agents``) are thin views onto one row. Initialisation draws from named child streams of
the model's one seed, so two regimes run on the same seed see the same citizens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.config import DOMAINS, SimConfig
from sim.rules import coproduction as cp
from sim.rules import portable
from sim.rules._types import BoolArray, ContactArray, FloatArray, IntArray
from sim.rules.network import CONTACT_DTYPE, build_contacts, neighbour_mean

# Child streams of the root SeedSequence, in a fixed order: append new ones, never reorder,
# so that adding a process does not reshuffle the draws of the others.
STREAMS = (
    "network",
    "population",
    "services",
    "citizens",
    "engagement",
    "experience",
    "forum",
    "shocks",
    "cases",
    "audits",
    "mesa",
    "inspections",
    "forum_perception",
    "verification",
)


NEVER = np.iinfo(np.int64).min // 2  # 'no forum round yet' (months run negative in the burn-in)


def make_streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per stochastic process, all children of one SeedSequence."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)}


@dataclass
class CitizenState:
    """Per-citizen arrays (length N), sorted by community."""

    community: IntArray
    coop_type: IntArray
    budget: FloatArray
    need: FloatArray  # (N, 3), one column per domain
    own_need: FloatArray
    care_opportunity: FloatArray
    contacts: ContactArray  # (N, k), column-major: each contact slot is one contiguous index vector
    motivation: FloatArray
    trust: FloatArray
    efficacy: FloatArray
    belief: FloatArray
    share: FloatArray  # contribution share chosen this month
    realised: FloatArray  # pro-social hours / free time, what contacts see
    volunteering: FloatArray
    caring: FloatArray
    self_reliance: FloatArray
    engaged: BoolArray
    participated: BoolArray  # took part in the latest forum round
    commitment: FloatArray  # committed contribution share, NaN if none
    motivation_trait: FloatArray = field(default_factory=lambda: np.zeros(0))  # own level motivation reverts to
    trust_trait: FloatArray = field(default_factory=lambda: np.zeros(0))  # stable trust disposition (initial trust)
    forum_hours: FloatArray = field(default_factory=lambda: np.zeros(0))  # forum hours taken from next month

    @property
    def n(self) -> int:
        """Number of citizens."""
        return int(self.community.shape[0])


@dataclass
class CommunityState:
    """Per-community arrays (length C)."""

    deprivation: FloatArray
    size: FloatArray
    start: IntArray
    social_capital: FloatArray
    participation: FloatArray  # share of citizens in the latest forum round
    forum_information: FloatArray
    last_round: IntArray  # month of the latest forum round, NEVER if none
    attenders: FloatArray = field(default_factory=lambda: np.zeros(0))  # attenders of the latest round


@dataclass
class ServiceState:
    """Per-service arrays (length S = C * 3); service s serves community s // 3 in domain s % 3."""

    community: IntArray
    domain: IntArray
    capacity: FloatArray
    ethos: FloatArray
    shares: FloatArray  # (S, 6)
    shock: FloatArray
    target: FloatArray
    objective: FloatArray
    agreement: FloatArray  # 1 where a forum agreement is in force
    reported: FloatArray
    lived: FloatArray
    audited: FloatArray
    found_share: FloatArray
    commitment_kept: FloatArray
    cases: FloatArray = field(default_factory=lambda: np.zeros(0))
    inspected: FloatArray = field(default_factory=lambda: np.zeros(0))  # 1 where functioning was inspected
    functioning_seen: FloatArray = field(default_factory=lambda: np.zeros(0))  # the inspector's measurement
    payment: FloatArray = field(default_factory=lambda: np.zeros(0))  # payoff paid out this month
    partnership_committed: FloatArray = field(default_factory=lambda: np.zeros(0))  # p* agreed in a forum
    theatre_found: FloatArray = field(default_factory=lambda: np.zeros(0))  # theatre verification found


def init_communities(cfg: SimConfig, rng: np.random.Generator) -> tuple[CommunityState, IntArray]:
    """Communities and each citizen's community (sorted)."""
    pop = cfg.population
    c = pop.n_communities
    deprivation = rng.beta(pop.deprivation_alpha, pop.deprivation_beta, size=c)
    community = np.sort(rng.integers(0, c, size=pop.n_citizens)).astype(np.int64)
    size = np.bincount(community, minlength=c).astype(np.float64)
    start = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    state = CommunityState(
        deprivation=deprivation,
        size=size,
        start=start,
        social_capital=np.full(c, pop.social_capital_initial),
        participation=np.zeros(c),
        forum_information=np.zeros(c),
        last_round=np.full(c, NEVER, dtype=np.int64),
        attenders=np.zeros(c),
    )
    return state, community


def init_citizens(
    cfg: SimConfig, community: IntArray, comm: CommunityState, rng: np.random.Generator, net_rng: np.random.Generator
) -> CitizenState:
    """Citizens' traits and initial state."""
    pop, cit = cfg.population, cfg.citizens
    n = community.shape[0]
    dep = comm.deprivation[community]
    u_type = rng.random(n)
    coop_type = np.where(
        u_type < pop.share_conditional, 0, np.where(u_type < pop.share_conditional + pop.share_free_rider, 1, 2)
    ).astype(np.int64)
    budget = (
        pop.time_budget_median
        * portable.exp(pop.time_budget_sigma * rng.standard_normal(n))
        * (1.0 - pop.deprivation_time_penalty * dep)
    )
    need_mean = np.clip(pop.need_mean + pop.need_deprivation_gain * dep, 0.01, 0.99)
    need = rng.beta(4.0 * need_mean[:, None], 4.0 * (1.0 - need_mean[:, None]), size=(n, len(DOMAINS)))
    own_need = need.mean(axis=1)
    k = pop.contacts_per_citizen
    contacts = (
        build_contacts(
            community,
            comm.start,
            comm.size.astype(np.int64),
            net_rng.random((n, k)),
            net_rng.random((n, k)),
            pop.within_community_share,
        )
        if n > 0
        else np.zeros((0, k), dtype=CONTACT_DTYPE)
    )
    care_opportunity = neighbour_mean(own_need, contacts) if n > 0 else np.zeros(0)
    motivation = np.clip(pop.motivation_mean + pop.motivation_sd * rng.standard_normal(n), 0.0, 1.0)
    trust = np.clip(
        pop.trust_mean - pop.trust_deprivation_penalty * dep + pop.trust_sd * rng.standard_normal(n), 0.0, 1.0
    )
    efficacy = np.clip(
        pop.efficacy_mean - pop.efficacy_deprivation_penalty * dep + 0.1 * rng.standard_normal(n), 0.0, 1.0
    )
    belief = np.full(n, cit.initial_belief)
    zeros = np.zeros(n)
    return CitizenState(
        community=community,
        coop_type=coop_type,
        budget=budget,
        need=need,
        own_need=own_need,
        care_opportunity=care_opportunity,
        contacts=contacts,
        motivation=motivation,
        trust=trust,
        efficacy=efficacy,
        belief=belief,
        share=belief.copy(),
        realised=belief.copy(),
        volunteering=zeros.copy(),
        caring=zeros.copy(),
        self_reliance=zeros.copy(),
        engaged=rng.random(n) < 0.2,
        participated=np.zeros(n, dtype=bool),
        commitment=np.full(n, np.nan),
        motivation_trait=motivation.copy(),
        trust_trait=trust.copy(),
        forum_hours=np.zeros(n),
    )


def init_services(cfg: SimConfig, comm: CommunityState, rng: np.random.Generator) -> ServiceState:
    """One service per community and domain."""
    svc = cfg.services
    c = comm.deprivation.shape[0]
    s = c * len(DOMAINS)
    shares = np.tile(np.asarray(svc.initial_shares, dtype=np.float64), (s, 1))
    shares /= shares.sum(axis=1, keepdims=True)
    assert shares.shape[1] == cp.N_ACTIVITIES
    return ServiceState(
        community=np.repeat(np.arange(c, dtype=np.int64), len(DOMAINS)),
        domain=np.tile(np.arange(len(DOMAINS), dtype=np.int64), c),
        capacity=svc.capacity_per_citizen * portable.exp(svc.capacity_sd * rng.standard_normal(s)),
        ethos=np.clip(svc.ethos_mean + svc.ethos_sd * rng.standard_normal(s), 0.0, 1.0),
        shares=shares,
        shock=np.zeros(s),
        target=np.full(s, cfg.regime.target_level),
        objective=np.zeros(s),
        agreement=np.zeros(s),
        reported=np.full(s, np.nan),
        lived=np.full(s, np.nan),
        audited=np.zeros(s),
        found_share=np.zeros(s),
        commitment_kept=np.full(s, np.nan),
        inspected=np.zeros(s),
        functioning_seen=np.zeros(s),
        payment=np.zeros(s),
        partnership_committed=np.zeros(s),
        theatre_found=np.zeros(s),
    )

"""A citizen's month, composed from the rules: decide (before services act), adapt (after).

Both functions take the citizen arrays of a selection (the whole population, or one citizen
as a length-1 slice) plus last month's population-wide contributions, and return new values
without touching their inputs, which is what makes the update synchronous.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.rules import cooperation, motivation, time_use, trust
from sim.rules._types import BoolArray, ContactArray, FloatArray, IntArray


@dataclass(frozen=True)
class CitizenParams:
    """Constants of the citizen rules for one run."""

    cc_base: float
    cc_slope: float
    free_rider_base: float
    other_base: float
    motivation_weight: float
    contribution_noise: float
    belief_persistence: float
    norm_premium: float
    antisocial_pressure: float
    commitment_pressure: float
    self_reliance_share: float
    volunteer_share: float
    payment_crowd_out: float
    payment_price_effect: float
    engagement_exit: float
    join_current_trust: float
    motivation_gain: float
    motivation_loss: float
    motivation_reversion: float
    assurance_gain: float
    trust_gain: float
    trust_loss: float
    trust_experience_noise: float
    efficacy_rate: float


@dataclass(frozen=True)
class Decision:
    """What a citizen decides this month."""

    belief: FloatArray
    share: FloatArray
    volunteering: FloatArray
    caring: FloatArray
    self_reliance: FloatArray
    realised: FloatArray


def decide(
    p: CitizenParams,
    realised_last: FloatArray,
    contacts: ContactArray,
    coop_type: IntArray,
    belief: FloatArray,
    motivation_: FloatArray,
    commitment: FloatArray,
    budget: FloatArray,
    own_need: FloatArray,
    efficacy: FloatArray,
    engaged: BoolArray,
    care_opportunity: FloatArray,
    peer_pressure: FloatArray,
    payment_per_hour: float,
    noise: FloatArray,
) -> Decision:
    """Conditional cooperation then time use, from last month's observed contributions.

    Args:
        p: rule constants.
        realised_last: last month's realised contribution share of every citizen (N,).
        contacts: the selection's contacts, (n, k).
        coop_type: cooperation type of the selection.
        belief: last month's belief.
        motivation_: intrinsic motivation.
        commitment: committed share from a forum, NaN if none.
        budget: discretionary hours a month.
        own_need: mean need over domains.
        efficacy: self-efficacy.
        engaged: has been asked to volunteer.
        care_opportunity: care needed in the network, [0, 1].
        peer_pressure: recognition/sanction strength in the citizen's community.
        payment_per_hour: payment for volunteering.
        noise: standard normal draws, one per citizen.

    """
    observed = cooperation.observed_contribution(realised_last, contacts)
    new_belief = cooperation.update_belief(belief, observed, p.belief_persistence)
    committed = ~np.isnan(commitment)
    # The norm is the belief; a public commitment is a pledge peers hold its maker to (fmax
    # in the rule ignores the NaN of citizens without one).
    pressure = np.clip(peer_pressure + committed * p.commitment_pressure, 0.0, 1.0)
    share = cooperation.contribution_share(
        coop_type,
        new_belief,
        motivation_,
        new_belief,
        pressure,
        p.contribution_noise * noise,
        **cooperation.constants(p),
        pledge=commitment,
    )
    willingness = time_use.payment_multiplier(
        motivation_, payment_per_hour, p.payment_crowd_out, p.payment_price_effect
    )
    vol, care, selfrel = time_use.allocate_time(
        budget,
        own_need,
        efficacy,
        share,
        engaged,
        care_opportunity,
        willingness,
        self_reliance_share=p.self_reliance_share,
        volunteer_share=p.volunteer_share,
    )
    return Decision(new_belief, share, vol, care, selfrel, time_use.realised_share(vol, care, budget, selfrel))


@dataclass(frozen=True)
class Adaptation:
    """How a citizen's state changes after the month's services and forums."""

    engaged: BoolArray
    motivation: FloatArray
    trust: FloatArray
    efficacy: FloatArray


def adapt(
    p: CitizenParams,
    engaged: BoolArray,
    motivation_: FloatArray,
    motivation_trait: FloatArray,
    trust_: FloatArray,
    trust_trait: FloatArray,
    efficacy: FloatArray,
    ask_probability: FloatArray,
    support: FloatArray,
    control: FloatArray,
    experience: FloatArray,
    success: FloatArray,
    commitment_made: FloatArray,
    commitment_kept: FloatArray,
    exposure: FloatArray,
    assurance: FloatArray,
    u_engage: FloatArray,
    experience_noise: FloatArray,
) -> Adaptation:
    """Engagement, motivation crowding, trust and self-efficacy after the month.

    Being asked turns a citizen into a volunteer with a chance set by its willingness: its stable
    trust disposition, with current trust in the services weighted in (``join_current_trust``).
    Motivation is crowded in by support, out by control, and drifts back to the citizen's own
    trait level. Trust follows experienced quality (functioning and lived outcome), commitments
    kept or broken, exposure and assurance; self-efficacy follows the community's lived outcome
    (mastery, Bandura 1997). Both see the same personal noise.
    """
    felt = np.clip(experience + p.trust_experience_noise * experience_noise, 0.0, 1.0)
    # Who says yes when asked: a stable disposition, with current trust in the services weighted in.
    willing = (1.0 - p.join_current_trust) * trust_trait + p.join_current_trust * trust_
    return Adaptation(
        engaged=trust.update_engagement(engaged, ask_probability, willing, p.engagement_exit, u_engage),
        motivation=motivation.update_motivation(
            motivation_,
            support,
            control,
            p.motivation_gain,
            p.motivation_loss,
            motivation_trait,
            p.motivation_reversion,
        ),
        trust=trust.update_trust(
            trust_,
            felt,
            commitment_made,
            commitment_kept,
            exposure,
            p.trust_gain,
            p.trust_loss,
            assurance,
            p.assurance_gain,
        ),
        efficacy=trust.update_efficacy(
            efficacy, np.clip(success + p.trust_experience_noise * experience_noise, 0.0, 1.0), p.efficacy_rate
        ),
    )

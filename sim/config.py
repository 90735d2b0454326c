"""Typed configuration: the one place where every parameter has its meaning, unit and bounds.

The dataclasses below are registered in Hydra's ConfigStore as schemas and mirrored by the
YAML files under ``configs/``. Each field is declared with :func:`param`, which records its
help text, unit, allowed range and (for empirical defaults) its source; validation and the
parameter table in ``docs/parameters.md`` (written by ``docs/make_parameters.py``) both read
that metadata, so they cannot drift apart.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

# The instruments a preset sets (the other RegimeConfig fields are levers that keep their values
# when a switch changes the preset). Each preset is mirrored by configs/regime/NAME.yaml (a test
# checks they agree); these definitions and the centre's phase are the only code that reads a
# regime's name (tests/test_fairness.py).
PRESETS: dict[str, dict[str, Any]] = {
    "targets": {
        "objective_setter": "centre",
        "observation": "indicator",
        "league_table": True,
        "guarantee_monitoring_rate": 0.0,
        "partnership_standard": "none",
        "commitment_enforcement": 0.0,
    },
    "negotiated": {
        "objective_setter": "forum",
        "observation": "forum",
        "league_table": False,
        "guarantee_monitoring_rate": 1.0,
        "partnership_standard": "paid",
        "commitment_enforcement": 1.0,
    },
    "functioning": {
        "objective_setter": "none",
        "observation": "none",
        "league_table": False,
        "guarantee_monitoring_rate": 1.0,
        "partnership_standard": "none",
        "commitment_enforcement": 0.0,
    },
    "none": {
        "objective_setter": "none",
        "observation": "none",
        "league_table": False,
        "guarantee_monitoring_rate": 0.0,
        "partnership_standard": "none",
        "commitment_enforcement": 0.0,
    },
}
# Hybrids: one or two instruments changed from a main preset.
PRESETS["targets_guarantee"] = {**PRESETS["targets"], "guarantee_monitoring_rate": 1.0}
PRESETS["targets_partnership"] = {**PRESETS["targets"], "partnership_standard": "paid"}
PRESETS["local_targets"] = {**PRESETS["targets"], "objective_setter": "forum"}
PRESETS["negotiated_unpaid"] = {**PRESETS["negotiated"], "partnership_standard": "none"}
REGIMES: tuple[str, ...] = tuple(PRESETS)
INSTRUMENT_KEYS: tuple[str, ...] = tuple(PRESETS["none"])
OBJECTIVE_SETTERS: tuple[str, ...] = ("centre", "forum", "none")
OBSERVATIONS: tuple[str, ...] = ("indicator", "forum", "none")
PARTNERSHIP_STANDARDS: tuple[str, ...] = ("none", "required", "paid")
DOMAINS: tuple[str, ...] = ("education", "safety", "health")
BACKENDS: tuple[str, ...] = ("serial", "processes", "dask")
COOPERATION_TYPES: tuple[str, ...] = ("conditional", "free_rider", "other")
# Source note of the citizens' defaults fitted in the public-goods laboratory (sim/lab.py).
CALIBRATED = (
    "Calibrated to Herrmann, Thoeni & Gaechter 2008 by scripts/calibrate.py (configs/calibration/lab_fit.json), "
    "with the type shares fixed from Thoeni & Volk 2018"
)


class ConfigError(ValueError):
    """A configuration value is invalid. The message names the key, the value and what is allowed."""


def param(
    default: Any,
    help: str,
    unit: str = "",
    lo: float | None = None,
    hi: float | None = None,
    source: str = "",
    choices: tuple[str, ...] | None = None,
) -> Any:
    """Declare a config field with its documentation and bounds (both inclusive)."""
    meta = {"help": help, "unit": unit, "lo": lo, "hi": hi, "source": source, "choices": choices}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: default.copy(), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class PopulationConfig:
    """Citizens, communities and the social network."""

    n_citizens: int = param(3000, "Number of citizens", "citizens", lo=1, hi=10_000_000)
    n_communities: int = param(20, "Number of communities (neighbourhoods)", "communities", lo=1, hi=100_000)
    contacts_per_citizen: int = param(
        8,
        "Contacts each citizen observes on the social network",
        "contacts",
        lo=1,
        hi=200,
        source="Dunbar-style sympathy group of 10-15; we observe a subset (Hill & Dunbar 2003)",
    )
    within_community_share: float = param(
        0.9, "Share of a citizen's contacts drawn from its own community", "probability", lo=0, hi=1
    )
    share_conditional: float = param(
        0.61,
        "Share of conditional cooperators",
        "share",
        lo=0,
        hi=1,
        source="Fixed from the literature, not fitted: Thoeni & Volk 2018 (review of the replications of the "
        "strategy-method design: ~61%); alternative Fischbacher, Gaechter & Fehr 2001: 50% "
        "(configs/calibration/lab_fit_fgf_2001.json)",
    )
    share_free_rider: float = param(
        0.19,
        "Share of free riders",
        "share",
        lo=0,
        hi=1,
        source="Fixed from the literature, not fitted: Thoeni & Volk 2018 (~19%); alternative Fischbacher, "
        "Gaechter & Fehr 2001: 30% (configs/calibration/lab_fit_fgf_2001.json)",
    )
    deprivation_alpha: float = param(2.0, "Beta(a, b) shape a of community deprivation in [0, 1]", "", lo=0.05, hi=100)
    deprivation_beta: float = param(2.0, "Beta(a, b) shape b of community deprivation in [0, 1]", "", lo=0.05, hi=100)
    time_budget_median: float = param(
        30.0,
        "Median discretionary hours a month a citizen can spend on others or own needs",
        "hours/month",
        lo=0,
        hi=400,
        source="ONS Time Use Survey 2014-15: ~5-6 h/day leisure; we take the part open to unpaid work",
    )
    time_budget_sigma: float = param(0.5, "Log-sd of discretionary time across citizens", "log-hours", lo=0, hi=3)
    deprivation_time_penalty: float = param(
        0.3, "Fractional cut in discretionary time at full deprivation", "share", lo=0, hi=1
    )
    motivation_mean: float = param(0.5, "Mean initial intrinsic pro-social motivation", "[0,1]", lo=0, hi=1)
    motivation_sd: float = param(0.15, "Sd of initial intrinsic motivation", "[0,1]", lo=0, hi=1)
    trust_mean: float = param(
        0.55,
        "Mean initial trust in local services at zero deprivation",
        "[0,1]",
        lo=0,
        hi=1,
        source="Community Life Survey / ONS Trust in Government 2023: ~50-60% trust local services",
    )
    trust_deprivation_penalty: float = param(
        0.2, "Fall in initial trust from zero to full deprivation", "[0,1]", lo=0, hi=1
    )
    trust_sd: float = param(0.12, "Sd of initial trust", "[0,1]", lo=0, hi=1)
    efficacy_mean: float = param(0.6, "Mean initial self-efficacy at zero deprivation", "[0,1]", lo=0, hi=1)
    efficacy_deprivation_penalty: float = param(
        0.25, "Fall in initial self-efficacy at full deprivation", "[0,1]", lo=0, hi=1
    )
    need_mean: float = param(0.3, "Mean need per service domain at zero deprivation", "[0,1]", lo=0, hi=1)
    need_deprivation_gain: float = param(0.3, "Rise in mean need at full deprivation", "[0,1]", lo=0, hi=1)
    social_capital_initial: float = param(0.3, "Initial social capital of every community", "[0,1]", lo=0, hi=1)
    social_capital_growth: float = param(
        0.1,
        "Monthly growth of social capital per unit of the community's pro-social share",
        "1/month",
        lo=0,
        hi=1,
        source="Putnam 2000; Coleman 1988",
    )
    social_capital_decay: float = param(0.03, "Monthly decay of social capital", "1/month", lo=0, hi=1)


@dataclass
class CitizensConfig:
    """Citizens' decision rules: conditional cooperation, time use, motivation, trust."""

    cc_base: float = param(
        -0.008,
        "Conditional cooperators' intercept: contribution share at a belief of zero",
        "share",
        lo=-1,
        hi=1,
        source=CALIBRATED + "; Fischbacher & Gaechter 2010: conditional contribution schedules",
    )
    cc_slope: float = param(
        0.977,
        "Conditional cooperators' matching slope on contacts' observed contribution (below 1: decay)",
        "",
        lo=0,
        hi=2,
        source=CALIBRATED + "; Fischbacher, Gaechter & Fehr 2001; Fischbacher & Gaechter 2010 (slope < 1)",
    )
    free_rider_base: float = param(0.02, "Free riders' contribution share", "share", lo=-1, hi=1)
    other_base: float = param(
        0.269, "Other types' (unconditional) contribution share", "share", lo=-1, hi=1, source=CALIBRATED
    )
    motivation_weight: float = param(
        0.4, "Shift of the contribution share per unit of intrinsic motivation above 0.5", "share", lo=0, hi=2
    )
    contribution_noise: float = param(
        0.057, "Sd of the monthly noise in contribution shares", "share", lo=0, hi=1, source=CALIBRATED
    )
    belief_persistence: float = param(
        0.691,
        "Weight on last month's belief when updating it from observed contacts",
        "",
        lo=0,
        hi=1,
        source=CALIBRATED + "; Fischbacher & Gaechter 2010 (beliefs adapt to what others gave)",
    )
    initial_belief: float = param(
        0.699,
        "Belief about contacts' contribution share before any observation",
        "share",
        lo=0,
        hi=1,
        source=CALIBRATED,
    )
    peer_pressure_base: float = param(
        0.05,
        "Strength of peer recognition/sanction with no service support",
        "[0,1]",
        lo=0,
        hi=1,
        source="Fehr & Gaechter 2000; Herrmann, Thoeni & Gaechter 2008",
    )
    peer_pressure_social_capital: float = param(
        0.3, "Extra peer pressure per unit of community social capital", "[0,1]", lo=0, hi=1
    )
    commitment_pressure: float = param(
        0.1,
        "Extra peer pressure on a citizen who made a public commitment in a forum",
        "[0,1]",
        lo=0,
        hi=1,
        source="Cialdini 2001 (commitment and consistency); magnitude stylised, kept small with ask_partnership "
        "by the formal-volunteering pattern (docs/patterns.md)",
    )
    norm_premium: float = param(
        0.253, "How far above the observed norm a sanctioned citizen aims", "share", lo=0, hi=1, source=CALIBRATED
    )
    antisocial_pressure: float = param(
        0.0,
        "Strength of antisocial punishment: pulls above-norm contributors down and, as counter-punishment, "
        "weakens peer sanction by the same factor",
        "[0,1]",
        lo=0,
        hi=1,
        source="Herrmann, Thoeni & Gaechter 2008; Nikiforakis 2008 (counter-punishment)",
    )
    self_reliance_share: float = param(
        0.5,
        "Share of discretionary time a fully needy, fully efficacious citizen spends on own needs",
        "share",
        lo=0,
        hi=1,
    )
    volunteer_share: float = param(
        0.5, "Share of pro-social time an engaged citizen gives to formal volunteering", "share", lo=0, hi=1
    )
    activity_threshold_hours: float = param(
        1.5,
        "Hours in a month that count as taking part in an activity (survey: 'at least once a month')",
        "hours/month",
        lo=0,
        hi=100,
        source="Community Life Survey question wording (DCMS): one session of help in the month; set so that "
        "monthly formal volunteering and informal helping fall in the CLS 2013-2024 ranges (docs/validation.md)",
    )
    ask_base: float = param(
        0.14,
        "Monthly chance an unengaged citizen is asked to volunteer with no partnership work",
        "probability",
        lo=0,
        hi=1,
        source="pattern: set so that monthly formal volunteering under no performance management falls in the "
        "Community Life Survey's 16-27% (docs/validation.md); being asked is the main route into volunteering "
        "(Musick & Wilson 2008)",
    )
    ask_partnership: float = param(
        0.1,
        "Extra monthly chance of being asked per unit of partnership effort",
        "probability",
        lo=0,
        hi=5,
        source="pattern: most volunteers are recruited through people they know, not services (Musick & Wilson "
        "2008, ch. 13); set small so that no preset moves monthly formal volunteering far from the stable "
        "mid-20s per cent of the Citizenship and Community Life Surveys (docs/patterns.md)",
    )
    engagement_exit: float = param(0.08, "Monthly chance an engaged volunteer drops out", "probability", lo=0, hi=1)
    join_current_trust: float = param(
        0.0,
        "Weight of current trust in local services, against the citizen's stable trust disposition (its initial "
        "trust), in saying yes when asked to volunteer (0: the disposition alone; 1: current trust alone)",
        "[0,1]",
        lo=0,
        hi=1,
        source="Bekkers 2012 (4-year panel: trust is stable, 0.73 over 4 years, and changes in volunteering are "
        "not related to changes in trust; trust works through selection into volunteering, not month to month)",
    )
    payment_crowd_out: float = param(
        0.5,
        "Fall in willingness to volunteer from any payment, per unit of intrinsic motivation",
        "share",
        lo=0,
        hi=1,
        source="Frey & Jegen 2001; Gneezy & Rustichini 2000 ('pay enough or don't pay at all')",
    )
    payment_price_effect: float = param(
        0.04, "Rise in willingness to volunteer per pound paid an hour (the price effect)", "1/(GBP/hour)", lo=0, hi=1
    )
    motivation_gain: float = param(
        0.01,
        "Monthly rise in motivation toward 1 under full support (being asked, recognised, given a voice)",
        "1/month",
        lo=0,
        hi=1,
        source="Deci, Koestner & Ryan 1999; Frey & Jegen 2001",
    )
    motivation_loss: float = param(
        0.03,
        "Monthly fall in motivation toward 0 under full control (outcome targets, payment); above the gain",
        "1/month",
        lo=0,
        hi=1,
        source="Frey & Jegen 2001 (asymmetry: crowding-out faster than crowding-in)",
    )
    control_targets: float = param(
        0.3,
        "Control felt by an engaged citizen per unit of effort redirected towards measured tasks in their services "
        "(gaming share plus the excess of measured over unmeasured work); the key keeps its old name",
        "[0,1]",
        lo=0,
        hi=1,
        source="stylised; Frey & Jegen 2001; Deci, Koestner & Ryan 1999 (controlling vs informational)",
    )
    control_figures: float = param(
        0.1,
        "Control felt by an engaged citizen whose services are judged on a case indicator (pressed to produce figures)",
        "[0,1]",
        lo=0,
        hi=1,
        source="stylised; Frey & Jegen 2001",
    )
    voice_weight: float = param(
        0.5,
        "Support felt by a citizen who took part in the latest forum round (voice)",
        "[0,1]",
        lo=0,
        hi=1,
        source="stylised; autonomy support (Deci & Ryan 2000); Fung 2006 (participation and empowerment)",
    )
    partnership_support: float = param(
        0.5,
        "Support felt by an engaged citizen per unit of partnership effect in their community's services "
        "(being asked, recognised and worked with)",
        "[0,1]",
        lo=0,
        hi=1,
        source="stylised; Deci, Koestner & Ryan 1999 (supportive, informational contact crowds motivation in)",
    )
    goal_support: float = param(
        0.2,
        "Support felt by an engaged citizen per unit share of their services with a clear objective and feedback",
        "[0,1]",
        lo=0,
        hi=1,
        source="stylised magnitude; Locke & Latham 2002 (specific goals with feedback raise effort and engagement)",
    )
    motivation_reversion: float = param(
        0.03,
        "Monthly pull of motivation back toward the citizen's own trait level (half-life about 2 years at 0.03)",
        "1/month",
        lo=0,
        hi=1,
        source="stylised; Roberts & DelVecchio 2000 (dispositions are stable over years)",
    )
    control_payment: float = param(
        0.6, "Control felt by an engaged citizen when volunteering is paid", "[0,1]", lo=0, hi=1
    )
    trust_gain: float = param(
        0.04,
        "Monthly rate at which trust rises toward better experience, and with commitments kept",
        "1/month",
        lo=0,
        hi=1,
        source="Van Ryzin 2007 (expectancy-disconfirmation); Bouckaert & Van de Walle 2003",
    )
    trust_loss: float = param(
        0.08,
        "Monthly rate at which trust falls toward worse experience, and with exposure or broken commitments",
        "1/month",
        lo=0,
        hi=1,
        source="Slovic 1993 (asymmetry principle: trust is easier to destroy than to create)",
    )
    trust_experience_noise: float = param(
        0.1, "Sd of a citizen's personal experience around the community's", "[0,1]", lo=0, hi=1
    )
    drift_sensitivity: float = param(
        0.5,
        "Exposure per unit gap between published (targeted) figures and lived outcomes",
        "",
        lo=0,
        hi=10,
        source="Bevan & Hood 2006; Van Ryzin 2007",
    )
    audit_exposure: float = param(
        5.0,
        "Exposure per unit share of an audited service's records found manipulated (what is found, not whether)",
        "",
        lo=0,
        hi=100,
        source="stylised; Bevan & Hood 2006",
    )
    assurance_gain: float = param(
        0.02,
        "Monthly rise in trust toward 1 per unit of credible assurance (audits or inspections that found little)",
        "1/month",
        lo=0,
        hi=1,
        source="stylised; Power 1997 (The Audit Society); O'Neill 2002",
    )
    efficacy_rate: float = param(
        0.03,
        "Monthly adjustment rate of self-efficacy toward experienced success",
        "1/month",
        lo=0,
        hi=1,
        source="Bandura 1997",
    )


@dataclass
class ServicesConfig:
    """Public services: capacity, production, indicators, gaming and managers' learning."""

    capacity_per_citizen: float = param(
        1.0, "Staff capacity per citizen per domain relative to the reference need", "x reference", lo=0, hi=100
    )
    ethos_mean: float = param(
        0.7,
        "Mean professional ethos: weight managers put on real outcomes rather than incentives",
        "[0,1]",
        lo=0,
        hi=1,
        source="Le Grand 2003 (knights and knaves); Besley & Ghatak 2005; mostly 'knights': Gregg, Grout, "
        "Ratcliffe, Smith & Windmeijer 2011 (donated unpaid overtime in public caring services); with "
        "manipulation_cost, reproduces little effort displacement under targets (Kelman & Friedman 2009)",
    )
    ethos_sd: float = param(0.15, "Sd of ethos across services", "[0,1]", lo=0, hi=1)
    service_weight: float = param(0.5, "CES weight on service effort (vs citizens' input)", "", lo=0.01, hi=0.99)
    ces_rho: float = param(
        -1.0,
        "CES exponent; below 0 means complements (elasticity 1/(1-rho) below 1)",
        "",
        lo=-20,
        hi=-0.01,
        source="Ostrom 1996; Parks et al. 1981 (co-production as complements)",
    )
    functioning_weight: float = param(
        0.8, "Contribution of core functioning to each outcome dimension per unit share", "", lo=0, hi=2
    )
    task_spillover: float = param(
        0.3,
        "Contribution of work on one outcome dimension to the other, per unit share",
        "",
        lo=0,
        hi=1,
        source="Holmstrom & Milgrom 1991; Dixit 2002 (correlated tasks in public agencies)",
    )
    citizen_input_scale: float = param(
        0.25, "Citizens' pro-social share of time that equals one unit of citizen input", "share", lo=0.001, hi=10
    )
    social_capital_weight: float = param(0.5, "Citizen input per unit of social capital", "", lo=0, hi=10)
    partnership_boost: float = param(1.0, "Rise in citizens' effective input at full partnership", "", lo=0, hi=10)
    outcome_intercept: float = param(
        1.8, "Logit of the true pass probability at unit production", "logit", lo=-10, hi=10
    )
    outcome_slope: float = param(1.5, "Logit change per unit log production", "logit", lo=0, hi=10)
    deprivation_effect: float = param(
        1.2,
        "Logit fall in true outcomes at full deprivation",
        "logit",
        lo=0,
        hi=10,
        source="Marmot Review 2010 (social gradient in outcomes)",
    )
    measured_weight: float = param(
        0.5,
        "Weight of the measured dimension in the outcome people live with",
        "",
        lo=0,
        hi=1,
        source="Holmstrom & Milgrom 1991 (multitask: measured and unmeasured dimensions)",
    )
    shock_sd: float = param(
        0.25, "Sd of the monthly innovation of outcome shocks services do not control", "logit", lo=0, hi=5
    )
    shock_persistence: float = param(0.8, "AR(1) persistence of outcome shocks", "", lo=0, hi=0.999)
    large_shock_prob: float = param(
        0.01, "Monthly chance of a large shock in a community (triggers renegotiation)", "probability", lo=0, hi=1
    )
    large_shock_size: float = param(1.0, "Logit size of a large negative shock", "logit", lo=0, hi=10)
    cases_per_citizen: float = param(
        1.0, "Cases a service records per citizen per month", "cases/citizen/month", lo=0, hi=10
    )
    max_cases_per_service: int = param(
        300, "Most cases a service records in a month (a sample beyond that)", "cases", lo=0, hi=10_000_000
    )
    near_miss_window: float = param(
        0.8,
        "Width below the standard from which records can be moved across it",
        "logit",
        lo=0.01,
        hi=5,
        source="Bevan & Hood 2006 (ambulance response times bunched just under 8 minutes)",
    )
    landing_width: float = param(0.1, "Width above the standard where moved records land", "logit", lo=0.001, hi=5)
    bunching_window: float = param(
        0.3, "Width of the windows either side of the standard used by bunching_ratio", "logit", lo=0.01, hi=5
    )
    manipulation_cost: float = param(
        0.05,
        "Gaming share of capacity needed to move every near-miss record",
        "share",
        lo=0.001,
        hi=10,
        source="pattern: moving a near-miss record costs little staff time, so targets bring marked bunching at "
        "the threshold (Bevan & Hood 2006; Bevan & Hamblin 2009, ambulance 8-minute spikes) with little "
        "displacement of unmeasured work (Kelman & Friedman 2009); docs/patterns.md",
    )
    cream_skim_share: float = param(0.3, "Share of gaming effort spent on selecting easy cases", "share", lo=0, hi=1)
    cream_skim_max: float = param(0.5, "Largest share of hard cases a service can turn away", "share", lo=0, hi=1)
    cream_skim_harm: float = param(
        0.5, "Logit fall in the unmeasured outcome per unit share of cases turned away", "logit", lo=0, hi=10
    )
    slack_value: float = param(
        0.6,
        "Private value to managers of slack (easy life) at full slack",
        "payoff",
        lo=0,
        hi=10,
        source="Leibenstein 1966 (X-inefficiency)",
    )
    learning_rate: float = param(
        0.05,
        "Step size of managers' allocation learning per unit payoff advantage",
        "share/payoff",
        lo=0,
        hi=100,
        source="Kiefer & Wolfowitz 1952 (finite-difference stochastic approximation)",
    )
    exploration: float = param(
        0.02, "Share of capacity moved in a manager's trial allocation", "share", lo=0.001, hi=0.5
    )
    max_shift: float = param(
        0.03,
        "Most capacity share any activity gains or loses in a month (organisational inertia)",
        "share/month",
        lo=0.0001,
        hi=1,
        source="Hannan & Freeman 1984 (structural inertia)",
    )
    functioning_norm: float = param(
        0.3,
        "Functioning effort (share x capacity) at which citizens experience full responsiveness",
        "share",
        lo=0.01,
        hi=10,
    )
    capacity_sd: float = param(0.1, "Log-sd of capacity per citizen across services", "log", lo=0, hi=3)
    initial_shares: list[float] = param(
        [0.3, 0.2, 0.2, 0.08, 0.01, 0.21],
        "Initial capacity shares: functioning, measured work, unmeasured work, partnership, gaming, slack",
        "shares",
    )


@dataclass
class RegimeSwitch:
    """A scheduled change at the start of a given step: to a preset, or of chosen instruments and levers.

    ``{step: 24, to: none}`` switches the preset (all its instruments, see ``PRESETS``);
    ``{step: 12, set: {payment_per_hour: 5}}`` sets named instruments or levers of ``regime`` and
    leaves the others as they are. A switch gives exactly one of ``to`` and ``set``.
    """

    # "???" is OmegaConf's MISSING: a switch that does not say when is refused rather than
    # silently taking month 0.
    step: int = param("???", "Step at which the change takes effect (required)", "month", lo=0)
    to: str | None = param(None, "Preset in force from that step on (or give 'set')", choices=REGIMES)
    set: dict[str, Any] = param(
        {}, "Instruments or levers of 'regime' set from that step on, e.g. {payment_per_hour: 5} (or give 'to')"
    )


@dataclass
class RegimeConfig:
    """Governance regime and the centre's levers."""

    name: str = param(
        "none",
        "Preset in force at step 0 (its label; the instruments below say what it does)",
        choices=REGIMES,
    )
    switches: list[RegimeSwitch] = field(
        default_factory=list, metadata={"help": "Scheduled changes: to a preset, or of chosen instruments and levers"}
    )
    # The instruments. None means 'the value of the preset named by `name`' (sim.config.PRESETS),
    # so that regime.name=targets alone, or a SimConfig built in Python, gets the whole preset.
    objective_setter: str | None = param(
        None,
        "Who sets the outcome objective: the centre (a target on the measured domains), a local forum, or nobody",
        choices=OBJECTIVE_SETTERS,
        source="Instrument (DESIGN.md section 4); preset value by default",
    )
    observation: str | None = param(
        None,
        "How outcome performance is observed for consequences: a sampled, gameable case indicator on the "
        "measured dimension, the forum's perception, or nothing",
        choices=OBSERVATIONS,
        source="Instrument; preset value by default",
    )
    league_table: bool | None = param(
        None,
        "Figures are published and ranked: sanctions below the objective (and the ratchet) apply, citizens see "
        "the figures, and the published standard counts as a commitment",
        source="Instrument; Bevan & Hood 2006 (naming and shaming); preset value by default",
    )
    guarantee_monitoring_rate: float | None = param(
        None,
        "Monthly chance a service's core functioning is inspected against the guarantee (0: no guarantee enforced)",
        "probability",
        lo=0,
        hi=1,
        source="Instrument; preset value by default",
    )
    guarantee_monitoring_error: float = param(
        0.05,
        "Sd of an inspector's error in the functioning share it measures",
        "share",
        lo=0,
        hi=1,
        source="stylised",
    )
    partnership_standard: str | None = param(
        None,
        "Partnership work at the level 'partnership_commitment': not asked for, required (shortfall sanctioned), "
        "or paid (payoff 'partnership_pay' per unit met)",
        choices=PARTNERSHIP_STANDARDS,
        source="Instrument; preset value by default",
    )
    commitment_enforcement: float | None = param(
        None,
        "Payoff to a service per unit of its forum commitment on functioning kept (paid, hence costed)",
        "payoff",
        lo=0,
        hi=100,
        source="Instrument; preset value by default",
    )
    verification_rate: float = param(
        0.1,
        "Monthly chance a service's reported partnership work (a paid or required standard, a forum commitment) "
        "is verified, at forum.verification_hours of staff time",
        "probability",
        lo=0,
        hi=1,
        source="stylised",
    )
    partnership_pay: float = param(
        1.0,
        "Payoff to a service per unit of the partnership standard met, when the standard is paid",
        "payoff",
        lo=0,
        hi=100,
        source="stylised (equal to the reward per unit of recorded pass rate)",
    )
    measured_domains: list[str] = param(
        ["education", "safety", "health"], "Domains on which the centre sets outcome targets"
    )
    target_level: float = param(
        0.7,
        "Target share of recorded cases meeting the standard",
        "share",
        lo=0,
        hi=1,
        source="cf. English A&E 4-hour (95%) and ambulance 8-minute (75%) targets",
    )
    ratchet: bool = param(False, "Targets follow last performance (the ratchet)")
    ratchet_rate: float = param(
        0.5,
        "Share of over-performance added to next month's target",
        "share",
        lo=0,
        hi=1,
        source="Bevan & Hood 2006; Weitzman 1980",
    )
    reward_strength: float = param(
        1.0, "Reward per unit of recorded pass rate above target (league-table standing)", "payoff", lo=0, hi=100
    )
    reward_cap: float = param(
        0.05,
        "Largest margin above the objective that still earns reward: beyond it, doing better pays nothing more "
        "(0: a pass/fail target)",
        "share",
        lo=0,
        hi=1,
        source="Bevan & Hood 2006 (English 'met / not met' key targets and star ratings); Kelman & Friedman 2009 "
        "(effort returned to other work once the A&E target was met)",
    )
    sanction_strength: float = param(
        3.0, "Sanction per unit shortfall from target or guarantee", "payoff", lo=0, hi=100
    )
    audit_rate: float = param(0.1, "Monthly chance a service's records are audited", "probability", lo=0, hi=1)
    audit_detection: float = param(0.5, "Chance an audit finds a given manipulated record", "probability", lo=0, hi=1)
    audit_penalty: float = param(20.0, "Sanction per unit share of records found manipulated", "payoff", lo=0, hi=1000)
    guarantee_level: float = param(
        0.3, "Guaranteed functioning: minimum share of capacity on core functioning", "share", lo=0, hi=1
    )
    payment_per_hour: float = param(0.0, "Payment to volunteers per hour", "GBP/hour", lo=0, hi=1000)
    recognition: float = param(
        0.0, "Recognition of citizens' contributions by services and the centre", "[0,1]", lo=0, hi=1
    )
    negotiation_interval: int = param(
        12, "Months between renegotiations of local objectives", "months", lo=1, hi=10_000
    )
    participation_support: float = param(
        0.0, "Support for taking part in forums (childcare, travel, outreach)", "[0,1]", lo=0, hi=1
    )
    participation_base: float = param(
        0.3,
        "Unused since the forum rules (deprecated, kept so old files load): attendance is forum.attend_base",
        "probability",
        lo=0,
        hi=1,
        source="Community Life Survey: ~15-20% took part in civic consultation in a year",
    )
    participation_deprivation_barrier: float = param(
        0.5,
        "Unused since the forum rules (deprecated, kept so old files load): see forum.attend_resources",
        "share",
        lo=0,
        hi=1,
        source="Verba, Schlozman & Brady 1995 (participation follows resources)",
    )
    commitment_ambition: float = param(
        0.1,
        "Unused since the forum rules (deprecated, kept so old files load): commitments come from the bargain",
        "share",
        lo=0,
        hi=1,
    )
    objective_ambition: float = param(
        0.03,
        "Unused since the forum rules (deprecated, kept so old files load): the objective comes from the bargain",
        "share",
        lo=0,
        hi=1,
    )
    partnership_commitment: float = param(
        0.12,
        "Partnership share owed under the partnership standard where no forum has bargained its own",
        "share",
        lo=0,
        hi=1,
    )
    forum_information: float = param(
        0.05,
        "Turnout at which a forum's agreement binds fully (legitimacy); it no longer sets what the forum sees, "
        "which is the forum's noisy perception (forum.noise_sd_one, forum.bias_weight)",
        "share",
        lo=0.001,
        hi=1,
    )
    commitment_reward: float | None = param(
        None,
        "Deprecated alias: if given, sets both commitment_enforcement and partnership_pay (the old paid contract)",
        "payoff",
        lo=0,
        hi=100,
    )


@dataclass
class CostsConfig:
    """Public cost accounting (GBP per month), and the shadow price of citizens' hours.

    Every per-service cost is charged per case or per citizen served, so that costs per citizen
    do not shrink as services grow with the population.
    """

    staff_cost_per_unit: float = param(
        20.0, "Cost of one unit of service capacity per citizen per domain", "GBP/month", lo=0, hi=1e6
    )
    audit_cost: float = param(
        0.0,
        "Fixed cost of one audit on top of its per-case cost (any value > 0 shrinks per citizen)",
        "GBP",
        lo=0,
        hi=1e9,
    )
    audit_cost_per_case: float = param(
        13.3,
        "Cost of auditing one case of an audited service's monthly caseload",
        "GBP/case",
        lo=0,
        hi=1e6,
        source="stylised: the former GBP 2,000 an audit over a default service's 150 cases",
    )
    reward_cost: float = param(
        0.0,
        "Fixed cost per unit of payoff paid to a service, on top of its per-citizen cost",
        "GBP",
        lo=0,
        hi=1e9,
    )
    reward_cost_per_citizen: float = param(
        3.33,
        "Cost per unit of payoff paid to a service (rewards, partnership pay, commitments), per citizen it serves",
        "GBP/citizen",
        lo=0,
        hi=1e6,
        source="stylised: the former GBP 500 per unit over a default service's 150 citizens",
    )
    inspection_cost: float = param(0.0, "Fixed cost of one inspection of functioning", "GBP", lo=0, hi=1e9)
    inspection_cost_per_citizen: float = param(
        1.0,
        "Cost of inspecting a service's functioning, per citizen it serves",
        "GBP/citizen",
        lo=0,
        hi=1e6,
        source="stylised (functioning is cheaper to check than case records)",
    )
    forum_cost_per_participant: float = param(
        30.0, "Cost of a forum seat, before participation support", "GBP", lo=0, hi=1e6
    )
    support_cost_per_participant: float = param(
        60.0, "Extra cost per participant at full participation support", "GBP", lo=0, hi=1e6
    )
    recognition_cost_per_citizen: float = param(
        0.5, "Monthly cost per citizen at full recognition", "GBP", lo=0, hi=1e6
    )
    shadow_wage: float = param(
        13.0,
        "Shadow price of an hour of citizens' volunteering or forum time in social_cost (and in the forum rules)",
        "GBP/hour",
        lo=0,
        hi=1e4,
        source="ONS 2017, Changes in the value and division of unpaid volunteering in the UK 2000-2015 "
        "(replacement cost at median hourly wages; approximate)",
    )


@dataclass
class ForumConfig:
    """Forums (``sim/rules/forum.py``, ``docs/forums.md``): attendance, perception, bargaining, theatre, hours.

    Mirrors :class:`sim.rules.forum.ForumParams` field by field (a test checks they agree), except
    the shadow price of citizens' hours, which is ``costs.shadow_wage``.
    """

    attend_base: float = param(
        0.05,
        "Chance a resident of middling resources, efficacy and trust (all 0.5) attends a round",
        unit="probability",
        lo=0.0,
        hi=1.0,
        source=(
            "Source: Community Life Survey 2019/20 (DCMS, England): in the past 12 months 21 % of adults took "
            "part in 'civic consultation' (mostly questionnaires, also public meetings) and 8 % in 'civic "
            "activism' (incl. decision-making groups on local services). One local forum round draws a fraction "
            "of either; 5 % is a judgement within that range."
        ),
    )
    attend_resources: float = param(
        1.5,
        "Log-odds of attending per unit of the resources index (0 = worst off, 1 = best off)",
        lo=0.0,
        hi=5.0,
        source=(
            "Source: Verba, Schlozman & Brady 1995 (participation follows time, money and civic skills); a log-"
            "odds gap of 1.5 gives roughly a 3-4x gap in attendance between the worst and best off at low base "
            "rates, the order of the socio-economic gaps they report."
        ),
    )
    attend_efficacy: float = param(
        1.0,
        "Log-odds of attending per unit of self-efficacy",
        lo=0.0,
        hi=5.0,
        source="Direction from Verba et al. 1995 (political efficacy); magnitude stylised.",
    )
    attend_trust: float = param(
        1.0,
        "Log-odds of attending per unit of trust in local services",
        lo=0.0,
        hi=5.0,
        source="Direction from the trust-participation link (e.g. Almond & Verba 1963); magnitude stylised.",
    )
    support_lift: float = param(
        1.0,
        (
            "Rise in the odds of attending at full participation support (childcare, travel, outreach), as a "
            "multiple: odds x (1 + support_lift * support)"
        ),
        lo=0.0,
        hi=10.0,
        source="Stylised: Fung 2006 reports that recruitment and support widen who takes part; no usable effect size.",
    )
    support_equalise: float = param(
        0.7,
        "Share of the resource gradient removed at full participation support",
        lo=0.0,
        hi=1.0,
        source="Stylised (Fung 2006, targeted recruitment of under-represented residents).",
    )
    quorum: float = param(
        0.01,
        "Turnout (share of residents) a forum needs for its agreement to be in force",
        lo=0.0,
        hi=1.0,
        source="Stylised: below this no one would call it a community agreement.",
    )
    min_attenders: int = param(
        3,
        "Fewest attenders for an agreement to be in force",
        unit="count",
        lo=1,
        hi=1000000,
        source="Stylised (a forum of one is not a forum).",
    )
    noise_sd_one: float = param(
        0.25,
        "Standard deviation of the forum's reading of an outcome share with one attender",
        unit="share units",
        lo=0.0,
        hi=1.0,
        source="Stylised: one person's experience of a service is a single draw from a spread of cases.",
    )
    noise_floor: float = param(
        0.02,
        "Standard deviation that remains however many attend (group dynamics, loud voices)",
        unit="share units",
        lo=0.0,
        hi=0.5,
        source="Stylised.",
    )
    bias_weight: float = param(
        0.8,
        (
            "Weight of attenders' own experience in the forum's reading (the rest is the whole community's "
            "experience, as relayed by the service's data and outreach)"
        ),
        lo=0.0,
        hi=1.0,
        source="Stylised: forums mostly hear those in the room (Fung 2006 on self-selection).",
    )
    need_experience: float = param(
        1.0,
        "How far a resident's experience of a service falls below its lived outcome per unit of need above the "
        "community's mean need (and rises above it below)",
        lo=0.0,
        hi=2.0,
        source="Direction: the inverse care law (Tudor Hart 1971); magnitude stylised.",
    )
    citizen_power: float = param(
        0.5,
        "Citizens' bargaining power alpha in the generalised Nash product",
        lo=0.0,
        hi=1.0,
        source=(
            "0.5 is the symmetric Nash (1950) solution; Binmore, Rubinstein & Wolinsky 1986 read alpha as "
            "relative patience."
        ),
    )
    citizen_value: float = param(
        1.0,
        "Value to attenders of one unit of outcome rise at full need, in the units of their costs",
        lo=0.0,
        hi=1000000.0,
        source="Stylised (sets the scale of the citizens' side).",
    )
    citizen_cost: float = param(
        1.0,
        "Attenders' cost of an extra contribution share e, as citizen_cost * e^2",
        lo=0.0,
        hi=1000000.0,
        source="Stylised: convex because free time grows scarcer as more of it is given.",
    )
    citizen_outside: float = param(
        0.0,
        "Attenders' disagreement payoff (what they get without a deal: complaint, exit, other channels)",
        lo=0.0,
        hi=1000000.0,
        source="Stylised; 0 means no alternative.",
    )
    service_value: float = param(
        1.0,
        "Value to a service of one unit of outcome rise (mission, legitimacy), in the units of its costs",
        lo=0.0,
        hi=1000000.0,
        source="Stylised.",
    )
    ethos_weight: float = param(
        0.5,
        (
            "How much of the service's value depends on its public-service ethos: value x (1 - ethos_weight + "
            "ethos_weight * ethos)"
        ),
        lo=0.0,
        hi=1.0,
        source="Stylised (Le Grand 2003, knights).",
    )
    service_cost: float = param(
        1.0,
        "Service's cost of a partnership share p of its capacity, as service_cost * p^2",
        lo=0.0,
        hi=1000000.0,
        source="Stylised.",
    )
    service_outside: float = param(
        0.0,
        "Service's disagreement payoff (what it keeps without a deal, e.g",
        lo=0.0,
        hi=1000000.0,
        source="Stylised.",
    )
    outcome_gain: float = param(
        1.0,
        "Outcome rise, as a share of the headroom (1 - perceived), when both inputs equal 1",
        lo=0.0,
        hi=5.0,
        source="Stylised.",
    )
    partnership_max: float = param(
        0.3,
        "Largest partnership share of capacity a service can commit",
        lo=0.0,
        hi=1.0,
        source="Stylised; the service's spare share caps it further (capacity limit).",
    )
    contribution_max: float = param(
        0.3, "Largest extra contribution share an attender can commit per domain", lo=0.0, hi=1.0, source="Stylised."
    )
    contribution_reach: float = param(
        2.4,
        (
            "Residents each attender's commitment reaches (themselves plus those they organise): the citizens' "
            "input counts as e x min(1, turnout x reach)"
        ),
        lo=0.0,
        hi=1000000.0,
        source="An attender's pledge reaches their household: mean household size 2.4 (ONS, Families and "
        "households in the UK 2023); a handful of attenders cannot deliver a community's contribution alone.",
    )
    grid_points: int = param(
        21,
        "Candidate values per side in the bargaining grid",
        unit="count",
        lo=2,
        hi=201,
        source="Numerical, not a model parameter: the deal is exact to 1/(grid_points - 1) of each side's range.",
    )
    theatre_max: float = param(
        1.0,
        "Largest share of a commitment a service can perform rather than do",
        lo=0.0,
        hi=1.0,
        source="Stylised ('consultation theatre': Arnstein 1969's tokenism rungs).",
    )
    theatre_sanction: float = param(
        2.0,
        "Penalty to a service per unit of theatre found by verification, in units of service_cost",
        lo=0.0,
        hi=1000000.0,
        source="Stylised.",
    )
    verification_miss: float = param(
        0.2,
        "Chance a verification visit misses theatre that is there (1 - detection)",
        lo=0.0,
        hi=1.0,
        source="Stylised.",
    )
    verification_error: float = param(
        0.05,
        "Standard deviation of a verifier's measurement of delivered partnership",
        unit="share units",
        lo=0.0,
        hi=0.5,
        source="Stylised.",
    )
    verification_hours: float = param(
        7.5,
        "Staff hours one verification of one service's commitments takes",
        unit="hours",
        lo=0.0,
        hi=1000000.0,
        source="Stylised (one working day).",
    )
    shock_breakage: float = param(
        1.0, "Share of a service's spare capacity lost per unit of shock", lo=0.0, hi=5.0, source="Stylised."
    )
    citizen_shock_breakage: float = param(
        1.0,
        "Unused (deprecated, kept so old files load): the model has no per-citizen time shocks; citizens keep "
        "their pledges as far as their own month's choice reaches them",
        lo=0.0,
        hi=5.0,
        source="Stylised.",
    )
    citizen_hours: float = param(
        2.5,
        "Hours an attender spends on one round (meeting plus travel and reading)",
        unit="hours",
        lo=0.0,
        hi=40.0,
        source="Stylised from typical two-hour evening meetings.",
    )
    staff_hours_meeting: float = param(
        6.0,
        "Staff hours per service per round (preparing, attending, writing up)",
        unit="hours",
        lo=0.0,
        hi=1000000.0,
        source="Stylised.",
    )
    staff_hours_attender: float = param(
        0.25,
        "Extra staff hours per service per attender (follow-up, outreach)",
        unit="hours",
        lo=0.0,
        hi=1000000.0,
        source="Stylised.",
    )
    staff_hour_value: float = param(
        30.0,
        "Cost of a staff hour including on-costs",
        unit="GBP/hour",
        lo=0,
        hi=1000000.0,
        source="Approximate: local-government officer pay (NJC scales) plus about 30 % on-costs and overheads.",
    )


@dataclass
class OutputConfig:
    """Where and what a run writes."""

    dir: str = param("outputs", "Root folder for run folders (relative to the working directory)")
    save: bool = param(True, "Write the run folder")


HTG_2008 = "Herrmann, Thoeni & Gaechter 2008 (Science 319: 1362-1367)"


@dataclass
class LabConfig:
    """The public-goods laboratory: citizens' own rules in the repeated game of Herrmann et al. (2008)."""

    group_size: int = param(
        4, "Subjects per group (fixed groups, partner matching)", "subjects", lo=2, hi=1000, source=HTG_2008
    )
    endowment: float = param(
        20.0, "Tokens each subject receives every period", "tokens", lo=0.001, hi=1e6, source=HTG_2008
    )
    mpcr: float = param(
        0.4, "Marginal per-capita return on the group account", "tokens/token", lo=0, hi=1, source=HTG_2008
    )
    periods: int = param(10, "Periods played by each group", "periods", lo=1, hi=10_000, source=HTG_2008)
    groups: int = param(250, "Groups per treatment in one replication", "groups", lo=1, hi=10_000_000)
    punishment: bool = param(False, "Peer punishment is available (the punishment treatment)")
    punishment_strength: float = param(
        0.469,
        "Peer pressure on every subject from period 2 on when punishment is available (the lab's 'peer_pressure')",
        "[0,1]",
        lo=0,
        hi=1,
        source=CALIBRATED + "; Fehr & Gaechter 2000",
    )


@dataclass
class SimConfig:
    """One simulation."""

    seed: int = param(0, "Root seed of the model's random generator", lo=0, hi=2**63 - 1)
    steps: int = param(120, "Months simulated", "months", lo=1, hi=10_000_000)
    burn_in: int = param(
        24,
        "Months run before month 0, unrecorded, under the status-quo regime, so all arms start alike",
        "months",
        lo=0,
        hi=100_000,
    )
    status_quo: str = param("none", "Regime during the burn-in", choices=REGIMES)
    driver: str = param(
        "fused",
        "How citizen rules run: one compiled pass (numba), all at once (numpy), or one Mesa agent at a time",
        choices=("vectorised", "agent", "fused"),
    )
    kernel_threads: int = param(
        1,
        "Threads the fused driver's citizen kernels run on (0: one per core); the results are the same "
        "bits whatever the number. Worth it from about 10^5 citizens, for one run at a time: a sweep "
        "already keeps every core busy with one run each",
        "threads",
        lo=0,
        hi=1024,
    )
    population: PopulationConfig = field(default_factory=PopulationConfig)
    citizens: CitizensConfig = field(default_factory=CitizensConfig)
    services: ServicesConfig = field(default_factory=ServicesConfig)
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    costs: CostsConfig = field(default_factory=CostsConfig)
    forum: ForumConfig = field(default_factory=ForumConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    lab: LabConfig = field(default_factory=LabConfig)


@dataclass
class ExperimentConfig:
    """A named experiment: arms compared on common seeds, over replications."""

    name: str = param("main", "Experiment name")
    kind: str = param(
        "simulation",
        "What each arm runs: the full model, or the public-goods laboratory",
        choices=("simulation", "lab"),
    )
    question: str = param("", "The question the experiment answers")
    # Empty by default: Hydra merges dicts, so a default set of arms here would be added to every
    # experiment file's own arms. Each file under configs/experiment/ lists all its arms.
    arms: dict[str, list[str]] = param(
        {},
        "Arm name -> Hydra overrides applied on top of the experiment's base config",
    )
    replications: int = param(10, "Replications per arm (common seeds across arms)", lo=1, hi=1_000_000)
    backend: str = param("processes", "Where runs execute", choices=BACKENDS)
    workers: int = param(0, "Worker processes (0: all cores)", lo=0, hi=4096)
    metrics_to_plot: list[str] = param(["prosocial_rate", "gaming_share"], "Metrics drawn over time per arm")
    sweep: dict[str, Any] = param(
        {}, "Sweep over parameters within each arm: design (grid, list, lhs, sobol, morris) and ranges; docs/sweeps.md"
    )
    analysis: dict[str, Any] = param(
        {}, "What to analyse after a sweep: outputs, arm pairs to compare, scenario discovery; docs/sweeps.md"
    )
    dask: dict[str, Any] = param(
        {}, "dask backend: scheduler address, or a cluster class with its kwargs and scale; docs/sweeps.md"
    )
    folder: str = param("", "Sweep folder to write or resume (empty: derived from the experiment and the code)")
    chunk_steps: int = param(
        240, "Recorded months a run holds in memory before appending them to its Parquet file", "months", lo=1
    )
    retry_failed: bool = param(True, "On resume, run again the runs that raised last time")
    progress: bool = param(True, "Show a progress bar (runs done, failures, time left)")


@dataclass
class AppConfig(SimConfig):
    """Top-level config: one simulation plus the experiment that runs it."""

    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)


def register_configs() -> None:
    """Register the schemas so YAML files can declare them in their defaults lists.

    Done once per process: storing a schema builds it from the dataclass (about a quarter of a
    composition's time), and Hydra hands every composition its own copy of the stored node.
    """
    from hydra.core.config_store import ConfigStore  # here: a worker process that only runs needs no Hydra

    cs = ConfigStore.instance()
    if "sim_schema.yaml" in cs.repo:
        return
    cs.store(name="sim_schema", node=AppConfig)
    cs.store(group="population", name="population_schema", node=PopulationConfig)
    cs.store(group="citizens", name="citizens_schema", node=CitizensConfig)
    cs.store(group="services", name="services_schema", node=ServicesConfig)
    cs.store(group="regime", name="regime_schema", node=RegimeConfig)
    cs.store(group="forum", name="forum_schema", node=ForumConfig)


def config_dir() -> Path:
    """The packaged ``configs/`` folder (the repository's top level), or the one ``SIM_CONFIG_DIR`` names.

    ``SIM_CONFIG_DIR`` replaces the whole packaged tree (it must hold ``config.yaml`` and every
    group) and is recorded in each result's provenance. To add experiments of one's own, use
    ``--config-dir DIR`` or ``hydra.searchpath`` instead (:func:`set_search_path`), which only add.
    """
    import os

    env = os.environ.get("SIM_CONFIG_DIR")
    if env:
        return Path(env).resolve()
    return (Path(__file__).resolve().parent.parent / "configs").resolve()


# Config folders searched after the packaged ``configs/`` by every composition in this process
# (``--config-dir DIR`` and ``hydra.searchpath=[...]`` on the command line, or the API's overrides):
# arms are composed in this process from overrides that no longer carry Hydra's own flags.
_SEARCH_PATH: list[str] = []
# Experiments given as a file (``experiment=./mine.yaml``): Hydra name -> the file's absolute path.
_EXPERIMENT_FILES: dict[str, Path] = {}
# The contents of the experiments registered as mappings or files (name -> YAML): part of the
# composition cache's key, so registering other contents under a name composes afresh.
_EXPERIMENT_NODES: dict[str, str] = {}
# Where the last recorded composition took each config from (provenance: ``config_sources``).
_ORIGIN: dict[str, Any] = {}
# Compositions already made in this process (see :func:`compose`): key -> the composed config
# (before block edits) and Hydra's choices and config sources (for the provenance). An
# experiment composes the same overrides for several checks, and tests compose the same small
# configs again and again; each Hydra composition takes 0.1-0.7 s.
_COMPOSED: dict[tuple[Any, ...], tuple[DictConfig, dict[str, Any], list[tuple[str, str]]]] = {}
_COMPOSED_MAX = 64
_COMPOSE_MAX_FILES = 2000
# Dict blocks of the experiment that an override replaces (``++experiment.sweep={...}``) or empties
# (``~experiment.sweep``), and whose inner keys ``experiment.sweep.a.b=v`` sets even if new:
# their contents are validated by the sweep, analysis and dask parsers, which name unknown keys.
BLOCKS = ("experiment.arms", "experiment.sweep", "experiment.analysis", "experiment.dask")
_OPEN_BLOCKS = BLOCKS[1:]


def search_path_entry(value: str) -> str:
    """A search-path entry as Hydra wants it: ``file://ABSOLUTE`` (a plain folder is taken as file://)."""
    import os

    if value.startswith("pkg://"):
        return value
    path = value[len("file://") :] if value.startswith("file://") else value
    return f"file://{os.path.abspath(os.path.expanduser(path))}"


def set_search_path(entries: list[str]) -> None:
    """Search these config folders (after the packaged ones) in every later composition of this process.

    Raises:
        ConfigError: a ``file://`` folder does not exist.

    """
    out = []
    for e in entries:
        entry = search_path_entry(str(e))
        if entry.startswith("file://") and not Path(entry[7:]).is_dir():
            raise ConfigError(
                f"config folder {entry[7:]!r} does not exist; allowed: a folder holding experiment/*.yaml"
            )
        if entry.startswith("file://"):
            _refuse_shadowed_experiments(Path(entry[7:]))
        if entry not in out:
            out.append(entry)
    _SEARCH_PATH[:] = out


def _refuse_shadowed_experiments(folder: Path) -> None:
    """Refuse a config folder holding an experiment named like a packaged one (Hydra would take the packaged one).

    Raises:
        ConfigError: naming the file and the fix.

    """
    packaged = config_dir()
    if folder.resolve() == packaged.resolve():
        return
    for f in sorted(folder.glob("experiment/*.yaml")):
        if (packaged / "experiment" / f.name).is_file():
            raise ConfigError(
                f"{f}: a packaged experiment is also called {f.stem!r} and would be used instead; "
                f"allowed: rename your file (e.g. my_{f.name}), or pass it as a file: experiment={f}"
            )


def search_path() -> list[str]:
    """The config folders searched after the packaged ones (see :func:`set_search_path`)."""
    return list(_SEARCH_PATH)


def _parse_list_value(text: str) -> list[str]:
    """The list of ``hydra.searchpath=[a,b]`` (Hydra's grammar, so quoting works as on the command line)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    value = OverridesParser.create().parse_overrides([f"x={text}"])[0].value()
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _looks_like_file(value: str) -> bool:
    """Whether ``experiment=VALUE`` names a file rather than a config (``sub/name`` may be a nested config)."""
    import os

    return value.endswith((".yaml", ".yml")) or Path(os.path.expanduser(value)).is_file()


def _experiment_names_on_path() -> dict[str, str]:
    """Experiment names found in the packaged configs and the search path -> the first file holding each."""
    names: dict[str, str] = {}
    for entry in ["file://" + str(config_dir()), *_SEARCH_PATH]:
        if entry.startswith("file://"):
            for f in sorted(Path(entry[7:], "experiment").glob("*.yaml")):
                names.setdefault(f.stem, str(f))
    return names


def register_experiment_file(value: str) -> str:
    """Make an experiment file anywhere on disk composable; return the name Hydra knows it by.

    The file holds deltas as the packaged ``configs/experiment/*.yaml`` do (top-level values and an
    ``experiment`` block, at the global package); its ``experiment.name`` defaults to the file's stem.

    Raises:
        ConfigError: no such file, not a mapping, or its stem is already a packaged experiment's name.

    """
    import os

    import yaml

    path = Path(os.path.expanduser(value)).absolute()
    if not path.is_file():
        raise ConfigError(f"experiment={value!r}: no such file; allowed: a packaged experiment name or a YAML file")
    name = path.stem
    if _EXPERIMENT_FILES.get(name) not in (None, path.resolve()):
        raise ConfigError(
            f"experiment={value!r}: another file called {name}.yaml ({_EXPERIMENT_FILES[name]}) is already in use; "
            "allowed: one experiment file per name (rename one of them)"
        )
    clash = _experiment_names_on_path().get(name)
    if clash is not None:
        raise ConfigError(
            f"experiment={value!r}: {clash} is already called {name!r} and would be used instead; "
            "allowed: a file name that is not a known experiment's (rename the file)"
        )
    try:
        node = OmegaConf.load(path)
    except (yaml.YAMLError, OmegaConfBaseException) as exc:
        raise ConfigError(compose_error_message(exc)) from None
    if not isinstance(node, DictConfig):
        raise ConfigError(f"{path}: an experiment file is a mapping (top-level values and an experiment block)")
    if OmegaConf.select(node, "experiment.name", default=None) is None:
        OmegaConf.update(node, "experiment.name", name, force_add=True)
    return register_experiment_node(name, node, path.resolve())


def register_experiment_node(name: str, node: DictConfig, origin: Path | str) -> str:
    """Make an experiment given as a mapping composable under ``name`` (its origin goes to the provenance).

    Raises:
        ConfigError: ``name`` is a known experiment's (a packaged one or one on the search path).

    """
    clash = _experiment_names_on_path().get(name)
    if clash is not None:
        raise ConfigError(f"experiment {name!r} is already defined by {clash}; allowed: another name")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
        raise ConfigError(f"experiment name {name!r}: allowed: letters, digits, '_', '-', '.'")
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group="experiment", name=name, node=node, package="_global_")
    _EXPERIMENT_FILES[name] = origin if isinstance(origin, Path) else Path(str(origin))
    _EXPERIMENT_NODES[name] = OmegaConf.to_yaml(node)  # part of every composition's cache key
    return name


def _block_of(key: str) -> str | None:
    for b in BLOCKS:
        if key == b:
            return b
    return None


def prepare_overrides(overrides: list[str]) -> tuple[list[str], list[tuple[str, str, Any]]]:
    """Split overrides into what Hydra composes and the block edits applied after it.

    - ``experiment=PATH.yaml`` registers the file (:func:`register_experiment_file`) and names it;
    - ``hydra.searchpath=[...]`` is taken into this process's search path;
    - ``experiment.arms={...}``, ``++experiment.sweep={...}`` (any prefix) replace the whole block,
      where Hydra would merge into it;
    - ``~experiment.sweep`` (``analysis``, ``dask``) empties the block; ``~experiment.arms`` is refused;
    - ``experiment.sweep.KEY.SUB=v`` (``analysis``, ``dask``) sets the key even if the block lacks it.

    Returns:
        The overrides for Hydra and the edits as (operation, key, value) with operation "set" or "replace".

    Raises:
        ConfigError: a deletion that would leave the experiment without arms, or a bad experiment file.

    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    hydra_side: list[str] = []
    edits: list[tuple[str, str, Any]] = []
    for o in overrides:
        raw_key, eq, text = o.partition("=")
        key = raw_key.lstrip("+~")
        if key == "hydra.searchpath" and eq:
            set_search_path([*_SEARCH_PATH, *_parse_list_value(text)])
            continue
        if key == "experiment" and eq and not raw_key.startswith("~") and _looks_like_file(text.strip("'\"")):
            hydra_side.append(f"{raw_key}={register_experiment_file(text.strip(chr(39) + chr(34)))}")
            continue
        block = _block_of(key)
        inner = next((b for b in _OPEN_BLOCKS if key.startswith(b + ".")), None)
        if raw_key.startswith("~") and block is not None:
            if block == "experiment.arms":
                raise ConfigError(
                    "~experiment.arms would delete every arm and an experiment needs at least one; allowed: "
                    "~experiment.arms.NAME to drop one arm, or experiment.arms={name: [overrides]} to replace them"
                )
            edits.append(("replace", block, {}))
            continue
        if eq and (block is not None or (inner is not None and not raw_key.startswith("~"))):
            try:
                parsed = parser.parse_overrides([f"{key}={text}"])[0]
            except OverrideParseException:
                raise ConfigError(
                    f"malformed override {o!r}; allowed: Hydra's grammar, with overrides inside quoted, e.g. "
                    f"""'{key}={{a: ["regime=targets"]}}'"""
                ) from None
            if parsed.is_sweep_override():
                hydra_side.append(o)  # a --multirun sweep: left to Hydra (and refused there if it is one)
                continue
            value = parsed.value()
            if block is not None and not isinstance(value, dict):
                raise ConfigError(f"{key}={text!r} is not a mapping; allowed: {key}={{name: value, ...}}")
            if block == "experiment.arms" and isinstance(value, dict):
                for arm, arm_overrides in value.items():
                    if not isinstance(arm_overrides, list) or not all(isinstance(x, str) for x in arm_overrides):
                        raise ConfigError(
                            f"experiment.arms.{arm}={arm_overrides!r}: an arm must be a list of overrides; "
                            f'allowed: e.g. {arm}: ["regime=targets"] (or [] for the defaults)'
                        )
            edits.append(("replace" if block is not None else "set", key, value))
            continue
        hydra_side.append(o)
    return hydra_side, edits


def apply_edits(cfg: DictConfig, edits: list[tuple[str, str, Any]]) -> DictConfig:
    """Apply :func:`prepare_overrides`' block edits to a composed config (in place), checking their types.

    Raises:
        ConfigError: a value of the wrong kind (e.g. an arm that is not a list).

    """
    for _op, key, value in edits:
        try:
            if _block_of(key) is None:  # a key inside an open block, e.g. experiment.sweep.parameters.x.y
                block, rest = next((b, key[len(b) + 1 :]) for b in _OPEN_BLOCKS if key.startswith(b + "."))
                node = OmegaConf.select(cfg, block)
                current = OmegaConf.to_container(node, resolve=False) if node is not None else {}
                assert isinstance(current, dict)
                tree = {str(k): v for k, v in current.items()}
                OmegaConf.update(cfg, block, _set_nested(tree, rest.split("."), value), merge=False)
            else:
                OmegaConf.update(cfg, key, value, merge=False)
        except OmegaConfBaseException as exc:
            raise ConfigError(compose_error_message(exc)) from None
    return cfg


def _set_nested(tree: dict[str, Any], parts: list[str], value: Any) -> dict[str, Any]:
    """``tree`` with ``value`` at ``parts`` (made if missing); a flat dotted key already there is replaced too.

    ``parameters: {regime.audit_rate: [...]}`` and ``parameters: {regime: {audit_rate: [...]}}`` both
    name one parameter, so setting either spelling drops the other, lest the sweep see it twice.
    """
    node = tree
    for i, part in enumerate(parts[:-1]):
        dotted = ".".join(parts[i:])
        node.pop(dotted, None)
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value
    return tree


def record_origin(choices: dict[str, Any], sources: list[tuple[str, str]]) -> dict[str, Any]:
    """Remember (for provenance) the search path and the file each chosen config came from.

    Args:
        choices: config group -> chosen name (Hydra's ``runtime.choices``).
        sources: the search path as (provider, path) in Hydra's order.

    """
    import os

    files: dict[str, str] = {}
    for group, choice in choices.items():
        if choice is None or group.startswith("hydra") or str(choice).endswith("_schema"):
            continue
        rel = f"{group}/{choice}.yaml"
        found = None
        for _provider, where in sources:
            if where.startswith("file://") and Path(where[7:], rel).is_file():
                found = str(Path(where[7:], rel))
                break
        if found is None and group == "experiment" and str(choice) in _EXPERIMENT_FILES:
            found = str(_EXPERIMENT_FILES[str(choice)])
        files[group] = found or f"{rel} (packaged schema or {sources[0][1] if sources else 'configs'})"
    _ORIGIN.clear()
    _ORIGIN.update(
        {
            "search_path": [f"{p}: {w}" for p, w in sources if not w.startswith(("pkg://hydra", "structured://"))],
            "files": files,
            "SIM_CONFIG_DIR": os.environ.get("SIM_CONFIG_DIR") or None,
        }
    )
    return dict(_ORIGIN)


def config_origin() -> dict[str, Any]:
    """Where the last recorded composition's configs came from (empty if none was recorded)."""
    import os

    if not _ORIGIN:
        return {
            "search_path": [f"main: file://{config_dir()}", *_SEARCH_PATH],
            "SIM_CONFIG_DIR": os.environ.get("SIM_CONFIG_DIR") or None,
        }
    return dict(_ORIGIN)


def compose(overrides: list[str] | None = None, config_name: str = "config", record: bool = False) -> DictConfig:
    """Compose the packaged configs (and the search path's) with Hydra overrides (no Hydra app needed).

    Overrides are read as :func:`prepare_overrides` says: block replacement and deletion, dotted keys
    inside the sweep, experiments given as files. With ``record``, the configs' origins are kept for
    the provenance (:func:`config_origin`).
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import open_dict

    register_configs()
    hydra_side, edits = prepare_overrides(list(overrides or []))
    if _SEARCH_PATH:
        hydra_side = [*hydra_side, "hydra.searchpath=[" + ",".join(f"'{e}'" for e in _SEARCH_PATH) + "]"]
    key = _compose_key(hydra_side, config_name)
    cached = _COMPOSED.get(key) if key is not None else None
    if cached is None:
        if GlobalHydra.instance().is_initialized():
            GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            composed = hydra_compose(config_name=config_name, overrides=hydra_side, return_hydra_config=True)
        runtime = composed.hydra.runtime
        choices: dict[str, Any] = OmegaConf.to_container(runtime.choices) or {}  # type: ignore[assignment]
        sources = [(str(s.provider), f"{s.schema}://{s.path}") for s in runtime.config_sources]
        with open_dict(composed):
            del composed["hydra"]
        cached = (composed, choices, sources)
        if key is not None:
            if len(_COMPOSED) >= _COMPOSED_MAX:
                _COMPOSED.pop(next(iter(_COMPOSED)))  # the oldest
            _COMPOSED[key] = cached
    composed, choices, sources = cached
    if record:
        record_origin(choices, sources)
    return apply_edits(copy.deepcopy(composed), edits)  # a copy: callers may change theirs


def _compose_key(hydra_side: list[str], config_name: str) -> tuple[Any, ...] | None:
    """What a composition depends on: the overrides, the config folders and every config file's contents.

    The YAML files under the packaged configs and the search path's folders, and the experiment
    files and mappings registered in this process, are all in it (their bytes, hashed: reading
    the 30-odd small files takes about a millisecond), so editing a config file or registering
    other contents under a name composes afresh. ``${now:...}`` and other resolvers are left
    unresolved in a composed config, so a cached one resolves as a fresh one would. None (no
    caching) for a config folder of more than :data:`_COMPOSE_MAX_FILES` files.
    """
    import hashlib
    import os

    folders = [config_dir()] + [Path(e[7:]) for e in _SEARCH_PATH if e.startswith("file://")]
    files: list[str] = []
    for folder in folders:
        for where, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files += [os.path.join(where, n) for n in sorted(names) if n.endswith((".yaml", ".yml"))]
            if len(files) > _COMPOSE_MAX_FILES:
                return None
    files += [str(p) for p in _EXPERIMENT_FILES.values()]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.encode() + b"\0")
        try:
            digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
        except OSError:
            digest.update(b"unreadable")
    return (
        tuple(hydra_side),
        config_name,
        str(config_dir()),
        os.environ.get("SIM_CONFIG_DIR") or "",
        tuple(_SEARCH_PATH),
        tuple(sorted(_EXPERIMENT_NODES.items())),
        digest.hexdigest(),
    )


def clear_compose_cache() -> None:
    """Forget the compositions made so far in this process (the next :func:`compose` runs Hydra)."""
    _COMPOSED.clear()


def to_sim_config(cfg: DictConfig | SimConfig | AppConfig) -> SimConfig:
    """Turn a composed config into a validated :class:`SimConfig` object."""
    if isinstance(cfg, SimConfig):
        obj = cfg
    else:
        try:
            container = OmegaConf.to_container(cfg, resolve=True)
        except OmegaConfBaseException as exc:  # an unresolvable ${...} interpolation
            raise ConfigError(compose_error_message(exc)) from exc
        assert isinstance(container, dict)
        container.pop("experiment", None)
        container.pop("hydra", None)
        try:
            merged = OmegaConf.merge(OmegaConf.structured(SimConfig), container)
            obj = OmegaConf.to_object(merged)  # type: ignore[assignment]
        except OmegaConfBaseException as exc:  # a key added with +key=value, or a wrong type
            raise ConfigError(compose_error_message(exc)) from exc
        assert isinstance(obj, SimConfig)
    validate(obj)
    return obj


def load_config(overrides: list[str] | None = None) -> SimConfig:
    """Compose the packaged configs of one simulation with Hydra overrides, validated.

    Args:
        overrides: Hydra overrides such as ``["regime=negotiated", "steps=240", "seed=7"]``.

    Returns:
        The validated configuration of one simulation.

    Raises:
        ConfigError: a value is out of range or of the wrong kind; the message names the key.

    """
    return to_sim_config(compose_checked(overrides, record=True))  # record: the run folder's provenance


def compose_checked(overrides: list[str] | None = None, record: bool = False) -> DictConfig:
    """:func:`compose`, with every composition failure turned into a one-line :class:`ConfigError`.

    This covers Hydra's and OmegaConf's errors and a YAML file that cannot be read (a syntax error,
    a duplicated key): the message names the file, the key and the fix, never library internals.
    """
    import yaml
    from hydra.errors import HydraException

    try:
        return compose(overrides, record=record)
    except ConfigError:
        raise
    except (HydraException, OmegaConfBaseException, yaml.YAMLError) as exc:
        raise ConfigError(compose_error_message(exc)) from exc
    except (TypeError, ValueError) as exc:  # Hydra's defaults list given a list or mapping for a group
        for o in overrides or []:
            key, _, value = o.partition("=")
            group = key.lstrip("+~")
            if (config_dir() / group).is_dir() and value.strip()[:1] in ("[", "{"):
                names = sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))
                raise ConfigError(
                    f"{group}={value!r} names a {group} config file; allowed: one of {', '.join(names)} "
                    f"(set single keys with {group}.KEY=VALUE)"
                ) from exc
        raise ConfigError(f"the overrides {' '.join(overrides or [])!r} cannot be composed: {exc}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _field_at(path: str) -> tuple[Any, dataclasses.Field[Any] | None]:
    """The dataclass holding ``path`` (dotted, from :class:`AppConfig`) and its field, if any."""
    import typing

    cls: Any = AppConfig
    found: dataclasses.Field[Any] | None = None
    parts = [p for p in path.split(".") if p]
    for i, name in enumerate(parts):
        if not dataclasses.is_dataclass(cls):
            return None, None
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if name not in fields:
            return (cls, None) if i == len(parts) - 1 else (None, None)
        found = fields[name]
        if i == len(parts) - 1:
            return cls, found
        hint = typing.get_type_hints(cls)[name]
        args = typing.get_args(hint)
        cls = args[0] if typing.get_origin(hint) is list and args else hint
    return None, found


def _allowed_text(f: dataclasses.Field[Any] | None, kind: str) -> str:
    meta = dict(f.metadata) if f is not None else {}
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return kind
    lo_s = "-inf" if lo is None else _num(lo)
    hi_s = "inf" if hi is None else _num(hi)
    return f"{kind} from {lo_s} to {hi_s}"


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


_KINDS = {"Integer": "a whole number", "Float": "a number", "Boolean": "true or false", "String": "a string"}


def _config_file(name: str) -> str:
    """The file behind a Hydra config name such as ``experiment/payment`` (as the user would open it)."""
    path = config_dir() / f"{name}.yaml"
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _yaml_error_message(exc: BaseException) -> str:
    """One line for a YAML file that cannot be read: the file, the line, the problem and the fix."""
    mark = getattr(exc, "problem_mark", None)
    problem = str(getattr(exc, "problem", "") or "").strip() or "not valid YAML"
    where = "a config file"
    if mark is not None:
        where = f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}"
    m = re.match(r"found duplicate key (.+)", problem)
    if m:
        return (
            f"{where}: key {m.group(1).strip()!r} is given twice in the same block (a duplicated arm or option); "
            "allowed: each key once, so remove or rename one of them"
        )
    context = str(getattr(exc, "context", "") or "").strip()
    detail = f"{problem} ({context})" if context else problem
    return (
        f"{where}: invalid YAML: {detail}; fix the syntax there (e.g. close every [ and {{, quote values holding ':')"
    )


def _kind_of(path: str) -> str:
    """The kind of value a dotted key holds, in words (for messages), from the dataclass type hints."""
    import typing

    cls, f = _field_at(path)
    if cls is None or f is None:
        return "a value"
    hint = typing.get_type_hints(cls).get(f.name)
    words: dict[Any, str] = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}
    return words.get(hint, "a value")


def compose_error_message(exc: BaseException) -> str:
    """One line for a Hydra/OmegaConf/YAML composition error: the key, the value given and what is allowed.

    The message never carries library internals (class names, ``full_key:`` blocks, type hints):
    each kind of failure is rewritten in the words of ``docs/reliability.md``.
    """
    import difflib

    import yaml
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import (
        ConfigAttributeError,
        ConfigKeyError,
        ConfigTypeError,
        InterpolationResolutionError,
        MissingMandatoryValue,
        ValidationError,
    )

    if isinstance(exc, yaml.YAMLError):
        return _yaml_error_message(exc)
    for inner in (exc.__cause__, exc.__context__):
        if isinstance(inner, yaml.YAMLError):
            return _yaml_error_message(inner)
    text = str(exc).strip()
    m = re.match(r"In '([^']+)': \w+ raised while composing config", text)
    inner = exc.__cause__ or exc.__context__
    if m and inner is not None:
        # A mistake inside a config file (e.g. the user's experiment file): name the file first.
        return f"in {_config_file(m.group(1))}: {compose_error_message(inner)}"
    cause_any = exc if isinstance(exc, OmegaConfBaseException) else exc.__cause__
    if isinstance(cause_any, InterpolationResolutionError):
        key = str(getattr(cause_any, "full_key", "") or "a value")
        raw = getattr(getattr(cause_any, "child_node", None), "_value", lambda: None)()
        given = f"={raw!r}" if isinstance(raw, str) else ""
        why = _first_line(cause_any)
        km = re.match(r"Interpolation key '([^']+)' not found", why)
        if km:
            why = f"there is no key {km.group(1)!r}"
        else:
            em = re.search(r"Environment variable '([^']+)' not found", why)
            why = f"the environment variable {em.group(1)!r} is not set" if em else why.split(": ", 1)[-1]
        return (
            f"{key}{given} cannot be resolved: {why}; allowed: a plain value, or ${{key}} naming an existing key "
            "(e.g. ${seed})"
        )
    if isinstance(cause_any, ConfigTypeError) and "Cannot merge" in str(cause_any):
        # A mapping given for a list (or a list for a section): name the key and the expected shape.
        key = str(getattr(cause_any, "full_key", "") or "")
        m2 = re.search(r"override '?([^=']+)=(.*?)'?$", text.splitlines()[0]) if text else None
        given = f"={m2.group(2)!r}" if m2 else ""
        short = "a list" if "with ListConfig" in str(cause_any) else "a mapping"
        want = "a list, e.g. [a, b]" if short == "a list" else "a mapping, e.g. {key: value}"
        if key.startswith("regime.switches"):
            want = f"a list of switches {SWITCH_FORM}"
        return f"{key}{given} is not {short}; allowed: {want}"
    if isinstance(cause_any, MissingMandatoryValue):
        key = str(getattr(cause_any, "full_key", "") or "")
        if key.startswith("regime.switches"):
            return switch_missing_message(key)
        return f"{key} is required but not given; allowed: {_allowed_text(_field_at(key)[1], _kind_of(key))}"
    if isinstance(exc, OverrideParseException):
        m = re.search(r"override '(.*?)'", text)
        given = m.group(1) if m else text.splitlines()[0]
        return f"malformed override {given!r}; allowed: key=value, e.g. steps=240 (Hydra override grammar)"
    if isinstance(exc, MissingConfigException):
        m = re.search(r"Could not find '([^/']+)/([^']*)'", text)
        options = [
            line.strip()
            for line in text.split("Available options", 1)[-1].split("Config search path")[0].splitlines()[1:]
            if line.strip() and not line.strip().endswith("_schema")
        ]
        if m and options:
            return f"{m.group(1)}={m.group(2)!r} is not a known {m.group(1)} config; allowed: {', '.join(options)}"
        return _first_line(exc)
    cause = exc if isinstance(exc, ValidationError | ConfigKeyError) else exc.__cause__
    m = re.search(r"override '?([^=']+)=(.*?)'?$", text.splitlines()[0]) if text else None
    okey, ovalue = (m.group(1).lstrip("+~"), m.group(2)) if m else ("", "")
    m = re.search(r"Could not override '([^']+)'.*?use \+[^=\s]+=(.*)$", text, re.S)
    if m:
        okey, ovalue = m.group(1), m.group(2).strip()
    if isinstance(cause, ConfigAttributeError | ConfigKeyError):
        full = str(getattr(cause, "full_key", "") or getattr(cause, "key", "") or okey)
        if okey and not full.startswith(okey):
            full = f"{okey}.{full}"
        parent = full.rsplit(".", 1)[0] if "." in full else ""
        _, holder = _field_at(parent) if parent else (None, None)
        if holder is not None and "dict" in str(holder.type).lower() and okey:
            # A new key in an open block (experiment.sweep / analysis / dask): Hydra wants '+' for it.
            return (
                f"{parent} has no key {full.rsplit('.', 1)[-1]!r} yet ({okey}={ovalue}); "
                f"allowed: add it with +{okey}={ovalue} (or set the whole block with ++{parent}={{...}})"
            )
        cls, _ = _field_at(full)
        if cls is None and okey:
            cls, _ = _field_at(okey + ".x")  # a key inside a list item, e.g. regime.switches[].xx
            parent = okey
        names = [f.name for f in dataclasses.fields(cls)] if cls is not None else []
        close = difflib.get_close_matches(full.rsplit(".", 1)[-1], names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        where = f"in {parent}" if parent else "at the top level"
        allowed = ", ".join(names) if names else "the keys listed in docs/parameters.md"
        given = f" ({okey}={ovalue})" if okey else ""
        return f"unknown key {full!r}{given}{hint}; allowed keys {where}: {allowed}"
    if isinstance(cause, ValidationError):
        full = str(getattr(cause, "full_key", "") or okey)
        if okey and not full.startswith(okey):
            full = f"{okey}[].{full}"
        ctext = str(cause).splitlines()[0]
        value = getattr(cause, "value", None)
        shown: Any = ovalue if ovalue and okey == full else value
        _, f = _field_at(full.replace("[]", ""))
        km = re.search(r"converted to (\w+)", ctext)
        if km:
            kind = _KINDS.get(km.group(1), km.group(1).lower())
        elif "valid bool" in ctext:
            kind = "true or false"
        elif "ListConfig" in ctext or "type hint 'typing.List" in ctext or "List[" in ctext:
            kind = "a list, e.g. [a, b]"
            if full.startswith("experiment.arms."):
                return (
                    f"{full}={shown!r}: an arm must be a list of overrides; "
                    f'allowed: e.g. {full.rsplit(".", 1)[-1]}: ["regime=targets"] (or [] for the defaults)'
                )
        elif "is not Optional" in ctext:
            kind = _kind_of(full.replace("[]", ""))
            return f"{full}=null is not allowed (a value is required); allowed: {_allowed_text(f, kind)}"
        elif "Dict[" in ctext or "DictConfig" in ctext or "mapping" in ctext.lower():
            kind = "a mapping, e.g. {key: value}"
        else:
            kind = _kind_of(full.replace("[]", ""))
        return f"{full}={shown!r} is not {kind}; allowed: {_allowed_text(f, kind)}"
    return _first_line(exc)


def _check_field(path: str, value: Any, meta: dict[str, Any]) -> None:
    choices = meta.get("choices")
    if choices is not None and value is not None and value not in choices:  # None: the preset's value
        raise ConfigError(f"{path}={value!r} is not allowed; allowed values: {', '.join(choices)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    lo, hi = meta.get("lo"), meta.get("hi")
    lo_s = "-inf" if lo is None else _num(lo)
    hi_s = "inf" if hi is None else _num(hi)
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}={value!r} must be a finite number; allowed: {lo_s} to {hi_s}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{path}={value!r} is out of range; allowed: {lo_s} to {hi_s}")


def _walk(obj: Any, prefix: str) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            _walk(value, path + ".")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    _walk(item, f"{path}[{i}].")
        else:
            _check_field(path, value, dict(f.metadata))


# RegimeConfig fields a switch may not set: the label, the schedule itself, and the alias.
NOT_SWITCHABLE: frozenset[str] = frozenset({"name", "switches", "commitment_reward"})


def switchable_keys() -> tuple[str, ...]:
    """The instruments and levers of ``regime`` a scheduled switch may set."""
    return tuple(f.name for f in dataclasses.fields(RegimeConfig) if f.name not in NOT_SWITCHABLE)


def check_switch_value(path: str, key: str, value: Any) -> None:
    """Check one ``set`` entry of a switch: a known instrument or lever, of its kind, in its range.

    Raises:
        ConfigError: naming the entry, its value and what is allowed.

    """
    import typing

    fields = {f.name: f for f in dataclasses.fields(RegimeConfig) if f.name not in NOT_SWITCHABLE}
    if key not in fields:
        raise ConfigError(f"{path}: unknown instrument or lever {key!r}; allowed keys: {', '.join(fields)}")
    f = fields[key]
    meta = dict(f.metadata)
    hint = typing.get_type_hints(RegimeConfig)[key]
    if typing.get_origin(hint) is list:
        kind: Any = list
    else:  # a plain type, or X | None for the instruments
        kind = next((k for k in typing.get_args(hint) if k is not type(None)), hint)
    if kind is bool:
        ok, text = isinstance(value, bool), "true or false"
    elif kind is int:
        ok, text = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif kind is float:
        ok, text = isinstance(value, int | float) and not isinstance(value, bool), "a number"
    elif kind is str:
        ok, text = isinstance(value, str), "a string"
    else:
        ok = isinstance(value, list) and all(isinstance(v, str) and v in DOMAINS for v in value)
        text = "a list of domains from " + ", ".join(DOMAINS)
    if not ok:
        raise ConfigError(f"{path}={value!r} is not {text}; allowed: {_allowed_text(f, text)}")
    _check_field(path, float(value) if kind is float else value, meta)


def validate(cfg: SimConfig) -> None:
    """Check every bound declared with :func:`param` and the relations between fields.

    Raises:
        ConfigError: naming the first offending key, its value and what is allowed.

    """
    pop, reg, svc = cfg.population, cfg.regime, cfg.services
    validate_switches(reg.switches, cfg.steps)  # first: a missing 'to' is a clearer message than its choices
    _walk(cfg, "")
    if pop.share_conditional + pop.share_free_rider > 1:
        raise ConfigError(
            "population.share_conditional + population.share_free_rider = "
            f"{pop.share_conditional + pop.share_free_rider:g}; allowed: at most 1 (the rest are 'other')"
        )
    for d in reg.measured_domains:
        if d not in DOMAINS:
            raise ConfigError(f"regime.measured_domains contains {d!r}; allowed values: {', '.join(DOMAINS)}")
    shares = svc.initial_shares
    allowed_shares = (
        "allowed: six positive shares, each finite (functioning, measured work, unmeasured work, partnership, gaming, "
        "slack), normalised to sum to 1"
    )
    if len(shares) != 6 or any(not isinstance(s, int | float) or isinstance(s, bool) for s in shares):
        raise ConfigError(f"services.initial_shares={shares!r}; {allowed_shares}")
    if not all(math.isfinite(s) for s in shares) or not math.isfinite(sum(shares)):
        # NaN, inf, or values whose sum overflows: normalising them would give NaN shares.
        raise ConfigError(f"services.initial_shares={shares!r} must be finite numbers; {allowed_shares}")
    if any(s <= 0 for s in shares):
        raise ConfigError(f"services.initial_shares={shares!r}; {allowed_shares}")
    if cfg.kernel_threads != 1 and cfg.driver != "fused":
        raise ConfigError(
            f"kernel_threads={cfg.kernel_threads} with driver={cfg.driver}; allowed: kernel_threads=1 "
            "unless driver=fused (only the fused driver's kernels run on several threads)"
        )
    check_output_dir(cfg.output.dir)


# ---------------------------------------------------------------------- regime switches
SWITCH_FORM = (
    "{step: MONTH, to: PRESET} or {step: MONTH, set: {INSTRUMENT_OR_LEVER: VALUE}}, "
    "e.g. regime.switches=[{step:24,to:targets}] or [{step:12,set:{payment_per_hour:5}}]"
)


def switch_missing_message(key: str) -> str:
    """The message for a switch lacking ``step`` or ``to`` (``key`` is e.g. ``regime.switches[0].to``)."""
    item, _, name = key.rpartition(".")
    what = (
        "where it goes (to: one of " + ", ".join(REGIMES) + ", or set: {...})"
        if name == "to"
        else "when (step: a month)"
    )
    return f"{item} does not say {what}; allowed: {SWITCH_FORM}"


def validate_switches(switches: list[RegimeSwitch], steps: int) -> None:
    """Check a regime's scheduled switches: each says when and where, inside the horizon, one per month.

    A switch goes to a preset (``to``) or sets named instruments and levers (``set``), exactly one
    of the two; every value in ``set`` is checked like the same key of ``regime``.

    Raises:
        ConfigError: naming the switch, its value and what is allowed.

    """
    first_at: dict[int, int] = {}
    for i, sw in enumerate(switches):
        if str(sw.step) == "???":  # built in Python without a step
            raise ConfigError(switch_missing_message(f"regime.switches[{i}].step"))
        if sw.step >= steps:
            raise ConfigError(
                f"regime.switches[{i}].step={sw.step} is at or after the horizon; allowed: 0 to steps-1 = {steps - 1}"
            )
        if sw.step in first_at:
            j = first_at[sw.step]
            raise ConfigError(
                f"regime.switches[{i}].step={sw.step} is the month of regime.switches[{j}] too; "
                "allowed: at most one switch per month (put several keys in one 'set')"
            )
        first_at[sw.step] = i
        if sw.to is None and not sw.set:
            raise ConfigError(switch_missing_message(f"regime.switches[{i}].to"))
        if sw.to is not None and sw.set:
            raise ConfigError(f"regime.switches[{i}] gives both to and set; allowed: exactly one, {SWITCH_FORM}")
        for key, value in sw.set.items():
            check_switch_value(f"regime.switches[{i}].set.{key}", key, value)


# ---------------------------------------------------------------------- names that become paths
# A name that becomes a folder or file name: no separator, no '..', no leading dot, no space.
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,99}")
SAFE_NAME_TEXT = "1 to 100 letters, digits, '_', '-', '+' or '.', not starting with '.' (no '/' and no '..')"


def check_name(key: str, value: Any) -> None:
    """Refuse a name that would leave the folder it is written into (``experiment.name``, an arm).

    Raises:
        ConfigError: naming the key, the value and the allowed characters.

    """
    if not isinstance(value, str) or not SAFE_NAME.fullmatch(value) or ".." in value:
        shown = value if isinstance(value, str) else str(value)
        raise ConfigError(f"{key}={shown!r} is not a safe name for a folder; allowed: {SAFE_NAME_TEXT}")


def check_output_dir(value: Any) -> None:
    """Refuse an empty ``output.dir`` (an unset shell variable), which would put runs at the file-system root.

    Any other path is the folder the user chose (relative to the working directory or absolute);
    every name written under it is checked by :func:`check_name`.

    Raises:
        ConfigError: naming the key and what is allowed.

    """
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise ConfigError(
            f"output.dir={value!r} is empty (an unset shell variable?); allowed: a folder path, "
            "e.g. output.dir=outputs or output.dir=/scratch/me/runs"
        )


# ---------------------------------------------------------------------- experiments
DASK_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")


def check_dask_address(address: Any) -> None:
    """Refuse a dask scheduler address that is not ``[scheme://]host:port`` before any connection is tried.

    Raises:
        ConfigError: naming ``experiment.dask.address`` and the allowed form.

    """
    from urllib.parse import urlsplit

    text = str(address)
    allowed = (
        "allowed: [scheme://]host:port with scheme one of " + ", ".join(DASK_SCHEMES) + ", e.g. tcp://127.0.0.1:8786"
    )
    url = urlsplit(text if "://" in text else f"tcp://{text}")
    try:
        port = url.port
    except ValueError:
        port = None
    if url.scheme not in DASK_SCHEMES or not url.hostname or (url.scheme != "inproc" and port is None):
        raise ConfigError(f"experiment.dask.address={text!r} is not a scheduler address; {allowed}")


def validate_experiment(exp: ExperimentConfig) -> None:
    """Check an experiment block: the param() bounds, names that become folders, arms, plots and dask.

    Raises:
        ConfigError: naming the first offending key, its value and what is allowed.

    """
    from sim.metrics import COLUMNS  # imported here: sim.metrics needs the rules, not the other way

    _walk(exp, "experiment.")
    check_name("experiment.name", exp.name)
    for arm, overrides in exp.arms.items():
        check_name(f"experiment.arms.{arm}", arm)
        if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
            raise ConfigError(
                f"experiment.arms.{arm}={overrides!r}: an arm must be a list of overrides; "
                f'allowed: e.g. {arm}: ["regime=targets"] (or [] for the defaults)'
            )
    plottable = [c for c in COLUMNS if c not in ("step", "regime")]
    # A lab experiment's tables have their own columns (sim.lab); its plots are checked there.
    for i, metric in enumerate(exp.metrics_to_plot if exp.kind == "simulation" else []):
        if metric not in plottable:
            import difflib

            close = difflib.get_close_matches(str(metric), plottable, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"experiment.metrics_to_plot[{i}]={metric!r} is not a metric{hint}; "
                "allowed: the columns of sim.metrics.COLUMNS (docs: README 'What is measured')"
            )
    address = (exp.dask or {}).get("address")
    if address:
        check_dask_address(address)

"""The live model of the explorer: a Mesa model built from keyword settings, and views of its state.

:class:`LiveModel` is :class:`sim.model.SocialProductivityModel` built from the same validated
settings as one arm of a proposal (a regime, its levers, the population and a seed), so that
Mesa's ``ModelController`` can reset it with keyword arguments, as in Mesa's own examples. It
runs the unrecorded settling-in months when it is created, so that month 0 is where the policy
starts, and stops at the horizon. The functions below read its Mesa agents (``Community``,
``Service``) and arrays into plain rows for the page; none of them changes the model.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.agents import Community, Service
from sim.app.proposal import (
    LEVERS,
    Levers,
    Proposal,
    ProposalError,
    arm_config,
    check_relations,
    check_values,
    deprivation_fifths,
)
from sim.model import SocialProductivityModel
from sim.rules.coproduction import ACTIVITIES

AREA_DEFAULTS: dict[str, int] = {"n_citizens": 2000, "n_communities": 20, "steps": 120, "seed": 0}
ACTIVITY_TITLES: dict[str, str] = {
    "functioning": "Core functioning",
    "measured_work": "Measured outcome work",
    "unmeasured_work": "Unmeasured outcome work",
    "partnership": "Partnership with citizens",
    "gaming": "Gaming the figures",
    "slack": "Slack",
}


def live_defaults() -> dict[str, Any]:
    """Keyword settings of the live model at start: the model's default levers, national targets."""
    levers = dataclasses.asdict(Levers(regime="targets"))
    return {**levers, **AREA_DEFAULTS}


def live_problems(settings: dict[str, Any], relations: bool = True) -> list[str]:
    """Messages for invalid live settings: each on its own, and (if ``relations``) together."""
    unknown = [k for k in settings if k not in LEVERS and k not in AREA_DEFAULTS]
    if unknown:
        return [f"Unknown live setting {k!r}." for k in unknown[:5]]
    try:
        levers = Levers(**{k: v for k, v in settings.items() if k in LEVERS})
        area = {k: settings.get(k, v) for k, v in AREA_DEFAULTS.items()}
        p = Proposal(baseline=levers, reform=levers, replications=1, **area)
    except TypeError as exc:  # pragma: no cover - keys are checked above
        return [str(exc)]
    messages = [m.replace("Baseline: ", "") for m in check_values(p) if not m.startswith("Proposal: ")]
    if not messages and relations:
        messages = check_relations(p)
    return messages


def live_proposal(settings: dict[str, Any]) -> Proposal:
    """The settings as a one-run proposal (both arms alike), so they are validated by the same rules.

    Raises:
        ProposalError: an unknown setting or an invalid value, with one message each.

    """
    messages = live_problems(settings)
    if messages:
        raise ProposalError(messages)
    levers = Levers(**{k: v for k, v in settings.items() if k in LEVERS})
    area = {k: settings.get(k, v) for k, v in AREA_DEFAULTS.items()}
    return Proposal(baseline=levers, reform=levers, replications=1, **area)


class LiveModel(SocialProductivityModel):
    """The model of the live tab, built from keyword settings (see :func:`live_defaults`).

    Mesa's ``ModelController`` resets it with ``type(model)(**settings)`` and adds a ``scenario``
    keyword, which this model ignores. Invalid settings never raise here (a page would show the
    traceback): the model is built from the defaults instead and ``problems`` says why.

    Args:
        scenario: ignored (Mesa's scenario object).
        **settings: levers and area settings, as :func:`live_defaults`.

    """

    def __init__(self, scenario: Any = None, **settings: Any) -> None:
        merged = {**live_defaults(), **settings}
        self.problems: list[str] = []
        try:
            p = live_proposal(merged)
        except ProposalError as exc:
            self.problems = [*exc.messages, "The model was started with the standard settings instead."]
            merged = live_defaults()
            p = live_proposal(merged)
        super().__init__(arm_config(p, "baseline", p.seed))
        # The page plays the model in one thread and reads it in others: a month is stepped, and
        # the page reads the model, while holding this lock.
        self.lock = threading.RLock()
        self.settings = merged
        while self.month < 0:  # the unrecorded settling-in months
            super().step()
        self.fifth_of_community = deprivation_fifths(self.communities_state.deprivation)
        self.running = True

    @property
    def horizon(self) -> int:
        """Months to simulate."""
        return self.config.steps

    def step(self) -> None:
        """One month; the model stops (``running`` false) at the horizon."""
        if self.month >= self.horizon:
            self.running = False
            return
        super().step()
        if self.month >= self.horizon:
            self.running = False


@dataclass(frozen=True)
class CommunityRow:
    """What the map shows of one community."""

    index: int
    deprivation: float
    fifth: int
    residents: int
    trust: float
    true_outcome: float
    reported_outcome: float
    social_capital: float
    prosocial: float
    participation: float
    services: tuple[int, ...]


COLOR_MEASURES: dict[str, str] = {
    "true_outcome": "True outcome",
    "trust": "Trust",
    "prosocial": "Pro-social activity",
    "social_capital": "Social capital",
    "deprivation": "Deprivation",
}


def community_rows(model: LiveModel) -> list[CommunityRow]:
    """One row per community, from its Mesa agent and the citizen arrays, least deprived first."""
    cit, svc = model.citizens, model.services
    n_comm = model.communities_state.deprivation.shape[0]
    size = np.maximum(model.communities_state.size.astype(float), 1.0)
    trust = np.bincount(cit.community, weights=cit.trust, minlength=n_comm) / size
    threshold = model.config.citizens.activity_threshold_hours
    active = ((cit.volunteering + cit.caring) >= threshold).astype(float)
    prosocial = np.bincount(cit.community, weights=active, minlength=n_comm) / size
    lived = np.asarray(svc.lived, dtype=float)
    reported = np.asarray(svc.reported, dtype=float)
    rows = []
    for agent in model.agents_by_type[Community]:
        i = agent.index
        mine = agent.services
        rep = reported[mine]
        rows.append(
            CommunityRow(
                index=i,
                deprivation=agent.deprivation,
                fifth=int(model.fifth_of_community[i]),
                residents=agent.n_citizens,
                trust=float(trust[i]),
                true_outcome=float(np.mean(lived[mine])) if mine else math.nan,
                reported_outcome=float(np.nanmean(rep)) if np.isfinite(rep).any() else math.nan,
                social_capital=agent.social_capital,
                prosocial=float(prosocial[i]),
                participation=agent.participation,
                services=tuple(mine),
            )
        )
    return sorted(rows, key=lambda r: (r.deprivation, r.index))


@dataclass(frozen=True)
class ServiceView:
    """What the inspector shows of one service."""

    index: int
    community: int
    domain: str
    ethos: float
    allocation: dict[str, float]
    reported_outcome: float
    true_outcome: float
    cases: int
    target: float | None
    objective: float | None
    agreement: bool
    audited: bool


def service_view(model: LiveModel, index: int) -> ServiceView:
    """The inspector's view of one service, from its Mesa agent.

    Raises:
        KeyError: no service has that index.

    """
    agents = {a.index: a for a in model.agents_by_type[Service]}
    if index not in agents:
        raise KeyError(index)
    a = agents[index]
    svc = model.services
    targeted = bool(model.targeted()[index] > 0)
    negotiating = model.instruments.objective_setter == "forum" and svc.agreement[index] > 0
    return ServiceView(
        index=index,
        community=a.community,
        domain=a.domain,
        ethos=a.ethos,
        allocation={ACTIVITY_TITLES.get(k, k): v for k, v in a.allocation.items()},
        reported_outcome=a.reported_outcome,
        true_outcome=a.true_outcome,
        cases=int(svc.cases[index]) if svc.cases.shape[0] > index else 0,
        target=float(svc.target[index]) if targeted else None,
        objective=float(svc.objective[index]) if negotiating else None,
        agreement=bool(negotiating),
        audited=bool(svc.audited[index] > 0),
    )


def color_scale(value: float, lo: float = 0.0, hi: float = 1.0) -> tuple[str, str]:
    """A background colour for a value (a colour-blind-safe sequential scale) and a readable text colour."""
    if value is None or not math.isfinite(value):
        return "#bdbdbd", "#000000"
    x = min(1.0, max(0.0, (value - lo) / (hi - lo) if hi > lo else 0.5))
    # viridis at 9 points, interpolated
    stops = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ]
    pos = x * (len(stops) - 1)
    k = min(int(pos), len(stops) - 2)
    f = pos - k
    r, g, b = (round(stops[k][c] + f * (stops[k + 1][c] - stops[k][c])) for c in range(3))
    # Black or white text, whichever contrasts more (WCAG relative luminance): at least 4.5:1 on every colour.
    luminance = relative_luminance(r, g, b)
    on_black, on_white = (luminance + 0.05) / 0.05, 1.05 / (luminance + 0.05)
    return f"#{r:02x}{g:02x}{b:02x}", "#000000" if on_black >= on_white else "#ffffff"


def relative_luminance(r: int, g: int, b: int) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0-255 channels."""

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lum = [relative_luminance(*(int(c[i : i + 2], 16) for i in (1, 3, 5))) for c in (fg, bg)]
    hi, lo = max(lum), min(lum)
    return (hi + 0.05) / (lo + 0.05)


ALLOCATION_ORDER: tuple[str, ...] = tuple(ACTIVITY_TITLES.get(a, a) for a in ACTIVITIES)

"""A policy proposal and its test against a baseline: the proposal explorer's logic, free of any UI.

A :class:`Proposal` holds a baseline and a reform (each a regime plus its levers, see
:class:`Levers`) and the area they are tested on: population, communities, months, runs and a
root seed. This module

- validates every value on the server with explicit bounds (:data:`LIMITS`, :data:`LEVERS`,
  each within the bounds declared with ``param`` in :mod:`sim.config`) and rejects unknown
  keys, collecting one clear message per problem (:class:`ProposalError`);
- encodes a proposal as URL query parameters with a check code, and decodes a query back,
  rejecting malformed, out-of-range or altered links with a message, never a traceback
  (:func:`to_query`, :func:`from_query`);
- gives the Hydra overrides of each arm and the exact ``python -m sim run`` commands that
  reproduce the runs from a terminal (:func:`arm_overrides`, :func:`reproduce_commands`);
- runs both arms on common seeds (:func:`sim.runner.replication_seeds`), one run at a time so
  that a pool can spread them (:func:`run_tasks`, :func:`run_one`), and analyses them
  (:func:`analyse`): paired differences over time with 95% t-intervals, end-of-run effects,
  effects by community deprivation fifth, who takes part in forums, and a plain-words summary
  built only from the computed numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlencode

import numpy as np

from sim.config import REGIMES, RegimeConfig, SimConfig, load_config
from sim.instruments import Instruments
from sim.metrics import SUMMARY_WINDOW
from sim.sweep.plan import replication_seeds

ARMS: tuple[str, str] = ("baseline", "proposal")
REGIME_TITLES: dict[str, str] = {
    "targets": "National targets",
    "negotiated": "Negotiated outcomes",
    "functioning": "Guaranteed functioning only",
    "none": "No performance management",
    "targets_guarantee": "Targets with guaranteed functioning",
    "targets_partnership": "Targets with paid partnership",
    "local_targets": "Locally set targets",
    "negotiated_unpaid": "Negotiated outcomes, partnership unpaid",
}
QUERY_VERSION = "1"
MAX_QUERY_CHARS = 4000
MAX_VALUE_CHARS = 40
N_FIFTHS = 5


class ProposalError(ValueError):
    """One or more settings are invalid; ``messages`` holds one plain sentence per problem."""

    def __init__(self, messages: Iterable[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


# ---------------------------------------------------------------------------- bounds
@dataclass(frozen=True)
class LeverSpec:
    """How one lever may be set in the explorer.

    Attributes:
        name: the field of :class:`sim.config.RegimeConfig`.
        kind: ``float``, ``int``, ``bool`` or ``choice``.
        lo: lowest allowed value (numbers).
        hi: highest allowed value (numbers).
        step: slider step.
        unit: unit shown next to the value.
        default: the model's default.

    """

    name: str
    kind: Literal["float", "int", "bool", "choice"]
    lo: float | None = None
    hi: float | None = None
    step: float = 0.01
    unit: str = ""
    default: Any = None


def _regime_meta(name: str) -> dict[str, Any]:
    return dict(next(f for f in fields(RegimeConfig) if f.name == name).metadata)


def _regime_default(name: str) -> Any:
    return getattr(RegimeConfig(), name)


def _lever(
    name: str,
    kind: Literal["float", "int", "bool", "choice"],
    step: float = 0.01,
    hi: float | None = None,
) -> LeverSpec:
    """A lever whose bounds are the model's own (``param`` in sim.config), narrowed to ``hi`` if given."""
    meta = _regime_meta(name)
    lo, top = meta.get("lo"), meta.get("hi")
    if hi is not None:
        top = hi if top is None else min(top, hi)
    return LeverSpec(name, kind, lo, top, step, meta.get("unit", ""), _regime_default(name))


# The levers a proposal sets. Bounds are those of sim.config, narrowed where the model allows
# values far outside any policy question (a payment of GBP 1,000 an hour): the explorer is for
# comparing policies, and the command line still accepts the model's full ranges.
LEVERS: dict[str, LeverSpec] = {
    s.name: s
    for s in (
        LeverSpec("regime", "choice", default=_regime_default("name")),
        _lever("target_level", "float", 0.01),
        _lever("ratchet", "bool"),
        _lever("audit_rate", "float", 0.01),
        _lever("sanction_strength", "float", 0.5, hi=20),
        _lever("reward_strength", "float", 0.5, hi=20),
        _lever("guarantee_level", "float", 0.01),
        _lever("payment_per_hour", "float", 0.5, hi=50),
        _lever("recognition", "float", 0.05),
        _lever("negotiation_interval", "int", 1, hi=60),
        _lever("participation_support", "float", 0.05),
    )
}

# The area and the runs: bounded so that no request can exhaust a small machine.
LIMITS: dict[str, tuple[int, int]] = {
    "n_citizens": (100, 20_000),
    "n_communities": (5, 100),
    "steps": (12, 240),
    "replications": (1, 10),
    "seed": (0, 2**31 - 1),
}
MIN_CITIZENS_PER_COMMUNITY = 10

# URL / form names of the area settings, in the order links list them.
AREA_KEYS: dict[str, str] = {
    "citizens": "n_citizens",
    "communities": "n_communities",
    "months": "steps",
    "runs": "replications",
    "seed": "seed",
}
AREA_TITLES: dict[str, str] = {
    "n_citizens": "Population (citizens)",
    "n_communities": "Communities",
    "steps": "Months simulated",
    "replications": "Runs of each policy",
    "seed": "Chance events (number)",
}


# ---------------------------------------------------------------------------- the proposal
@dataclass(frozen=True)
class Levers:
    """A regime and the centre's levers: one arm of a comparison. Defaults are the model's."""

    regime: str = LEVERS["regime"].default
    target_level: float = LEVERS["target_level"].default
    ratchet: bool = LEVERS["ratchet"].default
    audit_rate: float = LEVERS["audit_rate"].default
    sanction_strength: float = LEVERS["sanction_strength"].default
    reward_strength: float = LEVERS["reward_strength"].default
    guarantee_level: float = LEVERS["guarantee_level"].default
    payment_per_hour: float = LEVERS["payment_per_hour"].default
    recognition: float = LEVERS["recognition"].default
    negotiation_interval: int = LEVERS["negotiation_interval"].default
    participation_support: float = LEVERS["participation_support"].default

    def describe(self) -> str:
        """The regime's plain name."""
        return REGIME_TITLES.get(self.regime, self.regime)


def arm_instruments(levers: Levers) -> Instruments:
    """The instruments of an arm's regime at month 0 (what its preset switches on), with its levers."""
    values = {name: getattr(levers, name) for name in LEVERS if name != "regime"}
    return Instruments.from_config(RegimeConfig(name=levers.regime, **values))


def forums_meet(inst: Instruments) -> bool:
    """Whether forums convene: where they set the objective or observe performance (as the model decides)."""
    return inst.objective_setter == "forum" or inst.observation == "forum"


def lever_inert_reason(name: str, inst: Instruments) -> str | None:
    """Why lever ``name`` changes nothing under instruments ``inst``, or None if it acts.

    Read from the instruments, as the model's rules read them (never from the regime's name):
    an outcome objective is judged only where someone sets it and it is observed; records are
    audited only where an indicator judges them; sanctions apply under a league table, an
    inspection of functioning or a required partnership standard; the guaranteed share of
    functioning is checked by inspections and is part of what services promise in forums.
    """
    judged = inst.objective_setter != "none" and inst.observation != "none"
    if name == "target_level":
        if inst.objective_setter != "centre" or inst.observation == "none":
            return "no national target is set and checked in this regime"
    elif name == "ratchet":
        if not (judged and inst.league_table):
            return "there is no published league table of results in this regime"
    elif name == "audit_rate":
        if not (judged and inst.observation == "indicator"):
            return "services' records are not used to judge them in this regime, so nobody audits them"
    elif name == "reward_strength":
        if not judged:
            return "no outcome objective is set and checked in this regime, so nothing is rewarded"
    elif name == "sanction_strength":
        sanctioned = (
            (judged and inst.league_table)
            or inst.guarantee_monitoring_rate > 0
            or inst.partnership_standard == "required"
        )
        if not sanctioned:
            return "nothing is penalised in this regime: no league table, no inspection, no required partnership"
    elif name == "guarantee_level":
        if inst.guarantee_monitoring_rate <= 0 and inst.objective_setter != "forum":
            return "nobody inspects services' core functioning or agrees it in a forum in this regime"
    elif name in ("negotiation_interval", "participation_support"):
        if not forums_meet(inst):
            return "there are no local forums in this regime"
    return None


def acting_levers(levers: Levers) -> list[str]:
    """The levers (besides the regime) that change something in this arm's regime, in display order."""
    inst = arm_instruments(levers)
    return [n for n in LEVERS if n != "regime" and lever_inert_reason(n, inst) is None]


def lever_value_text(name: str, value: Any) -> str:
    """A lever's value in the sliders' own units: 70%, £5.00 an hour, every 12 months, on/off, 3."""
    spec = LEVERS[name]
    if spec.kind == "bool":
        return "on" if value else "off"
    if spec.kind == "choice":
        return REGIME_TITLES.get(str(value), str(value))
    if spec.unit in ("share", "probability", "[0,1]"):
        return f"{100 * float(value):.0f}%"
    if spec.unit == "GBP/hour":
        return f"£{float(value):.2f} an hour"
    if spec.unit == "months":
        return f"every {months_text(int(value))}"
    return f"{float(value):g}"


def months_text(n: int) -> str:
    """'1 month', '6 months', '12 months (1 year)', '18 months (1.5 years)'."""
    if n % 6 != 0 or n < 12:
        return f"{n} month{'s' if n != 1 else ''}"
    years = n / 12
    return f"{n} months ({years:g} year{'s' if years != 1 else ''})"


def default_baseline() -> Levers:
    """The usual starting point: national targets with the model's default levers."""
    return Levers(regime="targets")


def default_reform() -> Levers:
    """The issue's example proposal: negotiated outcomes with half support for participation."""
    return Levers(regime="negotiated", participation_support=0.5)


@dataclass(frozen=True)
class Proposal:
    """A baseline and a proposal, and the area and runs they are compared on.

    Attributes:
        baseline: the regime and levers today.
        reform: the proposed regime and levers.
        n_citizens: citizens simulated.
        n_communities: communities (neighbourhoods).
        steps: months simulated after the settling-in period.
        replications: runs per arm, on common seeds.
        seed: root seed from which the runs' seeds are spawned.

    """

    baseline: Levers = field(default_factory=default_baseline)
    reform: Levers = field(default_factory=default_reform)
    n_citizens: int = 2000
    n_communities: int = 20
    steps: int = 120
    replications: int = 5
    seed: int = 0

    def arm(self, name: str) -> Levers:
        """The levers of ``baseline`` or ``proposal``."""
        if name == "baseline":
            return self.baseline
        if name == "proposal":
            return self.reform
        raise KeyError(name)

    @property
    def n_runs(self) -> int:
        """Runs needed: both arms on every seed."""
        return 2 * self.replications

    def seeds(self) -> list[int]:
        """The runs' seeds, the same in both arms (common random numbers)."""
        return replication_seeds(self.seed, self.replications)


def _number_text(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:,.0f}"


def _range_text(lo: float | None, hi: float | None) -> str:
    return f"{_number_text(lo if lo is not None else -math.inf)} to {_number_text(hi if hi is not None else math.inf)}"


def lever_title(name: str) -> str:
    """The lever's plain-words title from the glossary."""
    from sim.glossary import load_glossary

    return load_glossary().title(name, "Levers") if name != "regime" else "Regime"


def check_levers(levers: Levers, arm: str) -> list[str]:
    """Messages for every invalid lever of one arm (empty if all are valid)."""
    messages: list[str] = []
    label = "Baseline" if arm == "baseline" else "Proposal"
    for name, spec in LEVERS.items():
        value = getattr(levers, name)
        title = lever_title(name)
        if spec.kind == "choice":
            if value not in REGIMES:
                messages.append(f"{label}: regime {value!r} is not one of {', '.join(REGIMES)}.")
            continue
        if spec.kind == "bool":
            if not isinstance(value, bool):
                messages.append(f"{label}: {title} must be true or false; got {value!r}.")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            messages.append(f"{label}: {title} must be a number; got {value!r}.")
            continue
        if spec.kind == "int" and not float(value).is_integer():
            messages.append(f"{label}: {title} must be a whole number; got {value!r}.")
            continue
        if not math.isfinite(value):
            messages.append(f"{label}: {title} must be a finite number; got {value!r}.")
            continue
        if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
            unit = f" {spec.unit}" if spec.unit and spec.unit not in ("share", "probability", "[0,1]") else ""
            messages.append(
                f"{label}: {title} = {_number_text(value)} is outside the allowed range "
                f"{_range_text(spec.lo, spec.hi)}{unit}."
            )
    return messages


def check_values(p: Proposal) -> list[str]:
    """Messages for every setting that is invalid on its own (kind and range)."""
    messages: list[str] = []
    for name, (lo, hi) in LIMITS.items():
        value = getattr(p, name)
        title = AREA_TITLES[name]
        if isinstance(value, bool) or not isinstance(value, int):
            messages.append(f"{title} must be a whole number; got {value!r}.")
        elif not lo <= value <= hi:
            messages.append(f"{title} = {value:,} is outside the allowed range {lo:,} to {hi:,}.")
    for arm in ARMS:
        levers = p.arm(arm)
        if not isinstance(levers, Levers):
            messages.append(f"The {arm} must be a set of levers; got {type(levers).__name__}.")
        else:
            messages.extend(check_levers(levers, arm))
    return messages


def check_relations(p: Proposal) -> list[str]:
    """Messages for settings that are valid alone but not together (assumes :func:`check_values` passed)."""
    if p.n_citizens < MIN_CITIZENS_PER_COMMUNITY * p.n_communities:
        return [
            f"{p.n_citizens:,} citizens are too few for {p.n_communities} communities: "
            f"allow at least {MIN_CITIZENS_PER_COMMUNITY} citizens per community "
            f"({MIN_CITIZENS_PER_COMMUNITY * p.n_communities:,} citizens), or fewer communities."
        ]
    return []


def check_proposal(p: Proposal) -> list[str]:
    """Messages for every invalid setting of a proposal (empty if it is valid)."""
    return check_values(p) or check_relations(p)


def validate_proposal(p: Proposal) -> Proposal:
    """Return ``p`` if it is valid.

    Raises:
        ProposalError: listing every invalid setting.

    """
    messages = check_proposal(p)
    if messages:
        raise ProposalError(messages)
    return p


# ---------------------------------------------------------------------------- parsing values
_INT = re.compile(r"^[+-]?\d+$")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _parse(kind: str, raw: object, what: str) -> tuple[Any, str | None]:
    """Convert a raw value (text from a link or form, or a number) to ``kind``; (value, message)."""
    if isinstance(raw, str):
        text = raw.strip()
        shown = text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "..."
        if len(text) > MAX_VALUE_CHARS:
            return None, f"{what}: the value {shown!r} is too long."
        if text == "":
            return None, f"{what} is empty; give a value."
        if kind == "choice":
            low = text.lower()
            return (
                (low, None)
                if low in REGIMES
                else (None, f"{what}: {shown!r} is not a regime; choose one of {', '.join(REGIMES)}.")
            )
        if kind == "bool":
            low = text.lower()
            if low in _TRUE:
                return True, None
            if low in _FALSE:
                return False, None
            return None, f"{what}: {shown!r} is not yes or no; use true or false."
        if kind == "int":
            if not _INT.match(text):
                return None, f"{what}: {shown!r} is not a whole number."
            return int(text), None
        try:
            value = float(text)
        except ValueError:
            return None, f"{what}: {shown!r} is not a number."
        if not math.isfinite(value):
            return None, f"{what}: {shown!r} is not a finite number."
        return value, None
    if kind == "choice":
        return (
            (raw, None)
            if raw in REGIMES
            else (None, f"{what}: {raw!r} is not a regime; choose one of {', '.join(REGIMES)}.")
        )
    if kind == "bool":
        return (raw, None) if isinstance(raw, bool) else (None, f"{what}: {raw!r} is not true or false.")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None, f"{what}: {raw!r} is not a number."
    if kind == "int":
        if isinstance(raw, float) and not (math.isfinite(raw) and raw.is_integer()):
            return None, f"{what}: {raw!r} is not a whole number."
        return int(raw), None
    if not math.isfinite(raw):
        return None, f"{what}: {raw!r} is not a finite number."
    return float(raw), None


def form_keys() -> list[str]:
    """Every key a proposal's flat form (and link) may hold, in canonical order."""
    keys = ["v", *AREA_KEYS]
    for arm in ARMS:
        keys.append(arm)
        keys.extend(f"{arm}.{name}" for name in LEVERS if name != "regime")
    return [*keys, "check"]


def proposal_from_mapping(values: Mapping[str, object], defaults: Proposal | None = None) -> Proposal:
    """Build and validate a proposal from flat keys (``citizens``, ``proposal``, ``proposal.recognition`` ...).

    Missing keys take the values of ``defaults`` (the standard proposal if None); unknown keys
    are rejected. ``v`` and ``check`` are accepted and ignored here (see :func:`from_query`).

    Raises:
        ProposalError: one message for each unknown key and each invalid value.

    """
    base = defaults or Proposal()
    allowed = set(form_keys())
    unknown = [k for k in values if k not in allowed]
    messages: list[str] = []
    if unknown:
        shown = ", ".join(repr(k[:MAX_VALUE_CHARS]) for k in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        messages.append(
            f"Unknown setting{'s' if len(unknown) > 1 else ''} {shown}{more}; allowed: {', '.join(form_keys()[1:-1])}."
        )
    area: dict[str, Any] = {}
    for key, name in AREA_KEYS.items():
        if key in values:
            value, msg = _parse("int", values[key], AREA_TITLES[name])
            if msg:
                messages.append(msg)
            else:
                area[name] = value
    arms: dict[str, dict[str, Any]] = {arm: {} for arm in ARMS}
    for arm in ARMS:
        label = "Baseline" if arm == "baseline" else "Proposal"
        for name, spec in LEVERS.items():
            key = arm if name == "regime" else f"{arm}.{name}"
            if key in values:
                value, msg = _parse(spec.kind, values[key], f"{label}: {lever_title(name)}")
                if msg:
                    messages.append(msg)
                else:
                    arms[arm][name] = value
    proposal = dataclasses.replace(
        base,
        baseline=dataclasses.replace(base.baseline, **arms["baseline"]),
        reform=dataclasses.replace(base.reform, **arms["proposal"]),
        **area,
    )
    messages += check_proposal(proposal)  # ranges of the values that could be read
    if messages:
        raise ProposalError(messages)
    return proposal


def to_mapping(p: Proposal, full: bool = False) -> dict[str, str]:
    """The canonical text form of a proposal (what a link holds, without its check code).

    Only the settings that differ from the standard proposal's (:class:`Proposal`'s defaults)
    are written, unless ``full``: a link stays short and a missing key means its default.
    """
    default = Proposal()
    out: dict[str, str] = {"v": QUERY_VERSION}
    for key, name in AREA_KEYS.items():
        if full or getattr(p, name) != getattr(default, name):
            out[key] = str(getattr(p, name))
    for arm in ARMS:
        levers, standard = p.arm(arm), default.arm(arm)
        for name in LEVERS:
            if full or getattr(levers, name) != getattr(standard, name):
                out[arm if name == "regime" else f"{arm}.{name}"] = format_value(getattr(levers, name))
    return out


def without_inert_levers(p: Proposal) -> Proposal:
    """``p`` with every lever that does not act in its arm's regime set back to the standard proposal's.

    Such a lever changes nothing in the runs, so this is the same proposal for the model; it
    keeps links short (a link leaves out the standard values) and makes the page, the link and
    the cache agree on what was run.
    """
    standard = Proposal()
    arms = {}
    for arm in ARMS:
        levers = p.arm(arm)
        acting = set(acting_levers(levers))
        reset = {n: getattr(standard.arm(arm), n) for n in LEVERS if n != "regime" and n not in acting}
        arms[arm] = dataclasses.replace(levers, **reset)
    return dataclasses.replace(p, baseline=arms["baseline"], reform=arms["proposal"])


def format_value(value: object) -> str:
    """A value as a link and a Hydra override write it: exact and short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------- links
def check_code(mapping: Mapping[str, str]) -> str:
    """A short code of the canonical settings that shows whether a link was changed or cut short.

    It is not a secret signature: every value is validated on the server whatever the code says.
    """
    canonical = urlencode([(k, mapping[k]) for k in form_keys() if k in mapping and k != "check"])
    return hashlib.sha256(f"sim-app|{canonical}".encode()).hexdigest()[:10]


def to_query(p: Proposal) -> str:
    """The URL query string (without ``?``) that restores ``p`` exactly."""
    mapping = to_mapping(validate_proposal(p))
    mapping["check"] = check_code(mapping)
    return urlencode(list(mapping.items()), quote_via=quote, safe=",")


@dataclass(frozen=True)
class Restored:
    """A proposal read from a link, and notes for the reader (e.g. the link had no check code)."""

    proposal: Proposal
    notes: tuple[str, ...] = ()


def from_query(query: str | None) -> Restored | None:
    """Read a proposal from a URL query string; None if the query holds no proposal settings.

    Raises:
        ProposalError: the link is malformed, too long, holds unknown or invalid settings, was made
            by a newer version, or was changed after it was made (its check code does not match).

    """
    if query is None:
        return None
    query = query.lstrip("?")
    if not query.strip():
        return None
    if len(query) > MAX_QUERY_CHARS:
        raise ProposalError([f"The link is too long ({len(query):,} characters; at most {MAX_QUERY_CHARS:,})."])
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True, max_num_fields=len(form_keys()) + 10)
    except ValueError as exc:
        reason = "it has too many settings" if "Max number of fields" in str(exc) else "it is not in key=value form"
        raise ProposalError([f"The link's settings could not be read: {reason}."]) from None
    values: dict[str, str] = {}
    repeated = []
    for key, value in pairs:
        if key in values:
            repeated.append(key)
        values[key] = value
    if repeated:
        shown = ", ".join(repr(k[:MAX_VALUE_CHARS]) for k in dict.fromkeys(repeated))
        raise ProposalError([f"The link gives {shown} more than once; each setting may appear once."])
    version = values.get("v", QUERY_VERSION)
    if version != QUERY_VERSION:
        raise ProposalError(
            [
                f"The link is of format version {version[:MAX_VALUE_CHARS]!r}; "
                f"this explorer reads version {QUERY_VERSION}."
            ]
        )
    proposal = proposal_from_mapping(values)
    notes: list[str] = []
    given = values.get("check")
    if given is None:
        notes.append("This link has no check code, so its values were read as written (each was checked).")
    else:
        # Links made before links were shortened wrote every setting; their codes still match.
        if given not in (check_code(to_mapping(proposal)), check_code(to_mapping(proposal, full=True))):
            raise ProposalError(
                [
                    "This link was changed after it was made, or cut short: its check code does not match "
                    "its settings, so it was not loaded. Ask for the link again, or set the proposal by hand."
                ]
            )
    return Restored(proposal, tuple(notes))


# ---------------------------------------------------------------------------- overrides
def arm_overrides(p: Proposal, arm: str) -> list[str]:
    """Hydra overrides of one arm (every lever written out), without the seed."""
    levers = p.arm(arm)
    out = [f"regime={levers.regime}"]
    out += [f"regime.{name}={format_value(getattr(levers, name))}" for name in LEVERS if name != "regime"]
    out += [f"population.n_citizens={p.n_citizens}", f"population.n_communities={p.n_communities}", f"steps={p.steps}"]
    return out


def reproduce_commands(p: Proposal) -> dict[str, str]:
    """The terminal commands that run each arm on the proposal's seeds (a Hydra multirun)."""
    seeds = ",".join(str(s) for s in p.seeds())
    return {arm: " ".join(["python -m sim run -m", *arm_overrides(p, arm), f"seed={seeds}"]) for arm in ARMS}


def reproduce_python(p: Proposal) -> str:
    """A Python snippet that recomputes the explorer's impact tables and summary exactly."""
    return (
        "from sim.app.proposal import from_query, run_proposal\n\n"
        f'proposal = from_query("{to_query(p)}").proposal\n'
        "impact = run_proposal(proposal)\n"
        'print("\\n".join(impact.summary))\n'
        "print(impact.table_frame())\n"
    )


_COMPOSE_LOCK = threading.Lock()
_COMPOSED: OrderedDict[tuple[str, ...], SimConfig] = OrderedDict()
_COMPOSED_MAX = 32
# The keys of _COMPOSED, replaced whole after each change so that readers need no lock.
_COMPOSED_KEYS: frozenset[tuple[str, ...]] = frozenset()


def _arm_config(overrides: tuple[str, ...]) -> SimConfig:
    """The composed config of ``overrides``, kept for the last :data:`_COMPOSED_MAX` (call under the lock)."""
    global _COMPOSED_KEYS
    cfg = _COMPOSED.get(overrides)
    if cfg is None:
        cfg = _COMPOSED[overrides] = load_config(list(overrides))
        while len(_COMPOSED) > _COMPOSED_MAX:
            _COMPOSED.popitem(last=False)
        _COMPOSED_KEYS = frozenset(_COMPOSED)
    _COMPOSED.move_to_end(overrides)
    return cfg


def configs_to_compose(p: Proposal) -> int:
    """How many distinct arm configs running ``p`` must still compose (Hydra: about half a second each)."""
    return len({tuple(arm_overrides(p, arm)) for arm in ARMS} - _COMPOSED_KEYS)


def arm_config(p: Proposal, arm: str, seed: int) -> SimConfig:
    """The validated config of one run: the arm's overrides composed once, with ``seed``.

    Equal to ``sim.load_config(arm_overrides(p, arm) + [f"seed={seed}"])`` except that nothing is saved.
    """
    with _COMPOSE_LOCK:  # Hydra's global state is not thread-safe
        base = _arm_config(tuple(arm_overrides(p, arm)))
    return dataclasses.replace(base, seed=seed, output=dataclasses.replace(base.output, save=False))


@dataclass(frozen=True)
class RunTask:
    """One run of a comparison: arm, replication index and its config."""

    arm: str
    replication: int
    config: SimConfig


def run_tasks(p: Proposal) -> list[RunTask]:
    """Every run of the comparison, alternating arms so that both progress together."""
    validate_proposal(p)
    seeds = p.seeds()
    return [RunTask(arm, r, arm_config(p, arm, s)) for r, s in enumerate(seeds) for arm in ARMS]


# ---------------------------------------------------------------------------- one run
# Measures kept from every month of a run (the main ones and what the panels need).
SERIES: tuple[str, ...] = (
    "prosocial_rate",
    "trust_mean",
    "true_outcome",
    "reported_outcome",
    "gaming_share",
    "gaming_gap",
    "equity_gap",
    "public_cost",
    "motivation_mean",
    "social_capital",
    "participation_rate",
    "volunteering_rate",
    "caring_rate",
    "partnership_share",
    "functioning_share",
)
FIFTH_MEASURES: tuple[str, ...] = ("true_outcome", "trust_mean", "prosocial_rate")


def deprivation_fifths(deprivation: np.ndarray) -> np.ndarray:
    """Each community's deprivation fifth, 0 (least deprived) to 4 (most), as equal groups by rank."""
    order = np.argsort(deprivation, kind="stable")
    fifth = np.empty(deprivation.shape[0], dtype=np.int64)
    for k, idx in enumerate(np.array_split(order, N_FIFTHS)):
        fifth[idx] = k
    return fifth


def run_one(task: RunTask) -> dict[str, Any]:
    """Run one simulation and keep what the impact panels need (plain lists, JSON-ready).

    Returns:
        ``arm``, ``replication``, ``seed``; ``series`` (measure -> monthly values); ``fifths``
        (measure -> end-of-run value per deprivation fifth); ``forum`` (per deprivation fifth
        and per self-efficacy fifth: residents called to a forum round and those who took part,
        summed over all rounds).

    """
    from sim.model import SocialProductivityModel

    cfg = task.config
    model = SocialProductivityModel(cfg)
    while model.month < 0:
        model.step()
    comm, cit, svc = model.communities_state, model.citizens, model.services
    n_comm = comm.deprivation.shape[0]
    fifth_of_comm = deprivation_fifths(comm.deprivation)
    size = comm.size.astype(float)
    threshold = cfg.citizens.activity_threshold_hours
    fifth_sums = {m: np.zeros(N_FIFTHS) for m in FIFTH_MEASURES}
    weight = np.bincount(fifth_of_comm, weights=size, minlength=N_FIFTHS)
    forum = {key: np.zeros(N_FIFTHS) for key in ("called_dep", "took_part_dep", "called_eff", "took_part_eff")}
    rounds = 0
    window_start = cfg.steps - SUMMARY_WINDOW
    for t in range(cfg.steps):
        efficacy_before = cit.efficacy.copy()
        model.step()
        cit = model.citizens
        if model.instruments.objective_setter == "forum":
            met = comm.last_round == t
            if met.any():
                rounds += int(met.sum())
                called = met[cit.community]
                dep = fifth_of_comm[cit.community[called]]
                edges = np.quantile(efficacy_before, [0.2, 0.4, 0.6, 0.8])
                eff = np.searchsorted(edges, efficacy_before[called], side="right")
                took = cit.participated[called].astype(float)
                forum["called_dep"] += np.bincount(dep, minlength=N_FIFTHS)
                forum["took_part_dep"] += np.bincount(dep, weights=took, minlength=N_FIFTHS)
                forum["called_eff"] += np.bincount(eff, minlength=N_FIFTHS)
                forum["took_part_eff"] += np.bincount(eff, weights=took, minlength=N_FIFTHS)
        if t >= window_start:
            with np.errstate(invalid="ignore", divide="ignore"):
                per_service = np.bincount(svc.community, minlength=n_comm)
                lived = np.bincount(svc.community, weights=svc.lived, minlength=n_comm) / per_service
                trust = np.bincount(cit.community, weights=cit.trust, minlength=n_comm) / size
                active = (cit.volunteering + cit.caring) >= threshold
                prosocial = np.bincount(cit.community, weights=active.astype(float), minlength=n_comm) / size
            for name, values in (("true_outcome", lived), ("trust_mean", trust), ("prosocial_rate", prosocial)):
                fifth_sums[name] += np.bincount(fifth_of_comm, weights=np.nan_to_num(values) * size, minlength=N_FIFTHS)
    ts = model.timeseries()
    n_window = min(SUMMARY_WINDOW, cfg.steps)
    with np.errstate(invalid="ignore", divide="ignore"):
        fifths = {m: (fifth_sums[m] / (weight * n_window)).tolist() for m in FIFTH_MEASURES}
    return {
        "arm": task.arm,
        "replication": task.replication,
        "seed": cfg.seed,
        "series": {m: ts[m].astype(float).tolist() for m in SERIES},
        "fifths": fifths,
        "forum": {k: v.tolist() for k, v in forum.items()} | {"rounds": rounds},
    }


# ---------------------------------------------------------------------------- analysis
@dataclass(frozen=True)
class Measure:
    """How a measure is shown: title, kind of number, and (from the glossary) which direction is better.

    Attributes:
        key: the metric column.
        kind: ``share`` (shown as %, differences in percentage points), ``gap`` (a difference of
            shares, shown in percentage points), ``index`` (0-1 shown on a 0-100 scale) or
            ``money`` (GBP).

    """

    key: str
    kind: Literal["share", "gap", "index", "money"]

    @property
    def title(self) -> str:
        """Plain-words title from the glossary."""
        from sim.glossary import load_glossary

        return load_glossary().title(self.key, "Measures")

    @property
    def better(self) -> Literal["higher", "lower", "neither"]:
        """Which direction is better for residents, as the glossary's 'Better for residents:' line says.

        Raises:
            KeyError: the glossary does not say (every measure the explorer shows must).

        """
        from sim.glossary import load_glossary

        direction = load_glossary().get(self.key, "Measures").better
        if not direction:
            raise KeyError(f"docs/glossary.md: measure {self.key!r} does not say which way is better (*better*)")
        return direction  # type: ignore[return-value]


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("prosocial_rate", "share"),
        Measure("trust_mean", "index"),
        Measure("true_outcome", "share"),
        Measure("reported_outcome", "share"),
        Measure("gaming_share", "share"),
        Measure("gaming_gap", "gap"),
        Measure("equity_gap", "gap"),
        Measure("public_cost", "money"),
        Measure("motivation_mean", "index"),
        Measure("social_capital", "index"),
        Measure("participation_rate", "share"),
    )
}
# The measures drawn over time (the main ones first).
MAIN_MEASURES: tuple[str, ...] = (
    "prosocial_rate",
    "gaming_share",
    "trust_mean",
    "true_outcome",
    "reported_outcome",
    "equity_gap",
    "public_cost",
    "participation_rate",
)


def format_level(key: str, value: float) -> str:
    """A value of a measure as people read it (42.1%, 55.3, GBP 61.20; gaps in percentage points)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    kind = MEASURES[key].kind if key in MEASURES else "share"
    if kind == "money":
        return f"£{value:,.2f}"
    if kind == "index":
        return f"{100 * value:.1f}"
    if kind == "gap":
        return f"{100 * value:.1f} points"
    return f"{100 * value:.1f}%"


def format_change(key: str, value: float) -> str:
    """A difference of a measure, signed (+3.2 points, i.e. percentage points; -1.4; +£2.10)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    kind = MEASURES[key].kind if key in MEASURES else "share"
    if kind == "money":
        return f"{'+' if value >= 0 else '-'}£{abs(value):,.2f}"
    if kind == "index":
        return f"{100 * value:+.1f}"
    return f"{100 * value:+.1f} points"


def mean_interval(samples: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t-interval across ``axis`` ignoring NaN; (mean, low, high, n). No interval when n < 2."""
    from scipy import stats

    samples = np.asarray(samples, dtype=float)
    n = np.sum(~np.isnan(samples), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(samples, axis=axis)
        sd = np.nanstd(samples, axis=axis, ddof=1)
        tq = stats.t.ppf(0.975, np.maximum(n - 1, 1))
        half = np.where(n >= 2, tq * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return mean, mean - half, mean + half, n


@dataclass
class Estimate:
    """A mean with its 95% interval (NaN bounds when there is only one run)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def has_interval(self) -> bool:
        """Whether there were at least two runs, so an interval exists."""
        return self.n >= 2 and math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def clear(self) -> bool:
        """The interval excludes zero."""
        return self.has_interval and (self.low > 0 or self.high < 0)


def _estimate(samples: np.ndarray) -> Estimate:
    mean, low, high, n = mean_interval(np.asarray(samples, dtype=float)[:, None])
    return Estimate(float(mean[0]), float(low[0]), float(high[0]), int(n[0]))


@dataclass
class Row:
    """One measure's end-of-run comparison."""

    key: str
    title: str
    baseline: Estimate
    proposal: Estimate
    difference: Estimate


@dataclass
class Impact:
    """Everything the impact panels show, computed from the runs of both arms.

    Attributes:
        proposal: what was compared.
        months: month numbers 0..steps-1.
        levels: arm -> measure -> (mean, low, high) arrays over months.
        difference: measure -> (mean, low, high) arrays over months (proposal minus baseline).
        table: end-of-run rows (last 12 months), one per measure of :data:`MEASURES`.
        fifths: measure -> arm or "difference" -> one :class:`Estimate` per deprivation fifth.
        forum: arm -> {"overall": Estimate, "by_deprivation": [...], "by_efficacy": [...]} for
            arms under negotiated outcomes.
        summary: plain-words sentences built from the numbers above.
        runs: the raw run outputs (as returned by :func:`run_one`).

    """

    proposal: Proposal
    months: np.ndarray
    levels: dict[str, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]
    difference: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    table: list[Row]
    fifths: dict[str, dict[str, list[Estimate]]]
    forum: dict[str, dict[str, Any]]
    summary: list[str]
    runs: list[dict[str, Any]] = field(repr=False, default_factory=list)

    def row(self, key: str) -> Row:
        """The end-of-run row of one measure."""
        return next(r for r in self.table if r.key == key)

    def table_frame(self) -> Any:
        """The end-of-run table as a pandas DataFrame (raw numbers, shares as fractions)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "measure": r.key,
                    "title": r.title,
                    "baseline": r.baseline.mean,
                    "proposal": r.proposal.mean,
                    "difference": r.difference.mean,
                    "ci_low": r.difference.low,
                    "ci_high": r.difference.high,
                    "runs": r.difference.n,
                }
                for r in self.table
            ]
        )


def _by_arm(runs: list[dict[str, Any]], p: Proposal) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {arm: [] for arm in ARMS}
    for run in runs:
        out[run["arm"]].append(run)
    for arm in ARMS:
        out[arm].sort(key=lambda r: r["replication"])
        if len(out[arm]) != p.replications:
            raise ValueError(f"{arm}: {len(out[arm])} runs, expected {p.replications}")
    if [r["seed"] for r in out["baseline"]] != [r["seed"] for r in out["proposal"]]:
        raise ValueError("the arms were not run on the same seeds")
    return out


def analyse(p: Proposal, runs: list[dict[str, Any]]) -> Impact:
    """Paired comparison of the two arms on common seeds.

    Args:
        p: the proposal that was run.
        runs: the outputs of :func:`run_one` for every task of :func:`run_tasks` (any order).

    Returns:
        The impact panels' numbers and the summary sentences.

    """
    arms = _by_arm(runs, p)
    months = np.arange(p.steps)
    series = {arm: {m: np.array([r["series"][m] for r in arms[arm]], dtype=float) for m in SERIES} for arm in ARMS}
    levels = {arm: {m: mean_interval(series[arm][m])[:3] for m in SERIES} for arm in ARMS}
    difference = {m: mean_interval(series["proposal"][m] - series["baseline"][m])[:3] for m in SERIES}
    window = slice(max(0, p.steps - SUMMARY_WINDOW), p.steps)
    table = []
    for key in MEASURES:
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            end = {arm: np.nanmean(series[arm][key][:, window], axis=1) for arm in ARMS}
        table.append(
            Row(
                key,
                MEASURES[key].title,
                _estimate(end["baseline"]),
                _estimate(end["proposal"]),
                _estimate(end["proposal"] - end["baseline"]),
            )
        )
    fifths: dict[str, dict[str, list[Estimate]]] = {}
    for m in FIFTH_MEASURES:
        per = {arm: np.array([r["fifths"][m] for r in arms[arm]], dtype=float) for arm in ARMS}
        fifths[m] = {arm: [_estimate(per[arm][:, k]) for k in range(N_FIFTHS)] for arm in ARMS}
        fifths[m]["difference"] = [_estimate(per["proposal"][:, k] - per["baseline"][:, k]) for k in range(N_FIFTHS)]
    forum: dict[str, dict[str, Any]] = {}
    for arm in ARMS:
        if not forums_meet(arm_instruments(p.arm(arm))):
            continue
        f = {k: np.array([r["forum"][k] for r in arms[arm]], dtype=float) for k in arms[arm][0]["forum"]}
        if not f["called_dep"].sum():  # forums only observed: no rounds that set anything were recorded
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            overall = f["took_part_dep"].sum(axis=1) / f["called_dep"].sum(axis=1)
            dep = f["took_part_dep"] / f["called_dep"]
            eff = f["took_part_eff"] / f["called_eff"]
        forum[arm] = {
            "overall": _estimate(overall),
            "by_deprivation": [_estimate(dep[:, k]) for k in range(N_FIFTHS)],
            "by_efficacy": [_estimate(eff[:, k]) for k in range(N_FIFTHS)],
            "rounds": float(np.mean(f["rounds"])),
        }
    impact = Impact(p, months, levels, difference, table, fifths, forum, [], runs)
    impact.summary = summarise(impact)
    return impact


# ---------------------------------------------------------------------------- plain words
def interval_text(key: str, est: Estimate) -> str:
    """'95% interval +1.2 points to +3.4 points', or why there is none."""
    if not est.has_interval:
        return "one run only, so no interval: add runs to see how much this varies by chance"
    return f"95% interval {format_change(key, est.low)} to {format_change(key, est.high)}"


def verdict(key: str, est: Estimate) -> str:
    """Better or worse for residents, judged by the glossary's direction and only when the interval is clear."""
    if not est.has_interval:
        return "cannot tell (one run)"
    if not est.clear:
        return "no clear difference"
    better = MEASURES[key].better
    if better == "neither":
        return "higher" if est.mean > 0 else "lower"
    return "better" if (est.mean > 0) == (better == "higher") else "worse"


def lever_changes(p: Proposal) -> list[str]:
    """What the proposal changes, in the sliders' units, naming only levers that act under both arms.

    Levers that only one arm's regime switches on are described by :func:`regime_levers`.
    """
    changes = []
    if p.baseline.regime != p.reform.regime:
        changes.append(f"the regime from {p.baseline.describe()} to {p.reform.describe()}")
    both = set(acting_levers(p.baseline)) & set(acting_levers(p.reform))
    for name in LEVERS:
        a, b = getattr(p.baseline, name), getattr(p.reform, name)
        if name in both and a != b:
            changes.append(
                f"{lever_title(name).lower()} from {lever_value_text(name, a)} to {lever_value_text(name, b)}"
            )
    return changes


def regime_levers(p: Proposal) -> list[str]:
    """Sentences naming the levers that act under one arm only, with that arm's values."""
    base, prop = acting_levers(p.baseline), acting_levers(p.reform)

    def listed(names: list[str], levers: Levers) -> str:
        items = [f"{lever_title(n).lower()} ({lever_value_text(n, getattr(levers, n))})" for n in names]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    out = []
    only_prop = [n for n in prop if n not in base]
    only_base = [n for n in base if n not in prop]
    if only_prop:
        out.append(f"Under the proposal's regime, these levers also act: {listed(only_prop, p.reform)}.")
    if only_base:
        verb = "does" if len(only_base) == 1 else "do"
        out.append(f"The baseline's {listed(only_base, p.baseline)} {verb} not act under the proposal.")
    return out


def _direction_word(key: str, est: Estimate) -> str:
    if est.has_interval and not est.clear:
        return "showed no clear difference"
    if est.mean == 0:
        return "did not change"
    word = "higher" if est.mean > 0 else "lower"
    if not est.has_interval:
        return f"was {word} in this single run"
    judged = verdict(key, est)
    return f"was {word}" + (f" ({judged} for residents)" if judged in ("better", "worse") else "")


def measure_sentence(row: Row) -> str:
    """One sentence comparing the arms on one measure, quoting the table's numbers."""
    key = row.key
    scale = " on a 0-100 scale" if MEASURES[key].kind == "index" else ""
    return (
        f"{row.title} {_direction_word(key, row.difference)} under the proposal: "
        f"{format_level(key, row.proposal.mean)} against {format_level(key, row.baseline.mean)}{scale}, "
        f"a difference of {format_change(key, row.difference.mean)} ({interval_text(key, row.difference)})."
    )


SMOOTHING_MONTHS = 3  # the difference over time is read as a 3-month running mean, so one noisy month is no dip


def transition_note(impact: Impact, key: str) -> str | None:
    """A sentence on a dip or an overshoot on the way to the end-of-run difference, or None.

    The difference over time (a short running mean) counts as dipping when, at a month where its
    interval excludes zero, it has the opposite sign of the end-of-run difference, or goes beyond
    it in the same direction by more than the end value itself (an overshoot).
    """
    mean, low, high = (np.asarray(a, dtype=float) for a in impact.difference[key])
    if mean.size < 2 * SMOOTHING_MONTHS:
        return None
    kernel = np.ones(SMOOTHING_MONTHS) / SMOOTHING_MONTHS
    smooth = np.convolve(np.nan_to_num(mean), kernel, mode="valid")
    clear = (np.nan_to_num(low) > 0) | (np.nan_to_num(high) < 0)
    clear = np.convolve(clear.astype(float), kernel, mode="valid") >= 1.0  # clear in all months of the window
    end = impact.row(key).difference.mean
    if not math.isfinite(end) or not clear.any():
        return None
    sign = 1.0 if end >= 0 else -1.0
    against = np.where(clear, -sign * smooth, -np.inf)  # how far it went the other way
    beyond = np.where(clear, sign * smooth - 2 * abs(end), -np.inf)  # how far past twice the end value
    title = impact.row(key).title
    if against.max() > 0:
        i = int(np.argmax(against))
        went = "fell" if end >= 0 else "rose"
        return (
            f"Transition: {title} {went} at first under the proposal, to {format_change(key, smooth[i])} "
            f"around month {i + SMOOTHING_MONTHS // 2}, before ending at {format_change(key, end)}."
        )
    if beyond.max() > 0:
        i = int(np.argmax(beyond))
        return (
            f"Transition: {title} overshot under the proposal, reaching {format_change(key, smooth[i])} around "
            f"month {i + SMOOTHING_MONTHS // 2} before settling at {format_change(key, end)}."
        )
    return None


HEADLINE_MEASURES: tuple[str, ...] = ("prosocial_rate", "gaming_share", "trust_mean", "true_outcome", "public_cost")


def summarise(impact: Impact) -> list[str]:
    """Plain-words summary built from the computed numbers only."""
    p = impact.proposal
    times = f"{p.replications} time{'s' if p.replications != 1 else ''}"
    window = months_text(min(SUMMARY_WINDOW, p.steps))
    out = [
        f"We simulated {p.n_citizens:,} citizens in {p.n_communities} communities for {months_text(p.steps)}, "
        f"{times} with each policy. Each time, both policies faced the same people and the same chance events. "
        f"Figures are averages over the last {window} of each run."
    ]
    changes = lever_changes(p)
    if changes:
        out.append("The proposal changes " + "; ".join(changes) + ".")
    else:
        out.append("The proposal and the baseline are the same, so any difference is zero.")
    out.extend(regime_levers(p))
    for key in HEADLINE_MEASURES:
        out.append(measure_sentence(impact.row(key)))
    for key in HEADLINE_MEASURES:
        note = transition_note(impact, key)
        if note:
            out.append(note)
    gap_b, gap_p = impact.row("gaming_gap").baseline, impact.row("gaming_gap").proposal
    if math.isfinite(gap_b.mean) and math.isfinite(gap_p.mean):

        def flatter(gap: float, what: str) -> str:
            word = "overstated" if gap >= 0 else "understated"
            return f"{word} {what} by {format_level('gaming_gap', abs(gap))}"

        out.append(
            "Reported against true, on the cases that are measured: the records "
            f"{flatter(gap_b.mean, 'the truth')} under the baseline, and {flatter(gap_p.mean, 'it')} "
            "under the proposal."
        )
    diff = impact.fifths["true_outcome"]["difference"]
    least, most = diff[0], diff[-1]
    if math.isfinite(least.mean) and math.isfinite(most.mean):
        out.append(
            "By deprivation: the true outcome changed by "
            f"{format_change('true_outcome', least.mean)} ({interval_text('true_outcome', least)}) in the least "
            f"deprived fifth of communities and by {format_change('true_outcome', most.mean)} "
            f"({interval_text('true_outcome', most)}) in the most deprived fifth. "
            + measure_sentence(impact.row("equity_gap"))
        )
    for arm in ARMS:
        f = impact.forum.get(arm)
        if not f:
            continue
        dep, eff = f["by_deprivation"], f["by_efficacy"]
        name = "the proposal" if arm == "proposal" else "the baseline"
        table_value = getattr(impact.row("participation_rate"), arm).mean
        out.append(
            f"Who takes part: under {name}, {format_level('participation_rate', f['overall'].mean)} of residents "
            "called to a forum round took part, "
            f"{format_level('participation_rate', dep[0].mean)} in the least deprived fifth of communities against "
            f"{format_level('participation_rate', dep[-1].mean)} in the most deprived, and "
            f"{format_level('participation_rate', eff[0].mean)} of the least confident fifth of residents "
            f"against {format_level('participation_rate', eff[-1].mean)} of the most confident. "
            f"These shares count every forum round of the whole {months_text(p.steps)}; the table's forum "
            f"participation ({format_level('participation_rate', table_value)}) is different because it is the "
            f"share in each community's latest round, averaged over the last {window}."
        )
    if not impact.forum:
        out.append("Neither policy has local forums, so no one takes part in one.")
    out.append(
        "This is a stylised model, not calibrated to any place: read these as comparisons between policies "
        "under its assumptions, not as forecasts."
    )
    return out


def run_proposal(p: Proposal, workers: int = 1) -> Impact:
    """Run both arms of ``p`` (serially, or on a process pool) and analyse them: the explorer's result."""
    tasks = run_tasks(p)
    if workers <= 1:
        runs = [run_one(t) for t in tasks]
    else:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            runs = list(pool.map(run_one, tasks))
    return analyse(p, runs)


__all__ = [
    "ARMS",
    "LEVERS",
    "LIMITS",
    "MAIN_MEASURES",
    "MEASURES",
    "Impact",
    "Levers",
    "Proposal",
    "ProposalError",
    "Restored",
    "analyse",
    "arm_config",
    "arm_overrides",
    "check_proposal",
    "configs_to_compose",
    "from_query",
    "proposal_from_mapping",
    "reproduce_commands",
    "reproduce_python",
    "run_one",
    "run_proposal",
    "run_tasks",
    "summarise",
    "to_query",
    "validate_proposal",
]

"""Named metrics, one function each, and the recorder that stacks them into a time series.

Every function is pure (arrays in, a float out) and documented with its exact definition in
``docs/ODD.md`` (section 'Observation'). Where a metric has no cases in a month it returns NaN,
which is its documented value for 'not defined this month' (``bunching_ratio`` is +inf when
records fill the passing side and none are left on the failing side); rates and shares
otherwise lie in [0, 1].
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from sim.config import COOPERATION_TYPES
from sim.rules import coproduction as cp
from sim.rules import indicators, portable
from sim.rules._types import BoolArray, FloatArray, IntArray
from sim.rules.negotiation import commitment_met

if TYPE_CHECKING:
    from sim.model import SocialProductivityModel
    from sim.state import CitizenState

# Columns every time series has, in order. A promise to users' scripts: add, never rename.
COLUMNS: tuple[str, ...] = (
    "step",
    "regime",
    "prosocial_rate",
    "prosocial_hours",
    "volunteering_rate",
    "caring_rate",
    "self_reliance",
    "motivation_mean",
    "trust_mean",
    "social_capital",
    "gaming_share",
    "functioning_share",
    "partnership_share",
    "outcome_work_share",
    "reported_outcome",
    "true_outcome",
    "gaming_gap",
    "bunching_ratio",
    "indicator_true_corr",
    "equity_gap",
    "participation_rate",
    "service_commitment_kept",
    "citizen_commitment_kept",
    "public_cost",
    "social_productivity",
    # Further detail.
    "volunteering_hours",
    "caring_hours",
    "volunteering_rate_motivated",
    "slack_share",
    "measured_work_share",
    "unmeasured_work_share",
    "true_measured_outcome",
    "true_unmeasured_outcome",
    "skimmed_share",
    "target_level",
    "audits",
    # Added with the instruments (issue 13).
    "social_cost",
    "social_productivity_full",
    "inspections",
    "payments_cost",
    "monitoring_cost",
    "forum_cost",
)

# Columns that are not rates, shares or means of [0, 1] quantities; every other column is one.
NOT_UNIT_INTERVAL: frozenset[str] = frozenset(
    {
        "step",
        "regime",
        "prosocial_hours",
        "gaming_gap",
        "bunching_ratio",
        "indicator_true_corr",
        "equity_gap",
        "public_cost",
        "social_productivity",
        "volunteering_hours",
        "caring_hours",
        "audits",
        "social_cost",
        "social_productivity_full",
        "inspections",
        "payments_cost",
        "monitoring_cost",
        "forum_cost",
    }
)
UNIT_INTERVAL_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in NOT_UNIT_INTERVAL)

SUMMARY_WINDOW = 12  # months averaged for end-of-run figures (summaries, reports, detail tables)
MOTIVATED = 0.6  # motivation at or above which a citizen counts as intrinsically motivated


def activity_rate(hours: FloatArray, threshold: float) -> float:
    """Share of citizens giving at least ``threshold`` hours this month."""
    # An exact count over the size: the same float as the mean of the 0/1 flags, without them.
    return np.count_nonzero(hours >= threshold) / hours.size if hours.size else float("nan")


def motivated_activity_rate(hours: FloatArray, motivated: BoolArray, threshold: float) -> float:
    """``activity_rate(hours[motivated], threshold)``, counted without copying the subset."""
    n = np.count_nonzero(motivated)
    return np.count_nonzero((hours >= threshold) & motivated) / n if n else float("nan")


def mean_or_nan(values: FloatArray) -> float:
    """Mean, NaN for an empty array."""
    return float(values.mean()) if values.size else float("nan")


def self_reliance(self_reliance_hours: FloatArray, budget: FloatArray) -> float:
    """Mean share of discretionary time spent meeting one's own needs."""
    has_time = budget > 0
    if has_time.all():  # the usual case: the same values without a masked divide
        return mean_or_nan(self_reliance_hours / budget)
    share = np.divide(self_reliance_hours, budget, out=np.zeros_like(budget), where=has_time)
    return mean_or_nan(share)


def weighted_share(shares: FloatArray, weights: FloatArray, column: int | list[int]) -> float:
    """Capacity-weighted mean of one (or several summed) activity shares across services."""
    w = weights.sum()
    if w <= 0:
        return float("nan")
    s = shares[:, column]
    if s.ndim == 2:
        s = s.sum(axis=1)
    return portable.dot(s, weights) / float(w)


def weighted_mean(values: FloatArray, weights: FloatArray) -> float:
    """Weighted mean ignoring NaN values; NaN if no weight remains."""
    ok = ~np.isnan(values) & (weights > 0)
    w = weights[ok].sum()
    return portable.dot(values[ok], weights[ok]) / float(w) if w > 0 else float("nan")


def indicator_true_corr(reported: FloatArray, lived: FloatArray) -> float:
    """Pearson correlation across services of the recorded pass rate and the lived outcome.

    NaN with fewer than three services with cases or no variation in either.
    """
    ok = ~np.isnan(reported) & ~np.isnan(lived)
    if ok.sum() < 3:
        return float("nan")
    r, t = reported[ok], lived[ok]
    if np.ptp(r) == 0 or np.ptp(t) == 0:
        return float("nan")
    return portable.correlation(r, t)


def equity_gap(community_outcome: FloatArray, deprivation: FloatArray, size: FloatArray) -> float:
    """Mean outcome in the least deprived fifth of communities minus the most deprived fifth.

    Communities with no citizens are left out; each fifth holds at least one community. With
    one community the gap is 0.
    """
    keep = size > 0
    out, dep, n = community_outcome[keep], deprivation[keep], size[keep]
    if out.size == 0:
        return float("nan")
    order = np.argsort(dep, kind="stable")
    k = max(1, int(np.ceil(out.size / 5)))
    least, most = order[:k], order[-k:]
    return float(np.average(out[least], weights=n[least]) - np.average(out[most], weights=n[most]))


def commitment_share(met: FloatArray) -> float:
    """Share of commitments met; NaN if none were in force."""
    ok = ~np.isnan(met)
    return float(met[ok].mean()) if ok.any() else float("nan")


def by_community(values: FloatArray, community: IntArray, domain: IntArray, n_communities: int) -> FloatArray:
    """Mean over the three domains of a per-service value, per community."""
    out = np.zeros((n_communities, 3))
    out[community, domain] = values
    return out.mean(axis=1)


# The metrics read from the citizen arrays alone (citizen_figures), in COLUMNS order.
CITIZEN_FIGURES: tuple[str, ...] = (
    "prosocial_rate",
    "prosocial_hours",
    "volunteering_rate",
    "caring_rate",
    "self_reliance",
    "motivation_mean",
    "trust_mean",
    "volunteering_hours",
    "caring_hours",
    "volunteering_rate_motivated",
)


def citizen_means(cit: CitizenState, prosocial: FloatArray | None = None) -> dict[str, float]:
    """The month's means over the citizens of :data:`sim.kernels.CITIZEN_MEANS`, taken with numpy.

    Args:
        cit: the citizens' state.
        prosocial: ``volunteering + caring`` if the caller has it already (saves a pass).

    """
    return {
        "prosocial_hours": mean_or_nan(cit.volunteering + cit.caring if prosocial is None else prosocial),
        "self_reliance": self_reliance(cit.self_reliance, cit.budget),
        "motivation_mean": mean_or_nan(cit.motivation),
        "trust_mean": mean_or_nan(cit.trust),
        "volunteering_hours": mean_or_nan(cit.volunteering),
        "caring_hours": mean_or_nan(cit.caring),
        "volunteering_total": float(cit.volunteering.sum()),
    }


def citizen_figures(model: SocialProductivityModel) -> dict[str, float]:
    """The month's metrics over the citizens (:data:`CITIZEN_FIGURES`) and the total volunteering hours.

    The fused driver counted the active and motivated citizens while it passed over them
    (``model.citizen_totals``, ``sim.kernels``): the rates are read from those counts, which are
    exact. Means of hours, motivation and trust are numpy's pairwise means (:func:`citizen_means`),
    on the fused driver by one kernel that adds in numpy's order (``sim.kernels.citizen_means``),
    so every figure has the same bits whichever driver ran.
    """
    cit = model.citizens
    threshold = model.config.citizens.activity_threshold_hours
    totals = model.citizen_totals
    if totals is None:
        prosocial = cit.volunteering + cit.caring
        motivated = cit.motivation >= MOTIVATED
        return {
            "prosocial_rate": activity_rate(prosocial, threshold),
            "volunteering_rate": activity_rate(cit.volunteering, threshold),
            "caring_rate": activity_rate(cit.caring, threshold),
            "volunteering_rate_motivated": motivated_activity_rate(cit.volunteering, motivated, threshold),
            **citizen_means(cit, prosocial),
        }
    n = cit.n
    nan = float("nan")

    def per_citizen(name: str) -> float:
        return totals[name] / n if n else nan

    motivated_n = totals["motivated"]
    arrays = (cit.volunteering, cit.caring, cit.self_reliance, cit.budget, cit.motivation, cit.trust)
    if n and all(a.flags.c_contiguous and a.dtype == np.float64 for a in arrays):
        from sim import kernels  # numba is imported by the fused driver only

        # numpy's means in one compiled pass (the same pairwise sums: the same bits).
        means = dict(zip(kernels.CITIZEN_MEANS, model.citizen_kernel("citizen_means", *arrays).tolist(), strict=True))
    else:
        means = citizen_means(cit)
    return {
        "prosocial_rate": per_citizen("prosocial_active"),
        "volunteering_rate": per_citizen("volunteering_active"),
        "caring_rate": per_citizen("caring_active"),
        "volunteering_rate_motivated": totals["motivated_volunteering_active"] / motivated_n if motivated_n else nan,
        **means,
    }


def service_figures(model: SocialProductivityModel) -> dict[str, float]:
    """The month's figures over services and communities, and the parts of the public cost.

    Keyed as ``sim.kernels.SERVICE_METRICS``. The fused driver computes them in one compiled
    call (``sim.kernels.service_metrics``, the same operations in the same order: the same
    bits); the other drivers with the functions above.
    """
    comm, svc = model.communities_state, model.services
    cfg = model.config
    month = model.service_month
    assert month is not None
    shares = model.service_shares
    costs, inst = cfg.costs, model.instruments
    forums = inst.objective_setter == "forum" or inst.observation == "forum"
    targeted = model.any_targeted()
    if cfg.driver == "fused":
        from sim import kernels  # numba is imported by the fused driver only

        values = kernels.service_metrics(
            shares,
            svc.capacity,
            svc.community,
            svc.domain,
            comm.size,
            comm.deprivation,
            svc.lived,
            svc.reported,
            month.n_cases,
            month.true_rate,
            month.p_unmeasured,
            month.skimmed,
            svc.target,
            svc.audited,
            svc.inspected,
            svc.payment,
            svc.commitment_kept,
            comm.social_capital,
            comm.participation,
            model.metric_costs,
            forums,
            targeted,
        )
        return dict(zip(kernels.SERVICE_METRICS, values.tolist(), strict=True))
    weight = svc.capacity * comm.size[svc.community]
    lived_c = by_community(svc.lived, svc.community, svc.domain, comm.size.shape[0])
    served = comm.size[svc.community]  # citizens each service serves
    # Every cost is per case or per citizen served (plus optional fixed parts), so per-citizen
    # costs do not shrink as services grow; every payoff paid to a service is costed alike.
    caseload = cfg.services.cases_per_citizen * served
    monitoring = portable.dot(svc.audited, costs.audit_cost + costs.audit_cost_per_case * caseload) + portable.dot(
        svc.inspected, costs.inspection_cost + costs.inspection_cost_per_citizen * served
    )
    return {
        "staffed_weight": float(weight.sum()),
        "monitoring": monitoring,
        "payments": portable.dot(svc.payment, costs.reward_cost + costs.reward_cost_per_citizen * served),
        "true_outcome": weighted_mean(svc.lived, served),
        "reported_outcome": weighted_mean(svc.reported, month.n_cases),
        "true_measured_outcome": weighted_mean(month.true_rate, month.n_cases),
        "social_capital": weighted_mean(comm.social_capital, comm.size),
        "gaming_share": weighted_share(shares, weight, cp.GAMING),
        "functioning_share": weighted_share(shares, weight, cp.FUNCTIONING),
        "partnership_share": weighted_share(shares, weight, cp.PARTNERSHIP),
        "outcome_work_share": weighted_share(shares, weight, [cp.MEASURED, cp.UNMEASURED]),
        "slack_share": weighted_share(shares, weight, cp.SLACK),
        "measured_work_share": weighted_share(shares, weight, cp.MEASURED),
        "unmeasured_work_share": weighted_share(shares, weight, cp.UNMEASURED),
        "indicator_true_corr": indicator_true_corr(svc.reported, svc.lived),
        "equity_gap": equity_gap(lived_c, comm.deprivation, comm.size),
        "participation_rate": weighted_mean(comm.participation, comm.size) if forums else 0.0,
        "service_commitment_kept": commitment_share(svc.commitment_kept),
        "true_unmeasured_outcome": weighted_mean(month.p_unmeasured, served),
        "skimmed_share": weighted_mean(month.skimmed, month.n_cases),
        "target_level": weighted_mean(svc.target, weight) if targeted else float("nan"),
        "audits": float(svc.audited.sum()),
        "inspections": float(svc.inspected.sum()),
    }


def collect_metrics(model: SocialProductivityModel) -> dict[str, Any]:
    """All metrics for the month just simulated."""
    cit = model.citizens
    cfg = model.config
    month = model.service_month
    assert month is not None
    n = max(cit.n, 1)
    figures = citizen_figures(model)
    sf = service_figures(model)
    costs, inst = cfg.costs, model.instruments
    monitoring, payments = sf["monitoring"], sf["payments"]
    participants = model.month_costs.get("forum_participants", 0.0)
    staff_hours = model.month_costs.get("forum_staff_hours", 0.0) + model.month_costs.get("verification_hours", 0.0)
    forum = (
        participants
        * (costs.forum_cost_per_participant + inst.participation_support * costs.support_cost_per_participant)
        + staff_hours * cfg.forum.staff_hour_value
    )
    spending = (
        costs.staff_cost_per_unit * sf["staffed_weight"]
        + monitoring
        + payments
        + model.payment_per_hour * figures["volunteering_total"]
        + forum
        + costs.recognition_cost_per_citizen * model.recognition * cit.n
    )
    cost_total = spending / n
    # Citizens' co-production (formal volunteering) and forum hours at the shadow wage.
    citizen_hours = figures["volunteering_total"] + model.month_costs.get("forum_citizen_hours", 0.0)
    social_cost = cost_total + costs.shadow_wage * citizen_hours / n
    true_outcome = sf["true_outcome"]
    reported = sf["reported_outcome"]
    true_measured = sf["true_measured_outcome"]
    # The fused decide kernel took this mean as it decided, numpy's way (same bits), unless a forum
    # round changed the commitments since. Otherwise only committed citizens have a value (NaN
    # elsewhere), so compute it for them alone; with no commitment it is commitment_share of none, NaN.
    citizen_commitment_kept = model.fused_commitment_kept()
    if citizen_commitment_kept is None:
        citizen_commitment_kept = float("nan")
        if model.any_commitment():
            committed = ~np.isnan(cit.commitment)
            met = commitment_met(cit.share[committed], cit.commitment[committed])
            citizen_commitment_kept = commitment_share(met)
    bunching = model.bunching_counts
    if bunching is None:
        bunching_ratio = indicators.bunching_ratio(month.recorded, month.kept, cfg.services.bunching_window)
    else:  # the fused services kernel counted them (same rule as indicators.bunching_ratio)
        above, below = bunching
        bunching_ratio = (float("inf") if above > 0 else float("nan")) if below == 0 else float(above / below)
    return {
        "step": model.month,
        "regime": model.regime,
        **{name: figures[name] for name in CITIZEN_FIGURES},
        "social_capital": sf["social_capital"],
        "gaming_share": sf["gaming_share"],
        "functioning_share": sf["functioning_share"],
        "partnership_share": sf["partnership_share"],
        "outcome_work_share": sf["outcome_work_share"],
        "reported_outcome": reported,
        "true_outcome": true_outcome,
        "gaming_gap": reported - true_measured,
        "bunching_ratio": bunching_ratio,
        "indicator_true_corr": sf["indicator_true_corr"],
        "equity_gap": sf["equity_gap"],
        "participation_rate": sf["participation_rate"],
        "service_commitment_kept": sf["service_commitment_kept"],
        "citizen_commitment_kept": citizen_commitment_kept,
        "public_cost": cost_total,
        "social_productivity": 100.0 * true_outcome / cost_total if cost_total > 0 else float("nan"),
        "slack_share": sf["slack_share"],
        "measured_work_share": sf["measured_work_share"],
        "unmeasured_work_share": sf["unmeasured_work_share"],
        "true_measured_outcome": true_measured,
        "true_unmeasured_outcome": sf["true_unmeasured_outcome"],
        "skimmed_share": sf["skimmed_share"],
        "target_level": sf["target_level"],
        "audits": int(sf["audits"]),
        "social_cost": social_cost,
        "social_productivity_full": 100.0 * true_outcome / social_cost if social_cost > 0 else float("nan"),
        "inspections": int(sf["inspections"]),
        "payments_cost": payments / n,
        "monitoring_cost": monitoring / n,
        "forum_cost": forum / n,
    }


class MetricsRecorder(mesa.DataCollector):
    """The model's ``datacollector``: a Mesa DataCollector of the monthly metrics, column-wise.

    One model reporter per metric column (:data:`COLUMNS`, in order), so Mesa's tools that read
    ``model.datacollector`` (``SolaraViz`` plot components, ``batch_run``) see every metric.
    :meth:`collect` computes a month's metrics once (:func:`collect_metrics`) and appends every
    column, rather than calling the reporters one by one; ``model_vars`` holds the lists.
    Row *i* is recorded month *i* (the ``step`` column); the burn-in is never recorded.

    Agent-level data are opt-in and sampled (:meth:`sample_citizens`): every *k*-th citizen's
    state each month, read from the citizen arrays, so memory grows with ``n_citizens / k``,
    not with the population.

    Args:
        citizen_sample: record every *k*-th citizen each month (0: no agent-level data).

    """

    def __init__(self, citizen_sample: int = 0) -> None:
        super().__init__(model_reporters={c: functools.partial(metric, name=c) for c in COLUMNS})
        self.citizen_every = 0
        self.citizen_id_base = 0
        self._citizen_rows: list[dict[str, np.ndarray]] = []
        if citizen_sample:
            self.sample_citizens(citizen_sample)

    @property
    def columns(self) -> dict[str, list[Any]]:
        """The monthly values of each metric column (Mesa's ``model_vars``)."""
        return self.model_vars

    def sample_citizens(self, every: int) -> None:
        """Record every ``every``-th citizen (rows 0, k, 2k, ...) from the next collected month on.

        Raises:
            ValueError: if ``every`` is not a whole number of at least 1.

        """
        if isinstance(every, bool) or not isinstance(every, int | np.integer) or every < 1:
            raise ValueError(
                f"citizen_sample={every!r}: give a whole number k >= 1 (every k-th citizen), or 0 for none"
            )
        self.citizen_every = int(every)

    def collect(self, model: SocialProductivityModel) -> None:
        """Record the month just simulated: every metric, and the sampled citizens if asked for."""
        self.append(collect_metrics(model))
        self._collection_steps.append(model.month)
        if self.citizen_every:
            cit = model.citizens
            rows = np.arange(0, cit.n, self.citizen_every)
            sample = {name: getattr(cit, array)[rows] for name, array in CITIZEN_FIELDS.items()}
            self._citizen_rows.append({"Step": np.full(rows.size, model.month), "citizen": rows, **sample})
            self.citizen_id_base = model.citizen_id_base

    def append(self, row: dict[str, Any]) -> None:
        """Add one month."""
        for c in COLUMNS:
            self.model_vars[c].append(row[c])

    def __len__(self) -> int:
        return len(self.model_vars["step"])

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame with one row per month and the columns of :data:`COLUMNS`."""
        return pd.DataFrame(self.model_vars, columns=list(COLUMNS))

    get_model_vars_dataframe = to_frame  # Mesa's name (SolaraViz's plot components call it)

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """The sampled citizens, one row per citizen and month, indexed like Mesa's ``(Step, AgentID)``.

        ``AgentID`` is the citizen's Mesa ``unique_id`` (``model.citizen_agents``), ``citizen`` its
        row in the citizen arrays; the other columns are the :class:`~sim.agents.Citizen` attributes
        of :data:`CITIZEN_FIELDS`.

        Raises:
            UserWarning: if citizen sampling was not switched on (as Mesa's DataCollector does).

        """
        if not self.citizen_every:
            raise UserWarning("no agent-level data: build the model with citizen_sample=k (every k-th citizen)")
        names = ["Step", "citizen", *CITIZEN_FIELDS]
        if self._citizen_rows:
            data = {n: np.concatenate([r[n] for r in self._citizen_rows]) for n in names}
        else:
            data = {n: np.zeros(0) for n in names}
        frame = pd.DataFrame(data)
        frame["cooperation_type"] = pd.Categorical.from_codes(frame["cooperation_type"], COOPERATION_TYPES)
        frame.insert(1, "AgentID", frame["citizen"] + self.citizen_id_base)
        return frame.set_index(["Step", "AgentID"])

    def drain(self) -> pd.DataFrame:
        """The months recorded since the last drain, removed from memory (long runs stream them to disk)."""
        frame = self.to_frame()
        for values in self.model_vars.values():
            values.clear()
        self._collection_steps.clear()
        return frame


def metric(model: SocialProductivityModel, name: str) -> Any:
    """One metric of the month just simulated (a model reporter; ``MetricsRecorder.collect`` computes all at once)."""
    return collect_metrics(model)[name]


# The sampled citizen table's columns (the Citizen agent's attribute names) and the arrays they read.
CITIZEN_FIELDS: dict[str, str] = {
    "community": "community",
    "cooperation_type": "coop_type",
    "motivation": "motivation",
    "trust": "trust",
    "volunteering_hours": "volunteering",
    "caring_hours": "caring",
    "self_reliance_hours": "self_reliance",
}

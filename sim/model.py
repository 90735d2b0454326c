"""The Mesa model: wiring, and the order of a month's phases, declared once in :meth:`step`.

State lives in arrays (``sim/state.py``); rules are pure functions (``sim/rules``). The model
draws every random number from named child streams of one seed, builds each phase's inputs,
calls the rules, and writes the results back. Citizens update synchronously: every decision in
a month reads last month's state. With ``driver="agent"`` the citizen phases run one Mesa
agent at a time through an AgentSet, calling the same rule functions on one-citizen slices:
the correctness oracle for the vectorised path, and the speed baseline. The vectorised driver
calls them on blocks of ``CITIZEN_BLOCK`` citizens (see ``docs/performance.md``).
"""

from __future__ import annotations

import dataclasses
import operator
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

import mesa
import numpy as np

from sim.agents import Citizen, Community, Service
from sim.config import DOMAINS, SimConfig, validate
from sim.details import BINS_PER_UNIT, HALF_RANGE, N_BINS, DetailRecorder, window_start
from sim.instruments import Instruments
from sim.metrics import MOTIVATED, MetricsRecorder
from sim.rules import citizen as citizen_rules
from sim.rules import community as community_rules
from sim.rules import coproduction as cp
from sim.rules import forum, indicators, management, negotiation
from sim.rules._types import BoolArray, FloatArray, IntArray
from sim.state import NEVER, init_citizens, init_communities, init_services, make_streams

DECISION_FIELDS = tuple(f.name for f in dataclasses.fields(citizen_rules.Decision))
ADAPTATION_FIELDS = tuple(f.name for f in dataclasses.fields(citizen_rules.Adaptation))
# The vectorised driver runs the citizen rules on blocks of this many citizens: every
# temporary array of a block stays in the CPU cache, and the rules being elementwise, the
# results are the same as on the whole population at once (or one citizen at a time).
CITIZEN_BLOCK = 32768
_draw_executor: ThreadPoolExecutor | None = None
_draw_executor_lock = threading.Lock()


def draw_thread() -> ThreadPoolExecutor:
    """The one thread on which models with ``kernel_threads`` draw the adapt phase's random numbers.

    numpy fills an array of draws without the interpreter lock, and the fused kernels release it
    too, so the draws run beside the month's kernels (see :meth:`SocialProductivityModel.citizens_decide`).
    """
    global _draw_executor
    with _draw_executor_lock:
        if _draw_executor is None:
            _draw_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-draws")
        return _draw_executor


def citizen_blocks(n: int) -> list[slice]:
    """Consecutive slices of at most ``CITIZEN_BLOCK`` citizens covering ``0..n``."""
    return [slice(lo, min(n, lo + CITIZEN_BLOCK)) for lo in range(0, n, CITIZEN_BLOCK)]


def _narrowed(values: IntArray, dtype: type[np.integer[Any]]) -> IntArray:
    """``values`` as ``dtype`` when every value fits it (the same values, fewer bytes), else as they are."""
    if values.size and (values.min() < np.iinfo(dtype).min or values.max() > np.iinfo(dtype).max):
        return values
    return values.astype(dtype)


def _params(cls: type, *sources: Any) -> Any:
    """Build a frozen params dataclass from the same-named fields of config sections."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        for src in sources:
            if hasattr(src, f.name):
                values[f.name] = getattr(src, f.name)
                break
    return cls(**values)


@dataclasses.dataclass(frozen=True)
class FusedConstants:
    """The fused driver's constant arrays for its kernels (``sim.kernels``), made by ``_fused_constants``.

    They depend only on the configuration, the instruments in force and the parameter objects
    made from them, so they are made once a run and again when the instruments change, not every
    month (a month's Python bookkeeping is a good part of a small run's time). The kernels only
    read them.
    """

    key: tuple[Any, ...]  # (config, instruments, citizen, service and forum params) they were made from
    decide: FloatArray  # sim.kernels.decide's consts
    type_base: FloatArray  # per cooperation type, the contribution intercept
    type_slope: FloatArray  # per cooperation type, the slope on the belief
    conditions: FloatArray  # sim.kernels.CONDITION_PARAMS
    services: FloatArray  # sim.kernels.SERVICE_PARAMS
    adapt_context: FloatArray  # sim.kernels.ADAPT_CONTEXT_PARAMS
    adapt: FloatArray  # sim.kernels.adapt's consts


class FusedCommitments(NamedTuple):
    """What the fused decide kernel worked out of the commitments in force (``_fused_commitments``).

    Valid while the citizens' ``share`` and ``commitment`` are the arrays it made and read: a
    forum round makes new commitments (a new array), and a switch that ends the forums clears them
    in place and drops these figures.
    """

    share: FloatArray  # the shares it decided
    commitment: FloatArray  # the commitments it read
    committed: FloatArray  # per community, the citizens with a commitment
    kept: FloatArray  # per community, the share of their commitments kept (NaN where none; read-only)
    kept_or_zero: FloatArray  # the same through np.nan_to_num, as the objectives read it (read-only)
    kept_mean: float  # the citizen_commitment_kept metric: mean commitment_met of the committed (NaN if none)


class SocialProductivityModel(mesa.Model):
    """Citizens, public services and communities under a governance regime.

    Mesa conventions (``docs/mesa.md``): the burn-in runs inside the constructor, outside Mesa's
    step counter, so a new model stands at month 0 with ``steps == 0``; each :meth:`step` is one
    recorded month (``model.month`` and ``model.steps`` both count them); ``running`` turns False
    at the horizon, so ``run_model()`` runs ``config.steps`` months; ``datacollector`` is a Mesa
    DataCollector with every metric column; the citizens are Mesa agents made on first use.

    Args:
        config: one simulation's configuration (defaults if omitted).
        citizen_sample: also record every *k*-th citizen each month (the agent-level table
            ``datacollector.get_agent_vars_dataframe()``); 0 (the default) records none.
        seed: replaces ``config.seed`` when given (what Mesa's ``batch_run(..., rng=[...])`` passes).

    """

    def __init__(self, config: SimConfig | None = None, citizen_sample: int = 0, seed: int | None = None) -> None:
        cfg = config if config is not None else SimConfig()
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
                raise ValueError(f"seed={seed!r}: give a whole number >= 0, or None for config.seed")
            cfg = dataclasses.replace(cfg, seed=int(seed))
        validate(cfg)
        self.streams = make_streams(cfg.seed)
        super().__init__(rng=self.streams["mesa"])
        self.config = cfg
        # Months before 0 are the unrecorded burn-in under the status-quo preset, with no payment
        # or recognition; the centre's phase puts the configured instruments in force at month 0.
        self.month = -cfg.burn_in
        configured = Instruments.from_config(cfg.regime)
        self.instruments = configured.with_preset(cfg.status_quo).off() if cfg.burn_in > 0 else configured
        self.instruments_last_month: Instruments | None = None
        self.communities_state, community = init_communities(cfg, self.streams["population"])
        self.citizens = init_citizens(
            cfg, community, self.communities_state, self.streams["population"], self.streams["network"]
        )
        self.services = init_services(cfg, self.communities_state, self.streams["services"])
        self.citizen_params = _params(citizen_rules.CitizenParams, cfg.citizens)
        self.service_params = _params(management.ServiceParams, cfg.services, self.instruments)
        # The forum rules' constants: the forum section, and the one shadow wage of citizens' hours.
        self.forum_params = forum.ForumParams(
            **{
                f.name: getattr(cfg.forum, f.name)
                for f in dataclasses.fields(cfg.forum)
                if f.name != "citizen_shock_breakage"  # deprecated, kept so old files load
            },
            citizen_hour_value=cfg.costs.shadow_wage,
        )
        self.recorder = MetricsRecorder(citizen_sample)
        self.details = DetailRecorder(window_start(cfg.steps))
        self.service_month: management.ServiceMonth | None = None
        # The allocation in force this month, and what services faced (set by services_act).
        self.service_shares = self.services.shares
        self._month_conditions: management.ServiceConditions | None = None
        self._month_cond: FloatArray | None = None  # the same, as the fused services kernel's rows
        self._fused_constants_cache: FusedConstants | None = None
        self._targeted_cache: tuple[Instruments, FloatArray, bool] | None = None
        self.large_shock = np.zeros(self.communities_state.deprivation.shape[0], dtype=bool)
        self.month_costs: dict[str, float] = {}
        self._buffer: dict[str, np.ndarray] = {}
        self._context: dict[str, Any] = {}
        self._citizen_agents: mesa.agent.AgentSet | None = None
        self._prosocial_share_cache: tuple[FloatArray, FloatArray] | None = None
        self._self_reliance_cache: tuple[FloatArray, FloatArray] | None = None
        # The fused decide kernel's figures of the commitments, while the commitments it read are in force.
        self._commitment_cache: FusedCommitments | None = None
        # The fused driver's citizen totals of the month (sim.kernels), read by the metrics; None otherwise.
        self.citizen_totals: dict[str, float] | None = None
        # What the fused services kernel counted of the month's records (sim.kernels.services), read by
        # the metrics (bunching: kept records just above and just below the standard) and the detail
        # tables (the histogram's counts); None otherwise.
        self.bunching_counts: tuple[int, int] | None = None
        self.case_histogram: IntArray | None = None
        self.records_kept = 0
        # The cost constants the fused metrics kernel reads, fixed for a run (fused driver only).
        self.metric_costs: FloatArray | None = None
        # The ranges of citizens the fused citizen kernels run on threads (kernel_threads), or None for one thread.
        self.citizen_ranges: IntArray | None = None
        self.kernel_threads = 1
        # The adapt phase's draws, being made on the draw thread since the month began (threaded runs).
        self._adapt_draws: Future[tuple[FloatArray, FloatArray]] | None = None
        if cfg.driver == "fused":
            from sim import kernels  # numba is imported by the fused driver only

            self.metric_costs = kernels.service_metric_costs(cfg)
            self.kernel_threads = kernels.thread_count(cfg.kernel_threads)
            self.citizen_ranges = kernels.citizen_ranges(community, self.kernel_threads)
        self._narrow_cache: tuple[IntArray, IntArray, IntArray, IntArray] | None = None
        for i in range(self.communities_state.deprivation.shape[0]):
            Community(self, i)
        for s in range(self.services.community.shape[0]):
            Service(self, s)
        # ---- Mesa conventions (issue 16): additive, outside the month's phases.
        self.datacollector = self.recorder  # one object: Mesa's name and the historical one
        # Citizens' Mesa ids are reserved now (one per row, in order), whenever their agents are made.
        self.citizen_id_base = self.agent_id_counter
        self.agent_id_counter += self.citizens.n
        self.burn_in()

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month, in this order."""
        self.centre_sets_regime()
        self.centre_reviews_targets()
        self.citizens_decide()
        self.services_act()
        self.forums_negotiate()
        self.citizens_adapt()
        self.communities_update()
        self.collect()
        self.instruments_last_month = self.instruments
        self.month += 1
        if self.month >= self.config.steps:  # Mesa's run_model() and SolaraViz stop at the horizon
            self.running = False

    def burn_in(self) -> None:
        """Run the unrecorded burn-in months (done by the constructor; nothing to do afterwards).

        They run this class's :meth:`step` directly, not Mesa's wrapped ``self.step``, so they are
        not counted in ``self.steps`` nor ``self.time`` and leave no row in the data collector.
        """
        while self.month < 0:
            SocialProductivityModel.step(self)

    def run(self, steps: int | None = None) -> None:
        """Run the burn-in (if not yet done) and then ``steps`` recorded months (the horizon by default)."""
        while self.month < 0:
            self.step()
        for _ in range(self.config.steps if steps is None else steps):
            self.step()

    # ------------------------------------------------------------------ phases
    def centre_sets_regime(self) -> None:
        """Put the configured instruments in force at month 0, and apply scheduled switches.

        The only phase that knows presets by name: a switch ``to`` a preset sets its instruments,
        a switch ``set`` sets the named instruments or levers. Everything below reads
        ``self.instruments``.
        """
        new = self.instruments
        if self.month == 0:
            new = Instruments.from_config(self.config.regime)
        for switch in self.config.regime.switches:
            if switch.step == self.month:
                new = new.with_preset(switch.to) if switch.to is not None else new.with_values(switch.set)
        if new is not self.instruments:
            self._put_in_force(new)

    @staticmethod
    def forums_meet(inst: Instruments) -> bool:
        """Forums convene where they set the objective or observe performance."""
        return inst.objective_setter == "forum" or inst.observation == "forum"

    def _put_in_force(self, new: Instruments) -> None:
        """Change the instruments; when forums stop meeting, or setting objectives, what they agreed ends."""
        if self.instruments.objective_setter == "forum" and new.objective_setter != "forum":
            self.services.agreement[:] = 0.0
        if self.forums_meet(self.instruments) and not self.forums_meet(new):
            self.services.agreement[:] = 0.0
            self.communities_state.participation[:] = 0.0
            self.communities_state.forum_information[:] = 0.0
            self.communities_state.last_round[:] = NEVER
            self.communities_state.attenders[:] = 0.0
            self.services.partnership_committed[:] = 0.0
            self.citizens.participated[:] = False
            self.citizens.commitment[:] = np.nan
            self._commitment_cache = None  # its sums were of the commitments just cleared in place
        if new.target_level != self.instruments.target_level:
            self.services.target[:] = new.target_level
        self.instruments = new
        self.service_params = _params(management.ServiceParams, self.config.services, new)

    @property
    def regime(self) -> str:
        """The label of the preset in force (for tables and plots; no rule reads it)."""
        return self.instruments.label

    def citizens_decide(self) -> None:
        """Citizens observe last month's contributions and split their time (synchronously)."""
        cit, comm, cfg = self.citizens, self.communities_state, self.config.citizens
        if self.citizen_ranges is not None:
            # Threads in use: the adapt phase's draws (from streams no other phase reads) are made
            # on the draw thread from now on, beside the decide kernel's threads (which share its
            # ranges out among themselves) and the serial services phase; the same draws in the
            # same order. Measured 1.21x at 10^5 and 1.10x at 10^6 citizens on 2 cores.
            self._adapt_draws = draw_thread().submit(self._draw_adapt)
        if self.config.driver == "fused":  # the kernel computes the same pressure from the same numbers
            from sim.normals import standard_normal  # numpy's numbers from the same stream, faster

            self._decide_fused(standard_normal(self.streams["citizens"], cit.n))
            return
        pressure = np.clip(
            cfg.peer_pressure_base + cfg.peer_pressure_social_capital * comm.social_capital + self.recognition,
            0.0,
            1.0,
        )
        self._context = {
            "pressure": pressure[cit.community],
            "noise": self.streams["citizens"].standard_normal(cit.n),
            # Hours spent in last month's forum round come out of this month's free time.
            "budget": np.maximum(0.0, cit.budget - cit.forum_hours),
        }
        self._buffer = {name: np.empty_like(getattr(cit, name)) for name in DECISION_FIELDS}
        if self.config.driver == "agent":
            self.citizen_agents.do("decide")
        else:
            for block in citizen_blocks(cit.n):
                self.decide_citizens(block)
        for name in DECISION_FIELDS:
            setattr(cit, name, self._buffer[name])
        cit.forum_hours = np.zeros(cit.n)

    def _decide_fused(self, noise: FloatArray) -> None:
        """The decision rules for every citizen in one compiled pass (``sim.kernels.decide``).

        Takes the same random draws as the numpy path and gives the same bits; it also computes,
        in the same pass, the peer pressure per community, and what the services and the month's
        metrics need from the citizens (per-community means, counts).
        """
        from sim import kernels  # numba is imported by the fused driver only

        cit, comm = self.citizens, self.communities_state
        consts = self._fused_constants()
        community, coop_type = self.narrow_citizen_groups()
        (
            belief,
            share,
            vol,
            care,
            selfrel,
            realised,
            realised_c,
            selfrel_c,
            totals,
            committed_c,
            kept_c,
            kept_or_zero,
            kept_mean,
        ) = self.citizen_kernel(
            "decide",
            cit.realised,
            cit.contacts,
            community,
            coop_type,
            cit.belief,
            cit.motivation,
            cit.commitment,
            cit.budget,
            cit.forum_hours,
            cit.own_need,
            cit.efficacy,
            cit.engaged,
            cit.care_opportunity,
            comm.social_capital,
            comm.size,
            noise,
            consts.type_base,
            consts.type_slope,
            consts.decide,
            float(self.config.citizens.activity_threshold_hours),
        )
        cit.belief, cit.share, cit.volunteering, cit.caring = belief, share, vol, care
        cit.self_reliance, cit.realised = selfrel, realised
        cit.forum_hours = np.zeros(cit.n)
        # The kernel's per-community means (community_mean's divide, made in the kernel), valid while
        # the citizens' arrays are the ones it returned.
        self._prosocial_share_cache = (realised, realised_c)
        self._self_reliance_cache = (selfrel, selfrel_c)
        kept_c.flags.writeable = kept_or_zero.flags.writeable = False  # handed out, kept for the month
        self._commitment_cache = FusedCommitments(share, cit.commitment, committed_c, kept_c, kept_or_zero, kept_mean)
        self.citizen_totals = dict(zip(kernels.DECIDE_TOTALS, totals.tolist(), strict=True))

    def decide_citizens(self, sel: slice) -> None:
        """Run the decision rules for a selection of citizens into the month's buffer."""
        cit, ctx = self.citizens, self._context
        d = citizen_rules.decide(
            self.citizen_params,
            cit.realised,
            cit.contacts[sel],
            cit.coop_type[sel],
            cit.belief[sel],
            cit.motivation[sel],
            cit.commitment[sel],
            ctx["budget"][sel],
            cit.own_need[sel],
            cit.efficacy[sel],
            cit.engaged[sel],
            cit.care_opportunity[sel],
            ctx["pressure"][sel],
            self.instruments.payment_per_hour,
            ctx["noise"][sel],
        )
        for name in DECISION_FIELDS:
            self._buffer[name][sel] = getattr(d, name)

    def services_act(self) -> None:
        """Services co-produce outcomes, record cases, may game, are audited, and learn."""
        if self.config.driver == "fused":
            self._services_act_fused()
            return
        comm, svc = self.communities_state, self.services
        scfg = self.config.services
        s_comm = svc.community
        n_s = s_comm.shape[0]
        k_raw = cp.citizen_input(
            self._prosocial_share_by_community(),
            self._self_reliance_share_by_community(),
            comm.social_capital,
            scale=scfg.citizen_input_scale,
            social_capital_weight=scfg.social_capital_weight,
        )
        shocks = self.streams["shocks"]
        innovation = scfg.shock_sd * shocks.standard_normal(n_s)
        self.large_shock = shocks.random(comm.size.shape[0]) < scfg.large_shock_prob
        large = scfg.large_shock_size * self.large_shock[s_comm]
        svc.shock = cp.update_shock(svc.shock, innovation, large, scfg.shock_persistence)

        cases = self.streams["cases"]
        expected = scfg.cases_per_citizen * comm.size[s_comm]
        n_cases = np.minimum(cases.poisson(expected), scfg.max_cases_per_service)
        total = int(n_cases.sum())
        u = np.clip(cases.random((5, total)), 1e-12, 1.0 - 1e-12)
        inst = self.instruments
        objective_set, objective, accountability = self.objectives()
        # Audits check the records used for consequences: where an objective is judged by the indicator.
        by_indicator = objective_set * float(inst.observation == "indicator")
        audited = (self.streams["audits"].random(n_s) < inst.audit_rate) * by_indicator
        inspections = self.streams["inspections"]
        inspected = (inspections.random(n_s) < inst.guarantee_monitoring_rate).astype(np.float64)
        error = inst.guarantee_monitoring_error * inspections.standard_normal(n_s)
        ones = np.ones(n_s)
        fp = self.forum_params
        # The forum perceives with noise falling with the attenders of its latest round (forum rules).
        attenders = comm.attenders[s_comm]
        forum_sees = (attenders > 0) * float(self.forums_meet(inst))
        sd = np.sqrt(fp.noise_sd_one**2 / np.maximum(attenders, 1.0) + fp.noise_floor**2)
        perception_error = forum_sees * sd * self.streams["forum_perception"].standard_normal(n_s)
        # Partnership owed: a forum's bargained share where one is in force, else the central standard's.
        bargained = (svc.agreement > 0) & (svc.partnership_committed > 0)
        level = np.where(bargained, svc.partnership_committed, inst.partnership_commitment)
        owed = float(inst.partnership_standard != "none") * ones
        theatre = owed * forum.theatre_share(fp, svc.ethos, inst.verification_rate)
        verification = self.streams["verification"]
        u_check, u_detect, z_check = (
            verification.random(n_s),
            verification.random(n_s),
            verification.standard_normal(n_s),
        )
        checked = owed * (u_check < inst.verification_rate)
        verified = checked * (u_detect >= fp.verification_miss)
        conditions = management.ServiceConditions(
            capacity=svc.capacity,
            citizen_input=k_raw[s_comm],
            deprivation=comm.deprivation[s_comm],
            shock=svc.shock,
            ethos=svc.ethos,
            objective_set=objective_set,
            objective=objective,
            accountability=accountability,
            league_table=ones * float(inst.league_table),
            observe_forum=ones * float(inst.observation == "forum"),
            forum_sees=forum_sees,
            perception_error=perception_error,
            inspected=inspected,
            functioning_error=error * inspected,
            partnership_paid=ones * float(inst.partnership_standard == "paid"),
            partnership_required=ones * float(inst.partnership_standard == "required"),
            partnership_level=level,
            theatre=theatre,
            verified=verified,
            verification_error=fp.verification_error * z_check,
            theatre_penalty=ones * fp.theatre_sanction * fp.service_cost,
            commitments=svc.agreement * comm.forum_information[s_comm],
            audited=audited,
            service_of_case=np.repeat(np.arange(n_s), n_cases),
            case_noise=indicators.case_noise(u[0]),
            u_move=u[1],
            u_land=u[2],
            u_skim=u[3],
            u_detect=u[4],
        )
        size = scfg.exploration
        # The allocation in force and the manager's trials, evaluated together under one month's conditions.
        allocations = [svc.shares] + [management.trial_allocation(svc.shares, a, size) for a in range(cp.N_ACTIVITIES)]
        month, *tried = management.service_months(allocations, conditions, self.service_params)
        trials = np.stack([t.payoff for t in tried])
        self.service_month = month
        self.service_shares = svc.shares
        svc.reported, svc.lived, svc.cases = month.reported, month.lived_outcome, month.n_cases
        svc.audited, svc.found_share, svc.payment = conditions.audited, month.found_share, month.payment
        svc.commitment_kept = np.where(svc.agreement > 0, month.commitment_kept, np.nan)
        svc.inspected, svc.functioning_seen = inspected, svc.shares[:, cp.FUNCTIONING] + conditions.functioning_error
        self.month_costs["verification_hours"] = float(checked.sum() * fp.verification_hours)
        svc.shares = management.learn_shares(svc.shares, month.payoff, trials, size, scfg.learning_rate, scfg.max_shift)
        self._month_conditions = conditions

    def _services_act_fused(self) -> None:
        """:meth:`services_act` in two compiled calls (``sim.kernels.service_conditions`` and ``services``).

        The same random draws, from the same streams in the same order, as the numpy path; the
        first kernel builds the month's conditions from them (and each case's noise), the second
        evaluates the allocation in force and the six trials case by case, learns, and counts
        what the metrics and the detail tables need of the records. The same bits throughout.
        """
        from sim import kernels, pcg64

        comm, svc, scfg, fp = self.communities_state, self.services, self.config.services, self.forum_params
        s_comm = svc.community
        n_s, n_c = s_comm.shape[0], comm.size.shape[0]
        shocks = self.streams["shocks"]
        z_shock = shocks.standard_normal(n_s)
        u_large = shocks.random(n_c)
        cases = self.streams["cases"]
        n_cases = np.minimum(cases.poisson(scfg.cases_per_citizen * comm.size[s_comm]), scfg.max_cases_per_service)
        total = int(n_cases.sum())
        # The numpy path's draw (the same numbers, made faster), its rows as the kernels' five arrays.
        u = tuple(pcg64.random(cases, (5, total)))
        objective_set, objective, accountability = self.objectives()
        u_audit = self.streams["audits"].random(n_s)
        inspections = self.streams["inspections"]
        u_inspect, z_inspect = inspections.random(n_s), inspections.standard_normal(n_s)
        z_perception = self.streams["forum_perception"].standard_normal(n_s)
        verification = self.streams["verification"]
        u_check, u_verify, z_check = (
            verification.random(n_s),
            verification.random(n_s),
            verification.standard_normal(n_s),
        )
        consts = self._fused_constants()
        cond, svc.shock, self.large_shock, functioning_error, case_noise, checked = kernels.service_conditions(
            s_comm,
            svc.capacity,
            svc.ethos,
            svc.shock,
            svc.agreement,
            svc.partnership_committed,
            self._prosocial_share_by_community(),
            self._self_reliance_share_by_community(),
            comm.social_capital,
            comm.deprivation,
            comm.attenders,
            comm.forum_information,
            np.asarray(objective_set, dtype=np.float64),
            np.asarray(objective, dtype=np.float64),
            np.asarray(accountability, dtype=np.float64),
            z_shock,
            u_large,
            u,
            u_audit,
            u_inspect,
            z_inspect,
            z_perception,
            u_check,
            u_verify,
            z_check,
            consts.conditions,
        )
        results, recorded, kept, true_value, learned, counts, histogram = kernels.services(
            svc.shares,
            cond,
            n_cases,
            case_noise,
            u[1],
            u[2],
            u[3],
            u[4],
            consts.services,
            cond[kernels.CONDITION_ROW["partnership_level"]],
            float(scfg.exploration),
            float(scfg.learning_rate),
            float(scfg.max_shift),
            float(scfg.bunching_window),
            float(BINS_PER_UNIT),
            float(HALF_RANGE),
            N_BINS,
        )
        self._month_cond = cond
        self.bunching_counts = (int(counts[0]), int(counts[1]))
        self.records_kept = int(counts[2])
        self.case_histogram = histogram
        # The rows of results are ServiceMonth's first fields, in order (kernels.SERVICE_RESULTS; tested).
        month = management.ServiceMonth(*results, recorded=recorded, kept=kept, true_value=true_value)
        self.service_month = month
        self.service_shares = svc.shares
        svc.reported, svc.lived, svc.cases = month.reported, month.lived_outcome, month.n_cases
        svc.audited, svc.found_share, svc.payment = (
            cond[kernels.CONDITION_ROW["audited"]],
            month.found_share,
            month.payment,
        )
        svc.commitment_kept = np.where(svc.agreement > 0, month.commitment_kept, np.nan)
        svc.inspected = cond[kernels.CONDITION_ROW["inspected"]]
        svc.functioning_seen = svc.shares[:, cp.FUNCTIONING] + functioning_error
        self.month_costs["verification_hours"] = float(checked * fp.verification_hours)
        svc.shares = learned

    def _fused_constants(self) -> FusedConstants:
        """The fused kernels' constants under the instruments in force, made again only when they change.

        Read by the decide, services and adapt phases every month; made from the objects of
        ``FusedConstants.key``, and made again as soon as any of them is another object (the
        instruments put in force at month 0 or by a switch, with their service params, or a
        replaced config). Compared by identity: those objects are frozen, or (the config) not
        changed during a run, and a comparison of their contents would cost more than the arrays.
        """
        inst = self.instruments
        key = (self.config, inst, self.citizen_params, self.service_params, self.forum_params)
        cached = self._fused_constants_cache
        if cached is not None and all(map(operator.is_, cached.key, key)):
            return cached
        from sim import kernels  # only when made: "from sim import kernels" runs importlib code each time

        scfg, ccfg, fp, p = self.config.services, self.config.citizens, self.forum_params, self.citizen_params
        values = {
            "citizen_input_scale": scfg.citizen_input_scale,
            "social_capital_weight": scfg.social_capital_weight,
            "shock_sd": scfg.shock_sd,
            "large_shock_prob": scfg.large_shock_prob,
            "large_shock_size": scfg.large_shock_size,
            "shock_persistence": scfg.shock_persistence,
            # Audits check the records used for consequences: where an objective is judged by the indicator.
            "audited_by_indicator": float(inst.observation == "indicator"),
            "audit_rate": inst.audit_rate,
            "guarantee_monitoring_rate": inst.guarantee_monitoring_rate,
            "guarantee_monitoring_error": inst.guarantee_monitoring_error,
            "forums_meet": float(self.forums_meet(inst)),
            "noise_sd_one_squared": fp.noise_sd_one**2,
            "noise_floor_squared": fp.noise_floor**2,
            "partnership_commitment": inst.partnership_commitment,
            "partnership_owed": float(inst.partnership_standard != "none"),
            "theatre_max": fp.theatre_max,
            # forum.theatre_share's deterrence, computed as it computes it.
            "deterrence": inst.verification_rate * (1.0 - fp.verification_miss) * fp.theatre_sanction,
            "verification_rate": inst.verification_rate,
            "verification_miss": fp.verification_miss,
            "verification_error": fp.verification_error,
            "league_table": float(inst.league_table),
            "observe_forum": float(inst.observation == "forum"),
            "partnership_paid": float(inst.partnership_standard == "paid"),
            "partnership_required": float(inst.partnership_standard == "required"),
            "theatre_penalty": fp.theatre_sanction * fp.service_cost,
        }
        decide = np.array(
            [
                p.belief_persistence,
                p.commitment_pressure,
                p.motivation_weight,
                p.antisocial_pressure,
                p.norm_premium,
                p.contribution_noise,
                # The payment multiplier's parts: crowd_out * paid (paid is 0 or 1) and price_effect * pay.
                p.payment_crowd_out * (1.0 if inst.payment_per_hour > 0 else 0.0),
                p.payment_price_effect * inst.payment_per_hour,
                p.self_reliance_share,
                p.volunteer_share,
                # Peer pressure per community (citizens_decide's on the other drivers).
                ccfg.peer_pressure_base,
                ccfg.peer_pressure_social_capital,
                inst.recognition,
            ]
        )
        adapt_context = np.array(
            [
                scfg.functioning_norm,
                ccfg.ask_base,
                ccfg.ask_partnership,
                ccfg.goal_support,
                ccfg.control_targets,
                ccfg.control_figures,
                ccfg.control_payment,
                float(inst.payment_per_hour > 0),
                ccfg.audit_exposure,
                ccfg.drift_sensitivity,
                inst.guarantee_level,
            ]
        )
        adapt = np.array(
            [
                inst.recognition,
                ccfg.voice_weight,
                p.engagement_exit,
                p.motivation_gain,
                p.motivation_loss,
                p.motivation_reversion,
                p.trust_gain,
                p.trust_loss,
                p.assurance_gain,
                p.trust_experience_noise,
                p.efficacy_rate,
                ccfg.partnership_support,
                p.join_current_trust,
            ],
            dtype=np.float64,
        )
        constants = FusedConstants(
            key=key,
            decide=decide,
            type_base=np.array([p.cc_base, p.free_rider_base, p.other_base]),
            type_slope=np.array([p.cc_slope, 0.0, 0.0]),
            conditions=np.array([float(values[name]) for name in kernels.CONDITION_PARAMS]),
            services=np.array([float(getattr(self.service_params, name)) for name in kernels.SERVICE_PARAMS]),
            adapt_context=adapt_context,
            adapt=adapt,
        )
        self._fused_constants_cache = constants
        return constants

    def forums_negotiate(self) -> None:
        """Where forums set the objective or observe performance, they meet on schedule and after large shocks.

        One round of the forum rules (``sim/rules/forum.py``, ``docs/forums.md``): who attends
        (capture by the better-off can happen), what the forum perceives (noisy, biased towards
        attenders), and a Nash bargain between each service and the attenders over the
        service's partnership and the attenders' extra contribution, which sets the objective.
        A forum that only observes (a central objective) agrees nothing. Hours go to
        ``month_costs`` and attenders' hours come out of next month's free time.
        """
        inst = self.instruments
        if not self.forums_meet(inst):
            return
        cit, comm, svc = self.citizens, self.communities_state, self.services
        never = comm.last_round == NEVER
        due = never | (self.month - comm.last_round >= inst.negotiation_interval) | self.large_shock
        if not due.any():
            return
        fp = self.forum_params
        fused = self.config.driver == "fused"
        lived = svc.lived if np.isfinite(svc.lived).all() else np.nan_to_num(svc.lived, nan=0.5)  # read only
        # Service s serves community s // 3 in domain s % 3, so each citizen meets their row,
        # as far as their own need lets them (attenders' experience differs from the community's).
        if fused:  # the same rules compiled (sim.kernels), the same bits
            from sim import kernels

            experience, resources = kernels.forum_inputs(
                lived.reshape(-1, len(DOMAINS)), cit.need, cit.community, cit.budget, comm.deprivation, cit.own_need, fp
            )
            round_ = kernels.forum_round
        else:
            experience = forum.personal_experience(
                lived.reshape(-1, len(DOMAINS))[cit.community],
                cit.need,
                cit.community,
                comm.size.shape[0],
                fp.need_experience,
            )
            resources = forum.resources_index(
                cit.budget, comm.deprivation[cit.community], cit.own_need, float(np.median(cit.budget))
            )
            round_ = forum.forum_round
        citizens = forum.ForumCitizens(
            trust=cit.trust,
            efficacy=cit.efficacy,
            resources=resources,
            share=cit.share,
            need=cit.need,
            experience=experience,
        )
        reported = np.where(np.isnan(svc.reported), lived, svc.reported)
        services = forum.ForumServices(
            community=svc.community,
            domain=svc.domain,
            lived=lived,
            # What a service could put into partnership: its slack and its present partnership work.
            spare=np.clip(svc.shares[:, cp.SLACK] + svc.shares[:, cp.PARTNERSHIP], 0.0, 1.0),
            ethos=svc.ethos,
            prior=np.where(svc.agreement > 0, svc.objective, reported),
        )
        if fused:
            from sim.pcg64 import random  # numpy's numbers from the same stream, faster

            attend = random(self.streams["forum"], cit.n)
        else:
            attend = self.streams["forum"].random(cit.n)
        draws = forum.ForumDraws(
            attend=attend,
            perception=self.streams["forum_perception"].standard_normal(svc.community.shape[0]),
        )
        r = round_(fp, citizens, services, cit.community, due, draws, support=inst.participation_support)
        due_i, due_s = due[cit.community], r.due_service
        cit.participated = np.where(due_i, r.attended, cit.participated)
        cit.commitment = np.where(due_i, np.where(r.committed, r.citizen_commitment, np.nan), cit.commitment)
        cit.forum_hours = np.where(due_i, r.citizen_hours, 0.0)
        comm.participation = np.where(due, r.turnout, comm.participation)
        comm.attenders = np.where(due, r.attenders, comm.attenders)
        # Legitimacy: an agreement binds as far as turnout reaches regime.forum_information.
        comm.forum_information = negotiation.forum_information(comm.participation, inst.forum_information)
        comm.last_round = np.where(due, self.month, comm.last_round)
        if inst.objective_setter == "forum":  # a forum that only observes (a central objective) agrees none
            in_force = due_s & r.in_force
            svc.objective = np.where(due_s, np.where(in_force, r.objective, svc.objective), svc.objective)
            svc.agreement = np.where(due_s, in_force.astype(np.float64), svc.agreement)
            svc.partnership_committed = np.where(
                due_s, np.where(in_force, r.partnership, 0.0), svc.partnership_committed
            )
        self.month_costs["forum_participants"] = float(r.attended.sum())
        self.month_costs["forum_citizen_hours"] = float(r.citizen_hours.sum())
        self.month_costs["forum_staff_hours"] = float(r.staff_hours.sum())

    def citizens_adapt(self) -> None:
        """Engagement, motivation, trust and self-efficacy respond to what citizens met this month (synchronously).

        Every input is behaviour or an instrument as citizens meet it in their own community's
        services: effort redirected towards measured tasks, figures asked for, objectives with
        feedback, pay, voice in a forum they attended, commitments and published standards kept
        or broken, what audits found, and assurance from checks that found little.
        """
        if self.config.driver == "fused":
            self._adapt_fused()
            return
        cit, comm, svc, ccfg = self.citizens, self.communities_state, self.services, self.config.citizens
        inst, month = self.instruments, self.service_month
        assert month is not None
        n_c = comm.size.shape[0]
        by_comm = np.zeros((n_c, len(DOMAINS)))

        def community_of(values: FloatArray) -> FloatArray:
            by_comm[svc.community, svc.domain] = values
            return by_comm.mean(axis=1)

        # What citizens met this month: the allocation in force, not the one just learned.
        shares = self.service_shares
        partnership_c = community_of(shares[:, cp.PARTNERSHIP])
        functioning = np.minimum(1.0, shares[:, cp.FUNCTIONING] * svc.capacity / self.config.services.functioning_norm)
        lived_c = community_of(svc.lived)
        experience_c = 0.5 * community_of(functioning) + 0.5 * lived_c
        # Felt control: volunteers' effort redirected towards measured tasks (gaming, and measured
        # work crowding out unmeasured work), and being pressed to produce figures.
        redirected = shares[:, cp.GAMING] + np.maximum(0.0, shares[:, cp.MEASURED] - shares[:, cp.UNMEASURED])
        c = self._month_conditions
        assert c is not None
        by_indicator = c.objective_set * (1.0 - c.observe_forum)
        paid = float(inst.payment_per_hour > 0)
        control_c = (
            ccfg.control_targets * community_of(redirected)
            + ccfg.control_figures * community_of(by_indicator)
            + ccfg.control_payment * paid
        )
        # Commitments citizens can hold a service to: a forum's (as far as they took part in
        # making it) and a published standard (a league table's objective, met on the true outcome).
        forum_made = svc.agreement * comm.forum_information[svc.community]
        published = c.objective_set * c.league_table
        standard_kept = np.minimum(1.0, month.p_measured / np.maximum(c.objective, 1e-9))
        made_s = np.minimum(1.0, forum_made + published)
        kept_s = np.divide(
            forum_made * np.nan_to_num(svc.commitment_kept) + published * standard_kept,
            forum_made + published,
            out=np.zeros_like(made_s),
            where=(forum_made + published) > 0,
        )
        made_c = community_of(made_s)
        kept_c = np.divide(community_of(made_s * kept_s), made_c, out=np.zeros(n_c), where=made_c > 0)
        # Exposure scales with what audits find; published figures drifting from lived outcomes.
        reported = np.where(np.isnan(svc.reported), svc.lived, svc.reported)
        found = np.clip(ccfg.audit_exposure * np.nan_to_num(svc.found_share), 0.0, 1.0)
        exposure_s = svc.audited * found + ccfg.drift_sensitivity * published * np.maximum(0.0, reported - svc.lived)
        # Credible assurance: audits that found little, inspections that found the guarantee met.
        met = (svc.functioning_seen >= self.instruments.guarantee_level).astype(np.float64)
        assurance_s = svc.audited * (1.0 - found) + svc.inspected * met
        # Per community; adapt_citizens gathers them for its own citizens, block by block.
        self._context = {
            "ask": np.clip(ccfg.ask_base + ccfg.ask_partnership * partnership_c, 0.0, 1.0),
            "partnership_effect": cp.partnership_effect(partnership_c),
            "goals": ccfg.goal_support * community_of(c.objective_set),
            "control": control_c,
            "experience": experience_c,
            "success": lived_c,
            "made": made_c,
            "kept": kept_c,
            "exposure": community_of(exposure_s),
            "assurance": np.clip(community_of(assurance_s), 0.0, 1.0),
            "u_engage": self.streams["engagement"].random(cit.n),
            "experience_noise": self.streams["experience"].standard_normal(cit.n),
        }
        self._buffer = {name: np.empty_like(getattr(cit, name)) for name in ADAPTATION_FIELDS}
        if self.config.driver == "agent":
            self.citizen_agents.do("adapt")
        else:
            for block in citizen_blocks(cit.n):
                self.adapt_citizens(block)
        for name in ADAPTATION_FIELDS:
            setattr(cit, name, self._buffer[name])

    def narrow_citizen_groups(self) -> tuple[IntArray, IntArray]:
        """The citizens' community and cooperation type as the fused kernels read them: narrow integers.

        Both are fixed for a run. At 10^5 citizens and more the citizen kernels are bound by the
        memory they read, and int32 communities and int8 types read 11 bytes a citizen fewer
        than int64 (the decide kernel 6 % faster at 10^5 on warm inputs); the values, and so every result, are
        the same. Made again if either array is replaced; an array whose values do not fit the
        narrow type is passed as it is.
        """
        cit = self.citizens
        cached = self._narrow_cache
        if cached is not None and cached[0] is cit.community and cached[1] is cit.coop_type:
            return cached[2], cached[3]
        community, coop_type = _narrowed(cit.community, np.int32), _narrowed(cit.coop_type, np.int8)
        self._narrow_cache = (cit.community, cit.coop_type, community, coop_type)
        return community, coop_type

    def citizen_kernel(self, name: str, *args: Any) -> Any:
        """Call the fused citizen kernel ``name`` of ``sim.kernels``, or its threaded twin (``kernel_threads``).

        The twin runs the model's ranges of citizens (:attr:`citizen_ranges`) on its threads and
        gives the same bits; with one thread, or too few citizens to split, the kernel itself runs.
        """
        from sim import kernels

        if self.citizen_ranges is None:
            return getattr(kernels, name)(*args)
        threaded = getattr(kernels, f"{name}_threaded")
        ranges = (self.citizen_ranges,) if name in kernels.RANGED else ()
        return kernels.call_threaded(threaded, self.kernel_threads, *args, *ranges)

    def _adapt_fused(self) -> None:
        """The adaptation rules for every citizen in one compiled pass (``sim.kernels.adapt``).

        What citizens met in their community's services (the numpy path's context above) comes
        from one compiled pass over the services (``sim.kernels.adapt_context``), the same bits.
        """
        from sim import kernels

        cit, comm, svc = self.citizens, self.communities_state, self.services
        month, cond, consts = self.service_month, self._month_cond, self._fused_constants()
        assert month is not None and cond is not None
        row = kernels.CONDITION_ROW
        # What citizens met this month: the allocation in force, not the one just learned.
        by_community = kernels.adapt_context(
            self.service_shares,
            svc.capacity,
            svc.community,
            svc.domain,
            svc.lived,
            svc.reported,
            month.p_measured,
            svc.agreement,
            svc.commitment_kept,
            svc.found_share,
            svc.audited,
            svc.inspected,
            svc.functioning_seen,
            cond[row["objective_set"]],
            cond[row["objective"]],
            cond[row["league_table"]],
            cond[row["observe_forum"]],
            comm.forum_information,
            consts.adapt_context,
        )
        pending, self._adapt_draws = self._adapt_draws, None
        u_engage, experience_noise = pending.result() if pending is not None else self._draw_adapt()
        engaged, motivation, trust, efficacy, totals = self.citizen_kernel(
            "adapt",
            self.narrow_citizen_groups()[0],
            cit.engaged,
            cit.participated,
            cit.motivation,
            cit.motivation_trait,
            cit.trust,
            cit.trust_trait,
            cit.efficacy,
            cit.volunteering,
            by_community,
            u_engage,
            experience_noise,
            consts.adapt,
            float(self.config.citizens.activity_threshold_hours),
            MOTIVATED,
        )
        cit.engaged, cit.motivation, cit.trust, cit.efficacy = engaged, motivation, trust, efficacy
        assert self.citizen_totals is not None
        self.citizen_totals.update(zip(kernels.ADAPT_TOTALS, totals.tolist(), strict=True))

    def _draw_adapt(self) -> tuple[FloatArray, FloatArray]:
        """The fused adapt phase's draws: a uniform (``engagement``) and a normal (``experience``) per citizen."""
        from sim.normals import standard_normal  # numpy's numbers from the same streams, faster
        from sim.pcg64 import random

        n = self.citizens.n
        return random(self.streams["engagement"], n), standard_normal(self.streams["experience"], n)

    def adapt_citizens(self, sel: slice) -> None:
        """Run the adaptation rules for a selection of citizens into the month's buffer."""
        cit, ctx = self.citizens, self._context
        com = cit.community[sel]
        engaged = cit.engaged[sel].astype(np.float64)
        # Voice only for those who took part in the forum round in force.
        voice = cit.participated[sel].astype(np.float64) * self.config.citizens.voice_weight
        partnership = self.config.citizens.partnership_support * ctx["partnership_effect"][com]
        support = self.recognition + voice + engaged * (partnership + ctx["goals"][com])
        a = citizen_rules.adapt(
            self.citizen_params,
            cit.engaged[sel],
            cit.motivation[sel],
            cit.motivation_trait[sel],
            cit.trust[sel],
            cit.trust_trait[sel],
            cit.efficacy[sel],
            ctx["ask"][com],
            np.clip(support, 0.0, 1.0),
            np.clip(engaged * ctx["control"][com], 0.0, 1.0),
            ctx["experience"][com],
            ctx["success"][com],
            ctx["made"][com],
            ctx["kept"][com],
            ctx["exposure"][com],
            ctx["assurance"][com],
            ctx["u_engage"][sel],
            ctx["experience_noise"][sel],
        )
        for name in ADAPTATION_FIELDS:
            self._buffer[name][sel] = getattr(a, name)

    def communities_update(self) -> None:
        """Social capital grows with pro-social activity and decays."""
        comm, pop = self.communities_state, self.config.population
        share = self._prosocial_share_by_community()
        if self.config.driver == "fused":  # the same rule compiled: one call for some six small numpy calls
            from sim import kernels

            comm.social_capital = kernels.social_capital(
                comm.social_capital, share, float(pop.social_capital_growth), float(pop.social_capital_decay)
            )
            return
        comm.social_capital = community_rules.update_social_capital(
            comm.social_capital, share, pop.social_capital_growth, pop.social_capital_decay
        )

    def centre_reviews_targets(self) -> None:
        """Under a ratchet, this month's targets follow last month's recorded performance.

        Only figures recorded against a central target count: the first such month keeps the set level.
        """
        inst, last, svc = self.instruments, self.instruments_last_month, self.services
        centre_now = inst.objective_setter == "centre"
        centre_before = last is not None and last.objective_setter == "centre"
        if centre_now and centre_before and inst.ratchet:
            over = np.maximum(0.0, np.nan_to_num(svc.reported - svc.target)) * self.targeted()
            svc.target = np.minimum(1.0, svc.target + inst.ratchet_rate * over)

    def collect(self) -> None:
        """Record the month's metrics (burn-in months are not recorded)."""
        if self.month >= 0:
            self.datacollector.collect(self)
            self.details.add(self)
        self.month_costs = {}

    # ------------------------------------------------------------------ helpers
    @property
    def payment_per_hour(self) -> float:
        """Payment to volunteers now (none during the burn-in)."""
        return self.instruments.payment_per_hour

    @property
    def recognition(self) -> float:
        """Recognition of citizens' contributions now (none during the burn-in)."""
        return self.instruments.recognition

    @property
    def measured_domain(self) -> BoolArray:
        """Per domain, whether the centre measures it (``regime.measured_domains`` in force)."""
        measured = self.instruments.measured_domains
        return np.array([d in measured for d in DOMAINS], dtype=bool)

    def targeted(self) -> FloatArray:
        """1 for services under a central outcome target this month (the centre sets it on the measured domains).

        Read-only, and made again only when the instruments change (read several times a month).
        """
        return self._targeted()[0]

    def any_targeted(self) -> bool:
        """Whether any service is under a central outcome target this month (the metrics ask every month)."""
        return self._targeted()[1]

    def _targeted(self) -> tuple[FloatArray, bool]:
        """:meth:`targeted` and :meth:`any_targeted`, made again only when the instruments change."""
        cached = self._targeted_cache
        if cached is not None and cached[0] is self.instruments:
            return cached[1], cached[2]
        if self.instruments.objective_setter != "centre":
            targeted = np.zeros(self.services.domain.shape[0])
        else:
            targeted = self.measured_domain[self.services.domain].astype(np.float64)
        targeted.flags.writeable = False
        any_targeted = bool((targeted > 0).any())
        self._targeted_cache = (self.instruments, targeted, any_targeted)
        return targeted, any_targeted

    def objectives(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per service: an objective in force and observed (0/1), its level, and the weight of its consequences.

        A central target weighs fully. A forum's objective binds as far as people took part in
        making it (legitimacy) and as far as citizens kept their side (mutual accountability).
        Nothing is at stake where nothing is observed.
        """
        inst, svc, comm = self.instruments, self.services, self.communities_state
        n_s = svc.domain.shape[0]
        observed = float(inst.observation != "none")
        if inst.objective_setter == "centre":
            return self.targeted() * observed, svc.target, np.ones(n_s)
        if inst.objective_setter == "forum":
            fused = self._fused_commitments()  # the decide kernel made this month's nan_to_num of them
            kept_c = (
                fused.kept_or_zero if fused is not None else np.nan_to_num(self._citizen_commitment_kept_by_community())
            )
            kept = kept_c[svc.community]
            return svc.agreement * observed, svc.objective, comm.forum_information[svc.community] * kept
        return np.zeros(n_s), svc.target, np.zeros(n_s)

    def _prosocial_share_by_community(self) -> FloatArray:
        """Mean realised contribution share per community, computed once per month's decisions."""
        cit, comm = self.citizens, self.communities_state
        cached = self._prosocial_share_cache
        if cached is None or cached[0] is not cit.realised:
            cached = (cit.realised, community_rules.community_mean(cit.realised, cit.community, comm.size))
            self._prosocial_share_cache = cached
        return cached[1]

    def _self_reliance_share_by_community(self) -> FloatArray:
        """Mean share of the budget spent on own needs per community (the fused pass sums it as it decides)."""
        cit, comm = self.citizens, self.communities_state
        cached = self._self_reliance_cache
        if cached is not None and cached[0] is cit.self_reliance:
            return cached[1]
        has_time = cit.budget > 0
        self_rel_share = (
            cit.self_reliance / cit.budget  # the usual case: the same values without a masked divide
            if has_time.all()
            else np.divide(cit.self_reliance, cit.budget, out=np.zeros(cit.n), where=has_time)
        )
        return community_rules.community_mean(self_rel_share, cit.community, comm.size)

    def _fused_commitments(self) -> FusedCommitments | None:
        """The decide kernel's figures of the commitments, while the commitments it read are in force.

        None on the other drivers, and once a forum round (or a switch) has changed the
        commitments or the shares since.
        """
        cached, cit = self._commitment_cache, self.citizens
        if cached is not None and cached.share is cit.share and cached.commitment is cit.commitment:
            return cached
        return None

    def fused_commitment_kept(self) -> float | None:
        """The ``citizen_commitment_kept`` metric as the fused decide kernel took it (numpy's mean, the same bits).

        None where it cannot be read from there (see :meth:`_fused_commitments`); the metric is
        then computed with numpy (``sim.metrics.collect_metrics``).
        """
        fused = self._fused_commitments()
        return fused.kept_mean if fused is not None else None

    def any_commitment(self) -> bool:
        """Whether any citizen has a commitment in force."""
        fused = self._fused_commitments()
        return bool(fused.committed.any()) if fused is not None else not np.isnan(self.citizens.commitment).all()

    def _citizen_commitment_kept_by_community(self) -> FloatArray:
        cit, comm = self.citizens, self.communities_state
        fused = self._fused_commitments()
        if fused is not None:  # the same sums over the same counts, divided by the decide kernel (read-only)
            return fused.kept
        if np.isnan(cit.commitment).all():  # no commitments in force: every community 0/0
            return np.full(comm.size.shape[0], np.nan)
        met = negotiation.commitment_met(cit.share, cit.commitment)
        committed = ~np.isnan(met)
        n = np.bincount(cit.community, weights=committed, minlength=comm.size.shape[0])
        kept = np.bincount(cit.community, weights=np.nan_to_num(met), minlength=comm.size.shape[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            return kept / n

    @property
    def citizen_agents(self) -> mesa.agent.AgentSet:
        """Mesa Citizen agents, one per row of the citizen arrays (created on first use).

        Each is a view of its row (the state stays in ``self.citizens``); its ``unique_id`` is
        ``citizen_id_base + row``, reserved by the constructor. Once made they are registered
        with the model like any Mesa agent (``model.agents``, ``model.agents_by_type[Citizen]``).
        """
        if self._citizen_agents is None:
            after, self.agent_id_counter = self.agent_id_counter, self.citizen_id_base
            agents = [Citizen(self, i) for i in range(self.citizens.n)]
            self.agent_id_counter = after
            self._citizen_agents = mesa.agent.AgentSet(agents, random=self.random)
        return self._citizen_agents

    # Mesa's ways to find agents include the citizens, made on first use (sweeps never make them).
    @property
    def agents(self) -> Any:
        """All agents: communities, services and (made now if not yet) citizens."""
        self.citizen_agents  # noqa: B018 - makes and registers them once
        return super().agents

    @property
    def agents_by_type(self) -> Any:
        """Agents by class: ``Community``, ``Service`` and ``Citizen`` (made now if not yet)."""
        self.citizen_agents  # noqa: B018
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """The agent classes: ``Community``, ``Service`` and ``Citizen``."""
        self.citizen_agents  # noqa: B018
        return super().agent_types

    def timeseries(self) -> Any:
        """The metrics so far as a pandas DataFrame, one row per month."""
        return self.recorder.to_frame()

    def detail_tables(self) -> dict[str, Any]:
        """The run's detail tables (``sim.details``): indicator histogram, services, communities."""
        return self.details.tables(self)


def warm_fused_kernels(kernel_threads: int = 1) -> None:
    """Compile the fused driver's kernels now, or load them from the on-disk cache (``sim.kernels``).

    A pool's first worker calls this before the others warm up (``sim.sweep.worker.start_worker``),
    so that the first compile (several seconds) happens once and every other worker loads the
    cached code instead; ``sim.runner.execute`` calls it in its parent.
    The month runs under a preset whose forums meet, so that their round's kernels are made too
    (every forum is due in its first month). With ``kernel_threads`` other than 1 (and more than
    one thread to run on), a second month runs the threaded twins, cut into two ranges.
    """
    base = SimConfig()
    cfg = dataclasses.replace(
        base,
        driver="fused",
        burn_in=0,
        steps=1,
        population=dataclasses.replace(base.population, n_citizens=16, n_communities=2),
        regime=dataclasses.replace(base.regime, name="negotiated"),
    )
    SocialProductivityModel(cfg).step()
    from sim import kernels

    # The standard normals' second pass runs only when a number's words ran out, and PCG64's
    # fill only from sim.pcg64.FAST_FROM numbers on (not at sixteen citizens): load them anyway.
    kernels.normals_from_words(np.zeros(1, dtype=np.uint64), np.empty(1), 0)
    kernels.pcg64_fill(np.empty(0), np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0), False)

    threads = kernels.thread_count(kernel_threads)
    if threads > 1:
        model = SocialProductivityModel(dataclasses.replace(cfg, kernel_threads=threads))
        # Sixteen citizens are far too few for a range of their own (MIN_RANGE): cut them anyway.
        model.citizen_ranges = kernels.community_bounds(model.citizens.community, 2)
        model.step()

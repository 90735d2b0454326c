"""Background runs of proposals: a shared process pool, bounded, with progress and cancellation.

The page never runs a proposal itself: :func:`submit` hands it to a coordinator thread, which
spreads its runs over one process pool shared by every browser session (``SIM_APP_WORKERS``
processes, 2 by default) and counts the runs done; the page polls :class:`Job` from its own
thread. At most :data:`MAX_ACTIVE_JOBS` proposals run or wait at once across the whole server,
so that no number of requests can pile up work; a further request gets :class:`Busy`. Results
are stored in the cache folder (:mod:`sim.app.cache`), so that the same proposal is run once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import logging
import math
import os
import signal
import statistics
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, Literal

import numpy as np

from sim.app import cache
from sim.app.proposal import (
    Impact,
    Proposal,
    ProposalError,
    analyse,
    configs_to_compose,
    run_one,
    run_tasks,
    validate_proposal,
)
from sim.signals import sigint_ignored

MAX_ACTIVE_JOBS = 2
DRAW_TIMEOUT = 120.0  # seconds a chart may take in the drawing process before it is drawn here instead
log = logging.getLogger("sim.app")


class Busy(RuntimeError):
    """The server is already running as many proposals as it allows."""


def _workers() -> int:
    raw = os.environ.get("SIM_APP_WORKERS", "")
    try:
        n = int(raw) if raw else min(2, os.cpu_count() or 1)
    except ValueError:
        n = 2
    return max(1, min(n, 8))


def _watch_parent(parent: int) -> None:
    """End this worker within a second of its server's death, however the server died (even SIGKILL)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _worker_init(server: int | None = None) -> None:
    """Set up a pool worker: the server, not a signal, decides when it stops.

    Ctrl+C in a terminal sends SIGINT to the whole process group, workers included; each would
    print a KeyboardInterrupt traceback. They ignore it, and the server ends them in
    :meth:`JobManager.shutdown`. If the server is killed outright, a watcher thread ends the
    worker (``prctl(PR_SET_PDEATHSIG)`` would not do: it follows the thread that started the
    worker, and the pool starts workers from short-lived threads). The server's pid is passed in,
    not read here: a worker still starting when the server dies would otherwise take its new
    parent (init) for the server and never end.

    Args:
        server: the server's pid (default: this worker's parent now).

    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid() if server is None else server
    if os.getppid() != parent:
        os._exit(0)  # the server died while this worker started
    threading.Thread(target=_watch_parent, args=(parent,), name="sim-app-parent-watch", daemon=True).start()


def _draw(chart: Callable[[Impact], bytes], impact: Impact) -> bytes:
    """Draw one chart in the drawing process."""
    return chart(impact)


def _timed_run(task: Any) -> tuple[dict[str, Any], float]:
    """Run one task in a worker: its result and the seconds it took there (what :class:`Throughput` learns from)."""
    start = time.perf_counter()
    result = run_one(task)
    return result, time.perf_counter() - start


def _months_run(p: Proposal) -> int:
    """Months one run simulates: the settling-in period and the recorded months."""
    from sim.config import SimConfig

    return int(SimConfig().burn_in) + p.steps


def makespan(seconds: list[float], workers: int) -> float:
    """Wall time of runs taking ``seconds``, handed in order to whichever of ``workers`` is free first."""
    free = [0.0] * max(1, workers)
    for s in seconds:
        heapq.heapreplace(free, free[0] + s)
    return max(free)


# Runs that time the pool at start-up. Their sizes span the population a proposal may have: a
# month's cost grows more slowly than the population (each community's services cost the same
# whatever its size), so it is measured at each size and interpolated between them, never
# extrapolated from small runs. The smallest size is run at two lengths, which separates a run's
# fixed cost (building the model, collecting its results) from its cost per month.
CALIBRATION: tuple[Proposal, ...] = (
    Proposal(n_citizens=100, n_communities=5, steps=12, replications=1),
    Proposal(n_citizens=100, n_communities=5, steps=60, replications=1),
    Proposal(n_citizens=2000, n_communities=20, steps=12, replications=1),
    Proposal(n_citizens=10_000, n_communities=100, steps=12, replications=1),
    Proposal(n_citizens=20_000, n_communities=100, steps=12, replications=1),
)
RECENT_RUNS = 8  # runs whose measured speed sets the current speed (the machine's load now)
RECENT_JOBS = 5  # comparisons whose costs besides their runs, and whose errors, are remembered


@dataclass(frozen=True)
class RunModel:
    """Seconds one run takes in a worker: ``fixed + months * per_month(citizens)``.

    ``per_month`` is measured at a few population sizes (``sizes``) and interpolated linearly
    between them (held flat beyond them).
    """

    fixed: float
    sizes: tuple[int, ...]
    per_month: tuple[float, ...]

    def seconds(self, citizens: int, months: int) -> float:
        """Seconds of one run of ``citizens`` over ``months`` (settling-in period included)."""
        return self.fixed + months * float(np.interp(citizens, self.sizes, self.per_month))

    @classmethod
    def fit(cls, timings: list[tuple[int, int, float]]) -> RunModel:
        """Least squares (non-negative) of measured runs: ``(citizens, months, seconds)`` each.

        One cost per month for each size measured, and one fixed cost shared by all, which needs
        some size to be measured at two lengths.

        Raises:
            ValueError: no size was measured at two lengths.

        """
        from scipy.optimize import nnls  # here: the server's start-up does not need scipy

        sizes = sorted({n for n, _, _ in timings})
        if not any(len({m for n, m, _ in timings if n == size}) > 1 for size in sizes):
            raise ValueError("the fixed cost of a run needs one population size measured at two lengths")
        design = np.zeros((len(timings), 1 + len(sizes)))
        design[:, 0] = 1.0
        for row, (n, m, _) in enumerate(timings):
            design[row, 1 + sizes.index(n)] = m
        coef, _ = nnls(design, np.array([s for _, _, s in timings], dtype=float))
        return cls(float(coef[0]), tuple(sizes), tuple(float(c) for c in coef[1:]))


class Throughput:
    """This server's measured speed, for honest time estimates.

    Pressing Run to seeing the answer costs, in order:

    - ``compose``: composing each arm's config not composed before (Hydra), in the server;
    - the runs, spread over the workers (:func:`makespan`), each taking
      ``speed * model.seconds(citizens, months)``: :class:`RunModel` is fitted at start-up from
      the :data:`CALIBRATION` runs, timed in the workers; ``speed`` is the median ratio of the last
      :data:`RECENT_RUNS` runs' measured seconds to the model's, so the machine's load now counts;
    - ``dispatch``: handing the runs to the workers and collecting them, besides their own seconds;
    - ``finish``: analysing the runs and saving them to the cache;
    - ``draw``: the page showing the answer (measured by the page: :meth:`record_draw`).

    Each is measured, in the workers or around each finished comparison (the median of the last
    :data:`RECENT_JOBS`), never assumed. The estimate is shown as a range: the spread of the last
    comparisons' real times around their estimates (at least :data:`MIN_SPREAD` either way).
    """

    MIN_SPREAD = 1.2

    def __init__(self) -> None:
        self.model: RunModel | None = None
        self.compose = 0.0
        self.draw = 0.0
        self.draw_measured = False
        self._run_ratios: deque[float] = deque(maxlen=RECENT_RUNS)
        self._compose: deque[float] = deque(maxlen=RECENT_JOBS)
        self._dispatch: deque[float] = deque(maxlen=RECENT_JOBS)
        self._finish: deque[float] = deque(maxlen=RECENT_JOBS)
        self._errors: deque[float] = deque(maxlen=RECENT_JOBS)
        self._lock = threading.Lock()

    @property
    def measured(self) -> bool:
        """Whether the calibration has run, so that estimates come from this machine's speed."""
        return self.model is not None

    @property
    def drawing_known(self) -> bool:
        """Whether estimates count drawing: a page has reported an answer on screen, or measured a redraw of its own."""
        with self._lock:
            return self.draw_measured or self.draw > 0

    @property
    def speed(self) -> float:
        """The last runs' measured seconds against the model's (1 until a run has been measured)."""
        with self._lock:
            return statistics.median(self._run_ratios) if self._run_ratios else 1.0

    @property
    def dispatch(self) -> float:
        """Seconds a comparison spends handing out and collecting its runs, besides the runs."""
        with self._lock:
            return statistics.median(self._dispatch) if self._dispatch else 0.0

    @property
    def finish(self) -> float:
        """Seconds a comparison spends analysing and saving its runs."""
        with self._lock:
            return statistics.median(self._finish) if self._finish else 0.0

    def record_calibration(self, timings: list[tuple[int, int, float]]) -> None:
        """Fit the cost of a run from measured runs: ``(citizens, months, seconds)`` each (see :meth:`RunModel.fit`)."""
        model = RunModel.fit(timings)
        with self._lock:
            self.model = model
            self._run_ratios.clear()

    def record_compose(self, seconds: float, configs: int) -> None:
        """Remember that composing ``configs`` arm configs took ``seconds``."""
        if configs > 0:
            with self._lock:
                self._compose.append(seconds / configs)
                self.compose = statistics.median(self._compose)

    def record_runs(self, p: Proposal, seconds: list[float]) -> None:
        """Set the current speed from runs of ``p`` that took ``seconds`` each in their workers."""
        if self.model is None:
            return
        expected = self.model.seconds(p.n_citizens, _months_run(p))
        if expected > 0:
            with self._lock:
                self._run_ratios.extend(s / expected for s in seconds if s > 0)

    def runs_seconds(self, p: Proposal, workers: int) -> float | None:
        """Seconds the runs of ``p`` take on ``workers`` free workers at the current speed; None before calibration."""
        if self.model is None:
            return None
        one = self.speed * self.model.seconds(p.n_citizens, _months_run(p))
        return makespan([one] * p.n_runs, workers)

    def job_seconds(self, p: Proposal, workers: int, to_compose: int = 0) -> float | None:
        """Seconds from submitting ``p`` to its result in the server; None before calibration."""
        runs = self.runs_seconds(p, workers)
        return None if runs is None else self.compose * to_compose + runs + self.dispatch + self.finish

    def estimate(self, p: Proposal, workers: int, to_compose: int = 0) -> float | None:
        """Seconds from pressing Run to seeing the results; None before calibration."""
        job = self.job_seconds(p, workers, to_compose)
        return None if job is None else job + self.draw

    def estimate_range(self, p: Proposal, workers: int, to_compose: int = 0) -> tuple[float, float, float] | None:
        """(low, estimate, high) seconds: the spread of the last comparisons' errors; None before calibration."""
        mid = self.estimate(p, workers, to_compose)
        if mid is None:
            return None
        with self._lock:
            errors = list(self._errors)
        low = min([1 / self.MIN_SPREAD, *errors])
        high = max([self.MIN_SPREAD, *errors])
        return mid * low, mid, mid * high

    def record_job(
        self,
        p: Proposal,
        workers: int,
        seconds: float,
        run_seconds: list[float],
        prepare: float,
        finish: float,
        estimate: float | None,
    ) -> None:
        """Learn from a comparison that ran alone on the pool.

        Args:
            p: what was run.
            workers: the pool's workers.
            seconds: its wall time, from submission to result.
            run_seconds: each run's seconds in its worker, in the order they were handed out.
            prepare: seconds spent composing configs before the runs.
            finish: seconds spent analysing and saving after the runs.
            estimate: :meth:`job_seconds` for it at submission (None if not calibrated then).

        """
        dispatch = max(0.0, seconds - prepare - finish - makespan(run_seconds, workers))
        with self._lock:
            self._dispatch.append(dispatch)
            self._finish.append(finish)
            if estimate is not None and estimate > 0:
                self._errors.append(seconds / estimate)

    def forget_jobs(self, costs: bool = True) -> None:
        """Forget the last comparisons' errors and, if ``costs``, what they cost besides their runs.

        The start-up comparisons call it: the first imports the analysis (a one-off cost), and the
        estimates of both were made before their costs were known.
        """
        with self._lock:
            if costs:
                self._dispatch.clear()
                self._finish.clear()
            self._errors.clear()

    def record_draw(self, seconds: float) -> None:
        """Remember how long the page took to show a result after its job (a running average)."""
        with self._lock:
            self.draw = seconds if not self.draw_measured else 0.5 * self.draw + 0.5 * seconds
            self.draw_measured = True

    def record_redraw(self, seconds: float) -> None:
        """A redraw of the page's proposal tab: until a result has been shown, it stands for showing one."""
        with self._lock:
            if not self.draw_measured:
                self.draw = seconds if self.draw == 0 else 0.5 * self.draw + 0.5 * seconds


def _rounded(seconds: float, how: Any) -> tuple[float, str]:
    """``seconds`` rounded by ``how`` (``math.floor``, ``round``, ``math.ceil``) to a step that suits its size.

    Whole seconds below 10 s, 5 s below a minute, then half minutes: (value, unit).
    """
    if seconds < 60:
        step = 1 if seconds < 10 else 5
        value = how(seconds / step) * step
        if value < 60:
            return max(1, int(value)), "seconds"
    return max(1.0, how(seconds / 30) / 2), "minutes"


def estimate_text(low: float, mid: float, high: float) -> str:
    """An estimate and its range in plain words: 'about 5 seconds (4 to 7)', 'about 2 minutes (1.5 to 3)'."""
    m, m_unit = _rounded(mid, round)
    lo, lo_unit = _rounded(min(low, mid), math.floor)
    hi, hi_unit = _rounded(max(high, mid), math.ceil)
    if lo_unit == hi_unit:
        span = f"{lo:g} to {hi:g}" if hi_unit == m_unit else f"{lo:g} to {hi:g} {hi_unit}"
    else:
        span = f"{lo:g} {lo_unit} to {hi:g} {hi_unit}"
    unit = m_unit if m != 1 else m_unit[:-1]
    return f"about {m:g} {unit}" if (lo, lo_unit) == (hi, hi_unit) else f"about {m:g} {unit} ({span})"


def _warm() -> int:
    """A no-op run in a worker: imports the model there, so the first proposal starts at once."""
    import sim.model  # noqa: F401

    return os.getpid()


def _warm_drawer() -> int:
    """Ready the drawing process: import the charts and draw a small figure once (``charts.warm_up``)."""
    from sim.app import charts  # here: the server imports matplotlib only if it must draw itself

    charts.warm_up()
    return os.getpid()


@dataclass
class Job:
    """One proposal being run in the background.

    Attributes:
        proposal: what is run.
        total: runs to do (both arms, every seed).
        done: runs finished so far.
        status: queued, running, done, failed or cancelled.
        message: why it failed (plain words), if it did.
        impact: the result, once done.
        from_cache: the result came from the cache folder.
        seconds: time from submission to result.
        estimate: seconds the server expected from submission to result (None before calibration).

    """

    proposal: Proposal
    total: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    done: int = 0
    status: Literal["queued", "running", "done", "failed", "cancelled"] = "queued"
    message: str = ""
    impact: Impact | None = None
    from_cache: bool = False
    seconds: float = 0.0
    estimate: float | None = None
    finished: threading.Event = field(default_factory=threading.Event, repr=False)
    _futures: list[Future[Any]] = field(default_factory=list, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        """Queued or running."""
        return not self.finished.is_set()

    def cancel(self) -> None:
        """Stop the job: runs not yet started are dropped; running ones finish and are ignored."""
        self._cancel.set()
        for fut in self._futures:
            fut.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job ends; True if it did within ``timeout``."""
        return self.finished.wait(timeout)


def _new_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh processes that stop with their server (see :func:`_worker_init`)."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_worker_init,
        initargs=(os.getpid(),),
    )


class JobManager:
    """The server's process pool, its bounded set of active jobs, and the process that draws the charts.

    The charts (matplotlib) are drawn in a process of their own, not in the server: drawing the four
    charts of an answer takes seconds of Python, and in the server's threads it held the interpreter
    lock while the page was being built and sent, which delayed the answer on screen by as much.
    """

    def __init__(self, workers: int | None = None, max_active: int = MAX_ACTIVE_JOBS) -> None:
        self.workers = workers or _workers()
        self.max_active = max_active
        self._pool: ProcessPoolExecutor | None = None
        self._drawer: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._active: dict[str, Job] = {}
        self.throughput = Throughput()
        self.calibrated = threading.Event()  # set once :meth:`calibrate` has ended, measured or not
        self._stopping = threading.Event()  # set by :meth:`shutdown`: what fails after it is not an error

    def pool(self) -> ProcessPoolExecutor:
        """The shared pool, (re)created on demand until :meth:`shutdown`.

        Raises:
            RuntimeError: after :meth:`shutdown` (a start-up thread must not start workers again).

        """
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("the proposal explorer is shutting down")
            if self._pool is None:
                self._pool = _new_pool(self.workers)
            return self._pool

    def drawer(self) -> ProcessPoolExecutor:
        """The one process that draws the page's charts, (re)created on demand until :meth:`shutdown`.

        Raises:
            RuntimeError: after :meth:`shutdown`.

        """
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("the proposal explorer is shutting down")
            if self._drawer is None:
                self._drawer = _new_pool(1)
            return self._drawer

    def draw(self, chart: Callable[[Impact], bytes], impact: Impact) -> bytes:
        """Draw one of the page's charts (a function of :mod:`sim.app.charts`) in the drawing process.

        A drawing process that died is replaced once; if drawing there fails otherwise, the chart is
        drawn here (slower for the page, never missing).
        """
        bare = dataclasses.replace(impact, runs=[])  # the charts never read the raw runs: less to send
        for attempt in (1, 2):
            drawer = None
            try:
                drawer = self.drawer()
                return drawer.submit(_draw, chart, bare).result(timeout=DRAW_TIMEOUT)
            except BrokenProcessPool:
                self._discard_drawer(drawer)
                if attempt == 2:
                    log.warning("the drawing process failed twice: drawing %s in the server", chart.__name__)
            except Exception as exc:
                if not self._stopping.is_set():
                    log.warning("drawing %s in the server: the drawing process failed (%s)", chart.__name__, exc)
                break
        return chart(impact)

    def warm_up(self) -> list[Future[int]]:
        """Start the workers and the drawing process now; they import the model and matplotlib in the background.

        Called from the main thread (as the server does), they start with SIGINT ignored. Once they
        are ready, :meth:`calibrate` measures the workers' speed.

        Returns:
            The workers' warm-up runs.

        """
        try:
            with sigint_ignored():
                pool = self.pool()
                futures = [pool.submit(_warm) for _ in range(self.workers)]
                drawing = self.drawer().submit(_warm_drawer)
        except Exception as exc:  # a warm-up failure is not fatal: the next job starts a new pool
            log.warning("worker warm-up failed: %s", exc)
            self._discard_pool()
            self._discard_drawer()
            return []

        def go() -> None:
            try:
                # The drawing process imports matplotlib now, before the calibration times the workers.
                drawing.result(timeout=120)
            except Exception as exc:  # not fatal: a chart is drawn in the server if the process fails
                if not self._stopping.is_set():
                    log.warning("the drawing process did not start: %s", exc)
                self._discard_drawer()
            try:
                for fut in futures:
                    fut.result(timeout=120)
            except Exception as exc:
                log.warning("worker warm-up failed: %s", exc)
                self._discard_pool(pool)
                return
            self.calibrate()

        threading.Thread(target=go, name="sim-app-warmup", daemon=True).start()
        return futures

    def calibrate(self) -> None:
        """Measure this server's speed for :attr:`throughput` (never raises; a failure is logged).

        After an untimed first run, each :data:`CALIBRATION` run is run on every worker at once (as
        a job uses them) and timed there, which fits the cost of a run (:class:`RunModel`); composing
        their configs times composing. Then one small comparison runs end to end twice, as a user's would, for what a
        comparison costs besides its runs: the first imports the analysis (a one-off, forgotten),
        the second is measured. The time the page takes to show a result is measured by the page.
        """
        t = self.throughput
        try:
            pool = self.pool()
            to_compose = sum(configs_to_compose(p) for p in CALIBRATION)
            start = time.perf_counter()
            tasks = [run_tasks(p)[0] for p in CALIBRATION]
            t.record_compose(time.perf_counter() - start, to_compose)
            # A worker's first run pays one-off costs (lazy imports, first allocations): not timed.
            for fut in [pool.submit(_timed_run, tasks[0]) for _ in range(self.workers)]:
                fut.result(timeout=300)
            timings = []
            for p, task in zip(CALIBRATION, tasks, strict=True):
                futures = [pool.submit(_timed_run, task) for _ in range(self.workers)]
                seconds = sorted(f.result(timeout=300)[1] for f in futures)
                timings.append((p.n_citizens, _months_run(p), statistics.median(seconds)))
            t.record_calibration(timings)
            for first in (True, False):
                job = self.submit(CALIBRATION[0], use_cache=False)
                job.wait(300)
                t.forget_jobs(costs=first)
            model = t.model
            assert model is not None
            log.info(
                "speed calibrated: %.2f s a run + %s s a month at %s citizens; %.2f s to compose a config; "
                "%.2f s to dispatch and %.2f s to analyse a comparison; %.2f s to draw",
                model.fixed,
                "/".join(f"{c:.4f}" for c in model.per_month),
                "/".join(f"{n:,}" for n in model.sizes),
                t.compose,
                t.dispatch,
                t.finish,
                t.draw,
            )
        except Exception as exc:
            if self._stopping.is_set():  # stopped mid-way (Ctrl+C at start-up): the stop's own line says it
                log.debug("speed calibration ended by the shutdown: %s", exc)
            else:
                log.warning("speed calibration failed: %s", exc)
        finally:
            self.calibrated.set()

    def estimate(self, p: Proposal) -> float | None:
        """Seconds from pressing Run to the results of ``p`` on this server, or None before calibration."""
        return self.throughput.estimate(p, self.workers, configs_to_compose(p))

    def estimate_range(self, p: Proposal) -> tuple[float, float, float] | None:
        """(low, estimate, high) seconds from pressing Run to the results of ``p``, or None before calibration."""
        return self.throughput.estimate_range(p, self.workers, configs_to_compose(p))

    def _discard_pool(self, broken: ProcessPoolExecutor | None = None) -> None:
        """Forget the pool (if it is still ``broken``, when given) so that the next use starts a new one."""
        self._discard("_pool", broken)

    def _discard_drawer(self, broken: ProcessPoolExecutor | None = None) -> None:
        """Forget the drawing process (if it is still ``broken``, when given): the next chart starts a new one."""
        self._discard("_drawer", broken)

    def _discard(self, attribute: str, broken: ProcessPoolExecutor | None) -> None:
        """Forget the executor held in ``attribute`` (only if it is still ``broken``, when given) and stop it."""
        with self._lock:
            executor: ProcessPoolExecutor | None = getattr(self, attribute)
            if executor is None or (broken is not None and executor is not broken):
                return
            setattr(self, attribute, None)
        executor.shutdown(wait=False, cancel_futures=True)

    def active_jobs(self) -> int:
        """Jobs queued or running now."""
        with self._lock:
            return len(self._active)

    def submit(self, proposal: Proposal, use_cache: bool = True) -> Job:
        """Start running ``proposal`` in the background.

        Raises:
            ProposalError: the proposal is invalid (nothing is run).
            Busy: the server already runs :data:`MAX_ACTIVE_JOBS` proposals.

        """
        validate_proposal(proposal)
        job = Job(proposal, proposal.n_runs)
        job.estimate = self.throughput.job_seconds(proposal, self.workers, configs_to_compose(proposal))
        if use_cache:
            runs = cache.load_runs(proposal)
            if runs is not None:
                job.impact = analyse(proposal, runs)
                job.done, job.status, job.from_cache = job.total, "done", True
                job.finished.set()
                return job
        with self._lock:
            if len(self._active) >= self.max_active:
                raise Busy(
                    f"The server is already running {len(self._active)} proposals, its limit; "
                    "please try again in a minute."
                )
            self._active[job.id] = job
        threading.Thread(target=self._coordinate, args=(job,), name=f"sim-app-job-{job.id}", daemon=True).start()
        return job

    def _coordinate(self, job: Job) -> None:
        start = time.perf_counter()
        try:
            to_compose = configs_to_compose(job.proposal)
            tasks = run_tasks(job.proposal)
            prepared = time.perf_counter()
            self.throughput.record_compose(prepared - start, to_compose)
            if job._cancel.is_set():
                job.status = "cancelled"
                return
            job.status = "running"
            timed: list[tuple[dict[str, Any], float]] | None = None
            for attempt in (1, 2):  # a pool broken earlier (a killed worker) is replaced once
                pool = self.pool()
                try:
                    timed = self._run_on(pool, job, tasks)
                    break
                except BrokenProcessPool:
                    self._discard_pool(pool)
                    job.done = 0
                    if attempt == 2:
                        raise
            if timed is None:
                job.status = "cancelled"
                return
            run_seconds = [s for _, s in timed]
            self.throughput.record_runs(job.proposal, run_seconds)
            finishing = time.perf_counter()
            runs = [r for r, _ in timed]
            job.impact = analyse(job.proposal, runs)
            cache.save_runs(job.proposal, runs)
            job.status = "done"
            end = time.perf_counter()
            if self.active_jobs() == 1 and self.throughput.measured:  # alone on the pool: a fair measure
                self.throughput.record_job(
                    job.proposal,
                    self.workers,
                    end - start,
                    run_seconds,
                    prepared - start,
                    end - finishing,
                    job.estimate,
                )
        except ProposalError as exc:
            job.status, job.message = "failed", " ".join(exc.messages)
        except BrokenProcessPool:
            job.status, job.message = "failed", "A worker process stopped unexpectedly; please run the proposal again."
        except Exception as exc:
            if self._stopping.is_set():  # the server is stopping (pool() refused): the job ends with it
                job.status = "cancelled"
                return
            log.exception("proposal job %s failed", job.id)
            if job._cancel.is_set():
                job.status = "cancelled"
            else:
                job.status, job.message = "failed", f"The runs failed: {type(exc).__name__}: {str(exc)[:300]}"
        finally:
            job.seconds = time.perf_counter() - start
            with self._lock:
                self._active.pop(job.id, None)
            job.finished.set()

    @staticmethod
    def _run_on(pool: ProcessPoolExecutor, job: Job, tasks: list[Any]) -> list[tuple[dict[str, Any], float]] | None:
        """Run ``tasks`` on ``pool`` in order, counting them in ``job.done``.

        Returns:
            Each run's result with its seconds in its worker; None if the job is cancelled.

        """
        job._futures = [pool.submit(_timed_run, t) for t in tasks]
        if job._cancel.is_set():
            job.cancel()
        timed = []
        for fut in job._futures:
            while not job._cancel.is_set():
                try:
                    timed.append(fut.result(timeout=0.2))
                    break
                except TimeoutError:
                    continue
            if job._cancel.is_set():
                return None
            job.done += 1
        return timed

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel every job and end the pool's worker processes, running or not, within ``timeout`` seconds.

        A plain ``pool.shutdown`` would let a worker finish the run it is on (up to a minute), and
        the server's exit would wait for it or leave it behind.
        """
        self._stopping.set()
        with self._lock:
            jobs = list(self._active.values())
            pools = [p for p in (self._pool, self._drawer) if p is not None]
            self._pool = self._drawer = None
        for job in jobs:
            job.cancel()
        processes = []
        for pool in pools:
            # A pool has no public way to reach its processes; ``_processes`` is stable since Python 3.2.
            processes += list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.join(max(0.1, deadline - time.monotonic()))
                if proc.is_alive():
                    proc.kill()
                    proc.join(1.0)


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def manager() -> JobManager:
    """The server's one job manager."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = JobManager()
        return _MANAGER


def submit(proposal: Proposal, use_cache: bool = True) -> Job:
    """Run ``proposal`` in the background on the server's pool (see :meth:`JobManager.submit`)."""
    return manager().submit(proposal, use_cache)

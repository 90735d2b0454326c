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
import logging
import math
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, Literal

from sim.app import cache
from sim.app.proposal import Impact, Proposal, ProposalError, analyse, run_one, run_tasks, validate_proposal

MAX_ACTIVE_JOBS = 2
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


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while workers are started from the main thread, so that they start ignoring it.

    A worker inherits an ignored SIGINT through exec, and Python then leaves it ignored; without
    this, Ctrl+C in the seconds a worker spends importing the model gives a traceback per worker.
    Signal handlers can only be changed in the main thread: elsewhere this does nothing, and
    :func:`_worker_init` covers the worker once it has started.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _timed_run(task: Any) -> float:
    """Run one task in a worker and return its seconds: the start-up calibration of :class:`Throughput`."""
    start = time.perf_counter()
    run_one(task)
    return time.perf_counter() - start


def _months_run(p: Proposal) -> int:
    """Months one run simulates: the settling-in period and the recorded months."""
    from sim.config import SimConfig

    return int(SimConfig().burn_in) + p.steps


# Two small proposals whose runs time the pool at start-up: their difference in size separates
# the fixed cost of a run (composing its config, building the model) from the cost per citizen-month.
CALIBRATION: tuple[Proposal, Proposal] = (
    Proposal(n_citizens=100, n_communities=5, steps=12, replications=1),
    Proposal(n_citizens=1000, n_communities=10, steps=12, replications=1),
)


class Throughput:
    """This server's measured speed, for honest time estimates.

    A run takes about ``fixed + per_unit * citizens * months`` seconds in one worker; both are
    fitted from two calibration runs at start-up (:meth:`JobManager.calibrate`), which then runs
    one small comparison end to end to measure what a comparison costs besides its runs
    (``overhead``: composing the configs, analysing). The page measures how long it takes to show
    a result (``draw``, :meth:`record_draw`), and until it has shown one, how long it takes to
    redraw (:meth:`record_redraw`), which showing a result does. Each finished job then rescales the runs' part by how
    long it really took against its estimate (a running average), so that the machine's load at the
    time is taken into account.
    """

    def __init__(self) -> None:
        self.fixed: float | None = None
        self.per_unit: float | None = None
        self.overhead = 0.0
        self.draw = 0.0
        self.draw_measured = False
        self.scale = 1.0
        self._lock = threading.Lock()

    @property
    def measured(self) -> bool:
        """Whether the calibration has run, so that estimates come from this machine's speed."""
        return self.per_unit is not None

    def record_calibration(self, small: tuple[int, float], large: tuple[int, float]) -> None:
        """Fit the fixed and per-unit costs from two runs: (citizen-months, seconds) each."""
        (u1, t1), (u2, t2) = small, large
        per_unit = max(0.0, (t2 - t1) / max(u2 - u1, 1))
        with self._lock:
            self.per_unit = per_unit
            self.fixed = max(0.0, t1 - per_unit * u1)

    def runs_seconds(self, p: Proposal, workers: int) -> float | None:
        """Seconds the runs of ``p`` take on ``workers`` free workers, unscaled; None before calibration."""
        if self.per_unit is None or self.fixed is None:
            return None
        waves = math.ceil(p.n_runs / max(workers, 1))
        return waves * (self.fixed + self.per_unit * p.n_citizens * _months_run(p))

    def estimate(self, p: Proposal, workers: int) -> float | None:
        """Seconds from pressing Run to seeing the results; None before calibration."""
        runs = self.runs_seconds(p, workers)
        return None if runs is None else self.scale * runs + self.overhead + self.draw

    def record_overhead(self, p: Proposal, workers: int, seconds: float) -> None:
        """Set the cost of a comparison besides its runs, from a whole job of ``p`` that took ``seconds``."""
        runs = self.runs_seconds(p, workers)
        if runs is not None:
            with self._lock:
                self.overhead = max(0.0, seconds - runs)

    def record_job(self, p: Proposal, workers: int, seconds: float) -> None:
        """Rescale the runs' part by a finished job's real time against its estimate (a running average)."""
        runs = self.runs_seconds(p, workers)
        if runs is None or runs <= 0 or seconds <= 0:
            return
        with self._lock:
            ratio = max(0.1, (seconds - self.overhead) / runs)
            self.scale = 0.5 * self.scale + 0.5 * ratio

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


def _warm() -> int:
    """A no-op run in a worker: imports the model there, so the first proposal starts at once."""
    import sim.model  # noqa: F401

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


class JobManager:
    """The server's process pool and its bounded set of active jobs."""

    def __init__(self, workers: int | None = None, max_active: int = MAX_ACTIVE_JOBS) -> None:
        self.workers = workers or _workers()
        self.max_active = max_active
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._active: dict[str, Job] = {}
        self.throughput = Throughput()

    def pool(self) -> ProcessPoolExecutor:
        """The shared pool, (re)created on demand."""
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=get_context("spawn"),
                    initializer=_worker_init,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def warm_up(self) -> list[Future[int]]:
        """Start the workers now, and let them import the model in the background; return their warm-up runs.

        Called from the main thread (as the server does), the workers start with SIGINT ignored.
        """
        try:
            with _sigint_ignored():
                pool = self.pool()
                futures = [pool.submit(_warm) for _ in range(self.workers)]
        except Exception as exc:  # a warm-up failure is not fatal: the next job starts a new pool
            log.warning("worker warm-up failed: %s", exc)
            self._discard_pool()
            return []

        def go() -> None:
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

        Two small runs on every worker at once (as a job uses them) fit the cost of a run; then one
        small comparison runs end to end, as a user's would, to measure what a comparison costs
        besides its runs. The time the page takes to show a result is measured by the page.
        """
        t = self.throughput
        try:
            pool = self.pool()
            timed = []
            for p in CALIBRATION:
                task = run_tasks(p)[0]
                futures = [pool.submit(_timed_run, task) for _ in range(self.workers)]
                seconds = sorted(f.result(timeout=300) for f in futures)
                timed.append((p.n_citizens * _months_run(p), seconds[len(seconds) // 2]))
            t.record_calibration(timed[0], timed[1])
            job = self.submit(CALIBRATION[0], use_cache=False)
            if job.wait(300) and job.impact is not None:
                t.record_overhead(job.proposal, self.workers, job.seconds)
                t.scale = 1.0  # the job rescaled the runs before its overhead was known: start afresh
            log.info(
                "speed calibrated: %.2f s a run + %.2e s a citizen-month; %.1f s a comparison; %.1f s to draw",
                t.fixed,
                t.per_unit,
                t.overhead,
                t.draw,
            )
        except Exception as exc:
            log.warning("speed calibration failed: %s", exc)

    def estimate(self, p: Proposal) -> float | None:
        """Seconds from pressing Run to the results of ``p`` on this server, or None before calibration."""
        return self.throughput.estimate(p, self.workers)

    def _discard_pool(self, broken: ProcessPoolExecutor | None = None) -> None:
        """Forget the pool (if it is still ``broken``, when given) so that the next use starts a new one."""
        with self._lock:
            pool = self._pool
            if pool is not None and (broken is None or pool is broken):
                self._pool = None
        if pool is not None and (broken is None or pool is broken):
            pool.shutdown(wait=False, cancel_futures=True)

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
            tasks = run_tasks(job.proposal)
            if job._cancel.is_set():
                job.status = "cancelled"
                return
            job.status = "running"
            runs: list[dict[str, Any]] | None = None
            for attempt in (1, 2):  # a pool broken earlier (a killed worker) is replaced once
                pool = self.pool()
                try:
                    runs = self._run_on(pool, job, tasks)
                    break
                except BrokenProcessPool:
                    self._discard_pool(pool)
                    job.done = 0
                    if attempt == 2:
                        raise
            if runs is None:
                job.status = "cancelled"
                return
            job.impact = analyse(job.proposal, runs)
            cache.save_runs(job.proposal, runs)
            job.status = "done"
            if self.active_jobs() == 1 and self.throughput.measured:  # alone on the pool: a fair measure
                self.throughput.record_job(job.proposal, self.workers, time.perf_counter() - start)
        except ProposalError as exc:
            job.status, job.message = "failed", " ".join(exc.messages)
        except BrokenProcessPool:
            job.status, job.message = "failed", "A worker process stopped unexpectedly; please run the proposal again."
        except Exception as exc:
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
    def _run_on(pool: ProcessPoolExecutor, job: Job, tasks: list[Any]) -> list[dict[str, Any]] | None:
        """Run ``tasks`` on ``pool`` in order, counting them in ``job.done``; None if the job is cancelled."""
        job._futures = [pool.submit(run_one, t) for t in tasks]
        if job._cancel.is_set():
            job.cancel()
        runs = []
        for fut in job._futures:
            while not job._cancel.is_set():
                try:
                    runs.append(fut.result(timeout=0.2))
                    break
                except TimeoutError:
                    continue
            if job._cancel.is_set():
                return None
            job.done += 1
        return runs

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel every job and end the pool's worker processes, running or not, within ``timeout`` seconds.

        A plain ``pool.shutdown`` would let a worker finish the run it is on (up to a minute), and
        the server's exit would wait for it or leave it behind.
        """
        with self._lock:
            jobs = list(self._active.values())
            pool, self._pool = self._pool, None
        for job in jobs:
            job.cancel()
        if pool is None:
            return
        # The pool has no public way to reach its processes; ``_processes`` is stable since Python 3.2.
        processes = list((getattr(pool, "_processes", None) or {}).values())
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

"""Where runs execute: in this process, on a pool of worker processes, or on a dask cluster.

Each backend takes an iterator of :class:`~sim.sweep.worker.RunTask` and yields a
:class:`~sim.sweep.worker.RunOutcome` per task as runs finish (in completion order). Tasks are
submitted through a bounded window, so the driver never holds more than a few configs at once,
however large the sweep. Workers are reused across runs: start-up (imports, a warm-up run) is
paid once per worker, and the command line starts the pool early (:func:`prestart`), while it
plans the sweep.

A backend never raises for a failing run: the worker records the run's traceback and config and
reports it; a worker that dies (killed, out of memory) is reported as a failure of the runs it
held, and the sweep goes on.
"""

from __future__ import annotations

import atexit
import itertools
import os
import sys
import traceback
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from sim.config import ConfigError
from sim.signals import sigint_ignored, sigint_kept
from sim.sweep.store import is_storage_error
from sim.sweep.worker import RunOutcome, RunTask, failure_record, run_task, start_worker, storage_outcome

DASK_KEYS = ("address", "cluster", "cluster_kwargs", "scale", "adapt", "gather", "host", "dashboard_address", "window")


def _died(task: RunTask, exc: BaseException, what: str) -> RunOutcome:
    if is_storage_error(exc):
        return storage_outcome(task, exc, 0.0)
    tb = "".join(traceback.format_exception(exc))
    record = failure_record(task, f"{what}: {type(exc).__name__}: {exc}", tb)
    return RunOutcome(task.key, False, 0.0, error=record["error"], record=record)


def run_serial(tasks: Iterator[RunTask]) -> Iterator[RunOutcome]:
    """Run every task in this process, one after another."""
    for task in tasks:
        yield run_task(task)


def cpu_workers(workers: int) -> int:
    """Workers to start: the number asked for, or one per core."""
    return workers or os.cpu_count() or 1


class WorkerPool:
    """Spawned worker processes for :func:`run_processes`, which may be started before the sweep is planned.

    The first worker to start warms up at once: it compiles the fused kernels on a first run, or
    loads them from the on-disk cache (``sim.model.warm_fused_kernels``). The others import the
    model meanwhile and wait for it before they warm up, so that they only load the kernels and
    no two processes compile them. The driver never imports numba for it. The command line
    starts the pool (:func:`prestart`) as soon as an experiment is known to be valid, so that the
    workers' start-up overlaps the composing and planning of its arms.
    """

    def __init__(self, workers: int = 0, kernel_threads: int = 1) -> None:
        self.workers = cpu_workers(workers)
        self.kernel_threads = kernel_threads
        self._context = get_context("spawn")
        self.executor = self._executor()
        for _ in range(self.workers):  # a process is spawned per submission until the pool is full
            self.executor.submit(os.getpid)

    def _executor(self) -> ProcessPoolExecutor:
        # A fresh token and event per executor: a first worker that died while it compiled
        # (breaking its pool) must not leave the next pool's workers waiting for it.
        first, ready = self._context.Lock(), self._context.Event()
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=start_worker,
            initargs=(os.getpid(), self.kernel_threads, first, ready),
        )

    def renew(self) -> None:
        """Replace the executor after a worker died (a broken pool takes no more tasks)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._executor()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the workers (after their current runs, if ``wait``); queued runs are cancelled."""
        self.executor.shutdown(wait=wait, cancel_futures=True)


_prestarted: WorkerPool | None = None


def prestart(workers: int = 0, kernel_threads: int = 1) -> None:
    """Start the process pool of the next :func:`run_processes` call now (see :class:`WorkerPool`).

    A pool that no sweep takes is stopped when this process exits.
    """
    global _prestarted
    if _prestarted is None:
        _prestarted = WorkerPool(workers, kernel_threads)
        atexit.register(_discard_prestarted)


def _discard_prestarted() -> None:
    global _prestarted
    if _prestarted is not None:
        _prestarted.shutdown(wait=False)
        _prestarted = None


def _take_pool(workers: int, kernel_threads: int) -> WorkerPool:
    """The prestarted pool if it has the workers and kernel threads asked for, else a new one."""
    global _prestarted
    pool, _prestarted = _prestarted, None
    if pool is not None and pool.workers == cpu_workers(workers) and pool.kernel_threads == kernel_threads:
        return pool
    if pool is not None:
        pool.shutdown(wait=False)
    return WorkerPool(workers, kernel_threads)


def run_processes(tasks: Iterator[RunTask], workers: int = 0) -> Iterator[RunOutcome]:
    """Run tasks on a pool of worker processes (spawned, reused across runs).

    The pool is the one :func:`prestart` started, if any, else a new :class:`WorkerPool`.
    The workers die with this process, however it dies (even SIGKILL, as the out-of-memory killer
    sends): see :func:`sim.sweep.worker.die_with_parent`. With them gone, the multiprocessing
    resource tracker (which this process and the workers hold a pipe to) sees its pipe close and
    exits too, so no process of the sweep outlives it.
    """
    it = iter(tasks)
    first = next(it, None)
    if first is None:
        _discard_prestarted()
        return
    it = itertools.chain([first], it)
    pool = _take_pool(workers, first.config.kernel_threads)
    window = 2 * pool.workers
    pending: dict[Future[RunOutcome], RunTask] = {}

    def fill() -> None:
        while len(pending) < window:
            task = next(it, None)
            if task is None:
                return
            pending[pool.executor.submit(run_task, task)] = task

    try:
        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                task = pending.pop(fut)
                try:
                    yield fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    yield _died(task, exc, "a worker process died (killed, or out of memory)")
                except Exception as exc:  # e.g. a task that cannot be pickled
                    yield _died(task, exc, "the task could not run on a worker")
            if broken:
                for task in list(pending.values()):
                    yield _died(
                        task, BrokenProcessPool("pool broken"), "a worker process died while this run was queued"
                    )
                pending.clear()
                pool.renew()
            fill()
    finally:
        pool.shutdown(wait=True)


def check_dask_options(options: Mapping[str, Any]) -> None:
    """Refuse unknown keys under ``experiment.dask``, naming them.

    Raises:
        ConfigError: naming the key.

    """
    for k in options:
        if k not in DASK_KEYS:
            raise ConfigError(f"experiment.dask.{k}: unknown option; allowed: {', '.join(DASK_KEYS)}")
    cluster = options.get("cluster", "")
    if cluster and "." not in str(cluster):
        raise ConfigError(
            f"experiment.dask.cluster={cluster!r}: give the class's import path, e.g. dask_jobqueue.SLURMCluster"
        )


def _import(path: str) -> Any:
    """The cluster class at ``path``, with Ctrl-C left to the sweep.

    dask-jobqueue 0.9.0 sets its own SIGINT handler when imported, ``sys.exit()``
    (dask/dask-jobqueue#696, fixed upstream after that release): Ctrl-C then ended a SLURM sweep
    with status 0 and no message, as if it had finished. Whatever handler the import sets is put
    back as it was, so that Ctrl-C ends the sweep as on every backend (its resume line, status 130).
    """
    import importlib

    module, _, name = path.rpartition(".")
    try:
        with sigint_kept():
            return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"experiment.dask.cluster={path!r} cannot be imported: {exc}") from None


def dask_client(options: Mapping[str, Any], workers: int) -> tuple[Any, Any]:
    """Connect to a dask scheduler: an existing one by address, a cluster class, or a new LocalCluster.

    Returns:
        The client, and the cluster this call started (None when connecting to an address).

    """
    from distributed import Client, LocalCluster

    check_dask_options(options)
    address = options.get("address", "")
    if address:
        return Client(address), None
    if options.get("cluster"):
        cls = _import(str(options["cluster"]))
        cluster = cls(**dict(options.get("cluster_kwargs", {}) or {}))
        if options.get("adapt"):
            cluster.adapt(**dict(options["adapt"]))
        elif options.get("scale"):
            scale = options["scale"]
            cluster.scale(**dict(scale)) if isinstance(scale, Mapping) else cluster.scale(int(scale))
    else:
        with sigint_ignored():  # its processes leave Ctrl-C to the driver, as the pool's workers do
            cluster = LocalCluster(
                n_workers=cpu_workers(workers),
                threads_per_worker=1,
                processes=True,
                host=str(options.get("host", "127.0.0.1")),
                # dask's dashboard on loopback unless switched off (null); another free port if taken.
                dashboard_address=options.get("dashboard_address", "127.0.0.1:8787"),
            )
    return Client(cluster), cluster


def dashboard_url(client: Any, options: Mapping[str, Any] | None = None) -> str | None:
    """The scheduler's dashboard URL, or None when it serves none (no bokeh, or switched off).

    Switched off is ``dashboard_address: null`` for the LocalCluster a sweep starts (neither
    ``address`` nor ``cluster`` given): its scheduler still serves dask's health and metrics pages
    on that port, and names them "dashboard" among its services, but has no dashboard.
    """
    options = options or {}
    local = not options.get("address") and not options.get("cluster")
    if local and "dashboard_address" in options and options["dashboard_address"] is None:
        return None
    try:
        if "dashboard" not in client.scheduler_info().get("services", {}):
            return None
        return str(client.dashboard_link)
    except Exception:  # a scheduler that does not say: no link rather than a failed sweep
        return None


def run_dask(tasks: Iterator[RunTask], options: Mapping[str, Any], workers: int = 0) -> Iterator[RunOutcome]:
    """Run tasks on a dask.distributed cluster (see :func:`dask_client`); prints the dashboard's URL once."""
    from distributed import as_completed

    client, cluster = dask_client(options, workers)
    url = dashboard_url(client, options)
    if url:
        print(f"dask dashboard: {url}", file=sys.stderr, flush=True)
    it = iter(tasks)
    pending: dict[Any, RunTask] = {}
    fixed = options.get("window")

    def window() -> int:
        if fixed:
            return int(fixed)
        # Generous: an adaptive cluster (dask-jobqueue, Kubernetes) grows with the tasks queued.
        threads = sum(client.nthreads().values()) or 1
        return max(512, 4 * threads)

    ac = as_completed()

    def fill() -> None:
        while len(pending) < window():
            task = next(it, None)
            if task is None:
                return
            fut = client.submit(run_task, task, pure=False)
            pending[fut] = task
            ac.add(fut)

    try:
        fill()
        for fut in ac:
            task = pending.pop(fut)
            try:
                yield fut.result()
            except Exception as exc:  # KilledWorker and the like: record, go on
                yield _died(task, exc, "the dask worker running this run failed")
            fut.release()
            fill()
    finally:
        try:
            if pending and not options.get("gather"):  # gathered runs are saved by this loop, which has ended
                _let_runs_in_flight_finish(client, list(pending))
        finally:
            for fut in pending:
                fut.cancel()
            client.close()
            if cluster is not None:
                cluster.close()


def _let_runs_in_flight_finish(client: Any, futures: list[Any]) -> None:
    """Wait for the runs the workers have started, and cancel the queued ones, as the ``processes`` backend does.

    A sweep stopped early (Ctrl-C, a full disk) keeps the runs in flight: their workers save them.
    Cancelled while running, they were lost and each left a warning from its worker. A run that
    starts between the scheduler's answer and the cancellation is cancelled all the same. A
    scheduler that cannot be reached any more has nothing to wait for: its error must not hide
    why the sweep stopped, so it is not raised (the caller cancels and closes).
    """
    from distributed import wait as wait_for

    try:
        running = {key for keys in client.processing().values() for key in keys}
        client.cancel([f for f in futures if f.key not in running])
        wait_for([f for f in futures if f.key in running])
    except Exception as exc:
        print(f"warning: the runs in flight could not be waited for: {exc}", file=sys.stderr)


def execute(
    tasks: Iterator[RunTask], backend: str, workers: int = 0, dask: Mapping[str, Any] | None = None
) -> Iterator[RunOutcome]:
    """Run tasks on the named backend (``serial``, ``processes`` or ``dask``)."""
    if backend == "serial":
        return run_serial(tasks)
    if backend == "processes":
        return run_processes(tasks, workers)
    if backend == "dask":
        return run_dask(tasks, dict(dask or {}), workers)
    raise ConfigError(f"experiment.backend={backend!r} is not allowed; choose one of serial, processes, dask")

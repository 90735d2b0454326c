"""What a worker does with one run: simulate it, stream its months to disk, report back.

Everything here is importable by a worker process (a process pool's, or a dask worker on
another machine): the task is a plain dataclass of picklable values, defined in a module (never
in ``__main__``), and nothing holds a lock or a file handle at module level.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.config import SimConfig
from sim.sweep.store import RunWriter, Store, is_storage_error


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep, as sent to a worker.

    Attributes:
        key: the run's key (hash of its resolved config, which includes its seed).
        labels: arm, point, replication, seed and the swept parameters' values.
        config: the run's full configuration.
        folder: the sweep folder, if the worker writes the run itself (shared file system);
            None to send the table back to the driver, which writes it.
        chunk_steps: months held in memory before they are appended to the run's file.
        config_yaml: the resolved config, kept in the failure record if the run raises.

    """

    key: str
    labels: dict[str, Any]
    config: SimConfig
    folder: str | None
    chunk_steps: int = 240
    config_yaml: str = ""
    fsync: bool = True


@dataclass
class RunOutcome:
    """What a worker reports for one run."""

    key: str
    ok: bool
    seconds: float
    rows: int = 0
    error: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    table: pa.Table | None = None
    details: dict[str, pa.Table] = field(default_factory=dict)
    storage: bool = False  # the run failed because the folder cannot be written, not because it is wrong


class _MemoryWriter:
    """Collects the chunks when the driver, not the worker, writes the file."""

    def __init__(self, labels: dict[str, Any], key: str) -> None:
        self.labels, self.key, self.frames, self.rows = labels, key, [], 0

    def write(self, frame: pd.DataFrame) -> None:
        self.frames.append(frame)
        self.rows += len(frame)

    def table(self) -> pa.Table:
        frame = pd.concat(self.frames, ignore_index=True)
        for i, (name, value) in enumerate(self.labels.items()):
            frame.insert(i, name, value)
        frame["key"] = self.key
        return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def simulate_chunks(cfg: SimConfig, chunk_steps: int, sink: Any) -> dict[str, pd.DataFrame]:
    """Run one simulation, handing its recorded months to ``sink.write`` every ``chunk_steps`` months.

    Uses the model's public API (``run(steps)`` and its recorder); only ``chunk_steps`` months are
    held in memory when the recorder can be drained.

    Returns:
        The run's detail tables (``sim.details``).

    """
    from sim.model import SocialProductivityModel

    model = SocialProductivityModel(cfg)
    drain = getattr(model.recorder, "drain", None)
    if drain is None or chunk_steps >= cfg.steps:
        model.run()
        sink.write(model.timeseries())
        return model.detail_tables()
    remaining = cfg.steps
    while remaining > 0:
        n = min(chunk_steps, remaining)
        model.run(steps=n)
        sink.write(drain())
        remaining -= n
    return model.detail_tables()


def detail_arrow_tables(details: dict[str, pd.DataFrame], key: str) -> dict[str, pa.Table]:
    """The detail tables as Arrow tables, each with the run's key as a column (the store's format)."""
    return {
        name: pa.Table.from_pandas(frame.assign(key=key), preserve_index=False).replace_schema_metadata(None)
        for name, frame in details.items()
        if len(frame)
    }


def _quiet() -> None:
    # Mesa logs every step at INFO; a sweep of thousands of runs must not, unless asked (--verbose).
    if not os.environ.get("SIM_VERBOSE"):
        logging.getLogger("MESA").setLevel(logging.WARNING)


def run_task(task: RunTask) -> RunOutcome:
    """Run one task; never raises for a failing run (the failure is recorded and reported).

    A run that cannot be written (a full disk, a read-only folder) leaves no file behind and is
    reported with ``storage=True`` and no failure record: it is not the run's fault, and the
    driver stops the sweep so that the same command resumes it once the folder takes data again.
    """
    _quiet()
    start = time.perf_counter()
    store = Store(task.folder) if task.folder is not None else None
    sink: RunWriter | _MemoryWriter
    if store is not None:
        sink = RunWriter(store.run_path(task.key), task.labels, fsync=task.fsync)
    else:
        sink = _MemoryWriter(task.labels, task.key)
    details: dict[str, pa.Table] = {}
    try:
        details = detail_arrow_tables(simulate_chunks(task.config, task.chunk_steps, sink), task.key)
        if store is not None and isinstance(sink, RunWriter):
            # The details first, then the checksums, then the run's file: a run whose file is
            # complete has its details and its checksums too.
            sums = store.write_details(task.key, details)
            sink.commit(before_rename=lambda tmp: store.record_checksums(task.key, tmp, sums))
            details, table = {}, None
        else:
            table = sink.table()
    except Exception as exc:  # a failing run is recorded, and the sweep goes on
        if isinstance(sink, RunWriter):
            sink.abort()
        if is_storage_error(exc):
            return storage_outcome(task, exc, time.perf_counter() - start)
        record = failure_record(task, exc, traceback.format_exc())
        if store is not None:
            try:
                store.record_failure(task.key, record)
            except OSError as write_exc:
                return storage_outcome(task, write_exc, time.perf_counter() - start)
        return RunOutcome(task.key, False, time.perf_counter() - start, error=record["error"], record=record)
    if store is not None:
        try:
            store.clear_failure(task.key)
        except OSError as exc:
            return storage_outcome(task, exc, time.perf_counter() - start)
    return RunOutcome(task.key, True, time.perf_counter() - start, rows=sink.rows, table=table, details=details)


def storage_outcome(task: RunTask, exc: BaseException, seconds: float) -> RunOutcome:
    """The report of a run the folder could not take (no failure record: the run is not at fault)."""
    code = getattr(exc, "errno", None)
    # pyarrow's strerror carries its own wording ("Error writing bytes to file. Detail: ..."): the
    # system's phrase for the errno is the one line a user needs.
    detail = os.strerror(code) if code else str(exc)
    where = getattr(exc, "filename", None)
    error = f"{detail} ({where})" if where else str(detail)
    return RunOutcome(task.key, False, seconds, error=error, storage=True)


def failure_record(task: RunTask, exc: BaseException | str, tb: str) -> dict[str, Any]:
    """What is kept of a run that raised: its labels, error, traceback and config."""
    error = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return {
        "key": task.key,
        **{k: v.item() if hasattr(v, "item") else v for k, v in task.labels.items()},
        "error": error,
        "traceback": tb,
        "config_yaml": task.config_yaml,
        "host": os.uname().nodename,
        "pid": os.getpid(),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def die_with_parent(parent: int, poll_seconds: float = 1.0) -> None:
    """Make this worker exit as soon as its driver (process ``parent``) dies, however it dies.

    On Linux the kernel sends SIGKILL when the parent exits (``prctl(PR_SET_PDEATHSIG)``); on
    every platform a daemon thread also polls the parent's pid, for systems without prctl. The
    workers ignore SIGINT and SIGTERM: Ctrl-C in a terminal reaches the whole process group, and
    the driver, not each worker, decides what to do (stop submitting, let the pool wind down).

    Args:
        parent: the driver's pid, as the driver saw it (``os.getpid()`` there).
        poll_seconds: how often the fallback thread looks.

    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread below does it
            pass
    if os.getppid() != parent:  # the driver died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="watch-driver", daemon=True).start()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def start_worker(parent: int, kernel_threads: int = 1, first: Any = None, ready: Any = None) -> None:
    """A pool worker's initializer: die with the driver, then warm up (see :func:`warm_up`).

    Args:
        parent: the driver's pid.
        kernel_threads: the sweep's ``kernel_threads`` (its threaded kernels are readied too).
        first: a lock that the first worker to start takes (and keeps): it warms up at once,
            compiling the fused kernels if the on-disk cache lacks them.
        ready: an event the first worker sets when it has warmed up; the others import the model
            meanwhile and wait for it, so that they load the kernels rather than compile them too.

    """
    die_with_parent(parent)
    if first is None or ready is None:
        warm_up(kernel_threads)
        return
    if first.acquire(block=False):
        try:
            warm_up(kernel_threads)
        finally:
            ready.set()
        return
    _quiet()
    import sim.model  # noqa: F401  (while the first worker compiles or loads the kernels)

    ready.wait()
    warm_up(kernel_threads)


def warm_up(kernel_threads: int = 1) -> None:
    """Pay a worker's start-up once: imports, and the fused kernels run on a tiny model (once per worker)."""
    _quiet()
    from sim.config import CitizensConfig, PopulationConfig  # noqa: F401
    from sim.model import warm_fused_kernels

    try:
        warm_fused_kernels(kernel_threads)  # under a preset whose forums meet: every kernel a run calls
    except Exception:  # a warm-up problem shows up again, with its traceback, in a real run
        pass


def ensure_dir(path: str | Path) -> None:
    """Create a folder (workers on another machine may see it first)."""
    Path(path).mkdir(parents=True, exist_ok=True)

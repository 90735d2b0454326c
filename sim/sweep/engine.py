"""Running a planned sweep into its folder: resume, progress, failures, provenance.

:func:`run_sweep` writes the manifest, the arms' configs and provenance, skips every run whose
file is already complete, runs the rest on the chosen backend with a progress bar (runs done,
failures, time left), and records each failure with its traceback and config while the sweep
goes on. Run the same command again and it resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sim.config import ExperimentConfig
from sim.provenance import dependency_versions, provenance
from sim.sweep.backends import execute
from sim.sweep.plan import Plan, fast_yaml
from sim.sweep.store import (
    Store,
    SweepError,
    SweepInterrupted,
    SweepStorageError,
    atomic_write_text,
    check_folder,
    is_storage_error,
    write_json,
)
from sim.sweep.worker import RunOutcome, RunTask

EXTRA_DEPENDENCIES = ("SALib", "dask", "distributed", "tqdm", "duckdb")

# The command that resumes this sweep, named in the line an interruption ends with (set by the
# command line; the Python API resumes by calling sim.experiment again with the same arguments).
RESUME_COMMAND = ""


@dataclass
class SweepStats:
    """What a sweep session did.

    Attributes:
        planned: runs in the manifest.
        distinct: distinct runs (a design may plan the same config twice).
        already_done: runs found complete when the session started.
        ran: runs this session finished.
        failed: runs that raised this session (recorded under ``failed/``).
        skipped_failed: runs that had failed before and were not retried.
        damaged: runs whose file was found damaged on resume (and were run again).
        seconds: wall time of the session's runs.
        run_seconds: sum of the runs' own times (as measured by the workers).

    """

    planned: int = 0
    distinct: int = 0
    already_done: int = 0
    ran: int = 0
    failed: int = 0
    skipped_failed: int = 0
    damaged: int = 0
    seconds: float = 0.0
    run_seconds: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Distinct runs without results after this session."""
        return self.distinct - self.already_done - self.ran


def write_plan(plan: Plan, store: Store, exp: ExperimentConfig, base_overrides: list[str], cfg_yaml: str) -> None:
    """Write manifest, plan, arms' configs and provenance (one entry per session) into the folder."""
    folder = store.folder
    plan_file = folder / "plan.json"
    if plan_file.is_file():
        old = json.loads(plan_file.read_text())
        if old.get("code_fingerprint") not in (None, plan.fingerprint):
            raise SweepError(
                f"{folder} holds a sweep run with other model code (fingerprint {old['code_fingerprint']}, "
                f"now {plan.fingerprint}); use another folder (experiment.folder) or remove it"
            )
    arms_dir = folder / "arms"
    arms_dir.mkdir(parents=True, exist_ok=True)
    for arm, acfg in plan.arms.items():
        atomic_write_text(arms_dir / f"{arm}.yaml", fast_yaml(acfg), fsync=False)
    store.write_manifest(plan.manifest)
    write_json(
        plan_file,
        {
            "experiment": plan.name,
            "description": plan.describe(),
            "design": plan.spec.design,
            "sweep": _plain(exp.sweep),
            "parameters": plan.parameters,
            "arms": plan.arm_overrides,
            "replications": len(plan.seeds),
            "root_seed": plan.root_seed,
            "replication_seeds": plan.seeds,
            "code_fingerprint": plan.fingerprint,
            "base_overrides": base_overrides,
        },
    )
    atomic_write_text(folder / "config.yaml", cfg_yaml, fsync=False)
    prov_file = folder / "provenance.json"
    sessions = []
    if prov_file.is_file():
        try:
            sessions = json.loads(prov_file.read_text()).get("sessions", [])
        except (json.JSONDecodeError, OSError):
            sessions = []
    prov = provenance(plan.root_seed, cfg_yaml)
    prov["dependencies"].update(dependency_versions(EXTRA_DEPENDENCIES))
    sessions.append(
        {
            "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": sys.argv,
            "git_revision": prov["git_revision"],
            "host": socket.gethostname(),
            "backend": exp.backend,
            "workers": exp.workers,
        }
    )
    write_json(
        prov_file,
        {
            **prov,
            "experiment": plan.name,
            "code_fingerprint": plan.fingerprint,
            "replication_seeds": plan.seeds,
            "arms": plan.arm_overrides,
            "base_overrides": base_overrides,
            "sessions": sessions,
        },
    )


def _plain(value: Any) -> Any:
    try:
        return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
    except ValueError:  # pragma: no cover
        return value


def pending_runs(plan: Plan, store: Store, retry_failed: bool = True) -> tuple[list[dict[str, Any]], int, int]:
    """The runs still to do, in execution order; with the counts of runs done and of failures skipped."""
    done = store.done_keys()
    failed = store.failed_keys() - done
    todo, n_done, n_skipped = [], 0, 0
    for row in plan.execution_order():
        key = row["key"]
        if key in done:
            n_done += 1
        elif key in failed and not retry_failed:
            n_skipped += 1
        else:
            todo.append(row.to_dict())
    return todo, n_done, n_skipped


def _progress(total: int, initial: int, name: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    tty = sys.stderr.isatty()
    return tqdm(
        total=total,
        initial=initial,
        desc=name,
        unit="run",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5 if tty else 15.0,
        smoothing=0.1,
    )


def run_sweep(
    plan: Plan,
    folder: str | Path,
    exp: ExperimentConfig,
    base_overrides: list[str] | None = None,
    cfg_yaml: str = "",
    *,
    fsync: bool = True,
) -> SweepStats:
    """Run every planned run that has no result yet; resume-safe and crash-safe.

    Args:
        plan: the expanded experiment (:func:`sim.sweep.plan.build_plan`).
        folder: the sweep folder (created if needed).
        exp: the experiment block (backend, workers, dask options, chunking, progress).
        base_overrides: recorded in the provenance.
        cfg_yaml: the experiment's composed config, written as ``config.yaml``.
        fsync: flush each run file to disk before renaming it.

    Raises:
        SweepError: another process is running a sweep in this folder, or the folder holds
            results of other model code.

    """
    store = Store(folder)
    start = time.perf_counter()
    # Before the lock: taking it writes a file, and nothing may be written into a foreign folder.
    check_folder(store.folder, plan.name, plan.sweep_id)
    stats = SweepStats(planned=len(plan.manifest), distinct=int(plan.manifest["key"].nunique()))
    try:
        with store.lock(), _interruptible():
            check_folder(store.folder, plan.name, plan.sweep_id)  # again, now that no one else can write
            store.claim(plan.name, plan.sweep_id)
            store.prepare()
            stats.damaged = len(store.verify(report=lambda line: print(f"warning: {line}", file=sys.stderr)))
            write_plan(plan, store, exp, list(base_overrides or []), cfg_yaml)
            link_latest(store.folder, plan.name)
            _run_pending(plan, store, exp, stats, fsync)
    except KeyboardInterrupt:
        _leave_no_temporary(store)
        how = f": {RESUME_COMMAND}" if RESUME_COMMAND else ""
        raise SweepInterrupted(
            f"interrupted: {_saved(plan, store)} of {stats.distinct} runs saved in {store.folder}; "
            f"run the same command again to resume{how}"
        ) from None
    except OSError as exc:
        if not is_storage_error(exc):
            raise
        _leave_no_temporary(store)
        raise SweepStorageError(_storage_message(store, plan, stats, _os_reason(exc))) from exc
    stats.seconds = time.perf_counter() - start
    return stats


def _run_pending(plan: Plan, store: Store, exp: ExperimentConfig, stats: SweepStats, fsync: bool) -> None:
    todo, stats.already_done, stats.skipped_failed = pending_runs(plan, store, exp.retry_failed)
    gather = exp.backend == "dask" and bool((exp.dask or {}).get("gather", False))
    target = None if gather else str(store.folder)

    def tasks() -> Iterator[RunTask]:
        for row in todo:
            yield plan.task(row, target, exp.chunk_steps, fsync=fsync)

    bar = _progress(stats.distinct, stats.already_done, plan.name, exp.progress and bool(todo))
    bar.set_postfix(failed=0, refresh=False)
    outcomes = execute(tasks(), exp.backend, exp.workers, exp.dask)
    try:
        outcome: RunOutcome
        for outcome in outcomes:
            stats.run_seconds += outcome.seconds
            if outcome.storage:
                # Not the run's fault: stop here. Closing the backend lets the runs in flight end
                # (each removes its own partial file) before the caller tidies up.
                raise SweepStorageError(_storage_message(store, plan, stats, outcome.error))
            if outcome.ok:
                if outcome.table is not None:
                    store.write_run(outcome.key, outcome.table, outcome.details)
                    store.clear_failure(outcome.key)
                stats.ran += 1
                bar.update(1)
            else:
                if not store.failure_path(outcome.key).is_file():
                    store.record_failure(outcome.key, outcome.record)
                stats.failed += 1
                stats.failures.append(outcome.record)
                bar.set_postfix(failed=stats.failed, refresh=False)
                bar.write(f"run {outcome.key} failed: {outcome.error}", file=sys.stderr)
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()
        bar.close()


def link_latest(folder: Path, name: str) -> Path | None:
    """Point ``NAME/latest`` at this sweep folder, when the folder sits in its experiment's own folder.

    The link is relative (the outputs folder can be moved) and replaced atomically (a reader never
    finds it missing). A file or folder already called ``latest`` is left alone.
    """
    folder = Path(folder).absolute()
    if folder.parent.name != name:  # an explicit experiment.folder elsewhere: no experiment folder to link in
        return None
    link = folder.parent / "latest"
    if link.exists() and not link.is_symlink():
        return None
    tmp = folder.parent / f".latest.{os.getpid()}.tmp"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(folder.name, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # a file system without symbolic links: the folders are still there
        tmp.unlink(missing_ok=True)
        return None
    return link


def _saved(plan: Plan, store: Store) -> int:
    try:
        return len(set(plan.manifest["key"]) & store.done_keys())
    except OSError:  # pragma: no cover - the folder vanished
        return 0


def _os_reason(exc: OSError) -> str:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return f"{reason} ({exc.filename})" if exc.filename else reason


def _storage_message(store: Store, plan: Plan, stats: SweepStats, reason: str) -> str:
    return (
        f"cannot write to the sweep folder {store.folder}: {reason}; {_saved(plan, store)} of {stats.distinct} "
        "runs are saved; free space or restore write permission, then run the same command again to resume"
    )


def _leave_no_temporary(store: Store) -> None:
    """Remove the session's temporary files (best effort: a read-only folder keeps them for the next session)."""
    try:
        store.remove_temporary()
    except OSError:  # pragma: no cover - the folder cannot even be listed
        pass


@contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while a sweep runs, so that both end it the same tidy way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def dry_run_table(plan: Plan, folder: str | Path) -> Any:
    """The planned runs with their status in ``folder`` (done, failed or to run), nothing run."""
    store = Store(folder)
    done, failed = store.done_keys(), store.failed_keys()
    status = ["done" if k in done else "failed" if k in failed else "to run" for k in plan.manifest["key"]]
    return plan.manifest.assign(status=status)


def worker_count(exp: ExperimentConfig) -> int:
    """Workers a backend uses (for reports)."""
    if exp.backend == "serial":
        return 1
    return exp.workers or os.cpu_count() or 1

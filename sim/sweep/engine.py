"""Running a planned sweep into its folder: resume, progress, failures, provenance.

:func:`run_sweep` writes the manifest, the arms' configs and provenance, skips every run whose
file is already complete, runs the rest on the chosen backend with a progress bar (runs done,
failures, time left), and records each failure with its traceback and config while the sweep
goes on. Run the same command again and it resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sim.config import ExperimentConfig
from sim.provenance import dependency_versions, provenance, write_json
from sim.sweep.backends import execute
from sim.sweep.plan import Plan, fast_yaml
from sim.sweep.store import Store, SweepError, atomic_write_table
from sim.sweep.worker import RunOutcome, RunTask

EXTRA_DEPENDENCIES = ("SALib", "dask", "distributed", "tqdm", "duckdb")


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
        seconds: wall time of the session's runs.
        run_seconds: sum of the runs' own times (as measured by the workers).

    """

    planned: int = 0
    distinct: int = 0
    already_done: int = 0
    ran: int = 0
    failed: int = 0
    skipped_failed: int = 0
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
        (arms_dir / f"{arm}.yaml").write_text(fast_yaml(acfg))
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
    (folder / "config.yaml").write_text(cfg_yaml)
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
    with store.lock():
        store.prepare()
        write_plan(plan, store, exp, list(base_overrides or []), cfg_yaml)
        todo, n_done, n_skipped = pending_runs(plan, store, exp.retry_failed)
        stats = SweepStats(
            planned=len(plan.manifest),
            distinct=int(plan.manifest["key"].nunique()),
            already_done=n_done,
            skipped_failed=n_skipped,
        )
        gather = exp.backend == "dask" and bool((exp.dask or {}).get("gather", False))
        target = None if gather else str(store.folder)

        def tasks() -> Iterator[RunTask]:
            for row in todo:
                yield plan.task(row, target, exp.chunk_steps, fsync=fsync)

        bar = _progress(stats.distinct, n_done, plan.name, exp.progress and bool(todo))
        bar.set_postfix(failed=0, refresh=False)
        try:
            outcome: RunOutcome
            for outcome in execute(tasks(), exp.backend, exp.workers, exp.dask):
                stats.run_seconds += outcome.seconds
                if outcome.ok:
                    if outcome.table is not None:
                        store.write_details(outcome.key, outcome.details)
                        atomic_write_table(outcome.table, store.run_path(outcome.key))
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
            bar.close()
    stats.seconds = time.perf_counter() - start
    return stats


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

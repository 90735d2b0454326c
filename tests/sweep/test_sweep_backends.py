"""The same sweep on serial, processes and dask gives identical tables, run for run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import GRID, NO_ANALYSIS, run_tiny, tiny

from sim.config import ConfigError
from sim.sweep.backends import check_dask_options
from sim.sweep.store import read_sweep

ROOT = Path(__file__).resolve().parents[2]


def test_serial_processes_and_dask_give_identical_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from distributed import LocalCluster

    tables = {}
    for backend in ("serial", "processes", "dask"):
        capsys.readouterr()
        run_tiny(tiny(GRID, NO_ANALYSIS, "experiment.workers=2", backend=backend), tmp_path / backend)
        tables[backend] = read_sweep(tmp_path / backend, strict=True)
        # The LocalCluster serves dask's dashboard (bokeh) on loopback, and the sweep says where, once.
        assert capsys.readouterr().err.count("dask dashboard: http://127.0.0.1:") == (backend == "dask")
    # An existing cluster given by address, with results sent back to the driver (no shared disk).
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as c:
        ov = tiny(
            GRID, NO_ANALYSIS, f"++experiment.dask={{address:'{c.scheduler_address}',gather:true}}", backend="dask"
        )
        run_tiny(ov, tmp_path / "address")
    tables["address"] = read_sweep(tmp_path / "address", strict=True)
    assert len(tables["serial"]) == 2 * 2 * 2 * 4
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, tables["serial"], obj=name)


def test_a_prestarted_pool_runs_the_next_sweep_and_a_mismatched_one_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.sweep import backends

    made: list[tuple[int, int]] = []
    init = backends.WorkerPool.__init__

    def counting(self: backends.WorkerPool, workers: int = 0, kernel_threads: int = 1) -> None:
        made.append((workers, kernel_threads))
        init(self, workers, kernel_threads)

    monkeypatch.setattr(backends.WorkerPool, "__init__", counting)
    overrides = tiny(GRID, NO_ANALYSIS, "experiment.workers=2", backend="processes")
    backends.prestart(2)
    pool = backends._prestarted
    assert pool is not None
    run_tiny(overrides, tmp_path / "prestarted")
    assert made == [(2, 1)]  # the sweep ran on the pool started before it: no second pool
    assert backends._prestarted is None
    with pytest.raises(RuntimeError, match="shutdown"):  # and stopped it when it ended
        pool.executor.submit(print)
    run_tiny(tiny(GRID, NO_ANALYSIS, backend="serial"), tmp_path / "serial")
    pd.testing.assert_frame_equal(read_sweep(tmp_path / "prestarted"), read_sweep(tmp_path / "serial"))

    backends.prestart(1)  # one worker, where the sweep asks for two: stopped, and a pool of two made
    one = backends._prestarted
    assert one is not None
    run_tiny(overrides, tmp_path / "replaced")
    assert made == [(2, 1), (1, 1), (2, 1)]
    with pytest.raises(RuntimeError, match="shutdown"):
        one.executor.submit(print)


def test_dask_options_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"experiment.dask.adress: unknown option"):
        check_dask_options({"adress": "tcp://127.0.0.1:8786"})
    with pytest.raises(ConfigError, match=r"experiment.dask.cluster='SLURMCluster'"):
        check_dask_options({"cluster": "SLURMCluster"})
    check_dask_options({"cluster": "dask_jobqueue.SLURMCluster", "cluster_kwargs": {"cores": 8}, "scale": {"jobs": 2}})


def test_the_backend_examples_compose() -> None:
    from sim.config import compose, config_dir

    names = sorted(p.stem for p in (config_dir() / "backend").glob("*.yaml"))
    assert {"dask_local", "dask_address", "slurm", "kubernetes"} <= set(names)
    for name in names:
        exp = compose([f"+backend={name}"]).experiment
        assert exp.backend == "dask"
        check_dask_options(exp.dask)


def test_tasks_pickle_cleanly() -> None:
    import pickle

    from sim.config import compose
    from sim.sweep.plan import build_plan
    from sim.sweep.worker import RunTask, run_task

    ov = tiny(GRID)
    plan = build_plan(compose(ov), ov)
    task = plan.task(next(plan.execution_order()), "/tmp/nowhere", chunk_steps=2)
    again = pickle.loads(pickle.dumps(task))
    assert again == task and isinstance(again, RunTask)
    # Everything a worker unpickles is defined in an importable module, never in __main__.
    assert {type(task).__module__, run_task.__module__, type(task.config).__module__} == {
        "sim.sweep.worker",
        "sim.config",
    }


def test_importing_a_cluster_class_leaves_ctrl_c_to_the_sweep() -> None:
    """dask-jobqueue 0.9.0 sets SIGINT to ``sys.exit()`` when imported (dask/dask-jobqueue#696).

    In a fresh interpreter (where it is not imported yet), the import through the dask backend's
    cluster option leaves the handler as it was; a plain import shows what it would do otherwise.
    """
    code = """
import signal
before = signal.getsignal(signal.SIGINT)
from sim.sweep.backends import _import
_import("dask_jobqueue.SLURMCluster")
kept = signal.getsignal(signal.SIGINT) is before
import importlib, sys
del sys.modules["dask_jobqueue.runner"]
importlib.import_module("dask_jobqueue.runner")
print(kept, signal.getsignal(signal.SIGINT) is before)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"], out.stdout

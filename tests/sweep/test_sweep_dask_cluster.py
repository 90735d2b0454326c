"""A sweep on a dask cluster of separate processes: `dask scheduler` and two `dask worker`, on loopback.

The test starts the three processes itself (as a user would on several machines, here all on
127.0.0.1), runs the sweep by address, compares its table with the serial one, and stops them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psutil
import pytest
from conftest import GRID, NO_ANALYSIS, run_tiny, tiny

from sim.sweep.store import read_sweep

ROOT = Path(__file__).resolve().parents[2]
DASK = str(Path(sys.executable).parent / "dask")  # the dask command-line tool of this environment


def _wait_for(predicate: object, what: str, procs: list[subprocess.Popen[bytes]], seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{' '.join(map(str, p.args))} exited with {p.returncode} while waiting for {what}")
        time.sleep(0.2)
    raise TimeoutError(f"no {what} after {seconds} s")


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """`dask scheduler` and two single-threaded `dask worker` processes; yields the scheduler's address."""
    from distributed import Client

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    scheduler_file = tmp_path / "scheduler.json"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> None:
        with open(logs / f"{name}.log", "wb") as log:
            procs.append(subprocess.Popen([DASK, *args], env=env, cwd=tmp_path, stdout=log, stderr=log))

    try:
        start(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            str(scheduler_file),
        )
        _wait_for(scheduler_file.exists, "scheduler file", procs)
        for i in range(2):
            start(
                f"worker{i}",
                "worker",
                "--scheduler-file",
                str(scheduler_file),
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--name",
                f"w{i}",
            )
        with Client(scheduler_file=str(scheduler_file), timeout=30) as client:
            _wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, "two workers", procs)
            address = client.scheduler.address
        yield address, procs
    finally:
        for p in reversed(procs):  # workers first, then the scheduler
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


def test_sweep_on_a_scheduler_and_two_worker_processes_equals_serial(
    tmp_path: Path, dask_processes: tuple[str, list[subprocess.Popen[bytes]]], capsys: pytest.CaptureFixture[str]
) -> None:
    from distributed import Client

    address, procs = dask_processes
    run_tiny(
        tiny(GRID, NO_ANALYSIS, f"++experiment.dask={{address:'{address}'}}", backend="dask"), tmp_path / "cluster"
    )
    err = capsys.readouterr().err
    # The scheduler serves the dashboard (bokeh is installed): its URL is printed once.
    assert err.count("dask dashboard: http://127.0.0.1:") == 1, err
    run_tiny(tiny(GRID, NO_ANALYSIS), tmp_path / "serial")
    cluster, serial = (read_sweep(tmp_path / name, strict=True) for name in ("cluster", "serial"))
    assert len(serial) == 2 * 2 * 2 * 4
    pd.testing.assert_frame_equal(cluster, serial)
    # The runs ran in the two worker processes, not in this one: each worker's log of tasks has some.
    with Client(address, timeout=30) as client:
        ran = client.run(lambda dask_worker: sum(1 for e in dask_worker.state.log if "run_task" in str(e[0])))
        pids = client.run(os.getpid)
    assert len(ran) == 2 and all(n > 0 for n in ran.values()), ran
    # Each worker is the child of one `dask worker` command (its nanny) started by the fixture.
    assert {psutil.Process(pid).ppid() for pid in pids.values()} == {p.pid for p in procs[1:]}
    assert all(p.poll() is None for p in procs)  # still up: the fixture stops them

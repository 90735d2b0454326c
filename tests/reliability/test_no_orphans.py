"""No orphans: a sweep driver killed alone (as the out-of-memory killer does) takes its workers with it.

Before issue 12 the pool workers and the multiprocessing resource tracker outlived a SIGKILLed
driver (about 445 MB). Now each worker asks the kernel for SIGKILL when its parent dies
(``prctl(PR_SET_PDEATHSIG)``, with a thread watching the parent's pid elsewhere), and the resource
tracker exits when the last holder of its pipe is gone.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

# tests/sweep/conftest.py's tiny(), loaded by path: under xdist the name 'conftest' is tests/conftest.py.
_spec = importlib.util.spec_from_file_location(
    "sweep_conftest", Path(__file__).resolve().parents[1] / "sweep" / "conftest.py"
)
assert _spec and _spec.loader
_sweep_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sweep_conftest)
tiny = _sweep_conftest.tiny

SLOW = tiny(
    "++experiment.sweep={design:grid,parameters:{regime.audit_rate:[0.0,0.2,0.4]}}",
    "population.n_citizens=300",
    "steps=40",
    replications=4,
    backend="processes",
)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _start(folder: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "SIM_DEBUG"}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *SLOW, "experiment.workers=2", f"experiment.folder={folder}", *extra],
        cwd=folder.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that the test can clean up whatever is left, whatever happens
    )


def _children_once_running(proc: subprocess.Popen[str], folder: Path) -> list[psutil.Process]:
    """The driver's descendants once both workers exist and a run is saved (the pool is busy)."""
    driver = psutil.Process(proc.pid)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        kids = driver.children(recursive=True)
        runs = folder / "runs"
        saved = runs.is_dir() and any(p.suffix == ".parquet" and not p.name.startswith(".") for p in runs.iterdir())
        if len(kids) >= 3 and saved:  # two workers and the resource tracker
            return kids
        time.sleep(0.05)
    raise AssertionError(f"the sweep never had its workers running: {proc.communicate()}")


def test_workers_and_resource_tracker_exit_when_the_driver_is_sigkilled(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    proc = _start(folder)
    kids: list[psutil.Process] = []
    try:
        kids = _children_once_running(proc, folder)
        commands = [" ".join(k.cmdline()) for k in kids]
        assert any("resource_tracker" in c for c in commands), commands
        os.kill(proc.pid, signal.SIGKILL)  # the driver alone, as the OOM killer does
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [(k.pid, " ".join(k.cmdline())[:80]) for k in kids if _alive(k)]
        assert not left, f"orphans 10 s after the driver died: {left}"
    finally:
        for k in kids:
            if _alive(k):
                k.kill()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_sigterm_ends_the_sweep_with_one_line_and_no_process_left(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    proc = _start(folder)
    kids: list[psutil.Process] = []
    try:
        kids = _children_once_running(proc, folder)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: interrupted: ") and "Traceback" not in err, err
        assert "run the same command again to resume" in lines[0] and "leaked" not in err
        deadline = time.monotonic() + 10
        while any(_alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [k.pid for k in kids if _alive(k)]
        assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]
    finally:
        for k in kids:
            if _alive(k):
                k.kill()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

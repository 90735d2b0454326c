"""The documented SLURM recipe (``+backend=slurm``: dask-jobqueue's SLURMCluster) on a real one-node SLURM.

``scripts/ensure-slurm.sh`` (run by ``make test`` to install Debian's slurm-wlm and munge) starts
munged, slurmctld and slurmd on loopback with a private configuration; this module's fixture starts
them and stops them. The sweep's driver submits dask worker jobs with ``sbatch``; the jobs' workers
write the runs; the table must equal the serial one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import GRID, NO_ANALYSIS, run_tiny, tiny

from sim.sweep.store import read_sweep
from tests.conftest import interrupt_after_first_run

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure-slurm.sh"

# One SLURM for the module (its fixture): both tests on one pytest worker, since the daemons' ports are fixed.
pytestmark = pytest.mark.xdist_group("slurm")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running one-node SLURM (its own state folder); yields that folder and stops the daemons after."""
    if not all(shutil.which(c) for c in ("slurmctld", "slurmd", "munged", "sbatch")):
        pytest.skip("SLURM is not installed: run `scripts/ensure-slurm.sh install` as root (make test does)")
    folder = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "SIM_SLURM_DIR": str(folder)}
    started = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=120)
    saved = os.environ.get("SLURM_CONF")
    try:
        assert started.returncode == 0, f"SLURM did not start: {started.stderr.strip()}"
        os.environ["SLURM_CONF"] = str(folder / "slurm.conf")  # for sbatch/squeue/scancel run by dask-jobqueue
        yield folder
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, text=True, timeout=60)
        if saved is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = saved


def _recipe(logs: Path) -> list[str]:
    # The recipe as docs/sweeps.md has it, with what a site changes: partition, job size, no venv to
    # activate (the jobs inherit this environment), and loopback for the scheduler and workers.
    return [
        "+backend=slurm",
        "experiment.dask.cluster_kwargs.queue=debug",
        "experiment.dask.cluster_kwargs.cores=1",
        "experiment.dask.cluster_kwargs.processes=1",
        "experiment.dask.cluster_kwargs.memory=1GB",
        "experiment.dask.cluster_kwargs.walltime=00:10:00",
        "experiment.dask.cluster_kwargs.job_script_prologue=[]",
        f"experiment.dask.cluster_kwargs.log_directory={logs}",
        "+experiment.dask.cluster_kwargs.interface=lo",
        "+experiment.dask.cluster_kwargs.scheduler_options={dashboard_address:'127.0.0.1:0'}",
        "experiment.dask.adapt.maximum_jobs=2",
    ]


def test_slurm_recipe_runs_the_sweep_in_slurm_jobs(tmp_path: Path, slurm: Path) -> None:
    logs = tmp_path / "slurm-logs"
    recipe = _recipe(logs)
    run_tiny(tiny(GRID, NO_ANALYSIS, *recipe, backend="dask"), tmp_path / "slurm")
    run_tiny(tiny(GRID, NO_ANALYSIS), tmp_path / "serial")
    table, serial = (read_sweep(tmp_path / name, strict=True) for name in ("slurm", "serial"))
    assert len(serial) == 2 * 2 * 2 * 4
    pd.testing.assert_frame_equal(table, serial)
    # The runs were done by dask workers inside SLURM jobs: each job's log shows its worker joining.
    job_logs = sorted(logs.glob("*.err"))
    assert job_logs, f"no SLURM job logs in {logs}"
    assert any("Registered to:" in p.read_text() for p in job_logs), job_logs[0].read_text()[-2000:]
    # The jobs are gone once the sweep is over (the driver closed its cluster).
    env = {**os.environ, "SLURM_CONF": str(slurm / "slurm.conf")}
    queue = subprocess.run(["squeue", "-h"], env=env, capture_output=True, text=True, timeout=30)
    assert queue.returncode == 0 and queue.stdout.strip() == "", queue.stdout


def test_ctrl_c_ends_a_slurm_sweep_with_its_resume_line_and_cancels_its_jobs(tmp_path: Path, slurm: Path) -> None:
    """Ctrl-C in a SLURM sweep ends it as in any other: the resume line, status 130, no job left queued.

    dask-jobqueue 0.9.0 sets its own SIGINT handler when it is imported, ``sys.exit()``
    (dask/dask-jobqueue#696, fixed upstream after that release): the sweep then ended with status 0
    and no message, as if it had finished.
    """
    args = tiny(GRID, NO_ANALYSIS, *_recipe(tmp_path / "slurm-logs"), backend="dask", replications=250)
    env = {**os.environ, "SLURM_CONF": str(slurm / "slurm.conf"), "PYTHONPATH": str(ROOT)}
    returncode, err = interrupt_after_first_run(args, tmp_path, env)
    assert returncode == 130, err
    assert "Traceback" not in err, err
    last = [line for line in err.splitlines() if line.strip()][-1]
    saved = len(list(tmp_path.glob("outputs/main/sweep-*/runs/*.parquet")))
    # 2 arms x 2 points x 250 replications: the sweep is stopped long before its end.
    assert f"interrupted: {saved} of 1000 runs saved" in last and "run the same command again to resume" in last, err
    assert 0 < saved < 1000
    # The driver closed its cluster on the way out: its worker jobs are cancelled.
    deadline = time.monotonic() + 60
    while True:
        queue = subprocess.run(["squeue", "-h"], env=env, capture_output=True, text=True, timeout=30)
        if (queue.returncode == 0 and not queue.stdout.strip()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert queue.returncode == 0 and queue.stdout.strip() == "", queue.stdout

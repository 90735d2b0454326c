"""Crash safety: a sweep SIGKILLed at random moments and resumed ends exactly like an uninterrupted one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from conftest import NO_ANALYSIS, run_tiny, tiny

from sim.sweep.store import Store, read_sweep

SWEEP = "++experiment.sweep={design:grid,parameters:{regime.audit_rate:[0.0,0.2,0.4]}}"
# Short runs (0.03-0.1 s, by CPU), so that kills land between, and during, runs.
OVERRIDES = tiny(SWEEP, "population.n_citizens=300", "steps=40", replications=4, backend="processes")


def _count(runs: Path) -> int:
    if not runs.is_dir():
        return 0
    return sum(1 for p in os.scandir(runs) if p.name.endswith(".parquet") and not p.name.startswith("."))


def _start(folder: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SIM_DEBUG"}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *OVERRIDES, "experiment.workers=2", f"experiment.folder={folder}"],
        cwd=folder.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the driver and its workers die together
    )


def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_table(tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    folder = tmp_path / "killed"
    total = 2 * 3 * 4
    kills, progress = 0, []
    target = 0
    while kills < 4:
        proc = _start(folder)
        # The first kill in the first half, so that a run finishing in the moment before it cannot
        # leave every kill at the end (a first target of 23 did, under load); last: maybe in analysis.
        low = min(target + 1, total - 1)
        target = rng.randint(low, total // 2 if kills == 0 else total - 1) if kills < 3 else total
        deadline = time.monotonic() + 120
        while proc.poll() is None and _count(folder / "runs") < target and time.monotonic() < deadline:
            time.sleep(0.01)
        # Within a few polls of the target for the first kills, so that they land mid-sweep however
        # fast the runs are (a run here takes a few hundredths of a second on a fast CPU); the last
        # one may wait longer and land in the analysis.
        time.sleep(rng.uniform(0.0, 0.03 if kills < 3 else 0.25))
        if proc.poll() is not None:
            assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
            break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        progress.append(_count(folder / "runs"))
        # Whatever is under its final name is a whole, readable run.
        for p in (folder / "runs").glob("*.parquet"):
            assert pq.read_table(p).num_rows == 40, (seed, p)
    assert kills >= 3, f"seed {seed}: the sweep finished before it could be killed three times: {progress}"
    assert any(0 < n < total for n in progress), (seed, progress)
    print(f"seed {seed}: kills {kills}, runs done at each kill {progress}")
    final = _start(folder)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()

    reference = tmp_path / "uninterrupted"
    # The reference gives only the table to compare with (the killed sweep keeps its analysis:
    # its last kill may land there).
    ov = tiny(SWEEP, NO_ANALYSIS, "population.n_citizens=300", "steps=40", replications=4, backend="serial")
    run_tiny(ov, reference)
    resumed, clean = read_sweep(folder, strict=True), read_sweep(reference, strict=True)
    pd.testing.assert_frame_equal(resumed, clean)
    manifest = Store(folder).manifest()
    files = sorted(p.stem for p in (folder / "runs").glob("*.parquet"))
    assert files == sorted(manifest["key"])  # no run missing, none twice
    assert not [p for p in (folder / "runs").iterdir() if p.name.startswith(".")]  # no partial file left
    assert resumed.groupby("key").size().eq(40).all()
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "timeseries.parquet"), clean)

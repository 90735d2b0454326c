"""The command line as a user meets it: real processes, real folders."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.metrics import COLUMNS
from tests.conftest import sim_cli

RUN_FILES = ("timeseries.parquet", "summary.json", "config.yaml", "seed.txt", "provenance.json")


def test_single_run_writes_a_self_describing_folder(tmp_path: Path) -> None:
    out = sim_cli(
        "run",
        "regime=negotiated",
        "steps=12",
        "population.n_citizens=500",
        "seed=7",
        f"output.dir={tmp_path}",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 1
    folder = folders[0]
    for name in RUN_FILES:
        assert (folder / name).is_file(), name
    ts = pd.read_parquet(folder / "timeseries.parquet")
    assert list(ts.columns) == list(COLUMNS) and len(ts) == 12 and set(ts["regime"]) == {"negotiated"}
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["seed"] == 7 and prov["git_revision"] and prov["dependencies"]["mesa"].startswith("3.5")
    assert (folder / "seed.txt").read_text().strip() == "7"
    assert "n_citizens: 500" in (folder / "config.yaml").read_text()
    assert str(folder) in out.stdout


def test_main_job_small(tmp_path: Path) -> None:
    out = sim_cli(
        "experiment.replications=2", "steps=15", "population.n_citizens=400", f"output.dir={tmp_path}", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    folder = next((tmp_path / "main").iterdir())
    ts = pd.read_parquet(folder / "timeseries.parquet")
    assert set(ts["arm"]) == {"targets", "negotiated", "functioning", "none"}
    assert ts.groupby("arm")["replication"].nunique().eq(2).all()
    # Common random numbers: replication r has the same seed in every arm.
    assert ts.groupby("replication")["seed"].nunique().eq(1).all()
    summary = pd.read_csv(folder / "summary.csv")
    assert {"arm", "metric", "mean", "ci_low", "ci_high"} <= set(summary.columns)
    for name in ("over_time.png", "over_time.svg", "over_time.csv", "provenance.json", "config.yaml"):
        assert (folder / name).is_file(), name
    assert "output folder" in out.stdout


def test_multirun_works(tmp_path: Path) -> None:
    out = sim_cli(
        "run", "-m", "seed=1,2", "steps=5", "population.n_citizens=200", f"output.dir={tmp_path}", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    parquet = list((tmp_path / "multirun").rglob("timeseries.parquet"))
    assert len(parquet) == 2


@pytest.mark.parametrize(
    "args,needle",
    [
        (("run", "steps=0"), "steps=0"),
        (("run", "regime=bogus"), "regime"),
        (("run", "regime.audit_rate=2"), "regime.audit_rate=2"),
        (("bogus",), "unknown command"),
        (("population.n_citizens=0",), "population.n_citizens=0"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    out = sim_cli(*args, f"output.dir={tmp_path}", cwd=tmp_path)
    assert out.returncode == 2
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "runs").exists()

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


# ------------------------------------------------------------------ paths stay inside the chosen folder (issue 12)
def _refused(out: object, needle: str) -> None:
    import subprocess

    assert isinstance(out, subprocess.CompletedProcess)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_an_empty_output_dir_is_refused_not_written_at_the_root(tmp_path: Path) -> None:
    # As from an unset shell variable: `output.dir=$OUT`. Before issue 12 this wrote /runs/<stamp>.
    root_runs = Path("/runs")
    existed = root_runs.exists()
    out = sim_cli("run", "steps=2", "burn_in=1", "population.n_citizens=50", "output.dir=", cwd=tmp_path)
    _refused(out, "output.dir='' is empty")
    assert root_runs.exists() == existed
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../../x", "../escaped", "a/b", "/tmp/abs", ".."])
def test_an_experiment_name_cannot_leave_output_dir(tmp_path: Path, name: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    out = sim_cli(
        f"experiment.name={name}", "experiment.replications=1", "steps=2", f"output.dir={work / 'out'}", cwd=work
    )
    _refused(out, "experiment.name=")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"] and list(work.iterdir()) == []


def test_an_arm_name_cannot_leave_output_dir(tmp_path: Path) -> None:
    out = sim_cli("++experiment.arms={..:[],b:[]}", "steps=2", f"output.dir={tmp_path}", cwd=tmp_path)
    _refused(out, "experiment.arms...='..' is not a safe name")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ a refusal inside the job leaves nothing
def test_a_bad_arm_refused_in_the_job_leaves_no_folder(tmp_path: Path) -> None:
    # The arm's own overrides are composed by the job (after Hydra made its folder and log).
    # (The arms replace the main job's, so its comparisons, which name those, go too.)
    arms = '++experiment.arms={a:["regime.audt_rate=0.2"],b:["regime=targets"]}'
    out = sim_cli(
        arms, "experiment.analysis.compare=[]", "experiment.replications=1", "steps=2",
        f"output.dir={tmp_path / 'out'}", cwd=tmp_path,
    )  # fmt: skip
    _refused(out, "experiment.arms.a: unknown key 'regime.audt_rate'")
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))


def test_a_refusal_in_the_job_keeps_an_existing_output_dir(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    (out_dir / "keep").mkdir(parents=True)
    arms = '++experiment.arms={a:["regime.audt_rate=0.2"],b:["regime=targets"]}'
    out = sim_cli(
        arms, "experiment.analysis.compare=[]", "experiment.replications=1", "steps=2", f"output.dir={out_dir}",
        cwd=tmp_path,
    )  # fmt: skip
    _refused(out, "unknown key")
    assert [p.relative_to(tmp_path).as_posix() for p in sorted(tmp_path.rglob("*"))] == ["out", "out/keep"]


# ------------------------------------------------------------------ the run's log does not grow per month
def test_the_run_log_does_not_grow_with_the_months(tmp_path: Path) -> None:
    small = ("run", "burn_in=1", "population.n_citizens=60", "population.n_communities=3")
    sizes = {}
    for steps in (5, 200):
        out = sim_cli(*small, f"steps={steps}", f"output.dir={tmp_path / str(steps)}", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        (log,) = (tmp_path / str(steps) / "runs").glob("*/*.log")
        sizes[steps] = log.stat().st_size
        assert "Step 1 at time" not in log.read_text()
    assert sizes[200] == sizes[5]  # nothing is logged per month (was one INFO line a month)


def test_mesas_step_lines_are_still_available_at_debug_level(tmp_path: Path) -> None:
    out = sim_cli(
        "run", "steps=3", "burn_in=1", "population.n_citizens=60", "hydra.verbose=MESA", f"output.dir={tmp_path}",
        cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    (log,) = (tmp_path / "runs").glob("*/*.log")
    assert "Step 3 at time" in log.read_text()

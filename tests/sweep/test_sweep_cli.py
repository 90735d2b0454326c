"""Sweeps from the command line: bad specs, --dry-run, resume, sensitivity in one command, launchers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.sweep.analysis import MAIN_OUTPUTS
from tests.conftest import sim_cli

TINY = ("population.n_citizens=120", "population.n_communities=4", "burn_in=1", "steps=4")


@pytest.mark.parametrize(
    "args,needle",
    [
        (
            ("experiment=audit_intensity", "experiment.sweep.parameters.regime.audit_rate=[0.5,2]"),
            "experiment.sweep.parameters.regime.audit_rate=2 is out of range; allowed: 0 to 1",
        ),
        (
            ("experiment=audit_intensity", "+experiment.sweep.parameters.regime.audt_rate=[0,1]"),
            "experiment.sweep.parameters.regime.audt_rate: unknown parameter; did you mean regime.audit_rate?",
        ),
        (
            ("experiment=trust_deprivation", "experiment.sweep.parameters.population.trust_mean=[0.2,1.5]"),
            "experiment.sweep.parameters.population.trust_mean: range [0.2, 1.5] is outside the parameter's bounds",
        ),
        (
            ("experiment=trust_deprivation", "experiment.sweep.parameters.population.trust_mean=[0.6,0.6]"),
            "experiment.sweep.parameters.population.trust_mean: empty range [0.6, 0.6]",
        ),
        (("experiment=sensitivity", "experiment.sweep.samples=12"), "experiment.sweep.samples=12"),
        (("experiment.backend=cluster",), "experiment.backend"),
        (("++experiment.dask={adress:x}",), "experiment.dask.adress: unknown option"),
    ],
)
def test_a_malformed_sweep_stops_before_anything_runs(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    out = sim_cli(*args, f"output.dir={tmp_path / 'out'}", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_dry_run_lists_the_runs_and_runs_nothing(tmp_path: Path) -> None:
    out = sim_cli(
        "experiment=target_ratchet",
        *TINY,
        "experiment.replications=3",
        f"output.dir={tmp_path / 'o'}",
        "--dry-run",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "24 runs: 2 arms x 4 points (grid) x 3 replications" in out.stdout
    assert "0 done, 0 failed, 24 to run" in out.stdout and "nothing was run" in out.stdout
    rows = [line for line in out.stdout.splitlines() if " to run" in line and ("fixed" in line or "ratchet" in line)]
    assert len(rows) == 24
    assert not (tmp_path / "o").exists()


def test_the_same_command_resumes_in_the_same_folder(tmp_path: Path) -> None:
    args = (
        "experiment=audit_intensity",
        *TINY,
        "experiment.replications=2",
        "experiment.backend=serial",
        f"output.dir={tmp_path}",
    )
    first = sim_cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "12 runs planned, 0 already done, 12 run now, 0 failed" in first.stdout
    second = sim_cli(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "12 runs planned, 12 already done, 0 run now, 0 failed" in second.stdout
    folders = [p for p in (tmp_path / "audit_intensity").iterdir() if p.name != "latest"]
    assert len(folders) == 1 and folders[0].name.startswith("sweep-")
    assert (tmp_path / "audit_intensity" / "latest").resolve() == folders[0].resolve()
    assert (folders[0] / "response.png").is_file()  # a one-parameter grid: outputs against the parameter
    dry = sim_cli(*args, "--dry-run", cwd=tmp_path)
    assert "12 done, 0 failed, 0 to run" in dry.stdout


def test_sensitivity_of_ten_parameters_on_the_four_outputs_from_one_command(tmp_path: Path) -> None:
    out = sim_cli(
        "experiment=sensitivity",
        "experiment.sweep.samples=2",
        *TINY,
        "experiment.workers=2",
        f"output.dir={tmp_path}",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    folder = next((tmp_path / "sensitivity").iterdir())
    sobol = pd.read_csv(folder / "sensitivity_sobol.csv")
    assert sobol["parameter"].nunique() == 10
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(sobol.columns)
    assert set(sobol["arm"]) == {"targets", "negotiated"}
    assert set(sobol["output"]) <= set(MAIN_OUTPUTS) and len(set(sobol["output"])) >= 3
    for arm in ("targets", "negotiated"):
        assert (folder / f"sensitivity_{arm}.png").is_file() and (folder / f"sensitivity_{arm}.csv").is_file()


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_hydra_multirun_launchers(tmp_path: Path, launcher: str) -> None:
    extra = ["hydra.launcher.n_jobs=2"] if launcher == "joblib" else ["hydra.launcher.timeout_min=5"]
    out = sim_cli(
        "run", "-m", f"hydra/launcher={launcher}", *extra, "seed=1,2", "steps=5", "population.n_citizens=200",
        f"output.dir={tmp_path}", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    parquet = sorted((tmp_path / "multirun").rglob("timeseries.parquet"))
    assert len(parquet) == 2
    seeds = sorted(int(p.parent.joinpath("seed.txt").read_text()) for p in parquet)
    assert seeds == [1, 2]

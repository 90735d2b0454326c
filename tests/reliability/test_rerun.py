"""Every run folder holds what is needed to rerun it exactly; `python -m sim rerun` checks it does."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.runner import load_run_config, rerun
from tests.conftest import sim_cli

TINY = ["population.n_citizens=80", "population.n_communities=4", "steps=6", "burn_in=2"]


@pytest.fixture
def saved_run(tmp_path: Path) -> Path:
    cfg = sim.load_config([*TINY, "regime=negotiated", "seed=13", f"output.dir={tmp_path}"])
    result = sim.run(cfg)
    assert result.path is not None
    return result.path


def test_saved_config_recomposes_exactly(saved_run: Path) -> None:
    cfg = load_run_config(saved_run)
    assert cfg == sim.load_config([*TINY, "regime=negotiated", "seed=13", f"output.dir={saved_run.parent.parent}"])
    assert (saved_run / "seed.txt").read_text().strip() == "13"


def test_rerun_reproduces_the_saved_tables(saved_run: Path) -> None:
    report = rerun(saved_run)
    assert report.identical, report.difference
    assert report.rows == 6 and report.warnings == []


def test_rerun_detects_a_tampered_table(saved_run: Path) -> None:
    ts = pd.read_parquet(saved_run / "timeseries.parquet")
    ts.loc[3, "trust_mean"] = ts.loc[3, "trust_mean"] + 1e-12  # the last digit
    ts.to_parquet(saved_run / "timeseries.parquet", index=False)
    report = rerun(saved_run)
    assert not report.identical
    assert "column 'trust_mean', row 3" in report.difference


def test_rerun_warns_when_versions_differ(saved_run: Path) -> None:
    prov = json.loads((saved_run / "provenance.json").read_text())
    prov["dependencies"]["numpy"] = "0.0.1"
    prov["git_revision"] = "0000000"
    (saved_run / "provenance.json").write_text(json.dumps(prov))
    report = rerun(saved_run)
    assert report.identical
    assert any("numpy version differs: saved 0.0.1" in w for w in report.warnings)
    assert any("git_revision differs" in w for w in report.warnings)


def test_cli_rerun_of_a_cli_run(tmp_path: Path) -> None:
    out = sim_cli("run", *TINY, "seed=5", f"output.dir={tmp_path}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (folder,) = list((tmp_path / "runs").iterdir())
    again = sim_cli("rerun", str(folder), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("identical: 6 rows")
    ts = pd.read_parquet(folder / "timeseries.parquet")
    ts.loc[5, "gaming_share"] = 0.5
    ts.to_parquet(folder / "timeseries.parquet", index=False)
    tampered = sim_cli("rerun", str(folder), cwd=tmp_path)
    assert tampered.returncode == 1
    assert "different: column 'gaming_share', row 5" in tampered.stderr
    missing = sim_cli("rerun", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("error: rerun")
    assert "Traceback" not in missing.stderr

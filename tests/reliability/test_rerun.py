"""Every run folder holds what is needed to rerun it exactly; `python -m sim rerun` checks it does."""

from __future__ import annotations

import json
import os
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


def test_rerun_reads_its_tables_from_files_not_from_python_file_objects(
    saved_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow may let go of a Python file object it read on its own thread while the interpreter
    shuts down, which aborts the process: about one CLI rerun in twenty did, when the fresh table
    went through an in-memory file. Every table a rerun reads comes from a path."""
    sources: list[object] = []
    read_parquet = pd.read_parquet

    def spy(source: object, *args: object, **kwargs: object) -> pd.DataFrame:
        sources.append(source)
        return read_parquet(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pd, "read_parquet", spy)
    assert rerun(saved_run).identical
    assert len(sources) == 2 and all(isinstance(s, str | os.PathLike) for s in sources), sources


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


# ------------------------------------------------------------------ a damaged folder: say what is damaged (issue 12)
def _damage_config(folder: Path) -> str:
    (folder / "config.yaml").write_text("seed: 13\nsteps: [6\n")  # invalid YAML
    return "config.yaml is damaged: not valid YAML at line"


def _damage_config_not_mapping(folder: Path) -> str:
    (folder / "config.yaml").write_text("- just\n- a list\n")
    return "config.yaml is damaged: it holds no mapping"


def _damage_config_binary(folder: Path) -> str:
    (folder / "config.yaml").write_bytes(b"\xff\xfe\x00garbage")
    return "config.yaml is damaged"


def _truncate_parquet(folder: Path) -> str:
    path = folder / "timeseries.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return "timeseries.parquet is damaged: not a readable Parquet file"


def _empty_parquet(folder: Path) -> str:
    (folder / "timeseries.parquet").write_bytes(b"")
    return "timeseries.parquet is damaged"


def _bad_config_value(folder: Path) -> str:
    text = (folder / "config.yaml").read_text().replace("steps: 6", "steps: -6")
    (folder / "config.yaml").write_text(text)
    return "steps=-6 is out of range"


DAMAGE = [_damage_config, _damage_config_not_mapping, _damage_config_binary, _truncate_parquet, _empty_parquet]


@pytest.mark.parametrize("damage", [*DAMAGE, _bad_config_value], ids=lambda f: f.__name__)
def test_cli_rerun_of_a_damaged_folder_names_the_damage(saved_run: Path, damage: object) -> None:
    assert callable(damage)
    needle = damage(saved_run)
    out = sim_cli("rerun", str(saved_run), cwd=saved_run.parent)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr
    assert len(lines) == 1 and lines[0].startswith(f"error: rerun {saved_run}") and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_rerun_from_python_raises_run_folder_error(saved_run: Path, damage: object) -> None:
    from sim.runner import RunFolderError

    assert callable(damage)
    needle = damage(saved_run)
    with pytest.raises(RunFolderError) as info:
        rerun(saved_run)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_damaged_provenance_is_a_warning_not_a_crash(saved_run: Path) -> None:
    (saved_run / "provenance.json").write_text('{"seed": 13, ')
    report = rerun(saved_run)
    assert report.identical
    assert any("provenance.json is damaged" in w for w in report.warnings)

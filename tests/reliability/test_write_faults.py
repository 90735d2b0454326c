"""Faults on the output side: a folder that cannot be written or a full disk gives one clear error,
and no partial file is ever left that could be taken for a complete one."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import sim
from sim.runner import RUN_FILES, RunWriteError
from tests.conftest import sim_cli

TINY = ["population.n_citizens=60", "population.n_communities=3", "steps=3", "burn_in=1"]


def test_output_dir_under_a_file_fails_before_any_work(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    out = sim_cli("run", *TINY, f"output.dir={blocker}/out", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert "output.dir=" in out.stderr and "is a file; allowed: a writable folder" in out.stderr
    assert "Traceback" not in out.stderr


def test_api_output_dir_under_a_file_raises_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = sim.load_config([*TINY, f"output.dir={blocker}"])
    with pytest.raises(RunWriteError, match=r"cannot write run folder .*file/runs/"):
        sim.run(cfg)


@pytest.mark.parametrize("failing", ["timeseries.parquet", "config.yaml", "seed.txt", "provenance.json", "rename"])
def test_full_disk_leaves_no_partial_run_folder(failing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk at any file (or at the final renames) leaves no file of the run behind."""
    import pandas as pd

    full = OSError(errno.ENOSPC, "No space left on device")
    if failing == "timeseries.parquet":

        def no_space_parquet(self: pd.DataFrame, path: object, *a: object, **k: object) -> None:
            Path(str(path)).write_bytes(b"PAR1 partial")  # a partial write, then the disk is full
            raise full

        monkeypatch.setattr(pd.DataFrame, "to_parquet", no_space_parquet)
    elif failing == "rename":
        real_replace = os.replace
        calls = {"n": 0}

        def replace(src: object, dst: object) -> None:
            calls["n"] += 1
            if calls["n"] == 3:  # after two files are in place
                raise full
            real_replace(src, dst)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "replace", replace)
    else:
        real_write = Path.write_text

        def write_text(self: Path, data: str, *a: object, **k: object) -> int:
            if self.name == failing + ".tmp":
                real_write(self, data[: len(data) // 2])  # half written, then the disk is full
                raise full
            return real_write(self, data, *a, **k)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "write_text", write_text)
    folder = tmp_path / "run"
    cfg = sim.load_config([*TINY, f"output.dir={tmp_path}"])
    with pytest.raises(RunWriteError) as info:
        sim.run(cfg, folder=folder)
    assert str(info.value) == f"cannot write run folder {folder}: No space left on device"
    assert info.value.errno == errno.ENOSPC
    left = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    assert not set(left) & set(RUN_FILES), f"partial run folder left: {left}"
    assert all(name.endswith(".tmp") for name in left), left


def test_a_complete_folder_has_no_temporary_files(tmp_path: Path) -> None:
    result = sim.run(sim.load_config([*TINY, f"output.dir={tmp_path}"]))
    assert result.path is not None
    assert sorted(p.name for p in result.path.iterdir()) == sorted([*RUN_FILES, "details"])
    from sim.details import DETAIL_TABLES

    assert sorted(p.name for p in (result.path / "details").iterdir()) == sorted(f"{t}.parquet" for t in DETAIL_TABLES)

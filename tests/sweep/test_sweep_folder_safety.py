"""A sweep folder belongs to one experiment; damaged run files, a full disk and a read-only folder.

Every case here failed before the folder was checked and the run files checksummed (issue 12):
another experiment's folder was run into with exit 0, a truncated run file was counted as done,
a full disk and a read-only folder ended in a traceback, and ``/dev/null`` gave a traceback.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import GRID, NO_ANALYSIS, run_tiny, tiny

import sim.sweep.store as store_module
from sim.sweep.store import FolderError, Store, SweepStorageError, read_sweep

OVERRIDES = tiny(GRID, replications=2)  # 8 runs of 4 months


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SIM_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def _temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The table of an uninterrupted serial sweep of OVERRIDES."""
    folder = tmp_path_factory.mktemp("reference")
    run_tiny([*OVERRIDES, NO_ANALYSIS], folder)  # the table only: the analysis does not change it
    return read_sweep(folder, strict=True)


def _cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    regular = tmp_path / "a-file"
    regular.write_text("not a folder\n")
    return {
        "another experiment": (["experiment.name=other"], "belongs to experiment 'main', not 'other'"),
        "other settings": (["steps=5"], "holds experiment 'main' with other settings or model code"),
        "/dev/null": (["experiment.folder=/dev/null"], "sweep folder '/dev/null' exists and is not a folder"),
        "under a file": ([f"experiment.folder={regular}/sweep"], f"'{regular}' is not a folder"),
    }


@pytest.mark.parametrize("case", ["another experiment", "other settings", "/dev/null", "under a file"])
def test_a_folder_of_another_experiment_or_no_folder_is_refused_before_anything_is_written(
    tmp_path: Path, case: str
) -> None:
    folder = tmp_path / "sweep"
    run_tiny(OVERRIDES, folder)
    before = _snapshot(folder)
    extra, needle = _cases(tmp_path)[case]
    out = _cli(*OVERRIDES, f"experiment.folder={folder}", *extra, f"output.dir={tmp_path / 'out'}", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = _error_lines(out.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: sweep folder") and needle in lines[0], out.stderr
    assert "allowed:" in lines[0] and "Traceback" not in out.stderr
    assert _snapshot(folder) == before  # manifest, plan, config, runs: not a byte changed
    assert not (folder / ".hydra").exists() and not (tmp_path / "out").exists()
    assert (tmp_path / "a-file").read_text() == "not a folder\n"


def test_a_folder_with_foreign_content_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("my thesis\n")
    out = _cli(*OVERRIDES, f"experiment.folder={folder}", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = _error_lines(out.stderr)
    assert len(lines) == 1 and "holds files that are not a sweep's (chapter1.tex)" in lines[0], out.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["chapter1.tex"]
    with pytest.raises(FolderError, match="holds files that are not a sweep's"):  # from Python too
        run_tiny(OVERRIDES, folder)


def test_the_same_experiment_resumes_in_its_folder_from_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    first = _cli(*OVERRIDES, f"experiment.folder={folder}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = _cli(*OVERRIDES, "experiment.replications=3", f"experiment.folder={folder}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "12 runs planned, 8 already done, 4 run now, 0 failed" in again.stdout


def test_a_damaged_run_file_is_named_and_run_again(
    tmp_path: Path, reference: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "sweep"
    run_tiny(OVERRIDES, folder)
    store = Store(folder)
    keys = sorted(store.done_keys())
    truncated, legacy = store.run_path(keys[0]), store.run_path(keys[1])
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    # A folder from before checksums: no record, and a file cut short too; it is read in full.
    store.checksum_path(keys[1]).unlink()
    legacy.write_bytes(legacy.read_bytes()[:-40])
    store.checksum_path(keys[2]).unlink()  # an intact file without a record is kept, and recorded
    capsys.readouterr()
    again = run_tiny(OVERRIDES, folder)
    err = capsys.readouterr().err
    assert (again.stats.damaged, again.stats.ran, again.stats.already_done) == (2, 2, 6)
    named = [line for line in err.splitlines() if "is damaged" in line]
    assert len(named) == 2 and str(truncated) in named[0] + named[1] and str(legacy) in named[0] + named[1]
    assert store.checksum_path(keys[2]).is_file()
    pd.testing.assert_frame_equal(read_sweep(folder, strict=True), reference)
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "timeseries.parquet"), reference)


def test_a_damaged_detail_table_reruns_its_run(tmp_path: Path, reference: pd.DataFrame) -> None:
    folder, tables_only = tmp_path / "sweep", [*OVERRIDES, NO_ANALYSIS]  # the runs write the detail tables
    run_tiny(tables_only, folder)
    details = sorted((folder / "details").glob("*/*.parquet"))
    assert details, "the tiny sweep records detail tables"
    details[0].write_bytes(b"PAR1")
    again = run_tiny(tables_only, folder)
    assert (again.stats.damaged, again.stats.ran) == (1, 1)
    pd.testing.assert_frame_equal(read_sweep(folder, strict=True), reference)


def test_a_full_disk_ends_with_one_error_and_no_temporary_file_then_resumes(
    tmp_path: Path, reference: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "sweep"
    real = store_module._fsync
    calls = {"n": 0}

    def full_after_a_few(path: Path) -> None:
        calls["n"] += 1
        if calls["n"] > 12:  # past the manifest and a few runs: the disk fills up mid-sweep
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path)

    monkeypatch.setattr(store_module, "_fsync", full_after_a_few)
    with pytest.raises(SweepStorageError) as info:
        run_tiny(OVERRIDES, folder)
    message = str(info.value)
    assert "\n" not in message and "No space left on device" in message, message
    assert "run the same command again to resume" in message and info.value.exit_code == 1
    saved = len(Store(folder).done_keys())
    assert 0 < saved < 8 and f"{saved} of 8 runs are saved" in message
    assert not _temporary_files(folder)
    assert not list((folder / "failed").glob("*.json"))  # a full disk is not the runs' fault
    monkeypatch.setattr(store_module, "_fsync", real)  # space freed
    again = run_tiny(OVERRIDES, folder)
    assert (again.stats.already_done, again.stats.ran, again.stats.damaged) == (saved, 8 - saved, 0)
    pd.testing.assert_frame_equal(read_sweep(folder, strict=True), reference)


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _until(command: list[str], seconds: float = 5.0) -> bool:
    """Run ``command`` until it succeeds, for up to ``seconds``: the kernel refuses to make a mount
    read-only (or to unmount it) while a worker has a file open on it for writing, for a run's
    moment."""
    deadline = time.monotonic() + seconds
    while subprocess.run(command, capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _pages(path: Path) -> int:
    return sum(-(-p.stat().st_size // 4096) * 4096 for p in path.rglob("*") if p.is_file())


def test_a_real_full_disk_from_the_command_line(tmp_path: Path, reference: pd.DataFrame) -> None:
    """A real, tiny tmpfs: the sweep fills it, ends with one line, and resumes once space is freed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        sample = tmp_path / "sample"
        run_tiny(OVERRIDES, sample)
        runs = sum(_pages(sample / d) for d in ("runs", "details", "checksums"))
        setup = sum(-(-p.stat().st_size // 4096) * 4096 for p in sample.iterdir() if p.suffix in (".json", ".parquet"))
        room = setup + _pages(sample / "arms") + 32 * 1024 + runs // 2  # Hydra's files, the plan, half the runs
        ballast = disk / "ballast"
        with open(ballast, "wb") as fh:
            fh.write(b"\0" * (64 * 1024 * 1024 - room))
        folder = disk / "sweep"
        out = _cli(*OVERRIDES, f"experiment.folder={folder}", cwd=tmp_path)
        assert out.returncode == 1, out.stderr
        lines = _error_lines(out.stderr)
        assert len(lines) == 1 and "No space left on device" in lines[0], out.stderr
        assert "run the same command again" in lines[0] and "Traceback" not in out.stderr
        assert not _temporary_files(folder)
        print(f"runs saved when the disk was full: {len(Store(folder).done_keys())} of 8")
        ballast.unlink()  # space freed
        again = _cli(*OVERRIDES, f"experiment.folder={folder}", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        pd.testing.assert_frame_equal(read_sweep(folder, strict=True), reference)
        assert not _temporary_files(folder)
    finally:
        subprocess.run(["umount", str(disk)], check=True)


SLOW = tiny(
    "++experiment.sweep={design:grid,parameters:{regime.audit_rate:[0.0,0.2,0.4]}}",
    "population.n_citizens=300",
    "steps=40",
    replications=4,
)


def test_a_folder_made_read_only_mid_run_ends_with_one_error_then_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SIM_DEBUG"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *SLOW, f"experiment.folder={folder}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    mounted = False
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and len(Store(folder).done_keys()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        # Read-only under the running sweep (a bind mount: chmod does not stop root).
        if not (_mount("--bind", str(folder), str(folder))):
            proc.kill()
            pytest.skip("cannot bind-mount here (needs root)")
        mounted = True
        assert _until(["mount", "-o", "remount,bind,ro", str(folder)])
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, err
        lines = _error_lines(err)
        assert len(lines) == 1 and "Read-only file system" in lines[0] and "Traceback" not in err, err
        saved = len(Store(folder).done_keys())
    finally:
        if proc.poll() is None:
            proc.kill()
        if mounted:
            assert _until(["umount", str(folder)])  # permission restored
    print(f"runs saved when the folder became read-only: {saved} of 24")
    again = _cli(*SLOW, f"experiment.folder={folder}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"{saved} already done" in again.stdout
    clean = tmp_path / "clean"
    run_tiny(SLOW, clean)
    pd.testing.assert_frame_equal(read_sweep(folder, strict=True), read_sweep(clean, strict=True))
    assert not _temporary_files(folder)

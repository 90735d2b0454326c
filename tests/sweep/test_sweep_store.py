"""The results store: atomic run files, streamed chunks, one tidy table, readable without the package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import GRID, NO_ANALYSIS, run_tiny, tiny

from sim.config import compose
from sim.metrics import COLUMNS
from sim.sweep.plan import build_plan
from sim.sweep.store import RunWriter, Store, read_sweep
from sim.sweep.worker import run_task


def test_a_run_file_appears_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "abc.parquet"
    w = RunWriter(path, {"arm": "a", "replication": 0})
    w.write(pd.DataFrame({"step": [0, 1], "x": [0.5, 0.6]}))
    assert not path.exists() and w.tmp.exists() and w.tmp.name.startswith(".")
    w.write(pd.DataFrame({"step": [2], "x": [0.7]}))
    w.commit()
    assert path.exists() and not w.tmp.exists()
    table = pq.read_table(path).to_pandas()
    assert list(table.columns) == ["arm", "replication", "step", "x", "key"]
    assert table["step"].tolist() == [0, 1, 2] and set(table["key"]) == {"abc"}
    w2 = RunWriter(tmp_path / "def.parquet", {"arm": "a"})
    w2.write(pd.DataFrame({"step": [0], "x": [0.1]}))
    w2.abort()
    assert not any(p.name.startswith("def") or p.name.startswith(".def") for p in tmp_path.iterdir())


def test_streaming_in_chunks_gives_the_same_table(tmp_path: Path) -> None:
    ov = tiny("steps=9", replications=1)
    plan = build_plan(compose(ov), ov)
    row = next(plan.execution_order())
    tables = []
    for chunk in (2, 4, 1000):
        folder = tmp_path / f"c{chunk}"
        Store(folder).prepare()
        out = run_task(plan.task(row, str(folder), chunk_steps=chunk))
        assert out.ok and out.rows == 9, out.error
        path = Store(folder).run_path(row["key"])
        if chunk == 2:
            assert pq.ParquetFile(path).num_row_groups == 5  # written as it ran, 2 months at a time
        tables.append(pq.read_table(path).to_pandas())
    pd.testing.assert_frame_equal(tables[0], tables[1])
    pd.testing.assert_frame_equal(tables[0], tables[2])


def test_the_sweep_reads_back_as_one_tidy_table(tmp_path: Path) -> None:
    ov = tiny(GRID)
    result = run_tiny(ov, tmp_path)
    ts = read_sweep(tmp_path)
    assert list(ts.columns[:5]) == ["arm", "point", "replication", "seed", "regime.audit_rate"]
    assert [c for c in ts.columns if c in COLUMNS] == list(COLUMNS)
    assert len(ts) == 2 * 2 * 2 * 4  # arms x points x replications x months
    assert ts.groupby(["arm", "point", "replication"]).size().eq(4).all()
    assert ts.groupby("point")["regime.audit_rate"].nunique().eq(1).all()
    pd.testing.assert_frame_equal(ts, pd.read_parquet(tmp_path / "timeseries.parquet"))
    pd.testing.assert_frame_equal(ts, result.timeseries)
    manifest = pd.read_parquet(tmp_path / "manifest.parquet")
    assert len(manifest) == 8 and manifest["key"].is_unique
    prov = json.loads((tmp_path / "provenance.json").read_text())
    assert prov["git_revision"] and prov["dependencies"]["SALib"] and prov["sessions"][0]["command"]
    assert {"arms", "runs", "failed"} <= {p.name for p in tmp_path.iterdir()}
    # Only columns asked for (labels always come).
    small = read_sweep(tmp_path, columns=["true_outcome"])
    assert list(small.columns) == [
        "arm",
        "point",
        "replication",
        "seed",
        "regime.audit_rate",
        "step",
        "true_outcome",
        "key",
    ]


READER = """
import sys
import pyarrow.dataset as ds
table = ds.dataset(sys.argv[1] + "/runs", format="parquet").to_table().to_pandas()
assert "sim" not in sys.modules, "the store must read without the package"
print(len(table), table["key"].nunique(), table["regime.audit_rate"].nunique())
try:
    import duckdb
except ImportError:
    print("no duckdb")
else:
    con = duckdb.connect()
    q = "SELECT arm, count(*) AS n, avg(true_outcome) AS t FROM read_parquet(?) GROUP BY arm ORDER BY arm"
    print(con.execute(q, [sys.argv[1] + "/runs/*.parquet"]).fetchall())
"""


def test_the_store_reads_without_the_package(tmp_path: Path) -> None:
    run_tiny(tiny(GRID), tmp_path)
    # A partial file left by a killed run must not disturb readers.
    (tmp_path / "runs" / ".deadbeef.parquet.123.tmp").write_bytes(b"PAR1 partial")
    out = subprocess.run([sys.executable, "-I", "-c", READER, str(tmp_path)], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "32 8 2"
    if lines[1] != "no duckdb":
        assert "('negotiated', 16" in lines[1] and "('targets', 16" in lines[1]


def test_a_sweep_resumes_without_running_anything_twice(tmp_path: Path) -> None:
    first = run_tiny(tiny(GRID, NO_ANALYSIS, replications=2), tmp_path)
    assert (first.stats.ran, first.stats.already_done) == (8, 0)
    again = run_tiny(tiny(GRID, NO_ANALYSIS, replications=2), tmp_path)
    assert (again.stats.ran, again.stats.already_done) == (0, 8)
    more = run_tiny(tiny(GRID, NO_ANALYSIS, replications=3), tmp_path)
    assert (more.stats.ran, more.stats.already_done) == (4, 8)  # only the new replication runs
    assert len(list((tmp_path / "runs").glob("*.parquet"))) == 12
    assert len(read_sweep(tmp_path)) == 12 * 4


def test_a_run_that_raises_is_recorded_and_the_sweep_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.sweep.worker as worker

    ov = tiny(GRID)
    seeds = build_plan(compose(ov), ov).seeds
    real = worker.simulate_chunks

    def flaky(cfg, chunk_steps, sink):  # type: ignore[no-untyped-def]
        if cfg.seed == seeds[1] and cfg.regime.name == "negotiated" and cfg.regime.audit_rate > 0:
            raise RuntimeError("boom: a deliberately failing run")
        return real(cfg, chunk_steps, sink)

    monkeypatch.setattr(worker, "simulate_chunks", flaky)
    result = run_tiny(ov, tmp_path)
    assert (result.stats.ran, result.stats.failed) == (7, 1)
    records = list((tmp_path / "failed").glob("*.json"))
    assert len(records) == 1
    rec = json.loads(records[0].read_text())
    assert rec["error"] == "RuntimeError: boom: a deliberately failing run"
    assert "Traceback" in rec["traceback"] and "flaky" in rec["traceback"]
    assert "name: negotiated" in rec["config_yaml"] and f"seed: {seeds[1]}" in rec["config_yaml"]
    assert rec["arm"] == "negotiated" and rec["replication"] == 1 and rec["regime.audit_rate"] == 0.3
    assert len(read_sweep(tmp_path)) == 7 * 4
    assert "Failed runs: 1" in (tmp_path / "report.md").read_text()
    # Fixed: the same command retries the failed run only, and the record goes.
    monkeypatch.setattr(worker, "simulate_chunks", real)
    again = run_tiny(ov, tmp_path)
    assert (again.stats.ran, again.stats.failed, again.stats.already_done) == (1, 0, 7)
    assert not list((tmp_path / "failed").glob("*.json"))
    assert len(read_sweep(tmp_path, strict=True)) == 8 * 4

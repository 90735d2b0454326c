"""The results store: one Parquet file per run, written atomically, in the sweep folder.

Layout of a sweep folder::

    manifest.parquet      every planned run: key, arm, point, replication, seed, parameters
    plan.json             the design, arms, seeds and code fingerprint the manifest came from
    arms/<arm>.yaml       each arm's resolved config (a run's config = arm + point + seed)
    provenance.json       package and dependency versions, git revision, and one entry per session
    runs/<key>.parquet    one finished run: its labels and parameters as columns, one row per month
    details/<table>/<key>.parquet  its detail tables (sim.details), written before the run's file
    failed/<key>.json     a run that raised: traceback, config, labels
    runs/.<key>.*.tmp     a run being written (ignored by readers; removed on resume)

A run's file appears under its final name only when complete (written under a temporary name,
flushed, then renamed), so a crash at any moment leaves either the whole file or none; its key is
a hash of its resolved config (which includes its seed), so a run can never be stored twice.
``pyarrow.dataset`` and DuckDB skip the temporary files (names starting with a dot), so the
folder can be read while a sweep is running, without this package::

    import pyarrow.dataset as ds
    table = ds.dataset("outputs/main/sweep-.../runs", format="parquet").to_table()
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.provenance import write_json

LABELS: tuple[str, ...] = ("arm", "point", "replication", "seed")
MANIFEST = "manifest.parquet"


class SweepError(RuntimeError):
    """The sweep cannot go on (another process holds its folder, or the folder holds another sweep)."""


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_table(table: pa.Table, path: Path) -> None:
    """Write a Parquet file under a temporary name, flush it to disk, then rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    _fsync(tmp)
    os.replace(tmp, path)


class RunWriter:
    """Append a run's time series chunk by chunk; the file gets its final name only on :meth:`commit`.

    Args:
        path: the final file, ``runs/<key>.parquet``.
        labels: constant columns put in front of every row (arm, point, replication, seed, parameters).
        fsync: flush the file to disk before renaming it (on by default: survives a power cut too).

    """

    def __init__(self, path: Path, labels: dict[str, Any], fsync: bool = True) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.labels = labels
        self.fsync = fsync
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append some months (a DataFrame with the metrics columns)."""
        if frame.empty:
            return
        frame = frame.copy()
        for i, (name, value) in enumerate(self.labels.items()):
            frame.insert(i, name, value)
        frame["key"] = self.path.stem
        if self._writer is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            self._schema = table.schema.remove_metadata()
            self._writer = pq.ParquetWriter(self.tmp, self._schema)
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        self._writer.write_table(table.replace_schema_metadata(None).cast(self._schema))
        self.rows += len(frame)

    def commit(self) -> None:
        """Close the file and give it its final name."""
        if self._writer is None:
            raise ValueError("a run wrote no rows")
        self._writer.close()
        self._writer = None
        if self.fsync:
            _fsync(self.tmp)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # best effort on an already failed run
                pass
            self._writer = None
        self.tmp.unlink(missing_ok=True)


class Store:
    """A sweep folder: paths, the runs done and failed, the manifest, and reading it back."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.runs = self.folder / "runs"
        self.failed = self.folder / "failed"

    def run_path(self, key: str) -> Path:
        """Where a finished run lives."""
        return self.runs / f"{key}.parquet"

    def detail_path(self, table: str, key: str) -> Path:
        """Where one of a finished run's detail tables lives."""
        return self.folder / "details" / table / f"{key}.parquet"

    def write_details(self, key: str, tables: dict[str, pa.Table]) -> None:
        """Write a run's detail tables (each atomically)."""
        for name, table in tables.items():
            path = self.detail_path(name, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_table(table, path)

    def failure_path(self, key: str) -> Path:
        """Where a failed run's record lives."""
        return self.failed / f"{key}.json"

    def prepare(self) -> None:
        """Create the folders and remove partial files left by a killed sweep."""
        self.runs.mkdir(parents=True, exist_ok=True)
        self.failed.mkdir(parents=True, exist_ok=True)
        for tmp in [*self.runs.glob(".*.tmp"), *self.folder.glob("details/*/.*.tmp")]:
            tmp.unlink(missing_ok=True)
        for tmp in self.folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)

    def done_keys(self) -> set[str]:
        """Keys of the runs whose file is complete."""
        if not self.runs.is_dir():
            return set()
        return {p.name[: -len(".parquet")] for p in os.scandir(self.runs) if _is_run_file(p.name)}

    def failed_keys(self) -> set[str]:
        """Keys of the runs that raised (and have not succeeded since)."""
        if not self.failed.is_dir():
            return set()
        return {p.name[: -len(".json")] for p in os.scandir(self.failed) if p.name.endswith(".json")}

    def record_failure(self, key: str, record: dict[str, Any]) -> None:
        """Write a failed run's record (atomically)."""
        self.failed.mkdir(parents=True, exist_ok=True)
        write_json(self.failure_path(key), record)

    def clear_failure(self, key: str) -> None:
        """Forget an earlier failure of a run that has now succeeded."""
        self.failure_path(key).unlink(missing_ok=True)

    def failures(self) -> list[dict[str, Any]]:
        """Every failure record."""
        return [json.loads(p.read_text()) for p in sorted(self.failed.glob("*.json"))]

    def write_manifest(self, manifest: pd.DataFrame) -> None:
        """Write the planned runs (atomically)."""
        atomic_write_table(pa.Table.from_pandas(manifest, preserve_index=False), self.folder / MANIFEST)

    def manifest(self) -> pd.DataFrame:
        """The planned runs."""
        return pd.read_parquet(self.folder / MANIFEST)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder for one sweep process at a time (released by the OS if the process dies)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            yield
            return
        path = self.folder / ".lock"
        with open(path, "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise SweepError(f"another sweep (pid {holder}) is running in {self.folder}; wait for it") from None
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _is_run_file(name: str) -> bool:
    return name.endswith(".parquet") and not name.startswith((".", "_"))


def read_sweep(
    folder: str | Path,
    columns: Sequence[str] | None = None,
    *,
    strict: bool = False,
) -> pd.DataFrame:
    """The whole sweep as one tidy table: one row per run and month, run parameters as columns.

    Rows come in the manifest's order (arm, point, replication), then by month, so two sweeps
    of the same plan give identical tables whichever backend ran them and however often they
    were interrupted and resumed.

    Args:
        folder: the sweep folder.
        columns: the metric columns to read (all if None); labels and parameters always come.
        strict: raise if any planned run is missing (failed or not yet run).

    Returns:
        Columns: arm, point, replication, seed, the swept parameters, step, regime, the metrics, key.

    """
    import pyarrow.dataset as ds

    store = Store(folder)
    manifest = store.manifest()
    labels = [c for c in manifest.columns if c != "key"]
    done = store.done_keys()
    missing = set(manifest["key"]) - done
    if strict and missing:
        raise SweepError(f"{len(missing)} planned runs of {folder} have no results (failed or not run)")
    files = [str(store.run_path(k)) for k in dict.fromkeys(manifest["key"]) if k in done]
    if not files:
        return pd.DataFrame(columns=[*labels, "key"])
    dataset = ds.dataset(files, format="parquet")
    names = [n for n in dataset.schema.names if n not in labels]
    if columns is not None:
        wanted = {"key", "step", *columns}
        names = [n for n in names if n in wanted]
    data = dataset.to_table(columns=names).to_pandas()
    # The manifest labels every planned run, even one whose config repeats another's (a Morris
    # design can revisit a point): join on the key rather than trusting the file's own labels.
    order = manifest.assign(_order=range(len(manifest)))
    out = order.merge(data, on="key", how="inner", sort=False)
    out = out.sort_values(["_order", "step"], kind="stable").drop(columns="_order").reset_index(drop=True)
    return out[[*labels, *[n for n in names if n != "key"], "key"]]


def read_details(folder: str | Path, table: str) -> pd.DataFrame:
    """One detail table (``sim.details``) of every finished run, with the runs' labels and parameters.

    Rows come in the manifest's order. Runs without the table (none recorded) are left out.

    Args:
        folder: the sweep folder.
        table: ``indicator_histogram``, ``services`` or ``communities``.

    """
    store = Store(folder)
    manifest = store.manifest()
    done = store.done_keys()
    paths = [store.detail_path(table, k) for k in dict.fromkeys(manifest["key"]) if k in done]
    frames = [pd.read_parquet(p) for p in paths if p.is_file()]
    if not frames:
        return pd.DataFrame(columns=list(manifest.columns))
    data = pd.concat(frames, ignore_index=True)
    order = manifest.assign(_order=range(len(manifest)))
    out = order.merge(data, on="key", how="inner", sort=False)
    return out.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)

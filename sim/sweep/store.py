"""The results store: one Parquet file per run, written atomically, in the sweep folder.

Layout of a sweep folder::

    manifest.parquet      every planned run: key, arm, point, replication, seed, parameters
    plan.json             the design, arms, seeds and code fingerprint the manifest came from
    arms/<arm>.yaml       each arm's resolved config (a run's config = arm + point + seed)
    provenance.json       package and dependency versions, git revision, and one entry per session
    runs/<key>.parquet    one finished run: its labels and parameters as columns, one row per month
    details/<table>/<key>.parquet  its detail tables (sim.details), written before the run's file
    failed/<key>.json     a run that raised: traceback, config, labels
    checksums/<key>.json  the SHA-256 of the run's file and of its detail tables
    sweep.json            which experiment (name and sweep id) the folder belongs to
    runs/.<key>.*.tmp     a run being written (ignored by readers; removed on resume)

A run's file appears under its final name only when complete (written under a temporary name,
flushed, its checksum recorded, then renamed), so a crash at any moment leaves either the whole
file or none; its key is a hash of its resolved config (which includes its seed), so a run can
never be stored twice. The checksum is written before the rename, so a run file under its final
name always has one: a resume hashes every run file and reruns any that was damaged afterwards.
A folder belongs to the experiment named in its ``sweep.json``; another experiment's folder, or a
folder holding anything else, is refused before anything is written into it.
``pyarrow.dataset`` and DuckDB skip the temporary files (names starting with a dot), so the
folder can be read while a sweep is running, without this package::

    import pyarrow.dataset as ds
    table = ds.dataset("outputs/main/sweep-.../runs", format="parquet").to_table()
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config import ConfigError

LABELS: tuple[str, ...] = ("arm", "point", "replication", "seed")
MANIFEST = "manifest.parquet"
IDENTITY = "sweep.json"
# What Hydra (and the lock) put into a run directory before a sweep starts: a folder holding only
# these has not been claimed by any experiment yet.
UNCLAIMED_ENTRIES = (".hydra", ".lock")
# Errors that say the folder cannot take more data (not that a run is wrong): the sweep stops,
# keeps what it has, and the same command resumes once space or permission is back.
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO, errno.ENOTDIR}
)


class SweepError(RuntimeError):
    """The sweep cannot go on (another process holds its folder, or the folder holds another sweep).

    Attributes:
        exit_code: what ``python -m sim`` exits with (2: refused before any work).

    """

    exit_code = 2


class FolderError(SweepError, ConfigError):
    """The sweep folder cannot be used: not a folder, another experiment's, or holding other files."""


class SweepStorageError(SweepError):
    """The sweep folder stopped taking data (a full disk, a read-only folder); what was saved stays."""

    exit_code = 1


class SweepInterrupted(SweepError):
    """The sweep was stopped by Ctrl-C or SIGTERM; what was saved stays."""

    exit_code = 130


def is_storage_error(exc: BaseException) -> bool:
    """Whether an exception says the folder cannot be written (full, read-only, no permission)."""
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _tmp_name(path: Path) -> Path:
    # A leading dot: pyarrow.dataset, DuckDB and the store's own readers skip the file.
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _atomic_write(path: Path, write: Callable[[Path], None], fsync: bool = True) -> None:
    """Write through ``write(tmp)``, flush, rename; on any error remove the temporary file and re-raise."""
    tmp = _tmp_name(path)
    try:
        write(tmp)
        if fsync:
            _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # a read-only folder: the next session's prepare() removes it
        pass


def atomic_write_text(path: Path, text: str, fsync: bool = True) -> None:
    """Write a text file atomically; a failed write leaves neither a partial file nor a temporary one."""
    _atomic_write(path, lambda tmp: tmp.write_text(text), fsync)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (as :func:`sim.provenance.write_json`, but leaving no temporary file on error)."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_table(table: pa.Table, path: Path) -> None:
    """Write a Parquet file under a temporary name, flush it to disk, then rename it into place.

    A failed write (a full disk, a read-only folder) removes the temporary file before re-raising.
    """
    _atomic_write(path, lambda tmp: pq.write_table(table, tmp))


class RunWriter:
    """Append a run's time series chunk by chunk; the file gets its final name only on :meth:`commit`.

    Args:
        path: the final file, ``runs/<key>.parquet``.
        labels: constant columns put in front of every row (arm, point, replication, seed, parameters).
        fsync: flush the file to disk before renaming it (on by default: survives a power cut too).

    """

    def __init__(self, path: Path, labels: dict[str, Any], fsync: bool = True) -> None:
        self.path = path
        self.tmp = _tmp_name(path)
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

    def commit(self, before_rename: Callable[[Path], None] | None = None) -> None:
        """Close the file and give it its final name.

        Args:
            before_rename: called with the complete temporary file before it is renamed (the
                store records its checksum there, so a file under its final name always has one).

        """
        if self._writer is None:
            raise ValueError("a run wrote no rows")
        self._writer.close()
        self._writer = None
        if self.fsync:
            _fsync(self.tmp)
        if before_rename is not None:
            before_rename(self.tmp)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # best effort on an already failed run
                pass
            self._writer = None
        _unlink_quietly(self.tmp)


class Store:
    """A sweep folder: paths, the runs done and failed, the manifest, and reading it back."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.runs = self.folder / "runs"
        self.failed = self.folder / "failed"
        self.checksums = self.folder / "checksums"

    def run_path(self, key: str) -> Path:
        """Where a finished run lives."""
        return self.runs / f"{key}.parquet"

    def detail_path(self, table: str, key: str) -> Path:
        """Where one of a finished run's detail tables lives."""
        return self.folder / "details" / table / f"{key}.parquet"

    def checksum_path(self, key: str) -> Path:
        """Where a finished run's checksums live."""
        return self.checksums / f"{key}.json"

    def write_details(self, key: str, tables: dict[str, pa.Table]) -> dict[str, str]:
        """Write a run's detail tables (each atomically); return each one's SHA-256."""
        sums = {}
        for name, table in tables.items():
            path = self.detail_path(name, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_table(table, path)
            sums[name] = file_sha256(path)
        return sums

    def record_checksums(self, key: str, run_file: Path, details: dict[str, str]) -> None:
        """Record the SHA-256 of a run's complete file (still under its temporary name) and of its details."""
        self.checksums.mkdir(parents=True, exist_ok=True)
        record = {"run": file_sha256(run_file), "bytes": run_file.stat().st_size, "details": details}
        write_json(self.checksum_path(key), record)

    def write_run(self, key: str, table: pa.Table, details: dict[str, pa.Table]) -> None:
        """Write a run sent back to the driver: details, then checksums, then the run file (each atomically)."""
        sums = self.write_details(key, details)
        path = self.run_path(key)

        def write(tmp: Path) -> None:
            pq.write_table(table, tmp)
            _fsync(tmp)
            self.record_checksums(key, tmp, sums)

        _atomic_write(path, write, fsync=False)

    def failure_path(self, key: str) -> Path:
        """Where a failed run's record lives."""
        return self.failed / f"{key}.json"

    def prepare(self) -> None:
        """Create the folders and remove partial files left by a killed sweep."""
        self.runs.mkdir(parents=True, exist_ok=True)
        self.failed.mkdir(parents=True, exist_ok=True)
        self.remove_temporary()

    def remove_temporary(self) -> list[Path]:
        """Remove every temporary file of the folder (best effort); return those that could not go."""
        left = []
        patterns = (".*.tmp", "*.json.tmp", "runs/.*.tmp", "details/*/.*.tmp", "checksums/.*.tmp", "arms/.*.tmp")
        for pattern in patterns:
            for tmp in self.folder.glob(pattern):
                try:
                    tmp.unlink(missing_ok=True)
                except OSError:
                    left.append(tmp)
        return left

    def done_keys(self) -> set[str]:
        """Keys of the runs whose file is complete."""
        if not self.runs.is_dir():
            return set()
        return {p.name[: -len(".parquet")] for p in os.scandir(self.runs) if _is_run_file(p.name)}

    def verify(self, report: Callable[[str], None] | None = None) -> list[str]:
        """Check every run file (and its detail tables) against its recorded checksum; drop the damaged ones.

        A run file of a folder written before checksums were recorded is read in full instead, and
        its checksum recorded if it reads. A damaged run's files are removed, so the sweep runs it
        again; ``report`` gets one line naming each.

        Returns:
            The keys of the damaged runs.

        """
        damaged = []
        for key in sorted(self.done_keys()):
            problem = self._check_run(key)
            if problem:
                damaged.append(key)
                if report is not None:
                    report(f"run file {self.run_path(key)} is damaged ({problem}); running it again")
                self._drop_run(key)
        return damaged

    def _check_run(self, key: str) -> str:
        path = self.run_path(key)
        record_path = self.checksum_path(key)
        if not record_path.is_file():
            return self._adopt(key)
        try:
            record = json.loads(record_path.read_text())
            want, details = str(record["run"]), dict(record.get("details", {}))
        except (OSError, ValueError, KeyError, TypeError):
            return f"its checksum record {record_path} is unreadable"
        if file_sha256(path) != want:
            return f"{path.stat().st_size} bytes, not the {record.get('bytes', '?')} bytes recorded: checksum differs"
        for name, digest in details.items():
            detail = self.detail_path(name, key)
            if not detail.is_file():
                return f"its detail table {detail} is missing"
            if file_sha256(detail) != digest:
                return f"its detail table {detail} differs from its checksum"
        return ""

    def _adopt(self, key: str) -> str:
        """A run file without a checksum (an older folder): read it in full; record its checksum if it reads."""
        path = self.run_path(key)
        sums = {}
        try:
            pq.read_table(path)
            for detail in sorted(self.folder.glob(f"details/*/{key}.parquet")):
                pq.read_table(detail)
                sums[detail.parent.name] = file_sha256(detail)
        except (OSError, ValueError, pa.ArrowException) as exc:
            if is_storage_error(exc):
                raise
            return f"it does not read as Parquet: {type(exc).__name__}"
        self.record_checksums(key, path, sums)
        return ""

    def _drop_run(self, key: str) -> None:
        self.run_path(key).unlink(missing_ok=True)
        self.checksum_path(key).unlink(missing_ok=True)
        for detail in self.folder.glob(f"details/*/{key}.parquet"):
            detail.unlink(missing_ok=True)

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

    def claim(self, experiment: str, sweep_id: str) -> None:
        """Record which experiment the folder belongs to (once; :func:`check_folder` checks it)."""
        path = self.folder / IDENTITY
        if not path.is_file():
            write_json(path, {"experiment": experiment, "sweep_id": sweep_id})

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


def check_folder(folder: str | Path, experiment: str, sweep_id: str = "") -> None:
    """Refuse a sweep folder that cannot be one, or that holds anything but this experiment's sweep.

    Writes nothing. A folder may be new, empty, hold only what Hydra writes before a job starts
    (``.hydra/``, a log), or hold this experiment's sweep with the same sweep id (the resolved
    settings, less how they are run, and the model code; see :func:`sim.sweep.plan.sweep_id`).

    Args:
        folder: the sweep folder.
        experiment: the experiment's name.
        sweep_id: its sweep id ("" skips that comparison).

    Raises:
        FolderError: one line naming the folder, what is wrong and what is allowed.

    """
    path = Path(folder)
    allowed = "allowed: a new or empty folder, or this experiment's own sweep folder (set experiment.folder)"
    if path.exists() and not path.is_dir():
        raise FolderError(f"sweep folder '{path}' exists and is not a folder; {allowed}")
    if not path.exists():
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise FolderError(f"sweep folder '{path}' cannot be created: '{parent}' is not a folder; {allowed}")
                break
        return
    identity = path / IDENTITY
    if identity.is_file():
        try:
            owner = json.loads(identity.read_text())
            name, sid = str(owner["experiment"]), str(owner.get("sweep_id", ""))
        except (OSError, ValueError, KeyError, TypeError):
            raise FolderError(f"sweep folder '{path}' has a damaged {IDENTITY}; {allowed}") from None
    elif (path / "plan.json").is_file():  # a folder written before sweep.json existed
        try:
            name, sid = str(json.loads((path / "plan.json").read_text())["experiment"]), ""
        except (OSError, ValueError, KeyError, TypeError):
            raise FolderError(f"sweep folder '{path}' has a damaged plan.json; {allowed}") from None
    else:
        try:
            foreign = sorted(e.name for e in os.scandir(path) if not _unclaimed(e.name))
        except OSError as exc:
            raise FolderError(f"sweep folder '{path}' cannot be read ({exc.strerror}); {allowed}") from None
        if foreign:
            raise FolderError(
                f"sweep folder '{path}' holds files that are not a sweep's ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); {allowed}"
            )
        return
    if name != experiment:
        raise FolderError(f"sweep folder '{path}' belongs to experiment '{name}', not '{experiment}'; {allowed}")
    if sid and sweep_id and sid != sweep_id:
        raise FolderError(
            f"sweep folder '{path}' holds experiment '{name}' with other settings or model code "
            f"(sweep id {sid}, now {sweep_id}); {allowed}"
        )


def _unclaimed(name: str) -> bool:
    return name in UNCLAIMED_ENTRIES or name.endswith(".log")


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

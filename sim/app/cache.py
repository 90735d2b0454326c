"""The explorer's own cache folder: the only place the app writes.

The folder is ``$SIM_APP_CACHE`` if set, else ``$XDG_CACHE_HOME/sim-app`` (``~/.cache/sim-app``).
It holds

- ``results/<key>.json``: the runs of proposals already tested, so that a shared link opens
  with its results at once. The key is a hash of the proposal's canonical settings and of the
  model's code and configs, so a change to the model never serves stale results. At most
  :data:`MAX_RESULTS` files are kept (the oldest are removed), each at most
  :data:`MAX_RESULT_BYTES`; a file that cannot be read is ignored and removed.
- ``solara/``: Solara's home folder (``SOLARA_HOME``), set by :func:`sim.app.serve` before Solara
  is imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.app.proposal import ARMS, SERIES, Proposal, to_query

MAX_RESULTS = 200
MAX_RESULT_BYTES = 20_000_000
_LOCK = threading.Lock()


def cache_dir() -> Path:
    """The cache folder (created on first use)."""
    env = os.environ.get("SIM_APP_CACHE")
    if env:
        path = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "sim-app"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the model's source and configs (the explorer's own files excluded)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*.py") if "app" not in p.relative_to(root).parts[:1])
    configs = root.parent / "configs"
    if configs.is_dir():
        files += sorted(configs.rglob("*.yaml"))
    for path in files:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def result_key(p: Proposal) -> str:
    """The cache key of a proposal's runs."""
    return hashlib.sha256(f"{code_fingerprint()}|{to_query(p)}".encode()).hexdigest()[:24]


def _results_dir() -> Path:
    path = cache_dir() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _valid_runs(p: Proposal, runs: Any) -> bool:
    """Whether ``runs`` has the shape :func:`sim.app.proposal.run_one` gives for ``p``."""
    if not isinstance(runs, list) or len(runs) != p.n_runs:
        return False
    for run in runs:
        if not isinstance(run, dict) or run.get("arm") not in ARMS:
            return False
        series = run.get("series")
        if not isinstance(series, dict) or any(len(series.get(m) or []) != p.steps for m in SERIES):
            return False
        if not isinstance(run.get("fifths"), dict) or not isinstance(run.get("forum"), dict):
            return False
    return True


def load_runs(p: Proposal) -> list[dict[str, Any]] | None:
    """The cached runs of ``p``, or None (a missing, unreadable or malformed file counts as none)."""
    path = _results_dir() / f"{result_key(p)}.json"
    try:
        if not path.is_file() or path.stat().st_size > MAX_RESULT_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        runs = data.get("runs") if isinstance(data, dict) else None
        if data.get("query") != to_query(p) or not _valid_runs(p, runs):
            raise ValueError("malformed")
        path.touch()  # most recently used
        return runs
    except (OSError, ValueError, AttributeError):
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def save_runs(p: Proposal, runs: list[dict[str, Any]]) -> Path | None:
    """Store the runs of ``p`` (atomically) and keep at most :data:`MAX_RESULTS` files; None if not stored."""
    folder = _results_dir()
    text = json.dumps({"query": to_query(p), "code": code_fingerprint(), "runs": runs}, allow_nan=True)
    if len(text) > MAX_RESULT_BYTES:
        return None
    path = folder / f"{result_key(p)}.json"
    with _LOCK:
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        files = sorted(folder.glob("*.json"), key=lambda f: f.stat().st_mtime)
        for old in files[: max(0, len(files) - MAX_RESULTS)]:
            with contextlib.suppress(OSError):
                old.unlink()
    return path

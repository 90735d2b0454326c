"""What a run folder records so that it can be rerun exactly: versions, revision, command."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

DEPENDENCIES = ("mesa", "numpy", "pandas", "pyarrow", "matplotlib", "hydra-core", "omegaconf", "scipy", "networkx")


def git_revision(start: Path | None = None) -> str:
    """The git commit of the source tree (with '+dirty' if it has uncommitted changes), or 'unknown'."""
    where = str(start or Path(__file__).resolve().parent)
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def dependency_versions(names: tuple[str, ...] = DEPENDENCIES) -> dict[str, str]:
    """Installed versions of the packages results depend on."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def config_hash(config_yaml: str) -> str:
    """Short stable hash of a resolved config."""
    return hashlib.sha256(config_yaml.encode()).hexdigest()[:12]


def provenance(seed: int | None, config_yaml: str) -> dict[str, Any]:
    """Everything needed to say what produced a result."""
    from sim import __version__

    return {
        "package": "sim",
        "package_version": __version__,
        "git_revision": git_revision(),
        "seed": seed,
        "config_hash": config_hash(config_yaml),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": dependency_versions(),
        "command": sys.argv,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary name, then rename), so no partial file is ever left."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)

"""What a run folder records so that it can be rerun exactly: versions, revision, command."""

from __future__ import annotations

import hashlib
import json
import os
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


# Flags of /proc/cpuinfo that name SIMD instruction sets: recorded so that a difference in the last
# bits between two machines can be traced to their vector units (docs/reliability.md).
_SIMD_FLAG_PREFIXES = ("sse", "ssse", "avx", "fma", "f16c", "amx", "sha", "aes", "vaes", "vpclmul", "bmi")


def cpu_features() -> dict[str, Any]:
    """The CPU's SIMD features, and the ones numpy's run-time dispatch actually uses.

    ``numpy_dispatch`` (numpy's dispatch targets enabled on this CPU, after any
    ``NPY_DISABLE_CPU_FEATURES``) is what decides which vectorised code numpy runs; it is the
    signature golden and catalogue references are matched on (``sim.reproducibility``).
    """
    import numpy as np

    try:
        from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import (  # type: ignore[no-redef]
            __cpu_baseline__,
            __cpu_dispatch__,
            __cpu_features__,
        )
    flags: list[str] = []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = sorted(f for f in line.split(":", 1)[1].split() if f.startswith(_SIMD_FLAG_PREFIXES))
                break
    except OSError:
        pass
    return {
        "machine": platform.machine(),
        "processor": cpu_model(),
        "cpuinfo_simd_flags": flags,
        "numpy_version": np.__version__,
        "numpy_baseline": list(__cpu_baseline__),
        "numpy_dispatch": [name for name in __cpu_dispatch__ if __cpu_features__.get(name)],
        "numpy_features": sorted(name for name, on in __cpu_features__.items() if on),
        "NPY_DISABLE_CPU_FEATURES": os.environ.get("NPY_DISABLE_CPU_FEATURES", ""),
    }


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo, else the platform's description)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def config_hash(config_yaml: str) -> str:
    """Short stable hash of a resolved config."""
    return hashlib.sha256(config_yaml.encode()).hexdigest()[:12]


def provenance(seed: int | None, config_yaml: str) -> dict[str, Any]:
    """Everything needed to say what produced a result."""
    from sim import __version__
    from sim.config import config_origin

    return {
        "package": "sim",
        "package_version": __version__,
        "git_revision": git_revision(),
        "seed": seed,
        "config_hash": config_hash(config_yaml),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_features(),
        "dependencies": dependency_versions(),
        "command": sys.argv,
        # The config folders searched and the file each chosen config came from (a user's
        # experiment file, --config-dir, hydra.searchpath, SIM_CONFIG_DIR).
        "config_sources": config_origin(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary name, then rename), so no partial file is ever left."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)

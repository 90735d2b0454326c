"""Social productivity: an agent-based model of citizens, public services and communities.

Quick use::

    import sim
    cfg = sim.load_config(["regime=negotiated", "steps=240", "seed=7"])
    result = sim.run(cfg)
    result.timeseries  # pandas DataFrame, one row per month
    result.summary     # dict of end-of-run figures

    res = sim.experiment("main", overrides=["experiment.replications=3"])  # a sweep; docs/api.md
    res.summary, res.differences          # its tables as DataFrames
    sim.read_sweep("outputs/main/latest")  # read one back

The names below are imported on first use, so that ``python -m sim --help`` starts at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS = {
    "ConfigError": "sim.config",
    "SimConfig": "sim.config",
    "load_config": "sim.config",
    "RunResult": "sim.runner",
    "run": "sim.runner",
    "SweepResult": "sim.api",
    "experiment": "sim.api",
    "read_sweep": "sim.api",
}

__all__ = [
    "ConfigError",
    "RunResult",
    "SimConfig",
    "SweepResult",
    "__version__",
    "experiment",
    "load_config",
    "read_sweep",
    "run",
]

if TYPE_CHECKING:
    from sim.api import SweepResult, experiment, read_sweep
    from sim.config import ConfigError, SimConfig, load_config
    from sim.runner import RunResult, run


def __getattr__(name: str) -> Any:
    """Import an exported name on first use (PEP 562)."""
    import importlib

    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

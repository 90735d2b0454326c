"""Tiny sweeps for the sweep tests: a few citizens, a few months, so every test stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

TINY = ["population.n_citizens=120", "population.n_communities=4", "burn_in=1", "steps=4"]
GRID = "++experiment.sweep={design:grid,parameters:{regime.audit_rate:[0.0,0.3]}}"


def tiny(*extra: str, replications: int = 2, backend: str = "serial") -> list[str]:
    """Overrides of a tiny experiment (two arms, targets and negotiated, unless extra says otherwise)."""
    return [
        *TINY,
        "~experiment.arms.functioning",
        "~experiment.arms.none",
        "experiment.analysis.compare=[]",
        f"experiment.replications={replications}",
        f"experiment.backend={backend}",
        "experiment.progress=false",
        *extra,
    ]


def run_tiny(overrides: list[str], folder: Path) -> Any:
    from sim.config import compose
    from sim.runner import run_experiment

    return run_experiment(compose(overrides), overrides, folder)


@pytest.fixture
def tiny_overrides() -> Any:
    return tiny

"""Tiny sweeps for the sweep tests: a few citizens, a few months, so every test stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

TINY = ["population.n_citizens=120", "population.n_communities=4", "burn_in=1", "steps=4"]
GRID = "++experiment.sweep={design:grid,parameters:{regime.audit_rate:[0.0,0.3]}}"
# For tests that compare or count the runs' tables only: the analysis (figures, report) is most of a
# tiny sweep's time (about 4 s of runs against 16 s of analysis) and is tested on its own
# (tests/test_report.py, test_sweep_analysis.py and the tests here that read the report).
NO_ANALYSIS = "experiment.analysis.enabled=false"


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

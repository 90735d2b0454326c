"""Shared fixtures: small, fast configurations and a runner of seeded replications."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

import sim
from sim.model import SocialProductivityModel


def small_overrides(*extra: str) -> list[str]:
    """A small population that still has enough communities and cases for every metric."""
    return ["population.n_citizens=600", "population.n_communities=8", "output.save=false", *extra]


def run_ts(overrides: list[str]) -> pd.DataFrame:
    """Run one simulation from overrides and return its time series."""
    model = SocialProductivityModel(sim.load_config(overrides))
    model.run()
    return model.timeseries()


@pytest.fixture
def run_seeds() -> Callable[[list[str], int], pd.DataFrame]:
    """Run the same overrides on seeds 0..n-1 and stack the series with a 'seed' column."""

    def _run(overrides: list[str], n: int) -> pd.DataFrame:
        frames = []
        for seed in range(n):
            ts = run_ts(["output.save=false", f"seed={seed}", *overrides])
            ts["seed"] = seed
            frames.append(ts)
        return pd.concat(frames, ignore_index=True)

    return _run

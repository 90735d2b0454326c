"""Shared fixtures: small, fast configurations and a runner of seeded replications."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.model import SocialProductivityModel

# Debian's Chromium (or the one SIM_CHROMIUM names), launched by Playwright, which cannot download
# its own browser here; `make test` installs it when missing (scripts/ensure-browser.sh).
CHROMIUM = (
    os.environ.get("SIM_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or "/usr/bin/chromium"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def sim_cli(*args: str, cwd: Path, debug_env: bool = False, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim ARGS`` as a user would (SIM_DEBUG only if asked for)."""
    env = {k: v for k, v in os.environ.items() if k != "SIM_DEBUG"}
    if debug_env:
        env["SIM_DEBUG"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )


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

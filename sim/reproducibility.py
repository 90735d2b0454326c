"""How a fresh result is held against a committed one: exactly, or within the seed-to-seed spread.

The model's arithmetic is made CPU-independent (``sim.rules.portable``), so the same seed and the
same lock give the same bits on any x86-64 CPU. Golden baselines and catalogue references still
record the SIMD features of the machine that made them (``sim.provenance.cpu_features``), so the
guarantee stays checkable rather than assumed (``docs/reliability.md``, "Portable
reproducibility"):

- where numpy's dispatch targets on this machine are the recorded ones, or where
  ``SIM_REPRO_EXACT=1`` demands it (CI's second pass with the widest SIMD paths switched off),
  a fresh table must equal the committed one exactly;
- elsewhere it must agree within a tolerance taken from the run-to-run variation across seeds
  that the reference itself measured, so a correct machine never fails while a change to the
  model (which moves results by more than a fraction of that spread) still does.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.provenance import cpu_features

EXACT_ENV = "SIM_REPRO_EXACT"
# A golden time series may drift from its baseline by at most this fraction of the metric's
# seed-to-seed standard deviation, averaged over the months. A last-bit difference that a
# threshold decision amplifies reshuffles a few citizens' choices, far less than a new seed does.
SEED_SD_FRACTION = 0.25
# Below this a difference is last-bit noise whatever the spread (a metric constant across seeds).
ABSOLUTE_FLOOR = 1e-12


def simd_signature(cpu: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The numpy dispatch targets in use (of ``cpu``, a recorded ``cpu_features()``, or of this process)."""
    features = cpu if cpu is not None else cpu_features()
    return tuple(features.get("numpy_dispatch", ()))


def exact_comparison(recorded_cpu: Mapping[str, Any] | None) -> bool:
    """Whether a result must equal one made on a machine with ``recorded_cpu`` to the last bit."""
    if os.environ.get(EXACT_ENV, "") == "1":
        return True
    if not recorded_cpu:
        return False
    return simd_signature(recorded_cpu) == simd_signature() and recorded_cpu.get("numpy_version") == cpu_features().get(
        "numpy_version"
    )


def seed_spread(runs: list[pd.DataFrame]) -> dict[str, float]:
    """Per numeric column, the standard deviation across runs (seeds) of each month's value, averaged over months.

    Args:
        runs: time series of the same configuration under different seeds (same months).

    """
    columns = [
        c
        for c in runs[0].columns
        if pd.api.types.is_numeric_dtype(runs[0][c]) and not pd.api.types.is_bool_dtype(runs[0][c])
    ]
    out = {}
    for col in columns:
        stacked = np.vstack([r[col].to_numpy(dtype=float) for r in runs])
        with warnings.catch_warnings():  # months with no value in any run (no cases) have no spread
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = np.nanstd(stacked, axis=0, ddof=1) if np.isfinite(stacked).sum() > 1 else np.array([np.nan])
        out[col] = float(np.nanmean(sd)) if np.isfinite(sd).any() else 0.0
    return out


def within_seed_spread(
    fresh: pd.DataFrame, expected: pd.DataFrame, spread: Mapping[str, float], fraction: float = SEED_SD_FRACTION
) -> list[str]:
    """Where ``fresh`` departs from ``expected`` by more than ``fraction`` of the seed-to-seed spread.

    Columns without a spread (labels) must be equal; in each column with one, the mean absolute
    difference over the rows where both are finite must be at most ``fraction * spread[column]``
    (or :data:`ABSOLUTE_FLOOR`), and a value may be missing (NaN) in one table only in at most 1 %
    of rows.

    Returns:
        One line per column that disagrees (empty if they agree).

    """
    if list(fresh.columns) != list(expected.columns) or len(fresh) != len(expected):
        return [f"shape differs: fresh {fresh.shape} {list(fresh.columns)}, expected {expected.shape}"]
    problems = []
    for col in expected.columns:
        a, b = fresh[col], expected[col]
        if col not in spread:
            if not a.equals(b):
                problems.append(f"{col}: labels differ")
            continue
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        both = np.isfinite(x) & np.isfinite(y)
        one_missing = np.isnan(x) != np.isnan(y)
        if one_missing.mean() > 0.01:
            problems.append(f"{col}: missing in one table only in {int(one_missing.sum())} rows")
            continue
        allowed = max(ABSOLUTE_FLOOR, fraction * float(spread[col]))
        diff = float(np.abs(x[both] - y[both]).mean()) if both.any() else 0.0
        if diff > allowed:
            problems.append(f"{col}: mean |difference| {diff:.3g} exceeds {fraction:g} x seed spread = {allowed:.3g}")
    return problems

"""Does the fused driver match the numpy path? Step by step, and in distribution.

Two checks (issue 15), used by ``tests/test_fused.py`` at reduced size and by
``benchmarks/fused_equivalence.py`` on 20 configurations x 10 seeds:

* :func:`step_by_step`: two models on one config and seed, one per driver, stepped together;
  every metric of every month must agree within a relative tolerance, and the citizens' state
  is compared bit for bit. It returns the first month where they part (the horizon), or None.
* :func:`equivalence`: end-of-run means (the last ``SUMMARY_WINDOW`` months) of every metric on
  several seeds per driver; the paired differences (same seed: common random numbers) must lie
  within the seed-to-seed standard deviation of the numpy path by a two one-sided t-test
  (TOST, alpha 0.05: the 90% interval of the mean difference inside +-margin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

import sim
from sim.metrics import COLUMNS, SUMMARY_WINDOW
from sim.model import SocialProductivityModel

# Citizen arrays the drivers write, compared bit for bit.
STATE = ("belief", "share", "volunteering", "caring", "self_reliance", "realised", "engaged", "motivation", "trust")
# Relative size of a difference that is rounding, not behaviour (the step-by-step tolerance).
ROUNDING = 1e-9
# Service arrays, compared bit for bit too.
SERVICE_STATE = ("shares", "reported", "lived", "found_share", "payment", "shock", "target", "objective")
NUMERIC = tuple(c for c in COLUMNS if c not in ("step", "regime"))


def close(a: float, b: float, rtol: float) -> bool:
    """Equal within ``rtol`` relative to the larger magnitude (NaN equals NaN, inf equals inf)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)


def same_state(a: SocialProductivityModel, b: SocialProductivityModel) -> bool:
    """Whether two models' citizens and services hold the same bits."""
    for name in STATE:
        if not np.array_equal(getattr(a.citizens, name), getattr(b.citizens, name), equal_nan=True):
            return False
    for name in SERVICE_STATE:
        if not np.array_equal(getattr(a.services, name), getattr(b.services, name), equal_nan=True):
            return False
    return True


@dataclass(frozen=True)
class StepReport:
    """What :func:`step_by_step` found."""

    months: int  # months compared (burn-in included)
    metric_horizon: int | None  # first recorded month with a metric outside the tolerance; None if none
    state_horizon: int | None  # first month (burn-in counted from its start) whose state differs in any bit
    worst: dict[str, float]  # per metric, the largest relative difference seen


def step_by_step(
    overrides: list[str], driver: str = "fused", oracle: str = "vectorised", rtol: float = 1e-9
) -> StepReport:
    """Step the two drivers together, comparing each recorded month (and the state after the burn-in)."""
    # The burn-in runs inside the constructor (unrecorded): the state after it is compared first.
    cfg = sim.load_config([*overrides, f"driver={oracle}"])
    a = SocialProductivityModel(sim.load_config([*overrides, f"driver={oracle}"]))
    b = SocialProductivityModel(sim.load_config([*overrides, f"driver={driver}"]))
    state_horizon: int | None = None if same_state(a, b) else 0  # 0: already apart after the burn-in
    worst = dict.fromkeys(NUMERIC, 0.0)
    metric_horizon: int | None = None
    for month in range(cfg.steps):
        a.step()
        b.step()
        if state_horizon is None and not same_state(a, b):
            state_horizon = month + 1
        ra, rb = a.recorder.model_vars, b.recorder.model_vars
        for c in NUMERIC:
            x, y = float(ra[c][-1]), float(rb[c][-1])
            if not close(x, y, rtol):
                metric_horizon = month if metric_horizon is None else metric_horizon
            elif math.isfinite(x) and math.isfinite(y):
                worst[c] = max(worst[c], abs(x - y) / max(abs(x), abs(y), 1e-300))
    return StepReport(cfg.steps, metric_horizon, state_horizon, worst)


def end_of_run_means(overrides: list[str], driver: str, seeds: list[int]) -> np.ndarray:
    """(seeds, metrics) array: each run's mean of the last ``SUMMARY_WINDOW`` months of each metric."""
    rows = []
    for seed in seeds:
        model = SocialProductivityModel(sim.load_config([*overrides, f"driver={driver}", f"seed={seed}"]))
        model.run()
        ts = model.timeseries()
        tail = ts[list(NUMERIC)].astype(float).tail(SUMMARY_WINDOW)
        with np.errstate(invalid="ignore"):
            rows.append(tail.replace([np.inf, -np.inf], np.nan).mean(skipna=True).to_numpy())
    return np.array(rows)


@dataclass(frozen=True)
class Equivalence:
    """One metric of one config: the paired test's verdict and its figures."""

    metric: str
    equivalent: bool
    mean_difference: float
    margin: float  # the numpy path's seed-to-seed standard deviation
    p_value: float  # TOST: the larger of the two one-sided p-values (nan where decided without a test)


def tost(differences: np.ndarray, margin: float, alpha: float = 0.05) -> tuple[bool, float]:
    """Two one-sided t-tests that the mean of ``differences`` lies within ``(-margin, margin)``."""
    d = differences[~np.isnan(differences)]
    if d.size < 2:
        return False, float("nan")
    sd = float(d.std(ddof=1))
    mean = float(d.mean())
    if sd == 0.0:  # identical differences: the mean is known exactly
        return abs(mean) < margin, float("nan")
    se = sd / math.sqrt(d.size)
    df = d.size - 1
    p_low = float(stats.t.sf((mean + margin) / se, df))  # H0: mean <= -margin
    p_high = float(stats.t.cdf((mean - margin) / se, df))  # H0: mean >= +margin
    p = max(p_low, p_high)
    return p < alpha, p


def equivalence(
    overrides: list[str], seeds: list[int], driver: str = "fused", oracle: str = "vectorised"
) -> list[Equivalence]:
    """Every metric's end-of-run mean under ``driver`` against ``oracle`` on the same seeds."""
    x = end_of_run_means(overrides, oracle, seeds)
    y = end_of_run_means(overrides, driver, seeds)
    out = []
    for j, name in enumerate(NUMERIC):
        a, b = x[:, j], y[:, j]
        if not np.array_equal(np.isnan(a), np.isnan(b)):  # defined on different seeds: not the same
            out.append(Equivalence(name, False, float("nan"), float("nan"), float("nan")))
            continue
        ok = ~np.isnan(a)
        if not ok.any():  # undefined on every seed under both (e.g. no target in force)
            out.append(Equivalence(name, True, 0.0, 0.0, float("nan")))
            continue
        # The margin: the seed-to-seed sd, floored at rounding (a metric constant across seeds,
        # such as the number of audits where there are none, may still differ in its last bits).
        spread = float(np.std(a[ok], ddof=1)) if ok.sum() > 1 else 0.0
        margin = max(spread, ROUNDING * float(np.abs(a[ok]).max()), ROUNDING)
        diff = b[ok] - a[ok]
        equivalent, p = tost(diff, margin)
        out.append(Equivalence(name, equivalent, float(diff.mean()), margin, p))
    return out

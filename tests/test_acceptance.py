"""The model issue's acceptance list, at default settings, checked on several seeds.

Nothing here is tuned per test: each test runs the packaged defaults (plus the lever the
criterion is about) and compares regimes on common seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

SEEDS = 5


def mean_by_step(ts: pd.DataFrame, col: str) -> pd.Series:
    return ts.groupby("step")[col].mean()


@pytest.fixture(scope="module")
def regimes() -> dict[str, pd.DataFrame]:
    from tests.conftest import run_ts

    out = {}
    for regime in ("targets", "negotiated", "none"):
        frames = []
        for seed in range(SEEDS):
            ts = run_ts(["output.save=false", f"seed={seed}", f"regime={regime}"])
            ts["seed"] = seed
            frames.append(ts)
        out[regime] = pd.concat(frames, ignore_index=True)
    return out


def test_targets_bunch_records_at_the_standard(regimes) -> None:
    for seed, run in regimes["targets"].groupby("seed"):
        first60 = run[run.step < 60]
        assert first60["bunching_ratio"].max() >= 2, f"seed {seed}: no bunching within 60 steps"
    for regime in ("negotiated", "none"):
        b = regimes[regime]["bunching_ratio"]
        assert b.between(0.7, 1.4).all(), f"{regime}: bunching outside [0.7, 1.4]: {b.min():.2f}..{b.max():.2f}"


def test_targets_inflate_the_reported_figure(regimes) -> None:
    t, n = regimes["targets"], regimes["none"]
    rep, true = mean_by_step(t, "reported_outcome"), mean_by_step(t, "true_outcome")
    late = slice(108, 119)
    assert rep.loc[late].mean() - rep.loc[0] > true.loc[late].mean() - true.loc[0]
    assert mean_by_step(t, "gaming_gap").loc[late].mean() > 0.05
    assert (
        mean_by_step(t, "indicator_true_corr").loc[60:].mean() < mean_by_step(n, "indicator_true_corr").loc[60:].mean()
    )


def test_targets_also_work_on_the_measured_dimension(regimes) -> None:
    """True performance on what is measured rises above no management, and stays above it.

    Since gaming became cheap (issue 13's patterns), managers first move capacity into gaming,
    which pays at once, and only then into measured work: the paired difference dips by about
    0.2 points in months 1-6 and is positive from month 7 (docs/validation.md reports it).
    """
    t = regimes["targets"].set_index(["seed", "step"])["true_measured_outcome"]
    n = regimes["none"].set_index(["seed", "step"])["true_measured_outcome"]
    paired = (t - n).groupby(level="step").mean()
    assert (paired.loc[12:] > 0).all(), paired.loc[12:].min()
    assert paired.mean() > 0.01, paired.mean()


def test_gaming_emerges_from_learning(regimes) -> None:
    g = mean_by_step(regimes["targets"], "gaming_share")
    assert g.loc[0] < 0.01
    # It emerges within two years and persists (it peaks around month 12 and settles a little
    # as services meet their targets with real work).
    assert g.loc[24] > 3 * g.loc[0] and g.loc[12:].min() > 3 * g.loc[0]
    assert mean_by_step(regimes["none"], "gaming_share").loc[60:].mean() < 0.01


@pytest.mark.parametrize("lever", ["regime.audit_rate=0.5", "services.ethos_mean=0.8"])
def test_gaming_falls_with_audits_and_ethos(regimes, run_seeds, lever: str) -> None:
    base = mean_by_step(regimes["targets"], "gaming_share").loc[48:].mean()
    raised = mean_by_step(run_seeds(["regime=targets", lever], SEEDS), "gaming_share").loc[48:].mean()
    assert raised < 0.8 * base, (lever, base, raised)


def test_small_payment_crowds_out_the_motivated(run_seeds) -> None:
    unpaid = run_seeds(["regime=none", "steps=36"], SEEDS).set_index(["seed", "step"])
    paid = run_seeds(["regime=none", "steps=36", "regime.payment_per_hour=1"], SEEDS).set_index(["seed", "step"])
    diff = (paid["volunteering_rate_motivated"] - unpaid["volunteering_rate_motivated"]).groupby(level="step").mean()
    assert diff.loc[0:11].mean() < 0 and diff.loc[24:].mean() < 0


def test_removing_targets_does_not_restore_motivation_at_once(run_seeds) -> None:
    switch = ["regime=targets", "steps=96", "regime.switches=[{step:60,to:none}]"]
    removed = run_seeds(switch, SEEDS).set_index(["seed", "step"])["motivation_mean"]
    never = run_seeds(["regime=none", "steps=96"], SEEDS).set_index(["seed", "step"])["motivation_mean"]
    gap = (never - removed).groupby(level="step").mean()
    # Felt control comes only from what volunteers meet (issue 13), and with little displacement
    # and a faster pull back to each person's trait the gap targets open is small (0.012 at month
    # 59 on every seed); the claim is that it is there on every seed and outlasts the targets.
    per_seed = (never - removed).xs(59, level="step")
    assert gap.loc[59] > 0.005 and (per_seed > 0).all(), per_seed
    # A year after removal most of the gap remains: erosion is faster than rebuilding.
    assert gap.loc[72] > 0.5 * gap.loc[59]


def _last_months(ts: pd.DataFrame, col: str, n: int = 12) -> float:
    by_step = mean_by_step(ts, col)
    return float(by_step.iloc[-n:].mean())


def test_targets_keep_half_of_unmeasured_work(regimes) -> None:
    # Little displacement behind a met target (Kelman & Friedman 2009): unmeasured work keeps at
    # least half its share under no performance management, while gaming still emerges (above).
    targets = _last_months(regimes["targets"], "unmeasured_work_share")
    none = _last_months(regimes["none"], "unmeasured_work_share")
    assert targets >= 0.5 * none, (targets, none)


# A run's slope over 24 months has a seed-to-seed sd of about 0.4-0.6 points a year (20 seeds,
# issue 13's presets at the defaults), as large as the criterion itself: the mean over 5 seeds
# would cross +-0.5 by chance alone in a few per cent of draws. 20 seeds bring its standard error
# to about 0.13, so a drift of 0.5 is told from none.
LEVEL_SEEDS = 20


@pytest.fixture(scope="module")
def long_panel(regimes) -> dict[str, pd.DataFrame]:
    """The regimes' runs on seeds 0..LEVEL_SEEDS-1 (the first SEEDS reused)."""
    from tests.conftest import run_ts

    out = {}
    for regime, first in regimes.items():
        frames = [first]
        for seed in range(SEEDS, LEVEL_SEEDS):
            ts = run_ts(["output.save=false", f"seed={seed}", f"regime={regime}"])
            ts["seed"] = seed
            frames.append(ts)
        out[regime] = pd.concat(frames, ignore_index=True)
    return out


@pytest.mark.parametrize("col", ["prosocial_rate", "motivation_mean", "volunteering_rate"])
def test_presets_level_off_by_month_120(long_panel, col: str) -> None:
    # The slope over the last 24 months, in percentage points a year, of the mean over seeds.
    for name, ts in long_panel.items():
        assert ts["seed"].nunique() == LEVEL_SEEDS
        last = mean_by_step(ts, col).iloc[-24:]
        slope = float(np.polyfit(np.arange(24), last.to_numpy(), 1)[0] * 12 * 100)
        assert abs(slope) <= 0.5, (name, col, slope)


def test_formal_volunteering_within_five_points_across_presets(regimes) -> None:
    rates = {name: _last_months(ts, "volunteering_rate") for name, ts in regimes.items()}
    assert max(rates.values()) - min(rates.values()) <= 0.05, rates

"""A run's detail tables (``sim.details``): exact bins, and agreement with the monthly metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import SimConfig, load_config
from sim.details import DETAIL_TABLES, N_BINS, bin_counts, bin_edges
from sim.metrics import SUMMARY_WINDOW
from sim.model import SocialProductivityModel


def small(regime: str = "targets", **extra: object) -> SimConfig:
    cfg = load_config([f"regime={regime}", "population.n_citizens=600", "population.n_communities=10", "steps=30"])
    cfg.burn_in = 6
    for key, value in extra.items():
        setattr(cfg, key, value)
    return cfg


def run(cfg: SimConfig) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    model = SocialProductivityModel(cfg)
    model.run()
    return model.timeseries(), model.detail_tables()


def test_bins_are_tenths_around_the_standard() -> None:
    lo, hi = bin_edges()
    assert len(lo) == N_BINS == 40 and lo[0] == -2.0 and hi[-1] == 2.0
    assert lo[20] == 0.0 and lo[19] == -0.1
    values = np.array([0.0, 0.0999, -0.1, -1e-12, -2.0, 1.9999, 2.0, -2.0001, 5.0])
    counts = bin_counts(values)
    assert counts[20] == 2  # 0 and 0.0999: the bin just above the standard
    assert counts[19] == 2  # -0.1 (its lower edge) and just below 0
    assert counts[0] == 1 and counts[39] == 1
    assert counts.sum() == 6  # 2.0, -2.0001 and 5.0 are out of range
    keep = np.array([True, False, True, True, False, True, True, False, True])
    assert (bin_counts(values, keep) == bin_counts(values[keep])).all()


@pytest.fixture(scope="module")
def targets_run() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    return run(small("targets"))


def test_tables_and_their_columns(targets_run: tuple[pd.DataFrame, dict[str, pd.DataFrame]]) -> None:
    _, details = targets_run
    assert tuple(details) == DETAIL_TABLES
    hist, services, communities = (details[k] for k in DETAIL_TABLES)
    assert set(hist["regime"]) == {"targets"} and len(hist) == N_BINS
    assert (hist["months"] == 30).all()
    assert hist["recorded"].sum() <= hist["recorded_total"].iloc[0] <= hist["true_total"].iloc[0]
    assert len(services) == 30 and len(communities) == 10
    assert (services["months"] == SUMMARY_WINDOW).all()
    assert services["reported_rate"].between(0, 1).all() and services["true_rate"].between(0, 1).all()


def test_community_means_agree_with_the_monthly_metrics(
    targets_run: tuple[pd.DataFrame, dict[str, pd.DataFrame]],
) -> None:
    ts, details = targets_run
    window = ts.tail(SUMMARY_WINDOW)
    comm = details["communities"]
    size = comm["size"].to_numpy()
    for column, metric in (
        ("lived_outcome", "true_outcome"),
        ("prosocial_rate", "prosocial_rate"),
        ("volunteering_rate", "volunteering_rate"),
        ("trust_mean", "trust_mean"),
    ):
        assert np.average(comm[column], weights=size) == pytest.approx(window[metric].mean(), rel=1e-12), column


def test_service_gaming_agrees_with_the_monthly_metric(
    targets_run: tuple[pd.DataFrame, dict[str, pd.DataFrame]],
) -> None:
    ts, details = targets_run
    svc, comm = details["services"], details["communities"].set_index("community")
    model = SocialProductivityModel(small("targets"))
    weight = model.services.capacity * comm.loc[svc["community"], "size"].to_numpy()
    expected = ts.tail(SUMMARY_WINDOW)["gaming_share"].mean()
    assert np.average(svc["gaming_share"], weights=weight) == pytest.approx(expected, rel=1e-12)


def test_moved_records_make_a_spike_only_where_gaming_pays(
    targets_run: tuple[pd.DataFrame, dict[str, pd.DataFrame]],
) -> None:
    _, details = targets_run
    _, none = run(small("none"))
    for hist, spiked in ((details["indicator_histogram"], True), (none["indicator_histogram"], False)):
        above = hist[hist["bin_low"] == 0.0].iloc[0]
        recorded_share = above["recorded"] / above["recorded_total"]
        true_share = above["true"] / above["true_total"]
        assert (recorded_share > 1.5 * true_share) == spiked, (recorded_share, true_share)


def test_regime_switch_keeps_a_histogram_per_regime() -> None:
    cfg = load_config(
        ["experiment=regime_switch", "population.n_citizens=400", "population.n_communities=8", "steps=90"]
    )
    _, details = run(cfg)
    hist = details["indicator_histogram"]
    months = hist.drop_duplicates("regime").set_index("regime")["months"].to_dict()
    assert months == {"none": 24 + 18, "targets": 48}


def test_every_driver_gives_the_same_details() -> None:
    cfg = small("negotiated", steps=14)
    cfg.population.n_citizens = 120
    cfg.driver = "vectorised"
    _, vec = run(cfg)
    for driver in ("agent", "fused"):
        cfg.driver = driver
        _, other = run(cfg)
        for name in DETAIL_TABLES:
            pd.testing.assert_frame_equal(vec[name], other[name], check_exact=True, obj=f"{driver}: {name}")

"""A smoke run of every named experiment on a tiny population, through the experiment runner."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.config import compose, config_dir
from sim.runner import run_experiment

EXPERIMENTS = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))
TINY = ["population.n_citizens=150", "population.n_communities=5", "burn_in=2"]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_smoke(name: str, tmp_path: Path) -> None:
    switches = compose([f"experiment={name}"]).regime.switches
    steps = max([8, *[s.step + 2 for s in switches]])
    overrides = [
        f"experiment={name}",
        *TINY,
        f"steps={steps}",
        "experiment.replications=1",
        "experiment.backend=serial",
    ]
    cfg = compose(overrides)
    # Arms may set the population too (the scale study): keep them tiny as well.
    arms = {
        arm: [o for o in ovs if not o.startswith("population.n_citizens")] for arm, ovs in cfg.experiment.arms.items()
    }
    cfg.experiment.arms = arms
    result = run_experiment(cfg, overrides, tmp_path)
    ts = pd.read_parquet(tmp_path / "timeseries.parquet")
    assert set(ts["arm"]) == set(arms)
    assert len(ts) == steps * len(arms)
    assert (tmp_path / "summary.csv").is_file() and all(p.is_file() for p in result.figures)
    assert OmegaConf.load(tmp_path / "config.yaml").experiment.name == name

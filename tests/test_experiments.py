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
    base = compose([f"experiment={name}"])
    steps = max([8, *[s.step + 2 for s in base.regime.switches]])
    # A value every arm sets again would be an ineffective override (refused): leave it to the arms.
    set_by_arms = {o.split("=", 1)[0] for ovs in base.experiment.arms.values() for o in ovs}
    overrides = [
        f"experiment={name}",
        *[t for t in TINY if t.split("=", 1)[0] not in set_by_arms],
        f"steps={steps}",
        "experiment.replications=1",
        "experiment.backend=serial",
    ]
    cfg = compose(overrides)
    # Arms may set the population too (the scale study): keep them tiny as well, and distinct.
    arms = {
        arm: [o if not o.startswith("population.n_citizens") else f"population.n_citizens={150 + 10 * i}" for o in ovs]
        for i, (arm, ovs) in enumerate(cfg.experiment.arms.items())
    }
    cfg.experiment.arms = arms
    # Sampled designs: a few points only.
    sweep = cfg.experiment.get("sweep") or {}
    for key, small in (("samples", 4 if sweep.get("design") == "lhs" else 2), ("trajectories", 2)):
        if key in sweep:
            sweep[key] = small
    result = run_experiment(cfg, overrides, tmp_path)
    ts = pd.read_parquet(tmp_path / "timeseries.parquet")
    assert set(ts["arm"]) == set(arms)
    n_points = ts["point"].nunique() if "point" in ts.columns else 1
    # The public-goods laboratory (experiment.kind: lab) plays lab.periods periods, not `steps` months.
    rows = cfg.lab.periods if cfg.experiment.kind == "lab" else steps
    assert len(ts) == rows * len(arms) * n_points
    assert (tmp_path / "summary.csv").is_file() and all(p.is_file() for p in result.figures)
    assert OmegaConf.load(tmp_path / "config.yaml").experiment.name == name


def test_decomposition_corners_are_the_presets_and_every_cell_is_distinct() -> None:
    """The factorial's corners are exactly 'targets' and 'negotiated'; its 16 arms are 16 instrument sets."""
    from sim.config import INSTRUMENT_KEYS, load_config
    from sim.instruments import Instruments

    arms = compose(["experiment=decomposition"]).experiment.arms

    def instruments(overrides: list[str]) -> tuple:
        inst = Instruments.from_config(load_config(list(overrides)).regime)
        return tuple(getattr(inst, k) for k in INSTRUMENT_KEYS)

    cells = {name: instruments(list(ov)) for name, ov in arms.items()}
    assert len(cells) == 16 and len(set(cells.values())) == 16
    assert cells["centre_indicator_unpaid_league"] == instruments(["regime=targets"])
    assert cells["forum_forum_paid_guarantee"] == instruments(["regime=negotiated"])

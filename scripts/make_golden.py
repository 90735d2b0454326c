"""Regenerate the golden baseline time series in tests/golden/ (run only on purpose).

Each golden file is the full time series of one small run per regime at default settings.
``meta.json`` beside them records the SIMD features of the machine that made them and, per
regime and metric, the seed-to-seed spread of the same configuration over SPREAD_SEEDS other
seeds. tests/test_golden.py requires today's model to reproduce the files exactly on a machine
with those features (and, by the portable arithmetic, on any other: docs/reliability.md), and
elsewhere within a fraction of that spread, so any change that moves a result is noticed; when
the change is intended, rerun this script and commit the new files with a note saying why the
numbers moved.

Usage: .venv/bin/python scripts/make_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import sim
from sim.model import SocialProductivityModel
from sim.provenance import cpu_features
from sim.reproducibility import seed_spread

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"
REGIMES = ("targets", "negotiated", "functioning", "none")
GOLDEN_SEED = 2026
SPREAD_SEEDS = tuple(range(GOLDEN_SEED + 1, GOLDEN_SEED + 9))


def golden_overrides(regime: str, seed: int = GOLDEN_SEED) -> list[str]:
    """The configuration of one golden run."""
    return [f"regime={regime}", "population.n_citizens=800", "population.n_communities=10", "steps=60", f"seed={seed}"]


def golden_timeseries(regime: str, seed: int = GOLDEN_SEED, driver: str | None = None) -> pd.DataFrame:
    """Run one golden configuration (on the default driver unless ``driver`` names one) and return its time series."""
    extra = [f"driver={driver}"] if driver else []
    cfg = sim.load_config([*golden_overrides(regime, seed), "output.save=false", *extra])
    model = SocialProductivityModel(cfg)
    model.run()
    return model.timeseries()


def main() -> None:
    """Write one Parquet file per regime."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    spread = {}
    for regime in REGIMES:
        path = GOLDEN / f"{regime}.parquet"
        golden_timeseries(regime).to_parquet(path, index=False)
        spread[regime] = seed_spread([golden_timeseries(regime, seed) for seed in SPREAD_SEEDS])
        print(f"wrote {path}")
    meta = {"cpu": cpu_features(), "spread_seeds": list(SPREAD_SEEDS), "seed_spread": spread}
    (GOLDEN / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN / 'meta.json'}")


if __name__ == "__main__":
    main()

"""Regenerate the golden baseline time series in tests/golden/ (run only on purpose).

Each golden file is the full time series of one small run per regime at default settings.
tests/test_golden.py requires today's model to reproduce them exactly, so any change that
moves a result is noticed; when the change is intended, rerun this script and commit the
new files with a note saying why the numbers moved.

Usage: .venv/bin/python scripts/make_golden.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import sim
from sim.model import SocialProductivityModel

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"
REGIMES = ("targets", "negotiated", "functioning", "none")


def golden_overrides(regime: str) -> list[str]:
    """The configuration of one golden run."""
    return [f"regime={regime}", "population.n_citizens=800", "population.n_communities=10", "steps=60", "seed=2026"]


def golden_timeseries(regime: str) -> pd.DataFrame:
    """Run one golden configuration and return its time series."""
    cfg = sim.load_config([*golden_overrides(regime), "output.save=false"])
    model = SocialProductivityModel(cfg)
    model.run()
    return model.timeseries()


def main() -> None:
    """Write one Parquet file per regime."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for regime in REGIMES:
        path = GOLDEN / f"{regime}.parquet"
        golden_timeseries(regime).to_parquet(path, index=False)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

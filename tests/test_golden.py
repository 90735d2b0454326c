"""Golden baselines: today's model reproduces the committed time series exactly.

A failure means a change moved the model's results. If that was intended, regenerate the
files with ``scripts/make_golden.py`` and say in the commit why the numbers moved.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_golden", ROOT / "scripts" / "make_golden.py")
assert spec and spec.loader
make_golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_golden)


@pytest.mark.parametrize("regime", make_golden.REGIMES)
def test_matches_golden_baseline(regime: str) -> None:
    expected = pd.read_parquet(ROOT / "tests" / "golden" / f"{regime}.parquet")
    pd.testing.assert_frame_equal(make_golden.golden_timeseries(regime), expected, check_exact=True)

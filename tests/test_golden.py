"""Golden baselines: today's model reproduces the committed time series.

Exactly on a machine with the SIMD features recorded in ``tests/golden/meta.json`` (and with
``SIM_REPRO_EXACT=1``, which CI sets for its second pass with the widest SIMD paths switched
off); elsewhere within a quarter of the seed-to-seed spread measured when the files were made
(``sim.reproducibility``). A failure means a change moved the model's results. If that was
intended, regenerate the files with ``scripts/make_golden.py`` and say in the commit why the
numbers moved.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.reproducibility import exact_comparison, simd_signature, within_seed_spread

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_golden", ROOT / "scripts" / "make_golden.py")
assert spec and spec.loader
make_golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_golden)
META = json.loads((ROOT / "tests" / "golden" / "meta.json").read_text())


# The default (fused) driver and the numpy path it is held to: the same bits, so one set of files.
@pytest.mark.parametrize("driver", ["fused", "vectorised"])
@pytest.mark.parametrize("regime", make_golden.REGIMES)
def test_matches_golden_baseline(regime: str, driver: str) -> None:
    expected = pd.read_parquet(ROOT / "tests" / "golden" / f"{regime}.parquet")
    fresh = make_golden.golden_timeseries(regime, driver=driver)
    if exact_comparison(META["cpu"]):
        pd.testing.assert_frame_equal(fresh, expected, check_exact=True)
    else:
        assert within_seed_spread(fresh, expected, META["seed_spread"][regime]) == []
        if not fresh.equals(expected):  # within tolerance, but the portability promise is bit-identity: say so
            warnings.warn(
                f"golden {regime}: not bit-identical on a CPU with other SIMD features "
                f"({simd_signature()} here, {simd_signature(META['cpu'])} recorded); see docs/reliability.md",
                stacklevel=1,
            )


def test_golden_meta_covers_every_regime_and_metric() -> None:
    for regime in make_golden.REGIMES:
        columns = pd.read_parquet(ROOT / "tests" / "golden" / f"{regime}.parquet").columns
        numeric = [c for c in columns if c not in ("regime",)]
        assert set(numeric) == set(META["seed_spread"][regime]), regime
    assert META["cpu"]["numpy_dispatch"] is not None


def test_seed_spread_tolerance_passes_noise_and_catches_a_moved_result() -> None:
    expected = pd.read_parquet(ROOT / "tests" / "golden" / "targets.parquet")
    spread = META["seed_spread"]["targets"]
    assert within_seed_spread(expected.copy(), expected, spread) == []
    rng = np.random.default_rng(0)
    floats = [c for c in expected.columns if pd.api.types.is_float_dtype(expected[c]) and c in spread]
    # Last-bit noise, and noise of a tenth of the seed spread, pass; the labels must match.
    last_bit = expected.assign(**{c: np.nextafter(expected[c].to_numpy(), np.inf) for c in floats})
    assert within_seed_spread(last_bit, expected, spread) == []
    noisy = expected.assign(**{c: expected[c] + 0.1 * spread[c] * rng.choice([-1, 1], len(expected)) for c in floats})
    assert within_seed_spread(noisy, expected, spread) == []
    assert within_seed_spread(expected.assign(regime="none"), expected, spread) == ["regime: labels differ"]
    # A shift of half the seed spread in one metric is a moved result.
    moved = expected.assign(prosocial_rate=expected["prosocial_rate"] + 0.5 * spread["prosocial_rate"])
    problems = within_seed_spread(moved, expected, spread)
    assert len(problems) == 1 and problems[0].startswith("prosocial_rate")

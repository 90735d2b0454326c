"""The calibration reruns from one command and the shipped defaults are its result.

What is checked, honestly:
* the shipped defaults in sim/config.py equal configs/calibration/lab_fit.json and reproduce its RMSE
  exactly (fast);
* the search is deterministic: a short search (120 trials, past the random start-up) run twice
  samples the same points with the same losses (fast);
* the full rerun (`scripts/calibrate.py`, 2500 trials, about 1.5 minutes) reproduces the shipped values
  exactly (slow). Exact equality holds for the pinned optuna/numpy (requirements.lock) on this platform.
"""

from __future__ import annotations

import json

import pytest


def test_shipped_defaults_are_the_calibrated_values(calibrate) -> None:
    assert calibrate.check() == []
    saved = json.loads(calibrate.OUTPUT.read_text())
    fit = saved["fit"]
    assert fit["no_punishment"]["rmse_tokens"] <= 2 and fit["punishment"]["rmse_tokens"] <= 2


def test_calibration_search_is_deterministic(calibrate) -> None:
    a, b = calibrate.search(n_trials=120), calibrate.search(n_trials=120)
    assert [(t.params, t.value) for t in a.trials] == [(t.params, t.value) for t in b.trials]


@pytest.mark.slow
@pytest.mark.xdist_group("calibration")
def test_full_calibration_reproduces_the_shipped_defaults(calibrate) -> None:
    saved = json.loads(calibrate.OUTPUT.read_text())
    rerun = calibrate.calibrate()
    assert rerun["values"] == saved["values"]
    assert rerun["fit"] == saved["fit"]

"""The benchmark harness runs at tiny sizes (no timings asserted); the fast paths equal the plain code."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import SocialProductivityModel
from tests.conftest import small_overrides

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
SECTIONS = (
    "machine",
    "settings",
    "step",
    "agent",
    "scaling",
    "sweep",
    "details",
    "main_job",
    "fused",
    "profile",
    "targets",
)


@pytest.mark.slow
def test_quick_benchmark_writes_every_section(tmp_path: Path) -> None:
    out_json, out_md = tmp_path / "results.json", tmp_path / "performance.md"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--reps", "1", "--sizes", "100,1000"]
    proc = subprocess.run(
        [*cmd, "--json", str(out_json), "--markdown", str(out_md)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out_json.read_text())
    for section in SECTIONS:
        assert section in res, section
    machine = res["machine"]
    for key in ("cpu", "cores", "python", "numpy", "date", "git_revision"):
        assert machine[key], key
    assert [r["n"] for r in res["step"]] == [100, 1000]
    for row in res["step"]:
        for key in ("rate", "step_ms", "construct_s", "peak_rss_mib"):
            assert {"median", "min", "max"} <= row[key].keys(), key
            assert row[key]["min"] <= row[key]["median"] <= row[key]["max"]
    assert res["agent"]["rows"] and all(r["ratio"] > 0 for r in res["agent"]["rows"])
    assert res["agent"]["mesa_empty_step_us"]["median"] > 0
    assert "exponent_in_n" in res["scaling"] and "exponent_in_steps" in res["scaling"]
    sweep = res["sweep"]
    assert sweep["serial"]["runs_per_minute"]["median"] > 0 and sweep["processes"]["runs_per_minute"]["median"] > 0
    assert res["main_job"]["seconds"]["median"] > 0
    assert res["profile"]["phases"] and res["profile"]["top_functions_by_own_time"]
    names = {t["target"] for t in res["targets"]}
    assert len(names) == 23 and all(t["met"] in (True, False, None) for t in res["targets"])
    fused = res["fused"]
    assert [r["n"] for r in fused["rows"]] == [300]
    for row in fused["rows"]:
        assert row["fused"]["rate"]["median"] > 0 and row["vectorised"]["rate"]["median"] > 0
        assert row["fused_over_vectorised"] > 0
    from sim import kernels

    n_kernels = len(kernels.ENTRY_POINTS)
    assert fused["compile"]["first_misses"] == n_kernels and fused["compile"]["cached_misses"] == 0
    assert fused["compile"]["cached_hits"] == n_kernels
    for driver in ("fused", "vectorised"):
        assert fused["profile"][driver]["driver"] == driver and fused["profile"][driver]["phases"]
    assert fused["run_cost"]["fused"]["cpu_s"]["median"] > 0
    report = out_md.read_text()
    for heading in ("## Targets", "## Full model step", "## Per-agent Mesa driver", "## How time grows", "## Sweeps"):
        assert heading in report, heading
    assert "## Main job" in report and "## Where the time goes" in report and "## Fused driver" in report
    assert machine["cpu"] in report and machine["python"] in report


# The fast paths the benchmark measures must equal the straightforward code exactly.
@pytest.mark.parametrize(("fixed", "per_citizen", "exponent"), [(0.54, 3e-5, 1.0), (0.0, 2e-6, 1.1), (2.0, 1e-4, 0.95)])
def test_fixed_and_growing_recovers_the_curve_it_is_given(fixed: float, per_citizen: float, exponent: float) -> None:
    ns = [1e4, 1e5, 1e6]
    fit = bench.fixed_and_growing(ns, [fixed + per_citizen * n**exponent for n in ns])
    assert fit is not None
    a, b, k = fit
    assert math.isclose(a, fixed, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(b, per_citizen, rel_tol=1e-6)
    assert math.isclose(k, exponent, rel_tol=1e-9)


@pytest.mark.parametrize(
    ("ns", "ys"),
    [
        ([1e4, 1e5], [1.0, 2.0]),  # two points fix no three numbers
        ([1e4, 2e5, 1e6], [1.0, 5.0, 40.0]),  # no common factor between the sizes
        ([1e4, 1e5, 1e6], [1.0, 10.0, 55.0]),  # a < 0: the cost per citizen falls with N
        ([1e4, 1e5, 1e6], [1.0, 10.0, 15.0]),  # concave: grows by less from 10^5 to 10^6 than before
        ([1e4, 1e5, 1e6], [5.0, 4.0, 40.0]),  # not rising
    ],
)
def test_fixed_and_growing_refuses_points_of_another_shape(ns: list[float], ys: list[float]) -> None:
    assert bench.fixed_and_growing(ns, ys) is None


def test_neighbour_mean_equals_row_mean_bit_for_bit() -> None:
    from sim.rules.network import neighbour_mean

    rng = np.random.default_rng(0)
    for n, k in [(1, 1), (5, 3), (300, 8), (300, 9), (200, 17), (50, 130)]:
        values = rng.random(n) * 10.0 ** rng.integers(-6, 6, size=n)
        contacts = rng.integers(0, n, size=(n, k))
        expected = values[contacts].mean(axis=1)
        for layout in (contacts, np.asfortranarray(contacts), contacts[: max(1, n // 3)]):
            got = neighbour_mean(values, layout)
            np.testing.assert_array_equal(got, values[np.ascontiguousarray(layout)].mean(axis=1))
        np.testing.assert_array_equal(neighbour_mean(values, np.asfortranarray(contacts)), expected)


def test_stacked_service_months_equal_one_call_each() -> None:
    from sim.rules import management as mg

    model = SocialProductivityModel(
        sim.load_config(small_overrides("regime=targets", "burn_in=0", "seed=4", "driver=vectorised"))
    )
    for _ in range(3):
        model.step()
    c, p, shares = model._month_conditions, model.service_params, model.services.shares
    allocations = [shares] + [mg.trial_allocation(shares, a, 0.05) for a in range(shares.shape[1])]
    for got, alloc in zip(mg.service_months(allocations, c, p), allocations, strict=True):
        want = mg.service_month(alloc, c, p)
        for name in want.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


def test_citizen_blocks_do_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.model

    # The numpy path is the one that works in blocks of citizens.
    overrides = small_overrides(
        "regime=negotiated", "steps=15", "burn_in=3", "regime.payment_per_hour=2", "driver=vectorised"
    )
    cfg = sim.load_config(overrides)
    whole = SocialProductivityModel(cfg)
    whole.run()
    monkeypatch.setattr(sim.model, "CITIZEN_BLOCK", 37)
    blocks = SocialProductivityModel(cfg)
    blocks.run()
    pd.testing.assert_frame_equal(whole.timeseries(), blocks.timeseries(), check_exact=True)


def test_only_one_section_without_an_earlier_full_run_is_refused_in_one_line(tmp_path: Path) -> None:
    # --only adds a section to an earlier full run's results: with none, say so before measuring anything.
    missing = tmp_path / "results.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--only", "fused", "--json", str(missing)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "holds none" in proc.stderr and "without --only" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not missing.exists()

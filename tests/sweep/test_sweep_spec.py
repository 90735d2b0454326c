"""Sweep specs: validation errors name the key; designs expand to the documented sizes."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny

from sim.config import ConfigError, SimConfig, compose, validate
from sim.sweep.plan import build_plan
from sim.sweep.spec import apply_point, check_arms, expected_size, parse_sweep


@pytest.mark.parametrize(
    "sweep,needle",
    [
        ({"design": "grd"}, "experiment.sweep.design='grd'"),
        ({"design": "grid", "parameters": {"regime": {"audt_rate": [0, 1]}}}, "regime.audt_rate: unknown parameter"),
        ({"design": "grid", "parameters": {"regime": {"audt_rate": [0, 1]}}}, "did you mean regime.audit_rate"),
        ({"design": "lhs", "samples": 8, "parameters": {"regime.audit_rate": [0.5, 0.2]}}, "empty range [0.5, 0.2]"),
        (
            {"design": "lhs", "samples": 8, "parameters": {"regime.audit_rate": [0.3, 0.3]}},
            "regime.audit_rate: empty range",
        ),
        (
            {"design": "lhs", "samples": 8, "parameters": {"regime.audit_rate": [0, 2]}},
            "outside the parameter's bounds",
        ),
        ({"design": "lhs", "samples": 8, "parameters": {"regime.audit_rate": [0, 2]}}, "parameters.regime.audit_rate"),
        ({"design": "grid", "parameters": {"regime.audit_rate": [0.1, 1.5]}}, "regime.audit_rate=1.5 is out of range"),
        ({"design": "grid", "parameters": {"regime.audit_rate": []}}, "empty list of values"),
        ({"design": "grid", "parameters": {"regime.audit_rate": [0.1, 0.1]}}, "repeated values"),
        ({"design": "grid", "parameters": {"regime": [0.1]}}, "regime: is a whole section"),
        ({"design": "grid", "parameters": {"services.initial_shares": [1]}}, "is a list"),
        ({"design": "grid", "parameters": {"seed": [1, 2]}}, "seed: cannot be swept"),
        ({"design": "grid", "parameters": {"regime.name": ["targets", "bogus"]}}, "'bogus' is not allowed"),
        ({"design": "grid", "parameters": {"population.n_citizens": [100, 150.5]}}, "whole number"),
        ({"design": "lhs", "parameters": {"regime.audit_rate": [0, 1]}}, "experiment.sweep.samples is required"),
        ({"design": "lhs", "samples": 0, "parameters": {"regime.audit_rate": [0, 1]}}, "experiment.sweep.samples=0"),
        ({"design": "sobol", "samples": 10, "parameters": {"a.b": [0, 1]}}, "a.b: unknown parameter"),
        (
            {
                "design": "sobol",
                "samples": 10,
                "parameters": {"regime.audit_rate": [0, 1], "regime.target_level": [0, 1]},
            },
            "power of 2",
        ),
        ({"design": "lhs", "samples": 4, "parameters": {"regime.name": [0, 1]}}, "sample numbers only"),
        (
            {"design": "morris", "parameters": {"regime.audit_rate": [0, 1]}},
            "experiment.sweep.trajectories is required",
        ),
        (
            {"design": "grid", "samples": 3, "parameters": {"regime.audit_rate": [0]}},
            "experiment.sweep.samples: unknown option",
        ),
        ({"design": "list", "points": []}, "experiment.sweep.points"),
        ({"design": "list", "points": [{"regime.audit_rate": 3}]}, "experiment.sweep.points[0].regime.audit_rate=3"),
        ({"design": "grid", "parameters": {}}, "experiment.sweep.parameters"),
    ],
)
def test_malformed_spec_names_the_key(sweep: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_sweep(sweep)
    assert needle in str(err.value)


def test_a_parameter_both_swept_and_set_by_an_arm_is_refused() -> None:
    spec = parse_sweep({"design": "grid", "parameters": {"regime.audit_rate": [0.1, 0.2]}})
    with pytest.raises(ConfigError, match=r"regime.audit_rate: also set by arm 'high'"):
        check_arms(spec, {"low": ["regime=targets"], "high": ["regime.audit_rate=0.9"]})


def test_a_point_that_breaks_a_cross_field_rule_fails_before_anything_runs() -> None:
    # share_conditional + share_free_rider must stay <= 1: a point with 0.5 + 0.6 is invalid.
    sweep = "++experiment.sweep={design:grid,parameters:{population.share_free_rider:[0.3,0.6]}}"
    cfg = compose(tiny(sweep))
    with pytest.raises(ConfigError, match=r"experiment.sweep: arm 'targets', point 1 .*share_free_rider"):
        build_plan(cfg, tiny(sweep))


def test_identical_arms_are_refused() -> None:
    ov = tiny("++experiment.arms.same=['regime=targets']")
    with pytest.raises(ConfigError, match="arms 'targets' and 'same' give the same config"):
        build_plan(compose(ov), ov)


PARAMS = {"regime.audit_rate": [0.0, 0.5], "citizens.cc_slope": [0.5, 1.0], "regime.negotiation_interval": [3, 24]}


@pytest.mark.parametrize(
    "sweep,size",
    [
        ({}, 1),
        ({"design": "grid", "parameters": {"regime.audit_rate": [0, 0.1, 0.2], "regime.ratchet": [True, False]}}, 6),
        ({"design": "grid", "parameters": {"regime": {"target_level": {"lo": 0.5, "hi": 0.9, "num": 5}}}}, 5),
        ({"design": "list", "points": [{"regime.audit_rate": 0.1}, {"regime": {"ratchet": True}}]}, 2),
        ({"design": "lhs", "samples": 7, "parameters": PARAMS}, 7),
        ({"design": "sobol", "samples": 8, "parameters": PARAMS}, 8 * (3 + 2)),
        ({"design": "sobol", "samples": 8, "second_order": True, "parameters": PARAMS}, 8 * (2 * 3 + 2)),
        ({"design": "morris", "trajectories": 5, "parameters": PARAMS}, 5 * (3 + 1)),
    ],
)
def test_designs_expand_to_their_sizes(sweep: dict, size: int) -> None:
    spec = parse_sweep(sweep)
    points = spec.points()
    assert len(points) == size == expected_size(spec)
    if spec.design in ("lhs", "sobol", "morris"):
        for name, (lo, hi) in PARAMS.items():
            assert points[name].between(lo, hi).all(), name
        # Integer parameters are sampled as whole numbers.
        assert points["regime.negotiation_interval"].dtype == np.int64
        assert points["regime.audit_rate"].dtype == np.float64


def test_lhs_stratifies_each_parameter() -> None:
    spec = parse_sweep({"design": "lhs", "samples": 10, "seed": 3, "parameters": {"regime.audit_rate": [0, 1]}})
    strata = np.floor(spec.points()["regime.audit_rate"] * 10).astype(int)
    assert sorted(strata) == list(range(10))


def test_apply_point_is_a_cheap_merge_that_validate_accepts() -> None:
    base = SimConfig()
    cfg = apply_point(base, {"regime.audit_rate": np.float64(0.25), "population.n_citizens": np.int64(500)})
    assert cfg.regime.audit_rate == 0.25 and type(cfg.regime.audit_rate) is float
    assert cfg.population.n_citizens == 500 and type(cfg.population.n_citizens) is int
    assert base.regime.audit_rate == 0.1 and base.population.n_citizens == 3000  # not mutated
    assert cfg.citizens is base.citizens  # untouched sections are shared, not copied
    validate(cfg)
    assert dataclasses.replace(cfg) == cfg


# ------------------------------------------------------------------ mistakes in a user's experiment file (issue 12)
HEAD = "# @package _global_\nexperiment:\n  name: mine\n"
ARMS = '  arms:\n    a: ["regime=none"]\n    b: ["regime=targets"]\n'
BAD_FILES = [
    # (file text, fragments the one line must hold: the file is named wherever composition found the mistake)
    (HEAD + '  arms:\n    a: [regime=none\n    b: ["regime=targets"]\n', ["mine.yaml, line 6", "invalid YAML"]),
    (
        HEAD + '  arms:\n    a: ["regime=none"]\n    a: ["regime=targets"]\n',
        ["mine.yaml, line 6", "key 'a' is given twice"],
    ),
    (HEAD + "  replicatons: 3\n" + ARMS, ["mine.yaml", "'experiment.replicatons'", "did you mean 'replications'"]),
    (
        "# @package _global_\npopulaton:\n  n_citizens: 10\n" + HEAD[20:] + ARMS,
        ["mine.yaml", "did you mean 'population'"],
    ),
    (HEAD + '  arms:\n    a: regime=none\n    b: ["regime=targets"]\n', ["mine.yaml", "experiment.arms.a=", "a list"]),
    (HEAD + "  replications: many\n" + ARMS, ["mine.yaml", "experiment.replications='many' is not a whole number"]),
    (HEAD + '  arms:\n    a: ["regime=none", "regime.audt_rate=0.2"]\n', ["experiment.arms.a:", "'regime.audt_rate'"]),
    (HEAD + '  arms:\n    ../../../../../x: ["regime=none"]\n', ["experiment.arms.../../../../../x=", "safe name"]),
    (HEAD + '  arms:\n    a: ["regime=none"]\n  metrics_to_plot: [trust]\n', ["metrics_to_plot[0]='trust'"]),
    (HEAD + ARMS + "  analysis:\n    compare: [[a, a]]\n", ["compare[0]=['a', 'a'] compares arm 'a' with itself"]),
]


def _user_configs(tmp_path: Path, text: str) -> Path:
    from sim.config import config_dir

    dest = tmp_path / "configs"
    shutil.copytree(config_dir(), dest)
    (dest / "experiment" / "mine.yaml").write_text(text)
    return dest


@pytest.mark.parametrize(("text", "fragments"), BAD_FILES, ids=[f"file{i}" for i in range(len(BAD_FILES))])
def test_a_mistake_in_a_users_experiment_file_gives_one_line(tmp_path: Path, text: str, fragments: list[str]) -> None:
    configs = _user_configs(tmp_path, text)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "SIM_CONFIG_DIR": str(configs)}
    env.pop("SIM_DEBUG", None)
    out = subprocess.run(
        [sys.executable, "-m", "sim", "experiment=mine", "steps=2", "experiment.replications=1", "output.dir=out"],
        cwd=work, capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in out.stderr and "full_key" not in out.stderr
    assert list(work.iterdir()) == [], "a refused experiment leaves nothing behind"


def test_comparing_an_arm_with_itself_is_refused() -> None:
    from sim.sweep.report import parse_analysis

    with pytest.raises(ConfigError, match=r"compare\[0\]=\['a', 'a'\] compares arm 'a' with itself"):
        parse_analysis({"compare": [["a", "a"]]}, ["a", "b"], parse_sweep({}))

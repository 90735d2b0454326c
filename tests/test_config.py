"""Every config file composes and validates; the Python API honours its overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.config import REGIMES, ConfigError, ExperimentConfig, compose, config_dir, to_sim_config
from sim.runner import arm_configs

GROUPS = ("population", "citizens", "services", "regime")


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))


@pytest.mark.parametrize("group,option", [(g, o) for g in GROUPS for o in options(g)])
def test_every_group_option_composes(group: str, option: str) -> None:
    cfg = to_sim_config(compose([f"{group}={option}"]))
    if group == "regime":
        assert cfg.regime.name == option


def test_regime_files_cover_the_regimes() -> None:
    assert set(options("regime")) == set(REGIMES)


@pytest.mark.parametrize("name", options("experiment"))
def test_every_experiment_and_its_arms_compose(name: str) -> None:
    from omegaconf import OmegaConf

    cfg = compose([f"experiment={name}"])
    exp = OmegaConf.to_object(cfg.experiment)
    assert isinstance(exp, ExperimentConfig) and exp.name == name and exp.arms
    arms = arm_configs([f"experiment={name}"], exp)
    assert set(arms) == set(exp.arms)


def test_experiment_files_hold_only_deltas() -> None:
    """An experiment file never restates a default: every scalar it sets differs from the base."""
    from omegaconf import OmegaConf

    base = OmegaConf.to_container(compose([]), resolve=True)
    for path in (config_dir() / "experiment").glob("*.yaml"):
        data = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        assert isinstance(data, dict)
        for key, value in data.items():
            if key in ("experiment", "defaults") or not isinstance(base, dict):
                continue
            if not isinstance(value, dict):
                assert base[key] != value, f"{path.name}: {key} restates its default"
            else:
                for sub, v in value.items():
                    assert base[key][sub] != v, f"{path.name}: {key}.{sub} restates its default"


@pytest.mark.parametrize("name", options("experiment"))
def test_experiment_files_values_take_effect(name: str) -> None:
    """Every value an experiment file sets is the composed config's value (no default overrides it)."""
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(OmegaConf.load(config_dir() / "experiment" / f"{name}.yaml"), resolve=True)
    composed = compose([f"experiment={name}"])
    assert isinstance(data, dict)
    for key, value in data.items():
        if key in ("experiment", "defaults"):
            continue
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for sub, v in items:
            where = key if sub is None else f"{key}.{sub}"
            got = OmegaConf.to_container(composed, resolve=True)[key] if sub is None else composed[key][sub]
            got = OmegaConf.to_container(got, resolve=True) if OmegaConf.is_config(got) else got
            if isinstance(v, list) and isinstance(got, list) and all(isinstance(d, dict) for d in v):
                # Items of a list of records (regime.switches) also hold their fields' defaults.
                got = [{k: g.get(k) for k in d} if isinstance(g, dict) else g for g, d in zip(got, v, strict=False)]
            assert got == v, f"{name}.yaml sets {where}={v!r} but the composed config has {got!r}"


def test_load_config_applies_the_documented_overrides() -> None:
    cfg = sim.load_config(["regime=negotiated", "steps=240", "population.n_citizens=100000", "seed=7"])
    assert (cfg.regime.name, cfg.steps, cfg.population.n_citizens, cfg.seed) == ("negotiated", 240, 100000, 7)


@pytest.mark.parametrize(
    "override,expected",
    [
        ("steps=0", "steps=0"),
        ("population.n_citizens=-5", "population.n_citizens=-5"),
        ("regime.audit_rate=1.5", "regime.audit_rate=1.5"),
        ("regime=bogus", "regime"),
        ("population.nonexistent=3", "nonexistent"),
        ("regime.switches=[{step:500,to:targets}]", "regime.switches[0].step=500"),
        ("regime.switches=[{step:5,to:nowhere}]", "nowhere"),
        ("population.share_conditional=0.95", "share_free_rider"),  # + calibrated share_free_rider > 1
        ("steps=abc", "steps"),
    ],
)
def test_bad_values_name_the_key(override: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        sim.load_config([override])
    assert expected in str(err.value)


def test_configs_dir_is_the_packaged_one() -> None:
    assert (config_dir() / "config.yaml").is_file()
    assert Path(sim.__file__).resolve().parent.parent / "configs" == config_dir()

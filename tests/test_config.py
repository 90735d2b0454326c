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


# --- the composition cache (sim.config.compose): one Hydra composition per distinct config -----------


def _copied_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import shutil

    copy = tmp_path / "configs"
    shutil.copytree(config_dir(), copy)
    monkeypatch.setenv("SIM_CONFIG_DIR", str(copy))
    return copy


def test_compose_reuses_a_composition_and_hands_out_independent_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    import hydra

    from sim import config as C

    calls: list[list[str]] = []
    real = hydra.compose

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(list(kwargs.get("overrides") or []))  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hydra, "compose", counting)
    C.clear_compose_cache()
    first = compose(["experiment=main", "steps=24"])
    second = compose(["experiment=main", "steps=24"])
    assert len(calls) == 1, "the same overrides must not be composed twice"
    assert first == second and first is not second
    first.steps = 99  # a caller changing its config changes no one else's
    assert compose(["experiment=main", "steps=24"]).steps == 24
    compose(["experiment=main", "steps=36"])
    assert len(calls) == 2, "other overrides compose afresh"


def _set_steps(configs: Path, steps: int) -> None:
    """Edit the top-level config.yaml's ``steps`` (a line of the same length: size alone cannot tell)."""
    path = configs / "config.yaml"
    lines = path.read_text().splitlines()
    assert any(x.startswith("steps: ") for x in lines)
    path.write_text("\n".join(f"steps: {steps}" if x.startswith("steps: ") else x for x in lines) + "\n")


def test_compose_cache_sees_an_edited_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    copy = _copied_configs(tmp_path, monkeypatch)
    _set_steps(copy, 111)
    assert compose([]).steps == 111
    stat = (copy / "config.yaml").stat()
    _set_steps(copy, 222)
    os.utime(copy / "config.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and time: the bytes differ
    assert compose([]).steps == 222


def test_compose_cache_sees_another_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = compose([]).steps
    copy = _copied_configs(tmp_path, monkeypatch)
    _set_steps(copy, 333)
    assert compose([]).steps == 333
    monkeypatch.delenv("SIM_CONFIG_DIR")
    assert compose([]).steps == baseline != 333


def test_compose_cache_sees_an_experiment_registered_again_with_other_contents() -> None:
    from omegaconf import OmegaConf

    from sim import config as C

    name = "compose_cache_probe"
    try:
        for steps in (24, 36):
            node = OmegaConf.create({"steps": steps, "experiment": {"name": name, "arms": {"a": []}}})
            C.register_experiment_node(name, node, "test")
            assert compose([f"experiment={name}"]).steps == steps
    finally:
        C._EXPERIMENT_FILES.pop(name, None)
        C._EXPERIMENT_NODES.pop(name, None)


def test_compose_cache_records_the_provenance_on_every_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.config import config_origin

    copy = _copied_configs(tmp_path, monkeypatch)
    compose(["experiment=main"], record=True)
    monkeypatch.delenv("SIM_CONFIG_DIR")
    compose(["experiment=main"], record=True)  # cached or not, the record is this composition's
    assert config_origin()["files"]["experiment"] == str(config_dir() / "experiment" / "main.yaml")
    monkeypatch.setenv("SIM_CONFIG_DIR", str(copy))
    compose(["experiment=main"], record=True)  # from the cache this time
    assert config_origin()["files"]["experiment"] == str(copy / "experiment" / "main.yaml")
    assert config_origin()["SIM_CONFIG_DIR"] == str(copy)

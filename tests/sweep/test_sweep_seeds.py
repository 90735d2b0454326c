"""Seeds and keys: common random numbers across arms and points, prefix-stable replications."""

from __future__ import annotations

from conftest import GRID, tiny

from sim.config import compose
from sim.provenance import config_hash
from sim.runner import config_yaml
from sim.runner import replication_seeds as runner_seeds
from sim.sweep.plan import build_plan, fast_yaml, replication_seeds, run_key


def test_seeds_are_prefix_stable_and_distinct() -> None:
    ten, twenty = replication_seeds(7, 10), replication_seeds(7, 20)
    assert twenty[:10] == ten
    assert len(set(twenty)) == 20
    assert replication_seeds(8, 10) != ten
    assert all(0 <= s < 2**63 for s in twenty)
    assert runner_seeds is replication_seeds  # the runner's name is the same function


def test_every_arm_and_point_sees_the_same_seeds_and_more_replications_keep_the_earlier_runs() -> None:
    small, large = tiny(GRID, replications=2), tiny(GRID, replications=4)
    plan2, plan4 = build_plan(compose(small), small), build_plan(compose(large), large)
    m = plan4.manifest
    assert len(m) == 2 * 2 * 4
    per_rep = m.groupby("replication")["seed"].nunique()
    assert per_rep.eq(1).all()  # common random numbers: replication r, same seed everywhere
    assert m.groupby(["arm", "point"])["seed"].apply(list).map(tuple).nunique() == 1
    # Adding replications keeps the earlier runs: same keys, so a resumed sweep skips them.
    assert set(plan2.manifest["key"]) <= set(m["key"])
    assert m["key"].is_unique


def test_run_key_is_the_hash_of_the_resolved_config_yaml() -> None:
    ov = tiny(GRID)
    plan = build_plan(compose(ov), ov)
    for _, row in plan.manifest.iterrows():
        cfg = plan.config(row["arm"], int(row["point"]), int(row["seed"]))
        text = config_yaml(cfg)
        assert fast_yaml(cfg) == text
        assert row["key"] == run_key(text)
        assert row["key"].startswith(config_hash(text))
        assert cfg.seed == row["seed"] and cfg.regime.audit_rate == row["regime.audit_rate"]


def test_the_output_folder_plays_no_part_in_the_key() -> None:
    a, b = tiny("output.dir=/tmp/a"), tiny("output.dir=/tmp/b")
    assert list(build_plan(compose(a), a).manifest["key"]) == list(build_plan(compose(b), b).manifest["key"])


def test_the_code_fingerprint_covers_what_a_run_executes_and_nothing_else() -> None:
    from sim.sweep.plan import model_sources

    names = {str(p.relative_to(p.parents[1] if p.parent.name != "sim" else p.parent)) for p in model_sources()}
    assert {"model.py", "config.py", "state.py", "metrics.py", "rules/cooperation.py", "agents/citizen.py"} <= names
    assert not [n for n in names if n.startswith(("sweep/", "app/")) or n in ("__main__.py", "lab.py", "runner.py")]

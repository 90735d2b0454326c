"""Seeds and keys: common random numbers across arms and points, prefix-stable replications."""

from __future__ import annotations

import os
from pathlib import Path

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


def _package_copy(tmp_path: Path) -> Path:
    """A copy of the sim package's sources (the fingerprint of a copy is the package's own)."""
    import shutil

    import sim

    root = tmp_path / "sim"
    shutil.copytree(Path(sim.__file__).resolve().parent, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def test_the_code_fingerprint_changes_with_the_model_code_and_only_with_it(tmp_path: Path) -> None:
    from sim.sweep.plan import code_fingerprint

    root = _package_copy(tmp_path)
    base = code_fingerprint(root)
    assert base == code_fingerprint()  # the same files give the same fingerprint, wherever they are
    rule = root / "rules" / "cooperation.py"
    original = rule.read_text()
    rule.write_text(original + "\n# a model change\n")
    changed = code_fingerprint(root)
    assert changed != base
    rule.write_text(original)
    assert code_fingerprint(root) == base
    (root / "sweep" / "report.py").write_text((root / "sweep" / "report.py").read_text() + "\n# not the model\n")
    assert code_fingerprint(root) == base  # the sweep machinery does not change results


def test_the_code_fingerprint_sees_an_edit_that_keeps_size_and_time(tmp_path: Path) -> None:
    """Only the parse is cached, by content hash: an edit is seen even if size and mtime are the same."""
    from sim.sweep.plan import code_fingerprint

    root = _package_copy(tmp_path)
    rule = root / "rules" / "cooperation.py"
    rule.write_text(rule.read_text() + "# x\n")
    before, stat = code_fingerprint(root), rule.stat()
    rule.write_text(rule.read_text()[:-4] + "# y\n")
    os.utime(rule, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (rule.stat().st_size, rule.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert code_fingerprint(root) != before


def test_the_code_fingerprint_follows_a_new_import(tmp_path: Path) -> None:
    """A module the model starts to import (inside a function) joins the fingerprint; its edits then count."""
    from sim.sweep.plan import code_fingerprint, model_sources

    root = _package_copy(tmp_path)
    extra = root / "extra_rule.py"
    extra.write_text("FACTOR = 1.0\n")
    base = code_fingerprint(root)
    extra.write_text("FACTOR = 2.0\n")
    assert code_fingerprint(root) == base  # not imported by the model yet
    rule = root / "rules" / "cooperation.py"
    rule.write_text(
        rule.read_text() + "\n\ndef _factor() -> float:\n    from sim.extra_rule import FACTOR\n\n    return FACTOR\n"
    )
    assert extra in model_sources(root)
    with_import = code_fingerprint(root)
    extra.write_text("FACTOR = 3.0\n")
    assert code_fingerprint(root) != with_import


def test_kernel_threads_play_no_part_in_the_keys_or_the_sweep_id() -> None:
    """Threads give the same bits (tests/test_fused.py): a sweep resumed with other threads finds its runs."""
    from sim.sweep.plan import sweep_id

    one, two, every = tiny(GRID), tiny(GRID, "kernel_threads=2"), tiny(GRID, "kernel_threads=0")
    plans = [build_plan(compose(ov), ov) for ov in (one, two, every)]
    keys = [list(p.manifest["key"]) for p in plans]
    assert keys[0] == keys[1] == keys[2]
    assert sweep_id(compose(one)) == sweep_id(compose(two)) == sweep_id(compose(every))
    # The runs still run on the threads asked for.
    row = plans[1].manifest.iloc[0]
    assert plans[1].config(row["arm"], int(row["point"]), int(row["seed"])).kernel_threads == 2
    # And another setting still changes both.
    other = tiny(GRID, "population.n_citizens=150")
    assert set(build_plan(compose(other), other).manifest["key"]).isdisjoint(keys[0])
    assert sweep_id(compose(other)) != sweep_id(compose(one))

"""The experiment catalogue (``experiments/NAME/``): every named experiment has its folder, README
and committed reference outputs, and a fresh run agrees with them.

The golden test of the catalogue reruns each experiment at its reference size (``reference.yaml``),
or, for the long ones, at the reduced size of its ``ci_overrides`` against ``reference/ci/`` (so
``make test`` stays short; ``python -m sim catalogue --check`` checks the full size), and compares its result
tables (``summary.csv`` and the rest, ``sim.catalogue.reference_tables``) with the committed ones
exactly where this machine's SIMD features are the recorded ones, and otherwise within each row's
seed-to-seed interval (``sim.catalogue.compare_summaries``). When a change to the model moves a result on
purpose, regenerate with ``python -m sim catalogue NAME`` and say why in the commit. Skip these
with ``-m "not catalogue"`` for a quick local loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.catalogue import (
    BEGIN,
    CATALOGUE,
    CI_DIR,
    END,
    CatalogueError,
    check_against_reference,
    compare_summaries,
    entries,
    experiment_names,
    load_entry,
    run_reference,
)

NAMES = experiment_names()
README_SECTIONS = (
    "**Question.**",
    "## How to run it",
    "## What to look at",
    "## How long it takes",
    "## What it found",
)


def test_every_named_experiment_is_catalogued() -> None:
    folders = sorted(p.name for p in CATALOGUE.iterdir() if p.is_dir())
    assert folders == NAMES, "experiments/ must hold exactly one folder per configs/experiment/*.yaml"
    index = (CATALOGUE / "README.md").read_text()
    for name in NAMES:
        assert f"[`{name}`]({name}/README.md)" in index, f"experiments/README.md does not list {name}"


@pytest.mark.parametrize("name", NAMES)
def test_folder_has_readme_and_reference_outputs(name: str) -> None:
    entry = load_entry(name)
    readme = (entry.folder / "README.md").read_text()
    for section in README_SECTIONS:
        assert section in readme, f"{name}/README.md lacks {section!r}"
    generated = readme.split(BEGIN, 1)[1].split(END, 1)[0]
    assert f"python -m sim experiment={name}" in generated
    assert (entry.reference / "summary.csv").is_file() or (entry.reference / "summary_by_arm.csv").is_file()
    assert (entry.reference / "reference.json").is_file()
    assert entry.figures, f"{name}: reference.yaml names no key figure"
    for stem in entry.figures:
        assert (entry.reference / f"{stem}.png").is_file(), f"{name}: reference/{stem}.png"
        assert f"reference/{stem}.png" in generated, f"{name}/README.md does not show {stem}"
    # Every file under reference/ is listed in the README, and is small.
    for path in entry.reference.iterdir():
        if path.name == CI_DIR:
            continue
        assert path.name == "reference.json" or f"reference/{path.name}" in generated, f"{path.name} not listed"
        assert path.stat().st_size < 400_000, f"{path} is too large for a committed reference"
    # A reduced-size check has its own tables, made on a recorded CPU, and the README says how it is run.
    if entry.ci_overrides:
        assert (entry.ci_reference / "reference.json").is_file(), f"{name}: run python -m sim catalogue --ci {name}"
        assert list(entry.ci_reference.glob("*.csv")), f"{name}: reference/ci/ holds no table"
        assert " ".join(entry.command(ci=True)) in generated, f"{name}/README.md does not give the reduced check"
    else:
        assert not entry.ci_reference.exists(), f"{name}: reference/ci/ without ci_overrides"


@pytest.mark.catalogue
@pytest.mark.parametrize("name", NAMES)
def test_fresh_run_agrees_with_committed_reference(name: str, tmp_path: Path) -> None:
    entry = load_entry(name)
    out = tmp_path / name
    ci = bool(entry.ci_overrides)
    run_reference(entry, out, extra=["experiment.workers=1"], ci=ci)
    problems = check_against_reference(entry, out, ci=ci)
    where = entry.ci_reference if ci else entry.reference
    assert not problems, (
        f"{name}: a fresh run no longer agrees with {where}:\n"
        + "\n".join(problems)
        + f"\nIf the change was intended, regenerate with: python -m sim catalogue {name}"
    )


def test_compare_summaries_flags_a_moved_result() -> None:
    ref = pd.DataFrame(
        {"arm": ["a", "a"], "metric": ["x", "y"], "mean": [0.5, 1.0], "ci_low": [0.4, 0.9], "ci_high": [0.6, 1.1]}
    )
    assert compare_summaries(ref, ref.copy()) == []
    last_bit = ref.assign(mean=np.nextafter(ref["mean"].to_numpy(), 2.0))
    assert compare_summaries(ref, last_bit) != []  # exact where the SIMD features match
    assert compare_summaries(ref, last_bit, exact=False) == []
    within = ref.assign(mean=ref["mean"] + 0.09)  # inside the rows' half-width of 0.1
    assert compare_summaries(ref, within, exact=False) == []
    beyond = ref.assign(mean=ref["mean"] + 0.11)
    assert len(compare_summaries(ref, beyond, exact=False)) == 2
    stats = ref.assign(d_z=[1.0, 2.0])
    assert compare_summaries(stats, stats.assign(d_z=[1.5, 2.5]), exact=False) == []  # no interval: not compared
    assert compare_summaries(stats, stats.assign(d_z=[1.5, 2.5])) != []
    moved = ref.copy()
    moved.loc[1, "mean"] = 1.000000001
    problems = compare_summaries(ref, moved)
    assert len(problems) == 1 and "mean" in problems[0] and "'y'" in problems[0]
    assert compare_summaries(ref, ref.iloc[:1]) == ["row ('a', 'y') is missing from the fresh table"]
    nan = ref.assign(ci_low=[float("nan"), 0.9])
    assert compare_summaries(nan, nan.copy()) == []
    assert compare_summaries(nan, ref) != []


def test_catalogue_command_rejects_unknown_experiment(tmp_path: Path) -> None:
    from tests.conftest import sim_cli

    out = sim_cli("catalogue", "no_such_experiment", cwd=tmp_path)
    assert out.returncode == 2
    assert "'no_such_experiment' is not a named experiment; allowed:" in out.stderr and "main" in out.stderr
    assert "Traceback" not in out.stderr
    out = sim_cli("catalogue", "--fast", "main", cwd=tmp_path)
    assert out.returncode == 2
    assert "unknown option '--fast'; allowed: --ci, --check or --ledger" in out.stderr and "Traceback" not in out.stderr


def test_malformed_reference_spec_is_named(tmp_path: Path) -> None:
    (tmp_path / "main").mkdir()
    (tmp_path / "main" / "reference.yaml").write_text("overrides: [experiment=payment]\n")
    with pytest.raises(CatalogueError, match="not the experiment or its folder"):
        load_entry("main", root=tmp_path)
    (tmp_path / "main" / "reference.yaml").write_text("figure: [over_time]\n")
    with pytest.raises(CatalogueError, match="unknown key 'figure'; allowed: overrides, ci_overrides, figures"):
        load_entry("main", root=tmp_path)
    with pytest.raises(CatalogueError, match="missing"):
        entries(["payment"], root=tmp_path)

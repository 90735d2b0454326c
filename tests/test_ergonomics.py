"""Issue 16, parts 1, 3, 4, 5 and 6: a researcher's own experiments, overrides, quiet runs, analysis, API.

Each test names the friction of the issue's "Why" it covers; every one failed before the change.
Sizes are tiny (60 citizens, a few months) so that the file runs in about a minute.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.config import ConfigError, compose
from tests.conftest import interrupt_after_first_run

REPO = Path(__file__).resolve().parents[1]
TINY = ["population.n_citizens=60", "population.n_communities=3", "burn_in=1", "steps=4"]
QUIET = ["experiment.progress=false", "experiment.backend=serial"]
# One arm instead of the main job's four (its comparisons name the other arms, so they go too).
ONE_ARM = ['experiment.arms={a: ["regime=targets"]}', "experiment.analysis.compare=[]"]
# The dask backend without its dashboard, whose URL would be a line of its own.
DASK_LOCAL = ("experiment.backend=dask", "++experiment.dask.dashboard_address=null")

# A researcher's experiment: only deltas, as configs/experiment/*.yaml hold.
MINE = """\
# @package _global_
population:
  n_citizens: 60
  n_communities: 3
steps: 4
burn_in: 1
experiment:
  name: {name}
  question: Does auditing more change gaming under targets?
  arms:
    low_audit: ["regime=targets", "regime.audit_rate=0.0"]
    high_audit: ["regime=targets", "regime.audit_rate=0.3"]
  replications: 2
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SIM_DEBUG", "SIM_CONFIG_DIR", "SIM_VERBOSE")}
    env["PYTHONPATH"] = str(REPO)
    return env


def cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout
    )


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    """A config folder outside the repository holding experiment/mine.yaml."""
    d = tmp_path / "my" / "conf"
    (d / "experiment").mkdir(parents=True)
    (d / "experiment" / "mine.yaml").write_text(MINE.format(name="mine"))
    return d


# --------------------------------------------------------------- 1. experiments from anywhere
def test_config_dir_runs_a_users_experiment_and_provenance_records_its_file(tmp_path: Path, conf: Path) -> None:
    """Why 1: `--config-dir ~/my/conf experiment=mine` failed with "not a known experiment config"."""
    proc = cli("--config-dir", str(conf), "experiment=mine", *QUIET, "experiment.analysis.enabled=false", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "outputs" / "mine" / "latest"
    prov = json.loads((folder / "provenance.json").read_text())
    sources = prov["config_sources"]
    assert sources["files"]["experiment"] == str(conf / "experiment" / "mine.yaml")
    assert any(str(conf) in entry for entry in sources["search_path"])
    assert sources["files"]["regime"].endswith("configs/regime/none.yaml")  # the packaged defaults still apply
    assert len(sim.read_sweep(folder).manifest) == 4  # 2 arms x 2 replications, as the file says


def test_hydra_searchpath_and_a_file_path_name_the_users_experiment(tmp_path: Path, conf: Path) -> None:
    """Why 1: `hydra.searchpath=[file://...]` failed the same way; a file path was not an experiment."""
    (tmp_path / "elsewhere.yaml").write_text(MINE.format(name="elsewhere"))
    for args in (
        (f"hydra.searchpath=[file://{conf}]", "experiment=mine"),
        ("experiment=./elsewhere.yaml",),
    ):
        proc = cli(*args, *QUIET, "--dry-run", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "4 runs: 2 arms x 2 replications" in proc.stdout, proc.stdout
        assert "low_audit" in proc.stdout and "high_audit" in proc.stdout


def test_a_file_named_like_a_packaged_experiment_is_refused_not_shadowed(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(MINE.format(name="main"))
    line = _one_error_line(cli("experiment=./main.yaml", "--dry-run", cwd=tmp_path))
    assert "rename the file" in line and "main" in line
    line = _one_error_line(cli("experiment=./nosuch.yaml", "--dry-run", cwd=tmp_path))
    assert "no such file" in line


def test_a_config_folder_shadowing_a_packaged_experiment_is_refused(tmp_path: Path, conf: Path) -> None:
    """A user's experiment/main.yaml on the search path lost silently to the packaged main."""
    (conf / "experiment" / "main.yaml").write_text(MINE.format(name="main"))
    for args in (("--config-dir", str(conf)), (f"hydra.searchpath=[file://{conf}]",)):
        line = _one_error_line(cli(*args, "experiment=mine", "--dry-run", cwd=tmp_path))
        assert "main.yaml" in line and "would be used instead" in line and "rename your file" in line, line


def test_sim_config_dir_is_recorded_in_the_provenance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why 1: SIM_CONFIG_DIR was undocumented and provenance did not record it."""
    import shutil

    copy = tmp_path / "configs"
    shutil.copytree(REPO / "configs", copy)
    monkeypatch.setenv("SIM_CONFIG_DIR", str(copy))
    res = sim.experiment(
        "main",
        [
            *TINY,
            *QUIET,
            f"output.dir={tmp_path / 'out'}",
            "experiment.replications=1",
            "experiment.analysis.enabled=false",
            *ONE_ARM,
        ],
    )
    prov = json.loads((res.folder / "provenance.json").read_text())
    assert prov["config_sources"]["SIM_CONFIG_DIR"] == str(copy)
    assert prov["config_sources"]["files"]["experiment"] == str(copy / "experiment" / "main.yaml")


# --------------------------------------------------------------- 3. overrides a Hydra user expects
def test_replacing_the_arms_and_the_sweep_replaces_them() -> None:
    """Why 3: `++experiment.arms={...}` and `++experiment.sweep={...}` merged into the block."""
    one = 'experiment.arms={a: ["regime=targets"]}'
    for prefix in ("", "+", "++"):
        cfg = compose([prefix + one])
        assert list(cfg.experiment.arms) == ["a"]
    cfg = compose(
        ["experiment=sensitivity", "++experiment.sweep={design: grid, parameters: {regime.audit_rate: [0, 0.2]}}"]
    )
    assert dict(cfg.experiment.sweep) == {"design": "grid", "parameters": {"regime.audit_rate": [0, 0.2]}}


def test_deleting_blocks_and_arms(tmp_path: Path) -> None:
    """Why 3: `~experiment.arms` was silently ignored; now it is one line, and deletions that mean something work."""
    assert dict(compose(["experiment=sensitivity", "~experiment.sweep"]).experiment.sweep) == {}
    assert list(compose(["~experiment.arms.none"]).experiment.arms) == ["targets", "negotiated", "functioning"]
    with pytest.raises(ConfigError, match="at least one"):
        compose(["~experiment.arms"])
    line = _one_error_line(cli("~experiment.arms", *TINY, cwd=tmp_path))
    assert "~experiment.arms.NAME" in line
    assert not (tmp_path / "outputs").exists()


def test_a_dotted_sweep_parameter_works_or_gets_one_line(tmp_path: Path) -> None:
    """Why 3: `experiment.sweep.parameters.regime.audit_rate=[0,1.5]` got a garbled error."""
    base = [*TINY, *QUIET, *ONE_ARM, "experiment.replications=1"]
    proc = cli(
        *base,
        "experiment.sweep.design=grid",
        "experiment.sweep.parameters.regime.audit_rate=[0,0.3]",
        "--dry-run",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 runs: 1 arm x 2 points (grid)" in proc.stdout
    # On an experiment that already sweeps it, the range is replaced in place.
    cfg = compose(["experiment=sensitivity", "experiment.sweep.parameters.regime.audit_rate=[0,0.2]"])
    assert list(cfg.experiment.sweep.parameters.regime.audit_rate) == [0, 0.2]
    line = _one_error_line(
        cli(
            *base,
            "experiment.sweep.design=grid",
            "experiment.sweep.parameters.regime.audit_rate=[0,1.5]",
            "--dry-run",
            cwd=tmp_path,
        )
    )
    assert "regime.audit_rate" in line and "1.5" in line
    line = _one_error_line(
        cli(*base, "experiment.sweep.parameters.regime.audit_rate=[0,0.3]", "--dry-run", cwd=tmp_path)
    )
    assert "experiment.sweep.design is missing" in line


def test_an_override_every_arm_sets_again_is_an_error(tmp_path: Path) -> None:
    """An ineffective override is an error: `regime=negotiated` on an experiment whose arms all set the regime."""
    line = _one_error_line(cli("regime=negotiated", *TINY, "--dry-run", cwd=tmp_path))
    assert "has no effect" in line and "every arm sets regime" in line
    line = _one_error_line(cli("experiment=sensitivity", "regime.audit_rate=0.1", "--dry-run", cwd=tmp_path))
    assert "has no effect" in line and "experiment.sweep varies regime.audit_rate" in line
    line = _one_error_line(cli("experiment=sensitivity", "experiment.sweep.bogus=1", "--dry-run", cwd=tmp_path))
    assert "experiment.sweep.bogus: unknown option" in line


# --------------------------------------------------------------- 4. quiet by default
def test_help_is_instant_lists_commands_and_imports_nothing_heavy(tmp_path: Path) -> None:
    """Why 6: `--help` took 8 s, dumped the config and listed neither the commands nor --dry-run."""
    code = (
        "import runpy, sys; sys.argv = ['sim', '--help']; runpy.run_module('sim', run_name='__main__');"
        "heavy = [m for m in ('hydra', 'pandas', 'numpy', 'mesa', 'omegaconf') if m in sys.modules];"
        "print('HEAVY', heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout
    for needle in (
        "experiment",
        "run",
        "analyse",
        "report",
        "rerun",
        "--dry-run",
        "--verbose",
        "docs/",
        "experiment.replications",
        "~experiment.arms.NAME",
        "experiment=./mine.yaml",
    ):
        assert needle in proc.stdout, needle
    assert "n_citizens: " not in proc.stdout  # not the composed config


def test_per_month_mesa_lines_only_with_verbose(tmp_path: Path) -> None:
    """Why 4: every month logged `[MESA.mesa.model][INFO] - Step N`."""
    args = [*TINY, *QUIET, *ONE_ARM, "experiment.replications=1", "experiment.analysis.enabled=false"]
    quiet = cli(*args, cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    logs = "".join(p.read_text() for p in (tmp_path / "outputs").rglob("*.log"))
    assert "Step" not in quiet.stdout + quiet.stderr + logs
    loud = cli(*args, "--verbose", "experiment.folder=" + str(tmp_path / "loud"), cwd=tmp_path)
    assert loud.returncode == 0, loud.stderr
    text = loud.stdout + loud.stderr + "".join(p.read_text() for p in (tmp_path / "loud").glob("*.log"))
    assert text.count("Step") >= 5  # burn-in and months of the one run


def test_dask_info_lines_only_with_verbose(tmp_path: Path) -> None:
    """A four-run sweep on the dask backend printed some 30 INFO lines of dask's scheduler and workers."""
    args = [
        *TINY,
        'experiment.arms={a: ["regime=targets"], b: ["regime=none"]}',
        "experiment.analysis.compare=[]",
        "experiment.replications=2",
        "experiment.analysis.enabled=false",
        "experiment.progress=false",
        *DASK_LOCAL,
    ]
    env = {k: v for k, v in _env().items() if not k.startswith("DASK_")}

    def sweep(name: str, *extra: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "sim", *extra, *args, f"experiment.folder={tmp_path / name}"]
        return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    quiet, loud = sweep("quiet"), sweep("loud", "--verbose")
    for proc in (quiet, loud):
        assert proc.returncode == 0, proc.stderr
    logs = "".join(p.read_text() for p in (tmp_path / "quiet").glob("*.log"))
    assert "distributed." not in quiet.stdout + quiet.stderr + logs, quiet.stdout
    assert "4 runs planned" in quiet.stdout
    assert loud.stdout.count("[distributed.") >= 5, loud.stdout


@pytest.mark.parametrize(
    ("backend", "sig"),
    [
        (("experiment.backend=processes",), signal.SIGINT),
        (("experiment.backend=processes",), signal.SIGTERM),
        (DASK_LOCAL, signal.SIGINT),
    ],
    ids=["processes-SIGINT", "processes-SIGTERM", "dask-SIGINT"],
)
def test_an_interrupted_sweep_ends_with_one_line_naming_the_resume_command(
    tmp_path: Path, backend: tuple[str, ...], sig: signal.Signals
) -> None:
    """Why 4: Ctrl-C printed up to 139 lines of traceback; SIGTERM a leaked-semaphore warning.

    On the dask backend the LocalCluster's processes printed a KeyboardInterrupt traceback each,
    and the runs in flight were cancelled, each with a warning from its worker. A run that starts
    while the driver cancels the queued ones may still leave such a warning: there, the message
    is the last line rather than the only one.
    """
    args = [
        "population.n_citizens=300",
        "population.n_communities=4",
        "burn_in=1",
        "steps=40",
        'experiment.arms={a: ["regime=targets"], b: ["regime=negotiated"]}',
        "experiment.analysis.compare=[]",
        # 800 runs: on a loaded machine the test may look for the first run's file seconds late, and
        # a sweep of 80 could finish before the signal (it did once, in a full run of the suite).
        "experiment.replications=400",
        *backend,
        "experiment.workers=2",
        "experiment.progress=false",
    ]
    returncode, err = interrupt_after_first_run(args, tmp_path, _env(), sig)
    assert returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and "leaked" not in err, err
    if backend != DASK_LOCAL:
        assert len(lines) == 1, err
    else:
        assert all(" - WARNING - " in line for line in lines[:-1]), err
    saved = len(list(tmp_path.glob("outputs/main/sweep-*/runs/*.parquet")))  # not twice through latest/
    assert saved < 800 and f"interrupted: {saved} of 800 runs saved" in lines[-1]
    assert lines[-1].endswith(
        "run the same command again to resume: python -m sim "
        + " ".join(f"'{a}'" if " " in a or "[" in a or "{" in a else a for a in args)
    )


# --------------------------------------------------------------- 5. analysis that fits the design
def test_sampled_designs_get_differences_per_point_and_a_pooled_summary(tmp_path: Path) -> None:
    """Why 5: for LHS and Sobol' designs differences.csv pooled all points and had no point column."""
    res = sim.experiment(
        "main",
        [
            *TINY,
            *QUIET,
            f"output.dir={tmp_path}",
            "~experiment.arms.functioning",
            "~experiment.arms.none",
            "experiment.analysis.compare=[[negotiated,targets]]",
            "experiment.replications=2",
            "++experiment.sweep={design: lhs, samples: 3, parameters: {regime.audit_rate: [0, 0.3]}}",
        ],
    )
    d = res.differences
    assert d is not None and {"point", "regime.audit_rate", "a", "b", "metric", "diff", "ci_low", "n"} <= set(d.columns)
    assert sorted(d["point"].unique()) == [0, 1, 2]
    assert (d["n"] == 2).all()  # each point: its two replications
    pts = res.manifest.drop_duplicates("point").set_index("point")["regime.audit_rate"]
    assert (d["regime.audit_rate"].to_numpy() == pts.loc[d["point"]].to_numpy()).all()
    pooled = res.pooled_differences
    assert pooled is not None and "point" not in pooled.columns and (pooled["pooled_over_points"] == 3).all()
    assert (pooled["n"] == 6).all()
    assert "pooled over the 3 points" in (res.folder / "report.md").read_text()


def test_analysis_off_then_analyse_later_gives_the_same_tables(tmp_path: Path) -> None:
    """Why 6: the analysis and figures could not be switched off (16 s of a 38 s sweep)."""
    base = [
        *TINY,
        *QUIET,
        "~experiment.arms.functioning",
        "~experiment.arms.none",
        "experiment.analysis.compare=[[negotiated,targets]]",
        "experiment.replications=2",
    ]
    on = sim.experiment("main", [*base, f"output.dir={tmp_path / 'on'}"])
    off = sim.experiment("main", [*base, f"output.dir={tmp_path / 'off'}", "experiment.analysis.enabled=false"])
    assert off.summary is None and not (off.folder / "summary.csv").exists() and not list(off.folder.glob("*.png"))
    assert len(off.timeseries) == len(on.timeseries)
    proc = cli("analyse", str(off.folder), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    again = sim.read_sweep(off.folder)
    for name in ("summary", "differences", "run_summary"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(on, name), check_exact=False, rtol=1e-12)
    assert (off.folder / "report.html").is_file()
    line = _one_error_line(cli("analyse", str(tmp_path), cwd=tmp_path))
    assert "not a sweep folder" in line


# --------------------------------------------------------------- 6. a Python API
def test_python_api_runs_resumes_reads_back_and_links_latest(tmp_path: Path) -> None:
    """Why 6: no Python API for experiments; sweep folders hash-named with no latest link."""
    spec = {
        "population": {"n_citizens": 60, "n_communities": 3},
        "steps": 4,
        "burn_in": 1,
        "experiment": {
            "name": "api_demo",
            "arms": {"t": ["regime=targets"], "n": ["regime=negotiated"]},
            "replications": 2,
        },
    }
    over = [*QUIET, f"output.dir={tmp_path}"]
    first = sim.experiment(spec, over)
    assert isinstance(first.timeseries, pd.DataFrame) and isinstance(first.summary, pd.DataFrame)
    assert first.stats.ran == 4 and set(first.summary["arm"]) == {"t", "n"}
    latest = tmp_path / "api_demo" / "latest"
    assert latest.is_symlink() and latest.resolve() == first.folder.resolve()
    # The later calls skip the analysis (tested elsewhere) to keep this test fast; the runs are the point.
    over = [*over, "experiment.analysis.enabled=false"]
    again = sim.experiment(spec, over)  # resumes: nothing to run
    assert again.stats.ran == 0 and again.stats.already_done == 4
    back = sim.read_sweep(latest)
    pd.testing.assert_frame_equal(back.timeseries, first.timeseries)
    pd.testing.assert_frame_equal(back.summary, first.summary)
    more = sim.experiment(spec, [*over, "experiment.replications=3"])  # same folder, two runs more
    assert more.folder == first.folder and more.stats.ran == 2


# The documents' studies at a tiny size: appended to every sim.experiment call a document's blocks make
# (later overrides win), so that the blocks run as written, only smaller.
DOC_TINY = [*TINY, *QUIET, "experiment.sweep.samples=4"]


def run_python_blocks(doc: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Write the document's ``# file:`` YAML blocks, then run its Python blocks in order, in ``cwd``.

    Returns:
        The namespace the blocks ran in.

    """
    import re

    text = doc.read_text()
    monkeypatch.chdir(cwd)
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        first = block.splitlines()[0]
        if first.startswith("# file: "):
            target = cwd / first[len("# file: ") :].strip()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.split("\n", 1)[1])
    real = sim.experiment

    def tiny_experiment(spec: object, overrides: list[str] | tuple[str, ...] = (), **kw: object) -> object:
        extra = [o for o in DOC_TINY if "sweep" not in o] if _no_sweep(spec, overrides) else DOC_TINY
        return real(spec, [*overrides, *extra], **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(sim, "experiment", tiny_experiment)
    namespace: dict[str, object] = {}
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, f"{doc} has no Python blocks"
    for i, code in enumerate(blocks):
        exec(compile(code, f"{doc.name}[block {i}]", "exec"), namespace)  # the document's own code
    return namespace


def _no_sweep(spec: object, overrides: object) -> bool:
    """Whether an experiment has no sweep block (samples cannot be set on it: the sweep parser refuses it)."""
    return isinstance(spec, str) and not spec.endswith(".yaml")


def test_examples_in_the_api_doc_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/api.md's notebook session, at a tiny size (its sizes are overridden, its calls are the doc's own)."""
    namespace = run_python_blocks(REPO / "docs" / "api.md", tmp_path, monkeypatch)
    more = namespace["more"]
    assert (more.stats.already_done, more.stats.ran) == (6, 2)  # as the doc's comment says


def test_tutorial_from_nothing_to_a_sobol_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tutorial's code blocks, executed in order in an empty folder (docs/tutorial.md)."""
    namespace = run_python_blocks(REPO / "docs" / "tutorial.md", tmp_path, monkeypatch)
    res = namespace["res"]
    assert res.sensitivity is not None and set(res.sensitivity["parameter"]) == {
        "citizens.cc_slope",
        "regime.audit_rate",
        "population.trust_mean",
    }
    assert (tmp_path / "outputs" / "my_sobol" / "latest" / "report.html").is_file()

"""The reader's report (``report.html`` / ``report.md``) of the main job, built from its saved folder.

One tiny main job runs once (module fixture); the tests read its folder, rebuild the report with
``python -m sim report`` and render the page in Debian's Chromium (Playwright). Without Chromium at
/usr/bin/chromium the browser test fails (it does not skip): ``apt-get install -y chromium``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.present.report import (
    DETAIL_FIGURES,
    DIFF_STEM,
    Sentence,
    collect,
    fmt,
    read_differences_over_time,
    read_over_time,
    read_scenario_rules,
)
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, sim_cli

# One worker builds the module's experiment folders once and runs every test that reads them.
pytestmark = pytest.mark.xdist_group("report")

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "report"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    out = sim_cli("experiment.replications=2", "steps=15", "population.n_citizens=300", f"output.dir={root}", cwd=root)
    assert out.returncode == 0, out.stderr
    found = next((root / "main").iterdir())
    assert "report.html" in out.stdout
    return found


@pytest.fixture(scope="module")
def grid_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("grid")
    args = ["experiment=target_ratchet", "experiment.replications=2", "steps=15", "population.n_citizens=300"]
    out = sim_cli(
        *args, "experiment.sweep.parameters.regime.target_level=[0.6,0.9]", f"experiment.folder={root / 'tr'}", cwd=root
    )
    assert out.returncode == 0, out.stderr
    return root / "tr"


@pytest.fixture(scope="module")
def sampled_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sampled")
    args = ["experiment=trust_deprivation", "experiment.replications=1", "experiment.sweep.samples=8", "steps=15"]
    out = sim_cli(*args, "population.n_citizens=200", f"experiment.folder={root / 'td'}", cwd=root)
    assert out.returncode == 0, out.stderr
    return root / "td"


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lab")
    out = sim_cli(
        "experiment=public_goods_lab", "experiment.replications=2", f"experiment.folder={root / 'lab'}", cwd=root
    )
    assert out.returncode == 0, out.stderr
    assert (root / "lab" / "report.html").is_file(), (
        "the lab experiment honours experiment.folder and writes its report"
    )
    return root / "lab"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    out = sim_cli("run", "regime=targets", "steps=15", "population.n_citizens=300", f"output.dir={root}", cwd=root)
    assert out.returncode == 0, out.stderr
    found = next((root / "runs").iterdir())
    report = sim_cli("report", str(found), cwd=root)
    assert report.returncode == 0, report.stderr
    return found


def test_report_is_self_contained(folder: Path) -> None:
    page = (folder / "report.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page)
    assert refs, "the page should embed its figures"
    external = [r for r in refs if re.match(r"(?i)(https?:)?//", r)]
    assert not external, f"report.html refers to external resources: {external}"
    assert not re.search(r"<script|<link\b|@import", page, flags=re.I), "no scripts or external stylesheets"
    images = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert len(images) >= 2 and all(s.startswith("data:image/png;base64,") for s in images)
    for stem in ("over_time", DIFF_STEM, "sufficiency", *(f[0] for f in DETAIL_FIGURES)):
        for ext in ("png", "svg", "csv"):
            assert (folder / f"{stem}.{ext}").is_file(), f"{stem}.{ext}"
    for png in folder.glob("*.png"):
        assert png.with_suffix(".csv").is_file() and png.with_suffix(".svg").is_file(), png.name
    md = (folder / "report.md").read_text()
    question = "How do the four ways of governing public services compare"
    for text in (page, md):
        assert question in text
        assert "population.n_citizens" in text and "3000" in text  # setup: what differs from the defaults
        assert "python -m sim experiment experiment.replications=2 steps=15" in text  # how to reproduce
        assert "git_revision" in text and "Static needs and resources" in text  # provenance and caveats
        assert "Pro-social activity" in text and "within noise" in text
    # The sweep's run log is kept in report.md, below the reader's report.
    assert "Runs with results: 8 of 8 distinct." in md


def _check_sentences(sentences: list[Sentence], csv: pd.DataFrame) -> None:
    assert sentences
    for s in sentences:
        assert s.numbers, s.text
        for column, value, shown in s.numbers:
            assert shown in s.text, (shown, s.text)
            assert np.isclose(csv[column].to_numpy(dtype=float), value, rtol=0, atol=0).any(), (column, value)


def test_sentences_quote_the_figures_csv(folder: Path) -> None:
    over_time = pd.read_csv(folder / "over_time.csv")
    diffs = pd.read_csv(folder / f"{DIFF_STEM}.csv")
    _check_sentences(read_over_time(over_time), over_time)
    _check_sentences(read_differences_over_time(diffs), diffs)
    # The differences over time are a - b on common seeds, per month: check one against the table.
    ts = pd.read_parquet(folder / "timeseries.parquet")
    r = diffs.iloc[-1]
    a = ts[(ts["arm"] == r["a"]) & (ts["step"] == r["step"])].sort_values("replication")[r["metric"]].to_numpy()
    b = ts[(ts["arm"] == r["b"]) & (ts["step"] == r["step"])].sort_values("replication")[r["metric"]].to_numpy()
    assert np.isclose((a - b).mean(), r["mean"])
    # The sentences in the report are those the readers return, and every figure has some.
    contents = collect(folder)
    # Glossary links break the text with tags; the words are the sentences'.
    page = html.unescape(re.sub(r"<[^>]+>", "", (folder / "report.html").read_text()))
    assert contents.figures
    for figure in contents.figures:
        assert figure.sentences, figure.stem
        for s in figure.sentences:
            assert s.text in page


def test_every_figure_of_every_kind_of_experiment_quotes_its_csv(
    folder: Path, grid_folder: Path, sampled_folder: Path, lab_folder: Path, run_folder: Path
) -> None:
    for where in (folder, grid_folder, sampled_folder, lab_folder, run_folder):
        contents = collect(where)
        assert contents.figures, where
        for figure in contents.figures:
            quoted = [s for s in figure.sentences if s.numbers]
            assert quoted, f"{where.name}: {figure.stem} has no sentence quoting its numbers"
            _check_sentences(quoted, pd.read_csv(where / f"{figure.stem}.csv"))
    stems = {f.stem for f in collect(folder).figures}
    assert {f[0] for f in DETAIL_FIGURES} <= stems
    assert "lab_fit" in {f.stem for f in collect(lab_folder).figures}


def test_grid_report_compares_at_every_point(grid_folder: Path) -> None:
    md = (grid_folder / "report.md").read_text()
    for level in ("target level 60.0%", "target level 90.0%"):
        assert f"| ratchet minus fixed | {level} |" in md  # headline table, one row per point
        assert f"In month 14 at {level}, " in md  # differences over time, read at each point
    diffs = pd.read_csv(grid_folder / f"{DIFF_STEM}.csv")
    assert {"ratchet minus fixed (target level 60.0%)", "ratchet minus fixed (target level 90.0%)"} <= set(
        diffs["pair"]
    )
    assert sorted(diffs["point"].unique()) == [0, 1]
    assert "fixed, target level 60.0%" in set(pd.read_csv(grid_folder / "indicator_distribution.csv")["panel"])


def test_sampled_report_has_the_scenario_table(sampled_folder: Path) -> None:
    rules = pd.read_csv(sampled_folder / "scenario_rules.csv")
    assert {"conditions", "coverage", "density", "wins", "points"} <= set(rules.columns)
    sentences = read_scenario_rules(rules)
    _check_sentences(sentences, rules)
    page = (sampled_folder / "report.html").read_text()
    assert 'id="scenarios"' in page and "Scenario discovery (PRIM" in page
    for s in sentences:
        assert html.escape(s.text) in page
    panels = set(pd.read_csv(sampled_folder / "equity.csv")["panel"])
    assert panels == {"targets (pooled over 8 sampled points)", "negotiated (pooled over 8 sampled points)"}
    assert "End-of-run means by arm" not in page  # per-point means of a sampled design stay in summary.csv


def test_a_single_run_gets_its_report(run_folder: Path) -> None:
    stems = {f.stem for f in collect(run_folder).figures}
    assert stems == {"over_time", *(f[0] for f in DETAIL_FIGURES)}
    for stem in stems:
        for ext in ("png", "svg", "csv"):
            assert (run_folder / f"{stem}.{ext}").is_file()
    md = (run_folder / "report.md").read_text()
    assert "What happened in one run under the 'targets' regime (seed 0, 15 months)?" in md
    assert "python -m sim run regime=targets steps=15 population.n_citizens=300" in md
    assert "(no interval)" in md
    before = {p.name: p.read_bytes() for p in run_folder.iterdir() if p.is_file()}
    again = sim_cli("report", str(run_folder), cwd=run_folder)
    assert again.returncode == 0, again.stderr
    assert {p.name: p.read_bytes() for p in run_folder.iterdir() if p.is_file()} == before


def test_lab_report_has_the_fit_table(lab_folder: Path) -> None:
    md = (lab_folder / "report.md").read_text()
    fit = pd.read_csv(lab_folder / "fit.csv")
    assert "## Fit to the data" in md
    for _, r in fit.iterrows():
        assert f"| {r['arm']} | {fmt(r['rmse_tokens'])} |" in md


def test_docs_links_work_from_outside_the_source_tree(folder: Path) -> None:
    page = (folder / "report.html").read_text()
    links = re.findall(r'href="([^"]+\.md)"', page)
    assert links and all(link.startswith("file://") for link in links), links
    for link in links:
        assert Path(link.removeprefix("file://")).is_file(), link


def test_report_command_rebuilds_identically_without_running(folder: Path) -> None:
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    parquet = folder / "timeseries.parquet"
    out = sim_cli("report", str(folder), cwd=folder)
    assert out.returncode == 0, out.stderr
    after = {p for p in folder.rglob("*") if p.is_file()}
    assert after == set(before), f"new or missing files: {sorted(map(str, after ^ set(before)))}"
    assert parquet.stat().st_mtime_ns == before[parquet][0]
    for p in after:
        assert p.read_bytes() == before[p][1], f"{p.name} changed on rebuild"
    bad = sim_cli("report", str(folder / "runs"), cwd=folder)
    assert bad.returncode == 2 and "config.yaml" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("which", ["folder", "sampled_folder", "lab_folder", "run_folder"])
def test_report_renders_in_chromium(which: str, request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue(which)
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium is required at {CHROMIUM} to render report.html. "
            "Install it with: apt-get update && apt-get install -y chromium  (.ci/run does this)"
        )
    from playwright.sync_api import sync_playwright

    failed: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=90_000)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})
            page.on("requestfailed", lambda r: failed.append(f"{r.url[:80]} ({r.failure})"))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url[:80]))
            page.goto((folder / "report.html").as_uri(), wait_until="load", timeout=90_000)
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
            page.screenshot(path=str(ARTIFACTS / f"report-{which}.png"), full_page=True)
        finally:
            browser.close()
    assert not failed, f"failed requests: {failed}"
    expected = len(re.findall(r"<img ", (folder / "report.html").read_text()))
    assert len(widths) == expected >= 1 and all(w > 0 for w in widths), f"images not loaded: {widths}"
    assert all(u.startswith(("file://", "data:")) for u in requests), f"network requests: {requests}"


def test_sensitivity_sentences_quote_their_csv() -> None:
    from sim.present.report import read_sensitivity

    csv = pd.DataFrame(
        {
            "output": ["prosocial_rate", "prosocial_rate", "true_outcome", "true_outcome"],
            "parameter": ["citizens.cc_slope", "services.ethos_mean", "citizens.cc_slope", "services.ethos_mean"],
            "mu_star": [0.0689, 0.012, 0.004, 0.11],
        }
    )
    sentences = read_sensitivity(csv)
    _check_sentences(sentences, csv)
    assert "citizens.cc_slope" in sentences[0].text and "services.ethos_mean" in sentences[1].text

"""The reader's report (``report.html`` / ``report.md``) of the main job, built from its saved folder.

One tiny main job runs once (module fixture); the tests read its folder, rebuild the report with
``python -m sim report`` and render the page in Debian's Chromium (Playwright). Without Chromium at
/usr/bin/chromium the browser test fails (it does not skip): ``apt-get install -y chromium``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.html_report import DIFF_STEM, Sentence, collect, fmt, read_differences_over_time, read_over_time
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, sim_cli

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "report"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    out = sim_cli("experiment.replications=2", "steps=15", "population.n_citizens=300", f"output.dir={root}", cwd=root)
    assert out.returncode == 0, out.stderr
    found = next((root / "main").iterdir())
    assert "report.html" in out.stdout
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
    for stem in ("over_time", DIFF_STEM, "sufficiency"):
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
        for column, value in s.numbers:
            assert fmt(value) in s.text, (fmt(value), s.text)
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
    page = (folder / "report.html").read_text()
    assert contents.figures
    for figure in contents.figures:
        assert figure.sentences, figure.stem
        for s in figure.sentences:
            assert s.text.replace("'", "&#x27;") in page


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


def test_report_renders_in_chromium(folder: Path) -> None:
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
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert not failed, f"failed requests: {failed}"
    assert len(widths) >= 2 and all(w > 0 for w in widths), f"images not loaded: {widths}"
    assert all(u.startswith(("file://", "data:")) for u in requests), f"network requests: {requests}"


def test_sensitivity_sentences_quote_their_csv() -> None:
    from sim.html_report import read_sensitivity

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

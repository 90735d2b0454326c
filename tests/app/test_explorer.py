"""The explorer for a non-programmer (issue 17): acting levers, short links, plain words, honest time estimates.

The browser side (layout, address bar, copy button, accessibility audit) is in
``test_app_browser.py``; these tests check the logic behind it with real runs of the model.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.app import jobs
from sim.app.live import color_scale, contrast_ratio
from sim.app.proposal import (
    AREA_KEYS,
    LEVERS,
    MEASURES,
    SERIES,
    Estimate,
    Levers,
    Proposal,
    acting_levers,
    analyse,
    arm_instruments,
    configs_to_compose,
    from_query,
    lever_changes,
    lever_inert_reason,
    lever_value_text,
    months_text,
    run_one,
    run_tasks,
    to_mapping,
    to_query,
    transition_note,
    verdict,
    without_inert_levers,
)
from sim.config import REGIMES, SimConfig
from sim.glossary import load_glossary
from tests.test_fairness import name_comparisons

ROOT = Path(__file__).resolve().parents[2]
SMALL = Proposal(n_citizens=100, n_communities=5, steps=12, replications=2, seed=11)

# Words a trust member would not know, and the program's own names for things. Matched as whole
# words, case-insensitively (so "Concepts" does not match "pts").
BANNED_TERMS: tuple[str, ...] = (
    "Student's t",
    "t-interval",
    "seeds",
    "pts",
    "self-efficacy",
    "replications",
    "Hydra",
    "presets",
)
# Python's words for a missing value, matched with their case ("none" is English).
BANNED_EXACT: tuple[str, ...] = ("None", "nan", "NaN", "inf")


def config_keys() -> set[str]:
    """The program's names that users should never read: config fields, metric columns, lever and preset keys."""
    keys: set[str] = set(LEVERS) | set(MEASURES) | set(SERIES) | set(REGIMES) | {"n_citizens", "n_communities"}
    cfg = SimConfig()
    for section in dataclasses.fields(cfg):
        value = getattr(cfg, section.name)
        keys.add(section.name)
        if dataclasses.is_dataclass(value):
            keys |= {f.name for f in dataclasses.fields(value)}
    return {k for k in keys if "_" in k}  # one-word keys ("ratchet", "steps") are plain English too


def banned_in(text: str) -> list[str]:
    """The banned terms and config keys found in ``text`` (whole words)."""
    found = [t for t in BANNED_TERMS if re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", text, re.IGNORECASE)]
    found += [t for t in BANNED_EXACT if re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", text)]
    found += [k for k in config_keys() if re.search(rf"(?<!\w){re.escape(k)}(?!\w)", text)]
    return found


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_APP_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def small_runs() -> list[dict[str, Any]]:
    return [run_one(t) for t in run_tasks(SMALL)]


# ---------------------------------------------------------------------------- acting levers
def test_whether_a_lever_acts_is_read_from_instruments_never_from_a_regime_name() -> None:
    source = (ROOT / "sim" / "app" / "proposal.py").read_text()
    found = name_comparisons(source)
    assert found == [], f"sim/app/proposal.py compares a preset's name: {found}"
    app_source = (ROOT / "sim" / "app" / "app.py").read_text()
    assert name_comparisons(app_source) == []


def test_every_regime_has_its_own_acting_levers_and_payment_always_acts() -> None:
    for regime in REGIMES:
        acting = acting_levers(Levers(regime=regime))
        assert "payment_per_hour" in acting and "recognition" in acting, regime
    # The cases: no guarantee under national targets or without performance management,
    # and no national target under negotiated outcomes.
    assert "guarantee_level" not in acting_levers(Levers(regime="targets"))
    assert "guarantee_level" not in acting_levers(Levers(regime="none"))
    assert "target_level" not in acting_levers(Levers(regime="negotiated"))
    assert "participation_support" in acting_levers(Levers(regime="negotiated"))
    # Instruments, not names: the same preset with its inspections switched on acts on the guarantee.
    inst = dataclasses.replace(arm_instruments(Levers(regime="targets")), guarantee_monitoring_rate=0.5)
    assert lever_inert_reason("guarantee_level", inst) is None


EXTREMES: dict[str, Any] = {
    "target_level": 0.05,
    "ratchet": True,
    "audit_rate": 0.9,
    "sanction_strength": 19.0,
    "reward_strength": 19.0,
    "guarantee_level": 0.95,
    "negotiation_interval": 1,
    "participation_support": 1.0,
}


@pytest.mark.parametrize("regime", REGIMES)
def test_levers_said_not_to_act_change_nothing_in_the_model(regime: str) -> None:
    """Move every lever folded away for this regime to an extreme at once: the runs are identical."""
    base = Levers(regime=regime)
    inert = [n for n in EXTREMES if n not in acting_levers(base)]
    if not inert:
        pytest.skip(f"every lever acts under {regime}")
    moved = dataclasses.replace(base, **{n: EXTREMES[n] for n in inert})
    p = Proposal(baseline=base, reform=moved, n_citizens=100, n_communities=5, steps=12, replications=1, seed=5)
    runs = {r["arm"]: r for r in (run_one(t) for t in run_tasks(p))}
    for measure in SERIES:
        a, b = np.asarray(runs["baseline"]["series"][measure]), np.asarray(runs["proposal"]["series"][measure])
        assert np.array_equal(a, b, equal_nan=True), (regime, inert, measure)


# ---------------------------------------------------------------------------- links
def test_a_link_carries_only_what_differs_from_the_standard_proposal() -> None:
    p = dataclasses.replace(Proposal(), reform=Levers(regime="negotiated", participation_support=0.75))
    mapping = to_mapping(p)
    assert set(mapping) == {"v", "proposal.participation_support"}
    assert len(to_query(Proposal())) < 30 and from_query(to_query(Proposal())).proposal == Proposal()
    full = to_mapping(p, full=True)
    assert len(full) > 20 and set(AREA_KEYS) <= set(full)


def test_links_made_before_links_were_shortened_still_load() -> None:
    from urllib.parse import quote, urlencode

    from sim.app.proposal import check_code

    p = dataclasses.replace(SMALL, reform=Levers(regime="functioning", guarantee_level=0.4))
    old = to_mapping(p, full=True)
    old["check"] = check_code(old)
    restored = from_query(urlencode(list(old.items()), quote_via=quote))
    assert restored is not None and restored.proposal == p and restored.notes == ()


def test_hidden_levers_go_back_to_the_standard_values() -> None:
    p = Proposal(baseline=Levers(regime="targets", participation_support=0.9, target_level=0.8))
    clean = without_inert_levers(p)
    assert clean.baseline.participation_support == Proposal().baseline.participation_support
    assert clean.baseline.target_level == 0.8  # it acts: kept
    assert "participation_support" not in " ".join(to_mapping(clean))


# ---------------------------------------------------------------------------- plain words
def test_months_read_as_people_say_them() -> None:
    assert months_text(1) == "1 month"
    assert months_text(12) == "12 months (1 year)"
    assert months_text(120) == "120 months (10 years)"
    assert months_text(18) == "18 months (1.5 years)"
    assert months_text(13) == "13 months"


def test_the_summary_uses_the_sliders_units_and_only_acting_levers() -> None:
    p = Proposal(
        baseline=Levers(regime="targets", target_level=1.0, payment_per_hour=50.0),
        reform=Levers(regime="negotiated", target_level=0.7, participation_support=0.5, payment_per_hour=2.5),
    )
    changes = " ".join(lever_changes(p))
    assert "payment for volunteering from £50.00 an hour to £2.50 an hour" in changes
    assert "target level" not in changes  # acts under the baseline only: not a change 'from 100% to 70%'
    assert lever_value_text("target_level", 0.7) == "70%"
    assert lever_value_text("negotiation_interval", 12) == "every 12 months (1 year)"


def test_every_measure_shown_has_a_direction_in_the_glossary() -> None:
    for key, measure in MEASURES.items():
        assert load_glossary().get(key, "Measures").better in ("higher", "lower", "neither"), key
        assert measure.better == load_glossary().get(key, "Measures").better


def test_better_or_worse_follows_the_direction_and_the_interval() -> None:
    clear_up = Estimate(0.05, 0.01, 0.09, 5)
    assert verdict("prosocial_rate", clear_up) == "better"
    assert verdict("gaming_share", clear_up) == "worse"
    assert verdict("public_cost", clear_up) == "worse"
    assert verdict("prosocial_rate", Estimate(0.05, -0.01, 0.09, 5)) == "no clear difference"
    assert verdict("prosocial_rate", Estimate(0.05, math.nan, math.nan, 1)) == "cannot tell (one run)"


def test_a_dip_before_a_gain_is_reported(small_runs: list[dict[str, Any]]) -> None:
    impact = analyse(SMALL, small_runs)
    months = np.arange(SMALL.steps)
    # Trust first falls by 5 points, clearly, then ends 2 points up: a transition dip.
    curve = np.where(months < 6, -0.05, 0.02)
    impact.difference["trust_mean"] = (curve, curve - 0.01, curve + 0.01)
    impact.row("trust_mean").difference = Estimate(0.02, 0.01, 0.03, 2)
    note = transition_note(impact, "trust_mean")
    assert note is not None and "fell at first" in note and "-5.0" in note and "+2.0" in note, note
    # A steady gain has no note.
    steady = np.full(SMALL.steps, 0.02)
    impact.difference["trust_mean"] = (steady, steady - 0.01, steady + 0.01)
    assert transition_note(impact, "trust_mean") is None
    # An overshoot: up to +8 points, then settling at +2.
    over = np.where(months < 6, 0.08, 0.02)
    impact.difference["trust_mean"] = (over, over - 0.01, over + 0.01)
    assert "overshot" in (transition_note(impact, "trust_mean") or "")


def test_a_figure_given_twice_over_different_windows_is_explained(small_runs: list[dict[str, Any]]) -> None:
    impact = analyse(SMALL, small_runs)
    forum = [s for s in impact.summary if s.startswith("Who takes part")]
    assert forum, impact.summary
    assert "every forum round" in forum[0] and "latest round, averaged over the last 12 months" in forum[0]


@pytest.mark.parametrize(
    "p",
    [
        SMALL,
        dataclasses.replace(SMALL, baseline=Levers(regime="none"), reform=Levers(regime="local_targets")),
        dataclasses.replace(SMALL, replications=1),
    ],
    ids=["targets-to-negotiated", "none-to-local-targets", "one-run"],
)
def test_the_summary_uses_no_jargon(p: Proposal) -> None:
    runs = [run_one(t) for t in run_tasks(p)]
    impact = analyse(p, runs)
    from sim.app import charts

    texts = [
        *impact.summary,
        charts.difference_alt(impact),
        charts.levels_alt(impact),
        charts.fifths_alt(impact),
        *([charts.forum_alt(impact)] if impact.forum else []),
    ]
    for text in texts:
        assert banned_in(text) == [], text


def test_the_banned_terms_check_can_fail() -> None:
    assert banned_in("a 95% interval across seeds (Student's t)") == ["Student's t", "seeds"]
    assert banned_in("set regime.target_level") and banned_in("+3 pts") == ["pts"]
    assert banned_in("How to read: Concepts, self-reliance") == []


# ---------------------------------------------------------------------------- contrast
def test_community_tiles_are_readable_on_every_colour() -> None:
    for x in np.linspace(0, 1, 41):
        bg, fg = color_scale(float(x))
        assert contrast_ratio(fg, bg) >= 4.5, (x, bg, fg)


# ---------------------------------------------------------------------------- time estimate
# Costs of a run that the fit must recover: a fixed part and a cost per month at each size.
FIXED, PER_MONTH = 0.1, {100: 0.01, 2000: 0.02, 10_000: 0.05}


def timings_of(fixed: float, per_month: dict[int, float]) -> list[tuple[int, int, float]]:
    """Exact run times as the calibration measures them: the smallest size at two lengths."""
    runs = [(100, 36, 0.0), (100, 84, 0.0), (2000, 36, 0.0), (10_000, 36, 0.0)]
    return [(n, m, fixed + m * per_month[n]) for n, m, _ in runs]


def test_the_run_model_is_fitted_from_measured_runs() -> None:
    """The fixed cost and the cost per month at each size come back from the times given, and interpolate."""
    model = jobs.RunModel.fit(timings_of(FIXED, PER_MONTH))
    assert model.fixed == pytest.approx(FIXED)
    assert model.sizes == (100, 2000, 10_000)
    assert model.per_month == pytest.approx(tuple(PER_MONTH.values()))
    # Halfway between two measured sizes, halfway between their costs; held flat beyond the last.
    assert model.seconds(6000, 100) == pytest.approx(FIXED + 100 * 0.035)
    assert model.seconds(20_000, 100) == pytest.approx(FIXED + 100 * 0.05)
    # A model linear in citizen-months, as before, cannot fit these: the cost per month of the
    # smallest size is not a fifth of the next one's.
    slower = jobs.RunModel.fit(timings_of(0.3, {100: 0.02, 2000: 0.02, 10_000: 0.02}))
    assert slower.fixed == pytest.approx(0.3) and slower.per_month == pytest.approx((0.02, 0.02, 0.02))
    with pytest.raises(ValueError, match="two lengths"):
        jobs.RunModel.fit([(100, 36, 1.0), (2000, 36, 2.0)])


def test_makespan_hands_runs_to_the_first_free_worker() -> None:
    assert jobs.makespan([1.0] * 5, 2) == 3.0
    assert jobs.makespan([3.0, 1.0, 1.0, 1.0], 2) == 3.0
    assert jobs.makespan([2.0, 2.0], 1) == 4.0
    assert jobs.makespan([], 2) == 0.0


def test_the_estimate_adds_every_measured_cost_and_follows_the_last_runs() -> None:
    """Composing, the runs over the workers, dispatch, analysis and drawing: each measured, none assumed."""
    t = jobs.Throughput()
    p = Proposal(n_citizens=2000, n_communities=20, steps=120, replications=3)
    assert t.estimate(p, 2) is None and t.estimate_range(p, 2) is None  # nothing measured yet
    t.record_calibration(timings_of(FIXED, PER_MONTH))
    months = SimConfig().burn_in + p.steps
    one = FIXED + months * PER_MONTH[2000]
    assert t.estimate(p, 2) == pytest.approx(3 * one)  # 6 runs on 2 workers: 3 in a row
    t.record_compose(1.2, 2)
    t.record_draw(0.4)
    assert t.estimate(p, 2, to_compose=2) == pytest.approx(1.2 + 3 * one + 0.4)
    assert t.estimate(p, 2, to_compose=0) == pytest.approx(3 * one + 0.4)

    # A finished comparison: its runs took twice the model's time (a loaded machine), and what it
    # cost besides its runs is what its wall time leaves.
    runs = [2 * one] * p.n_runs
    t.record_runs(p, runs)
    assert t.speed == pytest.approx(2.0)
    assert t.runs_seconds(p, 2) == pytest.approx(6 * one)
    estimate = t.job_seconds(p, 2)
    assert estimate is not None
    t.record_job(p, 2, seconds=0.5 + 6 * one + 0.3 + 0.2, run_seconds=runs, prepare=0.5, finish=0.2, estimate=estimate)
    assert t.dispatch == pytest.approx(0.3) and t.finish == pytest.approx(0.2)
    assert t.estimate(p, 2) == pytest.approx(6 * one + 0.3 + 0.2 + 0.4)

    # The shown range is the last comparisons' spread around their estimates, at least 1.2 either way.
    low, mid, high = t.estimate_range(p, 2) or (0, 0, 0)
    real_over_estimate = (0.5 + 6 * one + 0.5) / estimate
    assert mid == pytest.approx(t.estimate(p, 2))
    assert low == pytest.approx(mid / 1.2)
    assert high == pytest.approx(mid * max(1.2, real_over_estimate))
    t.forget_jobs()
    after = t.estimate(p, 2)
    assert t.dispatch == 0.0 and after == pytest.approx(mid - 0.5)
    assert t.estimate_range(p, 2) == pytest.approx((after / 1.2, after, after * 1.2))


def test_drawing_counts_in_the_estimate_before_any_answer_is_shown() -> None:
    """A page's redraw stands for drawing an answer until a browser reports one; then the report counts."""
    t = jobs.Throughput()
    t.record_calibration(timings_of(FIXED, PER_MONTH))
    job = t.job_seconds(SMALL, 2)
    assert job is not None
    assert not t.drawing_known and t.estimate(SMALL, 2) == pytest.approx(job)
    t.record_redraw(0.3)
    assert t.drawing_known and not t.draw_measured
    assert t.estimate(SMALL, 2) == pytest.approx(job + 0.3)
    t.record_draw(0.5)  # the browser: the answer is on screen 0.5 s after its job ended
    assert t.estimate(SMALL, 2) == pytest.approx(job + 0.5)
    t.record_redraw(4.0)  # once a browser has reported, redraws no longer stand in
    t.record_draw(0.7)
    assert t.estimate(SMALL, 2) == pytest.approx(job + 0.6)  # a running average of the reports


def test_a_fresh_servers_first_page_shows_an_estimate_that_counts_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's first drawing builds it (not a redraw): it redraws once to measure, then shows the estimate."""
    import ipyvuetify as v
    import solara

    from sim.app import app

    manager = jobs.JobManager(workers=2)
    manager.throughput.record_calibration(timings_of(FIXED, PER_MONTH))
    manager.calibrated.set()
    monkeypatch.setattr(jobs, "_MANAGER", manager)
    assert not manager.throughput.drawing_known
    _, rc = solara.render(app.ProposalTab(app.LinkState()), handle_error=False)
    try:
        line = rc.find(v.Html, class_="sim-help time-estimate").widget
        t = manager.throughput
        assert t.drawing_known and t.draw > 0 and not t.draw_measured  # a redraw measured, no browser here
        assert float(line.attributes["data-drawing"]) > 0  # the estimate shown counts it
        assert "from the page's redraws" in line.attributes["title"]
    finally:
        rc.close()


def test_a_browsers_drawing_report_is_read_as_a_number_of_seconds_or_ignored() -> None:
    from sim.app.app import browser_seconds

    assert browser_seconds(0.05) == 0.05 and browser_seconds("0.2") == 0.2
    for bad in (None, "x", [1], {"a": 1}, float("nan"), float("inf"), "1e999", -3):
        assert browser_seconds(bad) == 0.0, bad
    assert browser_seconds(10**9) == 60.0  # a report cannot make the estimate absurd


def test_the_estimate_is_shown_as_a_rounded_range() -> None:
    assert jobs.estimate_text(3.6, 4.4, 5.4) == "about 4 seconds (3 to 6)"
    assert jobs.estimate_text(0.4, 0.6, 0.8) == "about 1 second"
    assert jobs.estimate_text(9.0, 12.0, 16.0) == "about 10 seconds (9 to 20)"
    assert jobs.estimate_text(40.0, 50.0, 62.0) == "about 50 seconds (40 seconds to 1.5 minutes)"
    assert jobs.estimate_text(100.0, 130.0, 200.0) == "about 2 minutes (1.5 to 3.5)"


def test_a_new_config_is_counted_as_composing_until_it_is_composed() -> None:
    p = dataclasses.replace(SMALL, reform=Levers(regime="negotiated", participation_support=0.35))
    assert configs_to_compose(p) in (1, 2)  # the baseline may be composed by another test already
    run_tasks(p)
    assert configs_to_compose(p) == 0
    assert (
        configs_to_compose(dataclasses.replace(p, reform=Levers(regime="negotiated", participation_support=0.4))) == 1
    )


def test_the_time_estimate_comes_from_measured_throughput() -> None:
    """Calibrate a real pool as the server does at start-up; the estimate follows the work asked for.

    How close the estimate comes to the real time is a speed figure, so it is not asserted here
    (the developer guide: no timed tests on shared machines): ``benchmarks/app_estimate.py``
    measures it in the browser (docs/performance.md).
    """
    manager = jobs.JobManager(workers=2)
    try:
        for fut in [manager.pool().submit(jobs._warm) for _ in range(2)]:
            fut.result(timeout=120)
        manager.calibrate()
        assert manager.calibrated.is_set() and manager.throughput.measured
        model = manager.throughput.model
        assert model is not None and model.sizes == tuple(sorted({c.n_citizens for c in jobs.CALIBRATION}))
        p = Proposal(n_citizens=400, n_communities=8, steps=24, replications=3, seed=9)
        estimate = manager.estimate(p)
        assert estimate is not None and 0 < estimate < 600
        bigger = manager.estimate(Proposal(n_citizens=400, n_communities=8, steps=24, replications=6, seed=9))
        assert bigger is not None and bigger > estimate
        job = manager.submit(p, use_cache=False)
        assert job.estimate is not None  # what the job was expected to take, for its error afterwards
        assert job.wait(600) and job.impact is not None and job.seconds > 0
    finally:
        manager.shutdown()


# ---------------------------------------------------------------------------- live mode
def test_the_live_charts_get_numbers_not_pictures() -> None:
    from sim.app import charts
    from sim.app.live import LiveModel

    model = LiveModel(n_citizens=200, n_communities=5, steps=12)
    for _ in range(3):
        model.step()
    panels = charts.live_panels(model.timeseries())
    assert panels[0]["title"].startswith("Pro-social activity") and len(panels) == 4
    for panel in panels:
        for line in panel["lines"]:
            assert len(line["values"]) == 3, (panel["title"], line["label"])
            assert all(v is None or 0 <= v <= 100 for v in line["values"])
    alt = charts.live_alt(model.timeseries())
    assert "month 2" in alt and "Trust in local services" in alt


def test_the_live_mode_figure_reaches_the_performance_page(tmp_path: Path) -> None:
    """Both speed settings get their row and verdict; results written before (one speed) still render."""
    import json
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import estimate_section, live_mode_section

    path = tmp_path / "live.json"
    assert live_mode_section(path) == []  # not measured: no section
    common = {
        "when": "2026-01-01 00:00 UTC",
        "population": "2,000 citizens",
        "cores": 2,
        "load_average_start": [3.0],
        "load_average_end": [4.0],
    }
    path.write_text(
        json.dumps(
            {
                **common,
                "speeds": [
                    {"speed_chosen": 12, "runs": [{}, {}], "months_per_second": {"median": 11.5, "min": 9, "max": 12}},
                    {"speed_chosen": 24, "runs": [{}, {}], "months_per_second": {"median": 8.0, "min": 7.5, "max": 9}},
                ],
            }
        )
    )
    text = "\n".join(live_mode_section(path))
    assert "| 12 | 10 | 11.5 | 9.0 | 12.0 | yes |" in text
    assert "| 24 | 10 | 8.0 | 7.5 | 9.0 | **no** |" in text
    assert "repetitions: 2 at 12, 2 at 24; load average 3.00 at the start and 4.00 at the end" in text
    old = {**common, "speed_chosen": 24, "runs": [{}], "months_per_second": {"median": 20.7, "min": 9.6, "max": 22.8}}
    path.write_text(json.dumps(old))
    assert "| 24 | 10 | 20.7 | 9.6 | 22.8 | yes |" in "\n".join(live_mode_section(path))

    estimates = tmp_path / "estimate.json"
    assert estimate_section(estimates) == []
    row = {
        "citizens": 100,
        "communities": 5,
        "months": 12,
        "runs": 2,
        "shown": "2 runs, expected to take about 4 seconds (3 to 6).",
    }
    runs = [{**row, "real": 6.0, "ratio": 1.5}, {**row, "real": 2.0, "ratio": 0.5}]
    summary = {"median_ratio": 1.0, "worst_ratio": 0.5, "in_shown_range": 1}
    estimates.write_text(json.dumps({**common, "runs": runs, "summary": summary}))
    text = "\n".join(estimate_section(estimates))
    assert "| 100 | 5 | 12 | 2 | about 4 seconds (3 to 6) | 6.0, 2.0 | 1.50, 0.50 |" in text
    assert "median 1.00, worst 0.50; 1 of 2 within a factor of 1.5, 1 of 2 inside the range shown" in text

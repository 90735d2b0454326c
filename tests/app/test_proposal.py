"""The proposal explorer's logic, without a browser: validation, links, reproduce commands, analysis."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import numpy as np
import pytest

import sim
from sim.app import cache, jobs
from sim.app.live import LiveModel, community_rows, live_defaults, live_proposal, service_view
from sim.app.proposal import (
    LEVERS,
    LIMITS,
    MEASURES,
    Levers,
    Proposal,
    ProposalError,
    analyse,
    arm_config,
    arm_overrides,
    format_change,
    format_level,
    from_query,
    proposal_from_mapping,
    reproduce_commands,
    reproduce_python,
    run_one,
    run_tasks,
    to_query,
    validate_proposal,
)
from sim.config import REGIMES, RegimeConfig
from sim.glossary import GLOSSARY_PATH, load_glossary, parse_glossary
from sim.metrics import COLUMNS

pytestmark = pytest.mark.xdist_group("app")

TINY = Proposal(n_citizens=200, n_communities=5, steps=12, replications=2, seed=3)


@pytest.fixture(scope="module")
def tiny_runs() -> list[dict]:
    return [run_one(t) for t in run_tasks(TINY)]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_APP_CACHE", str(tmp_path_factory.mktemp("cache")))


def good_query(**changes: str) -> str:
    """A valid link's query with some values replaced (its check code left as it was)."""
    pairs = dict(parse_qsl(to_query(TINY)))
    pairs.update(changes)
    return urlencode(pairs)


# ---------------------------------------------------------------------------- bounds and validation
def test_limits_are_within_the_models_own_bounds() -> None:
    meta = {f.name: f.metadata for f in dataclasses.fields(RegimeConfig)}
    for name, spec in LEVERS.items():
        if name == "regime":
            continue
        lo, hi = meta[name].get("lo"), meta[name].get("hi")
        if spec.lo is not None and lo is not None:
            assert spec.lo >= lo, name
        if spec.hi is not None and hi is not None:
            assert spec.hi <= hi, name
        assert spec.default == getattr(RegimeConfig(), name)
    assert LIMITS["n_citizens"] == (100, 20_000)
    assert LIMITS["steps"] == (12, 240)
    assert LIMITS["replications"] == (1, 10)


# Each bad link: (query, a fragment of the message it must get).
BAD_LINKS: list[tuple[str, str]] = [
    (good_query(citizens="50"), "Population (citizens) = 50 is outside the allowed range 100 to 20,000"),
    (good_query(citizens="100000000"), "Population (citizens) = 100,000,000 is outside the allowed range"),
    (good_query(citizens="lots"), "Population (citizens): 'lots' is not a whole number"),
    (good_query(months="1e9"), "Months simulated: '1e9' is not a whole number"),
    (good_query(runs="11"), "Runs of each policy = 11 is outside the allowed range 1 to 10"),
    (good_query(runs="-3"), "Runs of each policy = -3 is outside the allowed range 1 to 10"),
    (good_query(proposal="anarchy"), "'anarchy' is not a regime; choose one of targets, negotiated"),
    (good_query(**{"proposal.target_level": "nan"}), "Target level: 'nan' is not a finite number"),
    (good_query(**{"baseline.audit_rate": "1.5"}), "Baseline: Audit rate = 1.5 is outside the allowed range 0 to 1"),
    (good_query(**{"proposal.payment_per_hour": "-5"}), "Payment for volunteering = -5 is outside the allowed range"),
    (good_query(**{"proposal.ratchet": "maybe"}), "'maybe' is not yes or no"),
    (good_query(**{"proposal.negotiation_interval": "2.5"}), "Negotiation frequency: '2.5' is not a whole number"),
    (good_query(seed="x" * 500), "is too long"),
    (good_query(citizens=""), "Population (citizens) is empty"),
    (to_query(TINY) + "&rm=-rf", "Unknown setting 'rm'"),
    (to_query(TINY) + "&citizens=300", "more than once"),
    ("%%%", "could not be read"),
    ("just-some-words", "could not be read"),
    ("a=" + "9" * 5000, "too long"),
    (good_query(v="99"), "format version '99'"),
    (good_query(citizens="100", communities="50"), "too few for 50 communities"),
    (good_query(citizens="300"), "changed after it was made"),
]


@pytest.mark.parametrize(("query", "fragment"), BAD_LINKS)
def test_a_bad_link_gets_a_clear_message(query: str, fragment: str) -> None:
    with pytest.raises(ProposalError) as info:
        from_query(query)
    text = " ".join(info.value.messages)
    assert fragment in text, text
    assert "Traceback" not in text and len(text) < 1000


def test_every_problem_is_listed() -> None:
    with pytest.raises(ProposalError) as info:
        from_query(good_query(citizens="7", runs="0", proposal="chaos"))
    assert len(info.value.messages) == 3


def test_garbage_python_values_are_rejected_too() -> None:
    bad = [
        {"citizens": None},
        {"citizens": 2.5},
        {"citizens": True},
        {"proposal.target_level": float("inf")},
        {"proposal.target_level": "0x1p-2"},
        {"proposal.recognition": [1]},
        {"proposal": 3},
        {"proposal.ratchet": "1.0"},
        {"months": "٣"},  # a non-ASCII digit
        {"__class__": "x"},
    ]
    for values in bad:
        with pytest.raises(ProposalError) as info:
            proposal_from_mapping(values)
        assert info.value.messages, values
    with pytest.raises(ProposalError):
        validate_proposal(dataclasses.replace(TINY, reform=Levers(regime="negotiated", audit_rate=-1.0)))


# ---------------------------------------------------------------------------- links
@pytest.mark.parametrize(
    "p",
    [
        Proposal(),
        TINY,
        Proposal(
            baseline=Levers(regime="none", payment_per_hour=12.5, recognition=0.35),
            reform=Levers(regime="targets", ratchet=True, target_level=0.91, audit_rate=0.0, sanction_strength=17.5),
            n_citizens=20_000,
            n_communities=100,
            steps=240,
            replications=10,
            seed=2**31 - 1,
        ),
        Proposal(reform=Levers(regime="functioning", guarantee_level=1 / 3, negotiation_interval=60)),
    ],
)
def test_a_link_restores_the_exact_proposal(p: Proposal) -> None:
    restored = from_query("?" + to_query(p))
    assert restored is not None and restored.proposal == p and restored.notes == ()


def test_a_link_without_check_code_is_read_with_a_note() -> None:
    restored = from_query("proposal=negotiated&proposal.participation_support=0.75&runs=3")
    assert restored is not None
    assert restored.proposal.reform.participation_support == 0.75 and restored.proposal.replications == 3
    assert restored.proposal.baseline == Proposal().baseline
    assert "no check code" in restored.notes[0]


def test_a_tampered_link_is_rejected() -> None:
    query = to_query(TINY)
    tampered = query.replace("runs=2", "runs=3")
    assert tampered != query
    with pytest.raises(ProposalError, match="changed after it was made"):
        from_query(tampered)
    with pytest.raises(ProposalError, match="changed after it was made"):
        from_query(query[:-3])  # cut short: the check code no longer matches


def test_no_query_means_no_proposal() -> None:
    assert from_query(None) is None and from_query("") is None and from_query("?") is None


# ---------------------------------------------------------------------------- reproduce
@pytest.mark.parametrize("arm", ["baseline", "proposal"])
def test_the_reproduce_command_recreates_the_same_config(arm: str) -> None:
    p = dataclasses.replace(TINY, baseline=Levers(regime="targets", ratchet=True, payment_per_hour=2.5))
    command = reproduce_commands(p)[arm]
    words = shlex.split(command)
    assert words[:5] == ["python", "-m", "sim", "run", "-m"]
    overrides = [w for w in words[5:] if not w.startswith("seed=")]
    seeds = [int(s) for s in next(w for w in words if w.startswith("seed=")).split("=", 1)[1].split(",")]
    assert seeds == p.seeds() and len(seeds) == p.replications
    for seed in seeds:
        cfg = sim.load_config([*overrides, f"seed={seed}", "output.save=false"])
        assert cfg == arm_config(p, arm, seed)
    assert overrides == arm_overrides(p, arm)


def test_the_python_snippet_runs_the_same_proposal() -> None:
    snippet = reproduce_python(TINY)
    query = re.search(r'from_query\("([^"]+)"\)', snippet)
    assert query is not None
    restored = from_query(query.group(1))
    assert restored is not None and restored.proposal == TINY
    compile(snippet, "<snippet>", "exec")


def test_the_cli_runs_one_arm_as_the_app_does(tmp_path: Path, tiny_runs: list[dict]) -> None:
    """The printed command, run in a terminal, gives the same monthly series as the app's run."""
    p = dataclasses.replace(TINY, replications=1)
    command = reproduce_commands(p)["proposal"].replace("python", sys.executable, 1)
    out = subprocess.run(
        [*shlex.split(command), f"output.dir={tmp_path}"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    import pandas as pd

    (folder,) = [f for f in (tmp_path / "multirun").rglob("timeseries.parquet")]
    ts = pd.read_parquet(folder)
    app_run = next(r for r in tiny_runs if r["arm"] == "proposal" and r["replication"] == 0)
    np.testing.assert_array_equal(ts["prosocial_rate"].to_numpy(), np.array(app_run["series"]["prosocial_rate"]))


# ---------------------------------------------------------------------------- analysis
def test_common_seeds_and_paired_differences(tiny_runs: list[dict]) -> None:
    impact = analyse(TINY, tiny_runs)
    base = sorted((r for r in tiny_runs if r["arm"] == "baseline"), key=lambda r: r["replication"])
    prop = sorted((r for r in tiny_runs if r["arm"] == "proposal"), key=lambda r: r["replication"])
    assert [r["seed"] for r in base] == [r["seed"] for r in prop] == TINY.seeds()
    for key in MEASURES:
        d = [
            np.nanmean(b["series"][key][-12:]) - np.nanmean(q["series"][key][-12:])
            for b, q in zip(prop, base, strict=True)
        ]
        row = impact.row(key)
        assert math.isclose(row.difference.mean, float(np.mean(d)), rel_tol=1e-9, abs_tol=1e-12)
        half = 12.706204736174698 * np.std(d, ddof=1) / math.sqrt(2)  # t(0.975, 1 df)
        assert math.isclose(row.difference.high - row.difference.mean, half, rel_tol=1e-6, abs_tol=1e-12)
    mean, low, high = impact.difference["prosocial_rate"]
    assert mean.shape == (TINY.steps,) and np.all(low <= mean + 1e-12) and np.all(mean <= high + 1e-12)
    assert set(impact.forum) == {"proposal"}  # only the negotiated arm has forums
    forum = impact.forum["proposal"]
    assert 0 < forum["overall"].mean < 1 and len(forum["by_deprivation"]) == 5 and len(forum["by_efficacy"]) == 5
    for key in ("true_outcome", "trust_mean", "prosocial_rate"):
        assert len(impact.fifths[key]["difference"]) == 5


def test_fifths_agree_with_the_whole(tiny_runs: list[dict]) -> None:
    """Resident-weighted fifths average back to the end-of-run trust of the whole population."""
    run = tiny_runs[0]
    ts_trust = np.mean(run["series"]["trust_mean"][-12:])
    assert min(run["fifths"]["trust_mean"]) <= ts_trust <= max(run["fifths"]["trust_mean"])


def numbers(text: str) -> list[str]:
    return re.findall(r"[+-]?£?\d[\d,]*\.\d+(?: points|%)?", text)


def test_summary_quotes_the_numbers_of_the_table(tiny_runs: list[dict]) -> None:
    impact = analyse(TINY, tiny_runs)
    summary = " ".join(impact.summary)
    for key in ("prosocial_rate", "gaming_share", "trust_mean", "true_outcome", "public_cost"):
        row = impact.row(key)
        sentence = next(s for s in impact.summary if s.startswith(row.title))
        expected = [
            format_level(key, row.proposal.mean),
            format_level(key, row.baseline.mean),
            format_change(key, row.difference.mean),
            format_change(key, row.difference.low),
            format_change(key, row.difference.high),
        ]
        assert numbers(sentence) == expected, (sentence, expected)
        if row.difference.clear:
            assert ("higher" in sentence) == (row.difference.mean > 0)
        else:
            assert "no clear difference" in sentence
    forum = impact.forum["proposal"]
    assert format_level("participation_rate", forum["overall"].mean) in summary
    assert format_change("true_outcome", impact.fifths["true_outcome"]["difference"][0].mean) in summary
    assert "National targets to Negotiated outcomes" in summary
    assert "support for participation (50%)" in summary
    assert "target level from" not in summary.lower()  # inert under negotiated outcomes: not a change to it


def test_one_run_has_no_interval_and_says_so() -> None:
    p = dataclasses.replace(TINY, replications=1)
    impact = analyse(p, [run_one(t) for t in run_tasks(p)])
    assert not impact.row("prosocial_rate").difference.has_interval
    assert "one run only" in " ".join(impact.summary)


# ---------------------------------------------------------------------------- glossary
def test_glossary_defines_every_measure_regime_and_lever() -> None:
    g = load_glossary()
    assert GLOSSARY_PATH == Path(sim.__file__).resolve().parent.parent / "docs" / "glossary.md"
    assert set(COLUMNS) <= set(g.sections["Measures"])
    assert set(REGIMES) <= set(g.sections["Regimes"])
    assert {n for n in LEVERS if n != "regime"} <= set(g.sections["Levers"])
    for entry in g.entries("Measures") + g.entries("Regimes"):
        assert len(entry.text) > 40, entry.key


def test_glossary_parser_names_a_bad_line() -> None:
    with pytest.raises(ValueError, match="line 3"):
        parse_glossary("# G\n## A\n### no backticks here\n")


# ---------------------------------------------------------------------------- cache and jobs
def test_cache_round_trip_and_corrupt_files(tiny_runs: list[dict]) -> None:
    path = cache.save_runs(TINY, tiny_runs)
    assert path is not None and path.parent.parent == cache.cache_dir()
    assert cache.load_runs(TINY) == json.loads(json.dumps(tiny_runs))
    path.write_text("{not json")
    assert cache.load_runs(TINY) is None and not path.exists()
    path.write_text(json.dumps({"query": to_query(TINY), "runs": [{"arm": "x"}]}))
    assert cache.load_runs(TINY) is None


def test_background_job_reports_progress_and_uses_the_cache() -> None:
    manager = jobs.JobManager(workers=1)
    try:
        job = manager.submit(TINY, use_cache=False)
        seen = set()
        while not job.wait(0.05):
            seen.add(job.done)
        assert job.status == "done", job.message
        assert job.done == job.total == TINY.n_runs and job.impact is not None
        again = manager.submit(TINY)
        assert again.from_cache and again.status == "done" and again.impact is not None
        assert again.impact.row("prosocial_rate").difference.mean == job.impact.row("prosocial_rate").difference.mean
    finally:
        manager.shutdown()


def test_the_server_refuses_more_jobs_than_its_limit() -> None:
    manager = jobs.JobManager(workers=1, max_active=1)
    try:
        first = manager.submit(dataclasses.replace(TINY, seed=11), use_cache=False)
        with pytest.raises(jobs.Busy, match="try again"):
            manager.submit(dataclasses.replace(TINY, seed=12), use_cache=False)
        first.cancel()
        assert first.wait(60) and first.status in ("cancelled", "done")
    finally:
        manager.shutdown()


def test_a_calibration_cut_short_by_the_shutdown_is_not_reported_as_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    """Ctrl+C during start-up stops the pool under the calibration: one line (the stop's), no warning, no new pool."""
    manager = jobs.JobManager(workers=1)
    manager.shutdown()
    with caplog.at_level(logging.DEBUG, logger=jobs.log.name):
        manager.calibrate()
    assert manager.calibrated.is_set() and manager.throughput.model is None
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    with pytest.raises(RuntimeError, match="shutting down"):
        manager.pool()  # a start-up thread cannot start workers again after the stop


def _drawn_where(impact: object) -> bytes:
    """A stand-in chart: the id of the process that drew it."""
    return str(os.getpid()).encode()


def test_charts_are_drawn_in_their_own_process_which_ends_with_the_server(tiny_runs: list[dict]) -> None:
    """Matplotlib's seconds of Python per answer run outside the server, whose threads build and send the page."""
    from sim.app import charts

    impact = analyse(TINY, tiny_runs)
    manager = jobs.JobManager(workers=1)
    try:
        assert int(manager.draw(_drawn_where, impact)) != os.getpid()
        assert manager.draw(charts.difference_chart, impact) == charts.difference_chart(impact)  # the same picture
        drawer = list(manager.drawer()._processes.values())  # type: ignore[union-attr]
        assert len(drawer) == 1 and drawer[0].is_alive()
    finally:
        manager.shutdown()
    drawer[0].join(5)
    assert not drawer[0].is_alive()
    assert manager.draw(_drawn_where, impact) == str(os.getpid()).encode()  # after the stop: drawn here, never lost


def test_an_invalid_proposal_never_reaches_the_pool() -> None:
    manager = jobs.JobManager(workers=1)
    with pytest.raises(ProposalError):
        manager.submit(dataclasses.replace(TINY, n_citizens=10**9))
    assert manager._pool is None


# ---------------------------------------------------------------------------- live model
def test_live_model_starts_at_month_zero_and_stops_at_the_horizon() -> None:
    model = LiveModel(**{**live_defaults(), "n_citizens": 200, "n_communities": 5, "steps": 12})
    assert model.month == 0 and model.running
    for _ in range(15):
        model.step()
    assert model.month == 12 and not model.running and len(model.timeseries()) == 12
    rows = community_rows(model)
    assert len(rows) == 5 and [r.deprivation for r in rows] == sorted(r.deprivation for r in rows)
    view = service_view(model, rows[0].services[0])
    assert math.isclose(sum(view.allocation.values()), 1.0, rel_tol=1e-6)
    assert view.target is not None  # national targets in force


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"n_citizens": 10**7}, "Population (citizens)"),
        ({"regime": "dictatorship"}, "regime"),
        ({"rm": 1}, "Unknown live setting"),
    ],
)
def test_live_model_rejects_bad_settings(settings: dict, fragment: str) -> None:
    with pytest.raises(ProposalError, match=re.escape(fragment)):
        live_proposal({**live_defaults(), **settings})
    model = LiveModel(**settings)  # never raises (a page would show the traceback): defaults, and why
    assert model.settings == live_defaults() and fragment in " ".join(model.problems)


def test_live_model_accepts_mesas_reset_keywords() -> None:
    from mesa.visualization.solara_viz import _build_model_init_kwargs

    model = LiveModel(**{**live_defaults(), "n_citizens": 200, "n_communities": 5})
    kwargs = _build_model_init_kwargs(
        model, model.settings, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )
    again = type(model)(**kwargs)
    assert again.settings == model.settings and again.problems == []


def test_app_command_rejects_a_bad_port() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sim", "app", "--port", "99999"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2 and "--port 99999 is out of range" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "--stop-grace -1 is out of range; allowed: 0 to 600 whole seconds"),
        ("601", "--stop-grace 601 is out of range; allowed: 0 to 600 whole seconds"),
        ("1.5", "argument --stop-grace: invalid int value: '1.5'"),
    ],
)
def test_app_command_rejects_a_bad_stop_grace(value: str, message: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sim", "app", "--stop-grace", value], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2, out
    assert message in out.stderr
    assert "Traceback" not in out.stderr

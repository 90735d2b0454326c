"""Mesa conventions (issue 16, part 2): run_model, steps, the DataCollector, citizens as agents, SolaraViz."""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

import sim
from sim.agents import Citizen, Community, Service
from sim.metrics import CITIZEN_FIELDS, COLUMNS, MetricsRecorder
from sim.model import SocialProductivityModel

ROOT = Path(__file__).resolve().parents[1]
TINY = ["population.n_citizens=120", "population.n_communities=4", "burn_in=3", "steps=5", "output.save=false"]


def tiny(*extra: str) -> SocialProductivityModel:
    return SocialProductivityModel(sim.load_config([*TINY, *extra]))


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail (rather than hang the suite) if the test body runs past 60 s: run_model() used to loop forever."""

    def expire(*_: object) -> None:
        raise TimeoutError("still running after 60 s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_run_model_stops_at_the_horizon_with_the_usual_table(deadline: None) -> None:
    model = tiny()
    assert model.running and model.steps == 0 and model.month == 0
    model.run_model()
    assert not model.running
    assert model.steps == model.month == 5 and model.time == 5.0
    reference = sim.run(sim.load_config(TINY)).timeseries  # the runner's path: model.run()
    pd.testing.assert_frame_equal(model.timeseries(), reference, check_exact=True)
    pd.testing.assert_frame_equal(model.datacollector.get_model_vars_dataframe(), reference, check_exact=True)


def test_the_burn_in_is_run_by_the_constructor_and_not_counted() -> None:
    model = tiny()
    # The burn-in's three months ran inside the constructor and left no trace in Mesa's counters or the data.
    assert model.steps == 0 and model.time == 0.0 and model.month == 0
    assert len(model.datacollector) == 0 and model.datacollector.model_vars["step"] == []
    model.step()
    assert model.steps == 1 and model.month == 1
    assert model.datacollector.model_vars["step"] == [0]  # the first recorded month is month 0


def test_stepping_past_the_horizon_is_allowed_but_not_running() -> None:
    model = tiny("steps=2")
    model.step()
    assert model.running
    model.step()
    assert not model.running
    model.step()  # Mesa leaves it to the caller; the month is still recorded
    assert model.month == model.steps == 3 and len(model.timeseries()) == 3


def test_datacollector_is_a_mesa_datacollector_with_every_metric() -> None:
    model = tiny()
    dc = model.datacollector
    assert isinstance(dc, mesa.DataCollector) and isinstance(dc, MetricsRecorder)
    assert dc is model.recorder  # the historical name still works
    assert list(dc.model_reporters) == list(COLUMNS) and list(dc.model_vars) == list(COLUMNS)
    model.run_model()
    frame = dc.get_model_vars_dataframe()
    assert list(frame.columns) == list(COLUMNS) and frame["step"].tolist() == list(range(5))
    # Each model reporter computes its own column for the month just simulated.
    last = frame.iloc[-1]
    for name in ("true_outcome", "prosocial_rate", "regime", "public_cost"):
        assert dc.model_reporters[name](model) == last[name], name
    assert dc._collection_steps == list(range(5))


def test_mesa_batch_run_reads_the_collector() -> None:
    cfg = sim.load_config(TINY)
    rows = mesa.batch_run(
        SocialProductivityModel,
        parameters={"config": [cfg]},
        data_collection_period=1,
        max_steps=100,
        display_progress=False,
    )
    table = pd.DataFrame(rows)
    assert table["Step"].tolist() == list(range(5))  # stopped by running, not by max_steps
    ref = sim.run(cfg).timeseries
    np.testing.assert_array_equal(table["true_outcome"].to_numpy(), ref["true_outcome"].to_numpy())
    # Replications through Mesa's rng list: each value is the run's seed.
    rows = mesa.batch_run(SocialProductivityModel, {"config": [cfg]}, rng=[7, 8], display_progress=False)
    finals = sorted((r["seed"], r["true_outcome"]) for r in rows)
    runs = [(s, sim.run(sim.load_config([*TINY, f"seed={s}"])).timeseries["true_outcome"].iloc[-1]) for s in (7, 8)]
    assert finals == runs


def test_sampled_citizen_table_is_opt_in_bounded_and_matches_the_agents() -> None:
    plain = tiny()
    with pytest.raises(UserWarning, match="citizen_sample"):
        plain.datacollector.get_agent_vars_dataframe()
    model = tiny()
    model.datacollector.sample_citizens(10)
    model.run_model()
    table = model.datacollector.get_agent_vars_dataframe()
    assert table.index.names == ["Step", "AgentID"]
    assert len(table) == 12 * 5  # rows 0, 10, ..., 110 in each of 5 months
    assert list(table.columns) == ["citizen", *CITIZEN_FIELDS]
    # Sampling changes nothing in the model or its metrics.
    pd.testing.assert_frame_equal(model.timeseries(), tiny_run(), check_exact=True)
    last = table.xs(4, level="Step")
    agents = {a.unique_id: a for a in model.agents_by_type[Citizen]}
    for agent_id, row in last.iterrows():
        agent = agents[agent_id]
        assert agent.index == row["citizen"] and agent.index % 10 == 0
        for name in CITIZEN_FIELDS:
            assert getattr(agent, name) == row[name], name
    # Through the constructor too, and a bad k is refused with one clear message.
    assert tiny_sampled(40) == 3 * 5
    with pytest.raises(ValueError, match=r"citizen_sample=0\.5: give a whole number k >= 1"):
        SocialProductivityModel(sim.load_config(TINY), citizen_sample=0.5)  # type: ignore[arg-type]


def tiny_run() -> pd.DataFrame:
    model = tiny()
    model.run_model()
    return model.timeseries()


def tiny_sampled(every: int) -> int:
    model = SocialProductivityModel(sim.load_config(TINY), citizen_sample=every)
    model.run_model()
    return len(model.datacollector.get_agent_vars_dataframe())


def test_citizens_are_found_where_mesa_users_look() -> None:
    model = tiny()
    n_comm, n_cit = 4, 120
    by_type = model.agents_by_type
    assert set(by_type) == {Community, Service, Citizen} == set(model.agent_types)
    citizens = by_type[Citizen]
    assert len(citizens) == n_cit and len(model.agents) == n_comm + 3 * n_comm + n_cit
    ids = sorted(a.unique_id for a in citizens)
    assert ids == list(range(model.citizen_id_base, model.citizen_id_base + n_cit))
    # Views of the arrays: what a citizen reports is its row, after any number of months.
    model.step()
    agent = next(a for a in citizens if a.index == 7)
    assert agent.trust == model.citizens.trust[7] and agent.motivation == model.citizens.motivation[7]
    assert model.citizen_agents is model.citizen_agents  # made once


def test_agents_made_later_do_not_take_the_citizens_ids() -> None:
    model = tiny()
    other = mesa.Agent(model)
    assert other.unique_id == model.citizen_id_base + 120
    assert min(a.unique_id for a in model.agents_by_type[Citizen]) == model.citizen_id_base


# ---------------------------------------------------------------------------- SolaraViz


def _widgets(root: object, cls: type) -> list:
    """Every widget of a class under a rendered widget tree (children and grid items)."""
    import ipywidgets

    found, todo = [], [root]
    while todo:
        w = todo.pop()
        if isinstance(w, cls):
            found.append(w)
        for attr in ("children", "items"):
            kids = getattr(w, attr, None)
            if isinstance(kids, list | tuple):
                todo.extend(k for k in kids if isinstance(k, ipywidgets.Widget))
    return found


def test_solaraviz_example_plots_the_collected_metrics() -> None:
    import ipywidgets
    import solara
    from mesa.visualization import SolaraViz, make_plot_component

    ns = runpy.run_path(str(ROOT / "docs" / "examples" / "mesa_dashboard.py"))
    model = ns["model"]
    for _ in range(4):
        model.step()
    box, _ = solara.render(ns["page"], handle_error=False)
    pngs = _widgets(box, ipywidgets.Image)  # make_plot_component, matplotlib
    assert len(pngs) == 2 and all(bytes(p.value[:4]) == b"\x89PNG" and len(p.value) > 5000 for p in pngs)
    # The altair backend: the chart's data are the collector's values.
    altair = SolaraViz(model, components=[make_plot_component("prosocial_rate", backend="altair")])
    box, _ = solara.render(altair, handle_error=False)
    (vega,) = [w for w in _widgets(box, ipywidgets.DOMWidget) if type(w).__name__ == "VegaLite"]
    (values,) = vega.spec["datasets"].values()
    plotted = [row["Value"] for row in values if row["Measure"] == "prosocial_rate"]
    assert plotted == model.datacollector.get_model_vars_dataframe()["prosocial_rate"].tolist()
    assert [row["Step"] for row in values] == [0, 1, 2, 3]


def test_solaraviz_controller_steps_to_the_horizon_and_stops() -> None:
    import ipyvuetify as v
    import solara
    from mesa.visualization.solara_viz import ModelController

    cfg = sim.load_config([*TINY, "steps=3"])
    model = solara.reactive(SocialProductivityModel(cfg))
    _, rc = solara.render(
        ModelController(
            model,
            model_parameters=solara.reactive({"config": cfg}),
            render_interval=solara.reactive(1),
            use_threads=solara.reactive(False),
        ),
        handle_error=False,
    )
    step = rc.find(v.Btn, children=["Step"])
    for _ in range(3):
        assert not step.widget.disabled
        step.widget.click()
    assert model.value.month == 3 and not model.value.running
    assert step.widget.disabled  # the dashboard knows the run is over
    rc.find(v.Btn, children=["Reset"]).widget.click()  # rebuilt from model_parameters: month 0 again
    assert model.value.month == 0 and model.value.running and not rc.find(v.Btn, children=["Step"]).widget.disabled


@pytest.mark.xdist_group("app-browser")  # with the other browser tests: one Chromium at a time
def test_dashboard_example_in_a_real_browser(tmp_path: Path) -> None:
    """`solara run docs/examples/mesa_dashboard.py` as the docs say, driven in Chromium: Step updates the plot."""
    from playwright.sync_api import sync_playwright

    from tests.app.test_app_browser import UI_TIMEOUT, free_port, http_get
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    solara_cmd = str(Path(sys.executable).parent / "solara")
    example = ROOT / "docs" / "examples" / "mesa_dashboard.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with open(tmp_path / "solara.log", "wb") as log:
        server = subprocess.Popen(
            [solara_cmd, "run", str(example), "--host", "127.0.0.1", "--port", str(port), "--no-open", "--production"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        end = time.monotonic() + 120
        while http_get(url) != 200:
            assert server.poll() is None and time.monotonic() < end, (tmp_path / "solara.log").read_text()[-2000:]
            time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=UI_TIMEOUT)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, timeout=UI_TIMEOUT)
            step = page.get_by_role("button", name="Step")
            step.wait_for(timeout=UI_TIMEOUT)
            plots = page.locator("img[src^='blob:']")  # the matplotlib plots, as PNG blobs
            plots.first.wait_for(timeout=UI_TIMEOUT)
            assert plots.count() == 2
            before = plots.first.get_attribute("src")
            for _ in range(3):
                step.click()
            page.get_by_text("Time: 3.0").wait_for(timeout=UI_TIMEOUT)  # Mesa's counter: 3 months, no burn-in
            page.wait_for_function(
                "src => document.querySelector(\"img[src^='blob:']\").src !== src",
                arg=before,
                timeout=UI_TIMEOUT,
            )
            browser.close()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)

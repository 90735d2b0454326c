"""The proposal explorer's page (Solara), in the Mesa ``app.py`` pattern.

Three tabs:

- **Live model**: the levers, Reset, Play/Pause and Step (:func:`LiveController`) over
  :class:`sim.app.live.LiveModel`, live charts, a map of the communities coloured by a chosen
  measure, and an inspector for a clicked community or service.
- **Test a proposal**: a baseline and a proposal, the area and the number of runs; the runs go
  to the server's background pool (:mod:`sim.app.jobs`) with a progress bar, and the impact
  panels show the end-of-run table, the difference over time with its interval, the effect by
  deprivation, who takes part in forums and a plain-words summary. A link restores the exact
  proposal; a "reproduce" box gives the terminal commands and a Python snippet.
- **Explain**: the glossary (``docs/glossary.md``).

Every value the page receives is validated on the server (:mod:`sim.app.proposal`); a bad
value or link gives a message, never a traceback. Start it with ``python -m sim app``.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import solara
import solara.lab

from sim.app import cache as app_cache
from sim.app import charts, jobs
from sim.app.live import (
    COLOR_MEASURES,
    LiveModel,
    color_scale,
    community_rows,
    live_defaults,
    live_problems,
    service_view,
)
from sim.app.proposal import (
    AREA_TITLES,
    LEVERS,
    LIMITS,
    REGIME_TITLES,
    Impact,
    Levers,
    Proposal,
    ProposalError,
    analyse,
    arm_instruments,
    check_relations,
    check_values,
    configs_to_compose,
    format_change,
    format_level,
    from_query,
    interval_text,
    lever_inert_reason,
    lever_title,
    lever_value_text,
    months_text,
    reproduce_commands,
    reproduce_python,
    to_query,
    verdict,
    without_inert_levers,
)
from sim.app.safe import escape, md_escape
from sim.app.safe import markdown_html as markdown_html
from sim.config import REGIMES
from sim.glossary import load_glossary

CSS = """
.sim-help { font-size: 0.9rem; color: #3d3d3d; margin: 0 0 8px 0; line-height: 1.3; display: block; }
.sim-instruction { font-size: 1.05rem; margin: 4px 0 10px 0; }
.sim-slider .v-label { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
.sim-headline { border-left: 6px solid #0072B2; }
.sim-headline .sim-big { font-size: 1.35rem; font-weight: 600; margin: 2px 0; color: rgba(0, 0, 0, 0.87);
  display: block; }
.sim-headline table { width: 100%; }
.sim-folded { color: #3d3d3d; font-size: 0.9rem; }
.sim-fold-button.v-btn { text-transform: none; letter-spacing: normal; color: #1565c0 !important;
  padding: 0 4px !important; height: auto !important; min-height: 28px; white-space: normal; text-align: left; }
.sim-fold-button .v-btn__content { white-space: normal; flex-shrink: 1; }
.sim-copy-status { margin-left: 8px; font-size: 0.9rem; }
.sim-scroll { overflow-x: auto; max-width: 100%; }
.sim-md, .sim-help, .sim-label { overflow-wrap: break-word; word-break: normal; hyphens: manual; }
.verdict-better { color: #1b5e20; font-weight: 600; }
.verdict-worse { color: #b71c1c; font-weight: 600; }
@media (max-width: 600px) {
  .impact-table table, .sim-md table { font-size: 0.8rem; }
  .impact-table th, .impact-table td, .sim-md th, .sim-md td { padding: 3px 4px; }
  .v-tab { min-width: 0 !important; padding: 0 8px !important; font-size: 0.8rem; }
}
.sim-label { font-size: 0.95rem; display: block; margin-top: 6px; }
.sim-control .v-input--slider { margin-top: 0; }
.sim-control .v-messages { display: none; }
.sim-status { font-size: 1.05rem; font-weight: 500; margin: 4px 0; }
.community-tile.v-btn { min-width: 64px !important; height: 52px !important; padding: 0 6px !important;
  text-transform: none; font-size: 0.8rem; line-height: 1.1; border-radius: 6px; }
.community-tile.sim-selected { outline: 4px solid #D55E00; outline-offset: 1px; }
.sim-legend { height: 12px; border-radius: 3px; margin: 4px 0;
  background: linear-gradient(to right, #440154, #3b518b, #21908d, #5cc863, #fde725); }
.impact-table table { border-collapse: collapse; font-size: 0.9rem; }
.impact-table th, .impact-table td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
.impact-table td:first-child, .impact-table th:first-child { text-align: left; }
.sim-md { color: rgba(0, 0, 0, 0.87); }
.sim-md strong { font-weight: 600; }
.sim-md table { border-collapse: collapse; margin: 6px 0; }
.sim-md th, .sim-md td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left; }
.sim-md p { margin: 6px 0; }
.sim-text-list { margin: 4px 0; padding-left: 20px; }
.sim-md pre { background: #f5f5f5; padding: 8px; border-radius: 4px; }
.sim-code { font-size: 0.85rem; }
.sim-code pre { white-space: pre-wrap; word-break: break-all; font-size: 0.8rem; }
.sim-bar { display: flex; height: 18px; border-radius: 3px; overflow: hidden; margin: 6px 0; }
"""

ALLOCATION_COLOURS = ["#0072B2", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#BBBBBB"]
LIVE_AREA: dict[str, tuple[int, int, int]] = {  # name: (min, max, slider step)
    "n_citizens": (LIMITS["n_citizens"][0], LIMITS["n_citizens"][1], 100),
    "n_communities": (LIMITS["n_communities"][0], LIMITS["n_communities"][1], 1),
    "steps": (LIMITS["steps"][0], LIMITS["steps"][1], 12),
}
log = logging.getLogger("sim.app")
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


# ---------------------------------------------------------------------------- helpers
def describe_lever(name: str, value: Any) -> str:
    """A lever's value in words for its slider label, in the units the summary uses too."""
    text = lever_value_text(name, value)
    suffix = {
        "target_level": " of cases meet the standard",
        "audit_rate": " of services audited each month",
        "guarantee_level": " of staff time",
        "recognition": " (0% none, 100% full)",
        "participation_support": " (0% none, 100% full)",
    }
    return text + suffix.get(name, "")


def help_text(name: str, section: str = "Levers") -> str:
    """The glossary's first sentence for a lever or measure ('' if none)."""
    try:
        return load_glossary().get(name, section).first_sentence
    except KeyError:
        return ""


def time_estimate(p: Proposal) -> str:
    """How long ``p`` will take, from this server's measured speed: a range in plain words."""
    span = jobs.manager().estimate_range(p)
    if span is None:
        return "measuring this computer's speed for a time estimate"
    busy = jobs.manager().active_jobs()
    wait = " (longer while another comparison is running)" if busy else ""
    return f"expected to take {jobs.estimate_text(*span)}{wait}"


def estimate_details(p: Proposal) -> str:
    """What the time estimate of ``p`` is made of, in seconds ('' before the speed is measured)."""
    manager = jobs.manager()
    t = manager.throughput
    runs = t.runs_seconds(p, manager.workers)
    if runs is None:
        return ""
    if t.draw_measured:
        drawing = "as browsers reported it"
    else:
        drawing = "from the page's redraws" if t.drawing_known else "not yet measured"
    return (
        f"Composing new settings {t.compose * configs_to_compose(p):.1f} s, the runs {runs:.1f} s, handing them out "
        f"{t.dispatch:.1f} s, analysing and saving {t.finish:.1f} s, showing the answer {t.draw:.1f} s ({drawing})."
    )


def browser_seconds(value: Any) -> float:
    """The seconds a browser says it took to show an answer: a number from 0 to 60, else 0 (never raises)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return min(max(seconds, 0.0), 60.0) if math.isfinite(seconds) else 0.0


def page_origin() -> str:
    """``http://host:port`` of the page as the browser sees it (from the request's Host header)."""
    headers = solara.lab.headers.value or {}
    values = headers.get("host") or headers.get("Host") or []
    host = values[0] if values else ""
    if not host or not _HOST.match(host):
        host = f"{os.environ.get('SERVER_NAME', '127.0.0.1')}:{os.environ.get('SERVER_PORT', '8765')}"
    return f"http://{host}"


@dataclass(frozen=True)
class LinkState:
    """What the page's URL said: a restored proposal, notes, or the reasons it could not be used."""

    proposal: Proposal | None = None
    notes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


def read_link(search: str | None) -> LinkState:
    """Read a proposal from the page's query string; never raises."""
    try:
        restored = from_query(search)
    except ProposalError as exc:
        return LinkState(errors=tuple(exc.messages))
    except Exception:  # anything unexpected in a hand-made link: a message, not a traceback
        return LinkState(errors=("The link could not be read; it may have been cut short or altered.",))
    if restored is None:
        return LinkState()
    return LinkState(restored.proposal, restored.notes)


def cached_impact(p: Proposal | None) -> Impact | None:
    """The analysed runs of ``p`` if the cache folder has them; never raises."""
    if p is None:
        return None
    try:
        runs = app_cache.load_runs(p)
        return analyse(p, runs) if runs is not None else None
    except Exception:
        return None


@solara.component
def Md(text: str, classes: list[str] | None = None) -> None:
    """Markdown written by this app, rendered as HTML by :func:`sim.app.safe.markdown_html`.

    That renderer turns any raw HTML into text and drops images, handlers and script links, so
    even a value that reached ``text`` unescaped could not become markup. Values interpolated
    into ``text`` still go through :func:`sim.app.safe.md_escape`; text from a user is shown
    with :func:`TextList` or ``solara.Text`` instead.
    """
    solara.HTML(tag="div", unsafe_innerHTML=markdown_html(text), classes=["sim-md", *(classes or [])])


@solara.component
def TextList(items: list[str] | tuple[str, ...], classes: list[str] | None = None) -> None:
    """A bulleted list of plain text: each item is set as text, never parsed as HTML or Markdown.

    This is how messages (which repeat what a link or a field held) and summaries reach the page.
    """
    solara.v.Html(
        tag="ul",
        class_=" ".join(["sim-md", "sim-text-list", *(classes or [])]),
        children=[solara.v.Html(tag="li", children=[str(item)]) for item in items],
    )


@solara.component
def Guard(name: str, children: list[Any] | None = None) -> None:
    """Catch any error raised while drawing or handling a click in ``children``: a message, never a traceback."""
    exception, clear = solara.use_exception()
    if exception is not None:
        log.error("error in the %s part of the page", name, exc_info=exception)
        with solara.Div(classes=["sim-error", "page-guard"]):
            solara.Error(
                f"Something went wrong in the {name} part of the page ({type(exception).__name__}). "
                "It has been logged on the server. Press 'Start again' to reload this part.",
                icon=True,
            )
            solara.Button("Start again", on_click=clear, color="primary")
        return
    solara.Column(children=children or [])


@solara.component
def Help(text: str) -> None:
    """A short explanation under a control."""
    if text:
        solara.Text(text, classes=["sim-help"])


@solara.component_vue("vue/address_bar.vue")
def AddressBar(query: str, scroll_token: int, scroll_target: str, event_shown: Callable[[Any], None]) -> None:
    """Keeps the address bar on ``query``; scrolls to ``scroll_target`` when ``scroll_token`` changes (browser side).

    Then calls ``event_shown`` from the browser, ``{"token", "building", "browser_seconds"}``: the answer
    is on screen (``building``: it was there when the page was built, as a shared link's answer can be;
    ``browser_seconds``: from receiving the answer to the frame that shows it, by the browser's clock).
    """


@solara.component_vue("vue/copy_link.vue")
def CopyLink(link: str) -> None:
    """A 'Copy link' button that puts ``link`` on the clipboard in the browser, and says so."""


@solara.component
def Fold(summary: str, classes: list[str] | None = None, children: list[Any] | None = None) -> None:
    """Folded content under a button that says what it holds and whether it is open (``aria-expanded``)."""
    open_ = solara.use_reactive(False)
    with solara.Div(classes=["sim-fold", *(classes or [])]):
        solara.Button(
            ("▾ " if open_.value else "▸ ") + summary,
            on_click=lambda: open_.set(not open_.value),
            text=True,
            classes=["sim-fold-button"],
            attributes={"aria-expanded": "true" if open_.value else "false"},
        )
        if open_.value:
            solara.Column(children=children or [])


@solara.component
def Messages(messages: list[str] | tuple[str, ...], kind: str = "error") -> None:
    """One alert listing messages (nothing if there are none)."""
    if not messages:
        return
    alert = {"error": solara.Error, "warning": solara.Warning}.get(kind, solara.Info)
    with solara.Div(classes=[f"sim-{kind}"]), alert(icon=True):
        TextList(list(messages))  # messages repeat user input: text, never markup


@solara.component
def RegimeSelect(value: str, on_value: Callable[[str], None], label: str = "Regime") -> None:
    """A drop-down of the regimes by their plain names."""
    items = [{"text": REGIME_TITLES[r], "value": r} for r in REGIMES]
    # An autocomplete, not a select: Vuetify's select nests its input in a role=button (not accessible).
    solara.v.Autocomplete(
        label=label,
        items=items,
        v_model=value,
        on_v_model=on_value,
        outlined=True,
        dense=True,
        hide_details=True,
        attributes={"aria-label": label},
    )
    Help(help_text(value, "Regimes"))


@solara.component
def Slider(
    title: str, value: float, lo: float, hi: float, step: float, spoken: str, on_value: Callable[[float], None]
) -> None:
    """A slider named for screen readers (its title) that also announces its value in words."""
    solara.v.Slider(
        v_model=value,
        on_v_model=on_value,
        min=lo,
        max=hi,
        step=step,
        label=title,  # Vuetify makes the label the slider's aria-label; CSS hides it, the text above shows it
        hide_details=True,
        thumb_label=False,
        class_="sim-slider",
        attributes={"aria-valuetext": spoken},
    )


@solara.component
def LeverInput(name: str, value: Any, on_value: Callable[[Any], None]) -> None:
    """One lever: a slider (or a switch) labelled with its value in words, and its meaning."""
    spec = LEVERS[name]
    words = describe_lever(name, value)
    label = f"{lever_title(name)}: {words}"
    with solara.Div(classes=["sim-control", f"lever-{name}"]):
        if spec.kind == "bool":
            solara.Checkbox(label=label, value=bool(value), on_value=on_value)
        else:
            solara.Text(label, classes=["sim-label"])
            if spec.kind == "int":
                Slider(
                    lever_title(name),
                    int(value),
                    int(spec.lo or 0),
                    int(spec.hi or 1),
                    int(spec.step),
                    words,
                    lambda v: on_value(int(v)),
                )
            else:
                Slider(
                    lever_title(name),
                    float(value),
                    float(spec.lo or 0),
                    float(spec.hi or 1),
                    spec.step,
                    words,
                    lambda v: on_value(round(float(v), 6)),
                )
    Help(help_text(name))


@solara.component
def LeverPanel(levers: Levers, on_change: Callable[[str, Any], None], regime_label: str = "Regime") -> None:
    """The regime and the levers that act in it; the others are folded away with the reason they do nothing.

    Whether a lever acts is read from the regime's instruments (:func:`sim.app.proposal.lever_inert_reason`).
    """
    RegimeSelect(levers.regime, lambda v: on_change("regime", v), regime_label)
    inst = arm_instruments(levers)
    reasons = {n: lever_inert_reason(n, inst) for n in LEVERS if n != "regime"}
    for name, reason in reasons.items():
        if reason is None:
            LeverInput(name, getattr(levers, name), lambda v, name=name: on_change(name, v))
    folded = [f"{lever_title(n)}: {r}." for n, r in reasons.items() if r is not None]
    if folded:
        with Fold(f"{len(folded)} levers do nothing under {levers.describe()} (why)", classes=["inert-levers"]):
            with solara.Div(classes=["sim-folded"]):
                TextList(folded)


@solara.component
def AreaSlider(name: str, value: int, lo: int, hi: int, step: int, on_value: Callable[[int], None]) -> None:
    """A whole-number setting of the area (population, communities, months, runs), labelled above."""
    shown = months_text(value) if name == "steps" else f"{value:,}"
    with solara.Div(classes=["sim-control", f"area-{name}"]):
        solara.Text(f"{AREA_TITLES[name]}: {shown}", classes=["sim-label"])
        Slider(AREA_TITLES[name], value, lo, hi, step, shown, lambda v: on_value(int(v)))


@solara.component
def PngImage(data: bytes, alt: str) -> None:
    """A chart image with its text alternative (``alt``), which is also shown under it for everyone."""
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    solara.v.Html(
        tag="img",
        attributes={"src": src, "alt": alt, "style": "width: 100%; height: auto"},
        class_="solara-image sim-chart",
    )
    solara.Text(alt, classes=["sim-help"])


# ---------------------------------------------------------------------------- live tab
@solara.component_vue("vue/live_chart.vue")
def BrowserLineChart(panels: list[dict[str, Any]], horizon: int, alt: str) -> None:
    """Line charts drawn in the browser (SVG) from the numbers in ``panels``; ``alt`` names them for screen readers."""


@solara.component
def LiveCharts(model: LiveModel, tick: int) -> None:
    """The four live panels: the server sends the numbers, the browser draws them."""
    with model.lock:
        ts = model.timeseries()
    BrowserLineChart(panels=charts.live_panels(ts), horizon=model.horizon, alt=charts.live_alt(ts))


@solara.component
def CommunityMap(
    model: LiveModel,
    tick: int,
    color_by: solara.Reactive[str],
    selected: int | None,
    on_select: Callable[[int], None],
) -> None:
    """The communities as tiles, least deprived first, coloured by a chosen measure; click one to inspect it."""
    rows = community_rows(model)
    key = color_by.value
    with solara.Row(style={"align-items": "center"}):
        solara.Text("Colour the communities by:")
        solara.ToggleButtonsSingle(
            value=color_by,
            children=[solara.Button(title, value=k, text=True) for k, title in COLOR_MEASURES.items()],
            dense=True,
        )
    solara.Text(
        f"Each tile is one community, from the least deprived (top left) to the most deprived. Colour: "
        f"{COLOR_MEASURES[key].lower()} (0 to 100%). Click a tile to inspect it.",
        classes=["sim-help"],
    )
    with solara.Row(style={"flex-wrap": "wrap", "gap": "6px"}):
        for r in rows:
            value = r.deprivation if key == "deprivation" else getattr(r, key)
            bg, fg = color_scale(value)
            shown = "n/a" if not math.isfinite(value) else f"{100 * value:.0f}%"
            solara.Button(
                label=f"#{r.index + 1} · {shown}",
                on_click=lambda i=r.index: on_select(i),
                style={"background-color": bg, "color": fg},
                classes=["community-tile", *(["sim-selected"] if r.index == selected else [])],
                attributes={
                    "title": f"Community {r.index + 1}: deprivation {r.deprivation:.2f}, "
                    f"{r.residents} residents; {COLOR_MEASURES[key].lower()} {shown}"
                },
            )
    with solara.Row(style={"align-items": "center", "gap": "8px", "max-width": "420px"}):
        solara.Text("0%")
        solara.Div(classes=["sim-legend"], style={"flex": "1"})
        solara.Text("100%")


def _allocation_bar(allocation: dict[str, float]) -> str:
    """The staff-time bar as HTML; every interpolated value is escaped (the shares are forced to numbers)."""
    pairs = [(escape(name), float(share)) for name, share in allocation.items()]
    cells = "".join(
        f'<div title="{name}: {share:.0%}" style="width:{100 * share:.2f}%;background:{escape(colour)}"></div>'
        for (name, share), colour in zip(pairs, ALLOCATION_COLOURS, strict=False)
    )
    legend = " · ".join(
        f'<span style="color:{escape(colour)}">■</span> {name} {share:.0%}'
        for (name, share), colour in zip(pairs, ALLOCATION_COLOURS, strict=False)
    )
    return f'<div class="sim-bar">{cells}</div><div class="sim-help">{legend}</div>'


@solara.component
def Inspector(
    model: LiveModel,
    tick: int,
    community: int | None,
    service: int | None,
    on_service: Callable[[int | None], None],
) -> None:
    """Details of the clicked community and, if one is clicked, of one of its services."""
    rows = {r.index: r for r in community_rows(model)}
    if community is None or community not in rows:
        solara.Info("Click a community on the map to see its details here.")
        return
    r = rows[community]
    with solara.Div(classes=["inspector"]):
        Md(
            f"**Community #{r.index + 1}** — deprivation {r.deprivation:.2f} "
            f"(fifth {r.fifth + 1} of 5, 1 = least deprived), {r.residents:,} residents\n\n"
            f"| measure | now |\n|---|---|\n"
            f"| Trust in local services (0-100) | {100 * r.trust:.1f} |\n"
            f"| True outcome | {format_level('true_outcome', r.true_outcome)} |\n"
            f"| Reported outcome | {format_level('reported_outcome', r.reported_outcome)} |\n"
            f"| Pro-social activity | {format_level('prosocial_rate', r.prosocial)} |\n"
            f"| Social capital (0-100) | {100 * r.social_capital:.1f} |\n"
            f"| Took part in the latest forum | {format_level('participation_rate', r.participation)} |"
        )
        solara.Text("Its services (click one):", classes=["sim-help"])
        with solara.Row():
            for s in r.services:
                view = service_view(model, s)
                solara.Button(
                    view.domain.capitalize(),
                    on_click=lambda s=s: on_service(s),
                    outlined=s != service,
                    color="primary",
                    classes=["service-button"],
                )
        if service is not None and service in r.services:
            v = service_view(model, service)
            lines = [
                f"**{md_escape(v.domain.capitalize())} service of community #{v.community + 1}**\n",
                f"- Reported outcome: {format_level('reported_outcome', v.reported_outcome)} of "
                f"{v.cases} cases; true outcome: {format_level('true_outcome', v.true_outcome)}",
                f"- Managers' professional ethos: {v.ethos:.2f} (0 = only incentives matter, 1 = only real outcomes)",
            ]
            if v.target is not None:
                lines.append(
                    f"- National target: {v.target:.0%} of cases" + (" (audited this month)" if v.audited else "")
                )
            if v.objective is not None:
                lines.append(f"- Locally agreed objective: {v.objective:.0%} (forum agreement in force)")
            Md("\n".join(lines))
            solara.Text("How its staff time is split:", classes=["sim-help"])
            solara.HTML(tag="div", unsafe_innerHTML=_allocation_bar(v.allocation))


@solara.component
def LiveController(
    model: solara.Reactive[LiveModel],
    settings: dict[str, Any],
    tick: solara.Reactive[int],
    months_per_step: int,
    speed: int,
) -> None:
    """Reset, Play/Pause and Step for the live model, playing ``speed`` months a second in a thread.

    The page is told of new months at most five times a second (each time the charts get all
    the months so far), so that drawing never holds the model back.
    """
    playing = solara.use_reactive(False)
    stop = solara.use_memo(threading.Event, [])  # Pause and Reset stop the loop at once, whatever it is doing
    m = model.value

    def play(cancelled: threading.Event) -> None:
        if not playing.value:
            return
        pace = 1.0 / max(speed, 1)
        due = last_shown = time.perf_counter()
        while not stop.is_set() and not cancelled.is_set() and m.running:
            with m.lock:
                m.step()
            now = time.perf_counter()
            if now - last_shown >= 0.2:
                tick.set(tick.value + 1)
                last_shown = now
            due = max(due + pace, now - 0.5)  # behind by more than half a second: let it go, do not rush
            if due > now:
                stop.wait(due - now)
        tick.set(tick.value + 1)
        if not m.running:
            playing.set(False)

    # A change of these redraws the controller, which waits for the old loop to end: the stop event
    # (set by Pause and Reset) ends it at once, whatever the loop reads of the page's state.
    solara.use_thread(play, dependencies=[playing.value, id(m), speed], intrusive_cancel=False)

    def start() -> None:
        stop.clear()
        playing.set(True)

    def pause() -> None:
        stop.set()
        playing.set(False)

    def reset() -> None:
        pause()
        model.set(LiveModel(**settings))
        tick.set(tick.value + 1)

    def step() -> None:
        with m.lock:
            for _ in range(months_per_step):
                m.step()
        tick.set(tick.value + 1)

    with solara.Row(style={"flex-wrap": "wrap", "gap": "6px"}):
        solara.Button("Reset", on_click=reset, outlined=True, icon_name="mdi-restart", classes=["live-reset"])
        if playing.value:
            solara.Button("Pause", on_click=pause, color="primary", icon_name="mdi-pause")
        else:
            solara.Button(
                "Play",
                on_click=start,
                color="primary",
                icon_name="mdi-play",
                disabled=not m.running,
            )
        solara.Button("Step", on_click=step, outlined=True, icon_name="mdi-step-forward", disabled=playing.value)


@solara.component
def LiveStatus(model: LiveModel, tick: solara.Reactive[int]) -> None:
    """The month and the regime in force, and a note when the run has ended."""
    _ = tick.value  # redraw with every new month shown
    regime = model.config.regime.name if model.month == 0 else model.regime
    solara.Text(
        f"Month {model.month} of {model.horizon} · {REGIME_TITLES.get(regime, regime)}",
        classes=["sim-status", "live-month"],
    )
    if not model.running:
        solara.Info("The run has reached its last month: press Reset to start again.", dense=True)


@solara.component
def LiveView(
    model: LiveModel,
    tick: solara.Reactive[int],
    color_by: solara.Reactive[str],
    community: solara.Reactive[int | None],
    service: solara.Reactive[int | None],
) -> None:
    """The live tab's right-hand side, the only part redrawn with each new month shown."""
    t = tick.value

    def select(i: int) -> None:
        community.set(i)
        service.set(None)

    with solara.Card("Over time", margin=0):
        LiveCharts(model, t)
    with solara.Card("Communities", margin=0):
        with model.lock:
            CommunityMap(model, t, color_by, community.value, select)
    with solara.Card("Inspector", margin=0):
        with model.lock:
            Inspector(model, t, community.value, service.value, service.set)


@solara.component
def LiveTab() -> None:
    """The live model: levers, Reset/Play/Step, charts, the community map and the inspector."""
    initial = solara.use_memo(lambda: LiveModel(**live_defaults()), [])
    model = solara.use_reactive(initial)
    settings = solara.use_reactive(live_defaults())
    months_per_step = solara.use_reactive(1)
    speed = solara.use_reactive(12)
    tick = solara.use_reactive(0)  # read only by the parts that show the months (LiveStatus, LiveView)
    message = solara.use_reactive(cast(list[str], []))
    color_by = solara.use_reactive("true_outcome")
    community = solara.use_reactive(cast(int | None, None))
    service = solara.use_reactive(cast(int | None, None))
    m = model.value

    def change(name: str, value: Any) -> None:
        new = {**settings.value, name: value}
        problems = live_problems(new, relations=False)
        message.set(problems)
        if not problems:
            settings.set(new)

    pending = settings.value != m.settings
    with solara.ColumnsResponsive(12, medium=[4, 8], classes=["live-tab"]):
        with solara.Column():
            with solara.Card("Run the model", margin=0):
                LiveStatus(m, tick)
                LiveController(model, settings.value, tick, months_per_step.value, speed.value)
                solara.Text("Speed when playing (months a second):", classes=["sim-help"])
                solara.ToggleButtonsSingle(value=speed, values=[2, 6, 12, 24], dense=True)
                solara.Text("Months per step:", classes=["sim-help"])
                solara.ToggleButtonsSingle(value=months_per_step, values=[1, 3, 12], dense=True)
                if pending:
                    solara.Warning("You changed the settings: press Reset to start again with them.", dense=True)
                Messages(m.problems, kind="warning")
                Help(
                    "Each run first settles for two years under no performance management; month 0 is when "
                    "the regime below starts."
                )
            Messages([*message.value, *live_problems(settings.value)])
            with solara.Card("Policy", margin=0):
                LeverPanel(Levers(**{k: settings.value[k] for k in LEVERS}), change)
            with solara.Card("Area", margin=0):
                for name, (lo, hi, step) in LIVE_AREA.items():
                    AreaSlider(name, settings.value[name], lo, hi, step, lambda v, name=name: change(name, v))
                solara.InputInt(AREA_TITLES["seed"], value=settings.value["seed"], on_value=lambda v: change("seed", v))
                Help(help_text("seed", "Concepts"))
        with solara.Column():
            LiveView(m, tick, color_by, community, service)


# ---------------------------------------------------------------------------- proposal tab
@solara.component
def ArmCard(title: str, arm: str, levers: Levers, on_change: Callable[[str, str, Any], None]) -> None:
    """One arm's regime and levers."""
    with solara.Card(title, margin=0, classes=[f"arm-{arm}"]):
        LeverPanel(levers, lambda name, value: on_change(arm, name, value), f"{arm.capitalize()} regime")


@solara.component
def AreaCard(p: Proposal, on_change: Callable[[str, Any], None]) -> None:
    """Population, communities, months, runs and chance events of the comparison."""
    steps = {"n_citizens": 100, "n_communities": 1, "steps": 12, "replications": 1}
    with solara.Card("Area and runs", margin=0):
        for name, step in steps.items():
            lo, hi = LIMITS[name]
            AreaSlider(name, getattr(p, name), lo, hi, step, lambda v, name=name: on_change(name, v))
        Help(help_text("replications", "Levers") + " " + help_text("common_random_numbers", "Concepts"))
        solara.InputInt(AREA_TITLES["seed"], value=p.seed, on_value=lambda v: on_change("seed", v))
        Help(help_text("seed", "Concepts"))


def share_link(p: Proposal) -> str | None:
    """The full link that restores ``p`` (None if its settings are invalid)."""
    try:
        return f"{page_origin()}/?{to_query(p)}"
    except ProposalError:
        return None


@solara.component
def ShareBox(p: Proposal) -> None:
    """The link that restores this proposal, a copy button, and how to reproduce it outside the browser."""
    link = share_link(p)
    if link is None:
        solara.Warning("Fix the settings above to get a link.")
        return
    with solara.Card("Share and reproduce", margin=0):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            CopyLink(link=link)
            solara.Button(
                "Open the link in a new tab", href=link, target="_blank", text=True, icon_name="mdi-open-in-new"
            )
        solara.v.TextField(
            label="Link to these settings and their results",
            v_model=link,
            readonly=True,
            outlined=True,
            dense=True,
            hide_details=True,
            class_="share-link",
        )
        commands = reproduce_commands(p)
        with Fold("For programmers: reproduce in a terminal or in Python", classes=["reproduce-fold"]):
            Md(
                "These commands run the same simulations from the project folder (Hydra overrides, one run "
                "folder per seed under `outputs/`):\n\n"
                f"Baseline:\n\n```bash\n{commands['baseline']}\n```\n\n"
                f"Proposal:\n\n```bash\n{commands['proposal']}\n```\n\n"
                "This Python snippet recomputes every number on this page:\n\n"
                f"```python\n{reproduce_python(p)}```",
                classes=["sim-code", "reproduce-box"],
            )


TABLE_HEADER = ("Measure", "Baseline", "Proposal", "Difference", "95% interval", "Better or worse for residents")


def _row_cells(row: Any) -> list[str]:
    key = row.key
    d = row.difference
    interval = f"{format_change(key, d.low)} to {format_change(key, d.high)}" if d.has_interval else "needs 2+ runs"
    return [
        row.title,
        format_level(key, row.baseline.mean),
        format_level(key, row.proposal.mean),
        format_change(key, d.mean),
        interval,
        verdict(key, d),
    ]


def impact_csv(impact: Impact) -> bytes:
    """The end-of-run table and the effects by deprivation as CSV."""
    import io

    frame = impact.table_frame()
    buf = io.StringIO()
    buf.write(f"# proposal: ?{to_query(impact.proposal)}\n")
    frame.to_csv(buf, index=False)
    buf.write("\nmeasure,deprivation_fifth,difference,ci_low,ci_high\n")
    for key, arms in impact.fifths.items():
        for k, e in enumerate(arms["difference"]):
            buf.write(f"{key},{k + 1},{e.mean},{e.low},{e.high}\n")
    return buf.getvalue().encode()


HEADLINE_KEY = "true_outcome"


@solara.component
def Headline(impact: Impact, stale: bool, origin: str, on_shown: Callable[[], None] | None = None) -> None:
    """The answer first: the difference in the outcome people live with, its interval, and the other main measures."""
    p = impact.proposal
    solara.use_effect(lambda: on_shown() if on_shown else None, [id(impact)])
    row = impact.row(HEADLINE_KEY)
    d = row.difference
    judged = verdict(HEADLINE_KEY, d)
    with solara.Card(margin=0, classes=["impact-headline", "sim-headline"]):
        if stale:
            solara.Warning("You changed the settings since these results: press Run to update them.", dense=True)
        Md(
            f"**{md_escape(p.reform.describe())}** (proposal) against **{md_escape(p.baseline.describe())}** "
            f"(baseline), {md_escape(origin)}"
        )
        solara.Text(
            f"{row.title}: {format_change(HEADLINE_KEY, d.mean)} under the proposal ({judged} for residents)",
            classes=["sim-big", "headline-difference"],
        )
        solara.Text(
            f"{interval_text(HEADLINE_KEY, d).capitalize()}; {format_level(HEADLINE_KEY, row.proposal.mean)} "
            f"against {format_level(HEADLINE_KEY, row.baseline.mean)}, averaged over the last "
            f"{months_text(min(12, p.steps))} of {p.replications} runs of each policy.",
            classes=["sim-help", "headline-interval"],
        )
        lines = ["| Measure | Difference | 95% interval | For residents |", "|---|---|---|---|"]
        for key in ("prosocial_rate", "trust_mean", "gaming_share", "public_cost"):
            r = impact.row(key)
            lines.append(
                f"| {md_escape(r.title)} | {format_change(key, r.difference.mean)} | "
                f"{md_escape(_row_cells(r)[4])} | {verdict(key, r.difference)} |"
            )
        with solara.Div(classes=["impact-table", "sim-scroll", "headline-table"]):
            Md("\n".join(lines))


@solara.component
def LaterChart(impact: Impact, draw: Callable[[Impact], bytes], alt: str) -> None:
    """A chart drawn in the background (in the drawing process: :meth:`sim.app.jobs.JobManager.draw`).

    The numbers show at once and the charts follow; the server's threads stay free meanwhile.
    """
    png = solara.use_reactive(cast(bytes | None, None))

    def render(cancelled: threading.Event) -> None:
        png.set(None)
        data = jobs.manager().draw(draw, impact)  # in the drawing process: the server's threads stay free
        if not cancelled.is_set():
            png.set(data)

    solara.use_thread(render, dependencies=[id(impact)], intrusive_cancel=False)
    if png.value is None:
        solara.Text("Drawing the chart...", classes=["sim-help", "chart-pending"])
        solara.Text(alt, classes=["sim-help"])
    else:
        PngImage(png.value, alt)


@solara.component
def ImpactView(impact: Impact) -> None:
    """The detailed panels of a finished comparison (the headline is shown above the levers)."""
    with solara.Div(classes=["impact-panel"]):
        with solara.Card("In plain words", margin=0, classes=["impact-summary"]):
            TextList(impact.summary)
        with solara.Card("End of run: the last 12 months", margin=0):
            header = "| " + " | ".join(TABLE_HEADER) + " |\n" + "|---" * len(TABLE_HEADER) + "|\n"
            body = "\n".join("| " + " | ".join(md_escape(c) for c in _row_cells(r)) + " |" for r in impact.table)
            with solara.Div(classes=["impact-table", "sim-scroll"]):
                Md(header + body)
            Help(
                "Shares are in %, and their differences in percentage points ('points'); trust, motivation and "
                "social capital on a 0-100 scale; cost in £ per citizen per month. 'Better' or 'worse' is said only "
                "when the interval leaves out zero, in the direction the glossary gives for each measure. "
                + help_text("interval_95", "Concepts")
            )
            solara.FileDownload(
                lambda: impact_csv(impact), filename="proposal-impact.csv", label="Download the numbers (CSV)"
            )
        with solara.Card("Difference over time (proposal minus baseline)", margin=0):
            LaterChart(impact, charts.difference_chart, charts.difference_alt(impact))
        with solara.Card("Both policies over time", margin=0):
            LaterChart(impact, charts.levels_chart, charts.levels_alt(impact))
        with solara.Card("Who gains: effect by community deprivation", margin=0):
            LaterChart(impact, charts.fifths_chart, charts.fifths_alt(impact))
            lines = ["| Deprivation fifth | True outcome | 95% interval |", "|---|---|---|"]
            for k, e in enumerate(impact.fifths["true_outcome"]["difference"]):
                name = {0: "1 (least deprived)", 4: "5 (most deprived)"}.get(k, str(k + 1))
                lines.append(
                    f"| {name} | {format_change('true_outcome', e.mean)} | {interval_text('true_outcome', e)} |"
                )
            with solara.Div(classes=["impact-table", "sim-scroll"]):
                Md("\n".join(lines))
        with solara.Card("Who takes part in local forums", margin=0):
            if impact.forum:
                LaterChart(impact, charts.forum_chart, charts.forum_alt(impact))
            else:
                solara.Info("Neither policy has local forums, so no one takes part in one.")


@dataclass(frozen=True)
class EstimateLine:
    """The time estimate next to the Run button: its words, its parts (on hover) and its drawing seconds."""

    text: str
    details: str
    drawing: str


@dataclass(frozen=True, eq=False)  # equal only to itself: comparing two impacts' arrays is costly and moot
class Answer:
    """The comparison the page shows: one value, so that a finished job redraws the page once.

    Attributes:
        impact: the analysed runs.
        from_cache: they came from earlier runs of the same settings.
        seconds: the job's seconds in the server (None if it did not run here).
        token: how many answers came from Run in this page: the browser scrolls to each new one
            and then says that it is on screen.

    """

    impact: Impact
    from_cache: bool = False
    seconds: float | None = None
    token: int = 0


@solara.component
def ProposalTab(link: LinkState) -> None:
    """Choose a baseline and a proposal, run them in the background, and show the answer first."""
    start = without_inert_levers(link.proposal) if link.proposal is not None else Proposal()
    draft = solara.use_reactive(start)
    initial_impact = solara.use_memo(lambda: cached_impact(start if link.proposal is not None else None), [])
    # Made once: use_reactive resets its state to any new value passed, and Answers equal only themselves.
    initial = solara.use_memo(
        lambda: Answer(initial_impact, from_cache=True) if initial_impact is not None else None, []
    )
    answer = solara.use_reactive(initial)
    job = solara.use_reactive(cast(jobs.Job | None, None))
    progress = solara.use_reactive(0)
    errors = solara.use_reactive(cast(list[str], []))
    done_at = solara.use_ref(cast(float | None, None))  # when the job awaited ended (perf_counter)
    drawn_at = solara.use_ref(cast(float | None, None))  # when the server had drawn its answer
    submitted = solara.use_ref(0.0)
    built = solara.use_ref(False)  # whether this page has been drawn once (built whole)
    throughput = jobs.manager().throughput
    # Until the server knows how long drawing takes, a new page redraws itself once to measure it (1)
    # and once more to show its estimate with it (2): twice in the server's life.
    measuring_draw, set_measuring_draw = solara.use_state(0)  # state, not a reactive: read only by the effect
    render_start = time.perf_counter()
    p = draft.value

    def measure_redraw() -> None:
        # Showing a result redraws this tab; until a result has been shown, a redraw's time stands for
        # it. The first drawing of the page builds it whole (seconds while the server starts): not a redraw.
        now = time.perf_counter()
        if not built.current:
            built.current = True
            if not throughput.drawing_known:
                set_measuring_draw(1)
            return
        throughput.record_redraw(now - render_start)
        if measuring_draw == 1:
            set_measuring_draw(2)

    solara.use_effect(measure_redraw)  # after every redraw

    calibrated = solara.use_reactive(throughput.measured)

    def await_calibration(cancelled: threading.Event) -> None:
        # The estimate line says "measuring..." until the server has measured its speed: redraw it then.
        while not calibrated.value and not cancelled.is_set():
            if jobs.manager().calibrated.wait(0.5):
                calibrated.set(True)

    solara.use_thread(await_calibration, dependencies=[], intrusive_cancel=False)

    def shown() -> None:
        # The server has drawn the answer (the browser has yet to show it, on_screen): until a browser
        # has reported an answer on screen, this stands for it.
        if done_at.current is not None:
            drawn_at.current = time.perf_counter()
            throughput.record_redraw(drawn_at.current - done_at.current)

    def on_screen(report: Any = None) -> None:
        # Seconds from the end of the job to the answer on the user's screen: the server's part (to
        # drawn_at) and the browser's, as it reports it (its own clock; the report's trip back is not
        # counted, as it can wait behind the server's other work). Part of later estimates. An answer
        # that was ready before the browser had built the page (a shared link's) took the page's
        # building too, which pressing Run never does: not counted.
        report = report if isinstance(report, dict) else {}
        if done_at.current is not None and not report.get("building"):
            server = (drawn_at.current or time.perf_counter()) - done_at.current
            throughput.record_draw(server + browser_seconds(report.get("browser_seconds")))
        done_at.current = drawn_at.current = None

    def apply(candidate: Proposal) -> None:
        messages = check_values(candidate)  # settings valid alone; check_relations is shown below
        errors.set(messages)
        if not messages:
            draft.set(without_inert_levers(candidate))

    def change_area(name: str, value: Any) -> None:
        apply(dataclasses.replace(draft.value, **{name: value}))

    def change_lever(arm: str, name: str, value: Any) -> None:
        field_name = "baseline" if arm == "baseline" else "reform"
        levers = dataclasses.replace(getattr(draft.value, field_name), **{name: value})
        apply(dataclasses.replace(draft.value, **{field_name: levers}))

    def run() -> None:
        current = job.value
        if current is not None and current.active:
            current.cancel()
        submitted.current = time.perf_counter()
        done_at.current = drawn_at.current = None
        try:
            new = jobs.submit(draft.value)
        except ProposalError as exc:
            errors.set(exc.messages)
            return
        except jobs.Busy as exc:
            errors.set([str(exc)])
            return
        errors.set([])
        progress.set(new.done)
        job.set(new)

    def run_shared_link() -> None:
        # A shared link opens on its results: run it at once if they are not in the cache.
        if link.proposal is not None and initial_impact is None and not check_relations(draft.value):
            run()

    solara.use_effect(run_shared_link, [])

    watched = job.value  # the job of this drawing: the thread may start after a later one (run_shared_link)

    def watch(cancelled: threading.Event) -> None:
        current = watched
        if current is None:
            return
        while not current.wait(0.25):
            if cancelled.is_set():
                return
            if progress.value != current.done:
                progress.set(current.done)
        if current.status == "done" and current.impact is not None:
            if not current.from_cache:  # from pressing Run, less the job: the headline's effect measures it
                done_at.current = submitted.current + current.seconds
            previous = answer.value.token if answer.value is not None else 0
            # One change of state, so one redraw shows the answer (each change redraws the whole tab).
            answer.set(Answer(current.impact, current.from_cache, current.seconds, previous + 1))
            return
        progress.set(current.done)
        if current.status == "failed":
            errors.set([current.message or "The runs failed."])

    solara.use_thread(watch, dependencies=[job.value.id if job.value else None], intrusive_cancel=False)

    def cancel_on_close() -> Callable[[], None]:
        def cleanup() -> None:
            if job.value is not None:
                job.value.cancel()

        return cleanup

    solara.use_effect(cancel_on_close, [])

    with solara.Div(classes=["proposal-tab"]):
        # Here, so that the panels redraw when it changes (after calibration, with a drawing time).
        estimate = EstimateLine(time_estimate(p), estimate_details(p), f"{throughput.draw:.3f}")
        ProposalPanels(p, estimate, errors, job, progress, answer.value, change_lever, change_area, run, shown)
        try:
            query = "" if p == Proposal() else to_query(p)  # the standard proposal keeps a clean address
        except ProposalError:
            query = ""
        token = answer.value.token if answer.value is not None else 0
        AddressBar(query=query, scroll_token=token, scroll_target=".impact-headline", event_shown=on_screen)


@solara.component
def ProposalPanels(
    p: Proposal,
    estimate: EstimateLine,
    errors: solara.Reactive[list[str]],
    job: solara.Reactive[jobs.Job | None],
    progress: solara.Reactive[int],
    answer: Answer | None,
    change_lever: Callable[[str, str, Any], None],
    change_area: Callable[[str, Any], None],
    run: Callable[[], None],
    shown: Callable[[], None],
) -> None:
    """The proposal tab's panels (its state lives in :func:`ProposalTab`): the run and the answer, then the levers."""
    solara.Text(
        "Set what happens now (baseline) and what you want to try (proposal), then press Run: the answer appears here.",
        classes=["sim-instruction"],
    )
    relation_errors = check_relations(p)
    Messages([*errors.value, *relation_errors])
    running = job.value is not None and job.value.active
    with solara.Row(style={"align-items": "center", "gap": "12px", "flex-wrap": "wrap"}):
        solara.Button(
            "Run the comparison",
            on_click=run,
            color="primary",
            disabled=running or bool(relation_errors),
            icon_name="mdi-play",
            classes=["run-proposal"],
        )
        if running:
            solara.Button("Cancel", on_click=lambda: job.value.cancel() if job.value else None, outlined=True)
        # The estimate's parts on hover (title), and its drawing part for tests and benchmarks (data-drawing).
        solara.v.Html(
            tag="span",
            children=[f"{p.replications} runs of each policy, {estimate.text}."],
            class_="sim-help time-estimate",
            attributes={"title": estimate.details, "data-drawing": estimate.drawing},
        )
    # The parts shown or not (progress, answer) have keys: children without keys are matched by
    # their place, so the progress bar's coming and going would rebuild every part after it (the
    # levers, the answer and its charts, drawn again) each time Run is pressed and each time it ends.
    if job.value is not None and (running or job.value.status == "cancelled"):
        current = job.value
        with solara.Div(classes=["proposal-progress"]).key("progress"):
            solara.ProgressLinear(100 * progress.value / max(current.total, 1))
            status = "cancelled" if current.status == "cancelled" else "running in the background"
            solara.Text(
                f"{progress.value} of {current.total} runs done ({status}). You can keep using the page.",
                classes=["sim-help", "progress-text"],
            )
    if answer is not None:  # the answer first, above the levers; the details below them
        origin = (
            "from earlier runs of these settings"
            if answer.from_cache
            else (f"run in {answer.seconds:.0f} s" if answer.seconds else "")
        )
        Headline(answer.impact, answer.impact.proposal != p, origin, shown).key("headline")
    with solara.ColumnsResponsive(12, medium=6, large=4).key("settings"):
        ArmCard("Baseline: what happens now", "baseline", p.baseline, change_lever)
        ArmCard("Proposal: what you want to test", "proposal", p.reform, change_lever)
        AreaCard(p, change_area)
    if answer is not None:
        ImpactView(answer.impact).key("details")
    ShareBox(p).key("share")


# ---------------------------------------------------------------------------- explain tab
@solara.component
def ExplainTab() -> None:
    """The glossary: what each regime, lever and measure means."""
    g = load_glossary()
    Md(
        "## What the words mean\n\n"
        "This explorer runs an **agent-based model**: thousands of simulated citizens, public services and "
        "communities, each following simple rules, month by month. You choose how the area is governed; the "
        "model shows what follows for volunteering and caring, for the gaming of targets, for trust, and for "
        "the outcomes people actually live with. The same text is in `docs/glossary.md`."
    )
    titles = {
        "Regimes": "The four ways of governing (regimes)",
        "Levers": "The levers",
        "Measures": "The measures",
        "Concepts": "How to read the results",
    }
    for section in ("Regimes", "Levers", "Measures", "Concepts"):
        entries = g.entries(section)
        with solara.Card(titles[section], margin=0, classes=[f"glossary-{section.lower()}"]):
            text = "\n\n".join(f"**{e.title}**: {' '.join(e.text.split())}" for e in entries)
            Md(text)


# ---------------------------------------------------------------------------- page
@solara.component
def Page() -> None:
    """The explorer: live model, proposal test, and explanations."""
    router = solara.use_router()
    search = router.search
    link = solara.use_memo(lambda: read_link(search), [search])
    tab = solara.use_reactive(0)  # the question first: "Test a proposal"
    solara.Style(CSS)
    solara.Title("Proposal explorer")
    with solara.AppBar():
        solara.AppBarTitle("Social productivity: proposal explorer")
    with solara.Column(style={"padding": "8px 16px"}):
        if link.errors:
            with solara.Div(classes=["link-error"]):
                Messages(
                    [
                        "This link could not be used, so the standard proposal is shown instead:",
                        *link.errors,
                    ]
                )
        elif link.proposal is not None:
            with solara.Div(classes=["link-restored"]):
                Messages(["Settings restored from the link.", *link.notes], kind="info")
        with solara.lab.Tabs(value=tab, lazy=False):
            with solara.lab.Tab("Test a proposal", icon_name="mdi-scale-balance"), Guard("proposal"):
                ProposalTab(link)
            with solara.lab.Tab("Live model", icon_name="mdi-play-circle-outline"), Guard("live model"):
                LiveTab()
            with solara.lab.Tab("Explain", icon_name="mdi-book-open-variant"), Guard("explanations"):
                ExplainTab()

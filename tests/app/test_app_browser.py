"""The proposal explorer in a real browser: Debian's Chromium driven by Playwright.

The server runs as a user starts it (``python -m sim app``) on a free loopback port, with an
empty home folder and working folder so that any file it writes outside its cache folder shows.
Screenshots go to ``test-artifacts/app/``. Without Chromium at /usr/bin/chromium these tests
fail (they do not skip): ``apt-get install -y chromium`` (``.ci/run`` does it).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.xdist_group("app-browser")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "app"
VIEWPORT = {"width": 1400, "height": 2400}
START_TIMEOUT = 120.0
UI_TIMEOUT = 90_000  # ms, for page loads and renders on a busy 2-core machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 10.0) -> int:
    """Status code of a GET (HTTP errors included), or -1 if the server did not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return -1


class Server:
    """``python -m sim app`` in a subprocess with its own home, working and cache folders."""

    def __init__(self, root: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.home, self.cwd, self.cache = root / "home", root / "cwd", root / "cache"
        for folder in (self.home, self.cwd, self.cache):
            folder.mkdir()
        self.log_path = root / "server.log"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SOLARA_", "SIM_APP_", "MPL", "IPYTHON", "JUPYTER"))
        }
        env.update(
            HOME=str(self.home),
            SIM_APP_CACHE=str(self.cache),
            SIM_APP_WORKERS="2",
            XDG_CACHE_HOME=str(self.home / ".cache"),
        )
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "app", "--port", str(self.port), *args],
            cwd=self.cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown ends the pool's workers too
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the app server exited with code {self.proc.returncode}:\n{self.log()}")
            if http_get(self.url + "/", timeout=5) == 200:
                return
            time.sleep(0.5)
        pytest.fail(f"the app server did not answer within {START_TIMEOUT:.0f} s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # any worker left behind
        self._log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("app-server"))
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"Debian's Chromium is not installed at {CHROMIUM}; the browser test needs it. "
            "Install it with: apt-get update && apt-get install -y chromium  (.ci/run does this)"
        )
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=UI_TIMEOUT)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(UI_TIMEOUT)
    page.goto(url)
    page.wait_for_selector(".proposal-tab .run-proposal")
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def slider(page: Any, scope: str, name: str) -> Any:
    return page.locator(f"{scope} .{name} [role=slider]").first


def wait_text(page: Any, selector: str, pattern: str) -> str:
    """Wait until the element's text matches ``pattern``; return the text."""
    locator = page.locator(selector).first
    deadline = time.monotonic() + UI_TIMEOUT / 1000
    text = ""
    while time.monotonic() < deadline:
        text = locator.inner_text() if locator.count() else ""
        if re.search(pattern, text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{selector}: {pattern!r} not found in {text!r}")


# ---------------------------------------------------------------------------- tests
def test_live_model_slider_step_and_inspect(server: Server, browser: Any) -> None:
    page = open_page(browser, server.url + "/")
    page.get_by_role("tab", name="Live model").click()
    page.wait_for_selector("text=Run the model")
    shot(page, "01-live-start")
    live = ".live-tab"
    label = page.locator(f"{live} .lever-target_level .sim-label")
    assert "70% of cases" in label.inner_text()
    slider(page, live, "lever-target_level").press("ArrowRight")  # move a slider by one step
    wait_text(page, f"{live} .lever-target_level .sim-label", r"71% of cases")
    wait_text(page, live, r"press Reset to start again with them")
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_text(page, ".live-month", r"Month 0 of 120")
    for _ in range(3):
        page.get_by_role("button", name="Step", exact=True).click()
    wait_text(page, ".live-month", r"Month 3 of 120")
    # The slowest speed (2 months a second): the run lasts a minute, so Pause finds it playing
    # however slow a loaded machine is to click.
    page.locator(live).get_by_role("button", name="2", exact=True).click()
    page.get_by_role("button", name="Play", exact=True).click()  # play ...
    wait_text(page, ".live-month", r"Month ([5-9]|\d\d+) of 120")
    page.get_by_role("button", name="Pause", exact=True).click()  # ... and pause
    # The month shown lags the model by up to one redraw (five a second): read it only once the
    # server has taken the pause (the Play button is back) and the last month has been drawn.
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=UI_TIMEOUT)
    time.sleep(0.5)
    playing_stopped_at = wait_text(page, ".live-month", r"Month \d+ of 120")
    page.locator(f"{live} .community-tile").nth(2).click()
    wait_text(page, ".inspector", r"Community #\d+")
    page.locator(".service-button").first.click()
    wait_text(page, ".inspector", r"service of community #\d+")
    wait_text(page, ".inspector", r"How its staff time is split")
    shot(page, "02-live-stepped-and-inspected")
    month = int(re.search(r"Month (\d+)", playing_stopped_at).group(1))
    time.sleep(1.5)
    assert int(re.search(r"Month (\d+)", page.locator(".live-month").inner_text()).group(1)) == month  # paused
    page.close()


def set_tiny(page: Any) -> None:
    """Smallest area and runs through the sliders (Home = minimum), then 2 runs."""
    scope = ".proposal-tab"
    for name in ("area-n_communities", "area-n_citizens", "area-steps", "area-replications"):
        slider(page, scope, name).press("Home")
    slider(page, scope, "area-replications").press("ArrowRight")
    wait_text(page, f"{scope} .area-replications .sim-label", r"Runs of each policy: 2$")
    wait_text(page, f"{scope} .area-n_citizens .sim-label", r": 100$")
    wait_text(page, f"{scope} .area-steps .sim-label", r": 12 months \(1 year\)$")


def run_and_wait(page: Any) -> float:
    start = time.monotonic()
    page.get_by_role("button", name="Run the comparison").click()
    page.wait_for_selector(".impact-table", timeout=UI_TIMEOUT)
    return time.monotonic() - start


def test_small_proposal_impact_and_shared_link(server: Server, browser: Any) -> None:
    page = open_page(browser, server.url + "/")
    page.get_by_role("tab", name="Test a proposal").click()
    set_tiny(page)
    run_and_wait(page)
    table = page.locator(".impact-panel .impact-table").first.inner_text()
    assert re.search(r"Pro-social activity\s+\d+\.\d%\s+\d+\.\d%\s+[+-]\d+\.\d points", table), table
    assert re.search(r"[+-]\d+\.\d points to [+-]\d+\.\d points", table), table  # a 95% interval
    summary = page.locator(".impact-summary").inner_text()
    assert "Pro-social activity" in summary and re.search(r"\d+\.\d%", summary)
    shot(page, "03-proposal-small-results")

    link = page.locator(".share-link input").input_value()
    assert link.startswith(server.url + "/?") and "citizens=100" in link
    reproduce = page.locator(".proposal-tab").inner_text()
    assert "reproduce in a terminal or in Python" in reproduce
    page.close()

    fresh = browser.new_context(viewport=VIEWPORT)  # a colleague's browser: no shared state
    other = fresh.new_page()
    other.set_default_timeout(UI_TIMEOUT)
    other.goto(link)
    other.wait_for_selector(".link-restored")
    assert "Settings restored from the link" in other.locator(".link-restored").inner_text()
    scope = ".proposal-tab"
    assert other.locator(f"{scope} .area-n_citizens .sim-label").inner_text().endswith(": 100")
    assert other.locator(f"{scope} .area-replications .sim-label").inner_text().endswith(": 2")
    assert other.locator(f"{scope} .area-steps .sim-label").inner_text().endswith(": 12 months (1 year)")
    assert "Negotiated outcomes" in other.locator(f"{scope} .arm-proposal").inner_text()
    assert "50%" in other.locator(f"{scope} .arm-proposal .lever-participation_support").inner_text()
    other.wait_for_selector(".impact-table")  # its results come from the cache at once
    assert other.locator(".share-link input").input_value() == link
    shot(other, "04-shared-link-restored")

    pairs = dict(parse_qsl(link.split("?", 1)[1]))
    pairs["runs"] = "3"  # tampered: the check code no longer matches
    other.goto(server.url + "/?" + urlencode(pairs))
    other.wait_for_selector(".link-error")
    assert "changed after it was made" in other.locator(".link-error").inner_text()
    shot(other, "05-tampered-link")
    fresh.close()


def test_pressing_run_rebuilds_nothing_and_the_answers_drawing_is_measured(server: Server, browser: Any) -> None:
    """While a comparison runs, the levers and the last answer with its charts stay as they were (not rebuilt
    nor drawn again); and the browser's report of an answer on screen reaches the time estimate."""
    page = open_page(browser, server.url + "/")
    set_tiny(page)
    seed = page.locator(".proposal-tab").get_by_label("Chance events (number)")
    seed.fill("4242")  # not run by another test: no answer from the cache, so its drawing is measured
    seed.press("Enter")
    wait_text(page, ".time-estimate", r"expected to take")  # the server has measured its speed
    run_and_wait(page)
    page.wait_for_function(  # every chart drawn
        "document.querySelectorAll('.chart-pending').length === 0"
        " && document.querySelectorAll('.impact-panel img.sim-chart').length >= 3"
    )
    estimate = page.locator(".time-estimate")
    deadline = time.monotonic() + UI_TIMEOUT / 1000
    while "as browsers reported it" not in (estimate.get_attribute("title") or "") and time.monotonic() < deadline:
        seed.fill(str(int(seed.input_value()) + 1))  # redraw the estimate line with what the server learnt
        seed.press("Enter")
        time.sleep(0.5)
    assert "as browsers reported it" in (estimate.get_attribute("title") or ""), estimate.get_attribute("title")
    assert float(estimate.get_attribute("data-drawing") or 0) > 0

    kept = ".impact-panel img.sim-chart, .impact-headline, .proposal-tab .arm-baseline, .proposal-tab .share-link"
    marked = page.evaluate(f"[...document.querySelectorAll({kept!r})].map(e => e.dataset.kept = '1').length")
    slider(page, ".proposal-tab", "area-n_citizens").press("End")  # 20,000 citizens: runs that last
    wait_text(page, ".proposal-tab .area-n_citizens .sim-label", r": 20,000$")
    page.get_by_role("button", name="Run the comparison").click()
    wait_text(page, ".progress-text", r"running in the background")
    assert page.evaluate("document.querySelectorAll('[data-kept]').length") == marked  # the same elements
    assert page.locator(".chart-pending").count() == 0  # no chart drawn again
    page.get_by_role("button", name="Cancel").click()
    wait_text(page, ".progress-text", r"cancelled")
    assert page.evaluate("document.querySelectorAll('[data-kept]').length") == marked
    page.close()


def test_full_proposal_returns_with_progress_shown(server: Server, browser: Any) -> None:
    """The acceptance case: 5 seeds x 2,000 citizens x 120 months, both arms, with progress shown.

    Its duration is recorded in test-artifacts/ but not asserted: machines here are shared and
    noisy, so speed is measured by the benchmark (docs/performance.md), never by a test.
    """
    page = open_page(browser, server.url + "/")
    page.get_by_role("tab", name="Test a proposal").click()
    scope = ".proposal-tab"
    assert page.locator(f"{scope} .area-n_citizens .sim-label").inner_text().endswith(": 2,000")
    assert page.locator(f"{scope} .area-replications .sim-label").inner_text().endswith(": 5")
    assert page.locator(f"{scope} .area-steps .sim-label").inner_text().endswith(": 120 months (10 years)")
    start = time.monotonic()
    page.get_by_role("button", name="Run the comparison").click()
    progress = wait_text(page, ".progress-text", r"\d+ of 10 runs done")
    page.get_by_role("tab", name="Explain").click()  # the page stays usable while it runs
    page.wait_for_selector(".glossary-measures")
    page.get_by_role("tab", name="Test a proposal").click()
    page.wait_for_selector(".impact-table", timeout=300_000)
    seconds = time.monotonic() - start
    shot(page, "06-proposal-full-results")
    (ARTIFACTS / "full-proposal-seconds.txt").write_text(f"{seconds:.2f}\n")
    assert "of 10 runs done" in progress
    assert page.locator(".impact-table tr").count() >= 2  # a header and at least one measure
    page.close()


BAD_LINKS: list[tuple[str, str]] = [
    ("citizens=50&runs=2", "Population (citizens) = 50 is outside the allowed range 100 to 20,000"),
    ("citizens=999999999", "is outside the allowed range 100 to 20,000"),
    ("months=forever", "'forever' is not a whole number"),
    ("runs=1000", "Runs of each policy = 1,000 is outside the allowed range 1 to 10"),
    ("proposal=anarchy", "'anarchy' is not a regime"),
    ("proposal.target_level=NaN", "is not a finite number"),
    ("baseline.audit_rate=-0.5", "Audit rate = -0.5 is outside the allowed range 0 to 1"),
    ("proposal.payment_per_hour=1e308", "is outside the allowed range 0 to 50"),
    ("drop=table&x=%00", "Unknown settings 'drop', 'x'"),
    ("%E0%A4%A", "could not be read"),
    ("seed=" + "9" * 300, "is too long"),
]


def test_bad_links_get_a_clear_message_and_the_server_keeps_serving(server: Server, browser: Any) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(UI_TIMEOUT)
    for i, (query, fragment) in enumerate(BAD_LINKS):
        page.goto(f"{server.url}/?{query}")
        page.wait_for_selector(".link-error")
        text = page.locator(".link-error").inner_text()
        assert fragment in text, (query, text)
        assert "Traceback (most recent call last)" not in page.content()
        if i == 0:
            shot(page, "07-bad-link")
    page.close()
    # Garbage at the HTTP level: never a server error, and the server answers afterwards.
    for path in ("/?" + "a" * 20000, "/%ff%fe", "/?x=%", "/../../etc/passwd", "/_solara/cdn/../../secret"):
        status = http_get(server.url + path)
        assert status != -1 and status < 500, (path, status)
    assert server.proc.poll() is None
    page = open_page(browser, server.url + "/")
    page.get_by_role("tab", name="Live model").click()
    assert page.locator(".live-month").inner_text().startswith("Month 0")
    page.close()


def test_the_server_writes_only_in_its_cache_folder(server: Server, browser: Any) -> None:
    page = open_page(browser, server.url + "/")  # at least one full page load and render
    page.close()
    written = [p for p in server.home.rglob("*")] + [p for p in server.cwd.rglob("*")]
    assert written == [], written
    assert any(server.cache.rglob("*.json")), "the proposals' results were not cached"


# ---------------------------------------------------------------------------- a trust member's task
DESKTOP = {"width": 1366, "height": 768}
TABS = ("Test a proposal", "Live model", "Explain")
FOLDS = {"Test a proposal": (".arm-baseline", ".arm-proposal"), "Live model": (".live-tab",), "Explain": ()}
# Every string the page can show a reader: its text (hidden tabs included), and the attributes
# read out by screen readers or shown on hover. Only the fold for programmers is left out.
PAGE_TEXT_JS = """
() => {
  const out = [];
  const skip = el => el.closest('script, style, .reproduce-fold');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!skip(node.parentElement) && node.textContent.trim()) out.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('[alt], [aria-label], [title], [aria-valuetext], [placeholder]')) {
    if (skip(el)) continue;
    for (const a of ['alt', 'aria-label', 'title', 'aria-valuetext', 'placeholder']) {
      if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
  }
  return out;
}
"""
PHONE = {"width": 390, "height": 844}


def pick_regime(page: Any, arm: str, title: str) -> None:
    """Choose a regime in one arm's drop-down, as a user does (open it, click the option)."""
    page.locator(f".proposal-tab .arm-{arm} .v-select").first.click()
    page.locator(".menuable__content__active").get_by_role("option", name=title, exact=True).click()
    wait_text(page, f".proposal-tab .arm-{arm}", "do nothing under " + re.escape(title))  # the server redrew it


def in_viewport(page: Any, selector: str) -> bool:
    """Whether the element is wholly inside the window as it is now (no scrolling)."""
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0


def headline(page: Any) -> tuple[str, str]:
    return (
        page.locator(".headline-difference").first.inner_text(),
        page.locator(".headline-interval").first.inner_text(),
    )


def audit_every_tab(page: Any) -> None:
    """No serious or critical axe-core violation on any tab, and no jargon anywhere on the page.

    Each tab is visited (its folds opened, as a user would) before the page's text is read, since
    a tab's content is drawn when it is first shown.
    """
    from axe_playwright_python.sync_playwright import Axe

    from tests.app.test_explorer import banned_in

    axe = Axe()
    report = []
    for tab in TABS:
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(800)  # the tabs' transition
        for scope in FOLDS[tab]:
            button = page.locator(f"{scope} .inert-levers .sim-fold-button").first
            if button.get_attribute("aria-expanded") == "false":
                button.click()
            page.wait_for_selector(f"{scope} .inert-levers .sim-folded")
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        report.append(f"{tab}: {len(results.response['violations'])} violations, {len(serious)} serious or critical")
        assert serious == [], (tab, [(v["id"], v["nodes"][0]["target"], v["help"]) for v in serious])
    (ARTIFACTS / "axe-audit.txt").write_text("\n".join(report) + "\n")
    texts = page.evaluate(PAGE_TEXT_JS)
    joined = " ".join(texts)
    for seen in ("Month 0 of", "What the words mean", "True outcome:"):  # all three tabs were read
        assert seen in joined, seen
    found = {t: banned_in(t) for t in texts if banned_in(t)}
    assert found == {}, found
    page.get_by_role("tab", name="Test a proposal").click()
    page.wait_for_timeout(800)


def test_trust_member_tests_a_proposal_and_shares_it(server: Server, browser: Any) -> None:
    """The issue's acceptance: pick, run, read the answer above the fold, copy the link, open it elsewhere."""
    print(f"\nscreenshots: {ARTIFACTS}")
    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT)
    page.goto(server.url + "/")
    page.wait_for_selector(".proposal-tab .run-proposal")
    # The question first: its tab is open and says what to do.
    assert page.get_by_role("tab", name="Test a proposal").get_attribute("aria-selected") == "true"
    assert "then press Run" in page.locator(".sim-instruction").inner_text()
    assert page.url.rstrip("/") == server.url  # the standard proposal keeps a clean address

    pick_regime(page, "baseline", "National targets")
    pick_regime(page, "proposal", "Guaranteed functioning only")
    pick_regime(page, "proposal", "Negotiated outcomes")
    # Only levers that act are shown: the national target does nothing under negotiated outcomes.
    proposal_card = page.locator(".proposal-tab .arm-proposal")
    assert proposal_card.locator(".lever-target_level").count() == 0
    assert "levers do nothing under Negotiated outcomes" in proposal_card.inner_text()
    assert page.locator(".proposal-tab .arm-baseline .lever-target_level").count() == 1
    slider(page, ".proposal-tab .arm-proposal", "lever-participation_support").press("ArrowRight")
    wait_text(page, ".proposal-tab .arm-proposal .lever-participation_support .sim-label", r"55%")
    set_tiny(page)
    # The address bar follows the settings, and carries only what differs from the standard proposal.
    deadline = time.monotonic() + 20
    while "participation_support=0.55" not in page.url and time.monotonic() < deadline:
        time.sleep(0.2)
    query = dict(parse_qsl(page.url.split("?", 1)[1]))
    assert query["proposal.participation_support"] == "0.55" and query["citizens"] == "100", page.url
    assert not any(k.endswith(("target_level", "audit_rate", "ratchet")) for k in query), page.url
    assert len(page.url) < 200, page.url

    # The estimate line redraws by itself once the server has measured its speed (no reload), and
    # reads as an estimate with its range in plain words.
    estimate_text = wait_text(
        page, ".proposal-tab .time-estimate", r"expected to take about \d+(\.\d+)? (second|minute)s?( \(.+\))?\.$"
    )
    start = time.monotonic()
    page.get_by_role("button", name="Run the comparison").click()
    page.wait_for_selector(".headline-difference", timeout=UI_TIMEOUT)
    seconds = time.monotonic() - start
    # Recorded, not asserted: on shared, loaded cores the same run's time varies by more than the
    # factor of 1.5 the estimate aims at (the job's part is asserted in test_explorer.py).
    job_line = page.locator(".impact-headline .sim-md").first.inner_text()
    (ARTIFACTS / "trust-member-run.txt").write_text(
        f"estimate: {estimate_text}\nreal, click to answer on screen: {seconds:.1f} s\nheadline: {job_line}\n"
    )
    difference, interval = headline(page)
    assert re.search(r"True outcome: [+-]\d+\.\d points under the proposal", difference), difference
    assert re.search(r"95% interval [+-]\d+\.\d points to [+-]\d+\.\d points", interval), interval
    page.wait_for_timeout(1500)  # the page scrolls to the answer when the run ends
    assert in_viewport(page, ".headline-difference") and in_viewport(page, ".headline-interval")
    shot(page, "10-trust-member-1366x768")

    audit_every_tab(page)

    page.get_by_role("button", name="Copy the link to these settings").click()
    wait_text(page, ".sim-copy-status", r"Link copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator(".share-link input").input_value() == page.url, (copied, page.url)

    page.reload()  # a reload keeps everything, results included
    page.wait_for_selector(".headline-difference")
    assert headline(page) == (difference, interval)
    assert "55%" in page.locator(".proposal-tab .arm-proposal .lever-participation_support .sim-label").inner_text()
    context.close()

    for name, viewport in (("11-shared-link-1366x768", DESKTOP), ("12-shared-link-390x844", PHONE)):
        fresh = browser.new_context(viewport=viewport)  # a colleague's browser: nothing shared but the link
        other = fresh.new_page()
        other.set_default_timeout(UI_TIMEOUT)
        other.goto(copied)
        other.wait_for_selector(".headline-difference")  # straight on its results, no Run pressed
        assert headline(other) == (difference, interval)
        if viewport is DESKTOP:
            assert in_viewport(other, ".headline-difference") and in_viewport(other, ".headline-interval")
        else:  # the layout fits a phone: nothing wider than the screen
            width = other.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"] + 1, width
        shot(other, name)
        fresh.close()

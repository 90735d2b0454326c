"""The proposal explorer's safety against a hostile link, a foreign Host header and a stop signal.

Everything here runs the real server (``python -m sim app`` as a subprocess on a loopback port)
and, for the page, Debian's Chromium driven by Playwright, as ``test_app_browser.py`` does.

- The injection suite loads links carrying the payloads of ``xss_payloads.txt`` (vectors from
  the OWASP XSS Filter Evasion Cheat Sheet) in every link key and every link value, and types
  them into every text and number field. It asserts that no script runs (no dialog opens and
  the sentinel global ``window.__xss`` that the payloads set stays undefined), that no element
  of a payload reaches the page, and that each bad value is shown as plain text.
- A request whose ``Host`` header names another machine is refused (DNS rebinding).
- SIGTERM (``kill``) and SIGINT (Ctrl+C, sent to the whole process group as a terminal does)
  stop the server with one line and leave none of its child processes behind.
"""

from __future__ import annotations

import http.client
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import pytest

from sim.app.proposal import AREA_TITLES, MAX_QUERY_CHARS, MAX_VALUE_CHARS, form_keys
from tests.app.test_app_browser import VIEWPORT, Server, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.xdist_group("app-browser")

PAYLOADS_FILE = Path(__file__).with_name("xss_payloads.txt")
UI_TIMEOUT = 90_000
PARALLEL_PAGES = 3
SETTLE_MS = 600  # time for an injected <img onerror> or <svg onload> to fire before the page is checked


def load_payloads() -> list[str]:
    lines = PAYLOADS_FILE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("# ") and line != "#"]


PAYLOADS = load_payloads()
VALUE_KEYS = [k for k in form_keys() if k not in ("v", "check")]

# What the page may hold by itself; anything a payload could add beyond it is an injection.
# Elements that may never appear (the app has none) and attributes that may never appear.
FORBIDDEN_TAGS = ["iframe", "frame", "frameset", "object", "embed", "base", "marquee", "details", "video", "math"]
PAGE_CHECK_JS = """
(forbidden) => {
  const out = {};
  out.sentinel = typeof window.__xss;
  out.forbidden = forbidden.map(t => [t, document.getElementsByTagName(t).length]).filter(x => x[1] > 0);
  out.scripts = document.getElementsByTagName('script').length;
  out.styles = document.getElementsByTagName('style').length;
  out.links = document.getElementsByTagName('link').length;
  out.metas = document.getElementsByTagName('meta').length;
  out.svgs = document.getElementsByTagName('svg').length;
  // The app's own images are Solara's charts: class solara-image, a PNG as a data: or same-origin blob: URL.
  const own = i => i.classList.contains('solara-image') &&
    ((i.getAttribute('src') || '').startsWith('data:image/png') ||
     (i.getAttribute('src') || '').startsWith('blob:' + location.origin + '/'));
  out.payload_imgs = Array.from(document.images).filter(i => !own(i)).map(i => i.outerHTML);
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const v = (a.value || '').replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (a.name.toLowerCase().startsWith('on') || a.name.toLowerCase() === 'srcdoc' ||
          v.startsWith('javascript:') || v.startsWith('vbscript:') || v.startsWith('data:text')) {
        bad.push(el.tagName + ' ' + a.name + '=' + a.value.slice(0, 60));
      }
    }
  }
  out.bad_attributes = bad;
  const messages = document.querySelectorAll('.link-error, .sim-error, .sim-warning, .sim-info, .link-restored');
  out.message_tags = Array.from(new Set(Array.from(messages).flatMap(
    m => Array.from(m.querySelectorAll('*')).map(e => e.tagName.toLowerCase())))).sort();
  return out;
}
"""


def watch(page: Any) -> list[str]:
    """Record (and dismiss) every dialog the page opens."""
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def state(page: Any) -> dict[str, Any]:
    page.wait_for_timeout(SETTLE_MS)
    return dict(page.evaluate(PAGE_CHECK_JS, FORBIDDEN_TAGS))


def squash(text: str) -> str:
    """Whitespace as the browser's innerText shows it: runs of spaces collapsed."""
    return " ".join(text.split())


def shown_value(raw: str) -> str:
    """How a bad link value is quoted in its message (see ``proposal._parse``)."""
    text = raw.strip()
    return repr(text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "...")


def link(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def value_links() -> list[list[tuple[str, str]]]:
    """Every payload in the value of some key, and every key given some payload; several per link."""
    batches: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    n = max(len(PAYLOADS), len(VALUE_KEYS))
    for i in range(n):
        pair = (VALUE_KEYS[i % len(VALUE_KEYS)], PAYLOADS[i % len(PAYLOADS)])
        keys = {k for k, _ in current}
        if current and (pair[0] in keys or len("?" + link([*current, pair])) > MAX_QUERY_CHARS - 100):
            batches.append(current)
            current = []
        current.append(pair)
    batches.append(current)
    return batches


def key_links() -> list[list[tuple[str, str]]]:
    """Every payload as a setting's name, five to a link (the message names at most five)."""
    names = list(dict.fromkeys(PAYLOADS))
    return [[(k, "1") for k in names[i : i + 5]] for i in range(0, len(names), 5)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("app-security"))
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def baseline(server: Server, browser: Any) -> dict[str, Any]:  # noqa: F811
    """The page as a harmless bad link leaves it: what a payload's page is compared with."""
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(UI_TIMEOUT)
    page.goto(f"{server.url}/?citizens=abc&nonsense=1")
    page.wait_for_selector(".link-error")
    page.wait_for_selector(".proposal-tab .arm-proposal")
    found = state(page)
    page.close()
    assert found["sentinel"] == "undefined" and not found["forbidden"] and not found["bad_attributes"], found
    assert not found["payload_imgs"], found
    return found


def assert_clean(page: Any, dialogs: list[str], base: dict[str, Any], what: str) -> None:
    found = state(page)
    assert dialogs == [], f"{what}: a script ran and opened {dialogs}"
    assert found["sentinel"] == "undefined", f"{what}: a script ran and set window.__xss"
    assert found["forbidden"] == [], f"{what}: elements were injected: {found['forbidden']}"
    assert found["payload_imgs"] == [], f"{what}: images were injected: {found['payload_imgs']}"
    assert found["bad_attributes"] == [], f"{what}: script attributes were injected: {found['bad_attributes']}"
    for kind in ("scripts", "styles", "links", "metas", "svgs"):
        assert found[kind] == base[kind], f"{what}: {kind} went from {base[kind]} to {found[kind]}"
    extra = set(found["message_tags"]) - set(base["message_tags"])
    assert not extra, f"{what}: the messages hold elements a plain message does not: {sorted(extra)}"


def visit(browser: Any, links: list[list[tuple[str, str]]], url: str) -> Iterator[tuple[Any, Any, list[str]]]:  # noqa: F811
    """Load each link, three pages at a time (a page load takes seconds on a busy machine); yield (link, page, dialogs).

    Each page keeps its dialog record across its loads, so a dialog opened by any earlier link
    still fails the check of a later one.
    """
    pages = [browser.new_page(viewport=VIEWPORT) for _ in range(min(PARALLEL_PAGES, len(links)))]
    dialogs = [watch(page) for page in pages]
    try:
        for page in pages:
            page.set_default_timeout(UI_TIMEOUT)
        for start in range(0, len(links), len(pages)):
            group = links[start : start + len(pages)]
            for page, pairs in zip(pages, group, strict=False):
                page.goto(f"{url}/?{link(pairs)}", wait_until="commit")
            for page, seen, pairs in zip(pages, dialogs, group, strict=False):
                page.wait_for_selector(".link-error")
                yield pairs, page, seen
    finally:
        for page in pages:
            page.close()


def open_link(browser: Any, url: str) -> tuple[Any, list[str]]:  # noqa: F811
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(UI_TIMEOUT)
    dialogs = watch(page)
    page.goto(url)
    page.wait_for_selector(".link-error")
    return page, dialogs


# ---------------------------------------------------------------------------- the issue's two links
@pytest.mark.parametrize(
    ("query", "literal"),
    [
        ("citizens=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", "'<img src=x onerror=alert(1)>' is not a whole number"),
        ("%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E=1", "Unknown setting '<img src=x onerror=alert(1)>'"),
    ],
    ids=["bad-value", "bad-setting-name"],
)
def test_issue_links_show_the_bad_value_as_plain_text(
    server: Server,
    browser: Any,  # noqa: F811
    baseline: dict[str, Any],
    query: str,
    literal: str,
) -> None:
    page, dialogs = open_link(browser, f"{server.url}/?{query}")
    text = page.locator(".link-error").inner_text()
    assert literal in text, text
    assert page.locator("img[src='x']").count() == 0
    assert_clean(page, dialogs, baseline, query)
    page.close()


# ---------------------------------------------------------------------------- the injection suite
def test_payloads_in_every_link_value_run_nothing_and_show_as_text(
    server: Server,
    browser: Any,  # noqa: F811
    baseline: dict[str, Any],
) -> None:
    batches = value_links()
    assert {v for b in batches for _, v in b} == set(PAYLOADS) and {k for b in batches for k, _ in b} == set(VALUE_KEYS)
    for batch, page, dialogs in visit(browser, batches, server.url):
        assert_clean(page, dialogs, baseline, f"values {batch}")
        text = squash(page.locator(".link-error").inner_text())
        for key, value in batch:
            if value.strip():
                assert squash(shown_value(value)) in text, (key, value, text)


def test_payloads_as_setting_names_run_nothing_and_show_as_text(
    server: Server,
    browser: Any,  # noqa: F811
    baseline: dict[str, Any],
) -> None:
    for batch, page, dialogs in visit(browser, key_links(), server.url):
        assert_clean(page, dialogs, baseline, f"keys {batch}")
        text = squash(page.locator(".link-error").inner_text())
        for key, _ in batch:
            assert squash(repr(key[:MAX_VALUE_CHARS])) in text, (key, text)


def test_payloads_in_the_version_and_repeated_keys_run_nothing(
    server: Server,
    browser: Any,  # noqa: F811
    baseline: dict[str, Any],
) -> None:
    """The link's other messages that repeat what it holds: its format version, a key given twice."""
    chosen = PAYLOADS[:: max(1, len(PAYLOADS) // 3)][:3]  # these routes quote the same text as the others
    links = [[("v", p)] for p in chosen] + [[(p, "1"), (p, "2")] for p in chosen]
    for pairs, page, dialogs in visit(browser, links, server.url):
        assert_clean(page, dialogs, baseline, f"{pairs}")
        assert squash(repr(pairs[0][1 if pairs[0][0] == "v" else 0][:MAX_VALUE_CHARS])) in squash(
            page.locator(".link-error").inner_text()
        )


# The page's free-text and number fields, by tab and label (the sliders, switches and drop-downs
# accept no text). The test first checks that these are all the editable fields there are.
TEXT_FIELDS = {
    "Live model": ["Regime", AREA_TITLES["seed"]],
    "Test a proposal": ["Baseline regime", "Proposal regime", AREA_TITLES["seed"]],
}  # a regime is chosen in an autocomplete: typing there filters the regimes
EDITABLE_FIELDS_JS = """
() => Array.from(document.querySelectorAll('input, textarea'))
  .filter(e => e.checkVisibility({opacityProperty: true, visibilityProperty: true}) &&
               e.getBoundingClientRect().width > 0 && !e.readOnly && !e.disabled &&
               ['text', 'number', 'search', 'url', 'email', 'textarea', ''].includes(e.type))
  .map(e => (e.labels && e.labels.length ? e.labels[0].innerText : e.id).trim())
"""


def test_payloads_typed_into_every_field_run_nothing(
    server: Server,
    browser: Any,  # noqa: F811
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(UI_TIMEOUT)
    dialogs = watch(page)
    page.goto(server.url + "/")
    page.wait_for_selector(".proposal-tab .run-proposal")
    base = state(page)
    typed = 0
    for tab, labels in TEXT_FIELDS.items():
        page.get_by_role("tab", name=tab).click()
        fields: list[str] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the tabs' transition hides the other tab's fields
            fields = [f.split(" (Value must")[0] for f in page.evaluate(EDITABLE_FIELDS_JS)]
            if sorted(fields) == sorted(labels):
                break
            page.wait_for_timeout(250)
        assert sorted(fields) == sorted(labels), f"{tab}: a text field is not covered: {fields}"
        for label in labels:
            # Not exact: once a field shows its error, the error is part of its accessible name.
            field = page.get_by_label(label).filter(visible=True)
            assert field.count() == 1, (tab, label, field.count())
            for payload in PAYLOADS:
                field.fill(payload)
                field.press("Enter")
                typed += 1
            page.wait_for_timeout(SETTLE_MS)
            assert dialogs == [], f"{tab}, {label}: a script ran: {dialogs}"
    assert typed == len(PAYLOADS) * sum(len(v) for v in TEXT_FIELDS.values())
    found = state(page)
    assert found["sentinel"] == "undefined" and dialogs == [], (found["sentinel"], dialogs)
    assert found["forbidden"] == [] and found["payload_imgs"] == [] and found["bad_attributes"] == [], found
    for kind in ("scripts", "links", "metas"):
        assert found[kind] == base[kind], (kind, base[kind], found[kind])
    assert page.locator(".live-month").count() >= 1  # the page still works
    page.close()


# ---------------------------------------------------------------------------- Host header
def request(port: int, host: str, path: str = "/", headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return int(response.status)
    finally:
        conn.close()


def test_a_foreign_host_header_is_refused_and_loopback_ones_are_served(server: Server) -> None:
    port = server.port
    for host in (
        f"127.0.0.1:{port}",
        "127.0.0.1",
        f"localhost:{port}",
        "LOCALHOST",
        f"127.3.4.5:{port}",
        f"[::1]:{port}",
    ):
        assert request(port, host) == 200, host
    for host in (
        "evil.example.com",
        f"evil.example.com:{port}",
        "127.0.0.1.evil.example.com",
        "192.168.1.10",
        "",
        "[::2]",
    ):
        assert request(port, host) in (400, 421), host
    # The page's websocket too (DNS rebinding can open one), and one opened from another site's page.
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    ws_path = "/jupyter/api/kernels/00000000-0000-0000-0000-000000000000/channels?session_id=x"
    assert request(port, "evil.example.com", ws_path, upgrade) != 101
    assert request(port, f"127.0.0.1:{port}", ws_path, {**upgrade, "Origin": "http://evil.example.com"}) != 101
    time.sleep(0.5)
    assert "evil.example.com" in server.log(), "a refused request was not logged"


# ---------------------------------------------------------------------------- stop signals
def start_and_wait_for_workers(root: Path, *args: str) -> tuple[Server, list[psutil.Process], int]:
    srv = Server(root, *args)
    srv.wait_ready()
    proc = psutil.Process(srv.proc.pid)
    deadline = time.monotonic() + 60
    children: list[psutil.Process] = []
    while time.monotonic() < deadline:  # the pool's two workers start in the background
        children = proc.children(recursive=True)
        if len([c for c in children if "python" in (c.name() or "")]) >= 2:
            break
        time.sleep(0.3)
    assert len(children) >= 2, f"the server's workers did not start: {children}"
    time.sleep(1.0)
    children = proc.children(recursive=True)
    return srv, children, len(srv.log_path.read_text(errors="replace"))


@pytest.mark.parametrize(
    ("how", "args"),
    [("SIGTERM", ()), ("SIGINT to the process group (Ctrl+C)", ()), ("SIGTERM", ("--stop-grace", "0"))],
    ids=["SIGTERM", "SIGINT", "SIGTERM-no-grace"],
)
def test_a_stop_signal_ends_every_child_and_prints_one_line(
    tmp_path: Path,
    browser: Any,  # noqa: F811
    how: str,
    args: tuple[str, ...],
) -> None:
    srv, children, mark = start_and_wait_for_workers(tmp_path, *args)
    page = browser.new_page(viewport=VIEWPORT)  # an open page: its websocket and kernel must not hold the server up
    page.set_default_timeout(UI_TIMEOUT)
    page.goto(srv.url + "/")
    page.wait_for_selector(".proposal-tab .run-proposal")
    try:
        if how == "SIGTERM":
            os.kill(srv.proc.pid, signal.SIGTERM)
        else:
            os.killpg(srv.proc.pid, signal.SIGINT)
        code = srv.proc.wait(timeout=20)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(c.is_running() and c.status() != "zombie" for c in children):
            time.sleep(0.1)
        alive = [f"{c.pid} {c.name()}" for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        assert alive == [], f"{how} left children running: {alive}"
        after = srv.log_path.read_text(errors="replace")[mark:]
        lines = [line for line in after.splitlines() if line.strip()]
        assert len(lines) == 1, f"{how}: expected one line, got:\n{after}"
        assert "stopped" in lines[0], lines[0]
        assert code == 0, code
    finally:
        page.close()
        srv.stop()

"""The explorer's safety pieces without a browser: escaping, safe Markdown, the Host check, the pool's end.

The browser-level guarantees (no payload runs or shows as markup in the real page, the real
server refuses a foreign Host and stops cleanly on a signal) are in ``test_app_security.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import psutil
import pytest

from sim.app import jobs
from sim.app.safe import HostGuard, escape, host_allowed, is_loopback, markdown_html, md_escape, safe_url

PAYLOADS = [
    line
    for line in Path(__file__).with_name("xss_payloads.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("# ") and line != "#"
]
# Every element and attribute the app's own Markdown may produce: anything else came from input.
ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "code", "pre", "a", "br", "hr", "blockquote"}
ALLOWED_TAGS |= {"table", "thead", "tbody", "tr", "th", "td", "h1", "h2", "h3", "h4", "h5", "h6"}
ALLOWED_ATTRIBUTES = {"href", "class", "title", "align", "style"}


class Elements(HTMLParser):
    """The elements and the text of an HTML fragment, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(fragment: str) -> Elements:
    parser = Elements()
    parser.feed(fragment)
    parser.close()
    return parser


def assert_inert(fragment: str, source: str) -> None:
    for tag, attrs in parse(fragment).tags:
        assert tag in ALLOWED_TAGS, (source, tag, fragment)
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES, (source, tag, name, fragment)
            if name == "href":
                assert value is not None and safe_url(value), (source, value)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_renders_no_markup_from_any_payload(payload: str) -> None:
    """The structural guarantee: even raw, unescaped hostile text renders to inert HTML."""
    for source in (payload, f"- {payload}", f"| a |\n|---|\n| {payload} |", f"**x** {payload}\n\n{payload}"):
        assert_inert(markdown_html(source), source)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_escape_shows_a_value_exactly_as_written(payload: str) -> None:
    rendered = parse(markdown_html(f"Value: {md_escape(payload)}"))
    assert [tag for tag, _ in rendered.tags] == ["p"]
    assert "".join(rendered.text) == f"Value: {payload}".expandtabs(4).strip()  # Markdown expands tabs


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_makes_text_and_attributes_inert(payload: str) -> None:
    fragment = f'<div title="{escape(payload)}">{escape(payload)}</div>'
    parsed = parse(fragment)
    assert parsed.tags == [("div", [("title", payload)])]
    assert "".join(parsed.text) == payload


def test_the_apps_own_markdown_still_renders() -> None:
    html = markdown_html(
        "**bold** and `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```bash\necho a < b\n```\n\n[x](https://a.org)"
    )
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html and "<table>" in html
    assert "echo a &lt; b" in html and '<a href="https://a.org">x</a>' in html
    assert_inert(html, "app markdown")


def test_unsafe_link_targets_are_dropped() -> None:
    for url in ("javascript:alert(1)", " JaVa\tScRiPt:alert(1)", "data:text/html,<script>", "vbscript:x"):
        assert not safe_url(url), url
        assert "href" not in markdown_html(f"[x]({url})"), url
    for url in ("https://a.org/x?y=1", "http://a", "#top", "/path", "relative/path", "mailto:a@b.org"):
        assert safe_url(url), url


@pytest.mark.parametrize(
    ("header", "any_host", "allowed"),
    [
        ("127.0.0.1:8765", False, True),
        ("127.9.9.9", False, True),
        ("localhost:8765", False, True),
        ("LocalHost.", False, True),
        ("[::1]:8765", False, True),
        ("[::1]", False, True),
        ("evil.example.com", False, False),
        ("evil.example.com:8765", False, False),
        ("127.0.0.1.nip.io", False, False),
        ("localhost.evil.com", False, False),
        ("10.0.0.5:8765", False, False),
        ("[::2]:8765", False, False),
        ("", False, False),
        (None, False, False),
        ("127.0.0.1:80x", False, False),
        ("user@127.0.0.1", False, False),
        ("evil.example.com", True, True),
        ("", True, False),
    ],
)
def test_host_allowed(header: str | None, any_host: bool, allowed: bool) -> None:
    assert host_allowed(header, any_host) is allowed


def test_binding_elsewhere_warns_in_one_line() -> None:
    from sim.app import bind_warning

    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert bind_warning(host, 8765) is None, host
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        warning = bind_warning(host, 8765)
        assert warning is not None and warning.startswith("warning: ") and "\n" not in warning, host
        assert host in warning and "8765" in warning


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.0.1") and not is_loopback("::")


def _call(guard: HostGuard, kind: str, headers: dict[str, str]) -> tuple[list[dict[str, Any]], bool]:
    """Run one request through the middleware; (what it sent, whether the app behind it was reached)."""
    reached = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope)

    guard.app = app
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": kind,
        "path": "/",
        "client": ("127.0.0.1", 5000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(guard(scope, receive, send))
    return sent, bool(reached)


def test_host_guard_refuses_foreign_hosts_and_cross_site_websockets(caplog: pytest.LogCaptureFixture) -> None:
    guard = HostGuard(lambda *a: None)  # type: ignore[arg-type]
    sent, reached = _call(guard, "http", {"Host": "evil.example.com"})
    assert not reached and sent[0]["status"] == 400
    assert "evil.example.com" in caplog.text
    assert _call(guard, "http", {"Host": "127.0.0.1:8765"})[1]
    sent, reached = _call(guard, "websocket", {"Host": "127.0.0.1:8765", "Origin": "http://evil.example.com"})
    assert not reached and sent == [{"type": "websocket.close", "code": 1008}]
    assert _call(guard, "websocket", {"Host": "127.0.0.1:8765", "Origin": "http://127.0.0.1:8765"})[1]
    assert _call(guard, "websocket", {"Host": "localhost:8765"})[1]  # no Origin: not a browser page
    lan = HostGuard(lambda *a: None, any_host=True)  # type: ignore[arg-type]
    assert _call(lan, "http", {"Host": "my-laptop.lan:8765"})[1]
    assert not _call(lan, "websocket", {"Host": "my-laptop.lan:8765", "Origin": "http://evil.example.com"})[1]


# ---------------------------------------------------------------------------- the pool's end
def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_shutdown_ends_busy_workers_at_once() -> None:
    manager = jobs.JobManager(workers=2)
    warm = manager.warm_up()
    for w in psutil.Process().children():  # Ctrl+C reaches the workers while they start, too
        os.kill(w.pid, signal.SIGINT)
    assert len({f.result(timeout=120) for f in warm}) >= 1
    pool = manager.pool()
    futures = [pool.submit(_sleep, 120) for _ in range(2)]
    time.sleep(2.0)  # both workers are inside their two-minute task
    workers = [psutil.Process(p.pid) for p in pool._processes.values()]  # type: ignore[union-attr]
    assert len(workers) == 2 and not any(f.done() for f in futures)
    drawer = [psutil.Process(p.pid) for p in manager.drawer()._processes.values()]  # type: ignore[union-attr]
    assert len(drawer) == 1 and drawer[0].is_running()  # the charts' process, started with the workers
    for w in workers:  # and while they work: they leave stopping to the server
        os.kill(w.pid, signal.SIGINT)
    time.sleep(1.0)
    assert all(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    manager.shutdown(timeout=5)
    _gone, alive = psutil.wait_procs(workers + drawer, timeout=5)
    assert alive == [], alive


def test_workers_end_when_their_server_is_killed(tmp_path: Path) -> None:
    """SIGKILL leaves no time to clean up: each worker notices its parent is gone and exits."""
    script = textwrap.dedent(
        """
        import time
        from sim.app import jobs
        m = jobs.JobManager(workers=2)
        pool = m.pool()
        print(*sorted({f.result() for f in [pool.submit(jobs._warm) for _ in range(8)]}), flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(line.split()) >= 1 and len(children) >= 2, (line, children)
        proc.kill()
        proc.wait(10)
        _gone, alive = psutil.wait_procs(children, timeout=8)
        assert alive == [], f"orphans after the server's SIGKILL: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()

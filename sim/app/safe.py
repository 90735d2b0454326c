"""What may reach the proposal explorer's page as HTML: escaping, safe Markdown, allowed hosts.

The page shows text that came from a user (a shared link's keys and values, typed fields, and
the messages that repeat them). Two rules keep that text from ever becoming markup or script:

1. User text is shown through components that set *text* (``solara.Text``, the text children of
   ``solara.v.Html``), never through ``innerHTML``. Where HTML must be built by hand, every
   interpolated value goes through :func:`escape`; where Markdown is built, through
   :func:`md_escape`.
2. The app's own Markdown is rendered by :func:`markdown_html`, which, whatever its input, emits
   no raw HTML (tags in the source come out as text), no images, no event-handler attributes and
   no links other than http(s), mailto, in-page and relative ones. So a value that escaped rule 1
   would still show as text.

The host check (:func:`host_allowed`, :class:`HostGuard`) refuses requests whose ``Host`` header
names another machine, which is what a DNS-rebinding page sends, and websockets opened from
another site's page.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger("sim.app")

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>])")  # Python-Markdown's escapable characters
_SAFE_URL = re.compile(r"^(https?:|mailto:|#|/(?!/)|\.{0,2}/|[^:/?#]*([/?#]|$))", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def escape(value: object) -> str:
    """``value`` as text that HTML shows literally, quotes included (safe in an attribute too)."""
    return html.escape(str(value), quote=True)


def md_escape(value: object) -> str:
    """``value`` as Markdown source that shows literally: HTML-escaped, Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", escape(value))


def safe_url(url: str) -> bool:
    """True if a link target cannot run script: http(s), mailto, in-page or relative."""
    return bool(_SAFE_URL.match(_CONTROL.sub("", url)))


def _markdown() -> Any:
    import markdown
    from markdown.treeprocessors import Treeprocessor

    class _Sanitise(Treeprocessor):  # type: ignore[misc]  # markdown ships no type hints
        """Drop what no text of this app needs and a hostile one could use: images, handlers, script URLs."""

        def run(self, root: ET.Element) -> None:
            for parent in list(root.iter()):
                for child in list(parent):
                    if child.tag in ("img", "script", "style", "iframe", "object", "embed"):
                        parent.remove(child)
            for el in root.iter():
                for name in list(el.attrib):
                    value = el.attrib[name]
                    if name.lower().startswith("on") or (
                        name.lower() in ("href", "src", "action", "formaction", "srcdoc") and not safe_url(value)
                    ):
                        del el.attrib[name]

    md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"])
    # Raw HTML in the source is text, not markup: without these, "<img ...>" passes through as a tag.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    for name in ("image_link", "image_reference", "short_image_ref"):
        if name in md.inlinePatterns:
            md.inlinePatterns.deregister(name)
    md.treeprocessors.register(_Sanitise(md), "sim_sanitise", 0)  # last: after inline patterns made links
    return md


def markdown_html(text: str) -> str:
    """Markdown (tables, fenced code) to HTML that holds no raw HTML, image, handler or script link.

    No math either, so the page never asks a CDN for KaTeX.
    """
    md = _markdown()  # a fresh converter each time: Markdown objects keep state between calls
    return str(md.convert(text))


# ---------------------------------------------------------------------------- Host header
def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1), bracketed or not."""
    name = host.strip().lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(header: str) -> str | None:
    """The host part of a ``Host`` header (``name``, ``name:port``, ``[v6]:port``); None if malformed."""
    value = header.strip()
    if not value or any(c in value for c in " /\\@?#\t"):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or (value[end + 1 :] and not re.fullmatch(r":\d{1,5}", value[end + 1 :])):
            return None
        return value[: end + 1]
    host, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    return host or None


def host_allowed(header: str | None, any_host: bool) -> bool:
    """Whether a request with this ``Host`` header is served (any well-formed one if ``any_host``)."""
    host = split_host(header or "")
    if host is None:
        return False
    return any_host or is_loopback(host)


def _origin_host(origin: str) -> str | None:
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    return split_host(rest.split("/", 1)[0])


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class HostGuard:
    """ASGI middleware: serve only requests for this machine's loopback names, and same-origin websockets.

    Bound to a loopback address, a request whose ``Host`` is not ``localhost``, 127.0.0.0/8 or
    ``[::1]`` (any port) gets 400 and a log line: a DNS-rebinding page sends its own domain
    there. Bound on purpose to another address (``any_host``), any well-formed ``Host`` is
    served. Either way, a websocket whose ``Origin`` names a host other than its ``Host`` is
    refused: another site's page must not drive a session of this one.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], any_host: bool = False) -> None:
        self.app = app
        self.any_host = any_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or refuse it (400, or a websocket closed before its handshake) with a log line."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host")
        reason = None
        if not host_allowed(host, self.any_host):
            reason = f"host {host!r} is not this machine's loopback address"
        elif scope["type"] == "websocket" and "origin" in headers:
            origin = _origin_host(headers["origin"])
            if origin is None or origin.lower() != (split_host(host or "") or "").lower():
                reason = f"websocket from another site's page (origin {headers['origin']!r})"
        if reason is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("?", 0)
        log.warning("refused a request from %s for %s: %s", client[0], scope.get("path", "?"), reason)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
            return
        body = b"Invalid Host header: this server answers only requests for its own address.\n"
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


__all__ = ["HostGuard", "escape", "host_allowed", "is_loopback", "markdown_html", "md_escape", "safe_url", "split_host"]

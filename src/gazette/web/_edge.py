"""What every response gets on its way out: security headers, and one access log line
whose query values are masked (confirmation and unsubscribe tokens travel in queries)."""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access = logging.getLogger("gazette.web.access")

# The pages are the build's index.html (an inline <style>) and, later, server-rendered
# forms posting to this origin; nothing runs scripts or may frame them.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    # A page whose URL carries a token must not hand it to the next site in Referer.
    (b"referrer-policy", b"no-referrer"),
)
MASK = "***"
_UNSAFE = re.compile(r'[\x00-\x20"\x7f]')


class Edge:
    """ASGI middleware around the whole app (errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_secured(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_security_headers(message.get("headers", []))
            await send(message)

        try:
            await self.app(scope, receive, send_secured)
        finally:
            _log_request(scope, status, time.perf_counter() - started)


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` plus each security header the response did not set itself."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *(item for item in SECURITY_HEADERS if item[0] not in present)]


def _log_request(scope: Scope, status: int, seconds: float) -> None:
    client = scope.get("client")
    access.info(
        '%s "%s %s HTTP/%s" %d %.1fms', client[0] if client else "-", scope["method"],
        shown_target(scope), scope.get("http_version", "1.1"), status, seconds * 1000,
    )  # fmt: skip


def shown_target(scope: Scope) -> str:
    """The request target for a log line: the path as sent, every query value as ***."""
    raw = scope.get("raw_path") or scope["path"].encode()
    target = _printable(raw.decode("utf-8", "backslashreplace"))
    query = scope.get("query_string", b"")
    if query:
        target += "?" + mask_query(query.decode("latin-1"))
    return target


def mask_query(query: str) -> str:
    """``token=abc&page=2&xyz`` as ``token=***&page=***&***``: names kept, values hidden."""
    shown = []
    for item in query.split("&"):
        name, equals, _ = item.partition("=")
        shown.append(f"{_printable(name)}={MASK}" if equals else MASK)
    return "&".join(shown)


def _printable(text: str) -> str:
    return _UNSAFE.sub(lambda found: f"%{ord(found[0]):02X}", text)

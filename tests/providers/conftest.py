"""Shared by the provider tests: envelopes, fast retries, and a server that drops calls."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from gazette.mail import http
from gazette.mail.base import Envelope

SENDER = "Example Notes <digest@example.org>"
SUBJECT = "Example Notes: 2 new posts · 新文章"


def envelope(recipient: str = "reader@example.com", number: int = 1) -> Envelope:
    """A digest message to ``recipient`` with the headers the digest sets."""
    headers = (
        ("Message-ID", f"<issue-7.{number}@example.org>"),
        ("List-Id", "Example Notes <notes.example.org>"),
        ("List-Unsubscribe", f"<https://example.org/unsubscribe?t=tok{number}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Reply-To", "editor@example.org"),
    )
    text, html = f"Hello reader {number}\n", f"<p>Hello reader {number}</p>"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = SENDER, recipient, SUBJECT
    for name, value in headers:
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return Envelope(
        recipient, SENDER, SUBJECT, html, text, headers, message.as_bytes(), f"issue-7/{recipient}"
    )


def envelopes(count: int) -> list[Envelope]:
    """``count`` envelopes to distinct readers."""
    return [envelope(f"reader{number}@example.com", number) for number in range(1, count + 1)]


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds, not seconds (Retry-After is still honoured)."""
    monkeypatch.setattr(http, "BACKOFF", http.Backoff(initial=0.001, maximum=0.01))


class DroppingServer:
    """Reads each request whole, closes the first ``drops`` connections without a word,
    and answers the others with ``answer``."""

    def __init__(self, answer: bytes, drops: int) -> None:
        self.answer, self.drops = answer, drops
        self.requests: list[bytes] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The server's base URL."""
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        """Stops serving."""
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                self.requests.append(_read_request(connection))
                if len(self.requests) > self.drops:
                    connection.sendall(self.answer)


def _read_request(connection: socket.socket) -> bytes:
    connection.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def json_answer(body: bytes, status: str = "200 OK") -> bytes:
    """A whole HTTP/1.1 answer carrying a JSON ``body``."""
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


@pytest.fixture
def dropping() -> Iterator[list[DroppingServer]]:
    """Collects DroppingServers to close after the test."""
    servers: list[DroppingServer] = []
    yield servers
    for server in servers:
        server.close()


def header_of(request: bytes, name: str) -> str:
    """The value of header ``name`` in a raw request."""
    head = request.partition(b"\r\n\r\n")[0].decode()
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""

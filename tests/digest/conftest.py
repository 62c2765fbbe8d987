"""Digest fixtures: a small site with posts and subscribers, and a real SMTP server
(aiosmtpd on loopback, STARTTLS with a certificate made here, login required)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gazette.config import Settings
from gazette.digest.subscribers import add_subscriber
from gazette.store import Store

from ..certificates import make_certificate
from ..conftest import NOW, ROOT, sync

SMTP_USER = "gazette"
SMTP_PASSWORD = "loopback-only-secret"  # noqa: S105 - a made-up password for a test server

DIGEST = """\
[digest]
unsubscribe_url = "https://test.example.org/unsubscribe"
unsubscribe_mailto = "unsubscribe@test.example.org"
max_age = 30
max_posts = 3
first_issue_posts = 2

[mail]
from = "Test Site <digest@test.example.org>"
outbox = "outbox"
"""

MARKDOWN = """\
[[sources]]
path = "posts/*.md"
format = "markdown"
"""


def write_post(write: Callable[[str, str], Path], slug: str, title: str, days_ago: float,
               body: str = "") -> None:  # fmt: skip
    """A Markdown post published ``days_ago`` days before NOW (bodies differ: the catalog
    takes posts with the same body for copies of one post)."""
    body = body or f"What {title} is about, in one short paragraph."
    published = (NOW - dt.timedelta(days=days_ago)).isoformat()
    write(f"posts/{slug}.md", f"---\ntitle: '{title}'\ndate: {published}\n---\n\n{body}\n")


def subscribe(settings: Settings, *addresses: str) -> Store:
    """Adds active subscribers; returns the store."""
    store = Store(settings.database_url)
    with store.transaction() as connection:
        for address in addresses:
            add_subscriber(connection, address, "", NOW)
    return store


@pytest.fixture
def digest_site(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> Callable[..., Settings]:
    """A site with Markdown posts (slug, title, days ago) and [digest]/[mail] set."""

    def make(posts: list[tuple[str, str, float]], extra: str = "") -> Settings:
        for slug, title, days_ago in posts:
            write_post(write, slug, title, days_ago)
        settings = site(MARKDOWN, DIGEST + extra)
        sync(settings).close()
        return settings

    return make


def run_cli(config: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Runs ``python3 -m gazette --config CONFIG ARGS`` with this tree's code."""
    return subprocess.run(
        [sys.executable, "-m", "gazette", "--config", str(config), *args],
        capture_output=True, text=True, env=cli_env(env), timeout=timeout,
    )  # fmt: skip


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    env.update(extra or {})
    return env


# --- the SMTP server -----------------------------------------------------------------


@dataclass
class Received:
    recipients: list[str]
    data: bytes


@dataclass
class Recorder:
    """aiosmtpd handler: keeps every message; refuses, holds or drops on request."""

    refuse: set[str] = field(default_factory=set)
    drop_after_data: set[str] = field(default_factory=set)
    hold: str = ""  # RCPT of this address waits until ``release`` is set
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    messages: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:  # fmt: skip
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        if address == self.hold and not self.held.is_set():
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 held by the test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(Received(list(envelope.rcpt_tos), bytes(envelope.content)))
        if set(envelope.rcpt_tos) & self.drop_after_data:
            server.transport.close()
        return f"250 2.0.0 queued as {len(self.messages)}"

    def count(self, address: str) -> int:
        return sum(address in m.recipients for m in self.messages)


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:  # fmt: skip
    good = (
        isinstance(data, LoginPassword)
        and data.login == SMTP_USER.encode()
        and data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=good, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    cafile: Path
    recorder: Recorder

    def config(self, security: str = "starttls") -> str:
        """The [mail] keys that point gazette at this server (appended to DIGEST)."""
        return (
            f'provider = "smtp"\nsmtp_host = "{self.host}"\nsmtp_port = {self.port}\n'
            f'smtp_security = "{security}"\nsmtp_username = "{SMTP_USER}"\n'
            f'smtp_cafile = "{self.cafile}"\nmax_attempts = 1\nbatch_size = 5\n'
        )


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback: STARTTLS required, login required."""
    cert, key = make_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=free_port(), tls_context=context,
        require_starttls=True, authenticator=_authenticate, auth_required=True,
    )  # fmt: skip
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, cert, recorder)
    finally:
        recorder.release.set()
        controller.stop()


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Polls ``condition`` until it holds (fails the test after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.02)

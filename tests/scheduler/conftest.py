"""A site run by the real `gazette run` in a subprocess, with short schedules."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gazette.config import Settings, load_settings
from gazette.digest.subscribers import add_subscriber
from gazette.store import Store

SUBSCRIBERS = tuple(f"reader{n}@example.org" for n in range(1, 7))


def site_config(database: str, feeds_schedule: str, digest: str, mail: str = "") -> str:
    """A config: Markdown posts, feeds to public/, digest to outbox/ (unless ``mail``)."""
    return f"""\
[site]
title = "Scheduled Site"
url = "https://sched.example.org/"
language = "en"
timezone = "Asia/Shanghai"

[[sources]]
path = "posts/*.md"
format = "markdown"

[feeds]
output = "public"
schedule = "{feeds_schedule}"

[digest]
unsubscribe_url = "https://sched.example.org/unsubscribe"
{digest}

[mail]
from = "Scheduled Site <digest@sched.example.org>"
outbox = "outbox"
{mail}

[state]
database = "{database}"
lease_timeout = "6s"
"""


def write_post(folder: Path, slug: str, title: str, hours_ago: float, tag: str = "") -> None:
    """A Markdown post published ``hours_ago`` hours before the real now."""
    published = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="seconds")
    tags = f"tags: [{tag}]\n" if tag else ""
    path = folder / "posts" / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\ntitle: '{title}'\ndate: {published}\n{tags}---\n\nAll about {title}.\n",
        encoding="utf-8",
    )


def make_site(folder: Path, config: str, posts: int = 2) -> Settings:
    """Writes the config and ``posts`` posts, subscribes SUBSCRIBERS; returns settings."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gazette.toml").write_text(config, encoding="utf-8")
    for number in range(1, posts + 1):
        write_post(folder, f"post-{number}", f"Post number {number}", number, tag="older")
    settings = load_settings(folder / "gazette.toml", environ={})
    store = Store(settings.database_url)
    with store.transaction() as connection:
        for address in SUBSCRIBERS:
            add_subscriber(connection, address, "", datetime.now(UTC))
    store.close()
    return settings


class Service:
    """One `gazette run` process; its stderr kept in a file to wait on."""

    def __init__(self, config: Path, log: Path, environ: dict[str, str] | None = None) -> None:
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
        env.update(environ or {})
        self._stderr = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gazette", "--config", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            env=env,
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30.0) -> str:
        """Waits until ``pattern`` (a regex) is in the log ``count`` times; returns the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if len(re.findall(pattern, text)) >= count:
                return text
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} x{count} in the log:\n{self.text()}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def close(self) -> None:
        self._stderr.close()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Starts `gazette run` processes; any left running are killed at the end."""
    started: list[Service] = []

    def start(folder: Path, environ: dict[str, str] | None = None) -> Service:
        log = tmp_path / f"run-{len(started) + 1}.log"
        service = Service(folder / "gazette.toml", log, environ)
        started.append(service)
        return service

    yield start
    for service in started:
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait()
        service.close()

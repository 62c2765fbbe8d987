"""A site built by the real `gazette build` and served by the real `gazette serve` in a
subprocess on a free loopback port; helpers to talk to it raw and to read its log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ..conftest import ROOT

CONFIG = ROOT / "config" / "gazette.toml"
BIG_FILE_SIZE = 5 * 1024 * 1024  # past what the server holds in memory: streamed


@dataclass
class Served:
    """A running `gazette serve`."""

    url: str
    site: Path  # the folder holding state and output
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def output(self) -> Path:
        return self.site / "public"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def wait_for_log(self, fragment: str, timeout: float = 5.0) -> str:
        """The log once it holds ``fragment`` (the server writes each line after its
        response)."""
        deadline = time.monotonic() + timeout
        while fragment not in (text := self.log()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return text

    def stop(self, number: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(number)
        return self.process.wait(timeout)


def base_environment(site: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without its GAZETTE_* variables, plus the example's
    state and output moved into ``site`` and ``settings`` as GAZETTE_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
    env["GAZETTE_STATE_DATABASE"] = f"sqlite:///{site / 'state.db'}"
    env["GAZETTE_FEEDS_OUTPUT"] = str(site / "public")
    # Few entries and small archive pages, so archive/ has several pages.
    env["GAZETTE_FEEDS_ENTRIES"] = "3"
    env["GAZETTE_FEEDS_ARCHIVE_SIZE"] = "4"
    # The pages in English, which most assertions read; the example itself is zh-CN, and
    # the tests of the pages' languages say which they want.
    env["GAZETTE_SITE_LANGUAGE"] = "en"
    env.update({f"GAZETTE_{key.upper()}": value for key, value in settings.items()})
    return env


def build_site(site: Path) -> None:
    """The bundled example built into ``site/public`` by `gazette build`."""
    site.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["gazette", "--config", str(CONFIG), "build"], env=base_environment(site),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_serve(site: Path, **settings: str) -> Served:
    """`gazette serve` on a free port, once /healthz answers (200 or 503)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = base_environment(site, serve_listen=f"127.0.0.1:{port}", serve_url=url, **settings)
    log_path = site / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["gazette", "--config", str(CONFIG), "serve"], env=env, stderr=log,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    served = Served(url, site, process, log_path)
    _wait_until_up(served)
    return served


def _wait_until_up(served: Served, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"gazette serve exited {served.process.returncode}:\n{served.log()}")
        try:
            httpx.get(f"{served.url}/healthz", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    served.stop(signal.SIGKILL)
    pytest.fail(f"gazette serve did not answer within {timeout} s:\n{served.log()}")


def raw_get(served: Served, target: bytes, headers: bytes = b"") -> tuple[int, bytes]:
    """Sends ``target`` exactly as given (no client normalizes it); (status, response)."""
    port = int(served.url.rpartition(":")[2])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers
            + b"Connection: close\r\n\r\n"
        )  # fmt: skip
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    return int(answer.split(b" ", 2)[1]), answer


def add_extra_files(site: Path) -> None:
    """What a build does not write but a folder may hold: an issue page, a secret beside
    the folder with symlinks out to it, a symlink inside, a hidden folder, a big file."""
    public = site / "public"
    issue = public / "issues" / "1" / "index.html"
    issue.parent.mkdir(parents=True)
    issue.write_text("<!DOCTYPE html><title>Issue 1</title>", encoding="utf-8")
    (site / "secret.txt").write_text("not for readers", encoding="utf-8")
    (public / "leak.txt").symlink_to(site / "secret.txt")
    (public / "outside").symlink_to(site)
    (public / "latest.xml").symlink_to(public / "atom.xml")
    (public / ".hidden.txt").write_text("hidden", encoding="utf-8")
    (public / ".private").mkdir()
    (public / ".private" / "notes.txt").write_text("hidden", encoding="utf-8")
    line = b"gazette streams files larger than it holds in memory.\n"
    (public / "big.txt").write_bytes(line * (BIG_FILE_SIZE // len(line) + 1))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The example site, built and served, for the tests that only read."""
    site = tmp_path_factory.mktemp("served")
    build_site(site)
    add_extra_files(site)
    server = start_serve(site)
    yield server
    server.stop()


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=10) as session:
        yield session

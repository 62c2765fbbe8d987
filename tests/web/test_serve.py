"""The real `gazette serve` as a service: /healthz, security headers, the access log,
trusted proxies, graceful stops that close the state database, several workers."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .conftest import CONFIG, Served, base_environment, build_site, raw_get, start_serve

SECURITY = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def test_healthz_is_200_while_the_database_answers(client: httpx.Client) -> None:
    """GET and HEAD /healthz answer 200, never cached."""
    assert client.get("/healthz").status_code == 200
    assert client.head("/healthz").status_code == 200
    assert client.get("/healthz").headers["cache-control"] == "no-store"


def test_healthz_is_503_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    """With a state database that cannot be opened (its path is a folder), /healthz is
    503 and says so once in the log, while the feeds are still served."""
    build_site(tmp_path)
    (tmp_path / "not-a-database").mkdir()
    served = start_serve(tmp_path, state_database=f"sqlite:///{tmp_path / 'not-a-database'}")
    try:
        assert httpx.get(f"{served.url}/healthz").status_code == 503
        assert httpx.get(f"{served.url}/healthz").status_code == 503
        assert httpx.get(f"{served.url}/atom.xml").status_code == 200
    finally:
        assert served.stop() == 0
    assert served.log().count("the state database does not answer") == 1


def test_every_kind_of_response_has_the_security_headers(
    served: Served, client: httpx.Client
) -> None:
    """200, 304, 301, 404, 405, HEAD, /healthz and a raw traversal all carry the CSP,
    nosniff and no-referrer."""
    etag = client.get("/atom.xml").headers["etag"]
    answers = [
        client.get("/atom.xml"),
        client.get("/atom.xml", headers={"If-None-Match": etag}),
        client.get("/issues/1"),
        client.get("/no-such-file.xml"),
        client.post("/atom.xml"),
        client.head("/"),
        client.get("/healthz"),
    ]
    for answer in answers:
        for name, value in SECURITY.items():
            assert answer.headers.get(name) == value, (answer.request.url, name)
    _, raw = raw_get(served, b"/../secret.txt")
    assert b"content-security-policy: default-src 'none'" in raw.lower()
    assert "server" not in client.get("/").headers


def test_the_access_log_masks_every_query_value(served: Served, client: httpx.Client) -> None:
    """A token in the query is logged as ***, names kept: never the token itself."""
    client.get("/unsubscribe?token=reader%40example.org.s3cr3t-signature&lang=en")
    log = served.wait_for_log("/unsubscribe?")
    assert '"GET /unsubscribe?token=***&lang=*** HTTP/1.1" 400' in log
    assert "s3cr3t" not in log
    assert "reader" not in log


def test_forwarded_for_is_ignored_without_trusted_proxies(
    served: Served, client: httpx.Client
) -> None:
    """By default X-Forwarded-For is not believed: the log names the real peer."""
    client.get("/feed.json?untrusted", headers={"X-Forwarded-For": "203.0.113.7"})
    log = served.wait_for_log("/feed.json?***")
    line = next(line for line in log.splitlines() if "/feed.json?***" in line)
    assert " 127.0.0.1 " in line
    assert "203.0.113.7" not in log


def test_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    """With the peer in serve.trusted_proxies (given as a CIDR), X-Forwarded-For names
    the client in the log."""
    build_site(tmp_path)
    served = start_serve(tmp_path, serve_trusted_proxies="10.0.0.0/8, 127.0.0.0/8")
    try:
        headers = {"X-Forwarded-For": "198.51.100.4", "X-Forwarded-Proto": "https"}
        httpx.get(f"{served.url}/atom.xml", headers=headers)
        log = served.wait_for_log("/atom.xml")
    finally:
        served.stop()
    assert any(" 198.51.100.4 " in line and "/atom.xml" in line for line in log.splitlines()), log


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_it_gracefully_and_closes_the_database(
    tmp_path: Path, number: signal.Signals
) -> None:
    """SIGTERM or Ctrl-C exits 0 after closing the state database: SQLite's write-ahead
    log, open while the server runs, is gone once the last connection closed."""
    build_site(tmp_path)
    served = start_serve(tmp_path)
    assert httpx.get(f"{served.url}/healthz").status_code == 200
    assert (tmp_path / "state.db-wal").exists()
    assert served.stop(number) == 0
    assert "state database closed" in served.log()
    assert served.log().rstrip().endswith("INFO stopped")
    assert not (tmp_path / "state.db-wal").exists()


def test_two_workers_serve_and_stop_together(tmp_path: Path) -> None:
    """With serve.workers = 2 both processes serve; SIGTERM stops both, each closing its
    state database, and the command exits 0."""
    build_site(tmp_path)
    served = start_serve(tmp_path, serve_workers="2")
    try:
        with httpx.Client(base_url=served.url) as client:
            for _ in range(20):
                assert client.get("/atom.xml").status_code == 200
            assert client.get("/healthz").status_code == 200
    finally:
        code = served.stop()
    assert code == 0
    assert served.log().count("state database closed") == 2


def test_an_address_in_use_is_one_line_naming_the_key(tmp_path: Path) -> None:
    """When serve.listen is taken, serve exits 1 with [serve] listen and the fix."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            ["gazette", "--config", str(CONFIG), "serve"],
            env=base_environment(tmp_path, serve_listen=f"127.0.0.1:{port}"),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"[serve] listen: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "choose another address" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_other_commands_never_import_the_web_stack() -> None:
    """Importing the CLI loads neither Starlette nor uvicorn: `gazette --help` stays fast."""
    probe = "import sys, gazette.cli; print(sorted({'starlette', 'uvicorn'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr

"""The SMTP provider against a real server on loopback (aiosmtpd, STARTTLS, login)."""

from __future__ import annotations

import email
from collections.abc import Callable
from email import policy
from email.message import EmailMessage

from sqlalchemy import select

from gazette.config import Settings
from gazette.digest.tables import deliveries

from .conftest import SMTP_PASSWORD, SmtpServer, run_cli, subscribe

POSTS = [("one", "First post", 1.0), ("two", "Second post", 2.0)]
READERS = [f"reader{i}@example.org" for i in range(7)]
PASSWORD = {"GAZETTE_SMTP_PASSWORD": SMTP_PASSWORD}


def ledger(settings: Settings) -> dict[str, tuple[str, str]]:
    """recipient → (status, last_error) of every delivery."""
    store = subscribe(settings)
    with store.transaction() as connection:
        rows = connection.execute(
            select(deliveries.c.recipient, deliveries.c.status, deliveries.c.last_error)
        )
        return {r.recipient: (r.status, r.last_error) for r in rows}


def readers_site(digest_site: Callable[..., Settings], server: SmtpServer) -> Settings:
    """A site sending through ``server``, with every reader subscribed."""
    settings = digest_site(POSTS, server.config())
    subscribe(settings, *READERS)
    return settings


def test_starttls_login_and_a_refused_recipient(
    digest_site: Callable[..., Settings], smtp_server: SmtpServer
) -> None:
    """Every reader gets one message over STARTTLS with login; a refused one is failed."""
    settings = readers_site(digest_site, smtp_server)
    smtp_server.recorder.refuse.add(READERS[3])
    result = run_cli(settings.config_path, "digest", "--send", env=PASSWORD)
    assert result.returncode == 0, result.stderr
    assert "6 sent, 1 failed, 0 uncertain" in result.stdout
    for reader in READERS:
        assert smtp_server.recorder.count(reader) == (0 if reader == READERS[3] else 1)
    status, error = ledger(settings)[READERS[3]]
    assert status == "failed"
    assert "550" in error
    assert "no such mailbox" in error
    first = email.message_from_bytes(smtp_server.recorder.messages[0].data, policy=policy.default)
    assert isinstance(first, EmailMessage)
    assert first.get_content_type() == "multipart/alternative"


def test_wrong_password_stops_the_issue_and_resume_finishes_it(
    digest_site: Callable[..., Settings], smtp_server: SmtpServer
) -> None:
    """A refused login stops at once with a clear error, nothing sent; fixed, resume sends."""
    settings = readers_site(digest_site, smtp_server)
    refused = run_cli(
        settings.config_path, "digest", "--send", env={"GAZETTE_SMTP_PASSWORD": "wrong"}
    )
    assert refused.returncode == 1
    assert "refused the login of 'gazette'" in refused.stderr
    assert "GAZETTE_SMTP_PASSWORD" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert smtp_server.recorder.messages == []
    assert {status for status, _ in ledger(settings).values()} == {"pending"}
    resumed = run_cli(settings.config_path, "digest", "--resume", env=PASSWORD)
    assert resumed.returncode == 0, resumed.stderr
    assert "7 sent" in resumed.stdout
    assert all(smtp_server.recorder.count(r) == 1 for r in READERS)


def test_refused_connection_leaves_everyone_pending(
    digest_site: Callable[..., Settings], smtp_server: SmtpServer
) -> None:
    """Nobody listening: the issue stops, every recipient stays pending for --resume."""
    settings = digest_site(POSTS, smtp_server.config().replace(str(smtp_server.port), "1"))
    subscribe(settings, *READERS)
    result = run_cli(settings.config_path, "digest", "--send", env=PASSWORD)
    assert result.returncode == 1
    assert "cannot reach 127.0.0.1:1" in result.stderr
    assert "7 recipients pending" in result.stderr
    assert {status for status, _ in ledger(settings).values()} == {"pending"}


def test_dropped_after_data_is_uncertain_and_resent_only_when_asked(
    digest_site: Callable[..., Settings], smtp_server: SmtpServer
) -> None:
    """SMTP has no idempotency: a message whose answer was lost is reported, not resent."""
    settings = readers_site(digest_site, smtp_server)
    smtp_server.recorder.drop_after_data.add(READERS[1])
    sent = run_cli(settings.config_path, "digest", "--send", env=PASSWORD)
    assert sent.returncode == 0, sent.stderr
    assert "6 sent, 0 failed, 1 uncertain" in sent.stdout
    assert "--resend-uncertain" in sent.stdout
    assert ledger(settings)[READERS[1]][0] == "uncertain"
    smtp_server.recorder.drop_after_data.clear()
    again = run_cli(settings.config_path, "digest", "--resume", env=PASSWORD)
    assert "1 uncertain" in again.stdout
    assert smtp_server.recorder.count(READERS[1]) == 1  # the server did get it once
    forced = run_cli(settings.config_path, "digest", "--resume", "--resend-uncertain", env=PASSWORD)
    assert forced.returncode == 0, forced.stderr
    assert "7 sent, 0 failed, 0 uncertain" in forced.stdout
    assert smtp_server.recorder.count(READERS[1]) == 2  # asked for, so sent again
    assert all(smtp_server.recorder.count(r) == 1 for r in READERS if r != READERS[1])


def test_header_injection_in_config_is_refused(
    digest_site: Callable[..., Settings], smtp_server: SmtpServer
) -> None:
    """A line break in [mail] from stops before anything is sent, naming the key."""
    settings = digest_site(POSTS, smtp_server.config())
    config = settings.config_path
    text = config.read_text(encoding="utf-8").replace(
        'from = "Test Site <digest@test.example.org>"',
        'from = "Test Site <digest@test.example.org>\\r\\nBcc: victim@example.org"',
    )
    config.write_text(text, encoding="utf-8")
    subscribe(settings, READERS[0])
    result = run_cli(config, "digest", "--send", env=PASSWORD)
    assert result.returncode == 2
    assert "[mail] from" in result.stderr
    assert "line break" in result.stderr
    assert smtp_server.recorder.messages == []

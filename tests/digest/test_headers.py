"""Header injection: encoded words in titles, addresses and names, seen as the receiver
parses the bytes actually sent (outbox files and a real SMTP server)."""

from __future__ import annotations

import email
import unicodedata
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from gazette.config import Settings
from gazette.digest import message as digest_message
from gazette.digest.tables import deliveries, issues, subscribers
from gazette.errors import DeliveryError
from gazette.store import Store

from .conftest import DIGEST, MARKDOWN, SMTP_PASSWORD, SmtpServer, run_cli, subscribe, write_post

ATTACK = (
    "=?utf-8?q?=0D=0AReply-To:_attacker@evil.example=0D=0AList-Unsubscribe:"
    "_<https://evil.example/u>=0D=0A=0D=0Aattacker_body?="
)
SHORT_ATTACK = "=?utf-8?q?=0D=0ABcc:_x@evil.example?="
FROM_ATTACK = "=?utf-8?q?Notes=0D=0ABcc=3A_x=40evil.example?="
BAD_ADDRESS = "=?utf-8?q?=0D=0ABcc=3A_evil=40attacker.example?=@example.net"
HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
           "List-Unsubscribe-Post", "MIME-Version", "Content-Type"]  # fmt: skip


def titled_site(
    site: Callable[..., Settings], write: Callable[[str, str], Path], title: str, mail: str = ""
) -> Settings:
    """A site whose subject is the newest post's title, that post titled ``title``."""
    write_post(write, "one", title, 1.0)
    write_post(write, "two", "Second post", 2.0)
    digest = DIGEST.replace("[digest]\n", '[digest]\nsubject = "{{ posts[0].title }}"\n')
    return site(MARKDOWN, digest + mail)


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def assert_not_injected(data: bytes, title: str) -> None:
    """Only our headers, none decoding to control characters, the title as literal text."""
    message = parsed(data)
    assert message.keys() == HEADERS
    assert not [name for name, value in message.items() if has_control(str(value))]
    assert str(message["Subject"]) == title
    assert str(message["List-Unsubscribe"]).startswith("<https://test.example.org/unsubscribe?")
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]


def outbox_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "outbox").rglob("*.eml"))


@pytest.mark.parametrize("title", [ATTACK, SHORT_ATTACK], ids=["folded", "one-line"])
def test_an_encoded_word_in_a_title_stays_text_in_the_outbox(
    site: Callable[..., Settings], write: Callable[[str, str], Path], tmp_path: Path, title: str
) -> None:
    """A title holding =?…?= with CR LF adds no header and is the reader's literal Subject."""
    settings = titled_site(site, write, title)
    subscribe(settings, "reader@example.org")
    result = run_cli(settings.config_path, "digest", "--send")
    assert result.returncode == 0, result.stderr
    (eml,) = outbox_files(tmp_path)
    assert_not_injected(eml.read_bytes(), title)


def test_an_encoded_word_in_a_title_stays_text_over_smtp(
    site: Callable[..., Settings], write: Callable[[str, str], Path], smtp_server: SmtpServer
) -> None:
    """The bytes an SMTP server receives hold no injected header or body either."""
    settings = titled_site(site, write, ATTACK, smtp_server.config())
    subscribe(settings, "reader@example.org", "other@example.org")
    result = run_cli(
        settings.config_path, "digest", "--send", env={"GAZETTE_SMTP_PASSWORD": SMTP_PASSWORD}
    )
    assert result.returncode == 0, result.stderr
    assert "2 sent, 0 failed" in result.stdout
    for received in smtp_server.recorder.messages:
        assert_not_injected(received.data, ATTACK)


def test_a_from_display_name_decoding_to_a_line_break_is_refused(
    site: Callable[..., Settings], write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """An encoded CR LF in the [mail] from name stops the send, naming the key; none sent."""
    settings = titled_site(site, write, "First post")
    config = settings.config_path.read_text(encoding="utf-8")
    settings.config_path.write_text(
        config.replace('"Test Site <', f'"{FROM_ATTACK} <'), encoding="utf-8"
    )
    subscribe(settings, "reader@example.org")
    result = run_cli(settings.config_path, "digest", "--send")
    assert result.returncode == 2
    assert "[mail] from" in result.stderr
    assert "control character" in result.stderr
    assert "Traceback" not in result.stderr
    assert outbox_files(tmp_path) == []


def test_a_message_with_a_header_of_its_own_is_refused() -> None:
    """The check of the serialized message names an unexpected header and a decoded CR LF."""
    head = (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hi\r\n"
        b"Reply-To: attacker@evil.example\r\n\r\nbody\r\n"
    )
    with pytest.raises(DeliveryError, match="Reply-To"):
        digest_message.checked_message(head, ["From", "To", "Subject"], "Hi")
    encoded = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: " + SHORT_ATTACK.encode()
    with pytest.raises(DeliveryError, match=r"Subject header.*control character"):
        digest_message.checked_message(
            encoded + b"\r\n\r\nbody\r\n", ["From", "To", "Subject"], SHORT_ATTACK
        )
    with pytest.raises(DeliveryError, match="Subject header reads"):
        digest_message.checked_message(
            b"From: a@example.org\r\nSubject: Hi\r\n\r\n", ["From", "Subject"], "Ho"
        )


# --- addresses --------------------------------------------------------------------------


def test_an_encoded_word_address_is_refused_at_add_and_import(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """add and import refuse =?…?= in an address, naming it (import: file:line) and the fix."""
    settings = titled_site(site, write, "First post")
    added = run_cli(settings.config_path, "subscribers", "add", BAD_ADDRESS)
    assert added.returncode == 1
    assert repr(BAD_ADDRESS) in added.stderr
    assert "encoded word" in added.stderr
    csv_path = write("list.csv", f"ann@example.org,Ann\n{BAD_ADDRESS},Eve\n")
    imported = run_cli(settings.config_path, "subscribers", "import", str(csv_path))
    assert imported.returncode == 1
    assert f"{csv_path}:2: {BAD_ADDRESS!r}" in imported.stderr
    assert "encoded word" in imported.stderr
    assert "1 added, 0 already subscribed, 1 rows left out" in imported.stdout


def insert_old_row(store: Store, address: str, name: str = "") -> None:
    """A subscriber row as an older version may have stored it, past today's checks."""
    with store.transaction() as connection:
        connection.execute(
            subscribers.insert().values(
                address=address, address_key=address.lower(), name=name, status="active",
                created="2020-01-01T00:00:00+00:00", changed="2020-01-01T00:00:00+00:00",
            )
        )  # fmt: skip


def test_one_bad_recipient_fails_alone_and_the_issue_completes(
    site: Callable[..., Settings], write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """An old encoded-word address fails alone, with the reason, and can be removed; the
    rest are sent, an old name with CR LF reaching no header."""
    settings = titled_site(site, write, "First post")
    store = subscribe(settings, "ann@example.org")
    insert_old_row(store, BAD_ADDRESS, name="Eve")
    insert_old_row(store, "bob@example.org", name=f"Bob {SHORT_ATTACK}\r\nBcc: x@evil.example")
    result = run_cli(settings.config_path, "digest", "--send")
    assert result.returncode == 0, result.stderr
    assert "2 sent, 1 failed, 0 uncertain" in result.stdout
    with store.transaction() as connection:
        rows = {r.recipient: r for r in connection.execute(select(deliveries))}
        status = connection.execute(select(issues.c.status)).scalar_one()
    assert status == "done"
    assert rows[BAD_ADDRESS].status == "failed"
    assert "encoded word" in rows[BAD_ADDRESS].last_error
    assert [p.name for p in outbox_files(tmp_path)] == [
        "ann@example.org.eml",
        "bob@example.org.eml",
    ]
    for eml in outbox_files(tmp_path):
        assert_not_injected(eml.read_bytes(), "First post")
    removed = run_cli(settings.config_path, "subscribers", "remove", BAD_ADDRESS)
    assert removed.returncode == 0, removed.stderr


# --- names ------------------------------------------------------------------------------


def test_a_name_with_control_characters_is_refused_at_add_and_import(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """A name holding LF, CR, NUL or ESC is refused, naming the address (import: file:line)."""
    settings = titled_site(site, write, "First post")
    added = run_cli(
        settings.config_path, "subscribers", "add", "ann@example.org", "--name", "Ann\nx\tactive"
    )
    assert added.returncode == 1
    assert "ann@example.org" in added.stderr
    assert "control character" in added.stderr
    rows = 'email,name\nbob@example.org,"Bob\nforged"\ncarol@example.org,Ca\x1b[2Jrol\n'
    csv_path = write("list.csv", rows)
    imported = run_cli(settings.config_path, "subscribers", "import", str(csv_path))
    assert imported.returncode == 1
    assert f"{csv_path}:2: the name of bob@example.org" in imported.stderr
    assert f"{csv_path}:4: the name of carol@example.org" in imported.stderr
    assert "\x1b" not in imported.stderr
    assert "0 added, 0 already subscribed, 2 rows left out" in imported.stdout
    listed = run_cli(settings.config_path, "subscribers", "list")
    assert listed.stdout == ""


def test_list_escapes_control_characters_of_old_rows(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """Names and addresses stored by an older version print as one escaped line each."""
    settings = titled_site(site, write, "First post")
    store = subscribe(settings, "ann@example.org")
    insert_old_row(store, "bob@example.org", name="Bob\nmallory@evil.example\tactive\x1b[2J")
    insert_old_row(store, "c\rd@example.org")
    listed = run_cli(settings.config_path, "subscribers", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "ann@example.org",
        "bob@example.org",
        "c\\rd@example.org",
    ]
    assert lines[1].endswith("\tBob\\nmallory@evil.example\\tactive\\x1b[2J")
    assert not has_control(listed.stdout.replace("\t", "").replace("\n", ""))

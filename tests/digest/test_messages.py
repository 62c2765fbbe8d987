"""Messages as the outbox writes them, parsed back: MIME, RFC 8058 headers, tokens."""

from __future__ import annotations

import email
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from gazette.config import Settings
from gazette.digest.confirmations import subscriber_of_token
from gazette.digest.message import checked_header
from gazette.digest.tokens import (
    make_token,
    secret_key,
    token_subscriber,
    verify_subscriber_token,
    verify_token,
)
from gazette.errors import ConfigError, DeliveryError
from gazette.mail import make_provider
from gazette.store import Store

from ..tokens import b64, older_token
from .conftest import run_cli, subscribe

POSTS = [("one", "First post", 1.0), ("two", "Second post", 2.0)]
ENV_KEY = "x4Jq2vR9sT1uW8yZ0aB3cD6eF7gH5iKlMnOpQr"  # 38 characters, as a key must be long


def sent_message(settings: Settings, tmp_path: Path, reader: str) -> EmailMessage:
    subscribe(settings, reader)
    result = run_cli(settings.config_path, "digest", "--send")
    assert result.returncode == 0, result.stderr
    (eml,) = (tmp_path / "outbox").rglob(f"{reader}.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def stored_key(settings: Settings) -> bytes:
    store = Store(settings.database_url)
    with store.transaction() as connection:
        return secret_key(connection, {})


def test_outbox_message_is_multipart_with_one_click_unsubscribe(
    digest_site: Callable[..., Settings], tmp_path: Path
) -> None:
    """The .eml is text+HTML alternative with List-Unsubscribe as RFC 8058 wants."""
    settings = digest_site(POSTS)
    message = sent_message(settings, tmp_path, "reader@example.org")
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (u.strip() for u in str(message["List-Unsubscribe"]).split(","))
    assert https.startswith("<https://test.example.org/unsubscribe?token=")
    assert https.endswith(">")
    assert mailto == "<mailto:unsubscribe@test.example.org?subject=unsubscribe>"
    token = parse_qs(urlsplit(https[1:-1]).query)["token"][0]
    with Store(settings.database_url).transaction() as connection:
        named = subscriber_of_token(connection, stored_key(settings), token)
    assert named.address == "reader@example.org"
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Id"):
        assert message[name], name
    assert message["To"] == "reader@example.org"
    assert str(message["List-Id"]) == "Test Site <digest.test.example.org>"
    html = message.get_body(("html",))
    assert html is not None
    assert https[1:-1].replace("&", "&amp;") in html.get_content()
    assert (tmp_path / "outbox").joinpath("gazette-issue1", "reader@example.org.html").is_file()


def test_tampered_or_foreign_tokens_fail() -> None:
    """Only a token made with the key for this subscriber verifies; another id, address,
    key or signature does not."""
    key = b"k" * 32
    token = make_token(key, 7, "reader@example.org")
    assert token_subscriber(token) == 7
    assert verify_subscriber_token(key, token, 7, "reader@example.org")
    assert verify_subscriber_token(key, token, 7, "Reader@Example.org")  # one address
    assert not verify_subscriber_token(key, token, 7, "other@example.org")
    assert not verify_subscriber_token(key, token, 8, "reader@example.org")
    assert not verify_subscriber_token(b"x" * 32, token, 7, "reader@example.org")
    assert not verify_subscriber_token(key, token[:-1] + "A", 7, "reader@example.org")
    assert token_subscriber(token.replace("2.7.", "2.07.")) == 7
    assert not verify_subscriber_token(key, token.replace("2.7.", "2.07."), 7,
                                       "reader@example.org")  # fmt: skip
    assert token_subscriber("2.x.abc") is None
    assert token_subscriber("nonsense") is None


def test_the_new_token_does_not_spell_the_address() -> None:
    """The address appears in the token neither as text nor base64url."""
    token = make_token(b"k" * 32, 7, "reader@example.org")
    assert "reader" not in token
    assert b64(b"reader@example.org")[:8] not in token


def test_tokens_of_the_older_format_still_verify() -> None:
    """``<address>.<signature>`` tokens in mail already sent name their address; a changed
    address or signature does not verify."""
    key = b"k" * 32
    token = older_token("reader@example.org", key)
    address, _, signature = token.partition(".")
    other = older_token("other@example.org", key).partition(".")[0]
    assert token_subscriber(token) is None
    assert verify_token(key, token) == "reader@example.org"
    assert verify_token(b"x" * 32, token) is None
    assert verify_token(key, f"{other}.{signature}") is None
    assert verify_token(key, f"{address}.{signature[:-1]}A") is None
    assert verify_token(key, token + "!") is None
    assert verify_token(key, "nonsense") is None


def test_secret_key_is_made_once_and_kept(digest_site: Callable[..., Settings]) -> None:
    """Without GAZETTE_SECRET_KEY the key is stored, so links stay valid across runs."""
    settings = digest_site(POSTS)
    subscribe(settings)
    first, second = stored_key(settings), stored_key(settings)
    assert first == second
    assert len(first) == 32
    store = Store(settings.database_url)
    with store.transaction() as connection:
        given = {"GAZETTE_SECRET_KEY": ENV_KEY}
        assert secret_key(connection, given) == ENV_KEY.encode()


def test_short_secret_key_is_refused_with_how_to_make_one(
    digest_site: Callable[..., Settings],
) -> None:
    """A GAZETTE_SECRET_KEY under 32 characters is a ConfigError that shows how to make one."""
    settings = digest_site(POSTS)
    store = Store(settings.database_url)
    with store.transaction() as connection, pytest.raises(ConfigError) as refused:
        secret_key(connection, {"GAZETTE_SECRET_KEY": "anything"})
    message = str(refused.value)
    assert "GAZETTE_SECRET_KEY is 8 characters" in message
    assert "at least 32" in message
    assert 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    assert "anything" not in message


def test_send_with_a_short_secret_key_exits_2_with_one_line_and_sends_nothing(
    digest_site: Callable[..., Settings], tmp_path: Path
) -> None:
    """`digest --send` with a short key stops before sending: one line on stderr, exit 2."""
    settings = digest_site(POSTS)
    subscribe(settings, "reader@example.org")
    result = run_cli(settings.config_path, "digest", "--send", env={"GAZETTE_SECRET_KEY": "a" * 31})
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "GAZETTE_SECRET_KEY is 31 characters" in line
    assert "secrets.token_urlsafe(32)" in line
    assert not list((tmp_path / "outbox").rglob("*.eml"))


def test_line_breaks_in_header_values_are_refused(digest_site: Callable[..., Settings]) -> None:
    """CR or LF in a header value is refused, naming the header."""
    with pytest.raises(DeliveryError, match="Subject header"):
        checked_header("Subject", "Hello\r\nBcc: victim@example.org")
    with pytest.raises(DeliveryError, match="To header"):
        checked_header("To", "a@example.org\nX-Evil: 1")
    assert checked_header("Subject", "Hello") == "Hello"


def test_missing_provider_module_is_a_config_error(digest_site: Callable[..., Settings]) -> None:
    """A provider without a module in this installation is one clear ConfigError."""
    settings = digest_site(POSTS)
    mail = settings.mail.model_copy(update={"provider": "carrier-pigeon"})
    with pytest.raises(ConfigError, match="'carrier-pigeon' is not part of this installation"):
        make_provider(settings.model_copy(update={"mail": mail}), {})


def test_smtp_without_password_is_a_config_error(digest_site: Callable[..., Settings]) -> None:
    """A login name without GAZETTE_SMTP_PASSWORD stops at start-up, naming the variable."""
    smtp = 'provider = "smtp"\nsmtp_host = "localhost"\nsmtp_username = "u"\n'
    settings = digest_site(POSTS, smtp)
    with pytest.raises(ConfigError, match="GAZETTE_SMTP_PASSWORD: not set"):
        make_provider(settings, {})

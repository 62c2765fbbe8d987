"""The subscriber pages' rules without HTTP: masking, tokens, requests and their limits,
confirming, unsubscribing by token, and the confirmation mails' outbox (a provider
failure leaves a mail queued; a claimed one is never sent twice)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection

from gazette.config import Settings, load_settings
from gazette.digest import confirmation_mail
from gazette.digest.confirmations import (
    ExpiredToken,
    Limits,
    TokenError,
    confirm_by_token,
    mask_address,
    request_subscription,
    unsubscribe_by_token,
)
from gazette.digest.render import environment
from gazette.digest.subscribers import add_subscriber, find_subscriber
from gazette.digest.tables import confirmation_mails
from gazette.digest.tokens import (
    make_confirm_token,
    make_token,
    verify_confirm_token,
    verify_token,
)
from gazette.errors import SubscriberError
from gazette.scheduler.status import describe_status, read_status, status_as_json
from gazette.store import Store

from ..conftest import ROOT

KEY = b"k" * 40
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIMITS = Limits(confirm_ttl=7 * 86400, confirm_interval=3600, per_minute=3)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    made = Store(f"sqlite:///{tmp_path / 'state.db'}")
    yield made  # type: ignore[misc]
    made.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    environ = {"GAZETTE_STATE_DATABASE": f"sqlite:///{tmp_path / 'state.db'}",
               "GAZETTE_MAIL_OUTBOX": str(tmp_path / "outbox"),
               "GAZETTE_SERVE_URL": "https://news.example.org"}  # fmt: skip
    return load_settings(ROOT / "config" / "gazette.toml", environ=environ)


def request(store: Store, address: str, now: datetime = NOW, client: str = "192.0.2.1") -> float:
    with store.transaction() as connection:
        return request_subscription(connection, address, "", client, LIMITS, now).retry_after


def status(store: Store, address: str) -> str:
    with store.transaction() as connection:
        found = find_subscriber(connection, address)
    assert found is not None
    return found.status


def unsubscribe_token(connection: Connection, address: str) -> str:
    found = find_subscriber(connection, address)
    assert found is not None
    return make_token(KEY, found.id, found.address)


def test_mask_keeps_the_first_letter_and_the_domain() -> None:
    """reader@example.org shows as r•••@example.org; a one-letter local part likewise."""
    assert mask_address("reader@example.org") == "r•••@example.org"
    assert mask_address("a@b.example") == "a•••@b.example"


def test_tokens_of_the_two_purposes_do_not_stand_for_each_other() -> None:
    """An unsubscribe token is no confirmation token, and the other way round."""
    unsubscribe = make_token(KEY, 1, "reader@example.org")
    confirm = make_confirm_token(KEY, "reader@example.org", 1.0, 2.0)
    assert verify_confirm_token(KEY, unsubscribe) is None
    assert verify_token(KEY, confirm) is None
    claim = verify_confirm_token(KEY, confirm)
    assert claim is not None
    assert (claim.address, claim.issued, claim.expires) == ("reader@example.org", 1.0, 2.0)


def test_a_request_records_pending_and_queues_one_mail(store: Store) -> None:
    """A new address is pending with one queued mail; asked again within the interval it
    is refused for the rest of the hour; after it, a second mail is queued."""
    assert request(store, "New@Example.org") == 0
    assert status(store, "New@example.org") == "pending"
    assert request(store, "new@example.org", NOW + timedelta(minutes=10)) == 3000
    assert request(store, "new@example.org", NOW + timedelta(hours=1, minutes=1)) == 0
    with store.transaction() as connection:
        assert len(list(connection.execute(confirmation_mails.select()))) == 2


def test_a_client_over_its_cap_is_refused_until_the_next_minute(store: Store) -> None:
    """The fourth request of a client in one minute waits for the next minute."""
    waits = [request(store, f"a{n}@example.org", NOW + timedelta(seconds=n)) for n in range(4)]
    assert waits == [0, 0, 0, 57]
    assert request(store, "a9@example.org", NOW + timedelta(seconds=61)) == 0


def test_an_active_address_gets_no_mail_and_a_bad_one_is_refused(store: Store) -> None:
    """Active stays active with no mail queued; an address `subscribers add` refuses
    raises SubscriberError."""
    with store.transaction() as connection:
        add_subscriber(connection, "on@example.org", "", NOW)
        done = request_subscription(connection, "on@example.org", "", "c", LIMITS, NOW)
    assert done.mail is None
    assert status(store, "on@example.org") == "active"
    with pytest.raises(SubscriberError, match="not an email address"), store.transaction() as c:
        request_subscription(c, "no", "", "c", LIMITS, NOW)


def test_confirm_activates_and_an_expired_or_foreign_token_does_not(store: Store) -> None:
    """A valid token activates; an expired one is ExpiredToken, another key's TokenError."""
    request(store, "me@example.org")
    moment = NOW.timestamp()
    expired = make_confirm_token(KEY, "me@example.org", moment, moment + 10)
    with pytest.raises(ExpiredToken), store.transaction() as connection:
        confirm_by_token(connection, KEY, expired, NOW + timedelta(seconds=11))
    foreign = make_confirm_token(b"o" * 40, "me@example.org", moment, moment + 100)
    with pytest.raises(TokenError), store.transaction() as connection:
        confirm_by_token(connection, KEY, foreign, NOW)
    assert status(store, "me@example.org") == "pending"
    good = make_confirm_token(KEY, "me@example.org", moment, moment + 100)
    with store.transaction() as connection:
        confirm_by_token(connection, KEY, good, NOW)
    assert status(store, "me@example.org") == "active"


def test_unsubscribe_by_token_keeps_bounced_and_refuses_tampering(store: Store) -> None:
    """Active becomes unsubscribed (twice is fine); bounced stays bounced; a changed
    token is a TokenError."""
    with store.transaction() as connection:
        add_subscriber(connection, "u@example.org", "", NOW)
        add_subscriber(connection, "b@example.org", "", NOW, status="bounced")
        token = unsubscribe_token(connection, "u@example.org")
        assert unsubscribe_by_token(connection, KEY, token, NOW).changed
        assert not unsubscribe_by_token(connection, KEY, token, NOW).changed
        unsubscribe_by_token(connection, KEY, unsubscribe_token(connection, "b@example.org"), NOW)
        with pytest.raises(TokenError):
            unsubscribe_by_token(connection, KEY, token + "x", NOW)
    assert (status(store, "u@example.org"), status(store, "b@example.org")) == (
        "unsubscribed", "bounced",
    )  # fmt: skip


def test_a_provider_failure_leaves_the_mail_queued_and_it_goes_once(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """With the outbox unwritable (a file where its folder should be) the mail stays
    queued with the error; once writable it is sent, and a second run sends nothing."""
    request(store, "later@example.org")
    (tmp_path / "outbox").write_text("in the way", encoding="utf-8")
    assert confirmation_mail.send_queued(store, settings, environment(settings), KEY, {}) == 0
    with store.transaction() as connection:
        row = connection.execute(confirmation_mails.select()).one()._mapping
    assert (row["status"], row["attempts"]) == ("queued", 1)
    assert "outbox: cannot write" in row["last_error"]
    (tmp_path / "outbox").unlink()
    assert confirmation_mail.send_queued(store, settings, environment(settings), KEY, {}) == 1
    assert confirmation_mail.send_queued(store, settings, environment(settings), KEY, {}) == 0
    eml = tmp_path / "outbox" / "gazette-confirm" / "later@example.org.eml"
    assert b"https://news.example.org/confirm?token=" in eml.read_bytes()


def test_a_claimed_mail_is_not_claimed_again(store: Store) -> None:
    """Two processes claiming one row: only the first gets it."""
    request(store, "claim@example.org")
    with store.transaction() as connection:
        mail = connection.execute(confirmation_mails.select()).one()._mapping["id"]
        assert confirmation_mail.claim(connection, mail, NOW)
        assert not confirmation_mail.claim(connection, mail, NOW)


def test_status_counts_pending_subscribers_and_unsent_confirmation_mails(
    store: Store, settings: Settings
) -> None:
    """`gazette status` (and --json) shows who waits for a confirmation and which
    confirmation mails are not sent yet."""
    with store.transaction() as connection:
        add_subscriber(connection, "on@example.org", "", NOW)
    request(store, "first@example.org")
    request(store, "second@example.org")
    found = read_status(settings, store, NOW)
    *_, line, page = describe_status(found, settings)
    assert line.startswith("subscribers: 1 active, 2 pending")
    assert page == "subscribe page: https://news.example.org/subscribe (while `gazette serve` runs)"
    assert "confirmation mails: 2 not sent yet" in line
    as_json = status_as_json(found, settings)
    assert as_json["subscribers"] == {"active": 1, "pending": 2}
    assert as_json["confirmation_mails"] == {"queued": 2}
    assert as_json["subscribe_page"] == "https://news.example.org/subscribe"

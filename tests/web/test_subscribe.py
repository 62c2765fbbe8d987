"""Double opt-in against the real `gazette serve` with the outbox provider: the form,
the pending row, the confirmation mail read from the outbox, its link (a GET changes
nothing), the POST that activates; the same answer whatever the state; expiry."""

from __future__ import annotations

import email
import email.policy
import html
import itertools
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gazette.digest.tokens import make_confirm_token, make_token

from .conftest import Served, build_site, start_serve
from .test_unsubscribe import KEY, gazette, status_of
from .test_unsubscribe import token as unsubscribe_token

_ADDRESSES = itertools.count()


def fresh_address() -> str:
    return f"new{next(_ADDRESSES)}@example.org"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("subscribe")
    build_site(folder)
    return folder


def serve_settings(site: Path, **more: str) -> dict[str, str]:
    # A high cap per client: these tests all come from 127.0.0.1.
    return {"secret_key": KEY, "mail_outbox": str(site / "outbox"),
            "serve_subscribe_per_minute": "1000", **more}  # fmt: skip


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[Served]:
    server = start_serve(site, **serve_settings(site))
    yield server
    server.stop()


def confirmation_eml(site: Path, address: str, timeout: float = 10.0) -> Path:
    """The confirmation mail the outbox holds for ``address``, once written."""
    path = site / "outbox" / "gazette-confirm" / f"{address}.eml"
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"no confirmation mail for {address}"
    return path


def confirm_link(eml: Path) -> str:
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"(http://\S+/confirm\?token=\S+)", body.get_content())
    assert found is not None
    return found[1]


def mails_for(site: Path, address: str) -> int:
    with sqlite3.connect(site / "state.db") as connection:
        return int(connection.execute(
            "SELECT count(*) FROM confirmation_mails WHERE recipient = ?", (address,)
        ).fetchone()[0])  # fmt: skip


def test_the_form_has_a_honeypot_and_no_script(served: Served) -> None:
    """GET /subscribe: a form posting to /subscribe with email, name and a hidden
    honeypot field; no JavaScript; the CSP allows only this origin's forms."""
    answer = httpx.get(f"{served.url}/subscribe")
    assert answer.status_code == 200
    assert '<form method="post" action="/subscribe">' in answer.text
    assert 'name="email"' in answer.text
    assert 'name="name"' in answer.text
    assert re.search(r'<div class="trap" aria-hidden="true">.*name="website"', answer.text)
    assert "<script" not in answer.text
    assert "form-action 'self'" in answer.headers["content-security-policy"]


def test_subscribe_mail_link_and_confirm(served: Served, site: Path) -> None:
    """POST /subscribe records pending; the outbox gets a confirmation mail; its link's
    GET is a page with a button that changes nothing; the POST makes the address active."""
    address = fresh_address()
    answer = httpx.post(f"{served.url}/subscribe", data={"email": address, "name": "New"})
    assert answer.status_code == 200
    assert "Check your mail" in answer.text
    assert status_of(site, address) == "pending"
    link = confirm_link(confirmation_eml(site, address))
    page = httpx.get(link)
    assert page.status_code == 200
    assert "n•••@example.org" in page.text
    assert status_of(site, address) == "pending"
    token = urlsplit(link).query.removeprefix("token=")
    assert f'value="{html.escape(token)}"' in page.text
    done = httpx.post(f"{served.url}/confirm", data={"token": token})
    assert done.status_code == 200
    assert "You are subscribed" in done.text
    assert status_of(site, address) == "active"
    assert mails_for(site, address) == 1


def test_the_answer_is_the_same_whatever_the_state(served: Served, site: Path) -> None:
    """A new, a pending-and-asked-again and an active address get the same page; an
    active one gets no mail."""
    active = fresh_address()
    gazette(site, "subscribers", "add", active)
    pages = []
    for address in (fresh_address(), active):
        answer = httpx.post(f"{served.url}/subscribe", data={"email": address})
        pages.append((answer.status_code, answer.text))
    assert pages[0] == pages[1]
    assert mails_for(site, active) == 0


def test_json_is_answered_when_asked(served: Served, site: Path) -> None:
    """Accept: application/json gets 202 and a JSON body; a bad address a JSON 400."""
    address = fresh_address()
    headers = {"accept": "application/json"}
    answer = httpx.post(f"{served.url}/subscribe", data={"email": address}, headers=headers)
    assert (answer.status_code, answer.json()["status"]) == (202, "accepted")
    bad = httpx.post(f"{served.url}/subscribe", data={"email": "nope"}, headers=headers)
    assert bad.status_code == 400
    assert "not an email address" in bad.json()["problem"]
    assert status_of(site, address) == "pending"


def test_a_form_on_the_blog_gets_a_303_to_the_thank_you_page(served: Served) -> None:
    """A POST whose Origin is site.url's is sent back with 303 to /subscribe/thanks."""
    answer = httpx.post(f"{served.url}/subscribe", data={"email": fresh_address()},
                        headers={"origin": "https://notes.example.org"})  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == "/subscribe/thanks"
    assert "Check your mail" in httpx.get(f"{served.url}/subscribe/thanks").text


def test_bad_address_and_honeypot_record_nothing(served: Served, site: Path) -> None:
    """An address `subscribers add` would refuse is a 400 page saying why; a filled
    honeypot gets the usual answer and records nothing."""
    bad = httpx.post(f"{served.url}/subscribe", data={"email": "not an address"})
    assert bad.status_code == 400
    assert "not an email address" in bad.text
    address = fresh_address()
    trapped = httpx.post(f"{served.url}/subscribe",
                         data={"email": address, "website": "http://spam.example"})  # fmt: skip
    assert trapped.status_code == 200
    assert status_of(site, address) is None


def test_an_unsubscribed_address_comes_back_only_by_confirming(served: Served, site: Path) -> None:
    """Unsubscribed, then asking again: still unsubscribed until the new link is POSTed."""
    address = fresh_address()
    gazette(site, "subscribers", "add", address)
    httpx.post(f"{served.url}/unsubscribe", params={"token": unsubscribe_token(site, address)})
    assert status_of(site, address) == "unsubscribed"
    httpx.post(f"{served.url}/subscribe", data={"email": address})
    link = confirm_link(confirmation_eml(site, address))
    assert status_of(site, address) == "unsubscribed"
    token = urlsplit(link).query.removeprefix("token=")
    assert httpx.post(f"{served.url}/confirm", data={"token": token}).status_code == 200
    assert status_of(site, address) == "active"


def test_an_old_link_does_not_undo_a_later_unsubscribe(served: Served, site: Path) -> None:
    """A confirmation link asked before the address unsubscribed changes nothing after."""
    address = fresh_address()
    httpx.post(f"{served.url}/subscribe", data={"email": address})
    token = urlsplit(confirm_link(confirmation_eml(site, address))).query[len("token="):]
    httpx.post(f"{served.url}/confirm", data={"token": token})
    httpx.post(f"{served.url}/unsubscribe", params={"token": unsubscribe_token(site, address)})
    again = httpx.post(f"{served.url}/confirm", data={"token": token})
    assert again.status_code == 410
    assert status_of(site, address) == "unsubscribed"


def test_an_expired_link_says_so_and_offers_a_new_one(served: Served, site: Path) -> None:
    """A confirmation token past its expiry: GET and POST are 410 pages with a form that
    asks for a new link (carrying the token, not the address); nothing changes."""
    address = fresh_address()
    httpx.post(f"{served.url}/subscribe", data={"email": address})
    now = time.time()
    old = make_confirm_token(KEY.encode(), address, now - 8 * 86400, now - 86400)
    page = httpx.get(f"{served.url}/confirm", params={"token": old})
    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert f'<input type="hidden" name="token" value="{old}">' in page.text
    assert address not in page.text
    assert httpx.post(f"{served.url}/confirm", data={"token": old}).status_code == 410
    assert status_of(site, address) == "pending"


@pytest.mark.parametrize("bad", ["", "garbage", make_token(KEY.encode(), 1, "x@example.org")])
def test_a_bad_confirmation_token_is_400(served: Served, bad: str) -> None:
    """Empty, malformed, or an unsubscribe token (another purpose): 400 for GET and POST."""
    assert httpx.get(f"{served.url}/confirm", params={"token": bad}).status_code == 400
    assert httpx.post(f"{served.url}/confirm", data={"token": bad}).status_code == 400


def test_form_bodies_never_reach_the_log(served: Served, site: Path) -> None:
    """The address posted to /subscribe and the token posted to /confirm are not logged."""
    address = fresh_address()
    httpx.post(f"{served.url}/subscribe", data={"email": address})
    token = urlsplit(confirm_link(confirmation_eml(site, address))).query[len("token="):]
    httpx.post(f"{served.url}/confirm", data={"token": token})
    log = served.wait_for_log('"POST /confirm HTTP/1.1" 200')
    assert address not in log
    assert token.split(".")[1] not in log


def test_the_new_link_forms_carry_a_token_and_ask_for_a_new_mail(
    served: Served, site: Path
) -> None:
    """"Send a new link" (an expired confirmation token) and "Subscribe again" (an
    unsubscribe token) post their token, and each queues a new confirmation mail for the
    address it names; a made-up token is a 400 and queues nothing."""
    expired_for, unsubscribed = fresh_address(), fresh_address()
    now = time.time()
    old = make_confirm_token(KEY.encode(), expired_for, now - 8 * 86400, now - 86400)
    gazette(site, "subscribers", "add", unsubscribed)
    left = unsubscribe_token(site, unsubscribed)
    done = httpx.post(f"{served.url}/unsubscribe", params={"token": left})
    assert unsubscribed not in done.text
    assert f'<input type="hidden" name="token" value="{left}">' in done.text
    for token, address in ((old, expired_for), (left, unsubscribed)):
        answer = httpx.post(f"{served.url}/subscribe", data={"token": token})
        assert answer.status_code == 200
        assert mails_for(site, address) == 1, address
    bad = httpx.post(f"{served.url}/subscribe", data={"token": "2.1.forged"})
    assert bad.status_code == 400
    assert status_of(site, unsubscribed) == "unsubscribed"

"""One-click unsubscribe against the real `gazette serve`: the page, the form's POST and
RFC 8058's POST as mailbox providers send it, bad tokens, and a digest's own link."""

from __future__ import annotations

import base64
import email
import email.policy
import itertools
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gazette.digest.tokens import make_token

from .. import tokens
from .conftest import CONFIG, Served, base_environment, build_site, start_serve

KEY = "k" * 40
OTHER_KEY = "o" * 40
READER = "reader@example.org"
ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def gazette(site: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """The real CLI against the site's state database, with the test's signing key."""
    env = base_environment(site, secret_key=KEY, **settings)
    done = subprocess.run(["gazette", "--config", str(CONFIG), *args], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def status_of(site: Path, address: str) -> str | None:
    with sqlite3.connect(site / "state.db") as connection:
        row = connection.execute(
            "SELECT status FROM subscribers WHERE address_key = ?", (address.lower(),)
        ).fetchone()
    return row[0] if row else None


def subscriber_id(site: Path, address: str) -> int:
    with sqlite3.connect(site / "state.db") as connection:
        row = connection.execute(
            "SELECT id FROM subscribers WHERE address_key = ?", (address.lower(),)
        ).fetchone()
    return int(row[0])


def token(site: Path, address: str, key: str = KEY) -> str:
    return make_token(key.encode(), subscriber_id(site, address), address)


def older_token(address: str, key: str = KEY) -> str:
    return tokens.older_token(address, key.encode())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unsubscribe")
    build_site(folder)
    return folder


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[Served]:
    server = start_serve(site, secret_key=KEY)
    yield server
    server.stop()


_READERS = itertools.count()


@pytest.fixture
def reader(site: Path) -> str:
    """A fresh active subscriber for each test."""
    address = f"reader{next(_READERS)}@example.org"
    gazette(site, "subscribers", "add", address)
    return address


def _swapped_subscriber(site: Path, address: str) -> str:
    """Another subscriber's id under this subscriber's signature."""
    version, number, signature = token(site, address).split(".")
    return f"{version}.{int(number) - 1}.{signature}"


def _swapped_payload(_site: Path, address: str) -> str:
    """Another address's payload under this address's signature (the older format)."""
    intruder = older_token("intruder@example.org").split(".")[0]
    return f"{intruder}.{older_token(address).split('.')[1]}"


def _tampered(good: str) -> str:
    return good[:-2] + ("AA" if not good.endswith("AA") else "BB")


def test_get_shows_the_list_and_the_masked_address_and_changes_nothing(
    served: Served, site: Path, reader: str
) -> None:
    """GET /unsubscribe?token=… is a page naming the site and r•••@example.org, with one
    POST button to this URL, and the subscriber stays active."""
    answer = httpx.get(f"{served.url}/unsubscribe", params={"token": token(site, reader)})
    assert answer.status_code == 200
    assert "Example Notes 示例笔记" in answer.text
    assert f"{reader[0]}•••@example.org" in answer.text
    assert reader not in answer.text
    assert re.search(r'<form method="post" action="\?token=[^"]+">', answer.text)
    assert "<script" not in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert status_of(site, reader) == "active"


def test_one_click_form_post_unsubscribes(served: Served, site: Path, reader: str) -> None:
    """RFC 8058 as a mailbox provider sends it: POST, form body List-Unsubscribe=One-Click,
    no cookie, redirects not followed: 200 and the subscriber is unsubscribed."""
    with httpx.Client(follow_redirects=False) as client:
        answer = client.post(
            f"{served.url}/unsubscribe?token={token(site, reader)}", content=ONE_CLICK,
            headers=FORM,
        )  # fmt: skip
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers
    assert status_of(site, reader) == "unsubscribed"


def test_one_click_multipart_post_unsubscribes(served: Served, site: Path, reader: str) -> None:
    """The same one-click POST sent as multipart/form-data also answers 200 and unsubscribes."""
    answer = httpx.post(
        f"{served.url}/unsubscribe", params={"token": token(site, reader)},
        files={"List-Unsubscribe": (None, "One-Click")},
    )  # fmt: skip
    assert answer.status_code == 200
    assert status_of(site, reader) == "unsubscribed"


def test_a_second_post_is_still_200_and_offers_to_subscribe_again(
    served: Served, site: Path, reader: str
) -> None:
    """Unsubscribing twice is fine; the page after it offers a form to subscribe again."""
    url = f"{served.url}/unsubscribe?token={token(site, reader)}"
    assert httpx.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    again = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    assert '<form method="post" action="/subscribe">' in again.text
    assert status_of(site, reader) == "unsubscribed"


BAD_TOKENS: dict[str, Callable[[Path, str], str]] = {
    "tampered": lambda site, address: _tampered(token(site, address)),
    "foreign": lambda site, address: token(site, address, OTHER_KEY),
    "malformed": lambda _site, _address: "not a token",
    "empty": lambda _site, _address: "",
    "another subscriber": _swapped_subscriber,
    "an id with leading zeros": lambda site, address: token(site, address).replace(".", ".0", 1),
    "older format, tampered": lambda _site, address: _tampered(older_token(address)),
    "older format, foreign": lambda _site, address: older_token(address, OTHER_KEY),
    "older format, another address": _swapped_payload,
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_a_bad_token_is_a_400_page_and_changes_nothing(
    served: Served, site: Path, reader: str, kind: str
) -> None:
    """A tampered, foreign (other key), malformed or empty token: 400 pages for GET and
    POST, and the subscriber stays active."""
    bad = BAD_TOKENS[kind](site, reader)
    for method in ("GET", "POST"):
        body = ONE_CLICK.encode() if method == "POST" else None
        answer = httpx.request(method, f"{served.url}/unsubscribe", params={"token": bad},
                               content=body)  # fmt: skip
        assert answer.status_code == 400, (method, answer.text)
        assert "This link does not work" in answer.text
    assert status_of(site, reader) == "active"


def test_the_token_never_reaches_the_log(served: Served, site: Path, reader: str) -> None:
    """Neither the query's token nor the POST body appears in the access log."""
    secret = token(site, reader)
    httpx.post(f"{served.url}/unsubscribe?token={secret}", data={"token": secret})
    log = served.wait_for_log('"POST /unsubscribe?token=***')
    assert secret.split(".")[2] not in log
    assert reader not in log


def test_a_link_in_mail_sent_before_the_new_format_still_unsubscribes(
    served: Served, site: Path, reader: str
) -> None:
    """A token of the older format (the address and its signature) still shows the page
    and unsubscribes its subscriber, so links in mail already sent keep working."""
    old = older_token(reader)
    page = httpx.get(f"{served.url}/unsubscribe", params={"token": old})
    assert page.status_code == 200
    assert f"{reader[0]}•••@example.org" in page.text
    answer = httpx.post(f"{served.url}/unsubscribe?token={old}", content=ONE_CLICK, headers=FORM)
    assert answer.status_code == 200
    assert status_of(site, reader) == "unsubscribed"


def test_a_digest_link_from_the_outbox_unsubscribes(tmp_path: Path) -> None:
    """A real digest written by `gazette digest --send` to the outbox: its List-Unsubscribe
    URL, followed as RFC 8058 says, unsubscribes its recipient."""
    build_site(tmp_path)
    outbox = tmp_path / "outbox"
    settings = {"mail_outbox": str(outbox),
                "digest_unsubscribe_url": "https://news.example.org/unsubscribe"}  # fmt: skip
    gazette(tmp_path, "subscribers", "add", READER, **settings)
    gazette(tmp_path, "digest", "--send", **settings)
    eml = next(outbox.glob(f"*/{READER}.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["List-Unsubscribe-Post"] == ONE_CLICK
    link = re.search(r"<(https://[^>]+)>", str(message["List-Unsubscribe"]))
    assert link is not None
    assert_names_no_address(link[1], READER)
    served = start_serve(tmp_path, secret_key=KEY)
    try:
        query = urlsplit(link[1]).query
        page = httpx.get(f"{served.url}/unsubscribe?{query}")
        assert page.status_code == 200
        assert status_of(tmp_path, READER) == "active"
        answer = httpx.post(f"{served.url}/unsubscribe?{query}", content=ONE_CLICK,
                            headers=FORM)  # fmt: skip
        assert answer.status_code == 200
    finally:
        served.stop()
    assert status_of(tmp_path, READER) == "unsubscribed"


def assert_names_no_address(link: str, address: str) -> None:
    """Neither the address nor any base64 spelling of it is in the link."""
    encoded = base64.urlsafe_b64encode(address.encode()).decode().rstrip("=")
    assert address not in link
    assert encoded[:8] not in link, link


def test_a_local_trial_on_loopback_http_sends_with_its_own_link(tmp_path: Path) -> None:
    """An unsubscribe link on loopback http (a local trial's serve): the digest goes out
    with it; an http link anywhere else is still refused."""
    build_site(tmp_path)
    local = {"mail_outbox": str(tmp_path / "outbox"),
             "digest_unsubscribe_url": "http://127.0.0.1:8080/unsubscribe"}  # fmt: skip
    gazette(tmp_path, "subscribers", "add", READER, **local)
    gazette(tmp_path, "digest", "--send", **local)
    eml = next((tmp_path / "outbox").glob(f"*/{READER}.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert str(message["List-Unsubscribe"]).startswith("<http://127.0.0.1:8080/unsubscribe?token=2.")
    remote = {**local, "digest_unsubscribe_url": "http://news.example.org/unsubscribe"}
    other = tmp_path / "remote"
    build_site(other)
    gazette(other, "subscribers", "add", READER)
    refused = subprocess.run(
        ["gazette", "--config", str(CONFIG), "digest", "--send"],
        env=base_environment(other, secret_key=KEY, **remote), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "[digest] unsubscribe_url" in refused.stderr
    assert "needs an https URL" in refused.stderr

"""Rate limits of POST /subscribe, kept in the state database (SQLite and PostgreSQL):
one request per address per serve.confirm_interval, serve.subscribe_per_minute per
client, 429 with Retry-After past them; concurrent requests make one row and one mail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from gazette.store import Store

from .conftest import Served, build_site, start_serve
from .test_unsubscribe import KEY


@pytest.fixture
def limited(tmp_path: Path, state_url: str) -> Iterator[tuple[Served, str]]:
    """serve with two workers (sharing the limits only through the database), a cap of 5
    per minute and the default 1h interval, on ``state_url``."""
    build_site(tmp_path)
    Store(state_url).close()  # made (and upgraded) before serve's workers race to it
    server = start_serve(tmp_path, secret_key=KEY, mail_outbox=str(tmp_path / "outbox"),
                         state_database=state_url, serve_subscribe_per_minute="5",
                         serve_workers="2")  # fmt: skip
    yield server, state_url
    server.stop()


def count(url: str, query: str, **values: str) -> int:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query), values).scalar_one())
    finally:
        engine.dispose()


def test_one_request_per_address_per_interval(limited: tuple[Served, str]) -> None:
    """A second request for one address within confirm_interval is 429 with Retry-After
    close to an hour, and queues no second mail."""
    served, url = limited
    first = httpx.post(f"{served.url}/subscribe", data={"email": "once@example.org"})
    again = httpx.post(f"{served.url}/subscribe", data={"email": "ONCE@example.org"})
    assert first.status_code == 200
    assert again.status_code == 429
    assert 3500 <= int(again.headers["retry-after"]) <= 3600
    query = "SELECT count(*) FROM confirmation_mails WHERE recipient = :address"
    assert count(url, query, address="once@example.org") == 1


def test_a_client_gets_its_cap_per_minute(limited: tuple[Served, str]) -> None:
    """The sixth request of one client within a minute is 429 with a Retry-After of at
    most 60 seconds, whatever the address."""
    served, _url = limited
    started = time.time()
    answers = [httpx.post(f"{served.url}/subscribe", data={"email": f"c{n}@example.org"})
               for n in range(6)]  # fmt: skip
    if started // 60 != time.time() // 60:
        pytest.skip("a minute boundary fell within the requests: the window started again")
    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    assert 1 <= int(answers[5].headers["retry-after"]) <= 60


def test_concurrent_requests_for_one_address_make_one_row_and_one_mail(
    limited: tuple[Served, str],
) -> None:
    """20 simultaneous POSTs of one address: each 200 or 429, one subscriber row, at most
    one confirmation mail."""
    served, url = limited

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
            answers = await asyncio.gather(*(
                client.post("/subscribe", data={"email": "race@example.org"})
                for _ in range(20)
            ))  # fmt: skip
        return [answer.status_code for answer in answers]

    codes = asyncio.run(burst())
    assert set(codes) <= {200, 429}, codes
    assert codes.count(200) == 1
    rows = "SELECT count(*) FROM subscribers WHERE address_key = 'race@example.org'"
    assert count(url, rows) == 1
    mails = "SELECT count(*) FROM confirmation_mails WHERE recipient = 'race@example.org'"
    assert count(url, mails) == 1

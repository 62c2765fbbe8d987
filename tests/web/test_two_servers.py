"""Two `gazette serve` processes on one PostgreSQL database behave as one: a subscribe on
one is confirmed on the other (both sign with the key kept in the database), the rate
limits hold across both, and 50 simultaneous subscribes of one address spread over both
make one row and one mail."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gazette.store import Store

from .conftest import Served, build_site, start_serve
from .test_subscribe import confirm_link, confirmation_eml
from .test_subscribe_limits import count


@pytest.fixture
def pair(tmp_path: Path, postgres_url: str) -> Iterator[tuple[Served, Served, str]]:
    """Two serve processes on ``postgres_url`` writing to one outbox, without
    GAZETTE_SECRET_KEY (the signing key comes from the database), with a cap of 5
    subscribe requests per client and minute."""
    build_site(tmp_path)
    Store(postgres_url).close()
    settings = {"mail_outbox": str(tmp_path / "outbox"), "state_database": postgres_url,
                "serve_subscribe_per_minute": "5"}  # fmt: skip
    first = start_serve(tmp_path, **settings)
    second = start_serve(tmp_path, **settings)
    yield first, second, postgres_url
    first.stop()
    second.stop()


def test_a_subscribe_on_one_is_confirmed_on_the_other(
    pair: tuple[Served, Served, str], tmp_path: Path
) -> None:
    """POST /subscribe to the first; the mailed link's token, shown and posted to the
    second, makes the address active."""
    first, second, url = pair
    assert httpx.post(f"{first.url}/subscribe", data={"email": "both@example.org"}).is_success
    token = urlsplit(confirm_link(confirmation_eml(tmp_path, "both@example.org"))).query[6:]
    page = httpx.get(f"{second.url}/confirm", params={"token": token})
    assert page.status_code == 200
    assert httpx.post(f"{second.url}/confirm", data={"token": token}).status_code == 200
    query = ("SELECT count(*) FROM subscribers WHERE address_key = 'both@example.org' "
             "AND status = 'active'")  # fmt: skip
    assert count(url, query) == 1


def test_the_rate_limits_hold_across_both(pair: tuple[Served, Served, str]) -> None:
    """One address asked on the first is refused on the second within the interval; a
    client's requests alternating between the two are capped at 5 a minute in all."""
    first, second, _url = pair
    started = time.time()
    assert httpx.post(f"{first.url}/subscribe", data={"email": "x@example.org"}).is_success
    again = httpx.post(f"{second.url}/subscribe", data={"email": "x@example.org"})
    assert again.status_code == 429
    assert int(again.headers["retry-after"]) > 3000  # the address's interval, not the cap
    servers = itertools.cycle([second, first])
    codes = [httpx.post(f"{next(servers).url}/subscribe",
                        data={"email": f"n{n}@example.org"}).status_code
             for n in range(5)]  # fmt: skip
    if started // 60 != time.time() // 60:
        pytest.skip("a minute boundary fell within the requests: the window started again")
    # The two requests above count towards the client's 5 as well, on whichever server.
    assert codes == [200, 200, 200, 429, 429]


def test_fifty_simultaneous_subscribes_over_both_make_one_row_and_one_mail(
    pair: tuple[Served, Served, str], tmp_path: Path
) -> None:
    """50 POSTs of one address at once, half to each process: one subscriber row, one
    confirmation mail queued and one written to the outbox."""
    first, second, url = pair

    async def burst() -> list[int]:
        async with (httpx.AsyncClient(base_url=first.url, timeout=60) as one,
                    httpx.AsyncClient(base_url=second.url, timeout=60) as other):  # fmt: skip
            clients = itertools.cycle([one, other])
            answers = await asyncio.gather(*(
                next(clients).post("/subscribe", data={"email": "race@example.org"})
                for _ in range(50)
            ))  # fmt: skip
        return [answer.status_code for answer in answers]

    codes = asyncio.run(burst())
    assert set(codes) <= {200, 429}, codes
    assert codes.count(200) == 1, codes
    rows = "SELECT count(*) FROM subscribers WHERE address_key = 'race@example.org'"
    assert count(url, rows) == 1
    mails = "SELECT count(*) FROM confirmation_mails WHERE recipient = 'race@example.org'"
    assert count(url, mails) == 1
    confirmation_eml(tmp_path, "race@example.org")
    assert len(list((tmp_path / "outbox").glob("gazette-confirm/race@example.org.eml"))) == 1

"""Writes grouped into one transaction: each in a savepoint of its own, so one that
raises is rolled back alone; every caller's answer comes after the commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, select

from gazette.digest.tables import subscribers
from gazette.errors import StateError
from gazette.store import Store
from gazette.web._grouped import GroupedWrites


def insert(address: str, fail: bool = False) -> Callable[[Connection], str]:
    def work(connection: Connection) -> str:
        connection.execute(subscribers.insert().values(
            address=address, address_key=address, name="", status="active", created="c",
            changed="c",
        ))  # fmt: skip
        if fail:
            raise ValueError(f"{address} refused")
        return address

    return work


def test_one_failing_work_is_rolled_back_alone(tmp_path: Path) -> None:
    """Of 30 works sent at once, the one that raises gets its exception and leaves no
    row; the 29 others get their results and their rows are committed."""
    store = Store(f"sqlite:///{tmp_path / 'state.db'}", threads=True)
    grouped = GroupedWrites(lambda: store)

    async def send_all() -> list[object]:
        works = [insert(f"r{n}@example.org", fail=n == 7) for n in range(30)]
        return await asyncio.gather(*(grouped.run(w) for w in works), return_exceptions=True)

    try:
        answers = asyncio.run(send_all())
    finally:
        grouped.close()
    failed = [answer for answer in answers if isinstance(answer, Exception)]
    assert [str(error) for error in failed] == ["r7@example.org refused"]
    with store.transaction() as connection:
        stored = set(connection.execute(select(subscribers.c.address)).scalars())
    assert stored == {f"r{n}@example.org" for n in range(30) if n != 7}
    assert answers[3] == "r3@example.org"


def test_a_database_that_cannot_be_opened_reaches_every_caller(tmp_path: Path) -> None:
    """When the store cannot be had, each caller of the batch gets the StateError."""

    def no_store() -> Store:
        raise StateError("the state database does not answer")

    grouped = GroupedWrites(no_store)

    async def two() -> list[object]:
        return await asyncio.gather(grouped.run(insert("a@example.org")),
                                    grouped.run(insert("b@example.org")),
                                    return_exceptions=True)  # fmt: skip

    try:
        answers = asyncio.run(two())
    finally:
        grouped.close()
    assert [type(answer) for answer in answers] == [StateError, StateError]

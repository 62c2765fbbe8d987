"""The lease: one sender per state database, a dead holder's claim expiring."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from gazette.errors import LeaseHeld
from gazette.lease import Lease, current_holder, held_lease, leases
from gazette.store import Store, shown_url


@pytest.fixture
def store(state_url: str) -> Iterator[Store]:
    opened = Store(state_url)
    yield opened
    opened.close()


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_second_holder_is_refused_with_the_first_named(store: Store) -> None:
    """While one holds it, another gets LeaseHeld naming the holder; after release, it may."""
    first = Lease(store, "gazette run (pid 1 on alpha)", 60)
    first.acquire()
    with pytest.raises(LeaseHeld, match=r"gazette run \(pid 1 on alpha\) holds it since") as caught:
        Lease(store, "gazette publish (pid 2 on beta)", 60).acquire()
    assert caught.value.exit_code == 3
    first.release()
    Lease(store, "gazette publish (pid 2 on beta)", 60).acquire()
    holder = current_holder(store)
    assert holder is not None
    assert holder.holder == "gazette publish (pid 2 on beta)"


def test_an_expired_lease_is_taken_and_its_old_holder_cannot_renew(store: Store) -> None:
    """No renewal for the timeout: the next process takes it; the old holder learns so."""
    clock = Clock()
    old = Lease(store, "old", 10, clock)
    old.acquire()
    clock.now += 9
    assert old.renew()
    clock.now += 9.5  # 0.5 s before expiry: still held
    with pytest.raises(LeaseHeld):
        Lease(store, "new", 10, clock).acquire()
    clock.now += 1
    Lease(store, "new", 10, clock).acquire()
    assert not old.renew()


def test_a_holder_that_died_on_this_machine_frees_it_at_once(store: Store) -> None:
    """A lease whose holder's pid is gone (same boot and pid namespace) is void."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    gone = Lease(store, "gazette run (dead)", 600)
    gone.acquire()
    with store.transaction() as connection:
        connection.execute(update(leases).values(pid=int(dead.stdout)))
    Lease(store, "gazette run (alive)", 600).acquire()
    holder = current_holder(store)
    assert holder is not None
    assert holder.holder == "gazette run (alive)"


def test_a_lost_lease_calls_on_lost(store: Store) -> None:
    """Renewing in the background: when another process has taken it, on_lost fires."""
    lost = threading.Event()
    with held_lease(store, "holder", 3, lost.set):
        assert not lost.wait(1.5)  # renewed, not lost
        with store.transaction() as connection:
            connection.execute(update(leases).values(token="b" * 32, holder="thief"))  # another
        assert lost.wait(3)
    holder = current_holder(store)
    assert holder is not None
    assert holder.holder == "thief"  # release leaves another's lease alone


def test_held_lease_releases_at_the_end(store: Store) -> None:
    """After the block, nobody holds it."""
    with held_lease(store, "holder", 30, lambda: None):
        assert current_holder(store) is not None
    assert current_holder(store) is None


def test_database_passwords_stay_out_of_messages() -> None:
    """A URL in a message or a log line has its password masked."""
    assert (
        shown_url("postgresql://gazette:s3cret@db:5432/gz") == "postgresql://gazette:***@db:5432/gz"
    )
    assert shown_url("postgresql://gazette@db/gz") == "postgresql://gazette@db/gz"
    assert shown_url("sqlite:////srv/state.db") == "sqlite:////srv/state.db"

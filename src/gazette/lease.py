"""The lease: one process at a time sends from a state database.

`gazette run` holds it for as long as it runs; `publish` and `digest --send|--resume`
for as long as they work. It is a row in the database itself, not a lock file, so it
holds across machines that share a PostgreSQL database. The holder renews it every
third of ``[state] lease_timeout``; a holder that died without releasing it loses it
when that time has passed since its last renewal, or at once to a process that can see
it is gone (same kernel boot and process namespace, and its pid no longer runs).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    Row,
    String,
    Table,
    Text,
    select,
    update,
)

from gazette.errors import DuplicateError, LeaseHeld, StateError
from gazette.processes import pid_runs, process_space
from gazette.store import Store, metadata

LEASE_NAME = "state"
log = logging.getLogger("gazette.lease")

leases = Table(
    "gazette_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", Text, nullable=False),  # who, for people: "gazette run (pid 7 on web1)"
    Column("token", String(64), nullable=False),  # who, for the holder itself
    Column("pid", Integer, nullable=False),
    # Where that pid means something: kernel boot id and pid namespace ("" if unknown).
    Column("process_space", String(80), nullable=False),
    Column("acquired", Float, nullable=False),  # Unix seconds
    Column("renewed", Float, nullable=False),
    Column("expires", Float, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds the lease, since when, and until when unless renewed."""

    holder: str
    acquired: datetime
    renewed: datetime
    expires: datetime

    def describe(self) -> str:
        return (
            f"{self.holder} holds it since {self.acquired:%Y-%m-%d %H:%M:%S} UTC "
            f"(renewed {self.renewed:%H:%M:%S}, expires {self.expires:%H:%M:%S} "
            "unless renewed)"
        )


def describe_process(command: str) -> str:
    return f"gazette {command} (pid {os.getpid()} on {socket.gethostname()})"


def current_holder(store: Store, clock: Callable[[], float] = time.time) -> Holder | None:
    """The live holder, or None when the lease is free or has expired."""
    with store.transaction() as connection:
        row = _row(connection)
    if row is None or row.expires <= clock():
        return None
    return _holder(row)


class Lease:
    """This process's claim on one state database."""

    def __init__(
        self, store: Store, holder: str, timeout: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.store, self.holder, self.timeout, self.clock = store, holder, timeout, clock
        self.token = uuid.uuid4().hex
        self.expires = 0.0

    def acquire(self) -> None:
        """Takes the lease, or raises LeaseHeld naming the live holder."""
        try:
            with self.store.transaction() as connection:
                taken = self._take(connection)
        except DuplicateError:
            taken = False  # another process inserted the row first
        if not taken:
            raise LeaseHeld(self._refusal())

    def renew(self) -> bool:
        """Extends the lease; False when another process has taken it meanwhile."""
        now = self.clock()
        with self.store.transaction() as connection:
            changed = connection.execute(
                update(leases)
                .where(leases.c.name == LEASE_NAME, leases.c.token == self.token)
                .values(renewed=now, expires=now + self.timeout)
            ).rowcount
        if changed:
            self.expires = now + self.timeout
        return bool(changed)

    def release(self) -> None:
        with self.store.transaction() as connection:
            connection.execute(
                leases.delete().where(leases.c.name == LEASE_NAME, leases.c.token == self.token)
            )

    def _take(self, connection: Connection) -> bool:
        now = self.clock()
        expires = now + self.timeout
        values = {"holder": self.holder, "token": self.token, "pid": os.getpid(),
                  "process_space": process_space(), "acquired": now, "renewed": now,
                  "expires": expires}  # fmt: skip
        row = _row(connection)
        if row is None:
            connection.execute(leases.insert().values(name=LEASE_NAME, **values))
        elif row.expires <= now or _holder_is_gone(row):
            # Taken only if no one renewed or took it since we read it.
            unchanged = (leases.c.token == row.token) & (leases.c.expires == row.expires)
            taken = connection.execute(
                update(leases).where(leases.c.name == LEASE_NAME, unchanged).values(**values)
            ).rowcount
            if not taken:
                return False
        else:
            return False
        self.expires = expires
        return True

    def _refusal(self) -> str:
        found = current_holder(self.store, self.clock)
        who = found.describe() if found else "another process took it a moment ago"
        return (
            f"the state database {self.store.shown_url} is in use: {who}; stop that process "
            "first (only one may send from a state database), or if it died, wait until "
            "the lease expires ([state] lease_timeout)"
        )


@contextmanager
def held_lease(
    store: Store, holder: str, timeout: float, on_lost: Callable[[], None]
) -> Iterator[Lease]:
    """Holds the lease, renewing it in a background thread, and releases it at the end.

    ``on_lost`` is called (once, from that thread) if the lease is lost: another process
    took it because renewals failed for longer than ``timeout``.
    """
    lease = Lease(store, holder, timeout)
    lease.acquire()
    stop = threading.Event()
    renewer = threading.Thread(
        target=_keep_renewed, args=(lease, stop, on_lost), name="gazette-lease", daemon=True
    )
    renewer.start()
    try:
        yield lease
    finally:
        stop.set()
        renewer.join()
        try:
            lease.release()
        except StateError as error:
            log.warning("could not release the lease (it expires by itself): %s", error)


def _keep_renewed(lease: Lease, stop: threading.Event, on_lost: Callable[[], None]) -> None:
    while not stop.wait(lease.timeout / 3):
        try:
            if lease.renew():
                continue
            log.error("lost the lease on the state database to another process; stopping")
        except StateError as error:
            if lease.clock() < lease.expires:
                log.warning("could not renew the lease (will try again): %s", error)
                continue
            log.error("could not renew the lease before it expired: %s; stopping", error)
        on_lost()
        return


def _holder_is_gone(row: Row[Any]) -> bool:
    """Whether the holder is a process we can see has ended (then its lease is void)."""
    here = process_space()
    if not here or row.process_space != here or row.pid == os.getpid():
        return False
    return not pid_runs(row.pid)


def _row(connection: Connection) -> Row[Any] | None:
    return connection.execute(select(leases).where(leases.c.name == LEASE_NAME)).first()


def _holder(row: Row[Any]) -> Holder:
    def stamp(seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    return Holder(row.holder, stamp(row.acquired), stamp(row.renewed), stamp(row.expires))

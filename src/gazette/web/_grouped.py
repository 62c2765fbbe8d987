"""Writes that arrive together share one transaction: one commit, one disk flush.

A commit waits for the disk (about 4 ms here, most of a subscribe request), so under
load the requests' works are queued for one writer thread, which runs every work waiting
in one transaction, each in a savepoint of its own: a work that raises is rolled back
alone and its caller gets the exception; the rest commit together, and only then does
any caller get its answer. Nothing is answered before it is committed.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Connection

from gazette.digest import ratelimits
from gazette.store import Store

log = logging.getLogger("gazette.web")
MOST_PER_COMMIT = 64

Work = Callable[[Connection], Any]


class GroupedWrites:
    """One writer thread per process, started on first use, stopped by ``close``."""

    def __init__(self, store: Callable[[], Store]) -> None:
        self._store = store
        self._queue: queue.SimpleQueue[tuple[Work, Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def run(self, work: Work) -> Any:
        """``work(connection)``'s result once its transaction is committed."""
        future: Future[Any] = Future()
        self._queue.put((work, future))
        self._started()
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(30)

    def _started(self) -> None:
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write, name="gazette-writes",
                                                daemon=True)  # fmt: skip
                self._thread.start()

    def _write(self) -> None:
        while (batch := self._next_batch()) is not None:
            self._commit(batch)

    def _next_batch(self) -> list[tuple[Work, Future[Any]]] | None:
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < MOST_PER_COMMIT:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(more)
        return batch

    def _commit(self, batch: list[tuple[Work, Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], bool, Any]] = []
        try:
            with self._store().transaction() as connection:
                ratelimits.serialize(connection)  # the write lock first, then the reads
                outcomes = [(future, *_in_savepoint(connection, work)) for work, future in batch]
        except Exception as error:
            for _work, future in batch:
                future.set_exception(error)
            return
        for future, succeeded, value in outcomes:
            if succeeded:
                future.set_result(value)
            else:
                future.set_exception(value)


def _in_savepoint(connection: Connection, work: Work) -> tuple[bool, Any]:
    try:
        with connection.begin_nested():
            return True, work(connection)
    except Exception as error:
        return False, error

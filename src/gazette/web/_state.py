"""The state database as the web sees it: opened on first use, so the feeds are served
while it is down (and /healthz says so), retried on the next request, closed at shutdown."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import text

from gazette.errors import StateError
from gazette.store import Store, shown_url

log = logging.getLogger("gazette.web")


class StateHandle:
    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._failing = False

    def store(self) -> Store:
        """The open Store; a StateError when the database cannot be opened."""
        with self._lock:
            if self._store is None:
                try:
                    self._store = Store(self.url, threads=True)
                except OSError as error:  # a SQLite folder that cannot be made
                    raise StateError(f"{shown_url(self.url)}: {error.strerror}") from None
            return self._store

    def answers(self) -> bool:
        """Whether the database answers a SELECT 1 now; a change is logged once."""
        try:
            with self.store().transaction() as connection:
                connection.execute(text("SELECT 1"))
        except StateError as error:
            if not self._failing:
                log.warning("the state database does not answer: %s", error)
            self._failing = True
            return False
        if self._failing:
            log.info("the state database answers again")
        self._failing = False
        return True

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

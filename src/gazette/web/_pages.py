"""What the subscriber handlers share: the templates, the signing key, the state
database in a worker thread, and form bodies read within a limit (never logged)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from gazette import i18n
from gazette.config import Settings
from gazette.digest.confirmation_mail import send_queued
from gazette.digest.render import environment
from gazette.digest.tokens import check_secret_key, secret_key
from gazette.errors import GazetteError
from gazette.web._grouped import GroupedWrites
from gazette.web._state import StateHandle

log = logging.getLogger("gazette.web")

T = TypeVar("T")
FORM_LIMIT = 8 * 1024  # bytes: a subscribe form is a few hundred
NO_STORE = {"cache-control": "no-store"}
FORM_TYPE = "application/x-www-form-urlencoded"


class BodyTooLarge(Exception):
    """The request body passed its limit."""


class Pages:
    """The templates and the state the subscriber handlers use."""

    def __init__(self, settings: Settings, state: StateHandle) -> None:
        self.settings = settings
        self.state = state
        check_secret_key(os.environ)  # a short key stops serve at start, not at a click
        self.env = environment(settings)
        self.words = i18n.translations(settings.site.language)
        self._key: bytes | None = None
        self._wake: anyio.Event | None = None
        self._lock = threading.Lock()
        self.grouped = GroupedWrites(state.store)

    def key(self, connection: Connection) -> bytes:
        """The signing key, read (or made) once per process."""
        with self._lock:
            if self._key is None:
                self._key = secret_key(connection, os.environ)
            return self._key

    async def run(self, work: Callable[[Connection], T]) -> T:
        """``work`` in one transaction of the state database, in a worker thread."""

        def in_transaction() -> T:
            with self.state.store().transaction() as connection:
                return work(connection)

        return await anyio.to_thread.run_sync(in_transaction)

    async def run_grouped(self, work: Callable[[Connection], T]) -> T:
        """``work`` in a transaction shared with the other works waiting to be written
        (in a savepoint of its own), once that transaction is committed."""
        result: T = await self.grouped.run(work)
        return result

    def mail_queued(self) -> None:
        """Wakes the sender: a confirmation mail is queued (it goes out after the answer)."""
        if self._wake is not None:
            self._wake.set()

    async def send_confirmations_until_stopped(self, every: float) -> None:
        """Sends queued confirmation mails when woken, and every ``every`` seconds (mails
        a failed provider or a stopped process left). One sender per process: requests
        that come at once share a pass instead of racing each other for the rows."""
        while True:
            self._wake = anyio.Event()  # before the pass: a wake during it means another
            await anyio.to_thread.run_sync(self.send_confirmations)
            with anyio.move_on_after(every):
                await self._wake.wait()

    def send_confirmations(self) -> None:
        """Sends the queued confirmation mails (in a worker thread); a problem is logged,
        the rows stay queued for the next try."""
        try:
            store = self.state.store()
            with store.transaction() as connection:
                key = self.key(connection)
            send_queued(store, self.settings, self.env, key, os.environ)
        except GazetteError as error:
            log.warning("confirmation mails not sent: %s", error)

    def page(
        self, template: str, status: int = 200, headers: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:  # fmt: skip
        html = self.env.get_template(template).render(site=self.settings.site, **context)
        return HTMLResponse(html, status, headers={**NO_STORE, **(headers or {})})

    def notice(
        self, heading: str, text: str, status: int = 200, headers: dict[str, str] | None = None,
        problem: bool = False, offer_subscribe: bool = False,
    ) -> Response:  # fmt: skip
        return self.page(
            "notice.html.j2", status, headers, heading=heading, text=text, problem=problem,
            offer_subscribe=offer_subscribe, subscribe_page="/subscribe",
        )  # fmt: skip


def json_answer(data: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return JSONResponse(data, status, headers={**NO_STORE, **headers})


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def read_body(request: Request, limit: int = FORM_LIMIT) -> bytes:
    """The body, at most ``limit`` bytes (BodyTooLarge past that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def form_fields(request: Request, body: bytes) -> dict[str, str] | None:
    """An urlencoded body's fields (the first of each name); None for another type."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != FORM_TYPE:
        return None
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields

"""The routes, in one list read top to bottom, and the app made of them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from gazette.config import Settings
from gazette.digest.events.receiver import Receiver
from gazette.web import _subscribers as subscriber
from gazette.web import _webhooks as webhooks
from gazette.web._edge import Edge
from gazette.web._files import OutputFiles
from gazette.web._pages import Pages
from gazette.web._state import StateHandle

log = logging.getLogger("gazette.web")
NO_STORE = {"cache-control": "no-store"}
RETRY_SECONDS = 60  # queued confirmation mails are tried again this often
WEBHOOKS = ("ses", "postmark", "sendgrid", "mailgun", "resend", "bounce")  # POST /webhooks/<name>


def create_app(settings: Settings) -> ASGIApp:
    """The whole web: security headers and the access log around the routes."""
    state = StateHandle(settings.database_url)
    output = OutputFiles(settings.resolve(settings.feeds.output))
    pages = Pages(settings, state)
    receiver = Receiver(settings)
    routes: list[BaseRoute] = [
        Route("/healthz", partial(healthz, state), methods=["GET"]),
        Route("/subscribe", partial(subscriber.subscribe_page, pages), methods=["GET"]),
        Route("/subscribe", partial(subscriber.subscribe, pages), methods=["POST"]),
        Route("/subscribe/thanks", partial(subscriber.thanks_page, pages), methods=["GET"]),
        Route("/confirm", partial(subscriber.confirm_page, pages), methods=["GET"]),
        Route("/confirm", partial(subscriber.confirm, pages), methods=["POST"]),
        Route("/unsubscribe", partial(subscriber.unsubscribe_page, pages), methods=["GET"]),
        Route("/unsubscribe", partial(subscriber.unsubscribe, pages), methods=["POST"]),
        # Provider webhooks, before the output folder, which takes every other path.
        *(
            Route(f"/webhooks/{name}", partial(webhooks.receive, pages, receiver, name),
                  methods=["POST"])
            for name in WEBHOOKS
        ),
        Route("/{path:path}", output, methods=["GET", "HEAD"]),
    ]
    return Edge(Starlette(routes=routes, lifespan=partial(_lifespan, state, pages)))


def healthz(state: StateHandle, _request: Request) -> Response:
    """200 while the state database answers, 503 otherwise (the feeds are served anyway)."""
    if state.answers():
        return PlainTextResponse("ok\n", headers=NO_STORE)
    return PlainTextResponse("the state database does not answer\n", 503, headers=NO_STORE)


@asynccontextmanager
async def _lifespan(state: StateHandle, pages: Pages, _app: Starlette) -> AsyncIterator[None]:
    await anyio.to_thread.run_sync(state.answers)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(pages.send_confirmations_until_stopped, RETRY_SECONDS)
            yield
            group.cancel_scope.cancel()
    finally:
        await anyio.to_thread.run_sync(pages.grouped.close)
        state.close()
        log.info("state database closed")

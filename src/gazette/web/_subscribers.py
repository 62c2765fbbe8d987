"""The subscriber pages' handlers: each parses the request, calls one function of
`gazette.digest.confirmations` and renders a template. No rule lives here."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from gazette.digest.confirmations import (
    TokenError,
    mask_address,
    subscriber_of_token,
    unsubscribe_by_token,
)
from gazette.errors import StateError
from gazette.web._pages import BodyTooLarge, Pages, read_body


def _now() -> datetime:
    return datetime.now(UTC)


def _bad_token(pages: Pages, error: TokenError) -> Response:
    return pages.notice("This link does not work", str(error), 400, problem=True,
                        offer_subscribe=True)  # fmt: skip


def _unavailable(pages: Pages) -> Response:
    text = "The list cannot be reached just now; nothing was changed."
    return pages.notice("Try again in a moment", text, 503, {"retry-after": "30"}, problem=True)


async def unsubscribe_page(pages: Pages, request: Request) -> Response:
    """GET /unsubscribe?token=…: the page with one button; nothing changes."""
    token = request.query_params.get("token", "")
    try:
        found = await pages.run(lambda c: subscriber_of_token(c, pages.key(c), token))
    except TokenError as error:
        return _bad_token(pages, error)
    except StateError:
        return _unavailable(pages)
    return pages.page("unsubscribe.html.j2", done=False, masked=mask_address(found.address),
                      action=f"?token={quote(token, safe='.')}")  # fmt: skip


async def unsubscribe(pages: Pages, request: Request) -> Response:
    """POST /unsubscribe?token=…: the page's button and RFC 8058 one-click (whatever the
    body says, form-encoded or multipart: the token in the URL is what counts)."""
    try:
        await read_body(request)  # read and dropped: one-click's body is a constant
    except BodyTooLarge:
        return pages.notice("Too large", "That request was too large.", 413, problem=True)
    token = request.query_params.get("token", "")
    try:
        done = await pages.run(lambda c: unsubscribe_by_token(c, pages.key(c), token, _now()))
    except TokenError as error:
        return _bad_token(pages, error)
    except StateError:
        return _unavailable(pages)
    address = done.subscriber.address
    return pages.page("unsubscribe.html.j2", done=True, masked=mask_address(address),
                      address=address, subscribe_action="/subscribe")  # fmt: skip

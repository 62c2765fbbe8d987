"""The subscriber pages' handlers: each parses the request, calls one function of
`gazette.digest.confirmations` and renders a template. No rule lives here."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gazette.digest.confirmations import (
    ExpiredToken,
    FieldError,
    Limits,
    Requested,
    TokenError,
    address_of_link,
    claim_of_token,
    confirm_by_token,
    mask_address,
    request_subscription,
    subscriber_of_token,
    unsubscribe_by_token,
)
from gazette.errors import StateError
from gazette.i18n import N_
from gazette.web._pages import (
    FORM_TYPE,
    NO_STORE,
    BodyTooLarge,
    Pages,
    form_fields,
    json_answer,
    read_body,
    wants_json,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _bad_token(pages: Pages) -> Response:
    _ = pages.words.gettext
    text = _("It was changed or cut short, or it comes from another list. Open the link "
             "from the mail again, whole.")  # fmt: skip
    return pages.notice(_("This link does not work"), text, 400, problem=True,
                        offer_subscribe=True)  # fmt: skip


def _unavailable(pages: Pages) -> Response:
    _ = pages.words.gettext
    text = _("The list cannot be reached just now; nothing was changed.")
    return pages.notice(_("Try again in a moment"), text, 503, {"retry-after": "30"},
                        problem=True)  # fmt: skip


def _too_large(pages: Pages) -> Response:
    _ = pages.words.gettext
    return pages.notice(_("Too large"), _("That request was too large."), 413, problem=True)


async def unsubscribe_page(pages: Pages, request: Request) -> Response:
    """GET /unsubscribe?token=…: the page with one button; nothing changes."""
    token = request.query_params.get("token", "")
    try:
        found = await pages.run(lambda c: subscriber_of_token(c, pages.key(c), token))
    except TokenError:
        return _bad_token(pages)
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
        return _too_large(pages)
    token = request.query_params.get("token", "")
    try:
        done = await pages.run(lambda c: unsubscribe_by_token(c, pages.key(c), token, _now()))
    except TokenError:
        return _bad_token(pages)
    except StateError:
        return _unavailable(pages)
    address = done.subscriber.address
    return pages.page("unsubscribe.html.j2", done=True, masked=mask_address(address),
                      token=token, subscribe_action="/subscribe")  # fmt: skip


# --- subscribing ------------------------------------------------------------------------

SENT = N_("If that address can be subscribed, a confirmation link is on its way to it.")
THANKS = "/subscribe/thanks"


def _limits(pages: Pages) -> Limits:
    serve = pages.settings.serve
    return Limits(serve.confirm_seconds, serve.interval_seconds, serve.subscribe_per_minute)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _from_the_blog(pages: Pages, request: Request) -> bool:
    """Posted by a form on the blog's own pages (site.url), not on serve's."""
    origin = _origin(request.headers.get("origin", "") or request.headers.get("referer", ""))
    own = _origin(pages.settings.serve_base_url)
    return bool(origin) and origin == _origin(pages.settings.site.url) and origin != own


async def subscribe_page(pages: Pages, _request: Request) -> Response:
    """GET /subscribe: the form."""
    return pages.page("subscribe.html.j2", sent=False, problem="", email="", name="")


async def thanks_page(pages: Pages, _request: Request) -> Response:
    """GET /subscribe/thanks: where a form on the blog's pages lands (303)."""
    return pages.page("subscribe.html.j2", sent=True)


def _refused(pages: Pages, json: bool, status: int, problem: str, email: str = "",
             name: str = "", headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    if json:
        return json_answer({"status": "refused", "problem": problem}, status, **(headers or {}))
    return pages.page("subscribe.html.j2", status, headers, sent=False, problem=problem,
                      email=email, name=name)  # fmt: skip


async def subscribe(pages: Pages, request: Request) -> Response:
    """POST /subscribe: records the request, answers the same whatever the address's
    state, then sends the confirmation mail (after the answer)."""
    json = wants_json(request)
    fields = await _subscribe_fields(pages, request, json)
    if isinstance(fields, Response):
        return fields
    if fields.get("website", ""):  # the honeypot: a person never sees it
        return _accepted(pages, request, json)
    done = await _record(pages, request, fields, json)
    if isinstance(done, Response):
        return done
    if done.retry_after:
        wait = str(math.ceil(done.retry_after))
        problem = pages.words.gettext("Too many requests: try again later.")
        return _refused(pages, json, 429, problem, fields.get("email", ""),
                        fields.get("name", ""), {"retry-after": wait})  # fmt: skip
    if done.mail is not None:
        pages.mail_queued()
    return _accepted(pages, request, json)


async def _record(
    pages: Pages, request: Request, fields: dict[str, str], json: bool
) -> Requested | Response:
    """The request recorded: for the address in the form, or for the one the token of a
    page's "Send a new link" or "Subscribe again" names."""
    email, name = fields.get("email", ""), fields.get("name", "")
    token = "" if email else fields.get("token", "")
    client = request.client.host if request.client else "-"

    def request_it(connection: Connection) -> Requested:
        address = address_of_link(connection, pages.key(connection), token) if token else email
        return request_subscription(connection, address, name, client, _limits(pages), _now())

    try:
        return await pages.run_grouped(request_it)
    except FieldError as error:
        return _refused(pages, json, 400, _field_problem(pages, error), email, name)
    except TokenError:
        return _bad_token(pages)
    except StateError:
        return _unavailable(pages)


async def _subscribe_fields(
    pages: Pages, request: Request, json: bool
) -> dict[str, str] | Response:
    try:
        fields = form_fields(request, await read_body(request))
    except BodyTooLarge:
        return _refused(pages, json, 413, pages.words.gettext("That request was too large."))
    if fields is None:
        problem = pages.words.gettext("Send the form as %(type)s.") % {"type": FORM_TYPE}
        return _refused(pages, json, 415, problem)
    return fields


def _field_problem(pages: Pages, error: FieldError) -> str:
    _ = pages.words.gettext
    if error.field == "name":
        return _("The name must be one line of at most 200 characters.")
    return _("That is not an email address that can be mailed: check it and try again.")


def _accepted(pages: Pages, request: Request, json: bool) -> Response:
    if json:
        return json_answer({"status": "accepted", "message": pages.words.gettext(SENT)}, 202)
    if _from_the_blog(pages, request):
        return RedirectResponse(THANKS, 303, headers=NO_STORE)
    return pages.page("subscribe.html.j2", sent=True)


async def confirm_page(pages: Pages, request: Request) -> Response:
    """GET /confirm?token=…: a page with the Confirm button; nothing changes (link
    scanners follow links)."""
    token = request.query_params.get("token", "")
    try:
        key = await pages.run(pages.key)
        claim = claim_of_token(key, token, _now())
    except ExpiredToken as error:
        return _expired(pages, error, token)
    except TokenError:
        return _bad_token(pages)
    except StateError:
        return _unavailable(pages)
    return pages.page("confirm.html.j2", done=False, expired=False, token=token,
                      masked=mask_address(claim.address))  # fmt: skip


def _expired(pages: Pages, error: ExpiredToken, token: str) -> Response:
    return pages.page("confirm.html.j2", 410, done=False, expired=True,
                      superseded=error.superseded, masked=mask_address(error.address),
                      token=token)  # fmt: skip


async def confirm(pages: Pages, request: Request) -> Response:
    """POST /confirm (the token in the form): the address becomes active."""
    try:
        fields = form_fields(request, await read_body(request))
    except BodyTooLarge:
        return _too_large(pages)
    token = (fields or {}).get("token", "")
    try:
        found = await pages.run(lambda c: confirm_by_token(c, pages.key(c), token, _now()))
    except ExpiredToken as error:
        return _expired(pages, error, token)
    except TokenError:
        return _bad_token(pages)
    except StateError:
        return _unavailable(pages)
    return pages.page("confirm.html.j2", done=True, expired=False,
                      masked=mask_address(found.address))  # fmt: skip

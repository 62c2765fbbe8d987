"""Sending the queued confirmation mails through the configured provider.

Each row is claimed (queued -> sending, one UPDATE that only one process wins) before it
goes out, so no mail is sent twice. The provider's answer settles it: sent, failed (the
provider refused that recipient), or back to queued when the provider was unreachable or
refused our credentials, to be tried again (up to MAX_ATTEMPTS). An answer that never
came (UncertainDelivery) leaves it uncertain: it may have gone, so it is not resent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parseaddr
from urllib.parse import quote

from jinja2 import Environment
from sqlalchemy import Connection, select, update

from gazette import i18n
from gazette.config import Settings
from gazette.digest.message import build_mime
from gazette.digest.render import render_template
from gazette.digest.tables import confirmation_mails
from gazette.digest.tokens import make_confirm_token
from gazette.errors import ConfigError, DeliveryError
from gazette.mail import make_provider
from gazette.mail.base import (
    Envelope,
    Provider,
    ProviderRejected,
    ProviderUnavailable,
    UncertainDelivery,
)
from gazette.store import Store

log = logging.getLogger("gazette.confirmations")
MAX_ATTEMPTS = 5
BATCH = 20


def confirm_url(settings: Settings, token: str) -> str:
    return f"{settings.serve_base_url}/confirm?token={quote(token, safe='.')}"


def confirmation_envelope(
    settings: Settings, env: Environment, key: bytes, row: Mapping[str, object], now: datetime
) -> Envelope:
    """The confirmation mail of one queued row: text and HTML from the templates."""
    sender = settings.mail.sender.strip()
    domain = parseaddr(sender)[1].rpartition("@")[2]
    if not domain:
        raise ConfigError(
            f'{settings.config_path}: [mail] from: required to send confirmation mails; e.g. '
            'from = "Notes <digest@example.org>"'
        )
    recipient = str(row["recipient"])
    token = make_confirm_token(key, recipient, float(str(row["issued"])),
                               float(str(row["expires"])))  # fmt: skip
    ttl = i18n.duration(settings.serve.confirm_seconds, settings.site.language)
    context = {"site": settings.site, "url": confirm_url(settings, token), "ttl": ttl}
    text = render_template(env, "confirm-mail.txt.j2", context)
    html = render_template(env, "confirm-mail.html.j2", context)
    subject = " ".join(render_template(env, "confirm-mail.subject.j2", context).split())
    digest = hashlib.sha256(f"confirm\0{row['id']}".encode()).hexdigest()[:24]
    headers = [("Message-ID", f"<confirm.{digest}@{domain}>")]
    mime = build_mime(sender, recipient, subject, now, headers, html, text)
    return Envelope(recipient=recipient, sender=sender, subject=subject, html=html, text=text,
                    headers=tuple(headers), mime=mime,
                    idempotency_key=f"gazette-confirm-{digest}")  # fmt: skip


def queued(connection: Connection) -> list[Mapping[str, object]]:
    """The oldest queued rows, at most BATCH."""
    query = (
        select(confirmation_mails)
        .where(confirmation_mails.c.status == "queued")
        .order_by(confirmation_mails.c.id)
        .limit(BATCH)
    )
    return [dict(row._mapping) for row in connection.execute(query)]


def claim(connection: Connection, mail: int, now: datetime) -> bool:
    """Takes a queued row for sending; False when another process took it first."""
    taken = connection.execute(
        update(confirmation_mails)
        .where(confirmation_mails.c.id == mail, confirmation_mails.c.status == "queued")
        .values(
            status="sending", attempts=confirmation_mails.c.attempts + 1, changed=now.isoformat()
        )
    )
    return taken.rowcount == 1


def settle(
    connection: Connection, mail: int, status: str, now: datetime, provider_id: str = "",
    error: str = "",
) -> None:  # fmt: skip
    values = {"status": status, "provider_id": provider_id, "last_error": error[:2000],
              "changed": now.isoformat()}  # fmt: skip
    connection.execute(
        update(confirmation_mails).where(confirmation_mails.c.id == mail).values(**values)
    )


def send_queued(
    store: Store, settings: Settings, env: Environment, key: bytes,
    environ: Mapping[str, str],
) -> int:  # fmt: skip
    """Sends every queued confirmation mail it can claim; how many went out."""
    with store.transaction() as connection:
        rows = queued(connection)
    if not rows:
        return 0
    provider = make_provider(settings, environ)
    sent = 0
    try:
        for row in rows:
            sent += _send_one(store, settings, env, key, provider, row)
    finally:
        provider.close()
    return sent


def _send_one(
    store: Store, settings: Settings, env: Environment, key: bytes, provider: Provider,
    row: Mapping[str, object],
) -> int:  # fmt: skip
    mail = int(str(row["id"]))
    now = datetime.now(UTC)
    with store.transaction() as connection:
        if not claim(connection, mail, now):
            return 0
    status, provider_id, error = _deliver(settings, env, key, provider, row, now)
    if status == "queued" and int(str(row["attempts"])) + 1 >= MAX_ATTEMPTS:
        status = "failed"
    with store.transaction() as connection:
        settle(connection, mail, status, datetime.now(UTC), provider_id, error)
    if status != "sent":
        log.warning("confirmation mail %d: %s: %s", mail, status, error)
    return int(status == "sent")


def _deliver(
    settings: Settings, env: Environment, key: bytes, provider: Provider,
    row: Mapping[str, object], now: datetime,
) -> tuple[str, str, str]:  # fmt: skip
    """(status, provider id, error) of one attempt."""
    try:
        envelope = confirmation_envelope(settings, env, key, row, now)
        result = provider.send([envelope])[0]
    except UncertainDelivery as error:
        return "uncertain", "", str(error)
    except (ProviderUnavailable, ProviderRejected, ConfigError) as error:
        return "queued", "", str(error)
    except DeliveryError as error:
        return "failed", "", str(error)
    if result.status == "sent":
        return "sent", str(result.provider_id), ""
    return "failed", "", str(result.error)

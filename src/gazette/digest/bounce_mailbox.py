"""The bounce mailbox: what SMTP senders hear back. Receiving servers mail delivery
status notifications (RFC 3464) and mailbox providers mail abuse reports (RFC 5965) to
the sender's address; gazette reads them from that mailbox over IMAP.

Each message in the folder is read once: a DSN gives its permanent and temporary
failures (flufl.bounce, which knows RFC 3464 and the many older formats servers still
send), an abuse report its complained-of recipient. A message that said something is
moved to ``mail.bounce_processed``; any other message (a person's reply, a newsletter)
is left where it is, unread state and all.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import imaplib
import re
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from flufl.bounce import all_failures

from gazette.config import Settings
from gazette.digest.events import Applied, Event, Kind, apply_events
from gazette.errors import ConfigError, DeliveryError
from gazette.store import Store

PASSWORD_VARIABLE = "GAZETTE_BOUNCE_MAILBOX_PASSWORD"  # noqa: S105 - a variable's name
MOST_PER_POLL = 500  # messages read in one poll; the rest wait for the next
MESSAGE_LIMIT = 2 * 1024 * 1024  # bytes: a report larger than this is no report
_RETURNED = ("message/rfc822", "text/rfc822-headers")  # how a report returns the original


@dataclass(frozen=True, slots=True)
class Report:
    """What one message said about one recipient."""

    kind: Kind  # hard_bounce | soft_bounce | complaint
    address: str
    message_id: str  # of the report itself: the same report read twice counts once
    original_id: str = ""  # the Message-ID of the mail it returns, when it returns one


@dataclass
class Poll:
    """One poll's findings and how many messages were moved or left."""

    reports: list[Report] = field(default_factory=list)
    moved: int = 0
    left: int = 0


def reports_of(raw: bytes) -> list[Report]:
    """The failures and complaints one message reports (none for an ordinary mail)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    report_id = str(message.get("Message-ID", "")).strip() or (
        "sha256:" + hashlib.sha256(raw).hexdigest()
    )
    original = _original_id(message)
    complained = _complained_of(message)
    if complained:
        return [Report("complaint", address, report_id, original) for address in complained]
    temporary, permanent = all_failures(message)
    found = [Report("hard_bounce", _text(a), report_id, original) for a in sorted(permanent)]
    found += [Report("soft_bounce", _text(a), report_id, original)
              for a in sorted(temporary - permanent)]  # fmt: skip
    return [report for report in found if "@" in report.address]


def _original_id(message: Message) -> str:
    """The Message-ID of the returned original (a message/rfc822 or text/rfc822-headers
    part of the report), or ""."""
    for part in message.walk():
        if part is not message and part.get_content_type() in _RETURNED:
            original = _original(part)
            if original is not None and original.get("Message-ID"):
                return str(original["Message-ID"]).strip()
    return ""


def _complained_of(message: Message) -> list[str]:
    """RFC 5965: a multipart/report of report-type feedback-report names, in its
    message/feedback-report part, the original recipient (Original-Rcpt-To), or else the
    returned original message's To."""
    if message.get_content_type() != "multipart/report":
        return []
    if str(message.get_param("report-type", "")).lower() != "feedback-report":
        return []
    found: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            fields = email.message_from_string(_part_text(part), policy=email.policy.compat32)
            found += [parseaddr(v)[1] for v in fields.get_all("Original-Rcpt-To", [])]
        elif kind in _RETURNED and not found:
            original = _original(part)
            found += [parseaddr(v)[1] for v in original.get_all("To", [])] if original else []
    return sorted({address.lower() for address in found if "@" in address})


def _part_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):  # parsed as a message: its headers are the fields
        return "".join(str(item) for item in payload)
    return str(payload)


def _original(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    if isinstance(payload, str):
        return email.message_from_string(payload, policy=email.policy.compat32)
    return None


def _text(address: bytes | str) -> str:
    value = address.decode("utf-8", "replace") if isinstance(address, bytes) else address
    return value.strip().lower()


@dataclass(frozen=True, slots=True)
class Mailbox:
    """``mail.bounce_mailbox`` as parts: imaps://user@host:993/INBOX (imap:// is
    plaintext, for a server on this machine)."""

    secure: bool
    host: str
    port: int
    user: str
    folder: str

    @classmethod
    def of(cls, settings: Settings) -> Mailbox:
        url = settings.mail.bounce_mailbox
        parts = urlsplit(url)
        where = f"{settings.config_path}: [mail] bounce_mailbox"
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ConfigError(
                f"{where}: got {url!r}; write imaps://user@host/INBOX (the password comes "
                f"from ${PASSWORD_VARIABLE})"
            )
        if parts.password:
            raise ConfigError(f"{where}: no password in the URL; set ${PASSWORD_VARIABLE}")
        secure = parts.scheme == "imaps"
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        return cls(secure, parts.hostname, parts.port or (993 if secure else 143),
                   unquote(parts.username), folder)  # fmt: skip


def check_bounce_mailbox(settings: Settings, environ: Mapping[str, str]) -> tuple[Mailbox, str]:
    """mail.bounce_mailbox read into its parts, and its password; a ConfigError naming
    the key or the variable when either is missing or wrong."""
    mailbox = Mailbox.of(settings)
    password = environ.get(PASSWORD_VARIABLE, "")
    if not password:
        raise ConfigError(f"{settings.config_path}: [mail] bounce_mailbox needs its password "
                          f"in ${PASSWORD_VARIABLE}; set it, or unset bounce_mailbox")  # fmt: skip
    return mailbox, password


def poll(
    settings: Settings, environ: Mapping[str, str], record: Callable[[list[Report]], None]
) -> Poll:
    """Reads the bounce mailbox once: ``record`` gets the reports of its messages (and
    commits them), then those messages are moved to mail.bounce_processed; every other
    message is left alone. A poll stopped between the two reads the same reports again
    next time, and ``record`` counts each once (they carry the report's Message-ID)."""
    mailbox, password = check_bounce_mailbox(settings, environ)
    result = Poll()
    with _session(mailbox, password) as imap:
        _ensure_folder(imap, settings.mail.bounce_processed)
        numbers = _message_numbers(imap, mailbox.folder)
        used: list[str] = []
        for number in numbers[:MOST_PER_POLL]:
            raw = _fetch(imap, number)
            found = reports_of(raw) if raw is not None else []
            result.reports += found
            if found:
                used.append(number)
        result.left = len(numbers) - len(used)
        record(result.reports)
        for number in used:
            _move(imap, number, settings.mail.bounce_processed)
        result.moved = len(used)
        imap.expunge()
    return result


def read_bounce_mailbox(
    settings: Settings, store: Store, environ: Mapping[str, str], now: datetime
) -> tuple[Poll, Applied]:
    """One poll of the bounce mailbox, its reports applied to the subscribers as the
    providers' webhook events are (a hard bounce: bounced; a complaint: unsubscribed)."""
    applied = [Applied()]

    def record(reports: list[Report]) -> None:
        events = [Event("mailbox", f"{r.message_id}:{r.kind}:{r.address}", r.kind, r.address,
                        r.original_id, now) for r in reports]  # fmt: skip
        with store.transaction() as connection:
            applied[0] = apply_events(connection, events, settings.mail, now)

    found = poll(settings, environ, record)
    return found, applied[0]


@contextmanager
def _session(mailbox: Mailbox, password: str) -> Iterator[imaplib.IMAP4]:
    imap = _connect(mailbox)
    try:
        imap.login(mailbox.user, password)
        yield imap
    except imaplib.IMAP4.error as error:
        raise DeliveryError(f"bounce mailbox {mailbox.host}: {_reason(error)}") from None
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    try:
        if mailbox.secure:
            context = ssl.create_default_context()
            return imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=30)
        return imaplib.IMAP4(mailbox.host, mailbox.port, timeout=30)
    except OSError as error:
        raise DeliveryError(f"bounce mailbox {mailbox.host}:{mailbox.port}: {error}") from None


def _reason(error: Exception) -> str:
    return str(error).replace("\r", " ").replace("\n", " ")[:200]


def _ensure_folder(imap: imaplib.IMAP4, folder: str) -> None:
    status, _ = imap.select(_quoted(folder), readonly=True)
    if status != "OK":
        imap.create(_quoted(folder))


def _message_numbers(imap: imaplib.IMAP4, folder: str) -> list[str]:
    status, _ = imap.select(_quoted(folder))
    if status != "OK":
        raise DeliveryError(f"bounce mailbox: no folder {folder!r}")
    _status, data = imap.search(None, "ALL")
    first = data[0] if data else b""
    return first.decode("ascii").split() if isinstance(first, bytes) else []


def _fetch(imap: imaplib.IMAP4, number: str) -> bytes | None:
    """The message's bytes without marking it read (BODY.PEEK), when not too large."""
    _status, size = imap.fetch(number, "(RFC822.SIZE)")
    first = size[0] if size else b""
    found = re.search(rb"RFC822\.SIZE (\d+)", first if isinstance(first, bytes) else b"")
    if found is None or int(found[1]) > MESSAGE_LIMIT:
        return None
    _status, data = imap.fetch(number, "(BODY.PEEK[])")
    for item in data:
        if isinstance(item, tuple):
            return bytes(item[1])
    return None


def _move(imap: imaplib.IMAP4, number: str, folder: str) -> None:
    status, _ = imap.copy(number, _quoted(folder))
    if status != "OK":
        raise DeliveryError(f"bounce mailbox: cannot copy a report to {folder!r}")
    imap.store(number, "+FLAGS", "(\\Deleted)")


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'

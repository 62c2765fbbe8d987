"""One recipient's message: headers (RFC 8058 one-click unsubscribe), MIME and Envelope.

A header value with CR, LF or another control character is refused: it would let text
from a config or a post add headers of its own (header injection). Every message is
also read back as a receiver reads it (encoded words decoded, lines unfolded) and
refused unless it has exactly its own headers, none decoding to a control character,
and the subject as rendered.
"""

from __future__ import annotations

import functools
import hashlib
import html as html_escaping
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import quoprimime
from email.errors import MessageError
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import EmailPolicy, Policy
from email.policy import default as receiving_policy
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote, urlsplit

from email_validator import EmailNotValidError, validate_email

from gazette.config import Settings, is_loopback_http
from gazette.digest.render import UNSUBSCRIBE_PLACEHOLDER, Rendered
from gazette.digest.subscribers import control_character, mailbox_problem
from gazette.digest.tokens import make_token
from gazette.errors import ConfigError, DeliveryError
from gazette.mail.base import Envelope

ONE_CLICK = "List-Unsubscribe=One-Click"
# Whom the check of issue-wide headers writes to, before any recipient's message.
SAMPLE_RECIPIENT = "reader@example.org"
_SAMPLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)
_HEAD_PARSER = BytesHeaderParser(policy=receiving_policy)
_FIELD_START = re.compile(rb"\r\n(?![ \t])")  # RFC 5322: a line not folded starts a field
_FOLD = re.compile(rb"\r\n(?=[ \t])")
# Printable ASCII with neither an encoded word (RFC 2047) nor an encoded parameter
# (RFC 2231, name*=): a receiver only unfolds it, so it reads as written.
_AS_WRITTEN = re.compile(rb"[!-9;-~]+:(?:(?!=\?|\*=)[ -~])*")


class _LiteralText(str):
    """A Subject holding "=?", sent as encoded words of its own from end to end.

    RFC 2047: a mail program decodes "=?charset?encoding?text?=" wherever it meets one,
    and the email package decodes it when given the value, then writes what it decoded
    back raw, line breaks included. A post's title is text: encoded whole, it reads as
    written, "=?…?=" and all.
    """

    name: str

    def __new__(cls, name: str, text: str) -> _LiteralText:
        made = super().__new__(cls, text)
        made.name = name
        return made

    def fold(self, *, policy: Policy) -> str:
        words = Header(str(self), "utf-8", policy.max_line_length, header_name=self.name)
        return f"{self.name}: {words.encode(linesep=policy.linesep)}{policy.linesep}"


class _MailPolicy(EmailPolicy):
    """SMTP's policy, except that List-Unsubscribe is folded only between its URIs.

    The email package would turn a long URL into RFC 2047 encoded words, which no mail
    client decodes in this header, and the link would break.
    """

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if name.lower() == "subject" and isinstance(value, str) and "=?" in value:
            return (name, _LiteralText(name, value))
        return super().header_store_parse(name, value)

    def fold(self, name: str, value: Any) -> str:
        if name.lower() == "list-unsubscribe" and str(value).isascii():
            return f"{name}: " + str(value).replace(", ", "," + self.linesep + " ") + self.linesep
        return str(super().fold(name, value))

    def fold_binary(self, name: str, value: Any) -> bytes:
        return self.fold(name, value).encode("ascii", "surrogateescape")


POLICY = _MailPolicy(linesep="\r\n")


@dataclass(frozen=True, slots=True)
class Sender:
    """What the config says about who sends, checked once."""

    header: str  # the From header, as written in [mail] from
    domain: str  # its domain: Message-IDs end with it
    reply_to: str
    list_id: str


def check_sender(settings: Settings) -> Sender:
    """The sender, or a ConfigError naming the key: [mail] from, reply_to, digest URLs."""
    where = f"{settings.config_path}: [mail]"
    header = _config_value(settings, "[mail] from", settings.mail.sender)
    if not header:
        raise ConfigError(
            f'{where} from: required to send; e.g. from = "Notes <digest@example.org>"'
        )
    address = _config_address(settings, "[mail] from", parseaddr(header)[1])
    _config_header(settings, "[mail] from", "From", header)
    reply_to = _config_value(settings, "[mail] reply_to", settings.mail.reply_to)
    if reply_to:
        _config_address(settings, "[mail] reply_to", parseaddr(reply_to)[1])
        _config_header(settings, "[mail] reply_to", "Reply-To", reply_to)
    _check_unsubscribe_settings(settings)
    domain = address.rpartition("@")[2]
    host = urlsplit(settings.site.url).hostname or domain
    title = _config_value(settings, "[site] title", settings.site.title)
    phrase = " ".join(title.translate(str.maketrans("", "", '"<>()\\')).split())
    list_id = _config_header(settings, "[site] title", "List-Id", f"{phrase} <digest.{host}>")
    return Sender(header, domain, reply_to, list_id)


def _check_unsubscribe_settings(settings: Settings) -> None:
    url = _config_value(settings, "[digest] unsubscribe_url", settings.digest.unsubscribe_url)
    if not re.match(r"^https://[^/\s]+/?\S*$", url) and not is_loopback_http(url):
        raise ConfigError(
            f"{settings.config_path}: [digest] unsubscribe_url: got {url!r}; one-click "
            "unsubscribe (RFC 8058) needs an https URL, e.g. https://example.org/unsubscribe "
            "(http only on a loopback address, for local trials)"
        )
    mailto = settings.digest.unsubscribe_mailto
    if mailto:
        _config_address(settings, "[digest] unsubscribe_mailto", mailto.removeprefix("mailto:"))


def _config_value(settings: Settings, key: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ConfigError(
            f"{settings.config_path}: {key}: contains a line break, which would inject "
            "mail headers; write it on one line"
        )
    return value.strip()


def _config_address(settings: Settings, key: str, address: str) -> str:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ConfigError(
            f"{settings.config_path}: {key}: {address!r} is not an email address ({error})"
        ) from None


def _config_header(settings: Settings, key: str, name: str, value: str) -> str:
    """``value`` when its header reads as itself once received, else a ConfigError."""
    try:
        checked_message(fold_header(name, value) + b"\r\n", [name])
    except DeliveryError as error:
        raise ConfigError(f"{settings.config_path}: {key}: {error}") from None
    return value


def unsubscribe_url(settings: Settings, token: str) -> str:
    base = settings.digest.unsubscribe_url
    return f"{base}{'&' if '?' in base else '?'}token={quote(token, safe='.')}"


def list_unsubscribe(settings: Settings, url: str) -> str:
    """The List-Unsubscribe value: the https link first, then the mailto when configured."""
    value = f"<{url}>"
    mailto = settings.digest.unsubscribe_mailto.removeprefix("mailto:")
    if mailto:
        value += f", <mailto:{mailto}?subject=unsubscribe>"
    return value


def checked_header(name: str, value: str) -> str:
    """``value`` unless it holds CR, LF or another control character (a DeliveryError
    naming the header)."""
    control = control_character(value)
    if control:
        raise DeliveryError(
            f"{name} header: {value[:60]!r} contains the control character {control}; "
            "header injection is refused: remove it where that value comes from"
        )
    return value


def checked_recipient(address: str) -> str:
    """``address`` unless no mail may go to it (a row stored before the checks of today)."""
    if _PLAIN_ADDRESS.fullmatch(address):  # nothing in it a header or SMTP reads otherwise
        return address
    problem = mailbox_problem(address)
    if problem:
        raise DeliveryError(
            f"not sent: {problem} (`gazette subscribers remove` takes it off the list)"
        )
    return address


def checked_message(mime: bytes, names: Sequence[str], subject: str | None = None) -> None:
    """A DeliveryError unless ``mime``, read as a receiver reads it, has exactly the
    headers ``names`` in that order, none decoding to a control character, and the
    Subject ``subject``."""
    head = mime.partition(b"\r\n\r\n")[0]
    fields = [received_header(field) for field in _FIELD_START.split(head)]
    if [name for name, _ in fields] != list(names):
        raise DeliveryError(
            f"the message has the headers {', '.join(name for name, _ in fields)} instead "
            f"of {', '.join(names)}: a value added headers of its own; header injection is "
            "refused: remove the line breaks where that value comes from"
        )
    for name, value in fields:
        control = control_character(value)
        if control:
            raise DeliveryError(
                f"{name} header: reads {value[:60]!r} once received, with the control "
                f"character {control}; header injection is refused: remove it where that "
                "value comes from"
            )
    read = dict(fields).get("Subject")
    if subject is not None and read != subject:
        raise DeliveryError(
            f"Subject header reads {read!r:.60} once received, not {subject[:60]!r}; "
            "write the subject template or the title differently"
        )


@functools.lru_cache(maxsize=256)  # an issue's constant headers are read once
def received_header(field: bytes) -> tuple[str, str]:
    """One header field as a receiver reads it: its name and its value, unfolded and
    decoded (a DeliveryError when it holds a bare CR or LF, or is no header at all)."""
    unfolded = _FOLD.sub(b"", field)
    if b"\r" in unfolded or b"\n" in unfolded:
        raise DeliveryError(
            f"header {field[:60]!r}: holds a bare CR or LF, which some receivers take for "
            "a line end; header injection is refused"
        )
    if _AS_WRITTEN.fullmatch(unfolded):
        name, _, value = unfolded.decode("ascii").partition(":")
        return name, value.lstrip(" \t")
    message = _HEAD_PARSER.parsebytes(field + b"\r\n\r\n")
    if len(message) != 1:
        raise DeliveryError(
            f"header {field[:60]!r}: reads as {len(message)} headers once received; "
            "header injection is refused"
        )
    name, value = message.items()[0]
    return name, str(value)


@dataclass(frozen=True, slots=True)
class MessageMaker:
    """Makes every recipient's Envelope of one rendered issue."""

    settings: Settings
    sender: Sender
    issue: int
    rendered: Rendered
    key: bytes
    layout: MimeLayout = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layout", MimeLayout.of(self.sender, self.rendered))
        # A header wrong for every recipient stops the issue here, each delivery pending,
        # instead of failing them one by one.
        self.envelope(SAMPLE_RECIPIENT, 0, _SAMPLE_DATE)

    def envelope(self, recipient: str, subscriber: int, now: datetime) -> Envelope:
        """The message to ``recipient`` (subscriber id ``subscriber``, whom its unsubscribe
        link names); a DeliveryError when it cannot be sent as meant."""
        checked_recipient(recipient)
        token = make_token(self.key, subscriber, recipient)
        url = unsubscribe_url(self.settings, token)
        html, text = self.rendered.for_recipient(url)
        digest = mail_digest(self.issue, recipient)
        headers = [
            ("Message-ID", f"<issue{self.issue}.{digest}@{self.sender.domain}>"),
            ("List-Id", self.sender.list_id),
            ("List-Unsubscribe", list_unsubscribe(self.settings, url)),
            ("List-Unsubscribe-Post", ONE_CLICK),
        ]
        if self.sender.reply_to:
            headers.append(("Reply-To", self.sender.reply_to))
        mime = self.layout.mime(recipient, now, headers, url)
        names = ["From", "To", "Subject", "Date", *(name for name, _ in headers)]
        checked_message(mime, [*names, "MIME-Version", "Content-Type"], self.rendered.subject)
        return Envelope(
            recipient=recipient,
            sender=self.sender.header,
            subject=self.rendered.subject,
            html=html,
            text=text,
            headers=tuple(headers),
            mime=mime,
            idempotency_key=f"gazette-issue{self.issue}-{digest}",
        )


def build_mime(
    sender: str,
    recipient: str,
    subject: str,
    now: datetime,
    headers: list[tuple[str, str]],
    html: str,
    text: str,
) -> bytes:
    """multipart/alternative: the text part first, the HTML last (the one preferred)."""
    message = EmailMessage(policy=POLICY)
    fields = [("From", sender), ("To", recipient), ("Subject", subject),
              ("Date", format_datetime(now)), *headers]  # fmt: skip
    for name, value in fields:
        message[name] = checked_header(name, value)
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


# Header values written as they are: the email package would fold none of them.
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")
_QP_LINE_LENGTH: int = POLICY.max_line_length or 78


def fold_header(name: str, value: str) -> bytes:
    """The header line as ``build_mime`` writes it; short plain values skip the parser."""
    line = f"{name}: {checked_header(name, value)}"
    pattern = _PLAIN_ADDRESS if name == "To" else _PLAIN
    if len(line) <= _QP_LINE_LENGTH and pattern.fullmatch(value) and "=?" not in value:
        return line.encode("ascii") + b"\r\n"
    message = EmailMessage(policy=POLICY)
    try:
        message[name] = value
        return POLICY.fold_binary(name, message[name])
    except (ValueError, MessageError) as error:  # what it decoded holds a line break
        raise DeliveryError(
            f"{name} header: {value[:60]!r} cannot be written: once decoded, it holds a "
            f"control character ({error}); header injection is refused: remove it where "
            "that value comes from"
        ) from None


def _qp(lines: list[bytes]) -> bytes:
    """Lines quoted-printable encoded exactly as the email package's set_content does."""
    body = (b"\n".join(lines) + b"\n").decode("latin-1")
    return quoprimime.body_encode(body, _QP_LINE_LENGTH).replace("\n", "\r\n").encode("ascii")


@dataclass(frozen=True, slots=True)
class _Part:
    """One text part, encoded once but for its lines holding the unsubscribe link."""

    head: bytes
    pieces: tuple[bytes | str, ...]  # encoded lines, or a line still to fill in
    escape: bool

    @classmethod
    def of(cls, subtype: str, template: str, escape: bool) -> _Part:
        head = (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n")  # fmt: skip
        if subtype == "html":  # add_alternative repeats it on the part
            head += "MIME-Version: 1.0\r\n"
        pieces: list[bytes | str] = []
        constant: list[bytes] = []
        for line in template.encode().splitlines():
            if UNSUBSCRIBE_PLACEHOLDER.encode() not in line:
                constant.append(line)
                continue
            if constant:
                pieces.append(_qp(constant))
                constant = []
            pieces.append(line.decode())
        if constant:
            pieces.append(_qp(constant))
        return cls(head.encode("ascii") + b"\r\n", tuple(pieces), escape)

    def encoded(self, url: str) -> bytes:
        link = html_escaping.escape(url) if self.escape else url
        return self.head + b"".join(
            p if isinstance(p, bytes) else _qp([p.replace(UNSUBSCRIBE_PLACEHOLDER, link).encode()])
            for p in self.pieces
        )


@dataclass(frozen=True, slots=True)
class MimeLayout:
    """What ``build_mime`` makes of one issue, built once: each recipient's message only
    adds its own To, Date, Message-ID and unsubscribe link, and the same bytes result."""

    sender: bytes
    subject: bytes
    text: _Part
    html: _Part

    @classmethod
    def of(cls, sender: Sender, rendered: Rendered) -> MimeLayout:
        return cls(
            fold_header("From", sender.header),
            fold_header("Subject", rendered.subject),
            _Part.of("plain", rendered.text, escape=False),
            _Part.of("html", rendered.html, escape=True),
        )

    def mime(
        self, recipient: str, now: datetime, headers: list[tuple[str, str]], url: str
    ) -> bytes:
        # A quoted-printable body never holds "==", so this boundary cannot occur in it.
        boundary = f"{'=' * 15}{secrets.randbelow(sys.maxsize):019d}==".encode("ascii")
        head = [self.sender, fold_header("To", recipient), self.subject,
                fold_header("Date", format_datetime(now)),
                *(fold_header(name, value) for name, value in headers),
                b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary=\"",
                boundary, b'"\r\n\r\n']  # fmt: skip
        separator = b"--" + boundary + b"\r\n"
        return b"".join([*head, separator, self.text.encoded(url), b"\r\n", separator,
                         self.html.encoded(url), b"\r\n--", boundary, b"--\r\n"])  # fmt: skip


_ISSUE_MESSAGE_ID = re.compile(r"<issue(\d{1,9})\.[0-9a-f]{24}@[^<>@\s]+>")


def mail_digest(issue: int, recipient: str) -> str:
    """What tells issue ``issue``'s mail to ``recipient`` apart, the same for every retry
    of it: in its Message-ID (``<issue<number>.<digest>@domain>``, which a bounce that
    returns the mail names) and its idempotency key."""
    return hashlib.sha256(f"{issue}\0{recipient}".encode()).hexdigest()[:24]


def issue_of_message_id(message_id: str) -> int | None:
    """The issue number in a Message-ID gazette gave a digest, None for any other."""
    found = _ISSUE_MESSAGE_ID.fullmatch(message_id.strip())
    return int(found[1]) if found else None


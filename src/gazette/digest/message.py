"""One recipient's message: headers (RFC 8058 one-click unsubscribe), MIME and Envelope.

A header value with CR or LF is refused: it would let text from a config or a post
add headers of its own (header injection).
"""

from __future__ import annotations

import hashlib
import html as html_escaping
import re
import secrets
import sys
from dataclasses import dataclass, field
from datetime import datetime
from email import quoprimime
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote, urlsplit

from email_validator import EmailNotValidError, validate_email

from gazette.config import Settings
from gazette.digest.render import UNSUBSCRIBE_PLACEHOLDER, Rendered
from gazette.digest.tokens import make_token
from gazette.errors import ConfigError, DeliveryError
from gazette.mail.base import Envelope

ONE_CLICK = "List-Unsubscribe=One-Click"


class _MailPolicy(EmailPolicy):
    """SMTP's policy, except that List-Unsubscribe is folded only between its URIs.

    The email package would turn a long URL into RFC 2047 encoded words, which no mail
    client decodes in this header, and the link would break.
    """

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
    reply_to = _config_value(settings, "[mail] reply_to", settings.mail.reply_to)
    if reply_to:
        _config_address(settings, "[mail] reply_to", parseaddr(reply_to)[1])
    _check_unsubscribe_settings(settings)
    domain = address.rpartition("@")[2]
    host = urlsplit(settings.site.url).hostname or domain
    title = _config_value(settings, "[site] title", settings.site.title)
    phrase = " ".join(title.translate(str.maketrans("", "", '"<>()\\')).split())
    return Sender(header, domain, reply_to, f"{phrase} <digest.{host}>")


def _check_unsubscribe_settings(settings: Settings) -> None:
    url = _config_value(settings, "[digest] unsubscribe_url", settings.digest.unsubscribe_url)
    if not re.match(r"^https://[^/\s]+/?\S*$", url):
        raise ConfigError(
            f"{settings.config_path}: [digest] unsubscribe_url: got {url!r}; one-click "
            "unsubscribe (RFC 8058) needs an https URL, e.g. https://example.org/unsubscribe"
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
    """``value`` unless it holds CR or LF (a DeliveryError naming the header)."""
    if "\r" in value or "\n" in value:
        raise DeliveryError(
            f"{name} header: {value[:60]!r} contains a line break; header injection is "
            "refused: remove the CR/LF where that value comes from"
        )
    return value


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

    def envelope(self, recipient: str, now: datetime) -> Envelope:
        token = make_token(self.key, recipient)
        url = unsubscribe_url(self.settings, token)
        html, text = self.rendered.for_recipient(url)
        digest = hashlib.sha256(f"{self.issue}\0{recipient}".encode()).hexdigest()[:24]
        headers = [
            ("Message-ID", f"<issue{self.issue}.{digest}@{self.sender.domain}>"),
            ("List-Id", self.sender.list_id),
            ("List-Unsubscribe", list_unsubscribe(self.settings, url)),
            ("List-Unsubscribe-Post", ONE_CLICK),
        ]
        if self.sender.reply_to:
            headers.append(("Reply-To", self.sender.reply_to))
        mime = self.layout.mime(recipient, now, headers, url)
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
    if len(line) <= _QP_LINE_LENGTH and pattern.fullmatch(value):
        return line.encode("ascii") + b"\r\n"
    message = EmailMessage(policy=POLICY)
    message[name] = value
    return POLICY.fold_binary(name, message[name])


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

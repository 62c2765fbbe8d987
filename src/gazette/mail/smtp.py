"""SMTP: one connection per batch, STARTTLS or implicit TLS, login from the environment.

What the server says decides each recipient's fate: a refused recipient or message is
failed for that recipient; a refused login or sender stops the issue; a refused or
dropped connection before a message's DATA leaves the rest of the batch pending; a
connection lost after DATA leaves that message uncertain (the server may have taken it).
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from gazette.config import Settings
from gazette.errors import ConfigError
from gazette.log import retry_logger
from gazette.mail.base import (
    Envelope,
    Provider,
    ProviderRejected,
    ProviderUnavailable,
    SendResult,
    UncertainDelivery,
)

log = logging.getLogger("gazette.mail")

NAME = "smtp"
PASSWORD_VARIABLE = "GAZETTE_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a secret
BATCH_SIZE = 50
# Worth another try: the server is down, busy (4xx greeting) or the network dropped.
_TRANSIENT = (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected)


class _Busy(Exception):
    """A 4xx answer: try again later."""


@dataclass(frozen=True, slots=True)
class SmtpOptions:
    """Where the server is, how to secure and log in, and how hard to try."""

    host: str
    port: int
    security: Literal["starttls", "tls", "none"]
    sender: str  # the envelope sender (MAIL FROM): the address of [mail] from
    username: str = ""
    password: str = ""
    cafile: Path | None = None
    timeout: float = 30.0
    max_attempts: int = 5
    batch_size: int = BATCH_SIZE
    wait_initial: float = 0.5  # seconds before the first retry; doubling, with jitter


class SmtpProvider:
    """Sends each batch over one SMTP connection."""

    name = NAME
    idempotent = False

    def __init__(self, options: SmtpOptions) -> None:
        self.options = options
        self.batch_size = options.batch_size
        self._context = ssl.create_default_context(
            cafile=str(options.cafile) if options.cafile else None
        )

    def send(self, batch: Sequence[Envelope]) -> list[SendResult]:
        results: list[SendResult] = []
        client = self._connect()
        try:
            for envelope in batch:
                results.append(self._send_one(client, envelope, results))
        finally:
            _quit(client)
        return results

    def close(self) -> None:
        """Nothing to close: each batch closes its own connection."""

    # --- the connection ----------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        retrying = Retrying(
            retry=retry_if_exception_type((*_TRANSIENT, _Busy)),
            stop=stop_after_attempt(self.options.max_attempts),
            wait=wait_exponential_jitter(initial=self.options.wait_initial, max=30),
            before_sleep=retry_logger(log, f"smtp connection to {self._where()}"),
        )
        try:
            return retrying(self._open)
        except RetryError as error:
            cause = error.last_attempt.exception()
            raise ProviderUnavailable(
                f"smtp: cannot reach {self._where()} after {self.options.max_attempts} "
                f"attempts: {_describe(cause)}; check [mail] smtp_host and smtp_port"
            ) from None

    def _open(self) -> smtplib.SMTP:
        options = self.options
        client: smtplib.SMTP
        if options.security == "tls":
            client = smtplib.SMTP_SSL(
                options.host, options.port, timeout=options.timeout, context=self._context
            )
        else:
            client = smtplib.SMTP(options.host, options.port, timeout=options.timeout)
        try:
            self._greet(client)
        except BaseException:
            client.close()
            raise
        return client

    def _greet(self, client: smtplib.SMTP) -> None:
        client.ehlo()
        if self.options.security == "starttls":
            client.starttls(context=self._context)
            client.ehlo()
        if self.options.username:
            self._login(client)

    def _login(self, client: smtplib.SMTP) -> None:
        try:
            client.login(self.options.username, self.options.password)
        except smtplib.SMTPAuthenticationError as error:
            if 400 <= error.smtp_code < 500:
                raise _Busy(_describe(error)) from None
            raise ProviderRejected(
                f"smtp: {self._where()} refused the login of {self.options.username!r}: "
                f"{_describe(error)}; check [mail] smtp_username and {PASSWORD_VARIABLE}"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise ProviderRejected(
                f"smtp: {self._where()} offers no login here; use smtp_security = "
                '"starttls" or "tls", or remove smtp_username'
            ) from None

    def _where(self) -> str:
        return f"{self.options.host}:{self.options.port}"

    # --- one message -------------------------------------------------------------------

    def _send_one(
        self, client: smtplib.SMTP, envelope: Envelope, settled: list[SendResult]
    ) -> SendResult:
        try:
            code, reply = client.mail(self.options.sender)
            if code != 250:
                self._sender_refused(code, reply, settled)
            code, reply = client.rcpt(envelope.recipient)
            if code not in (250, 251):
                return self._refused(client, envelope, code, reply, settled)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise ProviderUnavailable(
                f"smtp: {self._where()} dropped the connection: {_describe(error)}",
                settled=settled,
            ) from None
        return self._data(client, envelope, settled)

    def _sender_refused(self, code: int, reply: bytes, settled: list[SendResult]) -> None:
        said = f"{code} {reply.decode(errors='replace')}"
        if 400 <= code < 500:
            raise ProviderUnavailable(
                f"smtp: {self._where()} deferred the sender: {said}; try again later",
                settled=settled,
            )
        raise ProviderRejected(
            f"smtp: {self._where()} refused the sender {self.options.sender}: {said}; "
            "check [mail] from (the server must allow this address)",
            settled=settled,
        )

    def _refused(
        self,
        client: smtplib.SMTP,
        envelope: Envelope,
        code: int,
        reply: bytes,
        settled: list[SendResult],
    ) -> SendResult:
        client.rset()
        if 400 <= code < 500:
            raise ProviderUnavailable(
                f"smtp: {self._where()} deferred {envelope.recipient}: {code} "
                f"{reply.decode(errors='replace')}; try again later",
                settled=settled,
            )
        return SendResult(
            envelope.recipient, "failed", error=f"{code} {reply.decode(errors='replace')}"
        )

    def _data(
        self, client: smtplib.SMTP, envelope: Envelope, settled: list[SendResult]
    ) -> SendResult:
        try:
            code, reply = client.data(envelope.mime)
        except smtplib.SMTPDataError as error:
            return self._data_refused(client, envelope, error, settled)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise UncertainDelivery(
                f"smtp: {self._where()} dropped the connection during DATA for "
                f"{envelope.recipient}: {_describe(error)}",
                settled=settled,
                uncertain=1,
            ) from None
        return SendResult(envelope.recipient, "sent", provider_id=_queue_id(code, reply))

    def _data_refused(
        self,
        client: smtplib.SMTP,
        envelope: Envelope,
        error: smtplib.SMTPDataError,
        settled: list[SendResult],
    ) -> SendResult:
        if 400 <= error.smtp_code < 500:
            raise ProviderUnavailable(
                f"smtp: {self._where()} deferred the message to {envelope.recipient}: "
                f"{_describe(error)}; try again later",
                settled=settled,
            )
        client.rset()
        return SendResult(envelope.recipient, "failed", error=_describe(error))


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _queue_id(code: int, reply: bytes) -> str:
    return f"{code} {reply.decode(errors='replace')}".strip()


def _describe(error: BaseException | None) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        said = error.smtp_error
        text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        return f"{error.smtp_code} {text}"
    if isinstance(error, socket.timeout):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def make(settings: Settings, environ: Mapping[str, str]) -> Provider:
    """An SMTP provider from ``[mail] smtp_*`` and ``GAZETTE_SMTP_PASSWORD``."""
    mail = settings.mail
    where = f"{settings.config_path}: [mail]"
    if not mail.smtp_host:
        raise ConfigError(f'{where} smtp_host: required for provider "smtp"; e.g. smtp.example.org')
    password = environ.get(PASSWORD_VARIABLE, "")
    if mail.smtp_username and not password:
        raise ConfigError(
            f"{PASSWORD_VARIABLE}: not set; export the password of "
            f"smtp_username {mail.smtp_username!r}"
        )
    cafile = settings.resolve(mail.smtp_cafile) if mail.smtp_cafile else None
    if cafile is not None and not cafile.is_file():
        raise ConfigError(f"{where} smtp_cafile: {cafile} is not a file; give a PEM bundle")
    options = SmtpOptions(
        host=mail.smtp_host,
        port=mail.smtp_port,
        security=mail.smtp_security,
        sender=parseaddr(mail.sender)[1],
        username=mail.smtp_username,
        password=password,
        cafile=cafile,
        timeout=mail.timeout,
        max_attempts=mail.max_attempts,
        batch_size=mail.batch_size or BATCH_SIZE,
    )
    return SmtpProvider(options)

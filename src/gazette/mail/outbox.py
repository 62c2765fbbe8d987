"""The outbox: every message written to a folder instead of sent, so the example needs
no account.

One subfolder per issue; per recipient ``<address>.eml`` (the complete message, as a
mail client opens it) and ``<address>.html`` (its HTML part, to look at in a browser).
Each file appears whole or not at all (written aside, then renamed). Writing the same
envelope again replaces its files, so a resend never makes a second copy: the outbox
is idempotent.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from gazette.config import Settings
from gazette.mail.base import Envelope, Provider, ProviderUnavailable, SendResult
from gazette.processes import pid_runs

NAME = "outbox"
BATCH_SIZE = 100

LEFTOVER_AGE = 60.0  # seconds


class OutboxProvider:
    """Writes envelopes as files under ``folder``."""

    name = NAME
    idempotent = True

    def __init__(self, folder: Path, batch_size: int = BATCH_SIZE) -> None:
        self.folder = folder
        self.batch_size = batch_size
        self._ready: set[Path] = set()

    def send(self, batch: Sequence[Envelope]) -> list[SendResult]:
        results: list[SendResult] = []
        for envelope in batch:
            try:
                path = self._write(envelope)
            except OSError as error:
                raise ProviderUnavailable(
                    f"outbox: cannot write to {self.folder}: {error.strerror}; "
                    "check [mail] outbox and the free space there",
                    settled=results,
                ) from None
            results.append(SendResult(envelope.recipient, "sent", provider_id=str(path)))
        return results

    def _write(self, envelope: Envelope) -> Path:
        folder = self.folder / issue_folder(envelope.idempotency_key)
        if folder not in self._ready:
            folder.mkdir(parents=True, exist_ok=True)
            _remove_leftovers(folder)
            self._ready.add(folder)
        stem = _safe_name(envelope.recipient)
        _write_atomically(folder / f"{stem}.html", envelope.html.encode("utf-8"))
        eml = folder / f"{stem}.eml"
        _write_atomically(eml, envelope.mime)
        return eml

    def close(self) -> None:
        """Nothing to close: every file is complete when ``send`` returns."""


def issue_folder(idempotency_key: str) -> str:
    """The issue's part of a key such as ``gazette-issue3-<hash>``: ``gazette-issue3``."""
    return _safe_name(idempotency_key.rpartition("-")[0] or "messages")


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]", "_", text)[:200]


def _remove_leftovers(folder: Path) -> None:
    """Removes the part-files of runs killed while writing: those whose writer (named in
    the file name) no longer runs, or older than a minute (a write takes milliseconds).
    A younger one of a live process is another sender's write in progress."""
    stale = time.time() - LEFTOVER_AGE
    for leftover in folder.glob(".*.part"):
        try:
            if not _writer_runs(leftover.name) or leftover.stat().st_mtime < stale:
                leftover.unlink(missing_ok=True)
        except FileNotFoundError:
            pass  # renamed into place meanwhile


def _writer_runs(name: str) -> bool:
    pid = name[1:].split("-", 1)[0]
    return pid.isdigit() and pid_runs(int(pid))


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{os.getpid()}-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def make(settings: Settings, environ: Mapping[str, str]) -> Provider:
    """The outbox of ``[mail] outbox`` (relative to the config file)."""
    del environ  # the outbox needs no secret
    return OutboxProvider(
        settings.resolve(settings.mail.outbox), settings.mail.batch_size or BATCH_SIZE
    )

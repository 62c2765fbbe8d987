"""Subscribers: validated addresses with a status.

pending (not confirmed yet), active (mailed), unsubscribed and bounced. An unsubscribed
address keeps its row so that no later add or import can mail it again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, func, select, update

from gazette.digest.tables import subscribers
from gazette.errors import SubscriberError
from gazette.models import SubscriberStatus as Status

_HEADER_NAMES = frozenset({"email", "e-mail", "address", "mail"})
# C0 and C1 controls, DEL, and the line and paragraph separators (str.splitlines breaks there).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# RFC 2047: mail programs decode "=?charset?encoding?text?=" wherever they meet it, so
# an address holding one reads as other text, even as line breaks that add headers.
_ENCODED_WORD = re.compile(r"=\?.*\?=", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address on the list."""

    id: int
    address: str
    name: str
    status: str
    created: str
    changed: str


@dataclass
class ImportReport:
    """What an import did: counts, and one ``file:line: problem`` per row left out."""

    added: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


def normalize_address(text: str) -> str:
    """The address as it will be stored; a SubscriberError saying why when it is not one."""
    stripped = text.strip()
    try:
        normalized = validate_email(stripped, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise SubscriberError(f"{stripped!r} is not an email address: {error}") from None
    if _ENCODED_WORD.search(normalized):
        raise SubscriberError(
            f"{stripped!r} is not an email address: it holds an RFC 2047 encoded word "
            "(=?…?=), which mail programs decode into other text; give the address "
            "without it"
        )
    return normalized


def mailbox_problem(address: str) -> str:
    """Why mail cannot be sent to ``address`` (as ``normalize_address`` says); empty if it can."""
    try:
        normalize_address(address)
    except SubscriberError as error:
        return str(error)
    return ""


def control_character(text: str) -> str:
    """The first control character in ``text`` as U+XXXX; empty when there is none."""
    found = _CONTROL.search(text)
    return f"U+{ord(found[0]):04X}" if found else ""


def escape_controls(text: str) -> str:
    """``text`` with each control character written as an escape (\\n, \\x1b)."""
    return _CONTROL.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), text)


def find_subscriber_by_id(connection: Connection, number: int) -> Subscriber | None:
    row = connection.execute(select(subscribers).where(subscribers.c.id == number)).first()
    return subscriber_of_row(row._mapping) if row else None


def find_subscriber(connection: Connection, address: str) -> Subscriber | None:
    row = connection.execute(
        select(subscribers).where(subscribers.c.address_key == address.lower())
    ).first()
    return subscriber_of_row(row._mapping) if row else None


def subscriber_of_row(mapping: Any) -> Subscriber:
    return Subscriber(**{name: mapping[name] for name in Subscriber.__slots__})


def insert_subscriber(
    connection: Connection, normalized: str, name: str, now: datetime, status: Status
) -> Subscriber:
    """Writes a new row for an address already normalized and checked absent."""
    stamp = now.isoformat()
    values = {"address": normalized, "address_key": normalized.lower(), "name": name,
              "status": status, "created": stamp, "changed": stamp}  # fmt: skip
    inserted = connection.execute(subscribers.insert().values(**values)).inserted_primary_key
    assert inserted is not None
    return subscriber_of_row({"id": int(inserted[0]), **values})


def add_subscriber(
    connection: Connection, address: str, name: str, now: datetime, status: Status = "active"
) -> bool:
    """Adds ``address``; False when it was already on the list (pending or active).

    An unsubscribed or bounced address is refused: it must never be mailed again.
    """
    normalized = normalize_address(address)
    # A control character would forge a line of `subscribers list` (a NUL, PostgreSQL
    # cannot even store), or a header wherever the name is written into a mail.
    control = control_character(name.strip())
    if control:
        raise SubscriberError(
            f"the name of {normalized} contains the control character {control}; "
            "write the name on one line, without control characters"
        )
    found = find_subscriber(connection, normalized)
    if found is None:
        insert_subscriber(connection, normalized, name.strip(), now, status)
        return True
    if found.status in ("unsubscribed", "bounced"):
        raise SubscriberError(
            f"{normalized} {found.status} on {found.changed[:10]}; "
            "such an address is never mailed again"
        )
    return False


def import_csv(connection: Connection, path: Path, now: datetime) -> ImportReport:
    """Adds every good row of a CSV of ``email[,name]``; bad rows are reported by line."""
    report = ImportReport()
    for line, cells in _csv_rows(path):
        if not cells or not "".join(cells).strip():
            continue
        if line == 1 and cells[0].strip().lower() in _HEADER_NAMES:
            continue
        try:
            name = cells[1] if len(cells) > 1 else ""
            if add_subscriber(connection, cells[0], name, now):
                report.added += 1
            else:
                report.unchanged += 1
        except SubscriberError as error:
            report.problems.append(f"{path}:{line}: {error}")
    return report


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SubscriberError(f"{path}: no such file; give the path of a CSV file") from None
    except UnicodeDecodeError as error:
        raise SubscriberError(
            f"{path}: not UTF-8 (byte {error.start}); save the file as UTF-8"
        ) from None
    # Read as the file has it: a quoted name keeps its line break, so it is refused.
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as error:
        raise SubscriberError(f"{path}:{reader.line_num}: not valid CSV: {error}") from None


def set_status(connection: Connection, address: str, status: Status, now: datetime) -> Subscriber:
    """Changes the status of a subscriber (``remove`` sets unsubscribed).

    An address no longer accepted (stored by an older version) is found as it was stored.
    """
    try:
        found = find_subscriber(connection, normalize_address(address))
    except SubscriberError:
        found = find_subscriber(connection, address.strip())
        if found is None:
            raise
    if found is None:
        raise SubscriberError(f"{address.strip()} is not a subscriber; see `subscribers list`")
    connection.execute(
        update(subscribers)
        .where(subscribers.c.id == found.id)
        .values(status=status, changed=now.isoformat())
    )
    return found


def list_subscribers(connection: Connection, status: str | None = None) -> Iterator[Subscriber]:
    query = select(subscribers).order_by(subscribers.c.address_key)
    if status:
        query = query.where(subscribers.c.status == status)
    for row in connection.execute(query):
        yield subscriber_of_row(row._mapping)


def count_active(connection: Connection) -> int:
    query = select(func.count()).where(subscribers.c.status == "active")
    return int(connection.execute(query).scalar_one())

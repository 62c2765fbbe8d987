"""The bounce mailbox against a real IMAP server (Debian's Dovecot, started here on a
loopback port): delivery status notifications and abuse reports are read and moved
out of the inbox; every other message is left where it was."""

from __future__ import annotations

import getpass
import imaplib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from gazette.config import Settings, load_settings
from gazette.digest import ledger, reputation
from gazette.digest.bounce_mailbox import Report, poll, read_bounce_mailbox, reports_of
from gazette.digest.message import mail_digest
from gazette.digest.subscribers import add_subscriber, find_subscriber
from gazette.digest.tables import deliveries
from gazette.errors import DeliveryError
from gazette.mail.base import SendResult
from gazette.store import Store

from ..conftest import NOW, ROOT
from ..scheduler.conftest import SUBSCRIBERS, Service, make_site, site_config
from .conftest import free_port

PASSWORD = "loopback-only-mailbox"  # noqa: S105 - a made-up password for a test server
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: digest@notes.example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.{n}@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b{n}"

--b{n}
Content-Type: text/plain

Your message could not be delivered.

--b{n}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {address}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {code}

--b{n}--
"""

ARF = """\
From: feedback@mailbox.example.com
To: digest@notes.example.org
Subject: complaint about a message
Message-ID: <arf.1@mailbox.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf"

--arf
Content-Type: text/plain

This is an abuse report.

--arf
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: angry@example.org

--arf
Content-Type: text/rfc822-headers

From: Example Notes <digest@notes.example.org>
To: angry@example.org
Subject: Example Notes: 2 new posts

--arf--
"""

REPLY = """\
From: Reader <reader@example.org>
To: digest@notes.example.org
Subject: Re: Example Notes: 2 new posts
Message-ID: <reply.1@example.org>

Thanks for the issue; the second post has a typo.
"""


def dsn(n: int, address: str, permanent: bool) -> str:
    status, action = ("5.1.1", "failed") if permanent else ("4.2.2", "delayed")
    code = "550 5.1.1 no such user" if permanent else "452 4.2.2 mailbox full"
    return DSN.format(n=n, address=address, status=status, action=action, code=code)


@dataclass
class Imap:
    port: int
    folder: Path

    def append(self, *messages: str) -> None:
        with self.session() as imap:
            for message in messages:
                imap.append("INBOX", None, None, message.replace("\n", "\r\n").encode())

    def count(self, folder: str) -> int:
        with self.session() as imap:
            status, data = imap.select(f'"{folder}"', readonly=True)
            assert status == "OK", data
            return int(data[0] or 0)

    def session(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login("bounces", PASSWORD)
        return imap


def _config(folder: Path, port: int) -> str:
    """Dovecot on 127.0.0.1:port, its state and mail in ``folder``, one user."""
    me = getpass.getuser()
    mail_user = "dovecot" if os.geteuid() == 0 else me
    own = "" if os.geteuid() == 0 else f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    return f"""\
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
mail_location = maildir:{folder}/mail/%u
first_valid_uid = 1
{own}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={folder}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
}}
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Imap]:
    """Dovecot started for these tests (skips without it, fails when CI=true)."""
    if not Path(DOVECOT).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot-imapd must be installed")
        pytest.skip("dovecot is not installed (.ci/run installs dovecot-imapd)")
    # Dovecot's processes run as its own users, which pytest's private temp folder keeps
    # out: a folder of its own, open to them.
    folder = Path(tempfile.mkdtemp(prefix="gazette-dovecot-"))
    folder.chmod(0o755)
    port = free_port()
    (folder / "users").write_text(f"bounces:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    for sub in ("mail", "home"):
        (folder / sub).mkdir()
        if os.geteuid() == 0:
            record = pwd.getpwnam("dovecot")
            os.chown(folder / sub, record.pw_uid, record.pw_gid)
    config = folder / "dovecot.conf"
    config.write_text(_config(folder, port), encoding="utf-8")
    subprocess.run([DOVECOT, "-c", str(config)], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # it stays as a daemon
    server = Imap(port, folder)
    deadline = time.monotonic() + 20
    while True:
        try:
            server.session().logout()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        yield server
    finally:
        subprocess.run(["doveadm", "-c", str(config), "stop"], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def settings_for(server: Imap, tmp_path: Path) -> Settings:
    mailbox = f"imap://bounces@127.0.0.1:{server.port}/INBOX"
    environ = {"GAZETTE_STATE_DATABASE": f"sqlite:///{tmp_path / 'state.db'}",
               "GAZETTE_MAIL_BOUNCE_MAILBOX": mailbox}  # fmt: skip
    return load_settings(ROOT / "config" / "gazette.toml", environ=environ)


def test_reports_are_read_and_moved_and_other_mail_is_left(dovecot: Imap, tmp_path: Path) -> None:
    """A permanent and a temporary DSN, an abuse report and a reader's reply: one poll
    reports the three, moves them to gazette-processed, and leaves the reply in the
    inbox; a second poll finds nothing new."""
    empty(dovecot)
    dovecot.append(dsn(1, "gone@example.org", True), dsn(2, "full@example.org", False), ARF,
                   REPLY)  # fmt: skip
    settings = settings_for(dovecot, tmp_path)
    recorded: list[list[Report]] = []
    first = poll(settings, {"GAZETTE_BOUNCE_MAILBOX_PASSWORD": PASSWORD}, recorded.append)
    assert recorded == [first.reports]
    assert sorted((r.kind, r.address) for r in first.reports) == [
        ("complaint", "angry@example.org"),
        ("hard_bounce", "gone@example.org"),
        ("soft_bounce", "full@example.org"),
    ]
    assert (first.moved, first.left) == (3, 1)
    assert dovecot.count("INBOX") == 1
    assert dovecot.count("gazette-processed") == 3
    again = poll(settings, {"GAZETTE_BOUNCE_MAILBOX_PASSWORD": PASSWORD}, recorded.append)
    assert (again.reports, again.moved, again.left) == ([], 0, 1)


def test_a_reply_is_no_report() -> None:
    """An ordinary mail says nothing about any recipient."""
    assert reports_of(REPLY.encode()) == []


def test_the_report_carries_its_own_message_id() -> None:
    """The same report read twice can be told apart from a second bounce."""
    assert reports_of(dsn(7, "gone@example.org", True).encode()) == [
        Report("hard_bounce", "gone@example.org", "<dsn.7@mx.example.net>")
    ]


def test_a_wrong_password_is_a_clear_error(dovecot: Imap, tmp_path: Path) -> None:
    """A refused login names the mailbox and changes nothing."""
    with pytest.raises(DeliveryError, match=r"bounce mailbox 127\.0\.0\.1"):
        poll(settings_for(dovecot, tmp_path), {"GAZETTE_BOUNCE_MAILBOX_PASSWORD": "wrong"},
             lambda _reports: None)  # fmt: skip


def empty(server: Imap) -> None:
    with server.session() as imap:
        for folder in ("INBOX", "gazette-processed"):
            status, data = imap.select(f'"{folder}"')
            if status == "OK" and int(data[0] or 0):
                imap.store("1:*", "+FLAGS", "(\\Deleted)")
                imap.expunge()


def test_a_bounce_in_the_mailbox_marks_its_subscriber_after_one_poll(
    dovecot: Imap, tmp_path: Path
) -> None:
    """Active subscribers; a hard bounce for one and a complaint about another arrive:
    after one poll the first is bounced, the second unsubscribed, the third untouched;
    the same reports put back in the inbox count once."""
    empty(dovecot)
    settings = settings_for(dovecot, tmp_path)
    store = Store(settings.database_url)
    with store.transaction() as connection:
        for address in ("gone@example.org", "angry@example.org", "fine@example.org"):
            add_subscriber(connection, address, "", NOW)
    dovecot.append(dsn(3, "gone@example.org", True), ARF)
    environ = {"GAZETTE_BOUNCE_MAILBOX_PASSWORD": PASSWORD}
    _found, applied = read_bounce_mailbox(settings, store, environ, NOW)
    assert (applied.applied, applied.changed) == (2, 2)
    with store.transaction() as connection:
        found = [find_subscriber(connection, a) for a in
                 ("gone@example.org", "angry@example.org", "fine@example.org")]  # fmt: skip
    status = {s.address: s.status for s in found if s is not None}
    assert status == {"gone@example.org": "bounced", "angry@example.org": "unsubscribed",
                      "fine@example.org": "active"}  # fmt: skip
    dovecot.append(dsn(3, "gone@example.org", True))
    _again, repeated = read_bounce_mailbox(settings, store, environ, NOW)
    assert (repeated.applied, repeated.repeated) == (0, 1)
    store.close()


def test_gazette_run_polls_the_mailbox_on_its_schedule(dovecot: Imap, tmp_path: Path) -> None:
    """A real `gazette run` with mail.bounce_schedule = "1s": a hard bounce in the inbox
    makes its subscriber bounced, the report leaves the inbox and the others stay active;
    the next polls find nothing and say so."""
    empty(dovecot)
    mailbox = f'bounce_mailbox = "imap://bounces@127.0.0.1:{dovecot.port}/INBOX"'
    folder = tmp_path / "site"
    settings = make_site(folder, site_config("sqlite:///state.db", "1h", 'schedule = "0 0 1 1 *"',
                                             f'{mailbox}\nbounce_schedule = "1s"'))  # fmt: skip
    dovecot.append(dsn(4, SUBSCRIBERS[0], True))
    service = Service(folder / "gazette.toml", tmp_path / "run.log",
                      {"GAZETTE_BOUNCE_MAILBOX_PASSWORD": PASSWORD})  # fmt: skip
    try:
        service.wait_for(r"job bounces finished: 1 reports read, 1 messages moved, 0 left in "
                         r"the folder; 1 subscribers changed")  # fmt: skip
        log = service.wait_for(r"job bounces skipped: 0 reports read")
    finally:
        assert service.stop() == 0
        service.close()
    assert "Traceback" not in log
    assert dovecot.count("INBOX") == 0
    store = Store(settings.database_url)
    with store.transaction() as connection:
        status = {a: find_subscriber(connection, a).status for a in SUBSCRIBERS[:2]}  # type: ignore[union-attr]
    store.close()
    assert status == {SUBSCRIBERS[0]: "bounced", SUBSCRIBERS[1]: "active"}


def test_gazette_run_without_the_mailbox_password_stops_at_start(tmp_path: Path) -> None:
    """mail.bounce_mailbox set and GAZETTE_BOUNCE_MAILBOX_PASSWORD not: `gazette run`
    exits at once naming the variable, before it takes the lease or polls anything."""
    folder = tmp_path / "site"
    mailbox = 'bounce_mailbox = "imaps://bounces@mail.example.org/INBOX"'
    make_site(folder, site_config("sqlite:///state.db", "1h", 'schedule = "0 0 1 1 *"', mailbox))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
    done = subprocess.run([sys.executable, "-m", "gazette", "--config",
                           str(folder / "gazette.toml"), "run"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0
    assert "GAZETTE_BOUNCE_MAILBOX_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr


RETURNED_DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: digest@notes.example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.returned@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="r"

--r
Content-Type: text/plain

Your message could not be delivered.

--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {address}
Action: failed
Status: 5.1.1

--r
Content-Type: text/rfc822-headers

From: Example Notes <digest@notes.example.org>
To: {address}
Subject: Example Notes: 2 new posts
Message-ID: {original}

--r--
"""


def test_a_returned_mail_names_its_delivery(dovecot: Imap, tmp_path: Path) -> None:
    """A DSN returning the headers of issue 1's mail (the SMTP relay's queue id is all the
    ledger holds): the delivery of that issue to that reader records the bounce, and
    `gazette status` counts it in the issue's bounce rate."""
    empty(dovecot)
    settings = settings_for(dovecot, tmp_path)
    store = Store(settings.database_url)
    readers = ("gone@example.org", "fine@example.org")
    with store.transaction() as connection:
        for address in readers:
            add_subscriber(connection, address, "", NOW)
        issue = ledger.create_issue(connection, "2026-W49", "News", ["p"], NOW)
        claimed = ledger.claim_batch(connection, issue.number, 10, NOW)
        ledger.record_results(connection, claimed, [
            SendResult(c.recipient, "sent", provider_id=f"4Xq{n}ABC") for n, c in enumerate(claimed)
        ], NOW)  # fmt: skip
    original = f"<issue{issue.number}.{mail_digest(issue.number, readers[0])}@notes.example.org>"
    dovecot.append(RETURNED_DSN.format(address=readers[0], original=original))
    environ = {"GAZETTE_BOUNCE_MAILBOX_PASSWORD": PASSWORD}
    _found, applied = read_bounce_mailbox(settings, store, environ, NOW)
    assert (applied.changed, applied.deliveries) == (1, 1)
    with store.transaction() as connection:
        rows = connection.execute(select(deliveries.c.recipient, deliveries.c.outcome))
        outcomes = {row.recipient: row.outcome for row in rows}
        rates = reputation.recent_rates(connection)
    store.close()
    assert outcomes == {readers[0]: "bounced", readers[1]: ""}
    assert [(r.number, r.rates.sent, r.rates.bounced) for r in rates] == [(issue.number, 2, 1)]

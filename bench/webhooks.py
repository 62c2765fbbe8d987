"""Webhook benchmark: SendGrid-shaped batches of 1,000 signed events posted to a real
`gazette serve`, against the same number of bare inserts into the state database.

The site is the bundled example, with --subscribers active subscribers mailed one issue
(each delivery under a SendGrid message id), so the events name real subscribers and
deliveries: mostly deliveries, some opens and clicks, a few bounces, blocks and spam
reports, as a real send reports them. Each batch is signed with the Event Webhook's
ECDSA key and posted one after another, as SendGrid posts them; every event id is new.
Events per second is the count over the wall time of all the posts; peak memory is the
server process's peak resident set (VmHWM).

The baseline does the least any handler must: the same number of rows, a transaction
per 1,000, inserted into a table shaped like the event log, in the state database (its
engine and settings), from this process: once with one executemany per batch (the
fastest bare insert there is), once with one INSERT statement per event. Both are
printed, each run paired with the gazette run before it. Target: gazette at least 0.5x
the baseline's events per second.

    python3 bench/webhooks.py                       # 20 batches, 5,000 subscribers
    python3 bench/webhooks.py --batches 50 --subscribers 20000
    python3 bench/webhooks.py --database postgresql://…   # a new, empty PostgreSQL database
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import random
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Column, MetaData, String, Table, Text, insert

from gazette.digest import ledger
from gazette.digest.subscribers import add_subscriber
from gazette.mail.base import SendResult
from gazette.store import Store

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "gazette.toml"
BATCH = 1000  # SendGrid's largest
# What one send's events look like: event name and its weight.
MIX = (("delivered", 70), ("open", 15), ("click", 8), ("bounce", 3), ("blocked", 2),
       ("spamreport", 1), ("unsubscribe", 1))  # fmt: skip


def address(number: int) -> str:
    return f"reader{number}@example.org"


def message_id(number: int) -> str:
    return f"sgmsg{number:08d}"


def environment(folder: Path, database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
    env |= {"GAZETTE_STATE_DATABASE": database, "GAZETTE_FEEDS_OUTPUT": str(folder / "public"),
            "GAZETTE_SITE_LANGUAGE": "en"}  # fmt: skip
    return env


def prepare(folder: Path, database: str, subscribers: int) -> None:
    """The example built, and ``subscribers`` readers mailed one issue."""
    subprocess.run(["gazette", "--config", str(CONFIG), "build"], check=True,
                   env=environment(folder, database), capture_output=True)  # fmt: skip
    now = datetime.now(UTC)
    store = Store(database)
    with store.transaction() as connection:
        for number in range(subscribers):
            add_subscriber(connection, address(number), "", now)
        issue = ledger.create_issue(connection, "bench", "News", ["p"], now)
        claimed = ledger.claim_batch(connection, issue.number, subscribers + 100, now)
        numbers = {address(n): n for n in range(subscribers)}
        ledger.record_results(connection, claimed, [
            SendResult(c.recipient, "sent", provider_id=message_id(numbers.get(c.recipient, 0)))
            for c in claimed
        ], now)  # fmt: skip
    store.close()


def batches(count: int, subscribers: int, run: int) -> list[bytes]:
    """``count`` batches of events, their ids new in each ``run``."""
    rng = random.Random(run)
    names = [name for name, weight in MIX for _ in range(weight)]
    ids = itertools.count(run * count * BATCH)
    found = []
    for _ in range(count):
        events = []
        for _ in range(BATCH):
            number, name = rng.randrange(subscribers), rng.choice(names)
            event: dict[str, object] = {
                "email": address(number), "timestamp": int(time.time()), "event": name,
                "sg_event_id": f"bench-{next(ids):010d}",
                "sg_message_id": f"{message_id(number)}.filter0001.1234.5678",
            }  # fmt: skip
            if name in ("bounce", "blocked"):
                event |= {"event": "bounce", "type": name}
            events.append(event)
        found.append(json.dumps(events).encode())
    return found


def signed(key: ec.EllipticCurvePrivateKey, body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {"x-twilio-email-event-webhook-timestamp": stamp,
            "x-twilio-email-event-webhook-signature": base64.b64encode(signature).decode(),
            "content-type": "application/json"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`gazette serve` on the site, verifying SendGrid's signatures with a key of its own."""

    def __init__(self, folder: Path, database: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        port = free_port()
        env = environment(folder, database) | {
            "GAZETTE_SERVE_LISTEN": f"127.0.0.1:{port}",
            "GAZETTE_SENDGRID_WEBHOOK_KEY": base64.b64encode(public).decode(),
        }
        self.url = f"http://127.0.0.1:{port}"
        command = ["gazette", "--config", str(CONFIG), "serve"]
        self.process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL)  # fmt: skip
        wait_up(self.url)

    def post_all(self, bodies: list[bytes]) -> float:
        """Posts the batches one after another; events per second."""
        signed_bodies = [(body, signed(self.key, body)) for body in bodies]
        with httpx.Client(base_url=self.url, timeout=120) as client:
            start = time.perf_counter()
            for body, headers in signed_bodies:
                answer = client.post("/webhooks/sendgrid", content=body, headers=headers)
                answer.raise_for_status()
            elapsed = time.perf_counter() - start
        return len(bodies) * BATCH / elapsed

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("gazette serve did not start")


def run_baseline(database: str, bodies: list[bytes], each: bool) -> float:
    """Bare inserts of the same events into the state database (its engine, its
    settings), a transaction per batch of 1,000 rows: one executemany per batch, or with
    ``each`` one INSERT statement per event; events per second."""
    metadata = MetaData()
    table = Table("bare_events", metadata, Column("provider", String(32), primary_key=True),
                  Column("event_id", String(300), primary_key=True), Column("kind", String(16)),
                  Column("address_key", String(320)), Column("message_id", Text),
                  Column("occurred", String(40)), Column("received", String(40)))  # fmt: skip
    store = Store(database)
    metadata.drop_all(store.engine)
    metadata.create_all(store.engine)
    now = datetime.now(UTC).isoformat()
    rows = [[{"provider": "sendgrid", "event_id": e["sg_event_id"], "kind": e["event"],
              "address_key": e["email"], "message_id": e["sg_message_id"],
              "occurred": now, "received": now} for e in json.loads(body)]
            for body in bodies]  # fmt: skip
    start = time.perf_counter()
    for batch in rows:
        with store.transaction() as connection:
            if each:
                for row in batch:
                    connection.execute(insert(table).values(row))
            else:
                connection.execute(insert(table), batch)
    elapsed = time.perf_counter() - start
    metadata.drop_all(store.engine)
    store.close()
    return len(bodies) * BATCH / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20, help="batches per run")
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="paired runs; the best counts")
    parser.add_argument("--database", default="", help="a PostgreSQL URL (default: SQLite)")
    options = parser.parse_args()
    runs: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="gazette-webhooks-") as temp:
        folder = Path(temp)
        state = options.database or f"sqlite:///{folder / 'state.db'}"
        prepare(folder, state, options.subscribers)
        server = Server(folder, state)
        try:
            for run in range(options.repeat):
                bodies = batches(options.batches, options.subscribers, run)
                runs.append((server.post_all(bodies), run_baseline(state, bodies, False),
                             run_baseline(state, bodies, True)))  # fmt: skip
            peak = server.peak_mb()
        finally:
            server.stop()
    rate, bare, each = (max(run[column] for run in runs) for column in range(3))
    kind = "PostgreSQL" if options.database else "SQLite"
    print(f"{options.batches * BATCH} SendGrid events per run in batches of {BATCH}, "
          f"{options.subscribers} subscribers, {kind}; best of {options.repeat}")  # fmt: skip
    print(f"{'run':<34}{'events/s':>10}{'peak MB':>9}{'vs executemany':>16}{'vs each':>9}")
    print(f"{'gazette serve /webhooks/sendgrid':<34}{rate:>10,.0f}{peak:>9.0f}"
          f"{rate / bare:>15.2f}x{rate / each:>8.2f}x")  # fmt: skip
    print(f"{'bare inserts, executemany':<34}{bare:>10,.0f}{'':>9}{1:>15.2f}x")
    print(f"{'bare inserts, one per event':<34}{each:>10,.0f}{'':>9}{'':>16}{1:>8.2f}x")
    print("paired ratios vs executemany: " + ", ".join(f"{g / b:.2f}x" for g, b, _ in runs))
    print("paired ratios vs one per event: " + ", ".join(f"{g / e:.2f}x" for g, _, e in runs))
    print("target: gazette at least 0.5x the baseline")

if __name__ == "__main__":
    main()

"""Digest benchmark: one issue rendered and sent to every subscriber, with peak memory.

The bundled example site (config/gazette.toml, its state and outputs moved to a temp
folder by GAZETTE_* overrides) is synced and given N active subscribers by one bulk
insert (not timed). The provider is Postmark, pointed by `mail.endpoint` at a local
server in its own process that speaks the batch API (`POST /email/batch`, a JSON array
in, one {"ErrorCode": 0, ...} verdict per message out). Each step runs in a fresh
process, so its peak RSS is its own:

    python3 bench/digest.py                      # 1k, 10k and 100k subscribers
    python3 bench/digest.py --sizes 1000 10000   # just these

- send: what `gazette digest --send` runs (`run_digest`): the issue created with one
  ledger row per subscriber, rendered once, one message (MIME and JSON) per recipient,
  batches of 500 posted, every verdict written to the ledger.

The named baseline is bare httpx POSTing the same number of batches of the same
messages, their JSON body built once before the clock starts: the cost of the wire and
the server alone. The send is shown as a ratio to it. Targets: at least 1,000
recipients per second; peak memory flat in the number of subscribers.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import parse_sizes

CONFIG = Path(__file__).resolve().parent.parent / "config" / "gazette.toml"
TOKEN = secrets.token_hex(16)  # the local server checks it as Postmark would

SERVER = r"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

received = 0
lock = threading.Lock()

class Postmark(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global received
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path != "/email/batch" or self.headers["X-Postmark-Server-Token"] != sys.argv[1]:
            return self.answer(401, {"ErrorCode": 10, "Message": "bad token or path"})
        messages = json.loads(body)
        with lock:
            first, received = received, received + len(messages)
        self.answer(200, [
            {"ErrorCode": 0, "Message": "OK", "MessageID": f"bench-{first + i}", "To": m["To"]}
            for i, m in enumerate(messages)
        ])

    def do_GET(self):
        self.answer(200, {"received": received})

    def answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Postmark)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

PRELUDE = r"""
import json, os, resource, sys, time
from datetime import UTC, datetime
from gazette.config import load_settings
from gazette.digest import period_for
from gazette.store import Store
settings = load_settings(sys.argv[1])
store = Store(settings.database_url)
now = datetime.now(UTC)
period = period_for(now, settings.site.zone)

def finish(start, **figures):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak, **figures}))
"""

SETUP = (
    PRELUDE
    + r"""
from gazette.catalog import update_catalog
from gazette.digest.tables import subscribers
update_catalog(settings, store, now)
stamp = now.isoformat()
rows = [
    {"address": f"reader{i}@example.org", "address_key": f"reader{i}@example.org",
     "name": "", "status": "active", "created": stamp, "changed": stamp}
    for i in range(int(sys.argv[2]))
]
with store.transaction() as connection:
    connection.execute(subscribers.insert(), rows)
print(json.dumps({"subscribers": len(rows)}))
"""
)

SEND = (
    PRELUDE
    + r"""
from gazette.catalog import update_catalog
from gazette.digest import Dispatcher, run_digest
from gazette.mail import make_provider
update_catalog(settings, store, now)  # as `digest --send` does; nothing new to sync
start = time.perf_counter()
provider = make_provider(settings, os.environ)
try:
    run = run_digest(settings, Dispatcher(settings, store, provider), os.environ, period)
finally:
    provider.close()
(summary,) = run.summaries
finish(start, sent=summary.count("sent"), failed=summary.count("failed"))
"""
)

BARE_HTTPX = (
    PRELUDE
    + r"""
import httpx
from gazette.digest import Issue, message_maker, plan_digest
from gazette.digest.issue import dry_connection

def batch_body(maker, count):
    envelopes = [maker.envelope(f"reader{i}@example.org", now) for i in range(count)]
    messages = [
        {"From": e.sender, "To": e.recipient, "Subject": e.subject, "HtmlBody": e.html,
         "TextBody": e.text, "MessageStream": "broadcast",
         "Headers": [{"Name": n, "Value": v} for n, v in e.headers]}
        for e in envelopes
    ]
    return json.dumps(messages, ensure_ascii=False).encode()

total, size = int(sys.argv[2]), 500
plan = plan_digest(settings, store, period, now)
issue = Issue(1, period, plan.subject, "sending", tuple(p.id for p in plan.posts), "")
with dry_connection(settings, store, now) as connection:
    maker = message_maker(settings, connection, issue, os.environ, now)
full, rest = batch_body(maker, size), batch_body(maker, total % size)
headers = {"X-Postmark-Server-Token": os.environ["GAZETTE_POSTMARK_TOKEN"],
           "Content-Type": "application/json", "Accept": "application/json"}
start = time.perf_counter()
with httpx.Client(base_url=os.environ["GAZETTE_MAIL_ENDPOINT"], headers=headers) as client:
    for first in range(0, total, size):
        body = full if total - first >= size else rest
        client.post("/email/batch", content=body).raise_for_status()
finish(start, body_kb=len(full) / 1024)
"""
)


def child(script: str, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(out.stdout)
    return figures


def start_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, TOKEN], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    return server, f"http://127.0.0.1:{server.stdout.readline().strip()}"


def environment(folder: Path, endpoint: str) -> None:
    """The example config's state and outputs in ``folder``; mail goes to ``endpoint``."""
    os.environ.update(
        {
            "GAZETTE_STATE_DATABASE": f"sqlite:///{folder / 'gazette.db'}",
            "GAZETTE_FEEDS_OUTPUT": str(folder / "public"),
            "GAZETTE_MAIL_OUTBOX": str(folder / "outbox"),
            "GAZETTE_MAIL_PROVIDER": "postmark",
            "GAZETTE_MAIL_ENDPOINT": endpoint,
            "GAZETTE_POSTMARK_TOKEN": TOKEN,
            "GAZETTE_SECRET_KEY": "bench-secret-key-bench-secret-key",
        }
    )


def measure(recipients: int) -> None:
    server, endpoint = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            environment(Path(tmp), endpoint)
            child(SETUP, str(CONFIG), str(recipients))
            bare = child(BARE_HTTPX, str(CONFIG), str(recipients))
            sent = child(SEND, str(CONFIG))
    finally:
        server.terminate()
        server.wait()
    report(recipients, bare, sent)


def report(recipients: int, bare: dict[str, float], sent: dict[str, float]) -> None:
    print(f"{recipients:>7} subscribers (batches of 500, {bare['body_kb']:.0f} KB of JSON each)")
    for name, figures in (("bare httpx", bare), ("digest send", sent)):
        print(
            f"  {name:<12} {figures['seconds']:7.2f} s  {figures['peak_mb']:6.0f} MB  "
            f"{recipients / figures['seconds']:8.0f} recipients/s  "
            f"{figures['seconds'] / bare['seconds']:6.2f}x bare httpx"
        )
    print(f"  sent {sent['sent']:.0f}, failed {sent['failed']:.0f} (target >= 1,000/s)")


def main() -> None:
    for recipients in parse_sizes(__doc__):
        measure(recipients)


if __name__ == "__main__":
    main()

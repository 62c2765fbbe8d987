"""Serve benchmark: `gazette serve` against bare Starlette StaticFiles and nginx.

A site of a few hundred generated posts (the catalog benchmark's corpus) is built once;
then each server serves its output folder on a loopback port, pinned to CPU 0, while
the load generator (pinned to CPU 1) sends a fixed number of requests over keep-alive
connections: wrk (Debian's package, one thread, 3 s per run: wrk counts time, not
requests) when it is installed, else httpx's async client in this process (a fixed
count of requests; it is slower than the servers it measures, so its figures are
mostly its own). Each figure is the best of --repeat runs, since other work
on the machine only ever slows a run down:

    python3 bench/serve.py                   # 300 posts; 1, 16 and 64 concurrent
    python3 bench/serve.py --requests 1000   # fewer requests per row
    python3 bench/serve.py --client httpx    # the Python load generator even with wrk

Rows: a 304 of atom.xml (If-None-Match with that server's own ETag) and the full
atom.xml (Accept-Encoding: identity, the same bytes from every server), plus atom.xml
to a client accepting gzip (gazette holds the gzip bytes; StaticFiles cannot compress,
so it sends the plain bytes; nginx compresses each response at gzip_comp_level 1).
Every server logs each request (to /dev/null): uvicorn's default access log for
StaticFiles, nginx's access_log. The baseline is the bare StaticFiles app under uvicorn
(httptools and uvloop, as gazette uses); nginx runs when it is installed. Target: every
feed row at least 0.8x the baseline's requests per second.

POST /subscribe: a new address each request (form-encoded, as a browser posts it), so
each one records a pending subscriber and queues a confirmation mail, which the outbox
provider then writes (after the answer, as it does in production); the per-client cap is
lifted for the run. Its baseline is the same bare Starlette app's form handler, which
reads the form and answers a page without touching a database: the ratio is what the
rules and the state database cost. nginx has no such row. With wrk, a Lua script
written for the run makes each request's body. Target: p99 under 100 ms at concurrency 16.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import write_corpus

SERVER_CPU, CLIENT_CPU = "0", 1
CONCURRENCY = (1, 16, 64)
BASELINE = r"""
import sys, uvicorn
from urllib.parse import parse_qsl
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

async def subscribe(request):
    form = dict(parse_qsl((await request.body()).decode()))
    return HTMLResponse(f"<!DOCTYPE html><p>Check your mail, {form['email']}</p>")

app = Starlette(routes=[Route("/subscribe", subscribe, methods=["POST"]),
                        Mount("/", StaticFiles(directory=sys.argv[1]))])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), server_header=False,
            log_level="info")
"""
NGINX = """
worker_processes 1;
daemon off;
pid {temp}/nginx.pid;
error_log {temp}/error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    types {{ application/atom+xml xml; }}
    access_log {temp}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    sendfile on;
    keepalive_requests 1000000;
    gzip on;
    gzip_types application/atom+xml application/rss+xml application/feed+json;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""
@dataclass(frozen=True, slots=True)
class Row:
    """One kind of request; ``headers`` gets the server's own ETag of the path."""

    name: str
    method: str
    path: str
    headers: Callable[[str], dict[str, str]]
    status: int
    body: str = ""  # "{n}" in it is a number new for each request
    servers: tuple[str, ...] = ("gazette serve", "StaticFiles", "nginx")


ROWS = [
    Row("304 atom.xml", "GET", "/atom.xml",
        lambda etag: {"If-None-Match": etag, "Accept-Encoding": "identity"}, 304),
    Row("full atom.xml", "GET", "/atom.xml", lambda _: {"Accept-Encoding": "identity"}, 200),
    Row("atom.xml, gzip accepted", "GET", "/atom.xml", lambda _: {"Accept-Encoding": "gzip"}, 200),
    Row("POST /subscribe", "POST", "/subscribe",
        lambda _: {"Content-Type": "application/x-www-form-urlencoded"}, 200,
        "email=reader{n}%40example.org",
        ("gazette serve", "StaticFiles")),
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build_site(folder: Path, posts: int) -> Path:
    write_corpus(folder, posts)
    subprocess.run(
        ["gazette", "--config", str(folder / "gazette.toml"), "build"],
        check=True, capture_output=True,
    )  # fmt: skip
    return folder / "public"


def start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, *command], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def servers(folder: Path, public: Path, temp: Path) -> dict[str, Callable[[int], list[str]]]:
    """Each server: a function of its port giving its command line."""

    def gazette(port: int) -> list[str]:
        return ["gazette", "--config", str(folder / "gazette.toml"), "serve"]

    def baseline(port: int) -> list[str]:
        return [sys.executable, "-c", BASELINE, str(public), str(port)]

    def nginx(port: int) -> list[str]:
        config = temp / f"nginx-{port}.conf"
        config.write_text(NGINX.format(temp=temp, port=port, root=public), encoding="utf-8")
        return ["nginx", "-c", str(config), "-e", str(temp / "error.log")]

    found = {"gazette serve": gazette, "StaticFiles": baseline}
    if shutil.which("nginx"):
        found["nginx"] = nginx
    return found


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/atom.xml", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


async def load(url: str, row: Row, etag: str, concurrency: int, total: int) -> list[float]:
    """``total`` requests over ``concurrency`` connections; each one's latency."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    left = [total]
    headers = row.headers(etag)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while left[0] > 0:
                left[0] -= 1
                began = time.perf_counter()
                body = row.body.replace("{n}", unique()).encode() if row.body else None
                request = client.build_request(row.method, row.path, headers=headers,
                                               content=body)  # fmt: skip
                answer = await client.send(request, stream=True)
                async for _ in answer.aiter_raw():
                    pass
                await answer.aclose()
                latencies.append(time.perf_counter() - began)
                if answer.status_code != row.status:
                    raise SystemExit(f"{url}{row.path}: {answer.status_code}, not {row.status}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def measure(
    url: str, row: Row, concurrency: int, total: int, client: str, repeat: int, seconds: int = 3
) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms): the best of ``repeat`` runs."""
    etag = ""
    if row.method == "GET":
        etag = httpx.get(url + row.path, headers={"Accept-Encoding": "identity"}).headers["etag"]
    wrk = client == "wrk"
    run = with_wrk if wrk else with_httpx
    amount = seconds if wrk else total
    run(url, row, etag, concurrency, 1 if wrk else min(total, 200))  # warm up
    runs = [run(url, row, etag, concurrency, amount) for _ in range(repeat)]
    return max(runs)


def with_httpx(
    url: str, row: Row, etag: str, concurrency: int, total: int
) -> tuple[float, float, float]:
    began = time.perf_counter()
    latencies = sorted(asyncio.run(load(url, row, etag, concurrency, total)))
    seconds = time.perf_counter() - began
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    return total / seconds, p50 * 1000, p99 * 1000


def with_wrk(
    url: str, row: Row, etag: str, concurrency: int, total: int
) -> tuple[float, float, float]:
    """``total`` is seconds here; a row with a body gets a Lua script that makes it."""
    pairs = row.headers(etag).items()
    headers = [arg for name, value in pairs for arg in ("-H", f"{name}: {value}")]
    script = ["-s", lua_script(row)] if row.body else []
    out = subprocess.run(
        ["taskset", "-c", str(CLIENT_CPU), "wrk", "-t1", f"-c{concurrency}",
         f"-d{max(1, total)}s", "--timeout", "10s", "--latency", *headers, *script,
         url + row.path],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk {url}{row.path}: {out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    return rate, _wrk_ms(out, "50%"), _wrk_ms(out, "99%")


_COUNTER = itertools.count()


def unique() -> str:
    """A number no other request of this benchmark has used."""
    return f"{os.getpid()}-{time.time_ns()}-{next(_COUNTER)}"


def lua_script(row: Row) -> str:
    """A wrk script sending ``row`` with a new ``{n}`` in each request's body."""
    before, _, after = row.body.partition("{n}")
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text(
        f'local run, counter = "{unique()}", 0\n'
        "request = function()\n"
        "  counter = counter + 1\n"
        f'  local body = "{before}" .. run .. "-" .. counter .. "{after}"\n'
        f'  return wrk.format("{row.method}", nil, nil, body)\n'
        "end\n",
        encoding="utf-8",
    )
    return str(path)


def _wrk_ms(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_server(
    name: str, command: Callable[[int], list[str]], total: int, client: str, repeat: int
) -> dict[tuple[str, int], tuple[float, float, float]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
    env["GAZETTE_SERVE_LISTEN"] = f"127.0.0.1:{port}"
    env["GAZETTE_SERVE_SUBSCRIBE_PER_MINUTE"] = "100000"  # the most: one client sends them all
    env["GAZETTE_MAIL_FROM"] = "Bench <digest@bench.example.org>"
    process = start(command(port), env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url)
        return {
            (row.name, concurrency): measure(url, row, concurrency, total, client, repeat)
            for row in ROWS
            if name in row.servers
            for concurrency in CONCURRENCY
        }
    finally:
        process.send_signal(signal.SIGTERM if name != "nginx" else signal.SIGQUIT)
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--requests", type=int, default=3000, help="httpx: per row and run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best counts")
    parser.add_argument("--client", choices=["httpx", "wrk"], default=None)
    options = parser.parse_args()
    client = options.client or ("wrk" if shutil.which("wrk") else "httpx")
    os.sched_setaffinity(0, {CLIENT_CPU})
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        folder.chmod(0o755)  # nginx's worker runs as another user
        public = build_site(folder, options.posts)
        size = (public / "atom.xml").stat().st_size
        print(f"serve benchmark: {options.posts} posts, atom.xml {size / 1024:.0f} KiB, "
              f"{options.requests} requests per row, best of {options.repeat}; {client} on CPU "
              f"{CLIENT_CPU}, "
              f"servers on CPU {SERVER_CPU}")  # fmt: skip
        results = {
            name: run_server(name, command, options.requests, client, options.repeat)
            for name, command in servers(folder, public, folder).items()
        }
    report(results)


def report(results: dict[str, dict[tuple[str, int], tuple[float, float, float]]]) -> None:
    names = list(results)
    header = f"{'row':<24}{'conc':>5}" + "".join(f"{n:>32}" for n in names) + f"{'ratio':>8}"
    print(header)
    print(f"{'':<29}" + "".join(f"{'req/s   p50 ms   p99 ms':>32}" for _ in names))
    for (row, concurrency), _ in results["gazette serve"].items():
        cells = ""
        for name in names:
            if (row, concurrency) not in results[name]:
                cells += f"{'-':>32}"
                continue
            rps, p50, p99 = results[name][(row, concurrency)]
            cells += f"{rps:>15.0f}{p50:>8.2f}{p99:>9.2f}"
        ratio = results["gazette serve"][(row, concurrency)][0] / results["StaticFiles"][
            (row, concurrency)
        ][0]
        print(f"{row:<24}{concurrency:>5}{cells}{ratio:>7.2f}x")
    print("ratio: gazette serve's requests per second over the StaticFiles baseline's (for "
          "POST /subscribe, the same app's form handler, which touches no database)")


if __name__ == "__main__":
    main()

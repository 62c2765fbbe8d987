"""Archive pages rendered across processes when a build has many to write: a first build,
a changed template or setting, an old post that shifts every page after it.

Turning each entry's HTML into Atom's XHTML and serializing the page is CPU-bound
Python, and every page is its own: each worker reads its pages' posts from the state
database itself, so only the pages' heads go to it and only their bytes come back.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from gazette.config import Settings
from gazette.feeds.atom import render_atom
from gazette.feeds.document import History, Link
from gazette.feeds.documents import Documents
from gazette.feeds.plan import Head
from gazette.processes import exit_with_parent
from gazette.store import Store

PARALLEL_PAGES = 20  # fewer pages render faster than worker processes start
IN_FLIGHT = 4  # pages queued per worker: enough to keep it busy, few to hold in memory


@dataclass(frozen=True, slots=True)
class PageJob:
    """One archive page to render: its title, path, posts (newest first) and links."""

    title: str
    path: str
    heads: tuple[Head, ...]
    links: tuple[Link, ...]
    history: History


def can_render_elsewhere(settings: Settings, jobs: Sequence[PageJob]) -> bool:
    """Enough pages to pay for the workers, a database they can open too (an in-memory
    one is this process's alone), and formulas as MathML (images are drawn, and kept
    track of, by the build's own process)."""
    return (
        len(jobs) >= PARALLEL_PAGES
        and not settings.database_url.endswith(":memory:")
        and settings.feeds.math != "image"
    )


@contextmanager
def rendered_elsewhere(settings: Settings, jobs: Sequence[PageJob]) -> Iterator[Iterator[bytes]]:
    """Starts worker processes on ``jobs`` at once (the caller goes on with other work
    meanwhile); gives each page's Atom bytes, in the order of ``jobs``."""
    workers = min(os.cpu_count() or 1, 8)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(settings,)
    ) as pool:
        depth = IN_FLIGHT * workers
        pending = deque(pool.submit(_render, job) for job in jobs[:depth])
        yield _in_order(pool, pending, jobs[depth:])


def _in_order(
    pool: ProcessPoolExecutor, pending: deque[Future[bytes]], rest: Sequence[PageJob]
) -> Iterator[bytes]:
    for job in rest:
        yield pending.popleft().result()
        pending.append(pool.submit(_render, job))
    while pending:
        yield pending.popleft().result()


_worker: tuple[Settings, Store] | None = None  # in a worker process: what it renders from


def _start_worker(settings: Settings) -> None:
    global _worker  # noqa: PLW0603 - one per worker process, set as it starts
    exit_with_parent()
    _worker = (settings, Store(settings.database_url))


def _render(job: PageJob) -> bytes:
    assert _worker is not None, "set by _start_worker, which each worker runs first"
    settings, store = _worker
    with store.transaction() as connection:
        documents = Documents(settings, connection)
        document = documents.document(job.title, job.path, job.heads, job.links, job.history)
    return render_atom(document)

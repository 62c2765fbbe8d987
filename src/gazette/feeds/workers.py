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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from gazette.config import Settings
from gazette.errors import StateError
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


def render_page(documents: Documents, job: PageJob) -> bytes:
    """One archive page's Atom bytes, its posts read through ``documents``."""
    document = documents.document(job.title, job.path, job.heads, job.links, job.history)
    return render_atom(document)


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
def rendered_elsewhere(
    settings: Settings, jobs: Sequence[PageJob], here: Callable[[PageJob], bytes]
) -> Iterator[Iterator[bytes]]:
    """Starts worker processes on ``jobs`` at once (the caller goes on with other work
    meanwhile); gives each page's Atom bytes, in the order of ``jobs``. When a worker
    cannot open the state database (a server with no connection to spare, say), that
    page and every one after it are rendered by ``here``, in this process."""
    workers = min(os.cpu_count() or 1, 8)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(settings,)
    ) as pool:
        depth = IN_FLIGHT * workers
        pending = deque((job, pool.submit(_render, job)) for job in jobs[:depth])
        yield _in_order(pool, pending, deque(jobs[depth:]), here)


def _in_order(
    pool: ProcessPoolExecutor,
    pending: deque[tuple[PageJob, Future[bytes]]],
    rest: deque[PageJob],
    here: Callable[[PageJob], bytes],
) -> Iterator[bytes]:
    while pending:
        job, future = pending.popleft()
        try:
            data = future.result()
        except StateError:
            for _, later in pending:
                later.cancel()
            for left in [job, *(queued for queued, _ in pending), *rest]:
                yield here(left)
            return
        if rest:
            following = rest.popleft()
            pending.append((following, pool.submit(_render, following)))
        yield data


# In a worker process: the settings it renders with, and the state database once opened.
_settings: Settings | None = None
_store: Store | None = None


def _start_worker(settings: Settings) -> None:
    global _settings  # noqa: PLW0603 - one per worker process, set as it starts
    exit_with_parent()
    _settings = settings


def _render(job: PageJob) -> bytes:
    global _store  # noqa: PLW0603 - opened by the worker's first page
    assert _settings is not None, "set by _start_worker, which each worker runs first"
    if _store is None:
        _store = Store(_settings.database_url)  # a StateError goes back to the build
    with _store.transaction() as connection:
        return render_page(Documents(_settings, connection), job)

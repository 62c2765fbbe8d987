"""Renders many drafts: in chunks, each chunk's formulas looked up in the store once,
and across processes when there are enough posts to pay for starting them.

Converting formulas dominates a cold run, and it is CPU-bound Python, so a big run
spreads the second half of rendering (formulas, sanitizing, excerpts) over the cores
while the main process prepares the next chunk and writes the last one.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

from sqlalchemy import Connection

from gazette.catalog.draft import Draft, Rendering
from gazette.catalog.math import MathConverter
from gazette.catalog.render import Rendered, finish_rendering, render_markup
from gazette.catalog.tables import load_formulas, save_formulas
from gazette.models import Formula, formula_key
from gazette.processes import exit_with_parent

CHUNK = 500
PARALLEL_MINIMUM = 1000  # fewer posts render faster than worker processes start


@dataclass
class _Job:
    parts: list[Future[tuple[list[Rendered], dict[str, Formula]]]] | None = None
    done: tuple[list[Rendered], dict[str, Formula]] | None = None


def render_many(
    connection: Connection, total: int, drafts: Callable[[int, int], list[Draft]], width: int
) -> Iterator[list[Rendered]]:
    """The renderings of ``total`` drafts in order, one list per chunk of ``CHUNK``;
    ``drafts(start, stop)`` gives a chunk's drafts, asked for while the chunk before it
    is being rendered."""
    workers = min(os.cpu_count() or 1, 8) if total >= PARALLEL_MINIMUM else 1
    stored: set[str] = set()  # formula keys already in the store
    context = multiprocessing.get_context("spawn")
    pool_scope = (
        ProcessPoolExecutor(workers, mp_context=context, initializer=exit_with_parent)
        if workers > 1
        else nullcontext()
    )
    with pool_scope as pool:
        pending: _Job | None = None
        for start in range(0, total, CHUNK):
            job = _start(connection, drafts(start, start + CHUNK), width, pool, workers, stored)
            if pending is not None:
                yield _finish(connection, pending, stored)
            pending = job
        if pending is not None:
            yield _finish(connection, pending, stored)


def _start(
    connection: Connection,
    chunk: list[Draft],
    width: int,
    pool: Executor | None,
    workers: int,
    stored: set[str],
) -> _Job:
    renderings = [render_markup(draft) for draft in chunk]
    keys = {formula_key(tex, display) for r in renderings for tex, display in r.formulas}
    known = load_formulas(connection, keys)
    stored.update(known)
    if pool is None:
        return _Job(done=render_part(chunk, renderings, known, width))
    size = -(-len(chunk) // workers)
    parts = [
        pool.submit(render_part, chunk[i : i + size], renderings[i : i + size], known, width)
        for i in range(0, len(chunk), size)
    ]
    return _Job(parts=parts)


def _finish(connection: Connection, job: _Job, stored: set[str]) -> list[Rendered]:
    results = [job.done] if job.done is not None else [part.result() for part in job.parts or []]
    rendered = [r for result in results for r in result[0]]
    fresh = {key: f for result in results for key, f in result[1].items() if key not in stored}
    save_formulas(connection, fresh)
    stored.update(fresh)
    return rendered


def render_part(
    drafts: list[Draft], renderings: list[Rendering], known: dict[str, Formula], width: int
) -> tuple[list[Rendered], dict[str, Formula]]:
    """Finishes rendering (in a worker process, or here): the posts and the formulas
    converted now, by key."""
    converter = MathConverter(known)
    rendered = [
        finish_rendering(draft, rendering, converter, width)
        for draft, rendering in zip(drafts, renderings, strict=True)
    ]
    return rendered, converter.fresh

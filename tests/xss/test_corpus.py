"""The corpus itself: large, deterministic, named, and covering every category."""

from __future__ import annotations

import re

from .corpus import EVENTS, SCHEMES, URL_CONTEXTS, vectors


def test_the_corpus_has_over_a_thousand_distinct_named_vectors() -> None:
    """Over 1,000 vectors, each id unique and usable in a post id and URL."""
    corpus = list(vectors())
    assert len(corpus) >= 1000
    ids = [vid for vid, _ in corpus]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", vid) for vid in ids)
    assert len({vector for _, vector in corpus}) > 0.95 * len(corpus)


def test_the_corpus_is_the_same_on_every_run() -> None:
    """Two runs give the same vectors in the same order."""
    assert list(vectors()) == list(vectors())


def test_every_category_is_generated() -> None:
    """Every URL attribute, scheme spelling and event handler, the whole character matrix,
    namespace confusion, mutation XSS and the formula marker are all there."""
    ids = {vid for vid, _ in vectors()}
    assert all(f"url-{context}-{name}" in ids for context, _ in URL_CONTEXTS for name, _ in SCHEMES)
    assert all(any(vid.startswith(f"on-{event[2:]}-") for vid in ids) for event in EVENTS)
    assert len(EVENTS) >= 100
    matrix = {"href-u00a0-raw-before", "href-u0001-hex-nosemi-inside", "href-ufeff-dec-postcolon"}
    assert matrix <= ids
    for prefix in ("ns-", "mxss-", "pua-"):
        assert sum(vid.startswith(prefix) for vid in ids) >= 25, prefix
    marker = dict(vectors())["pua-tex-color-breakout"]
    assert marker == "$\\color{&#xe000;0&#xe001;\"}x\\text{' onmouseover=alert(1) x='}$"

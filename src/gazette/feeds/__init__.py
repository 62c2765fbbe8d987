"""Feeds: the catalog as RSS 2.0, Atom 1.0 and JSON Feed 1.1 files, with RFC 5005
archive pages, per-tag and per-series feeds, an index page, WebSub pings and the
archive of sent issues."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gazette.lazy import lazy_name

if TYPE_CHECKING:
    from gazette.feeds.build import BuildReport, build_feeds, write_issue_archive

__all__ = ["BuildReport", "build_feeds", "write_issue_archive"]
_HOMES = dict.fromkeys(__all__, "gazette.feeds.build")


def __getattr__(name: str) -> object:
    return lazy_name(__name__, _HOMES, name)

"""Feeds: the catalog as RSS 2.0, Atom 1.0 and JSON Feed 1.1 files, with RFC 5005
archive pages, per-tag and per-series feeds, an index page, WebSub pings and the
archive of sent issues."""

from __future__ import annotations

from gazette.feeds.build import BuildReport, build_feeds, write_issue_archive

__all__ = ["BuildReport", "build_feeds", "write_issue_archive"]

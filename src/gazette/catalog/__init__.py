"""The catalog: every source of posts normalized into one persisted list of posts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gazette.lazy import lazy_name

if TYPE_CHECKING:
    from gazette.catalog.operations import (
        check_catalog,
        iter_posts,
        load_posts,
        post_as_json,
        update_catalog,
    )
    from gazette.catalog.sync import SyncReport

__all__ = [
    "SyncReport",
    "check_catalog",
    "iter_posts",
    "load_posts",
    "post_as_json",
    "update_catalog",
]
_HOMES = {
    "SyncReport": "gazette.catalog.sync",
    **dict.fromkeys(__all__[1:], "gazette.catalog.operations"),
}


def __getattr__(name: str) -> object:
    return lazy_name(__name__, _HOMES, name)

"""Every stage's tables on one MetaData: what the newest revision must have made. Used by
``alembic revision --autogenerate`` (env.py) and by the test comparing the two."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gazette import lease
from gazette.catalog import tables as catalog_tables
from gazette.digest import tables as digest_tables
from gazette.feeds import tables as feeds_tables
from gazette.scheduler import tables as scheduler_tables
from gazette.store import metadata

STAGES = (catalog_tables, feeds_tables, digest_tables, lease, scheduler_tables)
catalog_tables.TITLE_INDEX.dialect_kwargs["postgresql_using"] = "hash"  # revision 0007

__all__ = ["STAGES", "declared_for", "metadata"]


def declared_for(dialect: str) -> Callable[..., bool]:
    """Alembic's include_object: what the tables declare for ``dialect`` (an index made
    with ``ddl_if(dialect=...)`` for one database is left out on the others)."""

    def include(item: Any, *_: Any) -> bool:
        only = getattr(item, "_ddl_if", None)  # SQLAlchemy's record of ddl_if()
        return only is None or only.dialect in (None, dialect)

    return include

"""Every stage's tables on one MetaData: what the newest revision must have made. Used by
``alembic revision --autogenerate`` (env.py) and by the test comparing the two."""

from __future__ import annotations

from gazette import lease
from gazette.catalog import tables as catalog_tables
from gazette.digest import tables as digest_tables
from gazette.feeds import tables as feeds_tables
from gazette.scheduler import tables as scheduler_tables
from gazette.store import metadata

STAGES = (catalog_tables, feeds_tables, digest_tables, lease, scheduler_tables)

__all__ = ["STAGES", "metadata"]

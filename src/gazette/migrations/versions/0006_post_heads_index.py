"""An index that holds what a build plans from (gazette.catalog.tables.iter_post_heads),
on SQLite only.

SQLite keeps a row's columns together, so reading the small columns of a post means
reading past its rendered text: a build planned over 10,000 posts spent 0.2 s there, and
0.03 s reading this index. PostgreSQL stores large values apart (TOAST), so its rows stay
small; and its btree entries are capped at about 2.7 KB, which many tags could pass.

Revision 0006, after 0005. An index only: a gazette from before migrations still reads
and writes every posts row, so gazette_meta's schema_version stays "2".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ix_posts_heads"
# removed_at first: the query asks for the rows where it is NULL, newest first.
COLUMNS = ("removed_at", sa.text("published_utc DESC"), "id", "published", "record_hash",
           "series", "tags")  # fmt: skip


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(INDEX, "posts", list(COLUMNS))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index(INDEX, "posts")

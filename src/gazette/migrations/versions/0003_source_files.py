"""Incremental syncs: what each source file gave at the last sync, and how it looked.

Revision 0003, after 0002. Only a new table, which a sync fills as it reads: a database
without it simply reads every file once more.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def sorted_text(length: int | None = None) -> sa.String:
    """Text in byte order on every database ("C" collation on PostgreSQL)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "source_files",
        sa.Column("source", sa.Integer, primary_key=True),
        sa.Column("path", sorted_text(), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("checked", sa.Float, nullable=False),
        sa.Column("drafts", sa.Text, nullable=False),
        sa.Column("findings", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("source_files")

"""Double opt-in: the confirmation mails to send, and the rate limits serve shares.

Revision 0002, after 0001. Only new tables: a gazette from before migrations could still
read every table it knows, so gazette_meta's schema_version stays "2".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def sorted_text(length: int | None = None) -> sa.String:
    """Text in byte order on every database ("C" collation on PostgreSQL)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "confirmation_mails",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscriber", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("issued", sa.Float, nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("provider_id", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("changed", sa.String(40), nullable=False),
    )
    op.create_index("ix_confirmation_mails_status", "confirmation_mails", ["status"])
    op.create_table(
        "rate_limits",
        sa.Column("key", sorted_text(400), primary_key=True),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
    op.drop_index("ix_confirmation_mails_status", "confirmation_mails")
    op.drop_table("confirmation_mails")

"""Bounces and complaints: the provider events already applied (each counts once), the
Mailgun tokens already seen, and what a delivery became (delivered, bounced …).

Revision 0004, after 0003. New tables and one column with a default: a gazette from
before migrations could still read every table it knows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def sorted_text(length: int | None = None) -> sa.String:
    """Text in byte order on every database ("C" collation on PostgreSQL)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "provider_events",
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("event_id", sorted_text(300), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("address_key", sorted_text(320), nullable=False),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("occurred", sa.String(40), nullable=False),
        sa.Column("received", sa.String(40), nullable=False),
    )
    op.create_index(
        "ix_provider_events_address_kind", "provider_events", ["address_key", "kind", "occurred"]
    )
    op.create_table(
        "webhook_nonces",
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("nonce", sorted_text(300), primary_key=True),
        sa.Column("seen", sa.Float, nullable=False),
    )
    with op.batch_alter_table("digest_deliveries") as table:
        table.add_column(sa.Column("outcome", sa.String(16), nullable=False, server_default=""))
    op.create_index("ix_digest_deliveries_provider_id", "digest_deliveries", ["provider_id"])


def downgrade() -> None:
    op.drop_index("ix_digest_deliveries_provider_id", "digest_deliveries")
    with op.batch_alter_table("digest_deliveries") as table:
        table.drop_column("outcome")
    op.drop_table("webhook_nonces")
    op.drop_index("ix_provider_events_address_kind", "provider_events")
    op.drop_table("provider_events")

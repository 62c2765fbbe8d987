"""Posts' own authors (front matter `author`, a feed entry's author), for the feeds, and
the URL a static site generator gives a post (empty: site.post_url makes it).

Revision 0005, after 0004. Columns with defaults: a gazette from before migrations still
reads and writes every posts row, so gazette_meta's schema_version stays "2".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("authors", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("url", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("url")
        batch.drop_column("authors")

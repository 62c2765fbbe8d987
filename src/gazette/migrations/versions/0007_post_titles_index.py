"""An index of posts' titles, which a sync of a few changed files looks up (a post that
shares a title with another plans the whole catalog: gazette.catalog.changed).

Without it the lookup reads every row, rendered text and all: an edit build of a blog of
100,000 posts spent half its 7 s there. On PostgreSQL a hash index: a btree entry is
capped at about 2.7 KB, which a title may pass, and the lookup asks for equality only.

Revision 0007, after 0006. An index only: a gazette from before migrations still reads
and writes every posts row, so gazette_meta's schema_version stays "2".
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "ix_posts_title"


def upgrade() -> None:
    op.create_index(INDEX, "posts", ["title"], postgresql_using="hash")


def downgrade() -> None:
    op.drop_index(INDEX, "posts")

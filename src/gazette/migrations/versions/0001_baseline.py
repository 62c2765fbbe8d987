"""The baseline: the schema of every gazette from before migrations (schema_version 2).

Revision 0001, the first. Written out in full, not taken from the tables in the code, so
that later changes there never rewrite history. A database from before migrations has
these tables already, except those its gazette had not needed yet (the scheduler's until
the first `gazette run`; the digest's and the lease's when only the catalog was used):
this revision makes only the tables a database lacks.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def sorted_text(length: int | None = None) -> sa.String:
    """Text in byte order on every database ("C" collation on PostgreSQL)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, make in _TABLES:
        if name not in existing:
            make()
    _keep_schema_version()


def downgrade() -> None:
    for name, _make in reversed(_TABLES):
        op.drop_table(name)


def _keep_schema_version() -> None:
    """Every gazette from before migrations checks gazette_meta's schema_version: "2"
    is this schema, so one of them may still use a database at this revision."""
    meta = sa.table("gazette_meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    query = sa.select(meta.c.value).where(meta.c.key == "schema_version")
    if op.get_bind().execute(query).first() is None:
        op.bulk_insert(meta, [{"key": "schema_version", "value": "2"}])


def _meta() -> None:
    op.create_table(
        "gazette_meta",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def _posts() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sorted_text(), primary_key=True),
        sa.Column("slug", sa.String, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("title_inferred", sa.Boolean, nullable=False),
        sa.Column("published", sa.String(40), nullable=False),
        sa.Column("published_utc", sorted_text(40), nullable=False),
        sa.Column("updated", sa.String(40), nullable=False),
        sa.Column("summary_html", sa.Text, nullable=False),
        sa.Column("summary_text", sa.Text, nullable=False),
        sa.Column("content_html", sa.Text, nullable=False),
        sa.Column("content_text", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("series", sa.Text, nullable=False),
        sa.Column("series_index", sa.Integer),
        sa.Column("figures", sa.Text, nullable=False),
        sa.Column("lang", sa.String, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("render_warnings", sa.Text, nullable=False),
        sa.Column("render_key", sa.String(64), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("first_seen", sorted_text(40), nullable=False),
        sa.Column("last_seen", sa.String(40), nullable=False),
        sa.Column("removed_at", sa.String(40)),
    )
    op.create_index("ix_posts_published_utc", "posts", ["published_utc"])
    op.create_index("ix_posts_body_hash", "posts", ["body_hash"])
    op.create_index("ix_posts_removed_at", "posts", ["removed_at"])


def _formulas() -> None:
    op.create_table(
        "formulas",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("tex", sa.Text, nullable=False),
        sa.Column("display", sa.Boolean, nullable=False),
        sa.Column("mathml", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
    )


def _fetches() -> None:
    op.create_table(
        "fetches",
        sa.Column("url", sa.String, primary_key=True),
        sa.Column("etag", sa.String),
        sa.Column("last_modified", sa.String),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )


def _feed_files() -> None:
    op.create_table(
        "feed_files",
        sa.Column("path", sa.String, primary_key=True),
        sa.Column("input_key", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    )


def _subscribers() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("address_key", sorted_text(320), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("changed", sa.String(40), nullable=False),
    )
    op.create_index("ix_subscribers_status", "subscribers", ["status"])


def _issues() -> None:
    op.create_table(
        "digest_issues",
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("period", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("finished", sa.String(40)),
        sa.UniqueConstraint("period", name="uq_digest_issues_period"),
    )


def _issue_posts() -> None:
    op.create_table(
        "digest_issue_posts",
        sa.Column("issue", sa.Integer, sa.ForeignKey("digest_issues.number"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("post_id", sa.String, nullable=False),
    )
    op.create_index("ix_digest_issue_posts_post_id", "digest_issue_posts", ["post_id"])


def _deliveries() -> None:
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issue", sa.Integer, sa.ForeignKey("digest_issues.number"), nullable=False),
        sa.Column("subscriber", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("provider_id", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("changed", sa.String(40), nullable=False),
        sa.UniqueConstraint("issue", "subscriber", name="uq_digest_deliveries_recipient"),
    )
    op.create_index("ix_digest_deliveries_issue_status", "digest_deliveries", ["issue", "status"])


def _leases() -> None:
    op.create_table(
        "gazette_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("process_space", sa.String(80), nullable=False),
        sa.Column("acquired", sa.Float, nullable=False),
        sa.Column("renewed", sa.Float, nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
    )


def _jobs() -> None:
    op.create_table(
        "gazette_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25)),
        sa.Column("job_state", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_gazette_jobs_next_run_time", "gazette_jobs", ["next_run_time"])


# In the order foreign keys need: a table after those it refers to.
_TABLES = (
    ("gazette_meta", _meta),
    ("posts", _posts),
    ("formulas", _formulas),
    ("fetches", _fetches),
    ("feed_files", _feed_files),
    ("subscribers", _subscribers),
    ("digest_issues", _issues),
    ("digest_issue_posts", _issue_posts),
    ("digest_deliveries", _deliveries),
    ("gazette_leases", _leases),
    ("gazette_jobs", _jobs),
)

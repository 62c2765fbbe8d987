"""The digest's tables in the state database: subscribers, issues and deliveries.

A change to them is a migration (`gazette.migrations`), never an edit alone.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gazette.store import metadata, sorted_text

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("address", String(320), nullable=False),  # as validated (domain lower-cased)
    Column("address_key", sorted_text(320), nullable=False, unique=True),  # lower-cased
    Column("name", Text, nullable=False, default=""),
    # pending | active | unsubscribed | bounced
    Column("status", String(16), nullable=False, index=True),
    Column("created", String(40), nullable=False),
    Column("changed", String(40), nullable=False),
)

issues = Table(
    "digest_issues",
    metadata,
    Column("number", Integer, primary_key=True),
    # The period an issue stands for ("2026-11-23T08"): one issue per period, ever.
    Column("period", String(64), nullable=False),
    Column("subject", Text, nullable=False),
    Column("status", String(16), nullable=False),  # sending | done
    Column("created", String(40), nullable=False),
    Column("finished", String(40)),
    UniqueConstraint("period", name="uq_digest_issues_period"),
)

issue_posts = Table(
    "digest_issue_posts",
    metadata,
    Column("issue", Integer, ForeignKey("digest_issues.number"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("post_id", String, nullable=False, index=True),
)

deliveries = Table(
    "digest_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("issue", Integer, ForeignKey("digest_issues.number"), nullable=False),
    Column("subscriber", Integer, ForeignKey("subscribers.id"), nullable=False),
    Column("recipient", String(320), nullable=False),
    # pending | in-flight | sent | failed | uncertain | skipped
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("provider_id", Text, nullable=False, default=""),
    Column("last_error", Text, nullable=False, default=""),
    Column("changed", String(40), nullable=False),
    UniqueConstraint("issue", "subscriber", name="uq_digest_deliveries_recipient"),
    Index("ix_digest_deliveries_issue_status", "issue", "status"),
)

"""The digest's tables in the state database: subscribers, issues and deliveries, and
the provider events (bounces, complaints) heard about them.

Confirmation mails and rate limits serve the subscriber pages. A change to them is a
migration (`gazette.migrations`), never an edit alone.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
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
    Column("provider_id", Text, nullable=False, default="", index=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("changed", String(40), nullable=False),
    # What the provider said became of it: "" (nothing yet) | delivered | soft_bounce |
    # bounced | unsubscribed | complained; a later event only ever raises it.
    Column("outcome", String(16), nullable=False, default="", server_default=""),
    UniqueConstraint("issue", "subscriber", name="uq_digest_deliveries_recipient"),
    Index("ix_digest_deliveries_issue_status", "issue", "status"),
)

# Confirmation mails, written in the transaction that records a subscribe request and
# sent right after it: queued -> sending -> sent | failed | uncertain. A row is claimed
# (queued -> sending) before it goes to the provider, so it is never sent twice; one left
# at sending by a process that died is not retried.
confirmation_mails = Table(
    "confirmation_mails",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber", Integer, ForeignKey("subscribers.id"), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("issued", Float, nullable=False),  # seconds since the epoch, as in the token
    Column("expires", Float, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("provider_id", Text, nullable=False, default=""),
    Column("last_error", Text, nullable=False, default=""),
    Column("changed", String(40), nullable=False),
)

# Rate limits shared by every serve process: one row per limited thing ("client:<ip>",
# "address:<address_key>"), the start of its current window and what it counted there.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", sorted_text(400), primary_key=True),
    Column("window_start", Float, nullable=False),
    Column("hits", Integer, nullable=False),
)

# Every provider event applied (bounce, complaint, delivery …), keyed by the provider's
# event id so a retried webhook counts once; soft bounces are counted from here, and a
# complaint stays recorded here after its subscriber has unsubscribed.
provider_events = Table(
    "provider_events",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("event_id", sorted_text(300), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("address_key", sorted_text(320), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("occurred", String(40), nullable=False),
    Column("received", String(40), nullable=False),
    Index("ix_provider_events_address_kind", "address_key", "kind", "occurred"),
)

# Mailgun's webhook tokens seen within its timestamp tolerance: a reused one is refused.
webhook_nonces = Table(
    "webhook_nonces",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("nonce", sorted_text(300), primary_key=True),
    Column("seen", Float, nullable=False),
)

"""Which posts the next issue holds.

The posts not yet in any issue, published within ``digest.max_age`` days, newest first,
at most ``digest.max_posts``. The very first issue instead takes the newest
``digest.first_issue_posts`` whatever their age, so a new install sends something
sensible rather than nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, exists, select

from gazette.catalog import iter_posts
from gazette.config import Settings
from gazette.digest.tables import issue_posts, issues
from gazette.models import Post


def is_first_issue(connection: Connection) -> bool:
    return not connection.execute(select(exists().where(issues.c.number.is_not(None)))).scalar()


def taken_post_ids(connection: Connection) -> set[str]:
    """Posts already in an issue (sent, or still being sent: it will be)."""
    return set(connection.execute(select(issue_posts.c.post_id)).scalars())


def select_posts(settings: Settings, connection: Connection, now: datetime) -> list[Post]:
    """The posts of the next issue, newest first; empty when nothing is new."""
    first = is_first_issue(connection)
    limit = settings.digest.first_issue_posts if first else settings.digest.max_posts
    oldest = now - timedelta(days=settings.digest.max_age)
    taken = taken_post_ids(connection)
    chosen: list[Post] = []
    for post in iter_posts(settings, connection, now):
        if len(chosen) == limit or (not first and post.published < oldest):
            break
        if post.id not in taken:
            chosen.append(post)
    return chosen

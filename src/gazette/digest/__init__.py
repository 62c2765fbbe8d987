"""The digest: new posts rendered into one message per subscriber, delivered once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gazette.lazy import lazy_name

if TYPE_CHECKING:
    from gazette.digest.confirmations import subscriber_of_token
    from gazette.digest.issue import (
        Plan,
        Run,
        create_or_resume_issue,
        message_maker,
        plan_digest,
        run_digest,
        unfinished_issues,
        write_preview,
    )
    from gazette.digest.ledger import Issue, period_for
    from gazette.digest.send import Dispatcher, Summary
    from gazette.digest.tokens import make_token, secret_key

__all__ = [
    "Dispatcher",
    "Issue",
    "Plan",
    "Run",
    "Summary",
    "create_or_resume_issue",
    "make_token",
    "message_maker",
    "period_for",
    "plan_digest",
    "run_digest",
    "secret_key",
    "subscriber_of_token",
    "unfinished_issues",
    "write_preview",
]
_HOMES = {
    "subscriber_of_token": "gazette.digest.confirmations",
    **dict.fromkeys(
        ["Plan", "Run", "create_or_resume_issue", "message_maker", "plan_digest", "run_digest",
         "unfinished_issues", "write_preview"],
        "gazette.digest.issue",
    ),
    "Issue": "gazette.digest.ledger",
    "period_for": "gazette.digest.ledger",
    "Dispatcher": "gazette.digest.send",
    "Summary": "gazette.digest.send",
    "make_token": "gazette.digest.tokens",
    "secret_key": "gazette.digest.tokens",
}


def __getattr__(name: str) -> object:
    return lazy_name(__name__, _HOMES, name)

"""Bounces and complaints: what providers tell about the mail sent, verified and applied
to the subscribers and the ledger (the web's /webhooks/* routes call this, nothing else)."""

from __future__ import annotations

from gazette.digest.events.apply import KINDS, Applied, Event, Kind, apply_events, claim_nonce
from gazette.digest.events.providers import PROVIDERS, Received, receive
from gazette.digest.events.signatures import (
    TOLERANCE,
    BadSignature,
    Malformed,
    NotConfigured,
    Unsigned,
    WebhookError,
)

__all__ = [
    "KINDS",
    "PROVIDERS",
    "TOLERANCE",
    "Applied",
    "BadSignature",
    "Event",
    "Kind",
    "Malformed",
    "NotConfigured",
    "Received",
    "Unsigned",
    "WebhookError",
    "apply_events",
    "claim_nonce",
    "receive",
]

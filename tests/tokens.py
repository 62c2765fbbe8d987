"""Unsubscribe tokens of the format mail sent before tokens named subscriber ids carries:
made here by hand from that format's definition, so the tests prove such links still
work without the program's own code making them."""

from __future__ import annotations

import base64
import hashlib
import hmac


def older_token(address: str, key: bytes) -> str:
    """``<address>.<HMAC-SHA256 of it>``, both base64url without padding."""
    payload = address.encode()
    signature = hmac.new(key, b"gazette-unsubscribe\0" + payload, hashlib.sha256).digest()
    return f"{b64(payload)}.{b64(signature)}"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

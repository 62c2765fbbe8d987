"""Amazon SES's bounce, complaint and delivery notifications, as SNS delivers them to
``POST /webhooks/ses``: the SNS signature is checked first (`gazette.digest.sns`), then
the SES document in its Message is read into Events.

SES's shape: ``notificationType`` (or ``eventType`` with a configuration set's event
publishing) is Bounce, Complaint or Delivery; ``mail.messageId`` is the id SendEmail
answered. A Permanent bounce is hard; Transient and Undetermined are soft. A complaint
whose ``complaintFeedbackType`` is ``not-spam`` is the reader taking back a complaint,
not a complaint. Each recipient is an event of its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gazette.digest.events.apply import Event, Kind
from gazette.digest.events.providers import Received, json_object, moment, text_field
from gazette.digest.events.signatures import Malformed
from gazette.digest.sns import SnsHosts, SnsMessage, verified_message


def receive_ses(body: bytes, topics: Sequence[str], hosts: SnsHosts, now: datetime) -> Received:
    """The events of an SNS message, once SNS's signature holds; a subscription
    confirmation for a configured topic is confirmed by fetching its SubscribeURL."""
    message = verified_message(body, topics, hosts)
    if message.kind == "SubscriptionConfirmation":
        hosts.confirm(message)
        return Received([], confirmed=message.topic_arn)
    if message.kind == "UnsubscribeConfirmation":
        return Received([])
    return Received(notification_events(message, now))


def notification_events(message: SnsMessage, now: datetime) -> list[Event]:
    """The Events of one SES notification: one per recipient it names."""
    try:
        data = json_object(json.loads(message.message), "the SNS Message")
    except (ValueError, RecursionError):
        raise Malformed("the SNS Message is not JSON") from None
    name = str(data.get("notificationType") or data.get("eventType") or "")
    mail = json_object(data.get("mail", {}), "'mail'")
    message_id = text_field(mail, "messageId", required=False)
    if name == "Bounce":
        part = json_object(data.get("bounce"), "'bounce'")
        kind: Kind = "hard_bounce" if part.get("bounceType") == "Permanent" else "soft_bounce"
        recipients = _addresses(part.get("bouncedRecipients"), "bounce.bouncedRecipients")
    elif name == "Complaint":
        part = json_object(data.get("complaint"), "'complaint'")
        kind = "other" if part.get("complaintFeedbackType") == "not-spam" else "complaint"
        recipients = _addresses(part.get("complainedRecipients"), "complaint.complainedRecipients")
    elif name == "Delivery":
        part = json_object(data.get("delivery"), "'delivery'")
        kind, recipients = "delivered", _addresses(part.get("recipients"), "delivery.recipients")
    else:
        return []  # sends, opens, clicks, delays: nothing for the list
    key = text_field(part, "feedbackId", required=False) or message.message_id
    when = moment(part.get("timestamp"), now)
    return [Event("ses", f"{key}/{address}", kind, address, message_id, when)
            for address in recipients]  # fmt: skip


def _addresses(value: Any, what: str) -> list[str]:
    """Recipients as SES lists them: objects with emailAddress, or plain strings."""
    if not isinstance(value, list) or not value:
        raise Malformed(f"{what!r} is missing or not a list of recipients")
    found = [item.get("emailAddress") if isinstance(item, dict) else item for item in value]
    addresses = [address for address in found if isinstance(address, str) and address]
    if len(addresses) != len(found):
        raise Malformed(f"{what!r} holds a recipient without an address")
    return addresses

"""One entry for every ``/webhooks/<provider>``: SES's through SNS (its topics and the
certificates fetched from it), every other provider's with its secret from the
environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime

from gazette.config import Settings
from gazette.digest import sns
from gazette.digest.events.providers import Received, receive
from gazette.digest.events.ses import receive_ses
from gazette.digest.events.signatures import NotConfigured


class Receiver:
    """Verifies the requests to every ``/webhooks/<provider>`` and reads their events,
    keeping what it fetched from SNS (its certificates) between requests."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] = os.environ) -> None:
        self._topics = settings.serve.ses_topic_arns
        self._sns_hosts = sns.hosts_for(settings)
        self._environ = environ

    def receive(self, provider: str, headers: Mapping[str, str], body: bytes,
                now: datetime) -> Received:  # fmt: skip
        """The request's events once its sender is verified (this may fetch SNS's
        certificate or confirm a subscription: not on an event loop)."""
        if provider != "ses":
            return receive(provider, headers, body, self._environ, now)
        if not self._topics:
            raise NotConfigured("serve.ses_topic_arns is empty: /webhooks/ses refuses every "
                                "request until it names SES's SNS topics")  # fmt: skip
        return receive_ses(body, self._topics, self._sns_hosts, now)

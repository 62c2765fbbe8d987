"""Errors a person can act on.

Every message says what is wrong, where (file, line or key) and how to fix it.
The CLI turns them into one line on stderr and a non-zero exit code::

    GazetteError
    ├── ConfigError      the config file or a GAZETTE_* variable (exit 2)
    ├── SourceError      a source of posts cannot be read
    ├── StateError       the state database is unusable
    ├── FeedError        feeds cannot be written
    ├── SubscriberError  an address or a subscriber list is not usable
    └── DeliveryError    mail cannot be sent
"""

from __future__ import annotations


class GazetteError(Exception):
    """Base class: a problem the user can fix; never shown with a traceback."""

    exit_code = 1


class ConfigError(GazetteError):
    """The configuration is missing, malformed or has a bad value."""

    exit_code = 2


class SourceError(GazetteError):
    """A source of posts cannot be read (encoding, syntax, network)."""


class StateError(GazetteError):
    """The state database cannot be opened or is not gazette's."""


class FeedError(GazetteError):
    """Feeds cannot be written."""


class SubscriberError(GazetteError):
    """An address or a subscriber list cannot be used as given."""


class DeliveryError(GazetteError):
    """Mail cannot be delivered through the configured provider."""

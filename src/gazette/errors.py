"""Errors a person can act on.

Every message says what is wrong, where (file, line or key) and how to fix it.
The CLI turns them into one line on stderr and a non-zero exit code::

    GazetteError
    ├── ConfigError      the config file or a GAZETTE_* variable (exit 2)
    ├── SourceError      a source of posts cannot be read
    ├── StateError       the state database is unusable
    │   ├── DuplicateError   a write lost a race to a unique key
    │   └── LeaseHeld        another process holds the state
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


class DuplicateError(StateError):
    """A write broke a unique key: another process wrote the same thing first."""


class LeaseHeld(StateError):
    """Another process holds the state database's lease (a running scheduler)."""

    exit_code = 3


class FeedError(GazetteError):
    """Feeds cannot be written."""


class SubscriberError(GazetteError):
    """An address or a subscriber list cannot be used as given."""


class DeliveryError(GazetteError):
    """Mail cannot be delivered through the configured provider."""

"""Mail providers: one module per service, all behind ``gazette.mail.base.Provider``.

``make_provider`` imports ``gazette.mail.<[mail] provider>`` and calls its
``make(settings, environ)``, which validates the options and reads the secrets.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import cast

from gazette.config import Settings
from gazette.errors import ConfigError
from gazette.mail.base import (
    Envelope,
    Provider,
    ProviderRejected,
    ProviderUnavailable,
    SendResult,
    UncertainDelivery,
)

__all__ = [
    "Envelope",
    "Provider",
    "ProviderRejected",
    "ProviderUnavailable",
    "SendResult",
    "UncertainDelivery",
    "make_provider",
]


def make_provider(settings: Settings, environ: Mapping[str, str]) -> Provider:
    """The provider named by ``[mail] provider``, its options checked."""
    name = settings.mail.provider
    module_name = f"gazette.mail.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            raise ConfigError(
                f"{settings.config_path}: [mail] provider: {name!r} is not part of this "
                'installation; use "outbox" or "smtp", or install a gazette that has it'
            ) from None
        raise ConfigError(
            f"{settings.config_path}: [mail] provider: {name!r} needs the Python package "
            f"{error.name!r}; install it with python3 -m pip install {error.name}"
        ) from None
    make = getattr(module, "make", None)
    if not callable(make):
        raise ConfigError(f"{module_name} has no make(settings, environ); it is not a provider")
    return cast(Callable[[Settings, Mapping[str, str]], Provider], make)(settings, environ)

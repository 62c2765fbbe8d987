"""Names a package gives, imported when first used (PEP 562): importing one light module
of a package (its tables, its paths) then loads that module alone, not the package's
every stage, and a command that needs little starts fast."""

from __future__ import annotations

import importlib
from collections.abc import Mapping


def lazy_name(package: str, homes: Mapping[str, str], name: str) -> object:
    """``name`` from the module ``homes`` gives for it; a package's ``__getattr__``."""
    home = homes.get(name)
    if home is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)

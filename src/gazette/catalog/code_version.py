"""The catalog's code version: gazette's version and the catalog's own source. Files read
by a reader that changed are read again, and a build made by other code is made again."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from gazette import __version__


@cache
def code_version() -> str:
    digest = hashlib.sha256(__version__.encode())
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()

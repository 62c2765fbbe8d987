"""The Jinja2 templates: the user's folder first, then the bundled ``templates/``."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import jinja2


def bundled_templates() -> Path:
    """The project's ``templates/`` (a source checkout), else the installed copy."""
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "gazette" / "templates"


@cache
def environment(user_folder: str = "") -> jinja2.Environment:
    folders = [user_folder] if user_folder else []
    folders.append(str(bundled_templates()))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(["html", "html.j2", "xml"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )

"""The words readers see, in ``site.language``: gettext catalogs made with Babel.

Every sentence of a page, a confirmation mail or a digest is a message of the ``gazette``
domain; its translations are ``locale/<locale>/LC_MESSAGES/gazette.po`` beside this
module, read as they are (there is no compiled ``.mo`` to keep in step). A language
without a catalog reads the messages as written, in English. Log lines and CLI errors
stay English.

The catalogs are kept with ``pybabel`` (the mapping is ``[tool.babel]`` in pyproject.toml;
the commands are in README.md, "The reader's language").
"""

from __future__ import annotations

import gettext
import hashlib
import io
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError
from babel.dates import format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from gazette.config import LOCALES

if TYPE_CHECKING:
    from jinja2 import Environment

DOMAIN = "gazette"


def N_(message: str) -> str:
    """Marks ``message`` for the catalog without translating it here."""
    return message


def catalog_locale(language: str) -> str | None:
    """The catalog folder for a BCP 47 tag (``zh-CN`` → ``zh_CN``, ``en-GB`` → ``en``),
    or None when no catalog fits: the exact locale, then its language alone, then any
    catalog of that language."""
    try:
        locale = Locale.parse(language.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return None
    have = {path.name for path in LOCALES.iterdir() if (path / "LC_MESSAGES").is_dir()}
    wanted = [f"{locale.language}_{locale.territory}", locale.language]
    for name in wanted:
        if name in have:
            return name
    return next((name for name in sorted(have) if name.split("_")[0] == locale.language), None)


@lru_cache(maxsize=16)
def translations(language: str) -> gettext.NullTranslations:
    """The messages of ``language``, read from its catalog once per process."""
    name = catalog_locale(language)
    if name is None:
        return gettext.NullTranslations()
    with (LOCALES / name / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=name, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def install(env: Environment, language: str) -> Environment:
    """``env`` with Jinja2's i18n extension speaking ``language`` (``{% trans %}``, ``_()``)."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # a message's line breaks are the template's
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def catalog_version(language: str) -> str:
    """A hash of the catalog ``language`` reads ("" for none): pages made with an older
    catalog are made again."""
    name = catalog_locale(language)
    if name is None:
        return ""
    data = (LOCALES / name / "LC_MESSAGES" / f"{DOMAIN}.po").read_bytes()
    return hashlib.sha256(data).hexdigest()


def babel_locale(language: str) -> str:
    """The Babel locale for number and duration words (``en`` when none fits)."""
    return catalog_locale(language) or "en"


def duration(seconds: float, language: str) -> str:
    """A duration as a reader says it: ``1 week``, ``1周``, ``12 hours``."""
    return format_timedelta(timedelta(seconds=seconds), locale=babel_locale(language),
                            threshold=1.0)  # fmt: skip

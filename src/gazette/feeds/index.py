"""index.html: what a person opening the output folder can subscribe to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from gazette.config import BUNDLED_TEMPLATES, Settings
from gazette.models import Post

if TYPE_CHECKING:  # the template engine and the catalogs are loaded when an index is rendered
    import jinja2


@dataclass(frozen=True, slots=True)
class FeedLinks:
    """One subscription feed for the index: its name and the URL of each format."""

    title: str
    kind: str
    rss: str
    atom: str
    json: str


@cache
def _environment(language: str) -> jinja2.Environment:
    import jinja2  # noqa: PLC0415 - see TYPE_CHECKING above

    from gazette import i18n  # noqa: PLC0415 - Babel, as above

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(BUNDLED_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return i18n.install(env, language)


def render_index(
    settings: Settings,
    posts: Sequence[Post],
    feeds: Sequence[FeedLinks],
    newest_archive: str,
) -> bytes:
    template = _environment(settings.site.language).get_template("index.html.j2")
    html = template.render(
        site=settings.site,
        posts=posts,
        main=feeds[0],
        tags=[feed for feed in feeds if feed.kind == "tag"],
        series=[feed for feed in feeds if feed.kind == "series"],
        newest_archive=newest_archive,
    )
    return html.encode("utf-8")

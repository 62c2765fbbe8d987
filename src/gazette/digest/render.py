"""An issue rendered once: subject, HTML (CSS inlined) and text.

The templates are ``digest.html.j2`` and ``digest.txt.j2`` from ``digest.templates``
when that folder has them, else the bundled ones; the subject is ``digest.subject``, or
the template ``digest.subject.j2`` when that key is empty.
Every recipient's copy differs only by its unsubscribe link, so the issue is rendered
with a placeholder there and each copy is made by replacing it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import css_inline
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
    select_autoescape,
)
from markupsafe import Markup

from gazette import i18n
from gazette.config import BUNDLED_TEMPLATES, Settings
from gazette.digest.mailsafe import mail_safe
from gazette.digest.wrap import wrap
from gazette.errors import ConfigError
from gazette.models import Post

UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/gazette-placeholder"
TEXT_WIDTH = 72
SUBJECT_TEMPLATE = "digest.subject.j2"  # plain text: its name is not one autoescaped
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True, slots=True)
class PostView:
    """What a template sees of a post."""

    title: str
    url: str
    date: str
    series: str
    series_index: int | None
    tags: tuple[str, ...]
    excerpt_html: Markup
    excerpt_text: str


@dataclass(frozen=True, slots=True)
class IssueView:
    number: int
    period: str
    subject: str
    date: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """One issue for everyone; ``for_recipient`` makes one person's copy."""

    subject: str
    html: str
    text: str

    def for_recipient(self, unsubscribe_url: str) -> tuple[str, str]:
        """The HTML and text with this recipient's unsubscribe link."""
        return (
            self.html.replace(UNSUBSCRIBE_PLACEHOLDER, html.escape(unsubscribe_url)),
            self.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
        )


def environment(settings: Settings) -> Environment:
    """Templates from ``digest.templates`` first, then the bundled ones."""
    folders = [BUNDLED_TEMPLATES]
    if settings.digest.templates:
        folder = settings.resolve(settings.digest.templates)
        if not folder.is_dir():
            raise ConfigError(
                f"{settings.config_path}: [digest] templates: {folder} is not a folder; "
                "create it or remove the key to use the bundled templates"
            )
        folders.insert(0, folder)
    env = Environment(
        loader=FileSystemLoader(folders),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = lambda text: wrap(str(text), TEXT_WIDTH)
    return i18n.install(env, settings.site.language)


def render_subject(
    settings: Settings, number: int, period: str, posts: Sequence[Post], now: datetime
) -> str:
    """The subject line (plain text, not escaped), on one line: ``digest.subject`` when
    set, else the template ``digest.subject.j2``."""
    context = _context(settings, IssueView(number, period, "", _date(settings, now)), posts)
    if settings.digest.subject:
        where = f"{settings.config_path}: [digest] subject"
        try:
            # A subject is plain text: escaping would show "&amp;" in every mail client.
            plain = Environment(undefined=StrictUndefined, autoescape=False)  # noqa: S701
            template = i18n.install(plain, settings.site.language).from_string(
                settings.digest.subject
            )
            subject = " ".join(template.render(context).split())
        except TemplateError as error:
            raise ConfigError(f"{where}: {error}; fix the template") from None
    else:
        where = SUBJECT_TEMPLATE
        subject = " ".join(render_template(environment(settings), where, context).split())
    if not subject:
        raise ConfigError(f"{where}: renders an empty subject; write a subject template")
    return subject


def render_issue(
    settings: Settings, number: int, period: str, subject: str, posts: Sequence[Post], now: datetime
) -> Rendered:
    """The HTML (CSS inlined) and text of an issue, with the unsubscribe placeholder."""
    env = environment(settings)
    context = _context(settings, IssueView(number, period, subject, _date(settings, now)), posts)
    page = render_template(env, "digest.html.j2", context)
    text = render_template(env, "digest.txt.j2", context)
    # Wrapped again as a whole: template lines (the footer) keep to the width too.
    return Rendered(subject, _INLINER.inline(page), _tidy_text(wrap(text, TEXT_WIDTH)))


def render_template(env: Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except TemplateSyntaxError as error:
        raise ConfigError(
            f"{error.filename or name}:{error.lineno}: {error.message}; fix the template"
        ) from None
    except UndefinedError as error:
        raise ConfigError(f"{name}: {error.message}; fix the template") from None


def _context(settings: Settings, issue: IssueView, posts: Sequence[Post]) -> dict[str, Any]:
    views = [post_view(settings, post) for post in posts]
    return {
        "site": settings.site,
        "issue": issue,
        "posts": views,
        "preheader": " · ".join(view.title for view in views),
        "view_url": view_url(settings, issue.number, issue.period),
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
    }


def post_view(settings: Settings, post: Post) -> PostView:
    excerpt = mail_safe(post.summary_html, post.url)
    return PostView(
        title=post.title,
        url=post.url,
        date=post.published.astimezone(settings.site.zone).strftime("%Y-%m-%d"),
        series=post.series,
        series_index=post.series_index,
        tags=post.tags,
        excerpt_html=Markup(excerpt.html),  # noqa: S704 - mail_safe sanitizes it last
        excerpt_text=wrap(excerpt.text, TEXT_WIDTH),
    )


def view_url(settings: Settings, number: int, period: str) -> str:
    template = settings.digest.view_url
    return template.replace("{number}", str(number)).replace("{period}", period)


def _date(settings: Settings, now: datetime) -> str:
    return now.astimezone(settings.site.zone).strftime("%Y-%m-%d")


def _tidy_text(text: str) -> str:
    """At most one blank line in a row, no trailing spaces, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip("\n") + "\n"

"""The readers' words in site.language: the catalogs are complete and well formed, and the
digest, its subject and the confirmation mail speak zh-CN and en."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from gazette import i18n
from gazette.catalog import iter_posts
from gazette.config import Settings
from gazette.digest.confirmation_mail import confirmation_envelope
from gazette.digest.render import environment, render_issue, render_subject
from gazette.models import Post
from gazette.store import Store

from ..conftest import NOW, ROOT

POSTS = [("first", "First post", 1.0), ("second", "Second post", 2.0)]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TAG = re.compile(r"</?[a-z]+")


def in_language(settings: Settings, language: str) -> Settings:
    return settings.model_copy(
        update={"site": settings.site.model_copy(update={"language": language})}
    )


def posts_of(settings: Settings) -> list[Post]:
    with Store(settings.database_url).transaction() as connection:
        return list(iter_posts(settings, connection, NOW))


def extracted(tmp_path: Path) -> set[str]:
    """The messages `pybabel extract` finds in the code and templates today."""
    template = tmp_path / "gazette.pot"
    subprocess.run(
        ["pybabel", "extract", "-F", "pyproject.toml", "-k", "_", "-k", "N_", "-o",
         str(template), "."], cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with template.open("rb") as pot:
        return {message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(pot) if message.id}  # fmt: skip


def test_every_message_has_a_chinese_translation_with_the_same_placeholders(
    tmp_path: Path,
) -> None:
    """Each message of the code and templates is in the zh_CN catalog, translated, not
    fuzzy, with the same %(name)s placeholders and the same HTML tags as the English."""
    with (i18n.LOCALES / "zh_CN" / "LC_MESSAGES" / "gazette.po").open("rb") as po:
        catalog = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(po) if m.id}
    wanted = extracted(tmp_path)
    assert wanted - set(catalog) == set(), "run pybabel update (README: The reader's language)"
    for key in wanted:
        message = catalog[key]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {key!r}"
        assert not message.fuzzy, key
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(key)), key
            assert sorted(TAG.findall(string)) == sorted(TAG.findall(key)), key


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-CN", "zh_CN"), ("zh-Hans-CN", "zh_CN"), ("zh", "zh_CN"), ("en", "en"),
     ("en-GB", "en"), ("fr", None), ("not a tag", None)],
)  # fmt: skip
def test_a_language_tag_finds_its_catalog(language: str, expected: str | None) -> None:
    """BCP 47 tags find the catalog of their locale or their language; others none."""
    assert i18n.catalog_locale(language) == expected


def test_the_digest_speaks_the_sites_language(digest_site: Callable[..., Settings]) -> None:
    """zh-CN: subject, issue line, "read more", footer in Chinese; en: the same in English."""
    settings = digest_site(POSTS)
    posts = posts_of(settings)
    words = {
        "zh-CN": ["2 篇新文章", "第 1 期", "阅读全文", "退订"],
        "en": ["2 new posts", "Issue 1", "Read more", "Unsubscribe"],
    }
    for language, expected in words.items():
        localized = in_language(settings, language)
        subject = render_subject(localized, 1, "2026-11-21T08", posts, NOW)
        rendered = render_issue(localized, 1, "2026-11-21T08", subject, posts, NOW)
        assert expected[0] in subject
        for word in expected[1:]:
            assert word in rendered.html, (language, word)
            assert word in rendered.text, (language, word)
        other = words["en" if language == "zh-CN" else "zh-CN"]
        assert not [word for word in other[1:] if word in rendered.html]


def test_one_post_is_singular_in_english(digest_site: Callable[..., Settings]) -> None:
    """A one-post issue's subject says "1 new post", not "1 new posts"."""
    settings = in_language(digest_site(POSTS[:1]), "en")
    posts = posts_of(settings)
    assert render_subject(settings, 1, "p", posts, NOW).endswith(": 1 new post")


def test_the_confirmation_mail_speaks_the_sites_language(
    digest_site: Callable[..., Settings],
) -> None:
    """Its subject (from confirm-mail.subject.j2), text and HTML, and how long the link
    holds, in the site's language."""
    settings = digest_site(POSTS)
    row = {"id": 1, "recipient": "reader@example.org", "issued": NOW.timestamp(),
           "expires": NOW.timestamp() + 7 * 86400}  # fmt: skip
    expected = {"zh-CN": ("请确认订阅Test Site", "1周内有效", "确认订阅"),
                "en": ("Confirm your subscription to Test Site", "It holds for 1 week",
                       "Confirm the subscription")}  # fmt: skip
    for language, (subject, holds, button) in expected.items():
        localized = in_language(settings, language)
        envelope = confirmation_envelope(localized, environment(localized), b"k" * 32, row, NOW)
        assert envelope.subject == subject
        assert holds in envelope.text
        assert button in envelope.html

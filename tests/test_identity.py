"""Ids that never change, slugs, URLs, and a catalog that only redoes what changed."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from gazette.catalog import iter_posts, update_catalog
from gazette.catalog.identity import body_hash
from gazette.catalog.tables import posts
from gazette.config import Settings
from gazette.models import Post
from gazette.store import Store

from .conftest import NOW, sync

LISTING = """\
    3 Feb

    第一篇文章的标题

    正文第一段,含有公式$E=mc^2$。

    点击阅读全文...

    5 Mar

    Second post title

    Body of the second post.

    点击阅读全文...
"""
SOURCE = '[[sources]]\npath = "listing.txt"\nformat = "listing"\nyear = 2024\n'


def _posts(settings: Settings, store: Store) -> dict[str, Post]:
    with store.transaction() as connection:
        return {p.title: p for p in iter_posts(settings, connection, NOW)}


def test_ids_are_tag_uris_and_stable(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """A post gets a tag URI on first sight and the same one on every later run."""
    write("listing.txt", LISTING)
    settings = site(SOURCE)
    first = _posts(settings, sync(settings))
    again = _posts(settings, sync(settings, NOW + timedelta(days=1)))
    post = first["第一篇文章的标题"]
    assert post.id == "tag:test.example.org,2024-02-03:di-yi-pian-wen-zhang-de-biao-ti"
    assert {t: p.id for t, p in first.items()} == {t: p.id for t, p in again.items()}
    assert post.url == "https://test.example.org/posts/di-yi-pian-wen-zhang-de-biao-ti/"


def test_corrected_title_keeps_id_and_bumps_updated(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """A fixed title matches the record by date and body: same id and slug, later updated."""
    write("listing.txt", LISTING)
    settings = site(SOURCE)
    before = _posts(settings, sync(settings))["Second post title"]
    write("listing.txt", LISTING.replace("Second post title", "The second post's title"))
    later = NOW + timedelta(days=2)
    store = sync(settings, later)
    after = _posts(settings, store)["The second post's title"]
    assert after.id == before.id
    assert after.slug == before.slug
    assert before.updated == before.published
    assert after.updated == later
    assert len(_posts(settings, store)) == 2


def test_unchanged_run_renders_nothing_and_keeps_updated(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """A warm run with no change renders no post and leaves every record as it was."""
    write("listing.txt", LISTING)
    settings = site(SOURCE)
    store = Store(settings.database_url)
    assert update_catalog(settings, store, NOW).rendered == 2
    report = update_catalog(settings, store, NOW + timedelta(hours=1))
    assert (report.rendered, report.added, report.changed, report.unchanged) == (0, 0, 0, 2)
    with store.transaction() as connection:
        rows = connection.execute(select(posts.c.updated, posts.c.last_seen)).all()
    assert all(updated != last_seen for updated, last_seen in rows)


def test_explicit_id_and_slug_win(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """Front matter id and slug are used as given; the URL follows site.post_url."""
    write(
        "posts/a.md",
        """\
        ---
        title: Hello
        date: 2025-01-02T03:04:05+08:00
        id: urn:uuid:1234
        slug: hello-world
        ---
        Body.
        """,
    )
    settings = site(
        '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n',
    )
    settings = settings.model_copy(
        update={"site": settings.site.model_copy(update={"post_url": "{year}/{month}/{slug}.html"})}
    )
    post = _posts(settings, sync(settings))["Hello"]
    assert post.id == "urn:uuid:1234"
    assert post.url == "https://test.example.org/2025/01/hello-world.html"


def test_same_title_gets_unique_slugs(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """Two different posts with one title get distinct slugs and ids."""
    for name, day in (("a", "01"), ("b", "02")):
        write(f"posts/{name}.md", f"---\ntitle: Notes\ndate: 2025-01-{day}\n---\nBody {name}.\n")
    settings = site('[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n')
    store = sync(settings)
    with store.transaction() as connection:
        found = list(iter_posts(settings, connection, NOW))
    assert sorted(p.slug for p in found) == ["notes", "notes-2"]
    assert len({p.id for p in found}) == 2


def test_removed_post_keeps_its_id_when_it_returns(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """A post that leaves the catalog and comes back gets its old id, not a new one."""
    path = write("listing.txt", LISTING)
    settings = site(SOURCE)
    before = _posts(settings, sync(settings))
    first_entry = LISTING.split("点击阅读全文...", maxsplit=1)[0].replace("    ", "")
    path.write_text(first_entry + "点击阅读全文...\n")
    assert len(_posts(settings, sync(settings))) == 1
    write("listing.txt", LISTING)
    after = _posts(settings, sync(settings))
    assert {t: p.id for t, p in after.items()} == {t: p.id for t, p in before.items()}


def test_twins_with_one_guessed_title_keep_their_own_ids(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """Untitled posts of one day that open alike keep their ids; an edit steals no record."""
    opening = "这是一段很长的开头,它会被拿来当作推断出来的标题,所以两篇文章的标题一模一样。"
    entries = [f"3 Feb\n\n{opening}\n\n第{n}篇的正文。\n\n点击阅读全文...\n" for n in range(3)]
    path = write("listing.txt", "\n".join(entries))
    settings = site(SOURCE)
    store = Store(settings.database_url)
    update_catalog(settings, store, NOW)
    with store.transaction() as connection:
        before = {p.content_text: p.id for p in iter_posts(settings, connection, NOW)}
    assert len(before) == 3
    assert update_catalog(settings, store, NOW).rendered == 0
    path.write_text(path.read_text().replace("第0篇的正文", "第0篇改过的正文"))
    assert update_catalog(settings, store, NOW).rendered == 1
    with store.transaction() as connection:
        after = {p.content_text: p.id for p in iter_posts(settings, connection, NOW)}
    for text, post_id in before.items():
        if "第0篇" not in text:
            assert after[text] == post_id


def test_posts_sort_by_instant_across_time_zones(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """Newest first means by instant: 01:00+08:00 is earlier than 20:00 UTC the day before."""
    write("posts/a.md", "---\ntitle: Early\ndate: 2025-01-01T01:00:00+08:00\n---\nA.\n")
    write("posts/b.md", "---\ntitle: Late\ndate: 2024-12-31T20:00:00+00:00\n---\nB.\n")
    settings = site('[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n')
    assert list(_posts(settings, sync(settings))) == ["Late", "Early"]


# Every character Python counts as whitespace, a few that it does not, and text.
_SPACES = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
_BODY_TEXT = st.text(alphabet=st.sampled_from([*_SPACES, "\u200b", "\ufeff", "a", "中", "$"]))


@given(_BODY_TEXT)
def test_a_body_hash_is_the_one_records_were_given(body: str) -> None:
    """A body hashes as it always has (runs of whitespace as one space, none at the ends),
    so no stored post looks changed."""
    before = re.sub(r"\s+", " ", body).strip()
    assert body_hash(body) == hashlib.sha256(before.encode()).hexdigest()

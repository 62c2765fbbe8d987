"""Slugs from Chinese titles read as words; a slug once given never changes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import gazette.catalog.sync as catalog_sync
from gazette.catalog import iter_posts
from gazette.catalog.identity import legacy_slug, make_slug
from gazette.config import Settings
from gazette.pinyin import Reader, readings, serve

from .conftest import NOW, ROOT, sync

SOURCE = '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n'


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("两万字长文", "liang-wan-zi-zhang-wen"),  # 两万 is not "liang mo"; 长文 is zhang
        ("我们来了", "wo-men-lai-le"),  # 了 after a verb is le
        ("了解一下", "liao-jie-yi-xia"),  # 了解 is liao
        ("重新思考 BERT", "chong-xin-si-kao-bert"),  # 重新 is chong
        ("行走银行", "xing-zou-yin-hang"),  # 银行 is hang, 行走 is xing
        ("Transformer升级之路：两万字", "transformer-sheng-ji-zhi-lu-liang-wan-zi"),
        ("Plain English title", "plain-english-title"),
    ],
)
def test_chinese_titles_are_read_as_words(title: str, slug: str) -> None:
    """Each Han character is read as in its phrase, not alone; other text is as before."""
    assert make_slug(title) == slug


def _only_post(settings: Settings, now: datetime = NOW) -> tuple[str, str, str]:
    store = sync(settings, now)
    with store.transaction() as connection:
        (post,) = list(iter_posts(settings, connection, NOW + timedelta(days=30)))
    return post.id, post.slug, post.url


def test_a_new_post_gets_its_url_from_the_word_reading(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """A post first seen now has the phrase-read slug in its id and URL."""
    write("posts/a.md", "---\ntitle: 两万字长文\ndate: 2024-05-01\n---\n正文。\n")
    post_id, slug, url = _only_post(site(SOURCE))
    assert slug == "liang-wan-zi-zhang-wen"
    assert post_id == "tag:test.example.org,2024-05-01:liang-wan-zi-zhang-wen"
    assert url == "https://test.example.org/posts/liang-wan-zi-zhang-wen/"


def test_a_post_slugged_by_an_older_release_keeps_its_slug(
    site: Callable[..., Settings], write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record slugged character by character keeps id, slug and URL, even when the post
    later moves to another day and its body changes (found by its old slug)."""
    path = write("posts/a.md", "---\ntitle: 两万字长文\ndate: 2024-05-01\n---\n正文。\n")
    settings = site(SOURCE)
    with monkeypatch.context() as older_release:
        older_release.setattr(catalog_sync, "make_slug", legacy_slug)
        before = _only_post(settings)
    assert before[1] == "liang-mo-zi-chang-wen"
    assert _only_post(settings, NOW + timedelta(days=1)) == before
    path.write_text("---\ntitle: 两万字长文\ndate: 2024-05-03\n---\n改过的正文。\n", "utf-8")
    assert _only_post(settings, NOW + timedelta(days=2)) == before


def test_new_titles_are_read_in_a_process_of_their_own(
    site: Callable[..., Settings], write: Callable[..., Path], tmp_path: Path
) -> None:
    """New Chinese titles are slugged by phrase, and pypinyin's data is never loaded into
    the catalog's own process (nor its render workers)."""
    for number in range(3):
        write(
            f"posts/p{number}.md",
            f"---\ntitle: 两万字长文{number}\ndate: 2024-05-01\n---\n正文。\n",
        )
    site(SOURCE)
    script = """if True:
        import sys
        from datetime import UTC, datetime
        from gazette.catalog import iter_posts, update_catalog
        from gazette.config import load_settings
        from gazette.store import Store
        settings = load_settings(sys.argv[1])
        store = Store(settings.database_url)
        update_catalog(settings, store, datetime.now(UTC))
        print("pypinyin" in sys.modules)
        with store.transaction() as connection:
            print(sorted(p.slug for p in iter_posts(settings, connection))[:2])
    """
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "gazette.toml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert result.returncode == 0, result.stderr
    loaded, first_slugs = result.stdout.splitlines()
    assert loaded == "False"
    assert first_slugs == "['liang-wan-zi-zhang-wen-0', 'liang-wan-zi-zhang-wen-1']"


def test_offered_titles_are_read_in_the_other_process_as_here() -> None:
    """A reader's process reads what it is offered as this process would, even more than a
    pipe holds before the reading starts, and ends when its readings are collected."""
    titles = [f"第{n}篇：两万字长文" for n in range(3000)]  # about 100 KB of JSON lines
    reader = Reader()
    reader.offer(titles)
    process = reader._process
    assert process is not None
    found = reader.collect()
    assert process.poll() is not None
    assert [found[title] for title in titles[:3]] == readings(titles[:3])
    assert found[titles[-1]] == "di 2999 pian ： liang wan zi zhang wen"


def test_a_reader_whose_process_died_reads_here() -> None:
    """When the reading process went away, the texts offered are read in this one."""
    reader = Reader()
    reader.start()
    assert reader._process is not None
    reader._process.kill()
    reader._process.wait()
    reader.offer(["两万字长文"])
    assert reader.collect() == {"两万字长文": "liang wan zi zhang wen"}


def test_a_reader_offered_nothing_ends_its_process_and_reads_nothing() -> None:
    """A reader started for new files whose posts need no reading ends its process."""
    reader = Reader()
    reader.start()
    process = reader._process
    assert process is not None
    assert reader.collect() == {}
    assert process.poll() is not None


def test_serve_reads_each_json_line_and_answers_one_list() -> None:
    """The process's side: a JSON line each, one JSON list of readings at the end."""
    out = io.StringIO()
    serve(io.StringIO('"两万字长文"\n"Plain 了解"\n'), out)
    assert json.loads(out.getvalue()) == ["liang wan zi zhang wen", "Plain  liao jie"]


def test_a_sync_reads_ahead_only_the_titles_of_new_files(
    site: Callable[..., Settings], write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """New files start the title reader before any file is read and offer it their titles
    (not those with a slug of their own); a sync of an edited file starts no reader."""
    calls: list[object] = []
    start, offer = Reader.start, Reader.offer

    def spy_start(self: Reader) -> None:
        calls.append("start")
        start(self)

    def spy_offer(self: Reader, texts: Iterable[str]) -> None:
        texts = list(texts)
        calls.append(texts)
        offer(self, texts)

    monkeypatch.setattr(Reader, "start", spy_start)
    monkeypatch.setattr(Reader, "offer", spy_offer)
    write("posts/a.md", "---\ntitle: 注意力的另一面\ndate: 2024-05-01\n---\n正文。\n")
    write("posts/b.md", "---\ntitle: 我们来了\nslug: own\ndate: 2024-05-02\n---\n正文。\n")
    settings = site(SOURCE)
    store = sync(settings)
    assert calls[0] == "start"
    assert [call for call in calls if call != "start"] == [["注意力的另一面"], []]
    with store.transaction() as connection:
        slugs = sorted(post.slug for post in iter_posts(settings, connection, NOW))
    assert slugs == ["own", "zhu-yi-li-de-ling-yi-mian"]
    calls.clear()
    write("posts/a.md", "---\ntitle: 注意力的另一面\ndate: 2024-05-01\n---\n改过的正文。\n")
    sync(settings, NOW + timedelta(days=1))
    assert "start" not in calls


LISTING = '[[sources]]\npath = "listing.txt"\nformat = "listing"\nyear = 2024\n'


def test_a_changed_listing_page_offers_its_titles(
    site: Callable[..., Settings], write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing page holds many posts: when it changes, the titles of its posts are read
    ahead, and the one it gained gets its slug from them."""
    offered: list[str] = []
    offer = Reader.offer

    def spy_offer(self: Reader, texts: Iterable[str]) -> None:
        texts = list(texts)
        offered.extend(texts)
        offer(self, texts)

    entry = "{day} Mar\n\n{title}\n\n正文{day}。\n\n点击阅读全文...\n"
    write("listing.txt", entry.format(day=1, title="旧的一篇文章"))
    settings = site(LISTING)
    sync(settings)
    monkeypatch.setattr(Reader, "offer", spy_offer)
    write("listing.txt", "\n".join(entry.format(day=d, title=t) for d, t in
                                   ((2, "列表里新的一篇"), (1, "旧的一篇文章"))))  # fmt: skip
    store = sync(settings, NOW + timedelta(days=1))
    assert "列表里新的一篇" in offered
    with store.transaction() as connection:
        slugs = {post.title: post.slug for post in iter_posts(settings, connection, NOW)}
    assert slugs["列表里新的一篇"] == "lie-biao-li-xin-de-yi-pian"

"""Bad input: wrong encodings, broken front matter, odd bytes, and runs that must not write."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gazette.catalog import check_catalog, iter_posts, update_catalog
from gazette.catalog.generators import GeneratorConfigError, find_site
from gazette.catalog.sources import read_sources
from gazette.catalog.tables import iter_post_heads, posts
from gazette.config import Settings
from gazette.errors import SourceError
from gazette.models import Finding
from gazette.store import Store

from .conftest import NOW, sync

Site = Callable[..., Settings]
Write = Callable[[str, str | bytes], Path]

LISTING = """\
[[sources]]
path = "posts.txt"
format = "listing"
year = 2024
"""

MARKDOWN = """\
[[sources]]
path = "posts/*.md"
format = "markdown"
"""

CLEAN_LISTING = (
    "3 Mar\n\nFirst title\n\nHello world.\n\n点击阅读全文...\n\n"
    "5 Mar\n\n第二篇\n\n正文。\n\n点击阅读全文...\n"
)
GB_LISTING = "1 Jan\n\n标题\n\n正文。\n\n点击阅读全文...\n"


def titles(settings: Settings, store: Store, **options: Any) -> list[str]:
    """Titles of the catalog's posts, newest first."""
    with store.transaction() as connection:
        return [p.title for p in iter_posts(settings, connection, **options)]


def findings_at(findings: list[Finding], severity: str) -> list[Finding]:
    """The findings of one severity."""
    return [f for f in findings if f.severity == severity]


def shown(path: Path) -> str:
    """How a source file is named in findings when it is outside the working folder."""
    return str(path.resolve())


# --- encodings -----------------------------------------------------------------------


def test_gb18030_listing_read_as_utf8_names_file_byte_and_fix(site: Site, write: Write) -> None:
    """A GB18030 file under the default utf-8 is an error with its path, byte offset and fix."""
    path = write("posts.txt", GB_LISTING.encode("gb18030"))
    settings = site(LISTING)
    findings = check_catalog(settings, Store(settings.database_url), NOW)
    [error] = findings_at(findings, "error")
    assert error.location.startswith(shown(path))
    assert "byte 7" in error.message
    assert "encoding" in error.message
    with pytest.raises(SourceError, match="byte 7"):
        sync(settings)


def test_gb18030_listing_with_encoding_set_reads_the_chinese_title(
    site: Site, write: Write
) -> None:
    """With `encoding = "gb18030"` the same bytes give the post with its Chinese title."""
    write("posts.txt", GB_LISTING.encode("gb18030"))
    settings = site(LISTING + 'encoding = "gb18030"\n')
    store = sync(settings)
    with store.transaction() as connection:
        [post] = list(iter_posts(settings, connection, NOW))
    assert post.title == "标题"
    assert post.content_text.strip() == "正文。"
    assert post.published.date().isoformat() == "2024-01-01"


def test_bom_and_crlf_listing_reads_like_the_clean_one(
    site: Site, write: Write, tmp_path: Path
) -> None:
    """A UTF-8 BOM and CRLF line ends change nothing: same titles, bodies, dates and lines."""
    write("posts.txt", CLEAN_LISTING)
    settings = site(LISTING)
    with sync(settings).transaction() as connection:
        clean = [
            (p.title, p.content_html, p.published, p.sources)
            for p in iter_posts(settings, connection, NOW)
        ]

    (tmp_path / "state" / "gazette.db").unlink()
    write("posts.txt", b"\xef\xbb\xbf" + CLEAN_LISTING.replace("\n", "\r\n").encode("utf-8"))
    with sync(settings).transaction() as connection:
        dirty = [
            (p.title, p.content_html, p.published, p.sources)
            for p in iter_posts(settings, connection, NOW)
        ]
    assert dirty == clean
    assert [c[0] for c in clean] == ["第二篇", "First title"]


def test_xml_illegal_control_characters_are_removed(site: Site, write: Write) -> None:
    """\\x01 and \\x0b in a listing entry never reach the stored title or body."""
    write("posts.txt", "3 Mar\n\nCtl\x01 title\n\nBo\x0bdy text\x01.\n\n点击阅读全文...\n")
    settings = site(LISTING)
    with sync(settings).transaction() as connection:
        [post] = list(iter_posts(settings, connection, NOW))
    assert post.title == "Ctl title"
    for text in (
        post.title,
        post.content_html,
        post.content_text,
        post.summary_html,
        post.summary_text,
    ):
        assert "\x01" not in text
        assert "\x0b" not in text
    assert "Body text." in post.content_text


# --- front matter --------------------------------------------------------------------


def test_broken_yaml_front_matter_names_file_and_line(site: Site, write: Write) -> None:
    """An unclosed YAML list on line 3 is an error at path:3, where the mistake is written."""
    path = write("posts/a.md", "---\ntitle: Hello\ntags: [a, b\ndate: 2024-05-01\n---\n\nBody.\n")
    settings = site(MARKDOWN)
    [error] = findings_at(check_catalog(settings, Store(settings.database_url), NOW), "error")
    assert "YAML" in error.message
    assert error.location == f"{shown(path)}:3"


def test_broken_yaml_on_last_front_matter_line_names_that_line(site: Site, write: Write) -> None:
    """An unclosed YAML list on the last front matter line (3) is reported at path:3."""
    path = write("posts/a.md", "---\ndate: 2024-05-01\ntags: [a, b\n---\n\nBody.\n")
    settings = site(MARKDOWN)
    [error] = findings_at(check_catalog(settings, Store(settings.database_url), NOW), "error")
    assert error.location == f"{shown(path)}:3"


@pytest.mark.parametrize("tag", ["!!int", "!!float", "!!bool", "!!timestamp"])
def test_an_empty_tagged_value_is_an_error_naming_the_file(
    site: Site, write: Write, tag: str
) -> None:
    """An empty tagged value (``weight: !!int``), which breaks PyYAML's constructor, is an
    error at the post's front matter saying what to fix; the other posts are read."""
    path = write("posts/a.md", f"---\ntitle: Hello\nweight: {tag}\n---\n\nBody.\n")
    write("posts/b.md", "---\ntitle: Other\ndate: 2024-05-01\n---\n\nBody.\n")
    settings = site(MARKDOWN)
    findings = check_catalog(settings, Store(settings.database_url), NOW)
    [error] = findings_at(findings, "error")
    assert error.location == f"{shown(path)}:2"
    assert "give it a value, or remove the tag" in error.message


def test_an_empty_tagged_value_in_a_generator_config_names_the_file(tmp_path: Path) -> None:
    """A Jekyll _config.yml with an empty !!int is an error naming that file."""
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_config.yml").write_text("url: https://blog.example.org\npaginate: !!int\n")
    with pytest.raises(GeneratorConfigError, match=r"_config\.yml: cannot be read \(a tagged"):
        find_site("jekyll", tmp_path / "_posts", "https://blog.example.org/")


def test_broken_toml_front_matter_names_file_and_line(site: Site, write: Write) -> None:
    """A bad TOML value on line 3 of a +++ block is an error at path:3."""
    path = write(
        "posts/a.md", '+++\ntitle = "Hello"\nslug = oops\ndate = 2024-05-01\n+++\n\nBody.\n'
    )
    settings = site(MARKDOWN)
    [error] = findings_at(check_catalog(settings, Store(settings.database_url), NOW), "error")
    assert "TOML" in error.message
    assert error.location == f"{shown(path)}:3"


def test_toml_error_at_end_of_front_matter_is_not_blamed_on_line_1(
    site: Site, write: Write
) -> None:
    """An unfinished TOML array on the last front matter line (4) is not reported at line 1."""
    path = write(
        "posts/a.md", '+++\ntitle = "Hello"\ndate = 2024-05-01\ntags = ["a",\n+++\n\nBody.\n'
    )
    settings = site(MARKDOWN)
    [error] = findings_at(check_catalog(settings, Store(settings.database_url), NOW), "error")
    assert "TOML" in error.message
    assert error.location in {f"{shown(path)}:4", f"{shown(path)}:5"}


def test_unclosed_front_matter_is_an_error(site: Site, write: Write) -> None:
    """A --- block that never closes is an error at path:1 saying to add the closing line."""
    path = write("posts/a.md", "---\ntitle: Hello\ndate: 2024-05-01\n\nBody.\n")
    settings = site(MARKDOWN)
    [error] = findings_at(check_catalog(settings, Store(settings.database_url), NOW), "error")
    assert error.location == f"{shown(path)}:1"
    assert "never closed" in error.message


# --- JSON Lines ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "figures", ['["a.png"]', '"a.png"', '{"src": "a.png"}'], ids=["strings", "text", "object"]
)
def test_jsonl_figures_that_are_not_objects_are_an_error(
    site: Site, write: Write, figures: str
) -> None:
    """`figures` that is not a list of objects is an error at path:line, not a traceback."""
    record = '{"title": "A", "published": "2024-05-01T00:00:00+08:00", "content_html": ""'
    path = write("posts.jsonl", f'{record}, "figures": {figures}}}\n')
    settings = site('[[sources]]\npath = "posts.jsonl"\nformat = "jsonl"\n')
    [error] = findings_at(check_catalog(settings, Store(settings.database_url), NOW), "error")
    assert error.location == f"{shown(path)}:1"
    assert "figures must be a list of objects" in error.message


# --- empty and marker-less listings --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [("", "empty"), ("3 Mar\n\nTitle\n\nBody.\n", "more_marker")],
    ids=["empty", "no-marker"],
)
def test_empty_or_markerless_listing_is_a_warning(
    site: Site, write: Write, text: str, named: str
) -> None:
    """An empty listing, or one without a read-more marker, warns and yields no post; no error."""
    path = write("posts.txt", text)
    settings = site(LISTING)
    findings = check_catalog(settings, Store(settings.database_url), NOW)
    assert not findings_at(findings, "error")
    [warning] = findings_at(findings, "warning")
    assert warning.location == f"{shown(path)}:1"
    assert named in warning.message
    assert titles(settings, sync(settings)) == []


# --- failed runs write nothing -------------------------------------------------------


def _rows(store: Store) -> dict[str, tuple[str, str, str | None]]:
    with store.transaction() as connection:
        rows = connection.execute(
            select(posts.c.id, posts.c.title, posts.c.last_seen, posts.c.removed_at)
        )
        return {row.id: (row.title, row.last_seen, row.removed_at) for row in rows}


def test_nothing_is_written_to_the_database_when_a_run_fails(site: Site, write: Write) -> None:
    """A run with a broken file raises SourceError and leaves every stored post as it was."""
    write("posts/a.md", "---\ntitle: Alpha\ndate: 2024-05-01\n---\n\nBody a.\n")
    write("posts/b.md", "---\ntitle: Beta\ndate: 2024-05-02\n---\n\nBody b.\n")
    settings = site(MARKDOWN)
    store = sync(settings)
    before = _rows(store)
    assert sorted(t for t, _, _ in before.values()) == ["Alpha", "Beta"]

    (Path(settings.base_dir) / "posts" / "a.md").unlink()  # would be removed by a good run
    write("posts/c.md", "---\ntitle: Gamma\ndate: 2024-05-03\n---\n\nBody c.\n")  # would be added
    write("posts/z.md", '+++\ntitle = "Broken"\nslug = oops\n+++\n\nBody.\n')
    with pytest.raises(SourceError, match="TOML"):
        update_catalog(settings, store, NOW + timedelta(days=1))

    after = _rows(store)
    assert after == before
    assert all(removed is None for _, _, removed in after.values())


def test_check_exits_1_and_prints_the_finding_with_path_and_line(
    site: Site, write: Write, tmp_path: Path
) -> None:
    """`gazette check` on a site with a broken file exits 1 and prints path:line: error."""
    write("posts/a.md", "---\ntitle: Alpha\ndate: 2024-05-01\n---\n\nBody a.\n")
    write("posts/z.md", '+++\ntitle = "Broken"\nslug = oops\n+++\n\nBody.\n')
    site(MARKDOWN)
    result = subprocess.run(
        ["gazette", "--config", str(tmp_path / "gazette.toml"), "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "posts/z.md:3: error: front matter is not valid TOML" in result.stdout
    assert "1 error, 0 warnings, 0 notes" in result.stdout


def test_store_module_imports_on_its_own() -> None:
    """`import gazette.store` works in a fresh interpreter (no circular import)."""
    result = subprocess.run(
        [sys.executable, "-c", "import gazette.store"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- posts that leave or are not yet in the catalog ----------------------------------


def test_post_removed_from_every_source_leaves_and_check_reports_it(
    site: Site, write: Write
) -> None:
    """A synced post whose file is deleted leaves the catalog and check warns with its title."""
    write("posts/a.md", "---\ntitle: Alpha post\ndate: 2024-05-01\n---\n\nBody a.\n")
    gone = write("posts/b.md", "---\ntitle: Beta post\ndate: 2024-05-02\n---\n\nBody b.\n")
    settings = site(MARKDOWN)
    store = sync(settings)
    assert titles(settings, store, now=NOW) == ["Beta post", "Alpha post"]

    gone.unlink()
    findings = check_catalog(settings, store, NOW + timedelta(days=1))
    assert any(f.severity == "warning" and "Beta post" in f.message for f in findings)
    assert titles(settings, store, now=NOW) == ["Alpha post"]
    assert next(r for r in _rows(store).values() if r[0] == "Beta post")[2] is not None


def test_future_post_is_hidden_until_its_date_and_check_notes_it(site: Site, write: Write) -> None:
    """A post dated 2999 is out of iter_posts(now=NOW), in with include_future, noted by check."""
    write("posts/a.md", "---\ntitle: Alpha post\ndate: 2024-05-01\n---\n\nBody a.\n")
    path = write("posts/f.md", "---\ntitle: Future post\ndate: 2999-01-01\n---\n\nBody f.\n")
    settings = site(MARKDOWN)
    store = sync(settings)
    assert titles(settings, store, now=NOW) == ["Alpha post"]
    assert titles(settings, store, now=NOW, include_future=True) == ["Future post", "Alpha post"]
    findings = check_catalog(settings, store, NOW)
    notes = [f for f in findings_at(findings, "info") if "Future post" in f.message]
    assert len(notes) == 1
    assert notes[0].location == f"{shown(path)}:1"
    assert not findings_at(findings, "error")


def test_a_build_plans_from_the_posts_out_by_now_whatever_their_offsets(
    site: Site, write: Write
) -> None:
    """The heads a build plans from are the posts published by its time, newest first,
    however their dates' offsets order them against it (a minute either side of NOW)."""
    dates = {
        "early-east": "2026-11-21T19:59:00+08:00",  # 11:59 UTC: out
        "on-time-west": "2026-11-21T07:00:00-05:00",  # 12:00 UTC: out
        "late-east": "2026-11-21T20:01:00+08:00",  # 12:01 UTC: not yet
        "late-utc": "2026-11-21T12:00:01Z",
        "old": "2026-11-20T12:00:00Z",
    }
    for name, date in dates.items():
        write(f"posts/{name}.md", f"---\ntitle: {name}\ndate: {date}\n---\n\n{name}.\n")
    settings = site(MARKDOWN)
    store = sync(settings)
    with store.transaction() as connection:
        titles = {row.id: row.title for row in connection.execute(select(posts))}
        heads = [titles[head.id] for head in iter_post_heads(connection, NOW)]
    assert heads == ["on-time-west", "early-east", "old"]


def test_draft_post_is_skipped_and_reported(site: Site, write: Write) -> None:
    """A `draft: true` post is not in the catalog and check reports it as skipped."""
    write("posts/a.md", "---\ntitle: Alpha post\ndate: 2024-05-01\n---\n\nBody a.\n")
    path = write(
        "posts/d.md", "---\ntitle: Draft post\ndate: 2024-05-03\ndraft: true\n---\n\nBody d.\n"
    )
    settings = site(MARKDOWN)
    store = sync(settings)
    assert titles(settings, store, now=NOW, include_future=True) == ["Alpha post"]
    findings = check_catalog(settings, store, NOW)
    drafts = [f for f in findings if "draft" in f.message]
    assert len(drafts) == 1
    assert drafts[0].location == f"{shown(path)}:1"
    assert drafts[0].severity in {"info", "warning"}


# --- limits: file size and nesting ---------------------------------------------------

LIMIT = "\n[catalog]\nmax_file_mb = 1\n"
OVER_ONE_MB = 1024 * 1024 + 1
DEEP = 100_000  # far past any parser's recursion limit


def sparse_file(path: Path, size: int) -> Path:
    """A file of ``size`` zero bytes, made without writing them (sparse where supported)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        file.truncate(size)
    return path


def read_titles(settings: Settings) -> list[str]:
    """The titles every source yields now, without touching the stored catalog."""
    store = Store(settings.database_url)
    with store.transaction() as connection:
        read = read_sources(settings, connection, NOW.date())
    return sorted(draft.title for draft in read.drafts)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("posts/big.md", MARKDOWN),
        ("posts.txt", LISTING),
        ("posts.jsonl", '[[sources]]\npath = "posts.jsonl"\nformat = "jsonl"\n'),
        ("feed.xml", '[[sources]]\npath = "feed.xml"\nformat = "feed"\n'),
    ],
    ids=["markdown", "listing", "jsonl", "feed"],
)
def test_file_over_max_file_mb_is_an_error_naming_file_size_and_setting(
    site: Site, tmp_path: Path, name: str, source: str
) -> None:
    """A source file over catalog.max_file_mb is skipped: an error with its size and the fix."""
    path = sparse_file(tmp_path / name, OVER_ONE_MB)
    settings = site(source, LIMIT)
    findings = check_catalog(settings, Store(settings.database_url), NOW)
    [error] = findings_at(findings, "error")
    assert error.location == shown(path)
    assert "1.00 MB (1,048,577 bytes)" in error.message
    assert "catalog.max_file_mb = 1" in error.message
    assert f"[catalog] table of {settings.config_path}" in error.message


def test_file_over_max_file_mb_leaves_the_catalog_and_other_files_alone(
    site: Site, write: Write, tmp_path: Path
) -> None:
    """With one file too large, the others are still read and the stored catalog is kept."""
    write("posts/a.md", "---\ntitle: Alpha\ndate: 2024-05-01\n---\n\nBody a.\n")
    settings = site(MARKDOWN, LIMIT)
    store = sync(settings)
    before = _rows(store)
    write("posts/b.md", "---\ntitle: Beta\ndate: 2024-05-02\n---\n\nBody b.\n")
    big = sparse_file(tmp_path / "posts" / "big.md", OVER_ONE_MB)
    with pytest.raises(SourceError, match=r"big\.md: the file is 1\.00 MB"):
        update_catalog(settings, store, NOW + timedelta(days=1))
    assert _rows(store) == before
    assert read_titles(settings) == ["Alpha", "Beta"]
    big.unlink()
    assert titles(settings, sync(settings)) == ["Beta", "Alpha"]


def test_jsonl_record_nested_past_the_limit_is_an_error_at_its_line(
    site: Site, write: Write
) -> None:
    """A JSON Lines record nested 100,000 deep is an error at path:line naming the limit."""
    good = '{"title": "Kept", "published": "2024-05-01T00:00:00+08:00", "content_html": ""}'
    deep = '{"title": "Deep", "tags": ' + "[" * DEEP + "]" * DEEP + "}"
    path = write("posts.jsonl", f"{good}\n{deep}\n")
    settings = site('[[sources]]\npath = "posts.jsonl"\nformat = "jsonl"\n')
    [error] = findings_at(check_catalog(settings, Store(settings.database_url), NOW), "error")
    assert error.location == f"{shown(path)}:2"
    assert "nested more than 100 levels deep" in error.message
    assert read_titles(settings) == ["Kept"]


@pytest.mark.parametrize(
    "front_matter",
    [
        "---\ntitle: Deep\ndate: 2024-05-01\ntags: " + "[" * DEEP + "]" * DEEP + "\n---\n",
        '+++\ntitle = "Deep"\ndate = 2024-05-01\ntags = ' + "[" * DEEP + "]" * DEEP + "\n+++\n",
        "---\ntitle: Deep\ndate: 2024-05-01\ntags: " + "[" * 101 + "]" * 101 + "\n---\n",
    ],
    ids=["yaml", "toml", "yaml-just-past"],
)
def test_front_matter_nested_past_the_limit_is_an_error(
    site: Site, write: Write, front_matter: str
) -> None:
    """YAML or TOML front matter nested past 100 levels is an error naming the file, not a crash."""
    write("posts/a.md", "---\ntitle: Alpha\ndate: 2024-05-01\n---\n\nBody a.\n")
    path = write("posts/deep.md", (front_matter + "\nBody.\n").encode())
    settings = site(MARKDOWN)
    [error] = findings_at(check_catalog(settings, Store(settings.database_url), NOW), "error")
    assert error.location == f"{shown(path)}:2"
    assert "front matter is nested more than 100 levels deep" in error.message
    assert read_titles(settings) == ["Alpha"]


DEEP_QUOTE = (
    "---\ntitle: Quoted\ndate: 2024-05-01\n---\n\nOpening.\n\n"
    + ">" * 30
    + " deep words\n\nClosing words.\n"
)
DEEP_LIST = (
    "---\ntitle: Listed\ndate: 2024-05-01\n---\n\nOpening.\n\n"
    + "".join("  " * level + f"- level{level}\n" for level in range(14))
    + "\nClosing words.\n"
)


@pytest.mark.parametrize(
    ("text", "line", "kept"),
    [(DEEP_QUOTE, 8, "deep words"), (DEEP_LIST, 17, "level13")],
    ids=["blockquotes", "lists"],
)
def test_markdown_nested_past_max_nesting_warns_and_keeps_the_text(
    site: Site, write: Write, text: str, line: int, kept: str
) -> None:
    """Blocks nested past markdown-it's 20 levels warn at path:line; no text is lost."""
    path = write("posts/deep.md", text.encode())
    settings = site(MARKDOWN)
    store = sync(settings)
    [warning] = [f for f in check_catalog(settings, store, NOW) if "levels deep" in f.message]
    assert warning.severity == "warning"
    assert warning.location == f"{shown(path)}:{line}"
    assert "more than 20 levels deep" in warning.message
    with store.transaction() as connection:
        [post] = iter_posts(settings, connection)
    assert kept in post.content_html
    assert "Closing words." in post.content_html


@pytest.mark.parametrize("depth", [101, 50_000])
def test_html_nested_past_the_limit_is_shown_as_source_with_a_warning(
    site: Site, write: Write, depth: int
) -> None:
    """Raw HTML nested past 100 elements costs no quadratic parse: the post keeps its text,
    shown as source, and check warns naming the file; a post nested 100 deep is HTML."""
    deep = "<div>" * depth + "kept text" + "</div>" * depth
    path = write("posts/deep.md", f"---\ntitle: Deep\ndate: 2024-05-01\n---\n\n{deep}\n")
    write("posts/fine.md", "---\ntitle: Fine\ndate: 2024-05-02\n---\n\n" + "<div>" * 100 + "ok"
          + "</div>" * 100 + "\n")  # fmt: skip
    settings = site(MARKDOWN)
    warnings = findings_at(check_catalog(settings, Store(settings.database_url), NOW), "warning")
    assert [w.location.split(":")[0] for w in warnings if "nests" in w.message] == [shown(path)]
    store = sync(settings)
    with store.transaction() as connection:
        by_title = {post.title: post for post in iter_posts(settings, connection)}
    store.close()
    assert "kept text" in by_title["Deep"].content_text
    assert "<div>" not in by_title["Deep"].content_html
    assert by_title["Fine"].content_html.count("<div>") == 100

"""Characters a feed cannot carry, written as escapes in front matter or JSON, and series
indexes out of range: a finding at path:line, never a traceback or a database error."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from gazette.catalog import check_catalog, update_catalog
from gazette.config import Settings
from gazette.errors import SourceError
from gazette.models import Finding
from gazette.store import Store

from .conftest import NOW
from .feedkit import build, catalog_json, output

Site = Callable[..., Settings]
Write = Callable[[str, str | bytes], Path]

SOURCE = """\
[[sources]]
path = "posts/*.{extension}"
format = "{format}"
"""
FORMATS = {"md": "markdown", "jsonl": "jsonl", "json": "feed"}


def yaml_post(fields: str) -> str:
    """A Markdown post titled A with these YAML front matter lines."""
    return f"---\ntitle: A\n{fields}\ndate: 2024-05-01\n---\n\nA.\n"


def toml_post(fields: str) -> str:
    """A Markdown post titled A with these TOML front matter lines."""
    return f'+++\ntitle = "A"\n{fields}\ndate = 2024-05-01\n+++\n\nA.\n'


def record(**fields: object) -> str:
    """A JSON Lines record titled A with these fields."""
    dated = {"published": "2024-05-01T00:00:00+08:00", "content_html": "<p>A.</p>"}
    return json.dumps({"title": "A", **dated, **fields}) + "\n"


# The same post three ways, each escaping NUL (and U+000B in a tag) as its syntax does.
YAML_POST = r"""
    ---
    title: "Null\0 title"
    tags: ["a\0b", "c\vd"]
    series: "Ser\0ies"
    lang: "en\0"
    date: 2024-05-01
    ---

    Body.
    """
TOML_POST = r"""
    +++
    title = "Null\u0000 title"
    tags = ["a\u0000b", "c\u000bd"]
    series = "Ser\u0000ies"
    lang = "en\u0000"
    date = 2024-05-01
    +++

    Body.
    """
SOURCES = {
    "yaml": ("posts/a.md", YAML_POST.lstrip("\n")),
    "toml": ("posts/a.md", TOML_POST.lstrip("\n")),
    "jsonl": (
        "posts/a.jsonl",
        record(title="Null\0 title", tags=["a\0b", "c\vd"], series="Ser\0ies", lang="en\0"),
    ),
}


def write_source(site: Site, write: Write, name: str, text: str) -> tuple[Settings, str]:
    """Writes one source file and a config reading it; returns the settings and path:1."""
    path = write(name, text)
    extension = name.rsplit(".", 1)[1]
    settings = site(SOURCE.format(extension=extension, format=FORMATS[extension]))
    return settings, f"{path.resolve()}:1"


def check(settings: Settings) -> list[Finding]:
    """What `gazette check` reports, its store closed afterwards."""
    store = Store(settings.database_url)
    try:
        return check_catalog(settings, store, NOW)
    finally:
        store.close()


def assert_feeds_parse(folder: Path) -> None:
    """Every XML file parses strictly with lxml and cleanly with feedparser; JSON loads."""
    written = sorted(p for p in folder.rglob("*") if p.suffix in (".xml", ".json"))
    assert written
    for path in written:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        else:
            etree.parse(str(path), etree.XMLParser(resolve_entities=False))
            assert feedparser.parse(path.read_bytes()).bozo == 0, path


@pytest.fixture
def on_state(state_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site's state database is ``state_url`` (SQLite, then PostgreSQL)."""
    monkeypatch.setenv("GAZETTE_STATE_DATABASE", state_url)


# --- text fields: removed, with a warning --------------------------------------------


@pytest.mark.usefixtures("on_state")
@pytest.mark.parametrize("syntax", list(SOURCES))
def test_escaped_control_characters_are_removed_with_a_warning_per_field(
    site: Site, write: Write, syntax: str
) -> None:
    """NUL in title, series and lang, NUL and U+000B in tags: each field warns at path:1 and
    loses the characters; the build writes feeds that lxml and feedparser read."""
    settings, where = write_source(site, write, *SOURCES[syntax])
    findings = check(settings)
    assert not [f for f in findings if f.severity == "error"]
    warned = {f.message.split()[0]: f for f in findings if "cannot be published" in f.message}
    assert set(warned) == {"'title'", "'tags'", "'series'", "'lang'"}
    assert {f.location for f in warned.values()} == {where}
    assert "U+0000" in warned["'title'"].message
    assert "U+0000 and U+000B" in warned["'tags'"].message

    build(settings)
    [post] = catalog_json(settings)
    assert (post["title"], post["tags"], post["series"], post["lang"]) == (
        "Null title",
        ["ab", "cd"],
        "Series",
        "en",
    )
    assert_feeds_parse(output(settings))


@pytest.mark.usefixtures("on_state")
def test_escaped_control_characters_in_a_record_rendering_are_removed(
    site: Site, write: Write
) -> None:
    """A JSON Lines record's HTML, plain text, figures and sources lose NUL and U+000B too."""
    record = {
        "title": "Record",
        "published": "2024-05-01T00:00:00+08:00",
        "content_html": "<p>Bo\0dy\v.</p>",
        "content_text": "Bo\0dy.",
        "summary_html": "<p>Sum\0mary.</p>",
        "summary_text": "Sum\0mary.",
        "figures": [{"caption": "Cap\0tion", "src": "https://example.org/a\0.png"}],
    }
    settings, where = write_source(site, write, "posts/a.jsonl", json.dumps(record) + "\n")
    findings = check(settings)
    warned = {f.message.split()[0] for f in findings if "cannot be published" in f.message}
    assert warned == {
        "'content_html'",
        "'content_text'",
        "'summary_html'",
        "'summary_text'",
        "'figures'",
    }
    assert {f.location for f in findings} == {where}

    build(settings)
    [post] = catalog_json(settings)
    assert "\0" not in json.dumps(post, ensure_ascii=False)
    assert post["content_text"] == "Body."
    assert post["figures"] == [{"caption": "Caption", "src": "https://example.org/a.png"}]
    assert_feeds_parse(output(settings))


@pytest.mark.usefixtures("on_state")
def test_escaped_control_characters_in_a_json_feed_are_removed(site: Site, write: Write) -> None:
    """A JSON Feed item's tags and language lose a NUL, with a warning each."""
    item = {
        "id": "https://example.org/1",
        "title": "Item",
        "content_html": "<p>Body.</p>",
        "date_published": "2024-05-01T00:00:00+08:00",
        "tags": ["a\0b"],
        "language": "en\0",
    }
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "F", "items": [item]}
    settings, _ = write_source(site, write, "posts/a.json", json.dumps(feed))
    warned = {f.message.split()[0] for f in check(settings) if "cannot be published" in f.message}
    assert warned == {"'tags'", "'lang'"}
    build(settings)
    [post] = catalog_json(settings)
    assert (post["tags"], post["lang"]) == (["ab"], "en")
    assert_feeds_parse(output(settings))


def test_a_title_of_nothing_but_control_characters_becomes_untitled(
    site: Site, write: Write
) -> None:
    """A title that is only NUL does not leave the post without a title (Atom needs one)."""
    record = {"title": "\0", "published": "2024-05-01T00:00:00+08:00", "content_html": "<p>B</p>"}
    settings, _ = write_source(site, write, "posts/a.jsonl", json.dumps(record) + "\n")
    build(settings)
    [post] = catalog_json(settings)
    assert (post["title"], post["title_inferred"]) == ("Untitled", True)
    assert_feeds_parse(output(settings))


# --- ids and slugs: the post is refused ----------------------------------------------


NAMING = {
    "yaml-id": ("posts/a.md", yaml_post(r'id: "my\0post"')),
    "toml-id": ("posts/a.md", toml_post(r'id = "my\u0000post"')),
    "jsonl-id": ("posts/a.jsonl", record(id="my\0post")),
    "yaml-slug": ("posts/a.md", yaml_post(r'slug: "my\0post"')),
}


@pytest.mark.usefixtures("on_state")
@pytest.mark.parametrize("case", list(NAMING))
def test_an_escaped_nul_in_an_id_or_slug_is_an_error(site: Site, write: Write, case: str) -> None:
    """A NUL in an id or slug is an error at path:1 naming the field and U+0000; the build
    stops with a SourceError (not a database error) and stores nothing."""
    settings, where = write_source(site, write, *NAMING[case])
    [error] = [f for f in check(settings) if f.severity == "error"]
    field = case.split("-")[1]
    assert error.location == where
    assert error.message.startswith(f"{field} 'my\\x00post' contains the character U+0000")
    store = Store(settings.database_url)
    try:
        with pytest.raises(SourceError, match=r"U\+0000"):
            update_catalog(settings, store, NOW)
    finally:
        store.close()
    assert catalog_json(settings) == []


# --- series indexes ------------------------------------------------------------------

INDEXES = {
    "yaml-past-int32": ("posts/a.md", yaml_post(f"series: S\nseries_index: {2**31}")),
    "yaml-past-int64": ("posts/a.md", yaml_post(f"series: S\nseries_index: {2**64}")),
    "yaml-negative": ("posts/a.md", yaml_post("series: S\nseries_index: -1")),
    "yaml-quoted-2**70": ("posts/a.md", yaml_post(f'series: S\nseries_index: "{2**70}"')),
    "toml-int64-max": ("posts/a.md", toml_post(f'series = "S"\nseries_index = {2**63 - 1}')),
    "jsonl-past-int64": ("posts/a.jsonl", record(series="S", series_index=2**64)),
}


@pytest.mark.usefixtures("on_state")
@pytest.mark.parametrize("case", list(INDEXES))
def test_a_series_index_out_of_range_is_ignored_with_a_warning(
    site: Site, write: Write, case: str
) -> None:
    """A series_index past 1,000,000 (or below 0) warns at path:1 and is dropped: the post
    takes its place in the series by date, and the build succeeds on both databases."""
    settings, where = write_source(site, write, *INDEXES[case])
    [warning] = [f for f in check(settings) if "series_index" in f.message]
    assert (warning.severity, warning.location) == ("warning", where)
    assert "not between 0 and 1000000" in warning.message
    build(settings)
    [post] = catalog_json(settings)
    assert (post["series"], post["series_index"]) == ("S", 1)
    assert_feeds_parse(output(settings))


@pytest.mark.parametrize("index", ['"²"', f'"{"9" * 5000}"'], ids=["superscript", "5000-digits"])
def test_a_series_index_int_cannot_read_is_an_error_not_a_traceback(
    site: Site, write: Write, index: str
) -> None:
    """A digit int() refuses (²), or more digits than it reads, is a front matter error."""
    post = yaml_post(f"series: S\nseries_index: {index}")
    settings, where = write_source(site, write, "posts/a.md", post)
    [error] = [f for f in check(settings) if f.severity == "error"]
    assert error.location == where
    assert "'series_index' must be a number" in error.message


# --- the command line ----------------------------------------------------------------


def test_build_and_check_from_the_command_line(site: Site, write: Write, tmp_path: Path) -> None:
    """`gazette build` on an escaped NUL exits 0 without a traceback; `check` shows path:1."""
    write("posts/a.md", YAML_POST.lstrip("\n"))
    site(SOURCE.format(extension="md", format="markdown"))
    command = ["gazette", "--config", str(tmp_path / "gazette.toml")]
    for name in ("build", "check"):
        result = subprocess.run(
            [*command, name], capture_output=True, text=True, cwd=tmp_path, check=False, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    assert "posts/a.md:1: warning: 'title' contains the character U+0000" in result.stdout

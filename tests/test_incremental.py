"""Incremental syncs: random edits, additions, renames and removals of source files between
syncs leave the catalog exactly as syncs that read every file again make it."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from sqlalchemy import event, select

from gazette.catalog import incremental as incremental_module
from gazette.catalog import sources as sources_module
from gazette.catalog import sync as sync_module
from gazette.catalog.incremental import SourceFiles
from gazette.catalog.survey import RACY_SECONDS
from gazette.catalog.sync import SyncReport, sync_catalog
from gazette.catalog.tables import posts, source_files
from gazette.config import Settings, load_settings
from gazette.store import Store

from .conftest import NOW, SITE, new_database

# Examples per run: `GAZETTE_PROPERTY_EXAMPLES=3000 pytest tests/test_incremental.py`
# for a long run.
EXAMPLES = int(os.environ.get("GAZETTE_PROPERTY_EXAMPLES", "60"))
SOURCES = """
[[sources]]
path = "posts/*.md"
format = "markdown"
optional = true

[[sources]]
path = "pages/*.txt"
format = "listing"
year = 2024
optional = true
"""
# Few titles, dates, slugs and bodies, so that posts collide: duplicates across files,
# shared titles and slugs, series, an edit that makes two posts one.
TITLES = ["Alpha", "Beta", "梯度下降漫谈(一)", "梯度下降漫谈(二)", "Gamma"]
DATES = ["2024-01-05", "2024-03-14", "2024-03-14T08:00:00+08:00"]
DAYS = ["5 Jan", "14 Mar", "2 Nov"]
TAGS = ["math", "ml", "notes"]
BODIES = [
    "设损失函数为$L(\\theta)$,有$\\nabla L$。",
    "A plain paragraph with $x^2$ and $$\\frac{1}{2}$$.",
    "Text with a [link](https://example.org/) and *emphasis*.",
    "第二段:$\\Vert x \\Vert^2 \\le 1$。",
]
NAMES = [f"p{n}" for n in range(6)]


@dataclass(frozen=True)
class Op:
    """One change to the site's files (see ``_apply``)."""

    kind: str
    name: str
    content: str = ""
    other: str = ""


@dataclass(frozen=True)
class Pool:
    """What random files are made of."""

    titles: list[str]
    slugs: list[str]
    bodies: list[str]


CROWDED = Pool(TITLES, ["", "", "", "shared-slug", "alpha"], BODIES)
# Many titles, bodies and slugs: most changes reach no other post, so most syncs plan the
# changed files alone (gazette.catalog.changed); now and then a collision still happens.
SPARSE = Pool(
    [*(f"Note {n}" for n in range(40)), "Alpha", "Gamma"],
    ["", "", "", "", "", "note-3", "note-3-2", "alpha"],
    [*BODIES, *(f"Paragraph {n} with $x_{{{n}}}$." for n in range(40))],
)


def markdown_posts(pool: Pool) -> st.SearchStrategy[str]:
    return st.builds(
        lambda title, date, tags, slug, body, broken: (
            "---\n"
            + (f'title: "{title}"\n' if title else "")
            + f"date: {date}\n"
            + f"tags: [{', '.join(tags)}]\n"
            + (f"slug: {slug}\n" if slug else "")
            + ("tags: [unclosed\n" if broken else "")
            + f"---\n\n{body}\n"
        ),
        st.sampled_from(["", *pool.titles]),
        st.sampled_from(DATES),
        st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
        st.sampled_from(pool.slugs),
        st.sampled_from(pool.bodies),
        st.sampled_from([False] * 9 + [True]),  # now and then front matter that is an error
    )


def listing_pages(pool: Pool) -> st.SearchStrategy[str]:
    entries = st.builds(
        lambda day, title, body: (
            f"{day}\n\n" + (f"{title}\n\n" if title else "") + f"{body}\n\n点击阅读全文...\n"
        ),
        st.sampled_from(DAYS),
        st.sampled_from(["", *pool.titles]),
        st.sampled_from(pool.bodies),
    )
    return st.lists(entries, min_size=1, max_size=4).map("\n".join)


paths = st.one_of(
    st.sampled_from(NAMES).map(lambda n: f"posts/{n}.md"),
    st.sampled_from(NAMES).map(lambda n: f"pages/{n}.txt"),
)


def histories(pool: Pool) -> st.SearchStrategy[list[list[Op]]]:
    def write(path: str) -> st.SearchStrategy[Op]:
        content = markdown_posts(pool) if path.endswith(".md") else listing_pages(pool)
        return content.map(lambda text: Op("write", path, text))

    operations = st.one_of(
        paths.flatmap(write),
        paths.map(lambda p: Op("remove", p)),
        st.tuples(paths, paths).map(lambda pair: Op("rename", pair[0], other=pair[1])),
        paths.map(lambda p: Op("touch", p)),
        paths.map(lambda p: Op("same-size edit", p)),
        st.sampled_from([Op("age", ""), Op("age whole seconds", "")]),
    )
    return st.lists(st.lists(operations, min_size=1, max_size=4), min_size=1, max_size=6)


def _apply(folder: Path, op: Op, step: int) -> None:
    path = folder / op.name
    if op.kind == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(op.content, encoding="utf-8")
    elif op.kind == "remove":
        path.unlink(missing_ok=True)
    elif op.kind == "rename" and path.exists() and op.other[-3:] == op.name[-3:]:
        path.rename(folder / op.other)
    elif op.kind == "touch" and path.exists():
        path.touch()
    elif op.kind == "same-size edit" and path.exists():
        # Same size, written at once: the mtime may well be the one of the last read.
        text = path.read_text(encoding="utf-8")
        swapped = (
            text.replace("Alpha", "Gamma", 1)
            if "Alpha" in text
            else text.replace("Gamma", "Alpha", 1)
        )
        path.write_text(swapped, encoding="utf-8")
    elif op.kind.startswith("age"):
        # Every file gets an old, distinct mtime (so the stamps alone are trusted), with or
        # without a fraction of a second (a coarse filesystem).
        fraction = 0 if op.kind.endswith("seconds") else 123_456_789
        for number, found in enumerate(sorted(folder.glob("*/*"))):
            stamp = (1_600_000_000 + step * 100 + number) * 1_000_000_000 + fraction
            os.utime(found, ns=(stamp, stamp))


def _wipe(store: Store) -> None:
    with store.transaction() as connection:
        connection.execute(posts.delete())
        connection.execute(source_files.delete())


class _RolledBack(Exception):
    pass


def _sync(store: Store, site: Settings, step: int, incremental: bool) -> tuple[Any, ...]:
    """A sync as update_catalog makes it (nothing kept when a source has an error), and
    what it reported."""
    now = NOW + timedelta(hours=step)
    report = SyncReport()
    try:
        with store.transaction() as connection:
            report = sync_catalog(site, connection, now, incremental=incremental)
            if report.errors:
                raise _RolledBack
    except _RolledBack:
        pass
    counts = (report.added, report.changed, report.unchanged, report.removed)
    return counts, sorted(map(str, report.findings))


def _catalog(store: Store) -> list[dict[str, Any]]:
    """Every stored post, every field but when a sync last read its file."""
    columns = [c for c in posts.c if c.name != "last_seen"]
    with store.transaction() as connection:
        rows = connection.execute(select(*columns).order_by(posts.c.id))
        return [dict(row._mapping) for row in rows]


def _differences(stored: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {k: (v, expected[k]) for k, v in stored.items() if v != expected[k]}


@pytest.fixture
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two empty state databases of one kind: one synced incrementally, one not."""
    with ExitStack() as stack:
        urls = [f"sqlite:///{tmp_path / 'incremental.db'}", f"sqlite:///{tmp_path / 'full.db'}"]
        if request.param == "postgresql":
            admin = request.getfixturevalue("postgres_admin")
            urls = [
                request.getfixturevalue("postgres_url"),
                stack.enter_context(new_database(admin)),
            ]
        pair = (Store(urls[0]), Store(urls[1]))
        yield pair
        for store in pair:
            store.close()


@pytest.mark.slow
@pytest.mark.parametrize("pool", [CROWDED, SPARSE], ids=["crowded", "sparse"])
@pytest.mark.parametrize("stores", ["sqlite", "postgresql"], indirect=True)
def test_incremental_catalog_equals_full_reads(stores: tuple[Store, Store], pool: Pool) -> None:
    """After any history of edits, additions, renames and removals, the catalog an
    incremental sync keeps (ids, every field, rendered HTML) and what each sync reports
    are those of syncs that read every file."""
    incremental, full = stores

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(histories(pool))
    def check(history: list[list[Op]]) -> None:
        _wipe(incremental)
        _wipe(full)
        with tempfile.TemporaryDirectory() as temp:
            folder = Path(temp)
            (folder / "gazette.toml").write_text(SITE + SOURCES, encoding="utf-8")
            site = load_settings(folder / "gazette.toml")
            for step, ops in enumerate(history):
                for op in ops:
                    note(f"step {step}: {op.kind} {op.name} {op.other} {op.content!r}")
                    _apply(folder, op, step)
                reported = _sync(incremental, site, step, incremental=True)
                assert reported == _sync(full, site, step, incremental=False)
                stored, expected = _catalog(incremental), _catalog(full)
                pairs = zip(stored, expected, strict=False)  # the lengths are compared next
                assert [_differences(a, b) for a, b in pairs] == [{}] * len(expected)
                assert stored == expected

    check()


@contextmanager
def _parses() -> Iterator[list[list[str]]]:
    """The names of the files (or URLs) each sync parses: a list per sync, opened by
    appending an empty one."""
    parsed: list[list[str]] = []
    original = SourceFiles._parsed

    def counting(self: SourceFiles, key: Any, *args: Any) -> None:
        parsed[-1].append(Path(key[1]).name)
        original(self, key, *args)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(SourceFiles, "_parsed", counting)
        yield parsed


def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    """A second sync of unchanged files parses none of them; an edited one is parsed again."""
    folder = tmp_path
    (folder / "posts").mkdir()
    for name in NAMES[:3]:
        (folder / "posts" / f"{name}.md").write_text(
            f"---\ntitle: {name}\ndate: 2024-01-05\n---\n\nBody of {name}.\n", encoding="utf-8"
        )
    (folder / "gazette.toml").write_text(SITE + SOURCES, encoding="utf-8")
    site = load_settings(folder / "gazette.toml")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    with _parses() as parsed:
        for step in range(3):
            if step == 2:
                (folder / "posts" / "p1.md").write_text(
                    "---\ntitle: p1\ndate: 2024-01-05\n---\n\nA new body.\n", encoding="utf-8"
                )
            parsed.append([])
            # Files written this second are compared by content; these are old enough.
            for found in (folder / "posts").glob("*.md"):
                if step < 2 or found.name != "p1.md":
                    os.utime(found, ns=(1_600_000_000_123_456_789,) * 2)
            with store.transaction() as connection:
                sync_catalog(site, connection, NOW + timedelta(hours=step))
    assert parsed == [["p0.md", "p1.md", "p2.md"], [], ["p1.md"]]


def test_a_file_record_is_deleted_only_when_one_is_stored(tmp_path: Path) -> None:
    """A first sync inserts its files' records without a delete for each; a sync after
    an edit replaces the edited file's record alone."""
    site, store = _three_posts(tmp_path)
    deletes: list[str] = []

    def note_delete(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM SOURCE_FILES"):
            deletes.append(statement)

    event.listen(store.engine, "before_cursor_execute", note_delete)
    with store.transaction() as connection:
        sync_catalog(site, connection, NOW)
    assert deletes == []
    (tmp_path / "posts" / "p1.md").write_text("---\ntitle: p1\ndate: 2024-01-05\n---\n\nNew.\n")
    with store.transaction() as connection:
        sync_catalog(site, connection, NOW + timedelta(hours=1))
        paths = sorted(row.path for row in connection.execute(select(source_files.c.path)))
    assert len(deletes) == 1
    assert [Path(path).name for path in paths] == ["p0.md", "p1.md", "p2.md"]


def test_a_feed_url_answering_the_same_body_is_not_parsed_again(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A feed fetched by URL whose body is the one the last sync read (a 304, or the same
    bytes) is not parsed again; a new body is."""
    entry = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Blog</title><id>urn:blog</id><updated>2024-05-02T00:00:00Z</updated>"
        "<entry><title>{title}</title><id>tag:blog.example.org,2024:a1</id>"
        "<published>2024-05-01T09:00:00Z</published><updated>2024-05-02T00:00:00Z</updated>"
        '<content type="html">Body.</content></entry></feed>'
    )
    url = httpserver.url_for("/feed.xml")
    source = f'[[sources]]\npath = "{url}"\nformat = "feed"\n'
    (tmp_path / "gazette.toml").write_text(SITE + source, encoding="utf-8")
    site = load_settings(tmp_path / "gazette.toml")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    with _parses() as parsed:
        for step, title in enumerate(["First", "First", "Second"]):
            httpserver.clear()
            httpserver.expect_request("/feed.xml").respond_with_data(
                entry.format(title=title), content_type="application/atom+xml"
            )
            parsed.append([])
            with store.transaction() as connection:
                report = sync_catalog(site, connection, NOW + timedelta(hours=step))
            assert not report.errors
    assert parsed == [["feed.xml"], [], ["feed.xml"]]
    with store.transaction() as connection:
        assert [row.title for row in connection.execute(select(posts.c.title))] == ["Second"]


@contextmanager
def _planned() -> Iterator[list[int]]:
    """How many posts each sync plans (matches to records), a number per sync."""
    counts: list[int] = []
    original = sync_module._plan

    def counting(merged: list[Any], *args: Any) -> Any:
        counts.append(len(merged))
        return original(merged, *args)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sync_module, "_plan", counting)
        yield counts


def test_a_change_that_reaches_no_other_post_plans_its_own_posts_alone(tmp_path: Path) -> None:
    """Editing one of many posts, or adding one, plans that post alone; a new post that
    shares a title with another plans every post again; the catalog stays the full one."""
    (tmp_path / "posts").mkdir()
    for number in range(12):
        (tmp_path / "posts" / f"p{number}.md").write_text(
            f"---\ntitle: Post {number}\ndate: 2024-01-{number + 1:02d}\n---\n\nBody {number}.\n",
            encoding="utf-8",
        )
    (tmp_path / "gazette.toml").write_text(SITE + SOURCES, encoding="utf-8")
    site = load_settings(tmp_path / "gazette.toml")
    store, full = (Store(f"sqlite:///{tmp_path / name}") for name in ("state.db", "full.db"))
    changes = [
        ("p3.md", "---\ntitle: Post 3, revised\ndate: 2024-01-04\n---\n\nBody 3.\n"),
        ("p12.md", "---\ntitle: Post 12\ndate: 2024-02-01\n---\n\nBody 12.\n"),
        ("p13.md", "---\ntitle: Post 5\ndate: 2024-02-02\n---\n\nAnother body.\n"),
    ]
    with _planned() as planned:
        for step, (name, text) in enumerate([("", ""), *changes]):
            if name:
                (tmp_path / "posts" / name).write_text(text, encoding="utf-8")
            reported = _sync(store, site, step, incremental=True)
            assert reported == _sync(full, site, step, incremental=False)
    assert planned[::2] == [12, 1, 1, 14]  # a full sync plans every post in between
    assert _catalog(store) == _catalog(full)


def test_file_records_stored_as_a_sync_goes_are_kept_only_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first sync that stores its file records two at a time stores every file's; one
    that fails after storing some keeps none, and the next sync reads every file again."""
    (tmp_path / "posts").mkdir()
    for name in NAMES[:5]:
        (tmp_path / "posts" / f"{name}.md").write_text(
            f"---\ntitle: {name}\ndate: 2024-01-05\n---\n\nBody of {name}.\n", encoding="utf-8"
        )
        os.utime(tmp_path / "posts" / f"{name}.md", ns=(1_600_000_000_123_456_789,) * 2)
    (tmp_path / "gazette.toml").write_text(SITE + SOURCES, encoding="utf-8")
    site = load_settings(tmp_path / "gazette.toml")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setattr(incremental_module, "STORED_AT_ONCE", 2)

    syncing: list[Any] = []
    stored_while_reading: list[int] = []

    def records(connection: Any) -> list[str]:
        paths = connection.execute(select(source_files.c.path))
        return sorted(Path(path).name for (path,) in paths)

    def failing_plan(*args: Any) -> Any:
        stored_while_reading.append(len(records(syncing[0])))
        raise RuntimeError("the disk is full")

    def failing_sync() -> None:
        with store.transaction() as connection:
            syncing.append(connection)
            sync_catalog(site, connection, NOW)

    with monkeypatch.context() as failing:
        failing.setattr(sync_module, "_plan", failing_plan)
        with pytest.raises(RuntimeError):
            failing_sync()
    assert stored_while_reading == [4]  # the fifth is held until the sync ends
    with store.transaction() as connection:
        assert records(connection) == []
    with _parses() as parsed:
        for step in range(2):
            parsed.append([])
            with store.transaction() as connection:
                sync_catalog(site, connection, NOW + timedelta(hours=step))
    assert parsed == [[f"{name}.md" for name in NAMES[:5]], []]
    with store.transaction() as connection:
        assert records(connection) == [f"{name}.md" for name in NAMES[:5]]


def _three_posts(folder: Path) -> tuple[Settings, Store]:
    (folder / "posts").mkdir()
    for name in NAMES[:3]:
        post = folder / "posts" / f"{name}.md"
        post.write_text(f"---\ntitle: {name}\ndate: 2024-01-05\n---\n\nBody of {name}.\n")
    (folder / "gazette.toml").write_text(SITE + SOURCES, encoding="utf-8")
    return load_settings(folder / "gazette.toml"), Store(f"sqlite:///{folder / 'state.db'}")


def _written_now(folder: Path) -> None:
    """Every post's mtime now: racy to a sync in the next RACY_SECONDS."""
    for post in (folder / "posts").glob("*.md"):
        os.utime(post)


PAST_RACY = RACY_SECONDS + 0.2  # waited for a file written now to be racy no longer


@contextmanager
def _loads() -> Iterator[list[list[str]]]:
    """The names of the source files each sync loads, a list per sync (each sync appends
    its own list first)."""
    loaded: list[list[str]] = []
    file_bytes = sources_module._file_bytes

    def counting(settings: Settings, path: str, shown: str) -> bytes | Any:
        loaded[-1].append(Path(path).name)
        return file_bytes(settings, path, shown)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sources_module, "_file_bytes", counting)
        yield loaded


def test_a_file_written_just_before_a_sync_is_compared_by_its_bytes_once(
    tmp_path: Path,
) -> None:
    """Files written just before a sync are read again by the next one (their mtime cannot
    tell an edit apart yet), which finds them unchanged and says so: the sync after that
    trusts their mtime and reads none of them."""
    site, store = _three_posts(tmp_path)
    with _parses() as parsed, _loads() as loaded:
        _written_now(tmp_path)
        for step in range(3):
            loaded.append([])
            parsed.append([])
            with store.transaction() as connection:
                sync_catalog(site, connection, NOW + timedelta(hours=step))
            time.sleep(PAST_RACY if step == 0 else 0)
    names = [f"{name}.md" for name in NAMES[:3]]
    assert parsed == [names, [], []]
    assert loaded == [names, names, []]


def test_a_sync_that_outlasts_the_racy_window_settles_the_files_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync that ends long enough after its files were written compares them by their
    bytes once more, and the next sync trusts their mtime; a file rewritten during the
    sync with its size and mtime kept is not trusted, and the next sync reads it."""
    site, store = _three_posts(tmp_path)
    plan = sync_module._plan
    rewritten = tmp_path / "posts" / "p1.md"

    def slow_plan(*args: Any) -> Any:
        looked = rewritten.stat()
        rewritten.write_text(rewritten.read_text(encoding="utf-8").replace("p1\n", "P1\n"))
        os.utime(rewritten, ns=(looked.st_atime_ns, looked.st_mtime_ns))
        time.sleep(PAST_RACY)  # the sync ends when the files it read are no longer racy
        return plan(*args)

    with _parses() as parsed, _loads() as loaded:
        _written_now(tmp_path)
        for step in range(3):
            loaded.append([])
            parsed.append([])
            with monkeypatch.context() as slow:
                if step == 0:
                    slow.setattr(sync_module, "_plan", slow_plan)
                with store.transaction() as connection:
                    sync_catalog(site, connection, NOW + timedelta(hours=step))
    names = [f"{name}.md" for name in NAMES[:3]]
    assert parsed == [names, ["p1.md"], []]
    assert loaded == [names * 2, ["p1.md"], []]
    assert "P1" in [post["title"] for post in _catalog(store)]

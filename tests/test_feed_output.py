"""The output folder: byte-stable, atomic, pruned; RFC 5005 pages that stay put; WebSub."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from gazette.config import Settings, load_settings
from gazette.feeds import build as feeds_build
from gazette.feeds import workers as feeds_workers

from .conftest import ROOT
from .feedkit import ATOM, build, example_settings, output, snapshot, watch_workers

Site = Callable[..., Settings]
Write = Callable[[str, str | bytes], Path]
HISTORY = "{http://purl.org/syndication/history/1.0}"


def test_building_twice_changes_no_byte_and_no_mtime(tmp_path: Path) -> None:
    """A second build with nothing changed writes nothing: bytes and mtimes stay."""
    settings = example_settings(tmp_path)
    first = build(settings)
    before = snapshot(output(settings))
    again = build(settings)
    assert again.written == []
    assert again.removed == []
    assert again.kept == len(first.written) == len(before)
    assert snapshot(output(settings)) == before


def test_a_build_that_keeps_every_file_leaves_their_records_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records of the output folder's files are stored again only when one changed."""
    settings = example_settings(tmp_path)
    saved: list[int] = []
    original = feeds_build.save_feed_files

    def counting(connection: object, records: dict[str, object]) -> None:
        saved.append(len(records))
        original(connection, records)  # type: ignore[arg-type]

    monkeypatch.setattr(feeds_build, "save_feed_files", counting)
    first = build(settings)
    build(settings)
    assert saved == [len(first.written)]
    (output(settings) / "feed.xml").write_bytes(b"changed by hand")
    assert build(settings).written == ["feed.xml"]
    assert saved == [len(first.written)] * 2


def test_a_fresh_state_database_rebuilds_the_same_bytes(tmp_path: Path) -> None:
    """Lost build records mean rendering again, but identical bytes keep their mtime."""
    settings = example_settings(tmp_path)
    build(settings)
    before = snapshot(output(settings))
    (tmp_path / "state.db").unlink()
    report = build(settings)
    assert report.written == []
    assert snapshot(output(settings)) == before


def test_an_edited_file_is_rewritten(tmp_path: Path) -> None:
    """A feed changed by hand on disk is noticed and restored."""
    settings = example_settings(tmp_path)
    build(settings)
    feed = output(settings) / "atom.xml"
    original = feed.read_bytes()
    feed.write_bytes(b"broken")
    assert build(settings).written == ["atom.xml"]
    assert feed.read_bytes() == original


def _markdown(write: Write, name: str, date: str, tags: str = "t") -> None:
    write(
        f"posts/{name}.md",
        f"---\ntitle: {name}\ndate: {date}\ntags: [{tags}]\n---\nText of {name}.\n",
    )


def _site(site: Site, feeds: str = "") -> Settings:
    return site(
        '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n',
        f'[feeds]\noutput = "public"\narchive_size = 4\n{feeds}',
    )


def _built(site: Site, write: Write, days: int) -> Settings:
    """A site of ``days`` posts, one a day from 2024-03-01, built."""
    for day in range(1, days + 1):
        _markdown(write, f"p{day}", f"2024-03-0{day}")
    settings = _site(site)
    build(settings)
    return settings


def test_archive_pages_rendered_by_workers_are_the_bytes_rendered_here(
    site: Site, write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many archive pages are rendered by worker processes, each reading its pages' posts
    from the state database itself: the same bytes the build's own process renders."""
    for day in range(1, 10):
        _markdown(write, f"p{day}", f"2024-03-0{day}", tags="t, 数学")
    settings = site(
        '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n',
        '[feeds]\noutput = "public"\narchive_size = 2\n',
    )
    monkeypatch.setattr(feeds_workers, "PARALLEL_PAGES", 10**6)
    build(settings)
    here = {path: data for path, (data, _) in snapshot(output(settings)).items()}
    shutil.rmtree(output(settings))
    shutil.rmtree(tmp_path / "state")  # no build records either: every page is rendered
    workers = watch_workers(monkeypatch)
    build(settings)
    assert workers.started == [5]
    assert workers.fell_back == []
    assert {path: data for path, (data, _) in snapshot(output(settings)).items()} == here
    assert len([path for path in here if path.startswith("archive/")]) == 5


def test_pages_a_worker_cannot_read_are_rendered_by_the_build(tmp_path: Path) -> None:
    """A worker that cannot open the state database (here: a server that refuses every
    connection) leaves its page, and those after it, to the build's own process: every
    page still comes, in order."""
    environ = {
        "GAZETTE_STATE_DATABASE": "postgresql://gazette:unused@127.0.0.1:1/gazette",
        "GAZETTE_FEEDS_OUTPUT": str(tmp_path / "public"),
    }
    settings = load_settings(ROOT / "config" / "gazette.toml", environ=environ)
    jobs = [
        feeds_workers.PageJob(f"page {n}", f"archive/{n}.xml", (), (), "archive")
        for n in range(1, 6)
    ]
    with feeds_workers.rendered_elsewhere(settings, jobs, lambda job: job.path.encode()) as pages:
        assert list(pages) == [job.path.encode() for job in jobs]


def test_archive_pages_follow_rfc_5005(site: Site, write: Write) -> None:
    """Pages of archive_size from the oldest, linked prev/next/current, marked fh:archive."""
    settings = _built(site, write, 7)
    folder = output(settings)
    page1 = etree.parse(str(folder / "archive/1.xml")).getroot()
    page2 = etree.parse(str(folder / "archive/2.xml")).getroot()
    assert [e.findtext(f"{ATOM}title") for e in page1.iter(f"{ATOM}entry")] == [
        "p4",
        "p3",
        "p2",
        "p1",
    ]
    assert [e.findtext(f"{ATOM}title") for e in page2.iter(f"{ATOM}entry")] == ["p7", "p6", "p5"]
    assert page1.find(f"{HISTORY}archive") is not None

    def links(root: etree._Element) -> dict[str, str]:
        return {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}

    base = "https://test.example.org/"
    assert links(page1)["next-archive"] == base + "archive/2.xml"
    assert "prev-archive" not in links(page1)
    assert links(page2)["prev-archive"] == base + "archive/1.xml"
    assert links(page2)["current"] == base + "atom.xml"
    main = etree.parse(str(folder / "atom.xml")).getroot()
    assert links(main)["prev-archive"] == base + "archive/2.xml"
    assert feedparser.parse((folder / "archive/2.xml").read_bytes()).bozo == 0


def test_a_lone_archive_page_is_marked_complete_with_no_archive_links(
    site: Site, write: Write
) -> None:
    """One page holding every post is an RFC 5005 complete feed: fh:complete, no fh:archive,
    and none of the links the W3C validator rejects or misses in a complete feed."""
    settings = _built(site, write, 3)
    page = etree.parse(str(output(settings) / "archive/1.xml")).getroot()
    assert page.find(f"{HISTORY}complete") is not None
    assert page.find(f"{HISTORY}archive") is None
    rels = {link.get("rel") for link in page.findall(f"{ATOM}link")}
    assert rels == {"self", "alternate"}
    assert page.index(page.find(f"{HISTORY}complete")) < page.index(page.find(f"{ATOM}entry"))
    _markdown(write, "p4", "2024-03-04")
    _markdown(write, "p5", "2024-03-05")
    build(settings)
    page = etree.parse(str(output(settings) / "archive/1.xml")).getroot()
    assert page.find(f"{HISTORY}archive") is not None
    assert page.find(f"{HISTORY}complete") is None


def test_the_author_of_archive_pages_and_tag_feeds_is_the_site(site: Site, write: Write) -> None:
    """With no site.author, every Atom document names the site's title, not its own title."""
    folder = output(_built(site, write, 5))
    for name in ("archive/1.xml", "archive/2.xml", "tags/t/atom.xml", "atom.xml"):
        root = etree.parse(str(folder / name)).getroot()
        assert root.findtext(f"{ATOM}author/{ATOM}name") == "Test Site", name


def test_a_new_post_rewrites_only_the_current_archive_page(site: Site, write: Write) -> None:
    """A full page never changes: adding a post touches the last page, not the others."""
    for day in range(1, 7):
        _markdown(write, f"p{day}", f"2024-03-0{day}")
    settings = _site(site, "tag_feeds = false\n")
    build(settings)
    before = snapshot(output(settings))
    _markdown(write, "p7", "2024-03-07")
    report = build(settings)
    assert sorted(report.written) == [
        "archive/2.xml",
        "atom.xml",
        "feed.json",
        "feed.xml",
        "index.html",
    ]
    assert snapshot(output(settings))["archive/1.xml"] == before["archive/1.xml"]


def test_files_of_a_vanished_tag_are_removed(site: Site, write: Write) -> None:
    """When no post has a tag any more, its feeds and folder go; other files stay."""
    _markdown(write, "a", "2024-03-01", "keep")
    _markdown(write, "b", "2024-03-02", "gone")
    settings = _site(site)
    (output(settings) / "tags").mkdir(parents=True)
    (output(settings) / "robots.txt").write_text("User-agent: *\n")
    build(settings)
    assert (output(settings) / "tags/gone/atom.xml").exists()
    _markdown(write, "b", "2024-03-02", "keep")
    report = build(settings)
    assert report.removed == ["tags/gone/atom.xml", "tags/gone/feed.json", "tags/gone/feed.xml"]
    assert not (output(settings) / "tags/gone").exists()
    assert (output(settings) / "robots.txt").exists()  # not ours: never removed


def test_a_failed_build_leaves_the_previous_feeds(
    tmp_path: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error while rendering leaves every old file as it was, and no temporary file."""
    settings = example_settings(tmp_path)
    build(settings)
    before = snapshot(output(settings))
    calls = 0

    def failing_atom(document: object) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk on fire")
        return real_atom(document)  # type: ignore[arg-type]

    real_atom = feeds_build.render_atom
    monkeypatch.setattr(feeds_build, "render_atom", failing_atom)
    monkeypatch.setitem(feeds_build.RENDERERS, "atom.xml", failing_atom)
    settings = example_settings(tmp_path, entries="3")  # every feed changes
    with pytest.raises(RuntimeError):
        build(settings)
    assert snapshot(output(settings)) == before
    assert not [p for p in output(settings).rglob(".*") if p.name.endswith(".gazette-tmp")]


KILLER = """\
import os, signal, sys
from gazette.feeds import output
from tests.feedkit import build, example_settings
from pathlib import Path

stage = sys.argv[2]
real_replace = os.replace
count = 0

def replace_then_die(source, target):
    global count
    real_replace(source, target)
    count += 1
    if count == 2:
        os.kill(os.getpid(), signal.SIGKILL)

def stage_then_die(self, path, data, key):
    real_stage(self, path, data, key)
    if len(self.staged) == 3:
        os.kill(os.getpid(), signal.SIGKILL)

real_stage = output.OutputFolder.stage
if stage == "rename":
    output.os.replace = replace_then_die
else:
    output.OutputFolder.stage = stage_then_die
build(example_settings(Path(sys.argv[1]), entries="2"))
"""


@pytest.mark.parametrize("moment", ["render", "rename"])
def test_a_killed_build_leaves_complete_feeds(tmp_path: Path, moment: str) -> None:
    """SIGKILL while rendering or while renaming: every feed on disk is whole, old or new,
    and the next build finishes the job."""
    settings = example_settings(tmp_path)
    build(settings)
    before = snapshot(output(settings))
    script = tmp_path / "killer.py"
    script.write_text(textwrap.dedent(KILLER))
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    child = subprocess.run(
        [sys.executable, str(script), str(tmp_path), moment], env=env, capture_output=True
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    after = snapshot(output(settings))
    assert set(after) == set(before)
    changed = [path for path in after if after[path][0] != before[path][0]]
    assert len(changed) == (0 if moment == "render" else 2)
    for path, (data, _mtime) in after.items():
        if path.endswith(".xml"):
            etree.fromstring(data)  # whole, well-formed XML
    finished = build(example_settings(tmp_path, entries="2"))
    assert finished.written
    assert not list(output(settings).rglob("*.gazette-tmp"))


def test_websub_pings_only_the_feeds_that_changed(
    site: Site, write: Write, httpserver: HTTPServer
) -> None:
    """Every feed names the hub; a build pings it for changed feeds, and not again."""
    pinged: list[dict[str, str]] = []

    def hub(request: Request) -> Response:
        pinged.append(dict(request.form))
        return Response("", status=204)

    httpserver.expect_request("/hub", method="POST").respond_with_handler(hub)
    hub_url = httpserver.url_for("/hub")
    _markdown(write, "a", "2024-03-01", "x")
    settings = _site(site, f'websub_hub = "{hub_url}"\narchives = false\n')
    build(settings)
    base = "https://test.example.org/"
    assert {p["hub.url"] for p in pinged} == {
        base + path for path in ("feed.xml", "atom.xml", "feed.json")
    } | {base + f"tags/x/{name}" for name in ("feed.xml", "atom.xml", "feed.json")}
    assert {p["hub.mode"] for p in pinged} == {"publish"}
    folder = output(settings)
    assert f'href="{hub_url}" rel="hub"' in (folder / "atom.xml").read_text()
    assert f'rel="hub" href="{hub_url}"' in (folder / "feed.xml").read_text()
    assert hub_url in (folder / "feed.json").read_text()
    pinged.clear()
    build(settings)
    assert pinged == []


def test_a_hub_that_fails_is_retried_then_only_a_warning(
    site: Site, write: Write, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """5xx answers are retried; a hub down for good costs a warning, not the build."""
    monkeypatch.setattr("gazette.feeds.websub.RETRY_WAIT", 0.01)
    httpserver.expect_ordered_request("/hub").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hub").respond_with_data("", status=204)
    httpserver.expect_request("/hub").respond_with_data("down", status=500)
    _markdown(write, "a", "2024-03-01")
    settings = _site(
        site, f'websub_hub = "{httpserver.url_for("/hub")}"\narchives = false\ntag_feeds = false\n'
    )
    report = build(settings)
    assert len(report.written) == 4  # three feeds and the index
    assert len(report.warnings) == 2  # the first feed got through on its second try
    assert "HTTP 500 after 3 attempts" in report.warnings[0]
    assert (output(settings) / "atom.xml").exists()


def test_the_output_folder_holds_only_what_is_published(tmp_path: Path) -> None:
    """The build's lock file sits beside the output folder, so a second build that changes
    nothing leaves the folder exactly as it was, hidden files included."""
    settings = example_settings(tmp_path)
    build(settings)
    folder = output(settings)
    hidden = [p.name for p in folder.rglob(".*")]
    first = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    build(settings)
    assert hidden == []
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == first
    assert (folder.parent / f".{folder.name}.gazette-build.lock").exists()


def test_a_glob_that_matches_nothing_fails_the_build_and_keeps_the_feeds(tmp_path: Path) -> None:
    """A typo in a source's glob is an error naming it; every feed stays as it was, byte
    for byte, instead of being emptied."""
    original = (ROOT / "config" / "gazette.toml").read_text(encoding="utf-8")
    settings = example_settings(tmp_path)
    build(settings)
    before = snapshot(output(settings))
    typo = original.replace('"../example/posts/*.md"', '"../example/post/*.md"')
    assert typo != original
    broken = tmp_path / "typo.toml"
    broken.write_text(typo.replace("../example/", f"{ROOT}/example/"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "gazette", "--config", str(broken), "build"],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "GAZETTE_STATE_DATABASE": f"sqlite:///{tmp_path}/state.db",
             "GAZETTE_FEEDS_OUTPUT": str(output(settings))},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout
    assert "example/post/*.md' matches no file" in result.stderr
    assert "optional = true" in result.stderr
    assert snapshot(output(settings)) == before

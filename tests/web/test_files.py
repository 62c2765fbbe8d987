"""The output folder as the real `gazette serve` answers it: types, validators, 304s,
gzip, HEAD, folders, and nothing outside the folder."""

from __future__ import annotations

import gzip
import os
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from .conftest import BIG_FILE_SIZE, Served, raw_get

RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
HTML = "text/html; charset=utf-8"
IDENTITY = {"Accept-Encoding": "identity"}


def built_files(served: Served) -> list[str]:
    """Every file the build wrote (no dotfiles, no symlinks, none the tests added)."""
    added = {"big.txt", "issues/1/index.html"}
    found = []
    for path in sorted(served.output.rglob("*")):
        relative = path.relative_to(served.output).as_posix()
        hidden = any(part.startswith(".") for part in relative.split("/"))
        if path.is_file() and not path.is_symlink() and not hidden and relative not in added:
            found.append(relative)
    return found


def first_folder(served: Served, kind: str) -> str:
    return sorted(p.name for p in (served.output / kind).iterdir())[0]


def expected_type(relative: str) -> str:
    name = relative.rpartition("/")[2]
    if name == "feed.xml":
        return RSS
    if name == "atom.xml" or relative.startswith("archive/"):
        return ATOM
    return JSON_FEED if name == "feed.json" else HTML


def test_the_build_wrote_every_kind_of_file(served: Served) -> None:
    """The served site has main, tag and series feeds, archive pages and index.html."""
    files = built_files(served)
    assert {"feed.xml", "atom.xml", "feed.json", "index.html", "archive/1.xml"} <= set(files)
    assert any(f.startswith("tags/") for f in files)
    assert any(f.startswith("series/") for f in files)


def test_every_file_has_its_type_bytes_and_strong_validators(
    served: Served, client: httpx.Client
) -> None:
    """Each built file comes back byte for byte with its Content-Type (charset
    included), a strong ETag and its mtime as Last-Modified."""
    for relative in built_files(served):
        answer = client.get(f"/{relative}", headers=IDENTITY)
        assert answer.status_code == 200, relative
        assert answer.headers["content-type"] == expected_type(relative), relative
        assert answer.content == (served.output / relative).read_bytes()
        assert answer.headers["etag"].startswith('"'), "a strong ETag has no W/"
        mtime = (served.output / relative).stat().st_mtime
        assert answer.headers["last-modified"] == formatdate(mtime, usegmt=True)


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_every_file_answers_304_to_its_own_validators(
    served: Served, client: httpx.Client, encoding: str
) -> None:
    """If-None-Match with the ETag, or If-Modified-Since with Last-Modified, gives a
    304 without a body that repeats the ETag, for every file and either encoding."""
    for relative in built_files(served):
        asked = {"Accept-Encoding": encoding}
        first = client.get(f"/{relative}", headers=asked)
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        again = client.get(f"/{relative}", headers={**asked, "If-None-Match": etag})
        assert (again.status_code, again.content) == (304, b""), relative
        assert again.headers["etag"] == etag
        weak = client.get(f"/{relative}", headers={**asked, "If-None-Match": f"W/{etag}"})
        assert weak.status_code == 304, "If-None-Match compares weakly"
        listed = client.get(f"/{relative}", headers={**asked, "If-None-Match": f'"x", {etag}'})
        assert listed.status_code == 304
        since = client.get(f"/{relative}", headers={**asked, "If-Modified-Since": modified})
        assert since.status_code == 304, relative


def test_if_none_match_wins_over_if_modified_since(client: httpx.Client) -> None:
    """RFC 9110: a stale ETag gives 200 even with a fresh date; a matching one 304 even
    with an old date."""
    etag = client.get("/atom.xml").headers["etag"]
    future = formatdate(4102444800, usegmt=True)  # 2100
    stale = client.get("/atom.xml", headers={"If-None-Match": '"old"', "If-Modified-Since": future})
    assert stale.status_code == 200
    past = formatdate(0, usegmt=True)
    fresh = client.get("/atom.xml", headers={"If-None-Match": etag, "If-Modified-Since": past})
    assert fresh.status_code == 304


def test_an_older_date_or_a_bad_one_gives_the_file(client: httpx.Client) -> None:
    """If-Modified-Since before the file's mtime, or unparsable, gives a 200."""
    for since in (formatdate(0, usegmt=True), "yesterday"):
        answer = client.get("/feed.json", headers={"If-Modified-Since": since})
        assert answer.status_code == 200


def test_gzip_when_accepted_with_its_own_etag(served: Served, client: httpx.Client) -> None:
    """Accept-Encoding: gzip gives gzip bytes of the same file under another ETag, with
    Vary; gzip;q=0 or identity give the file as it is."""
    raw = (served.output / "atom.xml").read_bytes()
    with client.stream("GET", "/atom.xml", headers={"Accept-Encoding": "gzip"}) as packed:
        body = b"".join(packed.iter_raw())
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"].lower() == "accept-encoding"
    assert gzip.decompress(body) == raw
    assert int(packed.headers["content-length"]) == len(body) < len(raw)
    for refusal in ("gzip;q=0", "identity", "br"):
        plain = client.get("/atom.xml", headers={"Accept-Encoding": refusal})
        assert "content-encoding" not in plain.headers
        assert plain.headers["vary"].lower() == "accept-encoding"
        assert plain.headers["etag"] != packed.headers["etag"]
    asked = {"Accept-Encoding": "identity", "If-None-Match": packed.headers["etag"]}
    crossed = client.get("/atom.xml", headers=asked)
    assert crossed.status_code == 200, "the gzip ETag does not validate the plain bytes"


def test_head_has_the_headers_and_no_body(client: httpx.Client) -> None:
    """HEAD answers the same status and headers as GET, without the body."""
    for path in ("/atom.xml", "/", "/big.txt"):
        got = client.get(path, headers=IDENTITY)
        head = client.head(path, headers=IDENTITY)
        assert (head.status_code, head.content) == (200, b"")
        for name in ("content-type", "content-length", "etag", "last-modified"):
            assert head.headers[name] == got.headers[name], (path, name)


def test_folders_serve_their_index_and_redirect_without_the_slash(
    served: Served, client: httpx.Client
) -> None:
    """/ and /issues/1/ serve index.html; /issues/1 redirects to 1/ keeping the query;
    a folder without index.html is 404, never a listing."""
    assert client.get("/").content == (served.output / "index.html").read_bytes()
    assert client.get("/").headers["content-type"] == HTML
    assert client.get("/issues/1/").text.startswith("<!DOCTYPE html>")
    moved = client.get("/issues/1?ref=x")
    assert moved.status_code == 301
    assert moved.headers["location"] == "./1/?ref=x"
    assert httpx.URL(f"{served.url}/issues/1").join(moved.headers["location"]).path == "/issues/1/"
    for folder in ("/tags/", "/tags", "/archive/", "/issues/"):
        assert client.get(folder).status_code == 404, folder
    assert client.get("/atom.xml/").status_code == 404


def test_symlinks_inside_the_folder_are_followed(served: Served, client: httpx.Client) -> None:
    """A symlink whose target is inside the folder is served like its target."""
    answer = client.get("/latest.xml", headers=IDENTITY)
    assert answer.status_code == 200
    assert answer.content == (served.output / "atom.xml").read_bytes()


TRAVERSALS = [
    b"/../secret.txt",
    b"/tags/../../secret.txt",
    b"/%2e%2e/secret.txt",
    b"/%2E%2E/secret.txt",
    b"/.%2e/secret.txt",
    b"/%2e%2e%2fsecret.txt",
    b"/tags%2f..%2f..%2fsecret.txt",
    b"/..%2Fsecret.txt",
    b"/..\\secret.txt",
    b"/..%5csecret.txt",
    b"/atom.xml%00.html",
    b"/%00",
    b"/%c0%ae%c0%ae/secret.txt",
    b"//secret.txt",
    b"/./atom.xml",
    b"/.hidden.txt",
    b"/%2ehidden.txt",
    b"/.private/notes.txt",
    b"/.private/",
    b"/leak.txt",
    b"/outside/secret.txt",
    b"/outside/state.db",
]


@pytest.mark.parametrize("target", TRAVERSALS, ids=lambda t: t.decode("latin-1"))
def test_nothing_outside_the_folder_or_hidden_is_served(served: Served, target: bytes) -> None:
    """Dot segments (raw or percent-encoded), encoded slashes, backslashes, NUL, dotfiles
    and dot-folders, symlinks out of the folder: all 404."""
    assert (served.output / ".private" / "notes.txt").exists()
    status, answer = raw_get(served, target)
    assert status == 404, answer[:200]
    assert b"not for readers" not in answer
    assert b"hidden" not in answer


def test_the_big_file_is_streamed_whole_with_validators(
    served: Served, client: httpx.Client
) -> None:
    """A file larger than the server holds in memory comes whole, uncompressed, and
    answers 304 to its ETag."""
    answer = client.get("/big.txt", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
    assert len(answer.content) >= BIG_FILE_SIZE
    assert answer.content == (served.output / "big.txt").read_bytes()
    again = client.get("/big.txt", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


def test_a_replaced_file_is_served_new_at_once(served: Served, client: httpx.Client) -> None:
    """A file replaced by rename (as the build does) gets new bytes and a new ETag on
    the next request; the old ETag no longer gives 304."""
    target = served.output / "notes" / "changing.json"
    target.parent.mkdir(exist_ok=True)
    _replace(target, b'{"version": 1}', 1_700_000_000)
    first = client.get("/notes/changing.json")
    assert first.json() == {"version": 1}
    _replace(target, b'{"version": 22}', 1_700_000_100)
    second = client.get("/notes/changing.json", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.json() == {"version": 22}
    assert second.headers["etag"] != first.headers["etag"]


def _replace(target: Path, data: bytes, mtime: int) -> None:
    temporary = target.with_name(".replacing")
    temporary.write_bytes(data)
    os.utime(temporary, (mtime, mtime))
    os.replace(temporary, target)


def test_other_methods_are_refused_with_allow(client: httpx.Client) -> None:
    """POST, PUT or DELETE on a file is 405 naming GET and HEAD."""
    for method in ("POST", "PUT", "DELETE"):
        answer = client.request(method, "/atom.xml")
        assert answer.status_code == 405
        assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}

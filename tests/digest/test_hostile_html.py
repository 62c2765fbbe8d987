"""HTML is sanitized last: nothing gazette does after sanitizing (absolute links, XML-safe
text, formulas, the mail version) can turn a harmless post into one that runs script."""

from __future__ import annotations

import email
import json
import re
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import html5lib
import pytest
from lxml import etree

from gazette.config import Settings

from ..conftest import NOW
from ..feedkit import ATOM, build, output
from .conftest import DIGEST, MARKDOWN, run_cli, write_post

Write = Callable[[str, str], Path]
# A browser reads a URL only after stripping C0 controls and spaces from its ends and
# removing tabs and line ends inside (the WHATWG URL parser); then it looks for a scheme.
_EDGES = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "poster", "cite", "background")
_RESERVED = re.compile("[\ue000\ue001]")
CONTENT = "http://purl.org/rss/1.0/modules/content/"


def scheme_a_browser_follows(value: str) -> str:
    """The scheme of ``value`` as a browser judges it ('' for a relative URL)."""
    found = _SCHEME.match(re.sub("[\t\n\r]", "", value.strip(_EDGES)))
    return found.group(1).lower() if found else ""


def unsafe_in_html(markup: str) -> list[str]:
    """Handlers and non-web URLs in ``markup`` parsed as a browser parses it."""
    document = html5lib.parse(markup, namespaceHTMLElements=False)
    problems = []
    for element in document.iter():
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower() if isinstance(name, str) else ""
            if local.startswith("on"):
                problems.append(f"<{element.tag} {local}=…>")
            scheme = scheme_a_browser_follows(value)
            if local in _URL_ATTRIBUTES and scheme not in ("", "http", "https", "mailto"):
                problems.append(f"<{element.tag} {local}={value!r}>")
    return problems


def feed_contents(folder: Path) -> dict[str, str]:
    """The HTML of every entry of the three main feeds, keyed by format and entry."""
    found: dict[str, str] = {}
    for number, item in enumerate(json.loads((folder / "feed.json").read_text())["items"]):
        found[f"feed.json #{number}"] = item.get("content_html", "")
    rss = etree.parse(folder / "feed.xml")
    for number, encoded in enumerate(rss.iter(f"{{{CONTENT}}}encoded")):
        found[f"feed.xml #{number}"] = encoded.text or ""
    atom = etree.parse(folder / "atom.xml")
    for number, content in enumerate(atom.iter(f"{ATOM}content")):
        inner = "".join(etree.tostring(child, encoding="unicode") for child in content)
        found[f"atom.xml #{number}"] = inner
    return found


def preview(settings: Settings, folder: Path) -> tuple[str, str]:
    """``digest --preview``: (the .html file, the HTML part of the .eml file)."""
    result = run_cli(settings.config_path, "digest", "--preview", str(folder))
    assert result.returncode == 0, result.stderr
    (page,) = folder.glob("*.html")
    (mail,) = folder.glob("*.eml")
    message = email.message_from_bytes(mail.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("html",))
    assert part is not None
    return page.read_text(encoding="utf-8"), str(part.get_content())


def problems(found: dict[str, str]) -> dict[str, list[str]]:
    """What would run, by where it was found."""
    judged = {where: unsafe_in_html(markup) for where, markup in found.items()}
    return {where: found for where, found in judged.items() if found}


def hostile_site(site: Callable[..., Settings], write: Write, body: str) -> Settings:
    write_post(write, "plain", "A plain post", 2)
    write_post(write, "hostile", "A hostile post", 1, body=body)
    return site(MARKDOWN, DIGEST)


def outputs(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """Every HTML a reader's browser gets from the site: feed entries and the digest."""
    report = build(settings, NOW)
    assert report.written
    found = feed_contents(output(settings))
    found["digest .html"], found["digest .eml"] = preview(settings, tmp_path / "preview")
    return found


@pytest.mark.parametrize(
    "space", ["&#xA0;", "&#x1680;", "&#x2003;", "&#x2028;", "&#x205F;", "&#x3000;", "\u3000"]
)
def test_a_unicode_space_before_a_script_url_stays_a_relative_link_everywhere(
    space: str, site: Callable[..., Settings], write: Write, tmp_path: Path
) -> None:
    """`href="&#xA0;javascript:…"` (and other Unicode spaces) is relative in every output."""
    body = f'<a href="{space}javascript:alert(document.domain)">click</a> and [x]({space}y.html)'
    found = outputs(hostile_site(site, write, body), tmp_path)
    assert any("click" in markup for markup in found.values())
    assert problems(found) == {}


@pytest.mark.parametrize("control", ["&#1;", "&#x1b;", "&#8;", "&#0;", "&#x7f;"])
def test_a_control_character_inside_a_scheme_does_not_join_it_into_a_script_url(
    control: str, site: Callable[..., Settings], write: Write, tmp_path: Path
) -> None:
    """`java&#1;script:` never becomes `javascript:`, and the digest is still made."""
    body = f'<a href="java{control}script:alert(1)">click</a> <img src="x{control}.png" alt="a">'
    found = outputs(hostile_site(site, write, body), tmp_path)
    assert any("click" in markup for markup in found.values())
    assert problems(found) == {}
    assert not any(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", m) for m in found.values())


FORGED_PLACEHOLDERS = [
    "$\\color{&#xe000;0&#xe001;\"}x\\text{' onmouseover=alert(document.title) x='}$",
    '<img src="a.png" alt="&#xe000;0&#xe001;" title="&#xe000;1&#xe001;"> $x^2$ and $y$',
    "A number with no formula: &#xe000;7&#xe001; and raw \ue0009\ue001, then $z$.",
    '<a href="https://ok.example/&#xe000;0&#xe001;">link</a> $\\frac{a}{b}$',
]


@pytest.mark.parametrize("body", FORGED_PLACEHOLDERS)
def test_a_placeholder_written_in_a_post_is_text_and_never_a_formula(
    body: str, site: Callable[..., Settings], write: Write, tmp_path: Path
) -> None:
    """A post that spells the formula placeholder builds, and no output runs script or
    carries the placeholder characters."""
    settings = hostile_site(site, write, body)
    found = outputs(settings, tmp_path)
    assert problems(found) == {}
    assert [where for where, markup in found.items() if _RESERVED.search(markup)] == []
    written = [
        f for f in output(settings).rglob("*") if f.is_file() and f.suffix not in (".lock", ".png")
    ]
    assert [f.name for f in written if _RESERVED.search(f.read_text(encoding="utf-8"))] == []


def test_a_placeholder_in_a_feed_source_does_not_fail_the_build(
    site: Callable[..., Settings], write: Write, tmp_path: Path
) -> None:
    """An Atom source whose entry spells placeholders builds, with the text kept readable."""
    write(
        "source.atom",
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Other</title>'
        "<id>urn:uuid:4f6c2d3e-0000-4000-8000-000000000001</id>"
        "<updated>2026-11-20T00:00:00Z</updated>"
        "<entry><title>Forged</title><id>urn:uuid:4f6c2d3e-0000-4000-8000-000000000002</id>"
        "<updated>2026-11-20T00:00:00Z</updated><link href='https://other.example/a'/>"
        '<content type="html">&lt;p&gt;before &amp;#xe000;0&amp;#xe001; &#xe000;3&#xe001; '
        "after&lt;/p&gt;</content></entry></feed>\n",
    )
    settings = site('[[sources]]\npath = "source.atom"\nformat = "feed"\n')
    build(settings, NOW)
    entry = json.loads((output(settings) / "feed.json").read_text())["items"][0]
    assert "before" in entry["content_html"]
    assert "after" in entry["content_html"]
    assert not _RESERVED.search(entry["content_html"])


def test_the_judge_sees_urls_as_a_browser_does() -> None:
    """The check above is not vacuous: it flags normalized script URLs and handlers."""
    assert unsafe_in_html('<a href="\x01 javascript:x">a</a>') != []
    assert unsafe_in_html('<a href="java\tscript:x">a</a>') != []
    assert unsafe_in_html('<img src="x" onerror="y">') != []
    assert unsafe_in_html('<a href="\xa0javascript:x">a</a>') == []  # relative, to a browser
    assert unsafe_in_html('<a href="https://ok.example/">a</a>') == []

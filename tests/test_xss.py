"""Well-known XSS vectors never reach a post's HTML as something a browser would run."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest

from gazette.catalog import iter_posts
from gazette.catalog.normalize import normalize_text
from gazette.config import Settings
from gazette.models import Post

from .conftest import sync

# (test id, vector): each vector is one pytest case of its own.
VECTORS = [
    ("script", "<script>alert(1)</script>"),
    ("script-upper-src", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>"),
    ("script-spaced", "<script >alert(1)</script >"),
    ("script-unclosed", "<script>alert(1)"),
    ("script-nested", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    ("script-double-angle", "<<script>script>alert(1)//<</script>/script>"),
    ("script-after-unknown-tag", "<eos><script>alert(1)</script>"),
    ("script-in-comment-trick", "<!--><script>alert(1)</script>-->"),
    ("script-in-template", "<template><script>alert(1)</script></template>"),
    ("noscript-mxss", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'),
    ("img-onerror", "<img src=x onerror=alert(1)>"),
    ("img-onerror-odd-case", "<IMG SRC=x OnErRoR=alert(1)>"),
    ("img-onerror-unclosed", "<img src=x onerror=alert(1)"),
    ("img-onerror-inline", "before <img src=x onerror=alert(1)> after"),
    ("img-onerror-selfclosing", '<img src="x" alt="a" onerror="alert(1)"/>'),
    ("img-src-javascript", '<img src="javascript:alert(1)">'),
    ("svg-onload", "<svg onload=alert(1)>"),
    ("svg-script", "<svg><script>alert(1)</script></svg>"),
    (
        "svg-xlink-href",
        '<svg><a xlink:href="javascript:alert(1)"><text x="0" y="20">x</text></a></svg>',
    ),
    ("svg-animate-onbegin", "<svg><animate onbegin=alert(1) attributeName=x dur=1s>"),
    ("svg-style-img", "<svg><style><img src=x onerror=alert(1)></style></svg>"),
    ("a-javascript", '<a href="javascript:alert(1)">x</a>'),
    ("a-javascript-mixed-case", '<a href="JaVaScRiPt:alert(1)">x</a>'),
    ("a-javascript-decimal-entity", '<a href="&#106;avascript:alert(1)">x</a>'),
    (
        "a-javascript-hex-entities",
        '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;'
        'alert(1)">x</a>',
    ),
    ("a-javascript-tab-entity", '<a href="java&#x09;script:alert(1)">x</a>'),
    ("a-javascript-raw-tab", '<a href="java\tscript:alert(1)">x</a>'),
    ("a-javascript-leading-space", '<a href=" javascript:alert(1)">x</a>'),
    ("a-javascript-colon-entity", '<a href="javascript&colon;alert(1)">x</a>'),
    ("a-vbscript", '<a href="vbscript:msgbox(1)">x</a>'),
    ("a-data-html", '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>'),
    ("a-onclick-with-safe-href", '<a href="https://ok.example/" onclick="alert(1)">x</a>'),
    ("iframe-javascript", '<iframe src="javascript:alert(1)"></iframe>'),
    ("iframe-srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'),
    ("object-data", '<object data="javascript:alert(1)"></object>'),
    ("embed-src", '<embed src="javascript:alert(1)">'),
    ("style-element", "<style>body{background:url(javascript:alert(1))}</style>"),
    ("style-attribute", '<div style="background:url(javascript:alert(1))">x</div>'),
    ("link-stylesheet", '<link rel=stylesheet href="javascript:alert(1)">'),
    ("math-mtext-script", "<math><mtext><script>alert(1)</script></mtext></math>"),
    ("math-href", '<math href="javascript:alert(1)">x</math>'),
    (
        "math-maction-xlink",
        '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">'
        "x</maction></math>",
    ),
    ("math-mglyph-style", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    ("form-action", '<form action="javascript:alert(1)"><input type=submit></form>'),
    ("button-formaction", '<button formaction="javascript:alert(1)">x</button>'),
    ("input-onfocus", "<input autofocus onfocus=alert(1)>"),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'),
    ("base-href", '<base href="javascript:alert(1)//">'),
    ("body-onload", "<body onload=alert(1)>"),
    ("details-ontoggle", "<details open ontoggle=alert(1)>"),
    ("div-onmouseover-odd-case", '<div OnMouseOver="alert(1)">x</div>'),
    ("p-onclick-odd-case", "<p oNcLiCk=alert(1)>x</p>"),
    ("unknown-tag-handler", "<T onmouseover=alert(1)>x</T>"),
    ("video-source-onerror", "<video><source onerror=alert(1)></video>"),
    ("table-background", '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>'),
    ("md-link-javascript", "[x](javascript:alert(1))"),
    ("md-link-javascript-upper", "[x](JAVASCRIPT:alert(1))"),
    ("md-link-javascript-angle", "[x](<javascript:alert(1)>)"),
    ("md-link-javascript-entity", "[x](&#106;avascript:alert(1))"),
    ("md-link-vbscript", "[x](vbscript:msgbox(1))"),
    ("md-link-data", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    ("md-autolink-javascript", "<javascript:alert(1)>"),
    ("md-image-javascript", "![x](javascript:alert(1))"),
    ("md-image-onerror-title", '![x](https://img.example/a.png "\\" onerror=\\"alert(1)")'),
    ("md-reference-javascript", "[x][r]\n\n[r]: javascript:alert(1)"),
    ("math-text-script", "$\\text{<script>alert(1)</script>}$"),
    ("math-text-img", "$\\text{<img src=x onerror=alert(1)>}$"),
    ("display-math-text-script", "$$\\text{<script>alert(1)</script>}$$"),
    ("math-href-command", "$\\href{javascript:alert(1)}{x}$"),
]

FORBIDDEN_ELEMENTS = frozenset(
    "script style iframe object embed form meta base link frame frameset applet".split()
)
URL_ATTRIBUTES = frozenset("href src action formaction xlink:href data background poster".split())
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
_INVISIBLE = re.compile(r"[\s\x00-\x20\x7f-\x9f]+")


def _vector_params() -> list[pytest.ParameterSet]:
    return [pytest.param(vector, id=name) for name, vector in VECTORS]


def executable_constructs(markup: str) -> list[str]:
    """Everything in ``markup`` a browser could run: elements, handlers, script URLs."""
    if not markup.strip():
        return []
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    problems = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        tag = element.tag.lower().rsplit("}", 1)[-1]
        if tag in FORBIDDEN_ELEMENTS:
            problems.append(f"<{tag}> element")
        for name, value in element.attrib.items():
            lowered = name.lower()
            if lowered.startswith("on"):
                problems.append(f"<{tag} {name}=...> event handler")
            if lowered in URL_ATTRIBUTES or lowered.endswith(":href"):
                cleaned = _INVISIBLE.sub("", value).lower()
                if cleaned.startswith(BAD_SCHEMES):
                    problems.append(f"<{tag} {name}={value!r}> script URL")
    return problems


def _posts(settings: Settings) -> list[Post]:
    store = sync(settings)
    try:
        with store.transaction() as connection:
            return list(iter_posts(settings, connection))
    finally:
        store.close()


def test_the_checker_itself_flags_every_kind_of_executable_construct() -> None:
    """The checker is not vacuous: it flags elements, handlers and script URLs in raw HTML."""
    assert executable_constructs("<p>fine <a href='https://x.example/'>link</a></p>") == []
    assert executable_constructs("<script>alert(1)</script>")
    assert executable_constructs("<STYLE>x</STYLE>")
    assert executable_constructs("<img src=x OnErRoR=alert(1)>")
    assert executable_constructs("<a href=' &#106;ava\tscript:alert(1)'>x</a>")
    assert executable_constructs("<a href='DATA:text/html,x'>x</a>")
    assert executable_constructs('<svg><a xlink:href="vbscript:x">x</a></svg>')
    assert executable_constructs('<form action="javascript:x"></form>')


@pytest.mark.parametrize("vector", _vector_params())
def test_markdown_vector_renders_harmless(
    vector: str, site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """A Markdown post (with and without a <!--more--> summary) made of the vector runs nothing."""
    front = "---\ntitle: {title}\ndate: 2024-01-01\n---\n\n"
    write(
        "posts/with-more.md",
        front.format(title="With more") + f"{vector}\n\n<!--more-->\n\nTail.\n",
    )
    write("posts/plain.md", front.format(title="Plain") + f"Lead.\n\n{vector}\n")
    settings = site(
        """
        [[sources]]
        path = "posts/*.md"
        format = "markdown"
        """
    )
    posts = _posts(settings)
    assert sorted(p.title for p in posts) == ["Plain", "With more"]
    for post in posts:
        for field in ("content_html", "summary_html"):
            markup = getattr(post, field)
            assert executable_constructs(markup) == [], f"{post.title} {field}: {markup!r}"


@pytest.mark.parametrize("vector", _vector_params())
def test_listing_vector_is_escaped_visible_text(
    vector: str, site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """In a listing the vector is plain text: shown literally, never executable."""
    write("listing.txt", f"1 Jan\nXSS probe\n\n{vector}\n\n点击阅读全文...\n")
    settings = site(
        """
        [[sources]]
        path = "listing.txt"
        format = "listing"
        year = 2024
        """
    )
    (post,) = _posts(settings)
    assert post.title == "XSS probe"
    for field in ("content_html", "summary_html"):
        markup = getattr(post, field)
        assert executable_constructs(markup) == [], f"{field}: {markup!r}"
    expected = " ".join(normalize_text(vector).split())
    assert expected in " ".join(post.content_text.split())
    if "<" in vector:
        assert "<" in post.content_text
        assert "&lt;" in post.content_html

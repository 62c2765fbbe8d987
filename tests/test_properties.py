"""Property tests: the readers and the renderer take any text, and jsonl round-trips."""

from __future__ import annotations

import json
import tempfile
import textwrap
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gazette.catalog import iter_posts, post_as_json
from gazette.catalog.draft import ReadResult
from gazette.catalog.listing import read_listing
from gazette.catalog.markdown import FRONT_MATTER_KEYS, read_markdown
from gazette.catalog.math import MathConverter
from gazette.catalog.normalize import normalize_text
from gazette.catalog.render import Rendered, render_draft
from gazette.config import Settings, SourceSettings, load_settings
from gazette.models import Finding

from .conftest import SITE, sync

MARKER = "点击阅读全文..."
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
FIELDS = (
    "id slug url title title_inferred published updated summary_html summary_text content_html "
    "content_text tags series series_index figures authors lang sources warnings"
).split()

# --- strategies ------------------------------------------------------------------------

# Characters the renderers treat specially, CJK and full-width punctuation, plain words.
SPECIAL = "$\\<>&\n \t{}[]()*_`#!|~^-=+.,;:?\"'/"
CJK = "中文标题公式正文第一段點击阅读全文。，、；：！？《》“”（）"
ALPHABET = st.sampled_from(list(SPECIAL + CJK + "abcxyzAZ019")) | st.characters(
    exclude_categories=("Cs",)
)
text_runs = st.text(ALPHABET, max_size=40)
date_lines = st.builds(
    lambda day, month, sep: f"{day}{sep}{month}",
    st.integers(0, 35),
    st.sampled_from([*MONTHS, "jan", "SEPT", "Sept.", "Xyz"]),
    st.sampled_from([" ", "  ", "\t"]),
)
formula_runs = st.sampled_from(
    [
        "$x$", "$$x^2$$", "$a$b$", "\\(y\\)", "\\[z\\]", "$\\frac{1}{2}$", "$\\text{<b>}$",
        "\\begin{align}a&=b\\end{align}", "$\\unknown$", "${$", "$}$", "$ $", "\\$5",
        "https://example.org/a_(b)", "<T>", "<eos>", "&amp;", "&#106;", "\ue0000\ue001",
    ]
)  # fmt: skip
listing_lines = st.one_of(
    text_runs,
    date_lines,
    formula_runs,
    st.just(MARKER),
    st.just(""),
    text_runs.map(lambda s: "    " + s),
    st.builds(lambda n, s: f"{n}、{s}", st.integers(0, 1000), text_runs),
    st.lists(st.one_of(text_runs, formula_runs), max_size=4).map("".join),
)
good_date_lines = st.builds(lambda d, m: f"{d} {m}", st.integers(1, 28), st.sampled_from(MONTHS))
listing_entries = st.builds(
    lambda day, lines, marker: "\n".join([*day, *lines, *([MARKER] if marker else [])]),
    st.one_of(good_date_lines.map(lambda s: [s]), date_lines.map(lambda s: [s]), st.just([])),
    st.lists(listing_lines, max_size=8),
    st.booleans() | st.just(True),
)
listing_texts = st.one_of(
    st.lists(listing_entries, max_size=6).map("\n\n".join),
    st.lists(listing_lines, max_size=30).map("\n".join),
    st.text(max_size=200),
)

# Values of front matter keys; written either serialized (JSON is valid YAML and TOML) or raw.
date_like = st.builds(
    lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
    st.integers(1, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
)
scalar_values = st.one_of(
    text_runs,
    st.integers(-(10**20), 10**20),
    st.booleans(),
    date_like,
    st.sampled_from(
        ["2024-05-01", "2024-05-01T08:30:00+08:00", "2024-05-01 08:30", "[a, b]", "~", "{a: 1}"]
    ),
    st.lists(text_runs, max_size=3),
)
valid_dates = st.dates(date(1970, 1, 2), date(2200, 1, 1)).map(date.isoformat)
keys = st.one_of(
    st.sampled_from(sorted(FRONT_MATTER_KEYS)),
    st.sampled_from(["1", "true", "null", "2024-01-01", "x y", "author"]),
    st.text(ALPHABET, max_size=8),
)
plain_words = st.text(st.sampled_from(list("abcxyz 中文标题$")), min_size=1, max_size=12)
valid_pairs = st.one_of(
    st.tuples(st.sampled_from(["title", "summary", "series", "slug", "id", "lang"]), plain_words),
    st.tuples(st.sampled_from(["tags", "categories"]), st.lists(plain_words, max_size=3)),
    st.tuples(st.just("series_index"), st.integers(-3, 30)),
    st.tuples(st.just("draft"), st.booleans()),
    st.tuples(st.just("updated"), valid_dates),
).map(lambda pair: (*pair, False))
Pair = tuple[str, Any, bool]


@st.composite
def front_matters(draw: st.DrawFn) -> tuple[str, list[Pair]]:
    """A fence (or none) and key/value pairs, most of them ones a real post would have."""
    fence = draw(st.sampled_from(["---", "+++", "---", "+++", ""]))
    pairs: list[Pair] = []
    if draw(st.integers(0, 5)):
        value = draw(draw(st.sampled_from([valid_dates] * 4 + [date_like, scalar_values])))
        pairs.append(("date", value, draw(st.booleans())))
    pairs += draw(st.lists(valid_pairs, max_size=5, unique_by=lambda pair: pair[0]))
    if not draw(st.integers(0, 2)):
        pairs += draw(
            st.lists(st.tuples(keys, scalar_values, st.booleans()), min_size=1, max_size=3)
        )
    return fence, draw(st.permutations(pairs))


def _front_matter(fence: str, pairs: list[Pair]) -> str:
    """Front matter text: each value written either serialized as JSON or raw."""
    if not fence:
        return ""
    lines = []
    for key, value, raw in pairs:
        shown = str(value) if raw else json.dumps(value, ensure_ascii=False)
        lines.append(f"{key} = {shown}" if fence == "+++" else f"{key}: {shown}")
    return "\n".join([fence, *lines, fence, ""])


markdown_lines = st.one_of(
    listing_lines,
    st.sampled_from(
        [
            "# Heading $x$", "## 标题", "- item", "1. item", "> quote $y$", "```", "```python",
            "| a | b |", "|---|---|", "| $x$ | <b>c</b> |", "[^1]: note $z$", "text[^1]",
            "<!--more-->", "<div>", "</div>", "<script>alert(1)</script>", "$$", "$$x$$",
            "\\begin{equation}", "\\end{equation}", "![alt $x$](http://x.example/y.png \"t\")",
            "[link](http://x.example/)", "***", "<T>", "<eos>", "<!-- c -->", "<mtext>",
            "<math><mi>x</mi></math>", "\\[", "\\]", "&nbsp;", "\\$",
        ]
    ),
)  # fmt: skip
structured_markdown = st.builds(
    lambda front, body: _front_matter(*front) + body,
    front_matters(),
    st.lists(markdown_lines, max_size=20).map("\n".join),
)
markdown_texts = st.integers(0, 5).flatmap(
    lambda n: structured_markdown if n else st.text(max_size=200)
)

# --- helpers ---------------------------------------------------------------------------


def _check_rendered(rendered: Rendered) -> None:
    for field in ("content_html", "summary_html", "content_text", "summary_text"):
        value = getattr(rendered, field)
        assert "\ue000" not in value, f"{field} keeps a placeholder: {value!r}"
        assert "\ue001" not in value, f"{field} keeps a placeholder: {value!r}"
    for field in ("content_html", "summary_html"):
        lxml.html.fragments_fromstring(getattr(rendered, field))


def _check_result(result: ReadResult) -> None:
    assert isinstance(result, ReadResult)
    for finding in result.findings:
        assert isinstance(finding, Finding)
        assert finding.severity in ("error", "warning", "info")
    for draft in result.drafts:
        _check_rendered(render_draft(draft, MathConverter(), 240))


# --- readers never raise ---------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(listing_texts)
def test_read_listing_and_render_never_raise(text: str) -> None:
    """Any (normalized) listing text reads and renders to well-formed HTML without placeholders."""
    text = normalize_text(text)  # what the file reader hands over
    source = SourceSettings(path="x", format="listing", year=2020)
    result = read_listing(text, "x.txt", source, ZoneInfo("Asia/Shanghai"), date(2026, 11, 21))
    _check_result(result)


@settings(max_examples=60, deadline=None)
@given(markdown_texts)
@example("---\ndate: 2024-13-01\n---\nAn impossible YAML date.\n")
@example("---\ndate: !!timestamp\nweight: !!int\n---\nEmpty tagged values.\n")
@example("---\ndate: 2024-01-01\nnull: a\nauthor: b\n---\nA null key next to a text key.\n")
def test_read_markdown_and_render_never_raise(text: str) -> None:
    """Any Markdown text, front matter or not, gives a ReadResult (errors as findings)."""
    text = normalize_text(text)  # what the file reader hands over
    result = read_markdown(text, "x.md", ZoneInfo("UTC"), "en")
    _check_result(result)


# --- jsonl round trip ------------------------------------------------------------------

words = st.text(st.sampled_from(list("abcdefxyz中文标题公式")), min_size=1, max_size=8)
sentences = (
    st.lists(
        st.one_of(
            words,
            st.sampled_from(["$x$", "$a^2+b^2$", "$\\frac{1}{2}$", "，", "。", " ", "<", "&"]),
        ),
        min_size=1,
        max_size=12,
    )
    .map("".join)
    .filter(lambda s: s.strip() and not s.startswith(" "))
)
# Paragraphs only Markdown gives meaning to: emphasis, links, images, lists, raw HTML.
markdown_paragraphs = sentences | st.sampled_from(
    [
        "**粗体** and *em*", "[链接](https://example.org/a)", "![图 $x$](https://img.example/a.png)",
        "- 一\n- 二", "> 引用 $y$", "$$\\sum_{i=1}^n i$$", "<!-- note -->", "`code <b>`",
    ]
)  # fmt: skip
listing_posts = st.lists(
    st.tuples(st.integers(1, 28), st.sampled_from(MONTHS), words, st.lists(sentences, max_size=3)),
    min_size=1,
    max_size=4,
)
markdown_posts = st.lists(
    st.tuples(
        words,
        st.dates(date(2020, 1, 1), date(2026, 1, 1)),
        st.lists(st.sampled_from(["tech", "数学", "life"]), max_size=2),
        st.lists(markdown_paragraphs, max_size=3),
        st.booleans(),
    ),
    max_size=4,
)


def _listing(posts: list[tuple[int, str, str, list[str]]]) -> str:
    entries = [
        "\n\n".join([f"{day} {month}\n{title}", *body, MARKER]) for day, month, title, body in posts
    ]
    return "\n\n".join(entries) + "\n"


def _markdown(title: str, day: date, tags: list[str], body: list[str], more: bool) -> str:
    paragraphs = [*body[:1], "<!--more-->", *body[1:]] if more else body
    front = (
        f"---\ntitle: {json.dumps(title)}\ndate: {day.isoformat()}\ntags: {json.dumps(tags)}\n---\n"
    )
    return front + "\n\n".join(paragraphs) + "\n"


def _site(folder: Path, sources: str) -> Settings:
    config = folder / "gazette.toml"
    config.write_text(SITE + textwrap.dedent(sources), encoding="utf-8")
    return load_settings(config)


def _export(settings: Settings) -> list[dict[str, Any]]:
    """What `gazette posts --json --all` prints, parsed back."""
    store = sync(settings)
    try:
        with store.transaction() as connection:
            lines = [
                json.dumps(post_as_json(p), ensure_ascii=False)
                for p in iter_posts(settings, connection)
            ]
    finally:
        store.close()
    return [json.loads(line) for line in lines]


@settings(max_examples=60, deadline=None)
@given(listing_posts, markdown_posts)
@example([(1, "Jan", "只有标题", [])], [])
@example(
    [(1, "Jan", "标题", ["正文 $x$。"])], [("Front matter only", date(2024, 5, 1), [], [], False)]
)
def test_jsonl_export_round_trips(
    listing: list[tuple[int, str, str, list[str]]],
    markdown: list[tuple[str, date, list[str], list[str], bool]],
) -> None:
    """Exporting, reading the export back as a jsonl source and exporting again changes nothing."""
    with tempfile.TemporaryDirectory() as first_dir, tempfile.TemporaryDirectory() as second_dir:
        first, second = Path(first_dir), Path(second_dir)
        (first / "listing.txt").write_text(_listing(listing), encoding="utf-8")
        (first / "posts").mkdir()
        for number, post in enumerate(markdown):
            (first / "posts" / f"p{number}.md").write_text(_markdown(*post), encoding="utf-8")
        original = _export(
            _site(
                first,
                """
                [[sources]]
                path = "listing.txt"
                format = "listing"
                year = 2024

                [[sources]]
                path = "posts/*.md"
                format = "markdown"
                optional = true
                """,
            )
        )
        assert original, "the generated site has posts"
        lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in original)
        (second / "posts.jsonl").write_text(lines, encoding="utf-8")
        again = _export(
            _site(
                second,
                """
                [[sources]]
                path = "posts.jsonl"
                format = "jsonl"
                """,
            )
        )
        assert len(again) == len(original)
        for before, after in zip(original, again, strict=True):
            assert set(after) == set(FIELDS)
            for field in FIELDS:
                assert after[field] == before[field], f"{field} of {before['id']} differs"

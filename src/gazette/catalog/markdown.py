"""Markdown posts read: YAML (---) or TOML (+++) front matter, the generator's
conventions and syntax, titles, dates and tags; ``<!--more-->`` ends the summary; drafts
are skipped. The HTML comes from `gazette.catalog.markdown_html`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from gazette.catalog.conventions import left_out, site_conventions, unused_keys, updated_key
from gazette.catalog.draft import Draft, ReadResult
from gazette.catalog.expansion import Linked
from gazette.catalog.generator_syntax import expand_generator_syntax
from gazette.catalog.generators import (
    YAML_CONSTRUCTOR_ERRORS,
    GeneratorSite,
    implied_math,
    is_jekyll_post_name,
    permalink,
    split_words,
    title_from_file_name,
)
from gazette.catalog.limits import TooDeep, check_nesting
from gazette.catalog.listing import infer_title
from gazette.catalog.markdown_html import MARKDOWN, MORE, NESTING_CUT
from gazette.catalog.normalize import normalize_text, parse_number
from gazette.models import Finding

FRONT_MATTER_KEYS = frozenset(
    "title date updated tags categories series series_index slug id summary draft lang author "
    "authors permalink url".split()
)
_FILENAME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Markdown nests blocks only through what starts a line (> quote, list markers, footnote
# labels, indentation): reaching the parser's 20 levels takes 18 columns of them or more.
_CONTAINER_PREFIX = re.compile(r"^(?:[ \t>*+\-.)0-9]|\[\^[^\]\s]*\]:){5,}", re.M)
_DEEP_COLUMNS = 18


class FrontMatterError(ValueError):
    """Front matter that cannot be read; ``line`` is 1-based within the file."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


# PyYAML's libyaml loader, when built with it: the same documents, seven times faster.
# It reads a few things otherwise than the pure-Python loader (tabs, a BOM, other line
# breaks, the bare "!" tag, "|#", a "?" key in a flow), so a document that may hold one
# is read by the pure-Python loader, as is a document libyaml refuses (the pure-Python
# loader's messages name the offending character).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LIBYAML_DIFFERS = re.compile(
    r"[\t\ufeff\x85\u2028\u2029]|(?:^|[\s\[{,?:-])!|[|>][-+\d]*#|\?[\s\]},]"
)

# --- reading -------------------------------------------------------------------------


def read_markdown(
    text: str,
    path: str,
    zone: ZoneInfo,
    default_lang: str,
    math: tuple[str, ...] = (),
    generator: str = "",
    site: GeneratorSite | None = None,
    today: date | None = None,
) -> ReadResult:
    """One post from one Markdown file (or nothing, for a draft). ``math`` names the
    source's math conventions, kept on the draft for rendering; ``generator`` the static
    site generator whose conventions the post follows (gazette.catalog.generators), and
    ``site`` that generator's site, whose permalinks give the post's URL; ``today``
    decides whether a post's expiry has passed."""
    result = ReadResult()
    if not text.strip():
        result.findings.append(Finding("warning", "empty Markdown file: no post", f"{path}:1"))
        return result
    math = tuple(dict.fromkeys(implied_math(generator) + math))
    try:
        meta, body, body_line = split_front_matter(text)
        why = left_out(generator, meta, datetime.combine(today or date.today(), time(), zone))
        links: tuple[str, ...] = ()
        if site is not None and not why:
            linked = partial(_linked, site, zone)
            expanded = expand_generator_syntax(
                body, site, Path(path), path, body_line, linked, _front_matter_of
            )
            body, links = expanded.body, expanded.links
            result.findings.extend(expanded.findings)
        draft = None if why else _draft(meta, body, path, zone, default_lang, result, generator)
    except FrontMatterError as error:
        result.findings.append(Finding("error", str(error), f"{path}:{error.line}"))
        return result
    if why:
        result.findings.append(Finding("info", why, f"{path}:1"))
    if draft is not None:
        assert draft.published is not None
        url = permalink(site, Path(path).resolve(), meta, draft.published) if site else ""
        draft = site_conventions(draft, meta, site, Path(path).resolve())
        result.drafts.append(replace(draft, math=math, url=url, links=links))
        result.findings.extend(_flattened(body, f"{path}:", body_line))
    return result


def _linked(site: GeneratorSite, zone: ZoneInfo, path: Path) -> Linked | None:
    """The URL and title of the post (or page) at ``path`` in ``site``, as a link to it
    from another post shows them (None: it is no post)."""
    meta = _front_matter_of(path)
    try:
        published = _date(meta.get("date"), "date", zone) or _date_from_filename(path.name, zone)
        title = _string(meta.get("title", ""), "title").strip()
    except FrontMatterError:
        return None
    if published is None:
        return None
    title = title or (title_from_file_name(path.name) if site.generator == "jekyll" else "")
    return Linked(permalink(site, path.resolve(), meta, published), title)


def _front_matter_of(path: Path) -> dict[str, Any]:
    """The front matter of the file at ``path`` ({} when it has none or cannot be read)."""
    try:
        return split_front_matter(normalize_text(path.read_text(encoding="utf-8")))[0]
    except (OSError, UnicodeDecodeError, FrontMatterError):
        return {}


def _flattened(body: str, path: str, body_line: int) -> list[Finding]:
    """Where blocks nest past the parser's limit (their text is kept as plain paragraphs)."""
    if not any(
        len(m.group().expandtabs(4)) >= _DEEP_COLUMNS for m in _CONTAINER_PREFIX.finditer(body)
    ):
        return []
    env: dict[str, Any] = {}
    MARKDOWN.parse(body, env)
    cuts: list[int] = env.get(NESTING_CUT, [])
    if not cuts:
        return []
    more = f" (and in {len(cuts) - 1} more places)" if len(cuts) > 1 else ""
    message = (
        f"blockquotes and lists nest more than {MARKDOWN.options.maxNesting} levels deep"
        f"{more}: the deeper text is shown as plain paragraphs; nest less"
    )
    return [Finding("warning", message, f"{path}{body_line + cuts[0]}")]


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """(front matter, body, line where the body starts) of a Markdown file."""
    lines = text.split("\n")
    fence = lines[0].strip()
    if fence not in ("---", "+++"):
        return {}, text, 1
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == fence), None)
    if end is None:
        raise FrontMatterError(
            f"front matter opened with {fence} is never closed; add a {fence} line", 1
        )
    raw = "\n".join(lines[1:end])
    try:
        meta = _parse_yaml(raw) if fence == "---" else _parse_toml(raw)
        check_nesting(meta)
    except (RecursionError, TooDeep):
        raise FrontMatterError(f"front matter is {TooDeep()}", 2) from None
    return meta, "\n".join(lines[end + 1 :]), end + 2


def _parse_yaml(raw: str) -> dict[str, Any]:
    try:
        meta = _load_yaml(raw) if raw.strip() else {}
    except ValueError as error:
        # PyYAML builds dates itself: 2024-13-01 raises a plain ValueError.
        raise FrontMatterError(
            f"front matter has an impossible value: {error}; fix it", 2
        ) from None
    except YAML_CONSTRUCTOR_ERRORS:
        raise FrontMatterError(
            "front matter has a tagged value that cannot be read (an empty !!int, !!bool "
            "or !!timestamp?); give it a value, or remove the tag",
            2,
        ) from None
    except yaml.YAMLError as error:
        # context_mark is where the broken construct (an unclosed [, say) starts.
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error).split("\n")[0]
        raise FrontMatterError(f"front matter is not valid YAML: {problem}; fix it", line) from None
    if not isinstance(meta, dict):
        raise FrontMatterError("front matter must be key: value pairs", 2)
    return meta


def _load_yaml(raw: str) -> Any:
    """The document as the pure-Python loader reads it, read by libyaml where they agree."""
    if YAML_LOADER is yaml.SafeLoader or _LIBYAML_DIFFERS.search(raw):
        return yaml.safe_load(raw)
    try:
        return yaml.load(raw, Loader=YAML_LOADER)  # noqa: S506 - a safe loader either way
    except yaml.YAMLError:
        return yaml.safe_load(raw)


def _parse_toml(raw: str) -> dict[str, Any]:
    try:
        return tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"line (\d+)", str(error))
        # "at end of document": the last line of the front matter.
        line = int(found.group(1)) + 1 if found else raw.count("\n") + 2
        raise FrontMatterError(f"front matter is not valid TOML: {error}; fix it", line) from None


def _draft(
    meta: dict[str, Any],
    body: str,
    path: str,
    zone: ZoneInfo,
    default_lang: str,
    result: ReadResult,
    generator: str = "",
) -> Draft | None:
    location = f"{path}:1"
    for key in sorted(unused_keys(generator, {str(k) for k in meta} - FRONT_MATTER_KEYS)):
        result.findings.append(Finding("info", f"front matter key {key!r} is not used", location))
    if _boolean(meta.get("draft", False), "draft"):
        result.findings.append(Finding("info", "draft: skipped until draft is false", location))
        return None
    warnings: list[str] = []
    published = _date(meta.get("date"), "date", zone)
    if published is None:
        published = _date_from_filename(path, zone)
        if published is None:
            raise FrontMatterError("no date; add `date: 2024-05-01` to the front matter", 1)
        if not is_jekyll_post_name(path):  # Jekyll's own rule is no guess
            warnings.append(
                f"no date in the front matter: took {published:%Y-%m-%d} from the file name"
            )
    title = _string(meta.get("title", ""), "title").strip()
    title_inferred = not title
    if title_inferred and generator == "jekyll":
        title = title_from_file_name(path)
        warnings.append(f"no title: took {title!r} from the file name, as Jekyll does")
    elif title_inferred:
        title = infer_title(_markdown_text(_first_text(body)))
        warnings.append(f"no title: inferred {title!r} from the first sentence")
    summary = meta.get("summary")
    more = MORE.search(body)
    return Draft(
        location=location,
        title=title,
        body=body,
        markup="markdown",
        published=published,
        updated=_date(meta.get(updated_key(generator, meta)), "updated", zone),
        summary=_string(summary, "summary") if summary else (body[: more.start()] if more else ""),
        title_inferred=title_inferred,
        tags=_tags(meta.get("tags"), generator) + _tags(meta.get("categories"), generator),
        authors=_authors(meta),
        series=_string(meta.get("series", ""), "series").strip(),
        series_index=_index(meta.get("series_index")),
        slug=_string(meta.get("slug", ""), "slug").strip(),
        id=_string(meta.get("id", ""), "id").strip(),
        lang=_string(meta.get("lang", ""), "lang").strip() or default_lang,
        warnings=tuple(warnings),
    )


def _first_text(body: str) -> str:
    for paragraph in re.split(r"\n\s*\n", MORE.sub("", body)):
        stripped = paragraph.strip()
        if stripped and not stripped.startswith(("#", "```", "    ", "!", "<", "|", ">")):
            return stripped
    return body.strip() or "Untitled"


def _markdown_text(paragraph: str) -> str:
    """A paragraph's words without its Markdown: links and images keep their text, code
    its content, formulas their TeX in dollars."""
    parts: list[str] = []
    unquoted = re.sub(r"^[ \t]*>[ \t]?", "", paragraph, flags=re.M)
    for token in MARKDOWN.parseInline(unquoted, {})[0].children or []:
        if token.type in ("text", "text_special", "code_inline"):
            parts.append(token.content)
        elif token.type.startswith("math_"):
            parts.append(f"${token.content}$")
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type == "image":
            parts.append("".join(child.content for child in token.children or []))
    return "".join(parts).strip() or paragraph

def _string(value: Any, key: str) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise FrontMatterError(f"front matter {key!r} must be text, got {type(value).__name__}", 1)


def _boolean(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    raise FrontMatterError(f"front matter {key!r} must be true or false, got {value!r}", 1)


def _tags(value: Any, generator: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return split_words(value, generator)
    if isinstance(value, list) and all(isinstance(t, (str, int)) for t in value):
        return tuple(str(t).strip() for t in value if str(t).strip())
    raise FrontMatterError("front matter tags and categories must be a list of words", 1)


def _authors(meta: dict[str, Any]) -> tuple[str, ...]:
    """``author`` (Jekyll, Hexo: a name) and ``authors`` (Hugo: a list), in that order."""
    names: list[str] = []
    for key in ("author", "authors"):
        value = meta.get(key)
        values = value if isinstance(value, list) else [] if value in (None, "") else [value]
        names.extend(_string(name, key).strip() for name in values)
    return tuple(dict.fromkeys(name for name in names if name))


def _index(value: Any) -> int | None:
    if value is None or value == "":
        return None
    number = (
        value
        if isinstance(value, int) and not isinstance(value, bool)
        else parse_number(str(value))
    )
    if number is None:
        raise FrontMatterError(f"front matter 'series_index' must be a number, got {value!r}", 1)
    return number


def _date(value: Any, key: str, zone: ZoneInfo) -> datetime | None:
    """A front matter date; a date without a time is midnight and naive times are local."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError:
            raise FrontMatterError(
                f"front matter {key!r} is not a date: {value!r}; write it as 2024-05-01 or "
                "2024-05-01T08:30:00+08:00",
                1,
            ) from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), zone)
    raise FrontMatterError(f"front matter {key!r} must be a date, got {value!r}", 1)


def _date_from_filename(path: str, zone: ZoneInfo) -> datetime | None:
    found = _FILENAME_DATE.search(path.rsplit("/", 1)[-1])
    if not found:
        return None
    try:
        year, month, day = (int(g) for g in found.groups())
        return datetime(year, month, day, tzinfo=zone)
    except ValueError:
        return None

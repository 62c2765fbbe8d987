"""Hugo's shortcodes in a post, as Hugo (0.111, as measured) renders them.

``{{< figure src=… >}}`` is Hugo's figure markup (figure, a link, img, figcaption with the
title as h4 and the caption as Markdown); ``{{< ref "post.md" >}}`` is the post's URL and
``relref`` its site path; ``{{< highlight LANG >}}…{{< /highlight >}}`` is code. The
``{{% … %}}`` form is the same call whose output is Markdown. Hugo expands shortcodes in
code too, and ``{{</* … */>}}`` writes one literally. A shortcode of the site's theme
cannot be rendered without it: it is left out, the text between its tags kept.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import quote

from markdown_it import MarkdownIt

from gazette.catalog.expansion import (
    Expansion,
    block_html,
    code_block,
    find_file,
    last_written,
    real,
)

_OPENING = re.compile(r"\{\{[<%]")
_LONGEST = 5000  # characters a shortcode's call may take; longer is not a call
_ARGUMENT = re.compile(r'(?:([\w-]+)\s*=\s*)?("(?:[^"\\]|\\.)*"|`[^`]*`|[^\s"`]+)', re.S)
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~"
_ADVICE = "replace it with Markdown, or write it as {{</* … */>}} to show it as text"


@dataclass(frozen=True, slots=True)
class _Call:
    """One shortcode tag in the text: ``{{< name args >}}``, ``{{< /name >}}``."""

    start: int
    end: int
    name: str = ""
    closing: bool = False
    positional: tuple[str, ...] = ()
    named: dict[str, str] = field(default_factory=dict)
    literal: str | None = None  # an escaped call: the text it shows


def expand_shortcodes(post: Expansion) -> str:
    """The post's body with its shortcodes expanded."""
    text, out, position = post.body, [], 0
    calls = _calls(text)
    closings = {call.name for call in calls if call.closing}
    ends = [i for i, call in enumerate(calls) if call.closing and call.name == "highlight"]
    index = 0
    while index < len(calls):
        call = calls[index]
        out.append(text[position : call.start])
        position = call.end
        if call.literal is not None:
            out.append(call.literal)
        elif call.closing and call.name in ("figure", "ref", "relref"):
            pass  # no end tag is needed, and none changes anything
        elif call.name == "highlight" and not call.closing:
            later = bisect.bisect_right(ends, index)
            end = ends[later] if later < len(ends) else None
            if end is None:
                message = "{{< highlight >}} is never closed: add {{< /highlight >}}"
                post.note(call.start, message, "highlight")
            else:
                inner = text[call.end : calls[end].start]
                language = call.positional[0] if call.positional else ""
                out.append(code_block(inner, language, last_written(out)))
                position, index = calls[end].end, end
        elif call.name == "figure":
            out.append(block_html(_figure(call.named), text, call.start, call.end))
        elif call.name in ("ref", "relref"):
            out.append(_reference(post, call))
        elif not call.closing or call.name not in post.repeats:
            paired = "" if call.name not in closings else " (the text between its tags is kept)"
            message = f"Hugo shortcode {_shown(text, call)} is not rendered by gazette and is left"
            post.note(call.start, f"{message} out{paired}: {_ADVICE}", call.name)
        index += 1
    out.append(text[position:])
    return "".join(out)


def _shown(text: str, call: _Call) -> str:
    """How the call is written, without its arguments: {{< name >}} or {{% name %}}."""
    mark = text[call.start + 2]
    return f"{{{{{mark} {call.name} {'>' if mark == '<' else '%'}}}}}"


# --- reading the calls -----------------------------------------------------------------


def _calls(text: str) -> list[_Call]:
    """Every shortcode tag in ``text``, in order."""
    calls: list[_Call] = []
    position = 0
    for opening in _OPENING.finditer(text):
        if opening.start() < position:
            continue
        call = _call(text, opening.start())
        if call is not None:
            calls.append(call)
            position = call.end
    return calls


def _call(text: str, start: int) -> _Call | None:
    """The tag starting at ``start``, or None when it never closes within _LONGEST."""
    closer = ">}}" if text[start + 2] == "<" else "%}}"
    if text.startswith("/*", start + 3):
        end = text.find("*/" + closer, start + 5, start + _LONGEST)
        if end < 0:
            return None
        shown = text[start : start + 3] + text[start + 5 : end] + closer
        return _Call(start, end + 5, literal=shown)
    close = _close(text, start + 3, closer)
    if close is None:
        return None
    inner = text[start + 3 : close].strip()
    closing = inner.startswith("/")
    inner = inner.lstrip("/").rstrip("/").strip()
    name, _, arguments = inner.partition(" ")
    positional, named = _arguments(arguments)
    return _Call(start, close + 3, name, closing, positional, named)


def _close(text: str, position: int, closer: str) -> int | None:
    """Where ``closer`` ends the call: the first one outside its quoted arguments."""
    limit = position + _LONGEST
    end = text.find(closer, position, limit)
    while end >= 0:
        inside = text[position:end]
        if (inside.count('"') - inside.count('\\"')) % 2 == inside.count("`") % 2 == 0:
            return end
        end = text.find(closer, end + 1, limit)
    return None


def _arguments(text: str) -> tuple[tuple[str, ...], dict[str, str]]:
    positional: list[str] = []
    named: dict[str, str] = {}
    for found in _ARGUMENT.finditer(text):
        value = found.group(2)
        if value[:1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif value[:1] == "`":
            value = value[1:-1]
        if found.group(1):
            named[found.group(1)] = value
        else:
            positional.append(value)
    return tuple(positional), named


# --- what Hugo's built-in shortcodes give ------------------------------------------------


def _figure(named: dict[str, str]) -> str:
    """Hugo's figure markup, on one line (what the shortcode's template writes)."""
    get = named.get
    attr = _attribute
    link = get("link")
    image = f'<img src="{attr(quote(get("src", ""), safe=_URL_SAFE))}"'
    if get("alt") or get("caption"):
        alt = get("alt") or re.sub(r"<[^>]*>", "", _inline(get("caption", "")))
        image += f' alt="{attr(alt) if get("alt") else alt}"'
    image += "".join(f' {key}="{attr(get(key, ""))}"' for key in ("width", "height") if get(key))
    image += "/>"
    if link:
        extra = "".join(f' {key}="{attr(get(key, ""))}"' for key in ("target", "rel") if get(key))
        image = f'<a href="{attr(link)}"{extra}>{image}</a>'
    caption = ""
    if get("title") or get("caption") or get("attr"):
        title = f"<h4>{html.escape(get('title', ''))}</h4>" if get("title") else ""
        credit = _inline(get("attr", ""))
        if get("attrlink") and credit:
            credit = f'<a href="{attr(get("attrlink", ""))}">{credit}</a>'
        words = " ".join(part for part in (_inline(get("caption", "")), credit) if part)
        body = f"<p>{words}</p>" if get("caption") or get("attr") else ""
        caption = f"<figcaption>{title}{body}</figcaption>"
    css = f' class="{attr(get("class", ""))}"' if get("class") else ""
    return f"<figure{css}>{image}{caption}</figure>"


def _attribute(value: str) -> str:
    return html.escape(value, quote=True)


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False})


def _inline(text: str) -> str:
    """Hugo's markdownify of a caption: inline Markdown, its raw HTML escaped."""
    return _markdown().renderInline(" ".join(text.split())).strip() if text else ""


def _reference(post: Expansion, call: _Call) -> str:
    """``ref``: the absolute URL of the page a path names; ``relref``: its site path."""
    target = call.named.get("path") or (call.positional[0] if call.positional else "")
    path, hash_mark, anchor = target.partition("#")
    fragment = hash_mark + anchor
    if not path:
        return fragment
    found = _content_file(post, path)
    linked = post.linked_of(found) if found is not None else None
    if linked is None:
        post.note(call.start, f'{{{{< {call.name} "{target}" >}}}} names no page of the site: '
                  "fix the path (from the content folder, or the post's own folder)")  # fmt: skip
        return ""
    return (linked.url if call.name == "ref" else linked.path) + fragment


def _content_file(post: Expansion, path: str) -> Path | None:
    """The content file a ref names: from the post's folder, from content/, or by name."""
    content = post.site.root / "content"
    names = [path]
    if not path.endswith(".md"):
        names = [f"{path}.md", f"{path}/index.md"]  # a section's _index.md is no post
    bases = [content] if path.startswith("/") else [post.path.parent, content]
    for base in bases:
        found = find_file(base, [name.lstrip("/") for name in names])
        if found is not None and found.is_relative_to(real(content)):
            return found
    return _by_name(post, content, path.strip("/"))


def _by_name(post: Expansion, content: Path, name: str) -> Path | None:
    """The one content file (or page bundle) with this name, anywhere in content/."""
    stem = name.removesuffix(".md")
    found = [
        path
        for path in post.files_under(content)
        if path.suffix == ".md"
        and (path.stem == stem or (path.stem == "index" and path.parent.name == stem))
    ]
    return found[0].resolve() if len(found) == 1 else None

"""Jekyll's Liquid and Hexo's Nunjucks tags in a post, as the generator renders them.

Jekyll (4.3, as measured): ``{% post_url NAME %}`` and ``{% link PATH %}`` give the site
path of a post or file with the baseurl in it; ``{{ site.url }}``, ``{{ site.baseurl }}``
and ``"/x" | relative_url`` or ``absolute_url`` the site's URLs; ``{% raw %}`` keeps text
literal; ``{% highlight LANG %}`` is code; ``{% comment %}`` is nothing. Liquid runs over
the whole file, code included. ``{{ site.baseurl }}{% post_url … %}`` is how Jekyll 3
(GitHub Pages) sites write a link and gives the same path here: Jekyll 4 would write the
baseurl twice, a link no site means.

Hexo (8): ``{% post_link SLUG [TEXT] %}`` is a link titled by the post, ``{% post_path
SLUG %}`` its site path, ``{% raw %}`` and ``{% codeblock lang:LANG %}`` as above; code
spans and fenced code are left alone.
"""

from __future__ import annotations

import bisect
import html
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from gazette.catalog.expansion import Expansion, Linked, code_block, find_file, last_written

_OPENING = re.compile(r"\{[{%]")
_LONGEST = 500  # characters a tag or an output may take; an unclosed one costs no more
_LIQUID = re.compile(r"\{\{(?P<out>.*)\}\}|\{%-?\s*(?P<tag>\w*)(?P<args>.*)%\}", re.S)
_BLOCKS = {"raw": "endraw", "comment": "endcomment", "highlight": "endhighlight",
           "codeblock": "endcodeblock", "code": "endcode"}  # fmt: skip
_EXTENSIONS = (".md", ".markdown", ".mkdown", ".mkd", ".mkdn", ".html")
_SITE_LINK = re.compile(r"\{%-?\s*(post_url|link)\b")
_STRING = re.compile(r"""^(?:"([^"]*)"|'([^']*)')$""")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)
_ADVICE = "replace it with Markdown, or wrap it in {% raw %} … {% endraw %} to show it as text"


def expand_liquid(post: Expansion) -> str:
    """The post's body with its Liquid (Jekyll) or Nunjucks tags (Hexo) expanded."""
    skipped = _code_spans(post.body) if post.site.generator == "hexo" else []
    return _expanded(post, 0, len(post.body), skipped)


def _expanded(post: Expansion, start: int, end: int, skipped: list[tuple[int, int]]) -> str:
    """``post.body[start:end]`` expanded, but for the tags that start in ``skipped``."""
    text, out, position = post.body, [], start
    for found in _tags(text, start, end):
        if found.start() < position or _inside(found.start(), skipped):
            continue
        before = text[position : found.start()]
        out.append(before.rstrip() if found.group().startswith(("{%-", "{{-")) else before)
        position = found.end()
        if found.group("tag") in _BLOCKS:
            output, position = _block(post, found, last_written(out), end)
        elif found.group("tag") is not None:
            output = _tag(post, found)
        else:
            output = _output(post, found)
        out.append(output)
        while (
            found.group().endswith(("-%}", "-}}")) and position < end and text[position].isspace()
        ):
            position += 1
    out.append(text[position:end])
    return "".join(out)


def _tags(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """Each output ``{{ … }}`` and tag ``{% … %}`` in ``text[start:end]``, in order."""
    for opening in _OPENING.finditer(text, start, end):
        closer = "}}" if opening.group() == "{{" else "%}"
        close = text.find(closer, opening.end(), min(end, opening.end() + _LONGEST))
        found = _LIQUID.fullmatch(text, opening.start(), close + 2) if close >= 0 else None
        if found is not None:
            yield found


def _block(post: Expansion, found: re.Match[str], before: str, stop: int) -> tuple[str, int]:
    """A tag with a body up to its end tag, and where the text goes on after it."""
    name, text = found.group("tag"), post.body
    end = None
    if stop < len(text) or name not in post.repeats:  # after an unclosed one, none closes
        end = re.compile(r"\{%-?\s*" + _BLOCKS[name] + r"\s*-?%\}").search(text, found.end(), stop)
    if end is None:
        message = f"{{% {name} %}} is never closed: add {{% {_BLOCKS[name]} %}}"
        post.note(found.start(), message, name)
        return "", found.end()
    if name == "raw":
        return text[found.end() : end.start()], end.end()
    if name == "comment":
        return "", end.end()
    if post.site.generator == "jekyll":  # Liquid reads a highlight's code too
        inner = _expanded(post, found.end(), end.start(), [])
    else:
        inner = text[found.end() : end.start()]
    return code_block(inner, _language(name, found.group("args")), before), end.end()


def _language(name: str, args: str) -> str:
    words = args.split()
    if name == "highlight":
        return words[0] if words else ""
    return next((word[5:] for word in words if word.startswith("lang:")), "")


def _tag(post: Expansion, found: re.Match[str]) -> str:
    name, args = found.group("tag"), found.group("args").strip().removesuffix("-").strip()
    jekyll = post.site.generator == "jekyll"
    if jekyll and name in ("post_url", "link"):
        linked = _jekyll_post(post, args) if name == "post_url" else _jekyll_file(post, args)
        if linked is not None:
            return linked.path
        post.note(found.start(), f"{{% {name} {args} %}} names no file of the site: fix the name")
        return ""
    if not jekyll and name in ("post_link", "post_path"):
        return _hexo_link(post, found, name, args)
    if name.startswith("end") and name[3:] in post.repeats:
        return ""  # the end of a tag already named
    if name in post.repeats:
        post.note(found.start(), "", name)  # counted in the first one's finding
        return ""
    generator = "Jekyll" if jekyll else "Hexo"
    closed = re.compile(r"\{%-?\s*end" + re.escape(name) + r"\b").search(post.body, found.end())
    kept = " (the text between its tags is kept)" if closed else ""
    message = f"{generator} tag {{% {name} %}} is not rendered by gazette and is left out"
    post.note(found.start(), f"{message}{kept}: {_ADVICE}", name)
    return ""


def _output(post: Expansion, found: re.Match[str]) -> str:
    """A Liquid output: the site's URLs, or a string through relative_url/absolute_url."""
    expression = found.group("out").strip("- \t\n")
    value = _value(post, expression) if post.site.generator == "jekyll" else None
    if value is None:
        message = f"{{{{ {expression} }}}} is not rendered by gazette and is left out: {_ADVICE}"
        post.note(found.start(), message, "{{" + expression)
        return ""
    if expression == "site.baseurl" and _SITE_LINK.match(post.body, found.end()):
        return ""  # post_url and link give the baseurl already
    return value


def _value(post: Expansion, expression: str) -> str | None:
    base, *filters = (part.strip() for part in expression.split("|"))
    site = post.site
    literal = _STRING.match(base)
    value = {"site.url": site.url, "site.baseurl": site.baseurl}.get(base)
    if literal:
        value = literal.group(1) if literal.group(1) is not None else literal.group(2)
    for name in filters:
        if value is None or name not in ("relative_url", "absolute_url"):
            return None
        if not re.match(r"^[a-z][a-z0-9+.-]*:", value, re.I):
            value = f"{site.baseurl}/{value.lstrip('/')}"
            value = f"{site.url}{value}" if name == "absolute_url" else value
    return value


def _jekyll_post(post: Expansion, name: str) -> Linked | None:
    """The post ``{% post_url name %}`` names: its file name without the extension, in a
    _posts folder (``folder/name``: in _posts/folder or folder/_posts)."""
    folder, _, stem = name.strip("/").rpartition("/")
    root = post.site.root.resolve()
    folders = [f"_posts/{folder}", f"{folder}/_posts"] if folder else ["_posts"]
    direct = find_file(root, [f"{place}/{stem}{ext}" for place in folders for ext in _EXTENSIONS])
    if direct is not None:
        return post.linked_of(direct)
    found = [  # posts in folders of their own under _posts: the whole site is looked through
        path
        for path in post.files_under(root)
        if path.stem == stem and "_posts" in path.relative_to(root).parts
    ]
    if folder:  # the folder's names are in the post's path, on either side of _posts
        wanted = set(Path(folder).parts)
        found = [path for path in found if wanted <= set(path.relative_to(root).parts)]
    return post.linked_of(found[0]) if found else None


def _jekyll_file(post: Expansion, name: str) -> Linked | None:
    """``{% link path %}``: a post's URL, a page's, or a static file's path."""
    root = post.site.root
    path = find_file(root, [name.strip("/")])
    if path is None:
        return None
    relative = path.relative_to(root.resolve())
    if "_posts" in relative.parts:
        return post.linked_of(path)
    if path.suffix not in (".md", ".markdown", ".html"):
        return Linked(post.site.base_url + quote(relative.as_posix()))
    own = post.front_matter(path).get("permalink")
    page = relative.with_suffix("").as_posix()
    if own:
        page = str(own).lstrip("/")
    elif relative.stem == "index":  # a folder's page is the folder
        page = page.removesuffix("index")
    else:  # the "pretty" style makes every page a folder
        page += "/" if post.site.permalink.endswith("/") else ".html"
    return Linked(post.site.base_url + quote(page))


def _hexo_link(post: Expansion, found: re.Match[str], name: str, args: str) -> str:
    """``{% post_link slug [text] [escape] %}`` and ``{% post_path slug %}``."""
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    posts = post.site.root / "source" / "_posts"
    slug = words[0] if words else ""
    path = find_file(posts, [f"{slug}.md", f"{slug}.markdown"]) if slug else None
    linked = post.linked_of(path) if path is not None else None
    if linked is None:
        post.note(found.start(), f"{{% {name} {args} %}} names no post of the site: fix the slug")
        return ""
    if name == "post_path":
        return linked.path
    text = words[1] if len(words) > 1 else linked.title
    if len(words) < 3 or words[2] != "false":  # "false": the author's HTML (then sanitized)
        text = html.escape(text)
    title = html.escape(linked.title)
    return f'<a href="{html.escape(linked.path)}" title="{title}">{text}</a>'


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has fenced code or code spans, which Hexo leaves as they are."""
    spans: list[tuple[int, int]] = []
    position = 0
    for fence in _FENCE.finditer(text):
        if fence.start() < position:
            continue
        mark = fence.group(1)
        close = re.compile(r"^ {0,3}" + mark[0] + "{" + str(len(mark)) + r",}[ \t]*$", re.M)
        end = close.search(text, text.find("\n", fence.end()) + 1 or len(text))
        stop = end.end() if end else len(text)
        spans.extend(_inline_code(text, position, fence.start()))
        spans.append((fence.start(), stop))
        position = stop
    spans.extend(_inline_code(text, position, len(text)))
    return spans


def _inline_code(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Code spans: a run of backticks up to the next run of the same length."""
    runs = [(start + m.start(), start + m.end()) for m in re.finditer(r"`+", text[start:end])]
    by_length: dict[int, list[int]] = {}
    for index, (a, b) in enumerate(runs):
        by_length.setdefault(b - a, []).append(index)
    spans, index = [], 0
    while index < len(runs):
        a, b = runs[index]
        same = by_length[b - a]
        later = bisect.bisect_right(same, index)
        if later < len(same):
            spans.append((a, runs[same[later]][1]))
            index = same[later]
        index += 1
    return spans


def _inside(offset: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``offset`` is in one of ``spans`` (sorted, not overlapping)."""
    index = bisect.bisect_right(spans, (offset, sys.maxsize)) - 1
    return index >= 0 and spans[index][0] <= offset < spans[index][1]

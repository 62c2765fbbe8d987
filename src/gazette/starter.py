"""``gazette init``: a commented starter config for a blog's folder or its feed.

For a folder, the generator is found (gazette.catalog.sites) and the site's title, URL,
language and time zone are read from its config file; for a feed URL, from the feed.
Whatever is not found is guessed, said in a comment beside it, and listed for the user.
The config is written only where no file is: an existing one is never replaced.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import feedparser

from gazette.catalog.feed import FeedTooLarge, FeedUnavailable, fetch_feed, read_feed
from gazette.catalog.generators import GeneratorConfigError, find_site
from gazette.catalog.limits import size_limit
from gazette.catalog.sites import (
    config_file,
    detect_generator,
    not_a_site,
    post_globs,
    site_posts,
)
from gazette.catalog.xmltext import readable_xml
from gazette.errors import ConfigError, SourceError

GENERATOR_NAMES = {"jekyll": "Jekyll", "hugo": "Hugo", "hexo": "Hexo"}
PLACEHOLDER_URL = "https://example.org/"


@dataclass(frozen=True, slots=True)
class Value:
    """One [site] value and where it came from ("" when it is a guess)."""

    text: str
    origin: str
    guess: str = ""  # for a guess: what it is and what to do


@dataclass(frozen=True, slots=True)
class Blog:
    """What init found out about a blog."""

    described: str  # "the Hugo site in ../blog (hugo.toml)"
    title: Value
    url: Value
    language: Value
    timezone: Value
    sources: tuple[dict[str, str], ...]  # [[sources]] tables
    posts: int
    folder: Path | None = None  # the site's top folder
    reads: tuple[str, ...] = ()  # the globs of its posts, relative to it
    generator: str = ""

    def guesses(self) -> list[str]:
        values = (self.title, self.url, self.language, self.timezone)
        return [value.guess for value in values if value.guess]

    def published_with(self, config: Path) -> str:
        """A warning when the generator would copy ``config`` into the site it publishes:
        Jekyll copies every file of its folder whose path has no part starting with _ or ."""
        if self.generator != "jekyll" or self.folder is None:
            return ""
        config = config.resolve()
        if not config.is_relative_to(self.folder):
            return ""
        parts = config.relative_to(self.folder).parts
        if any(part.startswith(("_", ".")) for part in parts):
            return ""
        return (
            f"Jekyll copies {parts[0]} into the site it builds: add it to exclude in "
            "_config.yml (exclude: [" + parts[0] + "])"
        )


# --- a site's folder -------------------------------------------------------------------


def blog_in_folder(folder: Path) -> Blog:
    """The blog whose generator's site has ``folder`` as its top folder."""
    root = folder.resolve()
    if not root.is_dir():
        raise ConfigError(f"{root}: not a folder; give the blog's top folder or its feed's URL")
    generator = detect_generator(root)
    if generator is None:
        raise ConfigError(not_a_site(root))
    config = config_file(generator, root)
    assert config is not None, "a detected site has its config file"
    shown = config.relative_to(root).as_posix() + ("/" if config.is_dir() else "")
    try:
        site = find_site(generator, root, "")
    except GeneratorConfigError as error:
        raise ConfigError(str(error)) from None
    name = GENERATOR_NAMES[generator]
    keys = _SITE_KEYS[generator]
    sources = ({"path": str(root), "format": "markdown", "generator": generator},)
    return Blog(
        described=f"the {name} site in {folder} ({shown})",
        title=_found(site.title, shown, keys[0], root.name, "the folder's name"),
        url=_site_url(site.base_url, shown, keys[1]),
        language=_found(_language_tag(site.language), shown, keys[2], "en", "English"),
        timezone=_zone(site.timezone, shown, keys[3], name),
        sources=sources,
        posts=len(site_posts(generator, root)),
        folder=root,
        reads=post_globs(generator, root),
        generator=generator,
    )


# The keys each generator's config gives title, url, language and time zone in.
_SITE_KEYS = {
    "jekyll": ("title", "url + baseurl", "lang", "timezone"),
    "hugo": ("title", "baseURL", "languageCode", "timeZone"),
    "hexo": ("title", "url", "language", "timezone"),
}


def _found(text: str, config: str, key: str, default: str, what: str) -> Value:
    if text:
        return Value(text, f"from {config}: {key}")
    return Value(default, "", f"{key} is not in {config}: {what} ({default!r}) stands in")


def _site_url(base_url: str, config: str, key: str) -> Value:
    if re.match(r"^https?://[^/\s]+", base_url):
        return Value(base_url, f"from {config}: {key}")
    guess = f"{key} is not in {config}: set site.url to the blog's address, or links are wrong"
    return Value(PLACEHOLDER_URL, "", guess)


def _zone(name: str, config: str, key: str, generator: str) -> Value:
    if name and _known_zone(name):
        return Value(name, f"from {config}: {key}")
    why = f"{key} is not in {config}"
    if name:
        why = f"{key} {name!r} is not a time zone gazette knows"
    return Value("UTC", "", f"{why}: UTC stands in; set site.timezone to the one {generator} uses")


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _language_tag(value: Any) -> str:
    """A BCP 47 tag as written (zh-CN, not zh-cn or zh_CN); Hexo may list several: the first."""
    if isinstance(value, list):
        value = value[0] if value else ""
    text = str(value or "").strip().replace("_", "-")
    if not text or text == "default" or not re.match(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", text):
        return ""
    first, *rest = text.split("-")
    parts = [first.lower()]
    for part in rest:
        parts.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part)
    return "-".join(parts)


# --- a feed ----------------------------------------------------------------------------


def blog_of_feed(url: str, timeout: float = 10.0) -> Blog:
    """The blog that publishes the feed at ``url`` (fetched once, read as a source is)."""
    try:
        fetched, _ = fetch_feed(url, timeout, None, size_limit(10))
    except (FeedUnavailable, FeedTooLarge) as error:
        raise SourceError(f"{url}: {error}") from None
    read = read_feed(fetched.body, url, "")
    problems = [finding.message for finding in read.findings if finding.severity == "error"]
    header = _feed_header(fetched.body) if not problems else {}
    if problems or not header.get("version"):
        problem = problems[0] if problems else "not an RSS, Atom or JSON feed"
        raise SourceError(
            f"{url}: {problem}; give the URL of the blog's feed (a page names it in its "
            '<link rel="alternate"> element)'
        )
    home = str(header.get("link") or "")
    if not re.match(r"^https?://[^/\s]+", home):
        parts = urlsplit(url)
        home = f"{parts.scheme}://{parts.netloc}/"
    title = str(header.get("title") or "").strip()
    language = _language_tag(header.get("language"))
    return Blog(
        described=f"the feed {url}",
        title=_found(title, "the feed", "its title", urlsplit(url).hostname or url, "its host"),
        url=Value(home, "from the feed: its link" if header.get("link") else "", _no_link(header)),
        language=_found(language, "the feed", "its language", "en", "English"),
        timezone=Value("UTC", "", "a feed does not say its time zone: set site.timezone"),
        sources=({"path": url, "format": "feed"},),
        posts=len(read.drafts),
    )


def _no_link(header: dict[str, Any]) -> str:
    if header.get("link"):
        return ""
    return "the feed names no site link: its server's address stands in; set site.url"


def _feed_header(body: bytes) -> dict[str, Any]:
    """The feed's title, link (the site's address) and language; its version is empty
    when the document is no feed."""
    if body.lstrip()[:1] == b"{":
        data = json.loads(body)
        return {
            "version": str(data.get("version") or "").startswith("https://jsonfeed.org/"),
            "title": data.get("title"),
            "link": data.get("home_page_url"),
            "language": data.get("language"),
        }
    parsed = feedparser.parse(readable_xml(body).data)
    feed = parsed.feed
    return {
        "version": parsed.get("version"),
        "title": feed.get("title"),
        "link": feed.get("link"),
        "language": feed.get("language"),
    }


# --- the config file -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the config goes and where gazette keeps its own files (relative to it)."""

    config: Path
    files: str  # "" or "../" or "_gazette/": prefix of public/, state/, outbox/

    @classmethod
    def for_config(cls, config: Path, blog: Blog, cwd: Path) -> Layout:
        """gazette's folders go in the folder init runs in (or the config's, when the
        config is elsewhere); inside the blog's folder, in _gazette/, which no generator
        publishes."""
        config = (cwd / config).resolve()
        home = cwd if config.is_relative_to(cwd) else config.parent
        if blog.folder is not None and home.is_relative_to(blog.folder):
            home = home / "_gazette"
        return cls(config, _relative(home, config.parent, "/"))

    def path(self, target: str | Path) -> str:
        """``target`` as the config writes it: relative to the config's folder when it is
        near (at most one folder up), else absolute."""
        return _relative(Path(target), self.config.parent, "") or "."


def _relative(target: Path, start: Path, end: str) -> str:
    relative = Path(os.path.relpath(target, start)).as_posix()
    if relative.startswith("../.."):
        return target.as_posix() + end
    return "" if relative == "." else relative + end


def starter_config(blog: Blog, layout: Layout, given: str) -> str:
    """The commented TOML of a starter config for ``blog``."""
    files = layout.files
    sources = "\n".join(_source_table(table, layout, blog.reads) for table in blog.sources)
    site_host = urlsplit(blog.url.text).hostname or "example.org"
    return _TEMPLATE.format(
        given=given,
        described=blog.described,
        title=_setting("title", blog.title),
        url=_setting("url", blog.url),
        language=_setting("language", blog.language),
        timezone=_setting("timezone", blog.timezone),
        sources=sources,
        output=_toml(files + "public"),
        outbox=_toml(files + "outbox"),
        database=_toml(f"sqlite:///{files}state/gazette.db"),
        sender=_toml(f"{_phrase(blog.title.text)} <digest@{site_host}>"),
    )


def _setting(key: str, value: Value) -> str:
    line = f"{key} = {_toml(value.text)}"
    note = value.origin or f"GUESSED: {value.guess}"
    return f"{line:<33} # {note}"


def _source_table(table: dict[str, str], layout: Layout, reads: tuple[str, ...]) -> str:
    path = table["path"] if table["format"] == "feed" else layout.path(table["path"])
    lines = ["[[sources]]"]
    if reads:
        found = " and ".join(reads)
        lines.append(f"# The site's top folder: its posts are found in it on each run ({found})")
    lines += [f"path = {_toml(path)}", f"format = {_toml(table['format'])}"]
    if "generator" in table:
        name = GENERATOR_NAMES[table["generator"]]
        note = f"# URLs, tags and dates as {name} makes them, from its config file"
        lines.append(f"{'generator = ' + _toml(table['generator']):<33} {note}")
    return "\n".join(lines) + "\n"


def _phrase(title: str) -> str:
    """The title as a mail's display name: no characters that need quoting."""
    return " ".join(title.translate(str.maketrans("", "", '"<>()\\,;:@[]')).split()) or "Digest"


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL must be escaped too)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


_TEMPLATE = """\
# gazette's config for {described},
# written by `gazette init {given}`. Paths are relative to this file. Any key can be
# overridden by a variable GAZETTE_<SECTION>_<KEY> (GAZETTE_STATE_DATABASE=...); secrets
# (API tokens, keys) come only from the environment. Every key: the README's reference.

[site]
{title}
{url}
{language}
{timezone}
# description = ""                # the feeds' subtitle
# author = ""                     # when a post names none

{sources}
[feeds]
output = {output}                 # feed.xml, atom.xml, feed.json, index.html; serve it at site.url
# base_url = "https://example.org/feeds/"  # where that folder is served, when not at site.url
# entries = 20                    # posts per feed
# content = "full"                # or "summary"

[digest]
schedule = "0 8 * * mon"          # cron in site.timezone: Mondays at 8
# A local trial with `gazette serve` on this machine; for real subscribers set
# serve.url to the public https address and remove this line (it then follows serve.url).
unsubscribe_url = "http://127.0.0.1:8080/unsubscribe"
# max_posts = 10                  # posts per issue at most
# first_issue_posts = 5           # the very first issue: the newest 5

[mail]
provider = "outbox"               # writes each mail to the outbox folder; for real mail:
#                                   smtp | postmark | sendgrid | mailgun | resend | ses
from = {sender}
outbox = {outbox}

[state]
database = {database}  # or postgresql://user@host/dbname

[serve]
listen = "127.0.0.1:8080"
# url = "https://news.example.org"  # the public address of `gazette serve`
"""


# --- writing ---------------------------------------------------------------------------


def write_new_file(path: Path, text: str) -> None:
    """Writes ``text`` to ``path``, which must not exist: nothing is ever overwritten."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise ConfigError(
            f"{path}: already exists, and init never overwrites a file; write the new "
            "config elsewhere with `gazette --config OTHER.toml init ...`, or move that file"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot write: {error.strerror}") from None

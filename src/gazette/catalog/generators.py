"""What a static site generator's conventions change in reading its Markdown posts.

A Markdown source may name the generator that builds the blog (``generator = "jekyll"``,
``"hugo"`` or ``"hexo"``); its posts are then read by that generator's rules, not
gazette's defaults, and each post's URL is the page the generator makes of it, from the
site's own config file (Jekyll's ``_config.yml``: ``url``, ``baseurl``, ``permalink``;
Hugo's ``hugo.toml``: ``baseURL``, ``[permalinks]``; Hexo's ``_config.yml``: ``url``,
``permalink``) and the post's front matter (Jekyll's ``permalink`` and ``slug``; Hugo's
``url`` and ``slug``; Hexo's ``permalink``).

- Jekyll names a post ``YYYY-MM-DD-slug.md``: the date comes from the name with no need
  to say so, and a post without a title is titled from the slug ("Diffusion Models").
- Jekyll reads ``tags`` and ``categories`` given as one string as space-separated words.
- Jekyll's Markdown is kramdown, whose ``$$`` inside a sentence is inline math.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

Generator = Literal["jekyll", "hugo", "hexo"]
GENERATORS: tuple[Generator, ...] = ("jekyll", "hugo", "hexo")
# PyYAML reads a tagged value without checking it first: an empty !!int raises
# IndexError, an empty !!bool KeyError, an empty !!timestamp AttributeError.
YAML_CONSTRUCTOR_ERRORS = (IndexError, KeyError, AttributeError)
# Jekyll's own pattern for a post's file name (Jekyll::Document::DATE_FILENAME_MATCHER).
_JEKYLL_POST = re.compile(r"^(?:.+/)*(\d{2,4}-\d{1,2}-\d{1,2})-(.*)(\.[^.]+)$")


def implied_math(generator: str) -> tuple[str, ...]:
    """The math conventions (gazette.catalog.mdmath) a generator's Markdown follows."""
    return ("kramdown",) if generator == "jekyll" else ()


def is_jekyll_post_name(path: str) -> bool:
    """Whether the file is named as Jekyll names posts, its date first."""
    return _JEKYLL_POST.match(path.replace("\\", "/")) is not None


def title_from_file_name(path: str) -> str:
    """Jekyll's title for a post that has none: the slug of its name, words capitalized."""
    found = _JEKYLL_POST.match(path.replace("\\", "/"))
    slug = found.group(2) if found else path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return " ".join(word.capitalize() for word in slug.split("-") if word)


def split_words(value: str, generator: str) -> tuple[str, ...]:
    """Tags or categories given as one string: Jekyll splits them at spaces, others at
    commas."""
    parts = value.split() if generator == "jekyll" else value.split(",")
    return tuple(part.strip() for part in parts if part.strip())


# --- the generator's site: its config file and its permalinks ------------------------

# Hugo reads the first of its names it finds, TOML, YAML or JSON alike.
_HUGO_FILES = tuple(
    f"{name}.{ext}" for name in ("hugo", "config") for ext in ("toml", "yaml", "yml", "json")
)
CONFIG_FILES: dict[str, tuple[str, ...]] = {
    "jekyll": ("_config.yml",),
    "hugo": _HUGO_FILES,
    "hexo": ("_config.yml",),
}
# Jekyll's built-in permalink styles (Jekyll::Utils#permalink_style).
_JEKYLL_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_PLACEHOLDER = re.compile(r":([a-z_]+)")
# Characters Jekyll's "pretty" slugify keeps (Jekyll::Utils.slugify).
_JEKYLL_PRETTY = re.compile(r"[^\w._~!$&'()+,;=@]+")
_URL_SAFE = "/:@!$&'()*+,;=~.-_"


class GeneratorConfigError(ValueError):
    """The generator's config file cannot be read; the message names it."""


@dataclass(frozen=True, slots=True)
class GeneratorSite:
    """What a generator's config says about its site (the keys gazette uses)."""

    generator: str
    root: Path
    base_url: str  # absolute, "/" at the end: where the site's paths start
    permalink: str = ""  # Jekyll: the site's permalink template
    permalinks: dict[str, str] = field(default_factory=dict)  # Hugo: a pattern per section
    title: str = ""
    language: str = ""
    timezone: str = ""
    excerpt_separator: str = ""  # Jekyll: where a post's excerpt ends, when set
    ugly_urls: tuple[str, ...] = ()  # Hugo: the sections whose pages are .html files; "*": all
    file_name: str = ""  # Hexo: new_post_name, the pattern its post files are named by
    defaults: dict[str, str] = field(default_factory=dict)  # Hexo: values of placeholders
    url: str = ""  # Jekyll: site.url (without the baseurl), as Liquid shows it
    baseurl: str = ""  # Jekyll: site.baseurl ("/blog", or "")


def find_site(generator: str, posts: Path, fallback_url: str) -> GeneratorSite:
    """The site whose config file is in ``posts``'s folder or above it."""
    found = find_config(generator, posts)
    if found is not None:
        return _load_site(generator, found, fallback_url)
    *others, last = CONFIG_FILES[generator]
    wanted = f"{', '.join(others)} or {last}" if others else last
    raise GeneratorConfigError(
        f"generator = {generator!r}, but no {wanted} is in {posts} or above it; point the "
        "source's path at the posts inside the site's folder"
    )


# Hugo's config folder: a file per top-level key (params.toml is [params]), hugo.toml for
# the rest; `hugo` builds the production environment, whose folder wins over _default's.
HUGO_CONFIG_DIRS = (Path("config") / "_default", Path("config") / "production")
_CONFIG_EXTENSIONS = (".toml", ".yaml", ".yml", ".json")


def find_config(generator: str, posts: Path) -> Path | None:
    """The generator's config (as config_path finds it) in ``posts`` or the nearest folder
    above it that has one."""
    for folder in (posts, *posts.parents):
        found = config_path(generator, folder)
        if found is not None:
            return found
    return None


def config_path(generator: str, root: Path) -> Path | None:
    """The generator's config in ``root``: the first of its file names found, else Hugo's
    config/_default/ folder."""
    found = next((root / n for n in CONFIG_FILES[generator] if (root / n).is_file()), None)
    if found is None and generator == "hugo" and _config_files(root / HUGO_CONFIG_DIRS[0]):
        return root / HUGO_CONFIG_DIRS[0]
    return found


def config_inputs(found: Path) -> list[Path]:
    """The files the config ``config_path`` found is read from: it, or every file of
    Hugo's config folders."""
    if not found.is_dir():
        return [found]
    root = found.parent.parent
    return [path for folder in HUGO_CONFIG_DIRS for path in _config_files(root / folder)]


def _config_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in _CONFIG_EXTENSIONS and p.is_file())


def read_config(path: Path) -> dict[str, Any]:
    """A generator's config file (TOML, YAML or JSON, by its name), or Hugo's config
    folder, as a dict."""
    if path.is_dir():
        return _read_config_folder(path.parent.parent)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            config = tomllib.loads(text)
        elif path.suffix == ".json":
            config = json.loads(text)
        else:
            config = yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        problem = str(error).split("\n")[0]
    except YAML_CONSTRUCTOR_ERRORS:
        problem = "a tagged value that cannot be read, such as an empty !!int"
    else:
        return config if isinstance(config, dict) else {}
    raise GeneratorConfigError(f"{path}: cannot be read ({problem}); fix it")


def _read_config_folder(root: Path) -> dict[str, Any]:
    """Hugo's config/_default/ (then config/production/) merged into one config."""
    merged: dict[str, Any] = {}
    for folder in HUGO_CONFIG_DIRS:
        for path in _config_files(root / folder):
            values = hugo_keys(read_config(path))
            key = path.stem.lower()
            if key in ("hugo", "config"):
                merged.update(values)
            elif "." not in key:  # menus.en.toml and the like are one language's
                table = merged.get(key)
                merged[key] = {**table, **values} if isinstance(table, dict) else values
    return merged


def _load_site(generator: str, path: Path, fallback_url: str) -> GeneratorSite:
    config = read_config(path)
    root = path.parent.parent if path.is_dir() else path.parent
    if generator == "jekyll":
        return _jekyll_site(root, config, fallback_url)
    if generator == "hexo":
        return _hexo_site(root, config, fallback_url)
    return _hugo_site(root, config, fallback_url)


def _jekyll_site(root: Path, config: dict[str, Any], fallback_url: str) -> GeneratorSite:
    url = str(config.get("url") or fallback_url).rstrip("/")
    baseurl = str(config.get("baseurl") or "").strip("/")
    permalink = str(config.get("permalink") or "date")
    return GeneratorSite(
        generator="jekyll",
        root=root,
        base_url=f"{url}/{baseurl}/" if baseurl else f"{url}/",
        permalink=_JEKYLL_STYLES.get(permalink, permalink),
        title=str(config.get("title") or ""),
        language=str(config.get("lang") or config.get("locale") or ""),
        timezone=str(config.get("timezone") or ""),
        excerpt_separator=str(config.get("excerpt_separator") or ""),
        url=url,
        baseurl=f"/{baseurl}" if baseurl else "",
    )


def _hugo_site(root: Path, config: dict[str, Any], fallback_url: str) -> GeneratorSite:
    config = hugo_keys(config)
    permalinks = config.get("permalinks") or {}
    return GeneratorSite(
        generator="hugo",
        root=root,
        base_url=str(config.get("baseurl") or fallback_url).rstrip("/") + "/",
        permalinks={str(k): str(v) for k, v in permalinks.items() if isinstance(v, str)},
        title=str(config.get("title") or ""),
        language=str(config.get("languagecode") or config.get("defaultcontentlanguage") or ""),
        timezone=str(config.get("timezone") or ""),
        ugly_urls=_ugly_sections(config.get("uglyurls")),
    )


def _ugly_sections(value: Any) -> tuple[str, ...]:
    """Hugo's uglyURLs: true for every section, or a table of sections."""
    if isinstance(value, dict):
        return tuple(sorted(str(section) for section, on in value.items() if on is True))
    return ("*",) if value is True else ()


def hugo_keys(config: dict[str, Any]) -> dict[str, Any]:
    """Hugo's config keys are not case-sensitive (baseURL is baseurl): all lower case."""
    return {str(key).lower(): value for key, value in config.items()}


def _hexo_site(root: Path, config: dict[str, Any], fallback_url: str) -> GeneratorSite:
    language = config.get("language")  # one, or a list whose first is the site's
    return GeneratorSite(
        generator="hexo",
        root=root,
        base_url=str(config.get("url") or fallback_url).rstrip("/") + "/",
        permalink=str(config.get("permalink") or ":year/:month/:day/:title/"),
        title=str(config.get("title") or ""),
        language=str(language[0] if isinstance(language, list) and language else language or ""),
        timezone=str(config.get("timezone") or ""),
        file_name=str(config.get("new_post_name") or ":title.md"),
        defaults={
            "category": str(config.get("default_category") or "uncategorized"),
            **{str(k): str(v) for k, v in (config.get("permalink_defaults") or {}).items()},
        },
    )


def permalink(site: GeneratorSite, path: Path, meta: dict[str, Any], published: datetime) -> str:
    """The absolute URL of the page the generator makes of the post at ``path``."""
    if site.generator == "jekyll":
        relative = _jekyll_path(site, path, meta, published)
    elif site.generator == "hexo":
        relative = _hexo_path(site, path, meta, published)
    else:
        relative = _hugo_path(site, path, meta, published)
    relative = re.sub(r"/{2,}", "/", "/" + relative)
    return site.base_url + quote(relative.lstrip("/"), safe=_URL_SAFE)


def _jekyll_path(site: GeneratorSite, path: Path, meta: dict[str, Any], when: datetime) -> str:
    own = meta.get("permalink")
    template = str(own) if own else site.permalink
    if site.timezone:
        when = when.astimezone(_zone(site.timezone, when))
    found = _JEKYLL_POST.match(path.name)
    name = found.group(2) if found else path.stem
    title = _JEKYLL_PRETTY.sub("-", str(meta.get("slug") or name)).strip("-")
    categories = [
        *jekyll_folder_categories(site, path),
        *_words(meta.get("category")),
        *_words(meta.get("categories")),
    ]
    values = {
        **_date_values(when),
        "title": title,
        "slug": _JEKYLL_PRETTY.sub("-", title).lower(),
        "name": name,
        "categories": "/".join(dict.fromkeys(c.lower() for c in categories)),
        "output_ext": ".html",
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group()), template)


def _hugo_path(site: GeneratorSite, path: Path, meta: dict[str, Any], when: datetime) -> str:
    if meta.get("url"):
        return str(meta["url"])
    relative = path.relative_to(site.root / "content")
    section = relative.parts[0] if len(relative.parts) > 1 else ""
    name = relative.parent.name if path.stem == "index" else path.stem
    slug = str(meta.get("slug") or "")
    pattern = site.permalinks.get(section)
    if pattern is None:
        folder = relative.parent.parent if path.stem == "index" else relative.parent
        return _ugly(site, section, _urlize(f"{folder.as_posix()}/{slug or name}/"))
    values = {
        **_date_values(when),
        "section": section,
        "sections": relative.parent.as_posix(),
        "title": _urlize(str(meta.get("title") or "")),
        "slug": _urlize(slug or str(meta.get("title") or "")),
        "filename": _urlize(name),
        "slugorfilename": _urlize(slug or name),
    }
    return _ugly(
        site, section, _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group()), pattern)
    )


def _ugly(site: GeneratorSite, section: str, path: str) -> str:
    """With uglyURLs, Hugo writes a page as name.html, not name/index.html."""
    if "*" not in site.ugly_urls and section not in site.ugly_urls:
        return path
    return path.rstrip("/") + ".html"


def _hexo_path(site: GeneratorSite, path: Path, meta: dict[str, Any], when: datetime) -> str:
    if meta.get("permalink"):
        return str(meta["permalink"])
    # Hexo's timezone only says how to read dates; `hexo generate` writes a URL's date
    # parts in the zone of the machine it runs on (its TZ), and so does gazette.
    when = when.astimezone()
    relative = path.relative_to(site.root / "source" / "_posts").with_suffix("").as_posix()
    slug = hexo_file_name(site.file_name, relative).get("title", relative)
    stamp = str(int(when.timestamp()))
    categories = _words_or_list(meta.get("categories"))
    values = {
        **site.defaults,
        **{str(k): str(v) for k, v in meta.items() if isinstance(v, (str, int, float))},
        **_date_values(when),
        "title": slug,
        "name": slug.rsplit("/", 1)[-1],
        "post_title": _hexo_slugize(str(meta.get("title") or "")).lower(),
        "timestamp": stamp,
        "hash": hashlib.sha1((slug + stamp).encode()).hexdigest()[:12],  # noqa: S324 - Hexo's
    }
    if categories:
        values["category"] = "/".join(_hexo_slugize(name) for name in categories)
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group()), site.permalink)


# The placeholders Hexo reads from a post's file name, as its new_post_name has them.
_HEXO_NAME_PARTS = {
    "year": r"\d{4}",
    "month": r"\d{2}",
    "day": r"\d{2}",
    "i_month": r"\d{1,2}",
    "i_day": r"\d{1,2}",
    "hash": r"[0-9a-f]{12}",
}
# Characters hexo-util's slugize turns into hyphens.
_HEXO_SPECIAL = re.compile(r"""[\s~`!@#$%^&*()\-_+=\[\]{}|\\;:"'<>,.?/]+""")


def hexo_file_name(pattern: str, relative: str) -> dict[str, str]:
    """What a post's path under source/_posts/ (no extension) says by Hexo's new_post_name
    (":year-:month-:day-:title.md"): its slug ("title") and any date parts. A path that
    does not fit is the slug, slugized."""
    rule = re.sub(r"\.[^./:]+$", "", pattern)
    regex = "".join(
        f"(?P<{part[1:]}>{_HEXO_NAME_PARTS.get(part[1:], '.+?')})"
        if part.startswith(":")
        else re.escape(part)
        for part in re.split(r"(:[a-z_]+)", rule)
        if part
    )
    found = re.fullmatch(regex, relative)
    if found is None:
        return {"title": _hexo_slugize(relative)}
    return {"title": _hexo_slugize(relative), **found.groupdict()}


def _hexo_slugize(text: str) -> str:
    """hexo-util's slugize: accents dropped, runs of special characters one hyphen."""
    marks = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    plain = unicodedata.normalize("NFC", marks)  # Hangul syllables come back whole
    plain = re.sub(r"[\x00-\x1f]", "", plain)
    return _HEXO_SPECIAL.sub("-", plain).strip("-")


def _words_or_list(value: Any) -> list[str]:
    """Hexo's categories: one name, or a list (a nested list is one branch: its last)."""
    if isinstance(value, list) and value and isinstance(value[-1], list):
        value = value[-1]
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)] if value not in (None, "") else []


def _date_values(when: datetime) -> dict[str, str]:
    return {
        "year": f"{when:%Y}",
        "month": f"{when:%m}",
        "day": f"{when:%d}",
        "i_month": str(when.month),
        "i_day": str(when.day),
        "short_year": f"{when:%y}",
        "y_day": f"{when:%j}",
        "hour": f"{when:%H}",
        "minute": f"{when:%M}",
        "second": f"{when:%S}",
    }


def _urlize(text: str) -> str:
    """Hugo's urlize: lower case, spaces as hyphens, only path-safe characters kept."""
    text = text.strip().lower().replace(" ", "-")
    return "".join(c for c in text if c.isalnum() or c in "./_-#+~")


def _words(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


def site_zone(site: GeneratorSite) -> ZoneInfo | None:
    """The time zone the generator reads dates without an offset in (its config's), if
    it names one gazette knows."""
    try:
        return ZoneInfo(site.timezone) if site.timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone(name: str, when: datetime) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return when.tzinfo or UTC


def jekyll_folder_categories(site: GeneratorSite, path: Path) -> tuple[str, ...]:
    """Jekyll files a post in ``ml/notes/_posts/`` under the categories ml and notes."""
    try:
        parts = path.relative_to(site.root).parts
    except ValueError:
        return ()
    return parts[: parts.index("_posts")] if "_posts" in parts else ()

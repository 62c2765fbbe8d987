"""Which static site generator a blog's folder is for, and where its posts are.

A Markdown source whose ``path`` is a site's root folder (and ``gazette init`` given one)
reads the blog as its generator does:

- Hexo: ``_config.yml``, a ``package.json`` that depends on hexo, and ``source/_posts/``.
- Jekyll: ``_config.yml`` and ``_posts/`` (also ``<category>/_posts/``, whose posts Jekyll
  files under the folders above it); folders Jekyll leaves out are passed over.
- Hugo: ``hugo.toml`` (or ``.yaml``, ``.yml``, ``.json``, or ``config.*``, or a
  ``config/_default/`` folder) and ``content/``;
  the posts are the pages of the main sections (``params.mainSections``, else the section
  with the most pages, as Hugo picks them). A section's ``_index.md`` is its list page.
"""

from __future__ import annotations

import glob
import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gazette.catalog.generators import (
    config_inputs,
    config_path,
    find_config,
    hugo_keys,
    read_config,
)

if TYPE_CHECKING:
    from gazette.config import Settings, SourceSettings

# The Markdown extensions the generators read by default (Jekyll's markdown_ext).
MARKDOWN_EXTENSIONS = (".md", ".markdown", ".mkdown", ".mkdn", ".mkd")
# What Jekyll leaves out of a site unless told otherwise (Jekyll::Configuration::DEFAULTS).
_JEKYLL_EXCLUDED = frozenset({"node_modules", "vendor", "gemfiles", "_site"})


def detect_generator(root: Path) -> str | None:
    """The generator whose site ``root`` is the top folder of, or None."""
    if (root / "_config.yml").is_file():
        if (root / "source" / "_posts").is_dir() and _depends_on_hexo(root / "package.json"):
            return "hexo"
        if _jekyll_post_folders(root):
            return "jekyll"
    if (root / "content").is_dir() and config_file("hugo", root) is not None:
        return "hugo"
    return None


def config_file(generator: str, root: Path) -> Path | None:
    """The generator's config file in ``root``, the first of its names found (or Hugo's
    config/_default/ folder)."""
    return config_path(generator, root)


def not_a_site(root: Path) -> str:
    """Why ``root`` is no site, and what to do instead."""
    return (
        f"{root} is a folder, but not the top folder of a Jekyll (_config.yml and _posts/), "
        "Hugo (hugo.toml and content/) or Hexo (_config.yml, source/_posts/ and a "
        "package.json with hexo) site; point path at the site's top folder, or give a "
        'glob of its posts such as "posts/**/*.md"'
    )


def post_globs(generator: str, root: Path) -> tuple[str, ...]:
    """Globs, relative to ``root``, of the site's post files (one per extension used)."""
    if generator == "jekyll":
        folders = [folder.relative_to(root).as_posix() for folder in _jekyll_post_folders(root)]
    elif generator == "hexo":
        folders = ["source/_posts"]
    else:
        folders = [f"content/{section}".rstrip("/") for section in _hugo_main_sections(root)]
    globs: list[str] = []
    for folder in folders:
        globs.extend(f"{folder}/**/*{ext}" for ext in _extensions(root / folder))
    return tuple(globs)


def source_paths(settings: Settings, source: SourceSettings) -> list[str]:
    """The paths a file source's glob matches now, sorted (folders included); for a
    Markdown source whose path is a site's top folder, its generator's post files."""
    pattern = settings.resolve(source.path)
    if source.format == "markdown" and pattern.is_dir():
        generator = source.generator or detect_generator(pattern)
        return site_posts(generator, pattern) if generator else []
    return sorted(glob.glob(str(pattern), recursive=True))


def site_config_files(settings: Settings, source: SourceSettings) -> list[str]:
    """The generator config files a source's posts are read by (none for other sources):
    found, as the site is, from the folder the source's glob starts in."""
    pattern = settings.resolve(source.path)
    generator: str | None = source.generator
    if source.format == "markdown" and not generator and pattern.is_dir():
        generator = detect_generator(pattern)
    found = find_config(generator, glob_folder(pattern)) if generator else None
    return [str(path) for path in config_inputs(found)] if found else []


def glob_folder(pattern: Path) -> Path:
    """The folder a glob starts in: its path up to the first part with a wildcard."""
    folder = Path(*(part for part in pattern.parts if not glob.has_magic(part)))
    return folder if folder.is_dir() else folder.parent


def site_posts(generator: str, root: Path) -> list[str]:
    """The paths of the site's post files, sorted."""
    found = {
        path
        for pattern in post_globs(generator, root)
        for path in glob.glob(str(root / pattern), recursive=True)
    }
    return sorted(path for path in found if not is_list_page(generator, path))


def is_list_page(generator: str, path: str) -> bool:
    """A Hugo section's ``_index.md`` is the page listing the section, not a post."""
    return generator == "hugo" and Path(path).stem == "_index"


def _extensions(folder: Path) -> list[str]:
    """The Markdown extensions of the files in ``folder``; .md when it has none yet."""
    used = {
        Path(name).suffix.lower()
        for _, _, names in os.walk(folder)
        for name in names
        if Path(name).suffix.lower() in MARKDOWN_EXTENSIONS
    }
    return sorted(used) or [".md"]


def _depends_on_hexo(package: Path) -> bool:
    try:
        data = json.loads(package.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    needs = {**(data.get("dependencies") or {}), **(data.get("devDependencies") or {})}
    return "hexo" in data or "hexo" in needs


def _jekyll_post_folders(root: Path) -> list[Path]:
    """Every ``_posts`` folder Jekyll reads: at the top and under category folders."""
    excluded = _JEKYLL_EXCLUDED | _configured_exclusions(root)
    found: list[Path] = []
    for folder, children, _ in os.walk(root):
        here = Path(folder)
        if here.name == "_posts":
            found.append(here)
            children.clear()
            continue
        children[:] = sorted(
            child
            for child in children
            if child == "_posts" or not (child.startswith((".", "_")) or child in excluded)
        )
    return sorted(found)


def _configured_exclusions(root: Path) -> set[str]:
    config = _config(root / "_config.yml")
    names = config.get("exclude") or []
    destination = str(config.get("destination") or "")
    chosen = names if isinstance(names, list) else []
    return {str(name).strip("/") for name in chosen} | ({destination.strip("/")} - {""})


def _hugo_main_sections(root: Path) -> list[str]:
    """The sections whose pages are the blog's posts; [""] for all of content/."""
    path = config_file("hugo", root)
    config = hugo_keys(_config(path)) if path else {}
    params = hugo_keys(config.get("params") or {})
    chosen = params.get("mainsections") or config.get("mainsections")
    if isinstance(chosen, str):
        chosen = [chosen]
    if isinstance(chosen, list) and chosen:
        return [str(section) for section in chosen]
    counts: Counter[str] = Counter()
    content = root / "content"
    for folder, _, names in os.walk(content):
        relative = Path(folder).relative_to(content)
        if relative.parts:
            counts[relative.parts[0]] += sum(
                Path(n).suffix.lower() in MARKDOWN_EXTENSIONS and Path(n).stem != "_index"
                for n in names
            )
    if not counts or counts.most_common(1)[0][1] == 0:
        return [""]
    return [counts.most_common(1)[0][0]]


def _config(path: Path) -> dict[str, Any]:
    """The config's keys, or none when it cannot be read (reading the site says why)."""
    try:
        return read_config(path)
    except ValueError:
        return {}

"""For a blog whose generator's built site is at hand (Jekyll's ``_site``, Hugo's and
Hexo's ``public``), whether each post's URL is a page the generator wrote: a URL gazette
gives that the site lacks would be a broken link in every feed and digest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gazette.catalog.generators import GeneratorSite, read_config
from gazette.catalog.sites import config_file
from gazette.models import Finding, Post

# The config key that moves each generator's output folder, and its default.
_OUTPUT_KEYS = {"jekyll": ("destination", "_site"), "hugo": ("publishdir", "public"),
                "hexo": ("public_dir", "public")}  # fmt: skip


def built_folder(site: GeneratorSite) -> Path | None:
    """Where the generator writes the site's pages, when that folder exists."""
    key, default = _OUTPUT_KEYS[site.generator]
    path = config_file(site.generator, site.root)
    config = read_config(path) if path else {}
    named = next((v for k, v in config.items() if str(k).lower() == key), None)
    folder = site.root / str(named or default)
    return folder if folder.is_dir() else None


def missing_pages(sites: Iterable[GeneratorSite], posts: list[Post]) -> Iterator[Finding]:
    """A warning for each post whose URL is no page of its site's built folder, and a note
    of how many were checked."""
    for site in sites:
        folder = built_folder(site)
        if folder is None:
            continue
        checked = [post for post in posts if post.url.startswith(site.base_url)]
        missing = [post for post in checked if _page(folder, site, post.url) is None]
        for post in missing:
            yield Finding(
                "warning",
                f"{post.url} is no page of the built site in {folder}: readers would find "
                "nothing there; build the site again, or see whether the generator's "
                "settings make its URL otherwise",
                post.sources[0] if post.sources else post.id,
            )
        yield Finding(
            "info",
            f"{len(checked) - len(missing)} of {len(checked)} post URLs are pages of the "
            f"built site in {folder}",
            str(site.root),
        )


def _page(folder: Path, site: GeneratorSite, url: str) -> Path | None:
    """The file a static server answers ``url`` with: the file, name.html, or index.html."""
    base = urlsplit(site.base_url).path
    path = unquote(urlsplit(url).path)[len(base) :]
    candidates = [path + "index.html"] if path.endswith("/") or not path else [
        path, path + ".html", path + "/index.html"
    ]  # fmt: skip
    return next((folder / c for c in candidates if (folder / c).is_file()), None)

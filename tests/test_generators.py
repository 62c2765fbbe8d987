"""Blogs built by Jekyll and Hugo: every post's URL is a page the real generator writes,
and the posts keep the generator's tags, titles, authors and math.

The sites in tests/data/sites/ are written for these tests. Each test builds its site
with Debian's jekyll or hugo, or npm's hexo (.ci/run installs them; hexo and its Markdown
renderer in $TEST_HEXO_MODULES, ~/.cache/gazette-tests/hexo/node_modules by default)
into a copy, and looks for the file every URL gazette gives would be served from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from gazette.config import Settings
from gazette.errors import SourceError

from .conftest import ROOT
from .feedkit import build, catalog_json

Site = Callable[..., Settings]
SITES = ROOT / "tests" / "data" / "sites"
INLINE = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">'
DISPLAY = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'

JEKYLL_URLS = {
    "What are Diffusion Models?": "https://notes.example.com/blog/ml/notes/2021/07/11/diffusion-models.html",
    "A post with its own permalink": "https://notes.example.com/blog/custom/path/",
    "Untitled Post": "https://notes.example.com/blog/2022/01/05/untitled-post.html",
    "The slug in the front matter wins": (
        "https://notes.example.com/blog/deep%20learning/2022/02/03/other-slug.html"
    ),
    "扩散模型入门": "https://notes.example.com/blog/2022/03/04/%E6%89%A9%E6%95%A3%E6%A8%A1%E5%9E%8B.html",
    "Filed by its folder": "https://notes.example.com/blog/ml/notes/2023/02/01/filed-by-folder.html",
    "An excerpt cut where the site says": (
        "https://notes.example.com/blog/2023/03/01/excerpt-site-wide.html"
    ),
    "A post with its own separator": "https://notes.example.com/blog/2023/03/02/own-separator.html",
    "Links between posts": "https://notes.example.com/blog/2022/04/05/liquid-links.html",
}
HEXO_URLS = {
    "你好，世界": "https://hexo.example.com/notes/2024/01/02/hello-world/",
    "A post with its own permalink": "https://hexo.example.com/notes/special/own/",
    "A post in a folder": "https://hexo.example.com/notes/2024/03/04/guides/in-a-folder/",
    "Tags between posts": "https://hexo.example.com/notes/2024/04/05/tags/",
}
HEXO_MODULES = Path(
    os.environ.get("TEST_HEXO_MODULES")
    or Path.home() / ".cache" / "gazette-tests" / "hexo" / "node_modules"
)
HUGO_URLS = {
    "First Post": "https://hugo.example.com/2023/04/first-post/",
    "Slug beats the title": "https://hugo.example.com/2023/05/chosen-slug/",
    "A Page Bundle": "https://hugo.example.com/2023/06/a-page-bundle/",
    "Its own URL": "https://hugo.example.com/special/place/",
    "A Note in Another Section": "https://hugo.example.com/notes/quick-note/",
    "With a summary": "https://hugo.example.com/2023/08/with-a-summary/",
    "With a divider": "https://hugo.example.com/2023/08/with-a-divider/",
    "Shortcodes at work": "https://hugo.example.com/2023/07/shortcodes-at-work/",
}


def generator(name: str) -> str:
    """The generator's command; the test skips where it is missing, but fails in CI."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {name} (.ci/run)")
        pytest.skip(f"{name} is not installed")
    return found


def copy_site(name: str, tmp_path: Path) -> Path:
    """A copy of the fixture site ``name`` (building writes beside its sources)."""
    return Path(shutil.copytree(SITES / name, tmp_path / name))


def built_page(public: Path, url: str, base: str) -> Path:
    """The file a static server sends for ``url``: a folder's index.html, or the file."""
    path = unquote(urlsplit(url).path)[len(urlsplit(base).path) :]
    return public / (path + "index.html" if path.endswith("/") else path)


def catalog(site: Site, source: str) -> dict[str, dict[str, object]]:
    settings = site(source)
    build(settings)
    return {str(post["title"]): post for post in catalog_json(settings)}


def generator_source(glob: Path, generator_name: str, keys: str = "") -> str:
    """A [[sources]] table for a generator's Markdown posts."""
    source = f'[[sources]]\npath = "{glob}"\nformat = "markdown"\n'
    return f'{source}generator = "{generator_name}"\n{keys}'


def assert_urls_are_pages(
    posts: dict[str, dict[str, object]], urls: dict[str, str], public: Path, base: str
) -> None:
    """The posts' URLs are exactly ``urls``, and each is a page in ``public``."""
    assert {title: post["url"] for title, post in posts.items()} == urls
    for url in urls.values():
        assert built_page(public, url, base).is_file(), url


def test_jekyll_urls_are_the_pages_jekyll_writes(site: Site, tmp_path: Path) -> None:
    """Each post's URL follows _config.yml (url, baseurl, permalink), its front matter
    (permalink, slug, categories) and the folders above _posts, and names a page
    `jekyll build` wrote."""
    command = generator("jekyll")
    root = copy_site("jekyll", tmp_path)
    public = tmp_path / "jekyll-site"
    subprocess.run([command, "build", "-q", "-s", str(root), "-d", str(public)], check=True)
    posts = catalog(site, generator_source(root / "**" / "_posts" / "*.md", "jekyll"))
    assert_urls_are_pages(posts, JEKYLL_URLS, public, "https://notes.example.com/blog/")


def test_jekyll_posts_keep_jekylls_tags_titles_authors_and_math(site: Site) -> None:
    """Space-separated tags and categories, the title from the file name, the author, and
    kramdown's inline $$ all arrive as Jekyll has them."""
    posts = catalog(site, generator_source(SITES / "jekyll" / "_posts" / "*.md", "jekyll"))
    diffusion = posts["What are Diffusion Models?"]
    assert diffusion["tags"] == ["generative-model", "math-heavy", "ml", "notes"]
    assert diffusion["authors"] == ["Lin Wei"]
    html = str(diffusion["content_html"])
    assert (html.count(INLINE), html.count(DISPLAY)) == (1, 1)
    assert posts["Untitled Post"]["title_inferred"] is True
    assert posts["扩散模型入门"]["authors"] == ["林伟"]
    assert ">https://example.org/a</a>，然后" in str(posts["扩散模型入门"]["content_html"])


def test_hugo_urls_are_the_pages_hugo_writes(site: Site, tmp_path: Path) -> None:
    """Each post's URL follows hugo.toml (baseURL, [permalinks]) and its front matter (url,
    slug; a page bundle is named by its folder), and names a page `hugo` wrote."""
    command = generator("hugo")
    root = copy_site("hugo", tmp_path)
    public = tmp_path / "hugo-site"
    subprocess.run([command, "--quiet", "-s", str(root), "-d", str(public)], check=True)
    source = generator_source(root / "content" / "**" / "*.md", "hugo", 'math = ["backticks"]\n')
    posts = catalog(site, source)
    assert_urls_are_pages(posts, HUGO_URLS, public, "https://hugo.example.com/")
    first = posts["First Post"]
    assert first["authors"] == ["Zhang San"]
    assert str(first["content_html"]).count(INLINE) == 1


def test_hexo_urls_are_the_pages_hexo_writes(site: Site, tmp_path: Path) -> None:
    """Each post's URL follows _config.yml (url, permalink with :title as the path under
    source/_posts) and its front matter permalink, and names a page `hexo generate` wrote."""
    command = generator(str(HEXO_MODULES / ".bin" / "hexo"))
    root = copy_site("hexo", tmp_path)
    (root / "node_modules").symlink_to(HEXO_MODULES)
    subprocess.run([command, "generate", "--silent"], cwd=root, check=True)
    posts = catalog(site, generator_source(root / "source" / "_posts" / "**" / "*.md", "hexo"))
    assert_urls_are_pages(posts, HEXO_URLS, root / "public", "https://hexo.example.com/notes/")
    hello = posts["你好，世界"]
    assert (hello["tags"], hello["authors"]) == (["hexo", "入门", "随笔"], ["王五"])


def test_a_generator_source_without_the_sites_config_is_an_error(
    site: Site, tmp_path: Path
) -> None:
    """generator = "hugo" on posts with no hugo.toml above them names what is missing."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2024-01-01\n---\nA.\n")
    with pytest.raises(SourceError) as caught:
        catalog(site, '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\ngenerator = "hugo"\n')
    wanted = "hugo.toml, hugo.yaml, hugo.yml, hugo.json, config.toml, config.yaml, config.yml"
    assert f"no {wanted} or config.json is in" in str(caught.value)
    assert "[[sources]] #1" in str(caught.value)

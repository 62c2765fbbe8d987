"""A generator's own syntax in its posts (Liquid, Hugo's shortcodes, Hexo's tags) comes
out as that generator renders it; what gazette cannot render is left out and named.

Each test builds the fixture site (tests/data/sites/) with the real generator and compares
the links, figures and code of gazette's version of a post with the generator's page.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gazette.catalog.generators import find_site
from gazette.catalog.markdown import read_markdown
from gazette.catalog.math import MathConverter
from gazette.catalog.render import render_draft
from gazette.cli import cli

from .test_generators import (
    HEXO_MODULES,
    SITES,
    Site,
    catalog,
    copy_site,
    generator,
    generator_source,
)
from .test_xss import VECTORS, executable_constructs

JEKYLL_LIQUID = """\
<p>Read <a href="/blog/ml/notes/2021/07/11/diffusion-models.html">the diffusion notes</a> \
first, or the same link as GitHub Pages sites write it: \
<a href="/blog/ml/notes/2021/07/11/diffusion-models.html">again</a>.
See the <a href="/blog/about.html">about page</a> and the \
<a href="/blog/custom/path/">custom post</a>.</p>
<p><img src="/blog/assets/chart.png" alt="A chart"> is also at \
<a href="https://notes.example.com/blog/assets/chart.png">\
https://notes.example.com/blog/assets/chart.png</a> and \
<a href="https://notes.example.com/blog/assets/chart.png">\
https://notes.example.com/blog/assets/chart.png</a>.</p>
<p>Liquid shown as text: {{ site.url }} and {% post_url 2021-07-11-diffusion-models %}.</p>
<p>Code is read by Liquid too: <code>/blog</code>.</p>
<pre><code class="language-python">print("&lt;b&gt;/blog&lt;/b&gt;")
</code></pre>
<p>The end.</p>
"""
HUGO_SHORTCODES = """\
<p>Start from the <a href="https://hugo.example.com/2023/04/first-post/">first post</a>, \
then the bundle at /2023/06/a-page-bundle/ and \
<a href="/2023/06/a-page-bundle/#pictures">its heading</a>.</p>
<figure><a href="https://example.org/large.png"><img src="/images/noise%20steps.png" \
alt="Noise added step by step" width="480"></a><figcaption><h4>Forward process</h4>\
<p>Each step adds <em>a little</em> noise</p></figcaption></figure>
<figure><img src="plain.png" alt="A caption written in Markdown"><figcaption>\
<p>A caption written in <strong>Markdown</strong></p></figcaption></figure>
<pre><code class="language-go">fmt.Println("&lt;b&gt;")
</code></pre>
<pre><code class="language-text">Hugo reads shortcodes in code as well: /2023/04/first-post/
and writes one literally when it is escaped: {{&lt; figure src="x.png" &gt;}}
</code></pre>
<p>The theme's admonition holds <em>Markdown</em>.</p>
"""
HEXO_TAGS = """\
<p>Start with <a href="/notes/2024/01/02/hello-world/" title="你好，世界">你好，世界</a>, or \
<a href="/notes/2024/03/04/guides/in-a-folder/" title="A post in a folder">&lt;the&gt; guide</a>\
; the path of the first is /notes/2024/01/02/hello-world/.</p>
<p>Tags shown as text: {% post_path hello-world %}</p>
<pre><code class="language-python">print("&lt;b&gt;")
</code></pre>
<p>Code is left alone: <code>{% post_path hello-world %}</code>.</p>
<pre><code>{% post_link hello-world %}
</code></pre>
<p>A note the theme draws.</p>
"""
# Dumps each post's rendered content, which the fixture's bare theme does not show.
HEXO_DUMP = """\
hexo.extend.filter.register('after_post_render', (data) => {
  const name = data.slug.replace(/\\//g, '_');
  require('fs').writeFileSync(`${hexo.base_dir}/${name}.out`, data.content);
  return data;
});
"""


def links(markup: str, base: str) -> list[str]:
    """Every link and image URL in ``markup``, resolved against ``base``, in order (but for
    bare URLs, which gazette links and kramdown does not)."""
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    found = root.xpath("//a[not(@href = string(.))]/@href | //img/@src")
    return [urljoin(base, str(url)) for url in found]


def code(markup: str, language: str) -> str:
    """The text of the code block in ``language``, as a reader sees it (Hexo's: a table
    whose second column holds the code)."""
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    (block,) = root.xpath(
        f'//code[contains(@class, "language-{language}")]'
        f' | //figure[@class = "highlight {language}"]//td[@class = "code"]'
    )
    return str(block.text_content()).strip()


def figures(markup: str) -> list[list[tuple[str, dict[str, str], str]]]:
    """Each <figure> as its elements' names, attributes and text, white space aside."""
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    return [
        [(e.tag, dict(e.attrib), (e.text or "").strip()) for e in figure.iter()]
        for figure in root.iter("figure")
    ]


def test_jekyll_liquid_comes_out_as_jekyll_renders_it(site: Site, tmp_path: Path) -> None:
    """post_url, link, site.url/baseurl, relative_url/absolute_url, raw, highlight and
    comment give Jekyll's own links and code (GitHub Pages' baseurl-first links too)."""
    command = generator("jekyll")
    root = copy_site("jekyll", tmp_path)
    public = tmp_path / "jekyll-site"
    subprocess.run([command, "build", "-q", "-s", str(root), "-d", str(public)], check=True)
    posts = catalog(site, generator_source(root / "_posts" / "*.md", "jekyll"))
    post = posts["Links between posts"]
    html = str(post["content_html"])
    assert html == JEKYLL_LIQUID
    page = (public / "2022" / "04" / "05" / "liquid-links.html").read_text(encoding="utf-8")
    url = str(post["url"])
    # Jekyll 4 writes the baseurl twice where a Jekyll 3 site puts it before post_url.
    theirs = [link.replace("/blog/blog/", "/blog/") for link in links(page, url)]
    assert links(html, url) == theirs
    assert code(html, "python") == code(page, "python")
    for link in links(html, url):
        if link.startswith("https://notes.example.com/blog/") and not link.endswith(".png"):
            assert (public / link.removeprefix("https://notes.example.com/blog/")).exists(), link


def test_hugo_shortcodes_come_out_as_hugo_renders_them(site: Site, tmp_path: Path) -> None:
    """figure, ref, relref and highlight give Hugo's figures, URLs and code; shortcodes in
    code are expanded and {{</* */>}} is written literally, as Hugo does."""
    command = generator("hugo")
    root = copy_site("hugo", tmp_path)
    public = tmp_path / "hugo-site"
    subprocess.run([command, "--quiet", "-s", str(root), "-d", str(public)], check=True)
    source = generator_source(root / "content" / "**" / "*.md", "hugo")
    post = catalog(site, source)["Shortcodes at work"]
    html = str(post["content_html"])
    assert html == HUGO_SHORTCODES
    page = (public / "2023" / "07" / "shortcodes-at-work" / "index.html").read_text()
    url = str(post["url"])
    assert links(html, url) == links(page, url)
    assert figures(html) == figures(page)
    assert code(html, "go") == code(page, "go")
    assert code(html, "text") == code(page, "text")
    assert (public / "2023" / "06" / "a-page-bundle" / "index.html").is_file()


def test_hexo_tags_come_out_as_hexo_renders_them(site: Site, tmp_path: Path) -> None:
    """post_link, post_path, raw and codeblock give Hexo's links and code, and code spans
    and fences keep their tags as text, as Hexo does."""
    command = generator(str(HEXO_MODULES / ".bin" / "hexo"))
    root = copy_site("hexo", tmp_path)
    (root / "node_modules").symlink_to(HEXO_MODULES)
    (root / "scripts" / "dump.js").write_text(HEXO_DUMP, encoding="utf-8")
    subprocess.run([command, "generate", "--silent"], cwd=root, check=True)
    source = generator_source(root / "source" / "_posts" / "**" / "*.md", "hexo")
    post = catalog(site, source)["Tags between posts"]
    html = str(post["content_html"])
    assert html == HEXO_TAGS
    theirs = (root / "tags.out").read_text(encoding="utf-8")
    url = str(post["url"])
    assert links(html, url) == links(theirs, url)
    anchors = lxml.html.fragment_fromstring(theirs, create_parent="div").xpath("//a")
    ours = lxml.html.fragment_fromstring(html, create_parent="div").xpath("//a")
    assert [(a.get("title"), a.text) for a in ours] == [(a.get("title"), a.text) for a in anchors]
    assert code(html, "python") == code(theirs, "python")
    for link in links(html, url):
        path = link.removeprefix("https://hexo.example.com/notes/")
        assert (root / "public" / path / "index.html").is_file(), link


def test_tags_gazette_cannot_render_are_left_out_and_named_by_check(
    site: Site, tmp_path: Path
) -> None:
    """A theme's include, shortcode or tag is not in the post, and `gazette check` names
    it at its path:line; a plain Markdown source keeps the same text as it is."""
    sources = "".join(
        generator_source(SITES / name / glob, name)
        for name, glob in (
            ("jekyll", "_posts/*.md"),
            ("hugo", "content/**/*.md"),
            ("hexo", "source/_posts/**/*.md"),
        )
    )
    plain = tmp_path / "plain.md"
    plain.write_text("---\ntitle: Plain\ndate: 2024-01-01\n---\n{{< figure src=x >}}\n")
    sources += f'[[sources]]\npath = "{plain}"\nformat = "markdown"\n'
    settings = site(sources)
    result = CliRunner().invoke(cli, ["--config", str(settings.config_path), "check"])
    lines = [line for line in result.output.splitlines() if "left out" in line]
    where = [line.split(": warning", 1)[0].rsplit("/sites/", 1)[-1] for line in lines]
    assert where == [
        "hexo/source/_posts/tags.md:19",
        "hugo/content/posts/shortcodes.md:20",
        "jekyll/_posts/2022-04-05-liquid-links.md:19",
    ]
    assert "{% include %} is not rendered by gazette and is left out" in lines[2]
    assert "{{% admonition %}} is not rendered" in lines[1]
    assert "the text between its tags is kept" in lines[1]
    posts = catalog(site, sources)
    assert "A note from the theme" not in str(posts["Links between posts"]["content_html"])
    assert "{{&lt; figure src=x &gt;}}" in str(posts["Plain"]["content_html"])


# Pieces of generator syntax, to be put together in any order.
SYNTAX_PIECES = st.sampled_from(
    [
        "{{<", ">}}", "{{%", "%}}", "{{</*", "*/>}}", "{{", "}}", "{%", "%}", "{%-", "-%}",
        " figure ", ' src="a.png" ', ' caption="*c*" ', " ref ", ' "first-post.md" ',
        " relref ", " highlight ", " /highlight ", " raw ", " endraw ", " comment ",
        " post_url ", " 2021-07-11-diffusion-models ", " link ", " about.md ", " post_link ",
        " hello-world ", " site.baseurl ", " | relative_url ", "'", '"', "`", "```", "\n",
        "\n\n", "#", "../", "x", "中文",
    ]
)  # fmt: skip
GENERATOR_SITES = {
    "jekyll": SITES / "jekyll" / "_posts" / "2022-04-05-liquid-links.md",
    "hugo": SITES / "hugo" / "content" / "posts" / "shortcodes.md",
    "hexo": SITES / "hexo" / "source" / "_posts" / "tags.md",
}

MIXED_LINKS = {
    "jekyll": (
        "{% post_url 2021-07-11-diffusion-models %}",
        "/blog/ml/notes/2021/07/11/diffusion-models.html",
    ),
    "hugo": ('{{< relref "first-post.md" >}}', "/2023/04/first-post/"),
    "hexo": ("{% post_path hello-world %}", "/notes/2024/01/02/hello-world/"),
}


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(GENERATOR_SITES)), st.lists(SYNTAX_PIECES, max_size=40))
def test_any_mix_of_generator_syntax_reads_and_renders(name: str, pieces: list[str]) -> None:
    """Generator syntax in any order and state of repair, after a link written in it,
    gives well-formed HTML with that link, and findings at the post's lines: never a
    traceback."""
    path = GENERATOR_SITES[name]
    site = find_site(name, path.parent, "https://fallback.example/")
    link, url = MIXED_LINKS[name]
    text = f"---\ntitle: Mixed\ndate: 2024-01-01\n---\n[first]({link})\n\n" + "".join(pieces)
    result = read_markdown(text, str(path), ZoneInfo("UTC"), "en", (), name, site)
    (draft,) = result.drafts
    html = render_draft(draft, MathConverter(), 240).content_html
    lxml.html.fragments_fromstring(html)
    assert f'<a href="{url}">first</a>' in html
    assert all(f.location.startswith(f"{path}:") for f in result.findings)


@pytest.mark.parametrize("vector", [pytest.param(v, id=name) for name, v in VECTORS])
def test_vectors_in_generator_syntax_render_harmless(vector: str) -> None:
    """A vector in a figure's attributes, a post link's text or a Liquid string runs
    nothing: what a tag writes is sanitized like the author's own HTML."""
    quoted = vector.replace("\\", "\\\\").replace('"', '\\"')
    bodies = {
        "hugo": "".join(
            f'{{{{< figure {key}="{quoted}" caption="c" >}}}}\n\n'
            for key in ("src", "alt", "caption", "title", "link", "class", "width", "attr")
        ),
        "hexo": " ".join(
            f"{{% post_link hello-world '{vector}'{escape} %}}" for escape in (" false", "")
        ),
        "jekyll": f"{{{{ '{vector}' | relative_url }}}} {{% raw %}}{vector}{{% endraw %}}",
    }
    rendered_as = {"hugo": "<figure", "hexo": 'title="你好，世界"', "jekyll": "/blog/"}
    for name, body in bodies.items():
        path = GENERATOR_SITES[name]
        site = find_site(name, path.parent, "https://fallback.example/")
        text = f"---\ntitle: Probe\ndate: 2024-01-01\n---\n{body}\n"
        (draft,) = read_markdown(text, str(path), ZoneInfo("UTC"), "en", (), name, site).drafts
        html = render_draft(draft, MathConverter(), 240).content_html
        assert executable_constructs(html) == [], f"{name}: {html!r}"
        assert rendered_as[name] in html


def test_an_unchanged_post_follows_the_new_url_of_a_post_it_links_to(
    site: Site, tmp_path: Path
) -> None:
    """When a linked post gets another URL, the next (incremental) sync reads the unchanged
    post that links to it again, and its link shows the new URL."""
    root = copy_site("jekyll", tmp_path)
    source = generator_source(root / "_posts" / "*.md", "jekyll")
    before = catalog(site, source)["Links between posts"]["content_html"]
    assert '<a href="/blog/ml/notes/2021/07/11/diffusion-models.html">' in str(before)
    target = root / "_posts" / "2021-07-11-diffusion-models.md"
    target.write_text(
        target.read_text(encoding="utf-8").replace("---\n", "---\npermalink: /moved/\n", 1),
        encoding="utf-8",
    )
    after = str(catalog(site, source)["Links between posts"]["content_html"])
    assert '<a href="/blog/moved/">the diffusion notes</a>' in after
    assert "/blog/ml/notes/2021/07/11/diffusion-models.html" not in after


def read(name: str, body: str) -> tuple[str, list[str]]:
    """The rendered body of a post of fixture site ``name``, and its findings."""
    path = GENERATOR_SITES[name]
    site = find_site(name, path.parent, "https://fallback.example/")
    text = f"---\ntitle: Probe\ndate: 2024-01-01\n---\n{body}"
    result = read_markdown(text, str(path), ZoneInfo("UTC"), "en", (), name, site)
    (draft,) = result.drafts
    html = render_draft(draft, MathConverter(), 240).content_html
    return html, [str(finding).removeprefix(f"{path}:") for finding in result.findings]


def test_links_to_nothing_are_findings_at_their_lines() -> None:
    """A post_url, ref or post_link naming no post, and a raw never closed, are warnings
    at their line; the link is left empty rather than pointing nowhere."""
    html, findings = read("jekyll", "Intro.\n\n[a]({% post_url 2020-01-01-gone %})\n\n{% raw %}x\n")
    assert html == '<p>Intro.</p>\n<p><a href="">a</a></p>\n<p>x</p>\n'
    assert findings == [
        "7: warning: {% post_url 2020-01-01-gone %} names no file of the site: fix the name",
        "9: warning: {% raw %} is never closed: add {% endraw %}",
    ]
    _, findings = read("hugo", 'See {{< relref "posts/gone.md" >}}.\n')
    assert findings == [
        '5: warning: {{< relref "posts/gone.md" >}} names no page of the site: fix the path '
        "(from the content folder, or the post's own folder)"
    ]
    _, findings = read("hexo", "\n{% post_link gone %}\n")
    assert findings == ["6: warning: {% post_link gone %} names no post of the site: fix the slug"]


def test_each_left_out_tag_is_one_finding_with_its_count() -> None:
    """A theme's tag used many times in a post is named once, at its first line, with how
    often it came; its end tags are not named again."""
    body = "{% note %}a{% endnote %}\n\n{% note %}b{% endnote %}\n\n{{ page.title }}\n"
    html, findings = read("hexo", body)
    assert html == "<p>a</p>\n<p>b</p>\n"
    assert findings == [
        "5: warning: Hexo tag {% note %} is not rendered by gazette and is left out (the text "
        "between its tags is kept): replace it with Markdown, or wrap it in {% raw %} … "
        "{% endraw %} to show it as text (2 times in this post)",
        "9: warning: {{ page.title }} is not rendered by gazette and is left out: replace it "
        "with Markdown, or wrap it in {% raw %} … {% endraw %} to show it as text",
    ]


def test_whitespace_control_and_a_figure_followed_by_text() -> None:
    """Liquid's {%- -%} and {{- -}} trim the white space beside them, as Jekyll does; text
    right under a figure is still Markdown."""
    link = "{%- post_url 2021-07-11-diffusion-models -%}"
    html, _ = read("jekyll", f"x {{{{- site.baseurl -}}}} y and [z]( {link} ).\n")
    url = "/blog/ml/notes/2021/07/11/diffusion-models.html"
    assert html == f'<p>x/blogy and <a href="{url}">z</a>.</p>\n'
    html, _ = read("hugo", '{{< figure src="a.png" >}}\nText *under* it.\n')
    assert html == '<figure><img src="a.png"></figure>\n<p>Text <em>under</em> it.</p>\n'

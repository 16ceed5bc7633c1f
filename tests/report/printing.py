"""Printing a page to PDF in headless Chromium, and reading back how many pages it has and on
what paper (pypdf)."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest

from cyberstd.report.pdf import find_chromium, print_pdf

needs_chromium = pytest.mark.skipif(
    find_chromium() is None, reason="needs headless Chromium (Debian package 'chromium')"
)

# A4 in PostScript points (210 x 297 mm); Chromium rounds it to whole CSS pixels.
A4 = (595.28, 841.89)
TOLERANCE = 1.5


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height in points of every page of a PDF."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]


def assert_a4(sizes: list[tuple[float, float]]) -> None:
    assert sizes, "the PDF has no page"
    for width, height in sizes:
        assert abs(width - A4[0]) < TOLERANCE and abs(height - A4[1]) < TOLERANCE, (width, height)


def printed(html: str, lang: str = "nl", fragment: str = "") -> list[tuple[float, float]]:
    """The page sizes of the PDF that Chromium prints of `html`."""
    return page_sizes(print_pdf(html, lang, fragment=fragment))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees in a page, on one line."""
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts)).strip()

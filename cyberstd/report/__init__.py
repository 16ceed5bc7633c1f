"""Renderers: one module per output format, each with render(results, lang) -> str.

The HTML formats (html, summary) also print to PDF: cyberstd.report.pdf."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from cyberstd.results import Results

Renderer = Callable[[Results, str], str]

# format -> (module under cyberstd.report, its render function, the report file's suffix)
_RENDERERS = {
    "json": ("json", "render", "json"),
    "md": ("markdown", "render", "md"),
    "html": ("html", "render", "html"),
    "summary": ("summary", "render", "summary.html"),
    "csv": ("csv", "render", "csv"),
    "csv-semicolon": ("csv", "render_semicolon", "semicolon.csv"),
    "oscal": ("oscal", "render", "oscal.json"),
    "sarif": ("sarif", "render", "sarif"),
    "junit": ("junit", "render", "junit.xml"),
    "actionplan": ("actionplan", "render", "actionplan.csv"),
}
FORMATS = tuple(_RENDERERS)
# The formats that are a page to print: `--pdf` prints them through headless Chromium.
PRINTABLE = ("html", "summary")
SUFFIX = {fmt: suffix for fmt, (_, _, suffix) in _RENDERERS.items()}


def renderer(fmt: str) -> Renderer:
    """The render function for a format name (imported lazily to keep start-up fast)."""
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown format {fmt!r}")
    module, function, _ = _RENDERERS[fmt]
    return cast(Renderer, getattr(importlib.import_module(f"{__name__}.{module}"), function))

"""Renderers: one module per output format, each with render(results, lang) -> str."""

from __future__ import annotations

from collections.abc import Callable

from cyberstd.results import Results

Renderer = Callable[[Results, str], str]

FORMATS = ("json", "md", "html", "csv", "csv-semicolon", "oscal", "sarif", "junit")
SUFFIX = {
    "json": "json",
    "md": "md",
    "html": "html",
    "csv": "csv",
    "csv-semicolon": "semicolon.csv",
    "oscal": "oscal.json",
    "sarif": "sarif",
    "junit": "junit.xml",
}


def renderer(fmt: str) -> Renderer:
    """The render function for a format name (imported lazily to keep start-up fast)."""
    if fmt == "json":
        from cyberstd.report.json import render
    elif fmt == "md":
        from cyberstd.report.markdown import render
    elif fmt == "html":
        from cyberstd.report.html import render as html

        return html
    elif fmt == "csv":
        from cyberstd.report.csv import render as csv

        return csv
    elif fmt == "csv-semicolon":
        from cyberstd.report.csv import render_semicolon

        return render_semicolon
    elif fmt == "oscal":
        from cyberstd.report.oscal import render as oscal

        return oscal
    elif fmt == "sarif":
        from cyberstd.report.sarif import render as sarif

        return sarif
    elif fmt == "junit":
        from cyberstd.report.junit import render as junit

        return junit
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return render

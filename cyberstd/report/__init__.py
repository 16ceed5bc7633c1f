"""Renderers: one module per output format, each with render(results, lang) -> str."""

from __future__ import annotations

from collections.abc import Callable

from cyberstd.results import Results

Renderer = Callable[[Results, str], str]

FORMATS = ("json", "md", "sarif", "junit")
SUFFIX = {"json": "json", "md": "md", "sarif": "sarif", "junit": "junit.xml"}


def renderer(fmt: str) -> Renderer:
    """The render function for a format name (imported lazily to keep start-up fast)."""
    if fmt == "json":
        from cyberstd.report.json import render
    elif fmt == "md":
        from cyberstd.report.markdown import render
    elif fmt == "sarif":
        from cyberstd.report.sarif import render as sarif

        return sarif
    elif fmt == "junit":
        from cyberstd.report.junit import render as junit

        return junit
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return render

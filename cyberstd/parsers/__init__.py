"""Vendor configuration formats -> trees of located nodes (see base.py).

Each format is one module that registers its parser with `@parser("name")`. `parse_file`
reads a file safely, parses it and redacts every secret before anyone else sees the tree.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cyberstd.parsers.base import MAX_BYTES, Node, ParseError, Source, read_source, redact

ParseFunc = Callable[[Source], Node]


@dataclass(frozen=True)
class ParserSpec:
    name: str
    func: ParseFunc
    doc: str


_FORMATS: dict[str, ParserSpec] = {}
_LOADED: list[bool] = []


def parser(name: str) -> Callable[[ParseFunc], ParseFunc]:
    """Register the parser of one format; its docstring documents the tree it builds."""

    def wrap(func: ParseFunc) -> ParseFunc:
        if name in _FORMATS:
            raise RuntimeError(f"format {name!r} registered twice")
        _FORMATS[name] = ParserSpec(name, func, (func.__doc__ or "").strip())
        return func

    return wrap


def formats() -> dict[str, ParserSpec]:
    """Every registered format, importing the parser modules on first use."""
    if not _LOADED:
        for mod in pkgutil.iter_modules(__path__):
            if mod.name != "base":
                importlib.import_module(f"{__name__}.{mod.name}")
        _LOADED.append(True)
    return dict(_FORMATS)


# The module of each format, so that parsing one file imports one parser (start-up time).
_MODULES = {
    "json": "jsonfmt",
    "yaml": "yamlfmt",
    "ini": "inifmt",
    "keyvalue": "inifmt",
    "csv": "csvfmt",
    "table": "table",
    "sshd_config": "sshd",
    "secedit": "secedit",
    "fortigate": "fortigate",
    "pfsense": "pfsense",
    "sophos": "sophos",
    "unifi-policies": "unifi",
}


def _spec(fmt: str) -> ParserSpec | None:
    if fmt not in _FORMATS and fmt in _MODULES:
        importlib.import_module(f"{__name__}.{_MODULES[fmt]}")
    return _FORMATS.get(fmt) or formats().get(fmt)


def parse_source(source: Source, fmt: str) -> Node:
    """Parse decoded text in a format and redact its secrets; ParseError for anything unreadable."""
    spec = _spec(fmt)
    if spec is None:
        raise ParseError(source.display, f"unknown format {fmt!r}")
    try:
        tree = spec.func(source)
    except ParseError:
        raise
    except RecursionError:
        raise ParseError(source.display, "nested too deeply") from None
    return redact(tree)


def parse_file(
    path: Path, fmt: str, display: str | None = None, max_bytes: int = MAX_BYTES
) -> Node:
    """Read, decode, parse and redact one export."""
    return parse_source(read_source(path, display, max_bytes), fmt)


__all__ = ["Node", "ParseError", "Source", "formats", "parse_file", "parse_source", "parser"]

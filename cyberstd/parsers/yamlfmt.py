"""YAML exports, loaded with the same safety as the catalog (no duplicate keys, no alias bombs)."""

from __future__ import annotations

from typing import Any

from cyberstd.errors import InputError
from cyberstd.parsers import parser
from cyberstd.parsers.base import Node, ParseError, Source
from cyberstd.yamlsrc import load_text


def _line(container: Any, key: object) -> int | None:
    lc = getattr(container, "lc", None)
    if lc is None:
        return None
    try:
        pos = lc.key(key) if isinstance(container, dict) else lc.item(key)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return int(pos[0]) + 1


def _node(value: Any, file: str, line: int | None) -> Node:
    if isinstance(value, dict):
        return Node({str(k): _node(v, file, _line(value, k)) for k, v in value.items()}, file, line)
    if isinstance(value, list):
        return Node([_node(v, file, _line(value, i)) for i, v in enumerate(value)], file, line)
    if value is None or isinstance(value, (bool, int, float)):
        return Node(value, file, line)
    return Node(str(value), file, line)


@parser("yaml")
def parse_yaml(source: Source) -> Node:
    """Any YAML document: mappings, lists and scalars, each with its line; dates stay text."""
    try:
        doc = load_text(source.text, source.data, source.display)
    except InputError as exc:
        first = exc.problems[0]
        raise ParseError(source.display, first.message, first.line) from None
    return _node(doc.data, source.display, 1)

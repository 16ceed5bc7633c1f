"""INI files ([section] key = value) and flat key=value files (.env, os-release style)."""

from __future__ import annotations

import re

from cyberstd.parsers import parser
from cyberstd.parsers.base import Node, ParseError, Source

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_PAIR = re.compile(r"^\s*([^=:#;\s][^=:]*?)\s*[=:]\s*(.*?)\s*$")
_KV = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


@parser("ini")
def parse_ini(source: Source) -> Node:
    """`{section: {key: value}}`; keys before any section go under `""`. Later keys win."""
    file = source.display
    root: dict[str, Node] = {}
    current = Node({}, file, None)
    root[""] = current
    for number, raw in enumerate(source.text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if m := _SECTION.match(line):
            name = m.group(1).strip()
            current = root.get(name) or Node({}, file, number)
            root[name] = current
            continue
        if m := _PAIR.match(line):
            current.value[m.group(1)] = Node(_unquote(m.group(2)), file, number)
            continue
        raise ParseError(file, "neither a [section] nor a key = value line", number)
    if not root[""].value:
        del root[""]
    if not root:
        raise ParseError(file, "no settings found")
    return Node(root, file, 1)


@parser("keyvalue")
def parse_keyvalue(source: Source) -> Node:
    """`{KEY: value}` from KEY=value lines; comments (#) and blank lines are skipped."""
    file = source.display
    out: dict[str, Node] = {}
    for number, raw in enumerate(source.text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _KV.match(line)
        if m is None:
            raise ParseError(file, "not a KEY=value line", number)
        out[m.group(1)] = Node(_unquote(m.group(2)), file, number)
    if not out:
        raise ParseError(file, "no settings found")
    return Node(out, file, 1)

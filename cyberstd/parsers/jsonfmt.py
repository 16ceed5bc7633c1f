"""JSON with the line of every value (the standard library's decoder keeps no positions)."""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

from cyberstd.parsers import parser
from cyberstd.parsers.base import Node, ParseError, Source

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}
MAX_DEPTH = 200


class _Reader:
    def __init__(self, source: Source) -> None:
        self.text = source.text
        self.file = source.display
        self.newlines = [m.start() for m in re.finditer("\n", self.text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def fail(self, pos: int, message: str) -> ParseError:
        if pos >= len(self.text):
            message = "unexpected end of file (the export may be truncated)"
        start = self.newlines[self.line(pos) - 2] + 1 if self.line(pos) > 1 else 0
        return ParseError(self.file, f"{message} (column {pos - start + 1})", self.line(pos))

    def skip(self, pos: int) -> int:
        m = _WS.match(self.text, pos)
        return m.end() if m else pos

    def value(self, pos: int, depth: int) -> tuple[Node, int]:
        if depth > MAX_DEPTH:
            raise self.fail(pos, f"nested more than {MAX_DEPTH} levels deep")
        pos = self.skip(pos)
        text = self.text
        if pos >= len(text):
            raise self.fail(pos, "unexpected end of file (the export may be truncated)")
        ch = text[pos]
        line = self.line(pos)
        if ch == "{":
            return self.mapping(pos + 1, line, depth)
        if ch == "[":
            return self.sequence(pos + 1, line, depth)
        if ch == '"':
            s, end = self.string(pos)
            return Node(s, self.file, line), end
        m = _NUMBER.match(text, pos)
        if m:
            raw = m.group(0)
            try:
                number: int | float = float(raw) if m.group(1) or m.group(2) else int(raw)
            except ValueError:  # more digits than Python converts (a hostile export)
                raise self.fail(pos, f"a number of {len(raw)} digits is too long") from None
            return Node(number, self.file, line), m.end()
        for word, val in _LITERALS.items():
            if text.startswith(word, pos):
                return Node(val, self.file, line), pos + len(word)
        raise self.fail(pos, f"unexpected character {ch!r}")

    def string(self, pos: int) -> tuple[str, int]:
        try:
            found: tuple[str, int] = scanstring(self.text, pos + 1, True)
            return found
        except json.JSONDecodeError as exc:
            raise self.fail(exc.pos, exc.msg) from None

    def mapping(self, pos: int, line: int, depth: int) -> tuple[Node, int]:
        out: dict[str, Node] = {}
        pos = self.skip(pos)
        if self.text.startswith("}", pos):
            return Node(out, self.file, line), pos + 1
        while True:
            pos = self.skip(pos)
            if not self.text.startswith('"', pos):
                raise self.fail(pos, "expected a quoted key")
            key, pos = self.string(pos)
            pos = self.skip(pos)
            if not self.text.startswith(":", pos):
                raise self.fail(pos, "expected ':' after a key")
            child, pos = self.value(pos + 1, depth + 1)
            if key in out:
                raise ParseError(self.file, f"duplicate key {key!r}", child.line)
            out[key] = child
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("}", pos):
                return Node(out, self.file, line), pos + 1
            raise self.fail(pos, "expected ',' or '}'")

    def sequence(self, pos: int, line: int, depth: int) -> tuple[Node, int]:
        out: list[Node] = []
        pos = self.skip(pos)
        if self.text.startswith("]", pos):
            return Node(out, self.file, line), pos + 1
        while True:
            child, pos = self.value(pos, depth + 1)
            out.append(child)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("]", pos):
                return Node(out, self.file, line), pos + 1
            raise self.fail(pos, "expected ',' or ']'")


@parser("json")
def parse_json(source: Source) -> Node:
    """Any JSON document: objects become mappings, arrays lists; every value keeps its line."""
    reader = _Reader(source)
    if not source.text.strip():
        raise ParseError(source.display, "empty file")
    node, end = reader.value(0, 0)
    end = reader.skip(end)
    if end != len(source.text):
        raise reader.fail(end, "unexpected text after the JSON document")
    return node

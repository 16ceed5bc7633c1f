"""CSV exports (device lists, backup reports, inventories), as spreadsheets and portals write them."""

from __future__ import annotations

import csv
import io
import re

from cyberstd.parsers import parser
from cyberstd.parsers.base import Node, ParseError, Source

MAX_FIELD = 1 << 20
# How far down a file its header line is looked for (a kind's `header_line`).
HEADER_SEARCH_LINES = 20
# PowerShell's type line ("#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser").
_TYPE_LINE = re.compile(r"[\r\n]*#TYPE [^\n]*\n")


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_start(source: Source) -> int:
    """Where the header line starts: the first line that the kind's `header` pattern matches;
    the lines above it are titles (DSM's Log Center writes the log's category first)."""
    pattern = re.compile(source.header or "")
    offset = 0
    for number, line in enumerate(source.text.split("\n"), 1):
        if number > HEADER_SEARCH_LINES:
            break
        if pattern.search(line.rstrip("\r")):
            return offset
        offset += len(line) + 1
    raise ParseError(
        source.display,
        f"no header line in the first {HEADER_SEARCH_LINES} lines (wrong export or layout?)",
    )


@parser("csv")
def parse_csv(source: Source) -> Node:
    """`{columns: [name...], rows: [{column: value}]}`, each row at its line.

    The delimiter (`,`, `;` or tab) is read off the header line; empty cells become null;
    a row with more or fewer cells than the header is an error (a truncated export). When the
    kind gives a header pattern (`header_line`), lines above the line it matches are titles. A
    first line `#TYPE ...`, which Windows PowerShell 5.1's Export-Csv writes without
    -NoTypeInformation, is skipped.
    """
    file = source.display
    text = source.text
    if not text.strip():
        raise ParseError(file, "empty file")
    typed = _TYPE_LINE.match(text)
    start = typed.end() if typed else 0
    if source.header:
        skipped = _header_start(source)
    else:
        skipped = len(text) - len(text[start:].lstrip("\r\n"))
    first = text[skipped:].split("\n", 1)[0]
    start_line = text[:skipped].count("\n") + 1
    if not text[skipped:].strip():
        raise ParseError(file, "no header after the #TYPE line", start_line)
    reader = csv.reader(io.StringIO(text[skipped:]), delimiter=_delimiter(first), strict=True)
    csv.field_size_limit(MAX_FIELD)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ParseError(file, f"bad CSV header: {exc}", start_line) from None
    names = [h.strip() for h in header]
    seen: set[str] = set()
    for i, name in enumerate(names):
        if not name:
            raise ParseError(file, f"column {i + 1} of the header has no name", start_line)
        if name.casefold() in seen:
            raise ParseError(file, f"column {name!r} appears twice in the header", start_line)
        seen.add(name.casefold())
    columns = Node([Node(n, file, start_line) for n in names], file, start_line)
    rows: list[Node] = []
    line = start_line + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ParseError(file, f"bad CSV: {exc}", line) from None
        row_line = line
        line = start_line + reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(names):
            raise ParseError(
                file,
                f"row has {len(cells)} cells where the header has {len(names)} (truncated export?)",
                row_line,
            )
        rows.append(
            Node(
                {
                    n: Node(c.strip() or None, file, row_line)
                    for n, c in zip(names, cells, strict=True)
                },
                file,
                row_line,
            )
        )
    return Node({"columns": columns, "rows": Node(rows, file, start_line + 1)}, file, start_line)

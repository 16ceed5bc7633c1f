"""Tables that PowerShell writes two ways: Export-Csv, or the same objects through ConvertTo-Json."""

from __future__ import annotations

from cyberstd.parsers import parser
from cyberstd.parsers.base import Node, ParseError, Source
from cyberstd.parsers.csvfmt import parse_csv
from cyberstd.parsers.jsonfmt import parse_json


def _json_table(tree: Node, file: str) -> Node:
    """A JSON list of objects (or one object alone) as the CSV parser's tree."""
    items = tree.value if isinstance(tree.value, list) else [tree]
    if not items:
        raise ParseError(file, "the JSON list holds no objects", tree.line)
    names: dict[str, Node] = {}
    for item in items:
        if not isinstance(item.value, dict):
            raise ParseError(file, "expected a list of objects (one per row)", item.line)
        for key in item.value:
            if key.casefold() not in names:
                names[key.casefold()] = Node(key, file, item.line)
    columns = Node(list(names.values()), file, tree.line)
    return Node({"columns": columns, "rows": Node(items, file, tree.line)}, file, tree.line)


@parser("table")
def parse_table(source: Source) -> Node:
    """`{columns: [name...], rows: [{column: value}]}`, from a CSV file or from JSON.

    A CSV file is read as the `csv` format reads it. A file whose text starts with `[` or `{`
    is read as JSON: a list of objects, or one object alone (PowerShell's ConvertTo-Json
    writes a single item without a list); the columns are every key of every object, in the
    order they first appear, and each object is a row as it is (a list stays a list, a
    boolean a boolean; a key an object lacks is absent, as an empty CSV cell is)."""
    if source.text.lstrip().startswith(("[", "{")):
        return _json_table(parse_json(source), source.display)
    return parse_csv(source)

"""Export kinds: what a configuration file is (an sshd_config, a FortiGate backup, an Entra
users export), which parser reads it, and how to recognise it by name or content.

Kinds are data (checks/data/kinds/): a new kind for a format that is already
parsed needs no code.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator

from cyberstd.messages import Msg, local, msg
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import Node, Source
from cyberstd.schema import Id, LocalText, Strict
from cyberstd.sessions import SessionHistory, with_jobs

HEAD_BYTES = 16384
_WILD = re.compile(r"[*?\[]")
# The name a rule uses for a CSV column (`hostname`, `last_seen`).
_FIELD = re.compile(r"^[a-z][a-z0-9_]*$")
FIELDS = "fields"


def header_key(name: str) -> str:
    """A column header as it is compared with a kind's column names: without case, accents,
    spaces or punctuation, so that "IP-adres", "ip adres" and "ip_adres" are one name."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return re.sub(r"[^0-9a-z]", "", "".join(c for c in decomposed if not unicodedata.combining(c)))


class Detect(Strict):
    """How to recognise a kind: file-name globs, and a regular expression over the first 16 KB."""

    names: list[str] = Field(default_factory=list)
    content: str | None = None
    # A file inside a folder of one of these names is a drop-in read through its main file
    # (sshd_config.d), never an export of its own.
    not_inside: list[str] = Field(default_factory=list)

    @field_validator("content")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v, re.MULTILINE)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return v


class ExportKind(Strict):
    """A kind of export. `requires`: selectors of which each must find something (a list in
    the list: one of them), and `columns`: the header names a CSV export must have; an export
    without them is refused as not of this kind, so that no rule passes on an empty selection."""

    id: Id
    format: Id
    title: LocalText
    detect: Detect = Field(default_factory=Detect)
    requires: list[str | list[str]] = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list)
    # Exports that come as a list of items under one key (Graph's `value`) also come as a bare
    # list (PowerShell's ConvertTo-Json) or as one item alone (a portal download, Graph's
    # `$entity`): `collection` names the key, `item_keys` the keys that mark one item.
    collection: str | None = None
    item_keys: list[str] = Field(default_factory=list)
    # What to say when an export lacks what `requires` names (the export people mistake for it).
    hint: LocalText | None = None
    # Selectors that mark an export as one page of several (Graph's @odata.nextLink): such an
    # export is refused, since a check on part of the accounts could pass on what it misses.
    incomplete_if: list[str] = Field(default_factory=list)
    # CSV only: the name a rule uses for a column, and the headers that mean it in the exports
    # schools really have (Intune's, Dutch ones); the first header of the list that the file
    # has is the one read. See `normalise`.
    column_names: dict[str, list[str]] = Field(default_factory=dict)
    # CSV only: a regular expression the header line matches, when an export puts titles
    # above it (DSM's Log Center writes the log's category on the first line).
    header_line: str | None = None
    # A history of backup sessions (one row per run): how to read it into one item per job,
    # under `jobs` (cyberstd/sessions.py).
    sessions: SessionHistory | None = None

    @field_validator("header_line")
    @classmethod
    def _header_regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return v

    @field_validator("column_names")
    @classmethod
    def _column_names(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        owner: dict[str, str] = {}
        for name, headers in v.items():
            if not _FIELD.match(name):
                raise ValueError(f"column name {name!r}: use lowercase letters, digits and _")
            for header in (name, *headers):
                key = header_key(header)
                if not key:
                    raise ValueError(f"header {header!r} of {name!r} has no letters or digits")
                if owner.setdefault(key, name) != name:
                    raise ValueError(
                        f"header {header!r} is listed for both {owner[key]!r} and {name!r}"
                    )
        return v

    def headers_for(self, name: str) -> list[str]:
        """The headers that count as column `name` (the name itself first)."""
        return [name, *self.column_names.get(name, [])]


def incomplete(kind: ExportKind, tree: Node) -> str | None:
    """The paging marker an export holds (it is one page of several), or None."""
    from cyberstd.rules.select import compile_selector, select

    for marker in kind.incomplete_if:
        if select(tree, compile_selector(marker)):
            return marker
    return None


def _csv_fields(kind: ExportKind, tree: Node) -> Node:
    """A CSV export with its columns under the names the rules use: `fields` maps each name to
    the header the file has for it (at the header's line), and every row holds the cell under
    that name too (the same node, so evidence keeps its file and line)."""
    columns, rows = tree.get("columns"), tree.get("rows")
    if columns is None or rows is None or not isinstance(columns.value, list):
        return tree
    by_key: dict[str, Node] = {}
    for header in columns.value:
        by_key.setdefault(header_key(str(header.value)), header)
    fields: dict[str, Node] = {}
    for name in kind.column_names:
        found = next(
            (by_key[k] for k in map(header_key, kind.headers_for(name)) if k in by_key), None
        )
        if found is not None:
            fields[name] = found
    aliased: list[Node] = []
    for row in rows.value if isinstance(rows.value, list) else []:
        cells = dict(row.value) if isinstance(row.value, dict) else {}
        for name, header in fields.items():
            cell = row.get(str(header.value))
            if row.get(name) is None and cell is not None:
                cells[name] = cell
        aliased.append(Node(cells, row.file, row.line))
    return Node(
        {
            **tree.value,
            "rows": Node(aliased, rows.file, rows.line),
            FIELDS: Node(fields, columns.file, columns.line),
        },
        tree.file,
        tree.line,
    )


def parse_export(kind: ExportKind, source: Source) -> Node:
    """An export read with its kind's format and options (`header_line`), in its kind's shape
    (see `normalise`); ParseError for anything unreadable."""
    if kind.header_line is not None:
        source = replace(source, header=kind.header_line)
    return normalise(kind, parse_source(source, kind.format))


def normalise(kind: ExportKind, tree: Node) -> Node:
    """An export in its kind's usual shape: a bare list, or a single item, put under the
    kind's `collection` key; a CSV export with its `column_names` (see `_csv_fields`); a
    session history with one item per job (`sessions`). Anything else is returned as it is."""
    shaped = _shape(kind, tree)
    return shaped if kind.sessions is None else with_jobs(kind.sessions, shaped)


def _shape(kind: ExportKind, tree: Node) -> Node:
    if kind.column_names and isinstance(tree.value, dict):
        return _csv_fields(kind, tree)
    if kind.collection is None:
        return tree
    if isinstance(tree.value, list):
        return Node({kind.collection: tree}, tree.file, tree.line)
    if (
        isinstance(tree.value, dict)
        and tree.get(kind.collection) is None
        and kind.item_keys
        and all(tree.get(key) is not None for key in kind.item_keys)
    ):
        return Node({kind.collection: Node([tree], tree.file, tree.line)}, tree.file, tree.line)
    return tree


class KindsFile(Strict):
    kinds: list[ExportKind]

    @model_validator(mode="after")
    def _unique(self) -> Self:
        seen: set[str] = set()
        for k in self.kinds:
            if k.id in seen:
                raise ValueError(f"kind {k.id!r} is defined twice")
            seen.add(k.id)
        return self


def head_text(path: Path) -> str:
    """The start of a file as text (UTF-16 with a BOM, else UTF-8 with errors replaced)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(HEAD_BYTES)
    except OSError:
        return ""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8", errors="replace").removeprefix("\ufeff")


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern.lower()))


@functools.lru_cache(maxsize=256)
def _content(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


def _score(kind: ExportKind, name: str, head: str) -> int:
    low = name.lower()
    by_name = any(_glob(g).match(low) for g in kind.detect.names)
    exact = any(low == g.lower() for g in kind.detect.names if not _WILD.search(g))
    by_content = bool(kind.detect.content and _content(kind.detect.content).search(head))
    if kind.detect.content and kind.detect.names:
        # An exact file name (sshd_config) is enough; a pattern (*.conf) needs the content too.
        return 3 if by_name and by_content else 2 if by_content or exact else 0
    return 2 if by_content else 1 if by_name else 0


def detect(path: Path, kinds: dict[str, ExportKind]) -> list[str]:
    """The kinds that fit a file best (none, one, or several when it is ambiguous)."""
    head = head_text(path)
    folders = {p.name for p in path.parents}
    scores = {
        k: 0 if folders & set(kind.detect.not_inside) else _score(kind, path.name, head)
        for k, kind in kinds.items()
    }
    best = max(scores.values(), default=0)
    return [] if best == 0 else [k for k, s in scores.items() if s == best]


def missing_parts(kind: ExportKind, tree: Node) -> list[Msg]:
    """What an export lacks to be of its kind (required paths, CSV columns), in words."""
    from cyberstd.rules.select import compile_selector, select

    out: list[Msg] = []
    for need in kind.requires:
        options = [need] if isinstance(need, str) else need
        if not any(select(tree, compile_selector(o)) for o in options):
            out.append(local(" of ".join(options), " or ".join(options)))
    if kind.columns:
        header = tree.get("columns")
        have = (
            {str(n.value).casefold() for n in header.value}
            if header and isinstance(header.value, list)
            else set()
        )
        fields = tree.get(FIELDS)
        if fields is not None and isinstance(fields.value, dict):
            have |= set(fields.value)
        for c in kind.columns:
            if c.casefold() not in have:
                also = kind.column_names.get(c, [])
                names = ", ".join(also[:8]) + (", ..." if len(also) > 8 else "")
                if also:
                    out.append(msg("input.export.column_or", column=repr(c), names=names))
                else:
                    out.append(msg("input.export.column", column=repr(c)))
    return out

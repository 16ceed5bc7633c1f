"""Export kinds: what a configuration file is (an sshd_config, a FortiGate backup, an Entra
users export), which parser reads it, and how to recognise it by name or content.

Kinds are data (checks/data/export-kinds.yaml): a new kind for a format that is already
parsed needs no code.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator

from cyberstd.parsers.base import Node
from cyberstd.schema import Id, LocalText, Strict

HEAD_BYTES = 16384
_WILD = re.compile(r"[*?\[]")


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


def incomplete(kind: ExportKind, tree: Node) -> str | None:
    """The paging marker an export holds (it is one page of several), or None."""
    from cyberstd.rules.select import compile_selector, select

    for marker in kind.incomplete_if:
        if select(tree, compile_selector(marker)):
            return marker
    return None


def normalise(kind: ExportKind, tree: Node) -> Node:
    """An export in its kind's usual shape: a bare list, or a single item, put under the
    kind's `collection` key. Anything else is returned as it is."""
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


def missing_parts(kind: ExportKind, tree: Node) -> list[str]:
    """What an export lacks to be of its kind (required paths, CSV columns), in words."""
    from cyberstd.rules.select import compile_selector, select

    out = []
    for need in kind.requires:
        options = [need] if isinstance(need, str) else need
        if not any(select(tree, compile_selector(o)) for o in options):
            out.append(" or ".join(options))
    if kind.columns:
        header = tree.get("columns")
        have = (
            {str(n.value).casefold() for n in header.value}
            if header and isinstance(header.value, list)
            else set()
        )
        out += [f"column {c!r}" for c in kind.columns if c.casefold() not in have]
    return out

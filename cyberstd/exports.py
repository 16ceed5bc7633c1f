"""The configuration exports of one run: which files have which kind, each parsed only once."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cyberstd.errors import Problem
from cyberstd.kinds import ExportKind, incomplete, missing_parts, parse_export
from cyberstd.messages import joined, local, msg
from cyberstd.parsers.base import MAX_BYTES, Node, ParseError, read_source


@dataclass(frozen=True)
class ExportFile:
    path: Path
    display: str
    kind: str


@dataclass
class Parsed:
    """One export after parsing: its tree or the error that stopped it, and its sha256."""

    file: ExportFile
    sha256: str = ""
    tree: Node | None = None
    error: ParseError | None = None


@dataclass
class ExportStore:
    """Export files by kind, parsed on first use (thread-safe) and kept for the rest of the run."""

    kinds: dict[str, ExportKind]
    files: list[ExportFile] = field(default_factory=list)
    max_bytes: int = MAX_BYTES
    _parsed: dict[Path, Parsed] = field(default_factory=dict)
    _locks: dict[Path, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def of_kind(self, kind: str) -> list[ExportFile]:
        return [f for f in self.files if f.kind == kind]

    def parsed(self, export: ExportFile) -> Parsed:
        """The parsed export (a ParseError is kept in the result, not raised)."""
        with self._guard:
            lock = self._locks.setdefault(export.path, threading.Lock())
        with lock:
            if export.path not in self._parsed:
                self._parsed[export.path] = self._parse(export)
            return self._parsed[export.path]

    def _parse(self, export: ExportFile) -> Parsed:
        kind = self.kinds.get(export.kind)
        if kind is None:
            said = msg("input.export.no_such_kind", kind=repr(export.kind))
            return Parsed(export, error=ParseError(export.display, said))
        try:
            source = read_source(export.path, export.display, self.max_bytes)
        except ParseError as exc:
            return Parsed(export, error=exc)
        digest = hashlib.sha256(source.data).hexdigest()
        try:
            tree = parse_export(kind, source)
        except ParseError as exc:
            return Parsed(export, digest, error=exc)
        lacking = missing_parts(kind, tree)
        if lacking:
            parts = local(joined(lacking, "nl", ", "), joined(lacking, "en", ", "))
            if kind.hint is not None:
                hint = local(kind.hint.nl, kind.hint.en)
                said = msg("input.export.lacks_hint", kind=kind.id, parts=parts, hint=hint)
            else:
                said = msg("input.export.lacks", kind=kind.id, parts=parts)
            return Parsed(export, digest, error=ParseError(export.display, said))
        paged = incomplete(kind, tree)
        if paged is not None:
            said = msg("input.export.one_page", kind=kind.id, marker=paged.strip(chr(34)))
            return Parsed(export, digest, error=ParseError(export.display, said))
        return Parsed(export, digest, tree=tree)


def export_problems(store: ExportStore) -> list[Problem]:
    """Every export of the store that cannot be read or parsed, as a positioned problem."""
    out = []
    for export in store.files:
        error = store.parsed(export).error
        if error is not None:
            said = error.said or error.detail
            out.append(Problem.of(error.file, error.line or 1, 1, "export", said))
    return out

"""Writing what a collector read into a school folder: every file staged, then each renamed
over its target (nothing is written unless everything was read), and school.yaml listing each
file under `exports:` (missing entries added, comments and order kept, existing ones untouched).
Shared by every `cyberstd collect` command.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from cyberstd.errors import InputError, Problem, UsageError
from cyberstd.messages import msg
from cyberstd.school import SCHOOL_FILE
from cyberstd.yamlsrc import load, writer_yaml

# The key every collected file carries: when it was read, from where, and any note.
STAMP = "cyberstdCollected"


def stamp_meta(at: dt.datetime, source: str, note: str | None = None) -> dict[str, Any]:
    """What `STAMP` holds: the moment (UTC, seconds), the request, and a note if any."""
    meta: dict[str, Any] = {
        "at": at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "source": source,
    }
    if note:
        meta["note"] = note
    return meta


@dataclass(frozen=True)
class Outcome:
    """What a collection wrote: the files, and the export paths newly listed in school.yaml."""

    written: list[Path]
    added: list[str]


def school_yaml(folder: Path) -> Path:
    """school.yaml of a school folder, checked to be safe YAML with a usable `exports` list."""
    target = folder / SCHOOL_FILE
    if not target.is_file():
        raise UsageError(msg("collect.folder.not_school", folder=str(folder)))
    doc = load(target)
    if not isinstance(doc.data, CommentedMap):
        raise InputError([Problem.of(doc.display, 1, 1, "type", msg("collect.folder.not_mapping"))])
    exports = doc.data.get("exports")
    if exports is not None and not isinstance(exports, CommentedSeq):
        raise InputError([doc.problem(["exports"], "type", msg("collect.folder.exports_not_list"))])
    return target


def _unwritable(path: Path, exc: OSError) -> UsageError:
    reason = exc.strerror or type(exc).__name__
    return UsageError(msg("collect.folder.unwritable", path=str(path), reason=reason))


def _outside(target: Path, folder: Path) -> UsageError:
    return UsageError(msg("collect.folder.outside", path=str(target), folder=str(folder)))


def check_export_dir(folder: Path, relative: str) -> Path:
    """`folder/relative`, checked without making anything: it lies inside the school folder
    (a symbolic link out of it is refused), and it, or the folder it would be made in, is a
    writable folder, as is the school folder itself (school.yaml is replaced there)."""
    target = folder / relative
    if not target.resolve().is_relative_to(folder.resolve()):
        raise _outside(target, folder)
    existing = target
    while not existing.exists() and existing != folder:
        existing = existing.parent
    for place in dict.fromkeys((existing, folder)):
        if not place.is_dir():
            raise _unwritable(place, NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
        if not os.access(place, os.W_OK):
            raise _unwritable(place, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
    return target


def export_dir(folder: Path, relative: str) -> Path:
    """`folder/relative`, checked (`check_export_dir`) and made if missing."""
    target = check_export_dir(folder, relative)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(target, exc) from None
    if not target.resolve().is_relative_to(folder.resolve()):
        raise _outside(target, folder)
    return target


def prepare(folder: Path, relative: str) -> Path:
    """Check a school folder before anything is sent: its school.yaml (returned) and the
    export folder `relative` in it (inside the school folder, writable; not yet made)."""
    school_file = school_yaml(folder)
    check_export_dir(folder, relative)
    return school_file


def _atomic_text(target: Path, text: str) -> Path:
    """Write text to a temporary file next to `target` (flushed to disk); returns its path."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_exports(folder: Path, relative: str, files: list[tuple[str, Any]]) -> list[Path]:
    """Write each (file name, JSON document) to `folder/relative`: all temporary files
    first, then each renamed over its file."""
    target_dir = export_dir(folder, relative)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, document in files:
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            final = target_dir / name
            staged.append((_atomic_text(final, text), final))
        for tmp, final in staged:
            os.replace(tmp, final)
    except OSError as exc:
        raise _unwritable(target_dir, exc) from None
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [final for _, final in staged]


def _normal(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).as_posix()


def _trailing_comment(seq: CommentedSeq) -> CommentToken | None:
    """The comment token after a list's last item (where blank lines and comments after it live)."""
    node: Any = seq
    found: CommentToken | None = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key: Any = len(node) - 1 if isinstance(node, CommentedSeq) else list(node)[-1]
        slot = 0 if isinstance(node, CommentedSeq) else 2
        entry = node.ca.items.get(key)
        if entry and len(entry) > slot and isinstance(entry[slot], CommentToken):
            found = entry[slot]
        node = node[key]
    return found


def _append_entries(exports: CommentedSeq, entries: list[tuple[str, str]]) -> None:
    """Append `{path, kind}` items, moving what followed the old last item after the new ones."""
    token = _trailing_comment(exports)
    after = ""
    if token is not None:
        head, _, after = str(token.value).partition("\n")
        token.value = head + "\n"
    for path, kind in entries:
        item = CommentedMap()
        item["path"] = path
        item["kind"] = kind
        exports.append(item)
    if after:
        exports[-1].ca.items["kind"] = [
            None,
            None,
            CommentToken("\n" + after, CommentMark(0)),
            None,
        ]
    exports.fa.set_block_style()


def register_exports(school_file: Path, entries: list[tuple[str, str]]) -> list[str]:
    """List each (path, kind) under `exports:` unless its path is listed; returns those added.

    school.yaml is rewritten round-trip (comments and order kept) through a temporary file,
    and only when something is added.
    """
    load(school_file)  # refuses what is unsafe or broken before it is touched
    yaml = writer_yaml()
    data = yaml.load(school_file.read_text(encoding="utf-8"))
    if not isinstance(data, CommentedMap):
        raise InputError(
            [Problem.of(str(school_file), 1, 1, "type", msg("collect.folder.not_mapping"))]
        )
    exports = data.get("exports")
    if exports is None:
        exports = data["exports"] = CommentedSeq()
    if not isinstance(exports, CommentedSeq):
        raise InputError(
            [Problem.of(str(school_file), 1, 1, "type", msg("collect.folder.exports_not_list"))]
        )
    listed = {
        _normal(e["path"])
        for e in exports
        if isinstance(e, CommentedMap) and isinstance(e.get("path"), str)
    }
    missing = [(p, k) for p, k in entries if _normal(p) not in listed]
    if not missing:
        return []
    _append_entries(exports, missing)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".school-", suffix=".yaml", dir=school_file.parent)
    except OSError as exc:
        raise _unwritable(school_file.parent, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.dump(data, fh)
        os.replace(tmp, school_file)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _unwritable(school_file, exc) from None
        raise
    return [p for p, _ in missing]

"""Safe YAML loading with ruamel.yaml: size, encoding, duplicate keys, tags, depth and alias
bombs refused, positions kept.

The files are YAML 1.2 (ruamel's default; a `%YAML 1.1` directive is refused): `yes`, `on`
and `1:30` are text, not booleans or numbers. No value may carry a tag (`!!python/object/...`,
`!!binary`, `!!set`, `!!bool`, even `!!str`, or a custom `!tag`): the files hold plain values,
text in quotes where it could be read as something else, so nothing in a school's files is
ever constructed as an object. Dates
are kept as text for pydantic, which then wants a real YYYY-MM-DD (schema.Day).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cyberstd.errors import InputError, Problem

MAX_BYTES = 5 * 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64
# The tags of YAML 1.2's core schema (and the merge key): implied by plain values or written.
CORE = "tag:yaml.org,2002:"


def _shown_tag(tag: str) -> str:
    return "!!" + tag[len(CORE) :] if tag.startswith(CORE) else tag


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that leaves timestamps as text, so that pydantic judges dates
    (an impossible date then becomes a positioned problem instead of a crash)."""


def _timestamp_as_text(constructor: RoundTripConstructor, node: ScalarNode) -> str:
    return str(node.value)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def new_yaml() -> YAML:
    """A round-trip YAML instance that keeps comments and order (also used for rewriting)."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


@dataclass
class Document:
    """A loaded YAML file: its round-trip tree (with positions), text and sha256."""

    path: Path
    display: str
    data: Any
    sha256: str

    def problem(
        self, loc: Sequence[int | str], code: str, message: str, *, key: bool = False
    ) -> Problem:
        line, col = locate(self.data, loc, key=key)
        return Problem(self.display, line, col, code, message)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def read_text(
    path: Path, display: str, *, limit: int | None = None, expected: str = "YAML text"
) -> tuple[str, bytes]:
    """Read a text input file, refusing what is missing, larger than `limit` (default the
    YAML limit), binary or not UTF-8."""
    most = MAX_BYTES if limit is None else limit
    if not path.exists():
        raise InputError([Problem(display, 1, 1, "missing-file", "file not found")])
    if not path.is_file():
        raise InputError([Problem(display, 1, 1, "not-a-file", "not a regular file")])
    size = path.stat().st_size
    if size > most:
        raise InputError(
            [Problem(display, 1, 1, "too-large", f"file is {size} bytes; the limit is {most}")]
        )
    raw = path.read_bytes()
    if _utf16(raw):
        raise InputError(
            [
                Problem(
                    display,
                    1,
                    1,
                    "encoding",
                    "UTF-16 text (Notepad's 'Unicode'); save the file as UTF-8",
                )
            ]
        )
    if b"\x00" in raw:
        raise InputError([Problem(display, 1, 1, "binary", f"binary file, expected {expected}")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            [
                Problem(
                    display, line, col, "encoding", "not valid UTF-8 text; save the file as UTF-8"
                )
            ]
        ) from None
    return text, raw


def _utf16(raw: bytes) -> bool:
    """UTF-16 or UTF-32 text: a byte order mark, or every other byte of ASCII text zero."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = raw[:200]
    return len(head) >= 4 and (
        head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4
    )


def load(path: Path, display: str | None = None) -> Document:
    """Load one YAML file or raise InputError with every problem found in it."""
    shown = display or str(path)
    text, raw = read_text(path, shown)
    return load_text(text, raw, shown, path)


def load_text(text: str, raw: bytes, shown: str, path: Path | None = None) -> Document:
    """Load YAML text already read (and decoded) or raise InputError with every problem in it."""
    deep = _flow_too_deep(shown, text)
    if deep is not None:  # before the parser, which slows down badly on such nesting
        raise InputError([deep])
    yaml = new_yaml()
    try:  # a tag needs '!', a version directive '%': most files pass without a second parse
        early = _events_problems(shown, yaml, text) if "!" in text or "%" in text else []
    except MarkedYAMLError as exc:
        raise InputError([_marked(shown, exc, "yaml-syntax")]) from None
    except YAMLError as exc:
        raise InputError([Problem(shown, 1, 1, "yaml-syntax", str(exc))]) from None
    if early:
        raise InputError(early)
    yaml = new_yaml()
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        raise InputError([_marked(shown, exc, "yaml-syntax")]) from None
    except YAMLError as exc:
        raise InputError([Problem(shown, 1, 1, "yaml-syntax", str(exc))]) from None
    except RecursionError:
        raise InputError([_too_deep(shown, text)]) from None
    if node is None:
        raise InputError([Problem(shown, 1, 1, "empty", "file is empty")])
    problems = _check_nodes(shown, node)
    if problems:
        raise InputError(problems)
    try:
        data = new_yaml().load(text)
    except MarkedYAMLError as exc:
        raise InputError([_marked(shown, exc, "yaml-syntax")]) from None
    except (YAMLError, ValueError) as exc:
        raise InputError([Problem(shown, 1, 1, "yaml-syntax", str(exc))]) from None
    except RecursionError:
        raise InputError([_too_deep(shown, text)]) from None
    return Document(path or Path(shown), shown, data, hashlib.sha256(raw).hexdigest())


def _flow_too_deep(display: str, text: str) -> Problem | None:
    """Brackets ([ and {) nested more than MAX_DEPTH deep outside quotes and comments."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth, quote, line, col, comment = 0, "", 1, 0, False
    for ch in text:
        col += 1
        if ch == "\n":
            line, col, comment = line + 1, 0, False
            quote = "" if quote == "'" else quote
            continue
        if comment:
            continue
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                message = f"nested more than {MAX_DEPTH} levels deep"
                return Problem(display, line, col, "too-deep", message)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return None


def _events_problems(display: str, yaml: YAML, text: str) -> list[Problem]:
    """What the parser's events show: a YAML version other than 1.2, and every tag."""
    problems: list[Problem] = []
    for event in yaml.parse(text):
        mark = event.start_mark
        version = getattr(event, "version", None)
        if version is not None and tuple(version) != (1, 2):
            directive = re.search(r"(?m)^%YAML", text)
            problems.append(
                Problem(
                    display,
                    text.count("\n", 0, directive.start()) + 1 if directive else mark.line + 1,
                    1,
                    "yaml-version",
                    f"%YAML {'.'.join(map(str, version))} is not supported; the files are "
                    "YAML 1.2 (remove the %YAML line)",
                )
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            problems.append(
                Problem(
                    display,
                    mark.line + 1,
                    mark.column + 1,
                    "tag",
                    f"the YAML tag {_shown_tag(str(tag))} is not allowed; write a plain value "
                    "(in quotes if it is text)",
                )
            )
    return problems


def _too_deep(display: str, text: str) -> Problem:
    """Nesting the YAML library cannot even read: placed where the brackets pile up."""
    pile = re.search(r"(?:[\[{][^\[{\]}\n]{0,16}){8,}", text)
    at = pile.start() if pile else 0
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    return Problem(display, line, col, "too-deep", f"nested more than {MAX_DEPTH} levels deep")


def _marked(display: str, exc: MarkedYAMLError, code: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    col = mark.column + 1 if mark is not None else 1
    what = " ".join(p for p in (exc.context, exc.problem) if p)
    return Problem(display, line, col, code, what or "invalid YAML")


def _check_nodes(display: str, root: Node) -> list[Problem]:
    """Duplicate keys (all of them), tags outside the core schema (all of them), nesting deeper
    than MAX_DEPTH, and documents of more than MAX_NODES values (through aliases or not)."""
    problems: list[Problem] = []
    sizes: dict[int, int] = {}
    seen: set[int] = set()
    on_stack: set[int] = set()
    reused = [False]

    def pos(node: Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def size(node: Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            reused[0] = True
            return sizes[key]
        if key in on_stack:
            raise _Recursive(node)
        if depth > MAX_DEPTH:
            raise _TooDeep(node)
        on_stack.add(key)
        total = 1
        first = key not in seen
        seen.add(key)
        if isinstance(node, MappingNode):
            names: dict[str, Node] = {}
            for k, v in node.value:
                if first and isinstance(k, ScalarNode):
                    if k.value in names:
                        line, col = pos(k)
                        was = names[k.value].start_mark.line + 1
                        problems.append(
                            Problem(
                                display,
                                line,
                                col,
                                "duplicate-key",
                                f"duplicate key {k.value!r} (first defined on line {was})",
                            )
                        )
                    else:
                        names[k.value] = k
                total += size(k, depth + 1) + size(v, depth + 1)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                total += size(item, depth + 1)
        on_stack.discard(key)
        sizes[key] = total
        if total > MAX_NODES:
            raise _TooBig(node)
        return total

    try:
        size(root, 1)
    except _Recursive as exc:
        line, col = pos(exc.node)
        problems.append(Problem(display, line, col, "alias", "recursive YAML alias"))
    except _TooDeep as exc:
        line, col = pos(exc.node)
        problems.append(
            Problem(display, line, col, "too-deep", f"nested more than {MAX_DEPTH} levels deep")
        )
    except _TooBig as exc:
        line, col = pos(exc.node)
        if reused[0]:
            code = "alias-bomb"
            message = f"document expands to more than {MAX_NODES} values through aliases; refused"
        else:
            code = "too-many-values"
            message = f"document holds more than {MAX_NODES} values; refused"
        problems.append(Problem(display, line, col, code, message))
    return problems


class _Recursive(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


class _TooDeep(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


class _TooBig(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


def locate(data: Any, loc: Sequence[int | str], *, key: bool = False) -> tuple[int, int]:
    """1-based line and column of the value (or key) at `loc` in a round-trip tree.

    Walks as deep as the tree allows, so a missing field points at the mapping that lacks it.
    """
    if not loc:  # the whole document: where it starts
        if isinstance(data, CommentedMap | CommentedSeq) and data.lc.line is not None:
            return data.lc.line + 1, (data.lc.col or 0) + 1
        return 1, 1
    line, col = 1, 1
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            try:
                k_line, k_col = node.lc.key(part)
                v_line, v_col = node.lc.value(part)
            except (KeyError, TypeError):  # a key merged in through `<<:`: place at the mapping
                line, col = node.lc.line or 0, node.lc.col or 0
                break
            # an empty value has no position of its own (the next token's): take the key's
            empty = node[part] is None
            line, col = (k_line, k_col) if ((key or empty) and last) else (v_line, v_col)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        elif isinstance(node, CommentedMap | CommentedSeq) and i == 0 and node.lc.line is not None:
            line, col = node.lc.line, node.lc.col
            break
        else:
            break
    else:
        return line + 1, col + 1
    if (line, col) == (1, 1) and isinstance(data, CommentedMap | CommentedSeq):
        return (data.lc.line or 0) + 1, (data.lc.col or 0) + 1
    return line + 1, col + 1


def writer_yaml() -> YAML:
    """A round-trip YAML instance for rewriting a user's file: comments, order and dates kept."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml

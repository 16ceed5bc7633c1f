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
from cyberstd.messages import Msg, local, msg

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
        self, loc: Sequence[int | str], code: str, message: Msg | str, *, key: bool = False
    ) -> Problem:
        """The problem at `loc`: a catalog message, or text that is data only."""
        line, col = locate(self.data, loc, key=key)
        return Problem.of(self.display, line, col, code, message)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def _refuse(display: str, code: str, said: Msg, line: int = 1, col: int = 1) -> InputError:
    return InputError([Problem.of(display, line, col, code, said)])


def read_text(
    path: Path, display: str, *, limit: int | None = None, expected: Msg | None = None
) -> tuple[str, bytes]:
    """Read a text input file, refusing what is missing, larger than `limit` (default the
    YAML limit), binary or not UTF-8. `expected` names what it should hold (YAML text)."""
    most = MAX_BYTES if limit is None else limit
    if not path.exists():
        raise _refuse(display, "missing-file", msg("input.file.missing"))
    if not path.is_file():
        raise _refuse(display, "not-a-file", msg("input.file.not_a_file"))
    size = path.stat().st_size
    if size > most:
        raise _refuse(display, "too-large", msg("input.file.too_large", size=size, most=most))
    raw = path.read_bytes()
    if _utf16(raw):
        raise _refuse(display, "encoding", msg("input.file.utf16"))
    if b"\x00" in raw:
        what = expected or msg("input.file.yaml_text")
        raise _refuse(display, "binary", msg("input.file.binary", expected=what))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _refuse(display, "encoding", msg("input.file.not_utf8"), line, col) from None
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
        raise _refuse(shown, "yaml-syntax", _syntax(str(exc))) from None
    if early:
        raise InputError(early)
    yaml = new_yaml()
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        raise InputError([_marked(shown, exc, "yaml-syntax")]) from None
    except YAMLError as exc:
        raise _refuse(shown, "yaml-syntax", _syntax(str(exc))) from None
    except RecursionError:
        raise InputError([_too_deep(shown, text)]) from None
    if node is None:
        raise _refuse(shown, "empty", msg("input.yaml.empty"))
    problems = _check_nodes(shown, node)
    if problems:
        raise InputError(problems)
    try:
        data = new_yaml().load(text)
    except MarkedYAMLError as exc:
        raise InputError([_marked(shown, exc, "yaml-syntax")]) from None
    except (YAMLError, ValueError) as exc:
        raise _refuse(shown, "yaml-syntax", _syntax(str(exc))) from None
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
                said = msg("input.yaml.too_deep", depth=MAX_DEPTH)
                return Problem.of(display, line, col, "too-deep", said)
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
                Problem.of(
                    display,
                    text.count("\n", 0, directive.start()) + 1 if directive else mark.line + 1,
                    1,
                    "yaml-version",
                    msg("input.yaml.version", version=".".join(map(str, version))),
                )
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            problems.append(
                Problem.of(
                    display,
                    mark.line + 1,
                    mark.column + 1,
                    "tag",
                    msg("input.yaml.tag", tag=_shown_tag(str(tag))),
                )
            )
    return problems


def _too_deep(display: str, text: str) -> Problem:
    """Nesting the YAML library cannot even read: placed where the brackets pile up."""
    pile = re.search(r"(?:[\[{][^\[{\]}\n]{0,16}){8,}", text)
    at = pile.start() if pile else 0
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    return Problem.of(display, line, col, "too-deep", msg("input.yaml.too_deep", depth=MAX_DEPTH))


def _marked(display: str, exc: MarkedYAMLError, code: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    col = mark.column + 1 if mark is not None else 1
    what = " ".join(p for p in (exc.context, exc.problem) if p)
    return Problem.of(
        display, line, col, code, _syntax(what) if what else msg("input.yaml.invalid")
    )


# What the YAML parser says, in Dutch: its phrases, in the order they are tried.
_SYNTAX_NL: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), nl)
    for p, nl in (
        (r"while parsing a flow sequence", "in een lijst tussen [ ]:"),
        (r"while parsing a flow mapping", "in velden tussen { }:"),
        (r"while parsing a block mapping", "in een blok velden:"),
        (r"while parsing a block collection", "in een blok:"),
        (r"while parsing a (?:block|flow) node", "bij een waarde:"),
        (r"while scanning a simple key", "bij een sleutel:"),
        (r"while scanning a quoted scalar", "in tekst tussen aanhalingstekens:"),
        (r"while scanning a (?:plain|block) scalar", "in een tekst:"),
        (r"while scanning an? (?:alias|anchor)", "bij een alias of anker:"),
        (r"while scanning for the next token", "bij het lezen:"),
        (r"could not find expected ':'", "de ':' na de sleutel ontbreekt"),
        (
            r"mapping values are not allowed here",
            "hier mag geen ':' met een waarde staan (zet tekst met ': ' tussen aanhalingstekens)",
        ),
        (
            r"found character '\\t' that cannot start any token",
            "een tab mag hier niet staan; spring in met spaties",
        ),
        (r"found character (.+?) that cannot start any token", r"het teken \1 mag hier niet staan"),
        (r"found unexpected end of stream", "het bestand houdt te vroeg op"),
        (r"found undefined alias (\S+)", r"onbekende alias \1"),
        (r"found unexpected (\S+)", r"onverwacht \1"),
        (r"expected (.+?), but (?:found|got) (.+)", r"verwachtte \1, maar vond \2"),
        (r"'<stream end>'", "het einde van het bestand"),
        (r"'?<block end>'?", "het einde van het blok"),
        (r"'<block mapping start>'", "een nieuw blok velden"),
        (r"'<block sequence start>'", "een nieuw blok"),
        (r"'<scalar>'", "een waarde"),
        (r"(?<=') or (?=')", " of "),
    )
]


def _syntax(text: str) -> Msg:
    """The parser's complaint as it gave it (English), and its phrases put in Dutch."""
    dutch = text
    for pattern, nl in _SYNTAX_NL:
        dutch = pattern.sub(nl, dutch)
    return msg("input.yaml.syntax", detail=local(dutch, text))


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
                        said = msg("input.yaml.duplicate_key", key=repr(k.value), line=was)
                        problems.append(Problem.of(display, line, col, "duplicate-key", said))
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
        problems.append(Problem.of(display, line, col, "alias", msg("input.yaml.alias")))
    except _TooDeep as exc:
        line, col = pos(exc.node)
        said = msg("input.yaml.too_deep", depth=MAX_DEPTH)
        problems.append(Problem.of(display, line, col, "too-deep", said))
    except _TooBig as exc:
        line, col = pos(exc.node)
        if reused[0]:
            code, said = "alias-bomb", msg("input.yaml.alias_bomb", most=MAX_NODES)
        else:
            code, said = "too-many-values", msg("input.yaml.too_many", most=MAX_NODES)
        problems.append(Problem.of(display, line, col, code, said))
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

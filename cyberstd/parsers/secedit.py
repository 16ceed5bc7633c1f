"""Windows security templates as `secedit /export /cfg file.inf` writes them (usually UTF-16)."""

from __future__ import annotations

import re

from cyberstd.parsers import parser
from cyberstd.parsers.base import Node, ParseError, Source

_SECTION = re.compile(r"\[([^\]]+)\]")
_INTEGER = re.compile(r"[-+]?\d+")
_SIGNATURES = ('"$chicago$"', '"$windows nt$"')
# Sections whose values are lists of accounts (SIDs as *S-1-..., or names).
_LISTS = frozenset({"privilege rights", "group membership"})
# Sections whose values stay text, such as "4,1" (registry type, data).
_TEXT = frozenset({"registry values"})
# Sections of rows `"name",mode,"SDDL"` rather than key = value.
_ROWS = frozenset({"service general setting", "registry keys", "file security"})


def _value(section: str, raw: str, file: str, line: int) -> Node:
    """A setting's value: a list for account sections, text for registry values, else an
    integer when the whole value is one."""
    if section in _LISTS:
        items = [Node(a.strip(), file, line) for a in raw.split(",") if a.strip()]
        return Node(items, file, line)
    if section not in _TEXT and _INTEGER.fullmatch(raw):
        return Node(int(raw), file, line)
    return Node(raw, file, line)


def _row(raw: str, file: str, line: int) -> tuple[str, Node] | None:
    """One `"name",mode,"SDDL"` row as (name, {mode, sddl}), or None when it is not one."""
    m = re.fullmatch(r'"([^"]*)"\s*,\s*([-+]?\d+)\s*,\s*"(.*)"', raw)
    if m is None:
        return None
    fields = {"mode": Node(int(m.group(2)), file, line), "sddl": Node(m.group(3), file, line)}
    return m.group(1), Node(fields, file, line)


def _is_secedit(sections: dict[str, Node]) -> bool:
    """Whether the sections carry a security template's signature or its main section."""
    names = {name.casefold(): node for name, node in sections.items()}
    if "unicode" in names or "system access" in names:
        return True
    version = names.get("version")
    signature = version.get("signature") if version is not None else None
    return signature is not None and str(signature.value).casefold() in _SIGNATURES


@parser("secedit")
def parse_secedit(source: Source) -> Node:
    """`{section: {key: value}}` in the file's own spelling, each setting at its line.

    Values that are a whole integer become ints ("System Access", "Event Audit", "Kerberos
    Policy", ...); "Registry Values" stay text ("4,1": type, data); "Privilege Rights" and
    "Group Membership" become lists of accounts. Rows of "Service General Setting",
    "Registry Keys" and "File Security" become `{name: {mode, sddl}}`. A key repeated in a
    section keeps its first value, as Windows reads it; repeated sections are merged.
    """
    file = source.display
    if not source.text.strip():
        raise ParseError(file, "empty file")
    sections: dict[str, Node] = {}
    current: Node | None = None
    kind = ""
    seen: dict[str, set[str]] = {}  # casefolded keys per section: the first one wins
    keys: set[str] = set()
    for number, raw in enumerate(source.text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if m := _SECTION.fullmatch(line):
            name = m.group(1).strip()
            folded = {k.casefold(): k for k in sections}
            current = sections.setdefault(folded.get(name.casefold(), name), Node({}, file, number))
            kind = name.casefold()
            keys = seen.setdefault(kind, set())
            continue
        if current is None:
            raise ParseError(
                file, "not a secedit export: a setting before the first [section]", number
            )
        if kind in _ROWS and (row := _row(line, file, number)) is not None:
            if row[0].casefold() not in keys:
                keys.add(row[0].casefold())
                current.value[row[0]] = row[1]
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ParseError(file, "neither a [section] nor a key = value line", number)
        if key.strip().casefold() not in keys:
            keys.add(key.strip().casefold())
            current.value[key.strip()] = _value(kind, value.strip(), file, number)
    if not _is_secedit(sections):
        raise ParseError(
            file, "not a secedit export: no [Unicode] or [Version] signature, no [System Access]"
        )
    return Node(sections, file, 1)

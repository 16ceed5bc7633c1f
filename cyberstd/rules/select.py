"""Selectors: paths into a parsed export, such as `value[*].members` or `"system interface".*`.

Grammar: segments separated by dots. A segment is a bare key (`permitrootlogin`), a quoted key
(`"Last check-in"`, for keys with spaces or dots), or `*` (every value of a mapping or every
item of a list). A key or `*` may be followed by brackets: `[*]` every item of a list (a single value counts
as a list of one), `[2]` one item,
`[key=value]` / `[key!=value]` items whose field equals (or not) a value, case-insensitively.
A key applied to a list applies to each item, so `rows."Device name"` names every row's cell.
Keys match exactly, else case-insensitively.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from cyberstd.parsers.base import Node

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<quoted>"(?:[^"\\]|\\.)*")
    | (?P<star>\*)
    | (?P<bare>[^.\[\]"*\s][^.\[\]"]*?)
    )\s*(?P<brackets>(?:\[[^\]]*\])*)\s*(?:\.|$)""",
    re.VERBOSE,
)
_BRACKET = re.compile(r"\[([^\]]*)\]")
_FILTER = re.compile(r"^\s*([^=!]+?)\s*(!?=)\s*(.*?)\s*$")


class SelectorError(ValueError):
    """A selector that cannot be parsed."""


@dataclass(frozen=True)
class Step:
    kind: str  # "key", "all", "items", "index", "filter"
    key: str = ""
    index: int = 0
    negate: bool = False
    value: str = ""


@dataclass(frozen=True)
class Match:
    """One selected node and the path that led to it (for evidence)."""

    node: Node
    path: str
    key: str | None = None  # the mapping key it was found under by `*` (an entry's name)


def _unquote(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


@functools.lru_cache(maxsize=4096)
def compile_selector(text: str) -> tuple[Step, ...]:
    """Parse a selector (cached); raises SelectorError with the position of what is wrong."""
    if not text.strip():
        raise SelectorError("empty selector")
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise SelectorError(f"cannot read the selector at character {pos + 1}: {text[pos:]!r}")
        if m.group("star"):
            steps.append(Step("all"))
        elif m.group("quoted"):
            steps.append(Step("key", key=_unquote(m.group("quoted"))))
        else:
            steps.append(Step("key", key=m.group("bare").strip()))
        for inner in _BRACKET.findall(m.group("brackets")):
            steps.append(_bracket(inner, text))
        pos = m.end()
        if text[m.end() - 1 : m.end()] == "." and pos >= len(text):
            raise SelectorError(f"selector {text!r} ends with a dot")
    return tuple(steps)


def _bracket(inner: str, text: str) -> Step:
    inner = inner.strip()
    if inner == "*":
        return Step("items")
    if re.fullmatch(r"-?\d+", inner):
        return Step("index", index=int(inner))
    f = _FILTER.match(inner)
    if f is None:
        raise SelectorError(f"cannot read [{inner}] in selector {text!r}")
    value = f.group(3)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    key = f.group(1)
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    return Step("filter", key=key, negate=f.group(2) == "!=", value=value)


def _text(node: Node | None) -> str | None:
    if node is None or isinstance(node.value, (dict, list)):
        return None
    v = node.value
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _apply(step: Step, found: list[Match]) -> list[Match]:
    out: list[Match] = []
    for m in found:
        v = m.node.value
        if step.kind == "key":
            if isinstance(v, list):
                for i, item in enumerate(v):
                    child = item.get(step.key)
                    if child is not None:
                        out.append(Match(child, f"{m.path}[{i}].{step.key}"))
            else:
                child = m.node.get(step.key)
                if child is not None:
                    out.append(Match(child, f"{m.path}.{step.key}" if m.path else step.key))
        elif step.kind == "all":
            if isinstance(v, list):
                out.extend(Match(n, f"{m.path}[{i}]") for i, n in enumerate(v))
            elif isinstance(v, dict):
                out.extend(Match(n, f"{m.path}.{k}" if m.path else k, k) for k, n in v.items())
            else:
                out.append(m)
        elif step.kind == "items":
            # `[*]`: the items of a list; a single mapping counts as a list of one (an XML
            # element that appears once is not a list).
            if isinstance(v, list):
                out.extend(Match(n, f"{m.path}[{i}]") for i, n in enumerate(v))
            else:
                out.append(m)
        elif step.kind == "index":
            if isinstance(v, list) and -len(v) <= step.index < len(v):
                out.append(Match(v[step.index], f"{m.path}[{step.index}]"))
        else:
            items: list[tuple[str, Node]] = (
                [(f"{m.path}[{i}]", n) for i, n in enumerate(v)]
                if isinstance(v, list)
                else [(m.path, m.node)]
            )
            for path, item in items:
                cell = _text(item.get(step.key))
                hit = cell is not None and cell.casefold() == step.value.casefold()
                if hit != step.negate:
                    out.append(Match(item, path))
    return out


def select(root: Node, steps: tuple[Step, ...], base: str = "") -> list[Match]:
    """Every node the selector reaches from root, in document order."""
    found = [Match(root, base)]
    for step in steps:
        found = _apply(step, found)
        if not found:
            break
    return found

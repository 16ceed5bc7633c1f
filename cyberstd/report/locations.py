"""Where a finding points in a configuration file: the file:line pairs behind its verdict."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cyberstd.results import Finding, FindingStatus


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None
    label: str | None = None
    actual: Any = None


def _items(evidence: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from evidence.get("items") or []
    for part in (evidence.get("any_of") or []) + (evidence.get("all_of") or []):
        if part.get("status") != str(FindingStatus.PASS):
            yield from part.get("items") or []


def locations(finding: Finding) -> list[Location]:
    """The configuration lines that make a finding fail (or error), most specific first.

    Failing values of an `expect` rule, the selected items of a `count` rule that allows none,
    else the file itself (an input error carries its own file and line)."""
    ev = finding.evidence
    out: list[Location] = []
    seen: set[tuple[str, int | None]] = set()
    for it in _items(ev):
        if it.get("ok") is True or not isinstance(it.get("file"), str):
            continue
        key = (it["file"], it.get("line"))
        if key in seen:
            continue
        seen.add(key)
        out.append(Location(it["file"], it.get("line"), it.get("label"), it.get("actual")))
    if out:
        return out
    if isinstance(ev.get("file"), str):
        return [Location(ev["file"], ev.get("line"))]
    files = ev.get("files") or []
    return [Location(f["path"], None) for f in files if isinstance(f, dict) and "path" in f]

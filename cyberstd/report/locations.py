"""Where a finding points in a configuration file: the file:line pairs behind its verdict."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cyberstd.results import ErrorReason, Finding, FindingStatus

# How many configuration lines, and how many characters, a one-line evidence summary shows.
MAX_LOCATIONS = 10
SUMMARY_LIMIT = 300
FAILED = (FindingStatus.FAIL, FindingStatus.ERROR)


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None
    label: str | None = None
    actual: Any = None


def _items(evidence: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The items of the rule, or of the parts behind its verdict: the parts that fail or err
    when there are any (not those the export could not decide), else every part that did not
    pass (those that were not judged, which point at what to attest)."""
    yield from evidence.get("items") or []
    parts = (evidence.get("any_of") or []) + (evidence.get("all_of") or [])
    failed = [p for p in parts if p.get("status") in {str(s) for s in FAILED}]
    for part in failed or [p for p in parts if p.get("status") != str(FindingStatus.PASS)]:
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


def is_config(finding: Finding) -> bool:
    """Whether a finding comes from the configuration probe (it read exports) rather than the network."""
    ev = finding.evidence
    return (
        isinstance(ev.get("files"), list)
        or isinstance(ev.get("file"), str)
        or finding.error_reason is ErrorReason.INPUT
    )


def files_read(finding: Finding) -> list[tuple[str, str | None]]:
    """The export files a configuration finding read, with their sha256 where known."""
    out = []
    for item in finding.evidence.get("files") or []:
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            sha = item.get("sha256")
            out.append((item["path"], sha if isinstance(sha, str) else None))
    return out


def _short(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def evidence_summary(finding: Finding) -> str:
    """What a finding rests on, in one line.

    For a configuration finding that failed: the `file:line` of the offending items; for one
    that did not: the files it read; for any other finding: its evidence as short
    `key=value` pairs."""
    if is_config(finding) and finding.status not in FAILED:
        text = "; ".join(path for path, _ in files_read(finding))
    elif is_config(finding):
        parts = []
        found = locations(finding)
        for loc in found[:MAX_LOCATIONS]:
            where = f"{loc.file}:{loc.line}" if loc.line else loc.file
            parts.append(f"{where} ({loc.label})" if loc.label else where)
        if len(found) > MAX_LOCATIONS:
            parts.append(f"… (+{len(found) - MAX_LOCATIONS})")
        text = "; ".join(parts)
    else:
        text = "; ".join(f"{k}={_short(v)}" for k, v in sorted(finding.evidence.items()))
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"

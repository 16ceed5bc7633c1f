"""SARIF 2.1.0 for code-scanning views: one result per offending configuration line."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from cyberstd import __version__
from cyberstd.report.common import accepted_findings, accepted_line, waiver_line
from cyberstd.report.escape import json_strings
from cyberstd.report.locations import Location, locations
from cyberstd.results import Finding, FindingStatus, Results, Severity, WaiverRecord

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
REPORTED = (FindingStatus.FAIL, FindingStatus.ERROR)


@functools.lru_cache(maxsize=4096)
def _uri(path: str) -> dict[str, str]:
    """A file as a SARIF artifact location: a percent-encoded URI reference, relative to the
    checkout (%SRCROOT%, which the consumer resolves) unless the path is absolute."""
    p = PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute():
        return {"uri": p.as_uri()}
    return {"uri": quote(str(p), safe="/"), "uriBaseId": "%SRCROOT%"}


def _text(d: dict[str, str], lang: str) -> str:
    return d.get(lang) or d.get("en") or ""


def _rule(f: Finding, lang: str) -> dict[str, Any]:
    sev = Severity(f.severity)
    title = _text(f.title, lang) or f.check
    return {
        "id": f.check,
        "shortDescription": {"text": title},
        "fullDescription": {"text": title},
        "help": {"text": _text(f.remediation, lang) or title},
        "defaultConfiguration": {"level": LEVEL[sev]},
        "properties": {
            "tags": ["security", *f.controls],
            "security-severity": SECURITY_SEVERITY[sev],
            "precision": "high",
        },
    }


def _suppression(f: Finding, waiver: WaiverRecord | None, lang: str) -> dict[str, Any]:
    """An accepted risk as SARIF says it: suppressed outside the code, accepted, with the
    waiver as justification and its approver and expiry as properties."""
    out: dict[str, Any] = {
        "kind": "external",
        "status": "accepted",
        "justification": accepted_line(waiver, f, lang),
    }
    if waiver is not None:
        out["properties"] = {
            "waiverScope": waiver.scope,
            "approvedBy": waiver.approved_by,
            "expires": waiver.expires.isoformat(),
        }
    return out


def _results(f: Finding, rule_index: int, lang: str) -> list[dict[str, Any]]:
    level = "error" if f.status is FindingStatus.ERROR else LEVEL[Severity(f.severity)]
    if f.status is FindingStatus.FAIL and f.advises and not f.controls:
        level = "note"  # advice only: shown, never a gate
    out = []
    found: list[Location | None] = [*locations(f)] or [None]
    for loc in found:
        result: dict[str, Any] = {
            "ruleId": f.check,
            "ruleIndex": rule_index,
            "level": level,
            "kind": "fail",
            "message": {"text": f.text(lang)},
            # Stable while lines move: the item's label (an interface, an account) where it
            # has one, else its line.
            "partialFingerprints": {
                "cyberstdFinding/v1": f.id
                if loc is None
                else f"{f.id}|{loc.file}|{loc.label or loc.line or 0}"
            },
        }
        if loc is not None:
            physical: dict[str, Any] = {"artifactLocation": dict(_uri(loc.file))}
            if loc.line:
                physical["region"] = {"startLine": loc.line}
            result["locations"] = [{"physicalLocation": physical}]
            if loc.label:
                result["message"] = {"text": f"{loc.label}: {f.text(lang)}"}
        else:
            result["locations"] = [{"logicalLocations": [{"name": f.target, "kind": "resource"}]}]
        if f.status is FindingStatus.ERROR and f.error_reason:
            result["properties"] = {"error_reason": str(f.error_reason)}
        out.append(result)
    return out


def render_findings(
    findings: Sequence[Finding],
    lang: str = "en",
    *,
    complete: bool = True,
    waivers: Sequence[WaiverRecord] = (),
    accepted: Mapping[str, WaiverRecord | None] | None = None,
) -> str:
    """SARIF for findings: rules for every check seen, results for what failed or erred. A
    failure a waiver accepts (`accepted`, by finding id, or marked `waived_by`) is a result
    with an accepted external suppression; every waiver is a notification, a note when it
    takes effect and a warning that says why when it does not."""
    accepted = accepted or {}
    rules: dict[str, int] = {}
    rule_defs: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = [
        {"level": "note" if w.applied else "warning", "message": {"text": waiver_line(w, lang)}}
        for w in waivers
    ]
    for f in findings:
        if f.status is FindingStatus.SKIPPED and f.evidence.get("skipped"):
            notes.append(
                {
                    "level": "note",
                    "message": {"text": f.text(lang)},
                    "locations": [{"physicalLocation": {"artifactLocation": _uri(f.target)}}],
                }
            )
            continue
        if f.check not in rules:
            rules[f.check] = len(rule_defs)
            rule_defs.append(_rule(f, lang))
        if f.status in REPORTED:
            found = _results(f, rules[f.check], lang)
            if f.status is FindingStatus.FAIL and (f.waived_by or f.id in accepted):
                for result in found:
                    result["suppressions"] = [_suppression(f, accepted.get(f.id), lang)]
            results.extend(found)
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cyberstd",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rule_defs,
                    }
                },
                "invocations": [
                    {"executionSuccessful": complete}
                    | ({"toolExecutionNotifications": notes} if notes else {})
                ],
                "results": results,
            }
        ],
    }
    # Compact: code-scanning uploads of thousands of results stay small and quick to write.
    return json.dumps(json_strings(doc), ensure_ascii=False, separators=(",", ":")) + "\n"


def render(results: Results, lang: str) -> str:
    """SARIF of a scan's findings (network findings point at their target by name)."""
    done = not any(f.status is FindingStatus.ERROR for f in results.findings)
    return render_findings(
        results.findings,
        lang,
        complete=done,
        waivers=results.waivers,
        accepted=accepted_findings(results),
    )

"""CSV for spreadsheets: one row per control and one per finding, safe to open in Excel.

The file starts with a UTF-8 byte order mark (so that Excel reads it as UTF-8), ends its
lines with CRLF, and neutralises every cell that a spreadsheet could take for a formula:
a cell that starts with '=', '+', '-', '@', a tab or a carriage return gets a leading single
quote (OWASP's advice against CSV injection). `render` separates cells with ',',
`render_semicolon` with ';' for Excel in a Dutch or Belgian locale. Record kinds, statuses and
severities are in the report's language.

After the controls and the findings, one record per waiver of the run (the report's
accepted risks): what it covers, its reason, approver, expiry and effect. A failed finding
that a waiver accepts carries that waiver's approver, expiry and effect too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from cyberstd.explain import why
from cyberstd.i18n import t
from cyberstd.report.common import (
    accepted_findings,
    accepted_line,
    findings_of,
    next_step,
    severity_of,
    waiver_effect,
    waiver_scope,
)
from cyberstd.report.escape import inert
from cyberstd.report.locations import evidence_summary
from cyberstd.results import (
    GAP_ORDER,
    ControlResult,
    Finding,
    Results,
    WaiverRecord,
)

BOM = "\ufeff"
# First characters that make a spreadsheet evaluate a cell (OWASP: CSV injection), and
# their full-width forms, which some spreadsheet programs fold to the ASCII ones.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
CELL_LIMIT = 2000

# Column keys in the order they appear; their headers are `csv.col.<key>` in the catalog.
COLUMNS: tuple[str, ...] = (
    "record",
    "control",
    "level",
    "title",
    "control_status",
    "check",
    "target",
    "finding_status",
    "severity",
    "message",
    "evidence",
    "attestation_answer",
    "attested_by",
    "attested_on",
    "review_by",
    "attestation_expired",
    "waiver_approved_by",
    "waiver_expires",
    "waiver_expired",
    "waiver_effect",
    "reason",
    "next_step",
)
RECORD_CONTROL = "control"
RECORD_FINDING = "finding"
RECORD_WAIVER = "waiver"


def _yes_no(value: bool, lang: str) -> str:
    return t("csv.yes" if value else "csv.no", lang)


def headers(lang: str) -> list[str]:
    """The header row in the report language."""
    return [t(f"csv.col.{key}", lang) for key in COLUMNS]


def neutralise(text: str, limit: int = CELL_LIMIT) -> str:
    """A cell a spreadsheet shows as text: control characters made visible, no formula start."""
    shown = inert(text, limit)
    risky = (text.lstrip(" ")[:1] or text[:1], shown.lstrip(" ")[:1])
    if any(first and first in FORMULA_START for first in risky):
        return "'" + shown
    return shown


def _control_row(results: Results, c: ControlResult, lang: str) -> dict[str, str]:
    findings = findings_of(results, c)
    row = {
        "record": t(f"record.{RECORD_CONTROL}", lang),
        "control": c.id,
        "level": str(c.level),
        "title": c.title.get(lang) or c.title.get("en", ""),
        "control_status": t(f"status.{c.status}", lang),
        "severity": t(f"severity.{severity_of(results, c)}", lang) if c.status in GAP_ORDER else "",
        "reason": why(c, findings, lang) or c.reason,
        "next_step": next_step(results, c, lang),
    }
    att = c.attestation
    if att is not None:
        row |= {
            "attestation_answer": t(f"html.answer.{att.answer}", lang),
            "attested_by": att.attested_by,
            "attested_on": att.date.isoformat(),
            "review_by": att.review_by.isoformat(),
            "attestation_expired": _yes_no(att.expired, lang),
        }
    if c.waiver is not None:
        row |= _waiver_cells(c.waiver, lang)
    return row


def _waiver_cells(waiver: WaiverRecord, lang: str) -> dict[str, str]:
    return {
        "waiver_approved_by": waiver.approved_by,
        "waiver_expires": waiver.expires.isoformat(),
        "waiver_expired": _yes_no(waiver.expired, lang),
        "waiver_effect": waiver_effect(waiver, lang),
    }


def _finding_row(
    f: Finding,
    levels: dict[str, int],
    lang: str,
    accepted: dict[str, WaiverRecord | None],
) -> dict[str, str]:
    mapped = [levels[cid] for cid in f.controls if cid in levels]
    reason = [str(f.error_reason) if f.error_reason else "", f.warning_text(lang) or ""]
    waiver = accepted.get(f.id)
    if f.id in accepted:
        reason.append(t("csv.waived_by", lang, by=accepted_line(waiver, f, lang)))
    if f.advises:
        reason.append(t("advice.for", lang, controls=", ".join(f.advises)))
    return (_waiver_cells(waiver, lang) if waiver is not None else {}) | {
        "record": t(f"record.{RECORD_FINDING}", lang),
        "control": ", ".join(f.controls),
        "level": str(min(mapped)) if mapped else "",
        "title": f.title.get(lang) or f.title.get("en", ""),
        "check": f.check,
        "target": f.target,
        "finding_status": t(f"finding.{f.status}", lang),
        "severity": t(f"severity.{f.severity}", lang),
        "message": f.text(lang),
        "evidence": evidence_summary(f),
        "reason": "; ".join(part for part in reason if part),
    }


def _waiver_row(results: Results, waiver: WaiverRecord, lang: str) -> dict[str, str]:
    """A waiver as the report's list of accepted risks shows it: what it covers (for a check,
    the controls it maps to in this run), why, who approved it until when, and its effect."""
    kind, _, ident = waiver.scope.partition(" ")
    covered = [ident] if kind == "control" else []
    if kind == "check":
        mapped = (c for f in results.findings if f.check == ident for c in f.controls)
        covered = list(dict.fromkeys(mapped))
    return {
        "record": t(f"record.{RECORD_WAIVER}", lang),
        "control": ", ".join(covered),
        "title": waiver_scope(waiver, lang),
        "check": ident if kind == "check" else "",
        "reason": waiver.reason,
    } | _waiver_cells(waiver, lang)


def rows(results: Results, lang: str) -> list[dict[str, str]]:
    """The records of the file, before cells are neutralised: controls first, then findings,
    then the waivers."""
    levels = {c.id: c.level for c in results.controls}
    accepted = accepted_findings(results)
    out = [_control_row(results, c, lang) for c in results.controls]
    out += [_finding_row(f, levels, lang, accepted) for f in results.findings]
    out += [_waiver_row(results, w, lang) for w in results.waivers]
    return out


def _write(results: Results, lang: str, delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    keys: Sequence[str] = COLUMNS
    writer.writerow([neutralise(h) for h in headers(lang)])
    for row in rows(results, lang):
        writer.writerow([neutralise(row.get(key, "")) for key in keys])
    return BOM + buffer.getvalue()


def render(results: Results, lang: str = "nl") -> str:
    """CSV separated by commas."""
    return _write(results, lang, ",")


def render_semicolon(results: Results, lang: str = "nl") -> str:
    """CSV separated by semicolons, as Excel expects it in a Dutch or Belgian locale."""
    return _write(results, lang, ";")

"""The action plan: one row per gap, for the school's GRIP action plan (O4) to start from.

A spreadsheet for Excel in a Belgian locale, written as csv.py writes its semicolon variant:
cells separated by ';', UTF-8 with a byte order mark, CRLF line ends, every cell neutralised
against CSV injection by csv.py's own function. Each row is one thing to do:

- a technical gap (a required check that failed and no waiver accepts), worst first, with
  the check, where it points and the school's own remediation;
- a cause that kept checks from judging a control (fix it, then scan again);
- a control that waits for an attestation.

Rows are ranked by severity, then level; each has a suggested due date counted from the
run's day (never the day the file is written), written the Belgian way (dd/mm/yyyy). The
columns owner, due date, status and justification are left empty for the school to fill in;
the status header names the values to use. Numbers are whole (rank, level), so no decimal
separator can be misread.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from enum import StrEnum

from cyberstd.clock import LOCAL
from cyberstd.i18n import t
from cyberstd.report.actions import PLACES, fixes, to_attest
from cyberstd.report.common import error_causes, next_step, severity_of, shell_word
from cyberstd.report.csv import BOM, neutralise
from cyberstd.results import Answer, ControlResult, Results, Severity

DELIMITER = ";"

# Days after the run's day that a gap of each severity should be closed by.
DUE_DAYS: dict[Severity, int] = {
    Severity.CRITICAL: 14,
    Severity.HIGH: 30,
    Severity.MEDIUM: 90,
    Severity.LOW: 180,
    Severity.INFO: 365,
}

# Column keys in order; their headers are `actionplan.col.<key>` in the catalog.
COLUMNS: tuple[str, ...] = (
    "rank",
    "kind",
    "severity",
    "controls",
    "level",
    "title",
    "check",
    "where",
    "finding",
    "action",
    "suggested_due",
    "owner",
    "due",
    "status",
    "justification",
)
# The columns the school fills in: always empty in the export.
TO_FILL = ("owner", "due", "status", "justification")


class Kind(StrEnum):
    FIX = "fix"
    ERROR = "error"
    ATTEST = "attest"


# Within one severity and level: fixes, then errors, then attestations.
_KIND_ORDER = {Kind.FIX: 0, Kind.ERROR: 1, Kind.ATTEST: 2}


@dataclass(frozen=True)
class Row:
    """One action, before it is numbered and written."""

    kind: Kind
    severity: Severity
    controls: tuple[str, ...]
    level: int
    title: str
    check: str
    where: str
    action: str
    finding: str = ""  # what the check saw, for a technical gap


def run_day(results: Results) -> dt.date:
    """The day the run judged as of (--as-of), else the day it started, in Flanders."""
    if results.run.as_of is not None:
        return results.run.as_of
    return results.run.started.astimezone(LOCAL).date()


def due_date(severity: Severity, day: dt.date) -> dt.date:
    return day + dt.timedelta(days=DUE_DAYS[severity])


def belgian(day: dt.date) -> str:
    """A date as Excel in a Belgian locale reads it: dd/mm/yyyy."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def headers(lang: str) -> list[str]:
    return [t(f"actionplan.col.{key}", lang) for key in COLUMNS]


def _title(c: ControlResult, lang: str) -> str:
    return c.title.get(lang) or c.title.get("en", "")


def _fix_rows(results: Results, lang: str) -> list[Row]:
    out = []
    for fix in fixes(results):
        f = fix.finding
        where = ", ".join(fix.places)
        if fix.more_places:
            where += ", " + t("report.and_more", lang, n=fix.more_places)
        out.append(
            Row(
                kind=Kind.FIX,
                severity=fix.severity,
                controls=tuple(c.id for c in fix.controls),
                level=fix.level,
                title=f.title.get(lang) or f.title.get("en") or f.check,
                check=f.check,
                where=where,
                action=fix.remediation(lang) or f.text(lang),
                finding=fix.message(lang),
            )
        )
    return out


def _error_rows(results: Results, lang: str) -> list[Row]:
    """One row per cause that kept required checks from judging a control."""
    by_id = {c.id: c for c in results.controls}
    levels = {c.id: c.level for c in results.controls}
    out = []
    for cause in error_causes(results, lang):
        found = [f for f in cause.findings if any(c in levels for c in f.controls)]
        if not found:
            continue  # advice only: no control's status rests on it
        controls = tuple(dict.fromkeys(c for f in found for c in f.controls if c in levels))
        checks = list(dict.fromkeys(f.check for f in found))
        targets = list(dict.fromkeys(f.target for f in found))
        where = ", ".join(targets[:PLACES])
        if len(targets) > PLACES:
            where += ", " + t("report.and_more", lang, n=len(targets) - PLACES)
        out.append(
            Row(
                kind=Kind.ERROR,
                severity=Severity.MEDIUM,
                controls=controls,
                level=min(levels[c] for c in controls),
                title="; ".join(_title(by_id[c], lang) for c in controls),
                check=", ".join(checks),
                where=where,
                action=t("actionplan.rerun", lang, message=cause.message),
            )
        )
    return out


def _attest_action(results: Results, c: ControlResult, lang: str) -> str:
    """Record the attestation; when one says the measure is not (fully) in place, put the
    measure in place first."""
    att = c.attestation
    if (
        att is not None
        and not att.expired
        and att.void is None
        and att.answer in (Answer.NOT_IMPLEMENTED, Answer.PARTIALLY)
    ):
        school = shell_word(results.school.folder or results.school.id)
        return t("actionplan.implement_then_attest", lang, school=school, control=c.id)
    return next_step(results, c, lang)


def _attest_rows(results: Results, lang: str) -> list[Row]:
    return [
        Row(
            kind=Kind.ATTEST,
            severity=severity_of(results, c),
            controls=(c.id,),
            level=c.level,
            title=_title(c, lang),
            check="",
            where="",
            action=_attest_action(results, c, lang),
        )
        for c in to_attest(results)
    ]


def rows(results: Results, lang: str) -> list[Row]:
    """Every action, most urgent first: by severity, then level, then fix before error before
    attestation, each list keeping its own order."""
    found = [*_fix_rows(results, lang), *_error_rows(results, lang), *_attest_rows(results, lang)]
    ranked = sorted(
        enumerate(found),
        key=lambda item: (
            -item[1].severity.rank,
            item[1].level,
            _KIND_ORDER[item[1].kind],
            item[0],
        ),
    )
    return [row for _, row in ranked]


def table(results: Results, lang: str) -> list[dict[str, str]]:
    """The rows as cells by column key, before they are neutralised."""
    day = run_day(results)
    out = []
    for rank, row in enumerate(rows(results, lang), 1):
        cells = {
            "rank": str(rank),
            "kind": t(f"actionplan.kind.{row.kind}", lang),
            "severity": t(f"severity.{row.severity}", lang),
            "controls": ", ".join(row.controls),
            "level": str(row.level),
            "title": row.title,
            "check": row.check,
            "where": row.where,
            "finding": row.finding,
            "action": row.action,
            "suggested_due": belgian(due_date(row.severity, day)),
        }
        out.append(cells | dict.fromkeys(TO_FILL, ""))
    return out


def render(results: Results, lang: str = "nl") -> str:
    """The action plan as CSV for Excel in a Belgian locale."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers(lang)])
    for cells in table(results, lang):
        writer.writerow([neutralise(cells[key]) for key in COLUMNS])
    return BOM + buffer.getvalue()

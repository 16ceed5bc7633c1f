"""What every report shows the same way: gap ordering, severities per control, next steps."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from cyberstd.i18n import t
from cyberstd.results import (
    GAP_ORDER,
    ControlResult,
    ControlStatus,
    Finding,
    FindingStatus,
    Results,
    Severity,
    WaiverRecord,
)

STATUS_ICON = {
    ControlStatus.COMPLIANT: "✅",
    ControlStatus.PARTIAL: "🟡",
    ControlStatus.NON_COMPLIANT: "❌",
    ControlStatus.WAIVED: "⚪",
    ControlStatus.NOT_APPLICABLE: "⬜",
    ControlStatus.NOT_ASSESSED: "❔",
    ControlStatus.ERROR: "⚠️",
}


def is_advice(finding: Finding) -> bool:
    """A finding of a check that is advice for every control it belongs to here."""
    return bool(finding.advises) and not finding.controls


def advice(results: Results) -> list[Finding]:
    """Failed checks that are advice only, worst severity first: shown with their remediation,
    never part of a control's status."""
    failed = [f for f in results.findings if f.status is FindingStatus.FAIL and is_advice(f)]
    return sorted(failed, key=lambda f: (-Severity(f.severity).rank, f.check, f.target))


def waiver_effect(waiver: WaiverRecord, lang: str) -> str:
    """Whether a waiver accepts a gap in this run, or why it takes no effect."""
    if waiver.applied:
        return t("waiver.in_effect", lang)
    return t("waiver.no_effect", lang, note=(waiver.note or {}).get(lang, ""))


def waiver_scope(waiver: WaiverRecord, lang: str) -> str:
    """'control O7' / 'maatregel O7', 'check mail.spf' / 'controle mail.spf'."""
    kind, _, ident = waiver.scope.partition(" ")
    return t(f"waiver.{kind}", lang, id=ident) if kind in ("control", "check") else waiver.scope


def waiver_line(waiver: WaiverRecord, lang: str) -> str:
    """One waiver on one line: what it covers, why, who approved it until when, and its effect."""
    return t(
        "waiver.line",
        lang,
        scope=waiver_scope(waiver, lang),
        reason=waiver.reason,
        by=waiver.approved_by,
        expires=waiver.expires,
        effect=waiver_effect(waiver, lang),
    )


def accepted_findings(results: Results) -> dict[str, WaiverRecord | None]:
    """Failed findings that a waiver accepts in this run, by finding id, with that waiver: a
    check waiver in effect on the finding's check, or the waiver of its controls when every
    one of them is waived. None: accepted (`waived_by` is set) but the waiver is not in the
    results (a results file written without its waivers)."""
    by_control = {c.id: c for c in results.controls}
    by_scope = {w.scope: w for w in results.waivers if w.applied}
    by_scope |= {
        c.waiver.scope: c.waiver
        for c in results.controls
        if c.waiver is not None and c.waiver.applied and c.waiver.scope not in by_scope
    }
    out: dict[str, WaiverRecord | None] = {}
    for f in results.findings:
        if f.status is not FindingStatus.FAIL:
            continue
        if f.waived_by:
            out[f.id] = by_scope.get(f"check {f.check}")
            continue
        controls = [by_control[c] for c in f.controls if c in by_control]
        if controls and all(c.status is ControlStatus.WAIVED for c in controls):
            out[f.id] = next((c.waiver for c in controls if c.waiver is not None), None)
    return out


def accepted_line(waiver: WaiverRecord | None, finding: Finding, lang: str) -> str:
    """What accepts a finding, on one line: its waiver, else the finding's own note."""
    return waiver_line(waiver, lang) if waiver is not None else finding.waived_by or ""


def waiver_accepts(results: Results, waiver: WaiverRecord, lang: str) -> str:
    """The failed checks a waiver accepts in this run ("aanvaardt: check @ target, …"), or "":
    a waiver for a whole control may cover more than its reason names, so the report says
    what it hides."""
    by_id = {f.id: f for f in results.findings}
    names = [
        f"{by_id[fid].check} @ {by_id[fid].target}"
        for fid, w in accepted_findings(results).items()
        if w is not None and w.scope == waiver.scope and fid in by_id
    ]
    return t("waiver.accepts", lang, checks=", ".join(names), n=len(names)) if names else ""


def findings_of(results: Results, control: ControlResult) -> list[Finding]:
    by_id = {f.id: f for f in results.findings}
    return [by_id[i] for i in control.finding_ids if i in by_id]


def severity_of(results: Results, control: ControlResult) -> Severity:
    """A control's severity: the worst of its failing findings, medium for attestation gaps."""
    failing = [
        Severity(f.severity)
        for f in findings_of(results, control)
        if f.status is FindingStatus.FAIL
    ]
    return max(failing, key=lambda s: s.rank) if failing else Severity.MEDIUM


def gaps(results: Results) -> list[ControlResult]:
    """Controls that are not in place, lowest level first, then worst severity, then worst status."""
    order = {c.id: i for i, c in enumerate(results.controls)}
    open_ = [c for c in results.controls if c.status in GAP_ORDER]
    return sorted(
        open_,
        key=lambda c: (
            c.level,
            -severity_of(results, c).rank,
            GAP_ORDER.index(c.status),
            order[c.id],
        ),
    )


# One part of a next step: (is code, text). Our texts mark code with backticks; the values
# put into them (a school folder, a remediation from a catalog) are split by the template's
# backticks only, so a backtick in a folder name cannot open or close a code span.
Segment = tuple[bool, str]
_SLOT = "\x00{}\x00"


def _split(text: str) -> list[Segment]:
    return [(i % 2 == 1, part) for i, part in enumerate(text.split("`")) if part]


def _fill(template: list[Segment], values: dict[str, str]) -> list[Segment]:
    """Segments of a template with the values put into their slots; a `text` value (a
    remediation, which marks its own code with backticks) becomes segments of its own."""
    out: list[Segment] = []
    for is_code, part in template:
        pieces = re.split("\x00(\\w+)\x00", part)
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                if piece:
                    out.append((is_code, piece))
            elif piece == "text" and not is_code:
                out.extend(_split(values[piece]))
            else:
                out.append((is_code, values[piece]))
    merged: list[Segment] = []
    for is_code, part in out:  # a command with its filled-in slots stays one code span
        if merged and merged[-1][0] == is_code:
            merged[-1] = (is_code, merged[-1][1] + part)
        else:
            merged.append((is_code, part))
    return merged


def next_step_parts(results: Results, control: ControlResult, lang: str) -> list[Segment]:
    """What to do about a control, in one line, as text and code parts."""
    status = control.underlying_status or control.status
    if status is ControlStatus.ERROR:
        return _split(t("next.rerun", lang))
    if control.waiver is not None and control.waiver.expired and status in GAP_ORDER:
        return _split(t("next.waiver_renew", lang))
    failing = [f for f in findings_of(results, control) if f.status is FindingStatus.FAIL]
    slots = {k: _SLOT.format(k) for k in ("school", "control", "text")}
    values = {
        "school": shell_word(results.school.folder or results.school.id),
        "control": control.id,
    }
    if failing and failing[0].remediation:
        template = t("next.implement", lang, text=slots["text"])
        return _fill(_split(template), {"text": failing[0].remediation.get(lang, "")})
    key = ""
    if control.attestation is not None and control.attestation.expired:
        key = "next.review"
    elif status in (ControlStatus.NOT_ASSESSED, ControlStatus.NON_COMPLIANT, ControlStatus.PARTIAL):
        key = "next.attest"
    if not key:
        return []
    template = t(key, lang, school=slots["school"], control=slots["control"])
    return _fill(_split(template), values)


def next_step(results: Results, control: ControlResult, lang: str) -> str:
    """What to do about a control, in one line of plain text (code marked with backticks)."""
    return "".join(
        f"`{text}`" if is_code else text
        for is_code, text in next_step_parts(results, control, lang)
    )


def incomplete(results: Results) -> list[Finding]:
    return [f for f in results.findings if f.status is FindingStatus.ERROR]


@dataclass(frozen=True)
class ErrorCause:
    """One reason why checks could not run, with every check it stopped."""

    reason: str
    message: str
    findings: tuple[Finding, ...]

    def checks(self, lang: str, limit: int = 6) -> str:
        """The checks it stopped, as `check@target`, the first `limit` of them."""
        names = [f.id for f in self.findings]
        shown = ", ".join(names[:limit])
        more = len(names) - limit
        return shown + (f", {t('report.and_more', lang, n=more)}" if more > 0 else "")

    def line(self, lang: str, limit: int = 6) -> str:
        return t(
            "report.error_cause",
            lang,
            message=self.message,
            n=len(self.findings),
            checks=self.checks(lang, limit),
        )


def error_causes(results: Results, lang: str) -> list[ErrorCause]:
    """The findings in error grouped by cause (reason and message), the largest group first:
    a missing program that stopped 17 checks is one cause, said once."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in incomplete(results):
        groups.setdefault((str(f.error_reason or ""), f.text(lang)), []).append(f)
    causes = [ErrorCause(r, m, tuple(fs)) for (r, m), fs in groups.items()]
    return sorted(causes, key=lambda c: -len(c.findings))


def shell_word(text: str) -> str:
    """A path as one shell word, so a suggested command can be pasted as it is."""
    return shlex.quote(text)

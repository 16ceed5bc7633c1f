"""What every report shows the same way: gap ordering, severities per control, next steps."""

from __future__ import annotations

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
    open_ = [c for c in results.controls if c.status in GAP_ORDER]
    return sorted(
        open_,
        key=lambda c: (c.level, -severity_of(results, c).rank, GAP_ORDER.index(c.status), c.id),
    )


def next_step(results: Results, control: ControlResult, lang: str) -> str:
    """What to do about a control, in one line."""
    school_ref = _shell_word(results.school.folder or results.school.id)
    status = control.underlying_status or control.status
    if status is ControlStatus.ERROR:
        return t("next.rerun", lang)
    if control.waiver is not None and control.waiver.expired and status in GAP_ORDER:
        return t("next.waiver_renew", lang)
    failing = [f for f in findings_of(results, control) if f.status is FindingStatus.FAIL]
    if failing and failing[0].remediation:
        return t("next.implement", lang, text=failing[0].remediation.get(lang, ""))
    if control.attestation is not None and control.attestation.expired:
        return t("next.review", lang, school=school_ref, control=control.id)
    if status in (ControlStatus.NOT_ASSESSED, ControlStatus.NON_COMPLIANT, ControlStatus.PARTIAL):
        return t("next.attest", lang, school=school_ref, control=control.id)
    return ""


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


def _shell_word(text: str) -> str:
    """A path as one shell word, so a suggested command can be pasted as it is."""
    return shlex.quote(text)


def inert(text: str, limit: int = 500) -> str:
    """Text from the scanned network shown as it is: control characters made visible, length bounded."""
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"

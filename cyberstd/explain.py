"""One line per control that says why it got its status, and what to do next, in nl or en."""

from __future__ import annotations

from cyberstd.i18n import t
from cyberstd.results import ControlResult, ControlStatus, Finding, FindingStatus


def why(control: ControlResult, findings: list[Finding], lang: str) -> str:
    """The evidence behind a control's status, in one line."""
    status = control.underlying_status or control.status
    parts: list[str] = []
    att = control.attestation
    if control.status is ControlStatus.WAIVED and control.waiver is not None:
        w = control.waiver
        parts.append(
            t(
                "why.waived",
                lang,
                by=w.approved_by,
                expires=w.expires,
                reason=w.reason,
                status=t(f"status.{status}", lang),
            )
        )
    if status is ControlStatus.NOT_APPLICABLE:
        reason = control.not_applicable_reason or {}
        parts.append(t("why.na", lang, reason=reason.get(lang, "-")))
    elif status is ControlStatus.NON_COMPLIANT:
        failed = [f for f in findings if f.status is FindingStatus.FAIL]
        if failed:
            parts.append(
                t(
                    "why.failed",
                    lang,
                    n=len(failed),
                    check=failed[0].check,
                    message=failed[0].text(lang),
                )
            )
        if att is not None and not att.expired and att.answer == "not_implemented":
            parts.append(
                t("why.att_not", lang, by=att.attested_by, date=att.date, text=att.explanation)
            )
    elif status is ControlStatus.ERROR:
        errored = [f for f in findings if f.status is FindingStatus.ERROR]
        first = errored[0]
        parts.append(t("why.error", lang, check=first.check, message=first.text(lang)))
    elif status is ControlStatus.PARTIAL and att is not None:
        parts.append(
            t("why.att_partial", lang, by=att.attested_by, date=att.date, text=att.explanation)
        )
    elif status is ControlStatus.NOT_ASSESSED:
        if att is not None and att.expired:
            parts.append(t("why.att_expired", lang, by=att.attested_by, review_by=att.review_by))
        elif control.uncovered_parts:
            names = ", ".join(part.title.get(lang, part.id) for part in control.uncovered_parts)
            parts.append(t("why.uncovered", lang, parts=names))
        elif any(f.status is FindingStatus.PASS for f in findings):
            parts.append(t("why.att_missing", lang))
        else:
            parts.append(t("why.no_evidence", lang))
    elif status is ControlStatus.COMPLIANT:
        passed = [f for f in findings if f.status is FindingStatus.PASS]
        if passed:
            parts.append(t("why.passed", lang, n=len(passed)))
        if att is not None and not att.expired:
            parts.append(t("why.attested", lang, by=att.attested_by, date=att.date))
            if control.uncovered_parts:
                names = ", ".join(p.title.get(lang, p.id) for p in control.uncovered_parts)
                parts.append(t("why.attested_parts", lang, parts=names))
    if control.waiver is not None and not control.waiver.applied and not control.waiver.expired:
        note = (control.waiver.note or {}).get(lang, "")
        parts.append(t("why.waiver_no_effect", lang, by=control.waiver.approved_by, note=note))
    if control.waiver is not None and control.waiver.expired:
        parts.append(
            t(
                "why.waiver_expired",
                lang,
                by=control.waiver.approved_by,
                expires=control.waiver.expires,
            )
        )
    if not parts:  # a state no rule explains (a hand-made file): say the status, in the language
        parts.append(t(f"status.{control.status}", lang))
    return "; ".join(parts)

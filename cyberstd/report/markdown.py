"""Markdown gap report, grouped by level, in Dutch or English.

Everything the report did not write itself (messages, evidence, banners, targets, the
school's id and name, and a catalog's ids, titles and remediation) goes through
report/escape.py: escaped, control and bidi characters visible, link-like text as code.
"""

from __future__ import annotations

import re

from cyberstd.explain import why
from cyberstd.i18n import t
from cyberstd.report.actions import blocker_kind, fixes, head_lines, headline, to_attest
from cyberstd.report.common import (
    STATUS_ICON,
    accepted_findings,
    accepted_line,
    advice,
    error_causes,
    findings_of,
    incomplete,
    next_step_parts,
    shell_word,
    waiver_accepts,
    waiver_line,
)
from cyberstd.report.escape import markdown as inline
from cyberstd.report.escape import markdown_code as code
from cyberstd.report.locations import locations
from cyberstd.results import ControlResult, ControlStatus, Finding, FindingStatus, Results


def _step(results: Results, control: ControlResult, lang: str) -> str:
    """A next step on one line: its text escaped, its commands as code spans."""
    return "".join(
        code(" ".join(part.split())) if is_code else inline(re.sub(r"\s+", " ", part), OWN_LIMIT)
        for is_code, part in next_step_parts(results, control, lang)
    )


MAX_LOCATIONS = 10
# Our own texts (a remediation, a next step) are bounded by the catalog: never cut.
OWN_LIMIT = 5000


def _where(f: Finding) -> list[str]:
    """The configuration lines behind a failing finding, as `file:line` sub-items."""
    found = [loc for loc in locations(f) if loc.line]
    out = []
    for loc in found[:MAX_LOCATIONS]:
        label = f" {inline(loc.label)}" if loc.label else ""
        actual = (
            f": {inline(str(loc.actual))}"
            if loc.actual is not None and not isinstance(loc.actual, (dict, list))
            else ""
        )
        out.append(f"    - {inline(loc.file)}:{loc.line}{label}{actual}")
    if len(found) > MAX_LOCATIONS:
        out.append(f"    - … (+{len(found) - MAX_LOCATIONS})")
    return out


def _next_level(results: Results, lang: str) -> list[str]:
    h = headline(results)
    if h.next_level is None:
        return []
    lines = [f"## {t('report.next_level', lang, level=h.next_level)}", ""]
    lines += [
        f"- **{inline(c.id)}** {inline(c.title[lang])}: {blocker_kind(results, c, lang)}"
        for c in h.blockers
    ]
    return [*lines, ""]


def _fixes(results: Results, lang: str) -> list[str]:
    lines = [f"## {t('report.top_gaps', lang)}", ""]
    todo = fixes(results)
    if not todo:
        return [*lines, t("report.no_gaps", lang), ""]
    lines += [t("report.fix_first_note", lang), ""]
    for i, fix in enumerate(todo, 1):
        where = ", ".join(code(p) for p in fix.places)
        if fix.more_places:
            where += ", " + t("report.and_more", lang, n=fix.more_places)
        controls = ", ".join(c.id for c in fix.controls)
        head = t("report.fix_for", lang, controls=controls, level=fix.level, n=len(fix.controls))
        lines.append(
            f"{i}. **{t(f'severity.{fix.severity}', lang)}** · {inline(head)} · "
            f"{code(fix.finding.check)} @ {where}: {inline(fix.message(lang))}"
        )
        remedy = fix.remediation(lang)
        if remedy:
            lines.append(f"   - {t('report.next', lang)}: {inline(remedy, OWN_LIMIT)}")
    return [*lines, ""]


def _to_attest(results: Results, lang: str) -> list[str]:
    pending = to_attest(results)
    if not pending:
        return []
    folder = results.school.folder or results.school.id
    lines = [f"## {t('report.to_attest', lang)}", ""]
    command = f"cyberstd attest {shell_word(folder)} {t('report.control_placeholder', lang)}"
    lines += [f"{inline(t('report.to_attest_note', lang))} {code(command)}", ""]
    lines += [
        f"- **{inline(c.id)}** ({t('report.level', lang, level=c.level).lower()}) {inline(c.title[lang])}"
        for c in pending
    ]
    return [*lines, ""]


def render(results: Results, lang: str = "nl") -> str:
    s = results.summary
    school = results.school
    lines = [
        f"# {inline(t('report.title', lang, framework=results.run.framework.id.upper()))}: "
        f"{inline(school.name)}",
        "",
        f"- **{t('report.school', lang)}:** {inline(school.name)} ({code(school.id)})",
        f"- **{t('report.date', lang)}:** {results.run.finished:%Y-%m-%d %H:%M} UTC",
        *(
            [f"- **{t('report.as_of', lang, day=results.run.as_of)}**"]
            if results.run.as_of is not None
            else []
        ),
        f"- **{t('report.framework', lang)}:** "
        f"{inline(results.run.framework.id)} {inline(results.run.framework.version)}",
        f"- **{t('report.profile', lang)}:** {inline(results.run.profile)}",
        *(f"- **{label}:** {value}" for label, value in head_lines(results, lang)),
        "",
    ]
    errors = incomplete(results)
    if errors:
        lines += [f"> {t('report.errors', lang, n=len(errors))}", ">"]
        lines += [f"> - {inline(cause.line(lang))}" for cause in error_causes(results, lang)]
        lines.append("")
    lines += [f"## {t('report.counts', lang)}", ""]
    lines += [f"| {t('report.counts', lang)} | # |", "|---|---|"]
    lines += [
        f"| {STATUS_ICON[st]} {t(f'status.{st}', lang)} | {n} |" for st, n in s.counts.items() if n
    ]
    lines.append("")
    lines += _next_level(results, lang)
    lines += _fixes(results, lang)
    lines += _to_attest(results, lang)
    recommended = advice(results)
    if recommended:
        lines += [f"## {t('report.advice', lang)}", "", t("report.advice_note", lang), ""]
        for f in recommended:
            remedy = f.remediation.get(lang) or f.remediation.get("en", "")
            controls = ", ".join(f.advises)
            lines.append(
                f"- {code(f.check)} @ {inline(f.target)} "
                f"({inline(t('advice.for', lang, controls=controls))}): {inline(f.text(lang))}"
                + (f" — {inline(remedy, OWN_LIMIT)}" if remedy else "")
            )
        lines.append("")
    accepted = accepted_findings(results)
    for level in sorted({c.level for c in results.controls}):
        lines += [f"## {t('report.level', lang, level=level)}", ""]
        for c in (c for c in results.controls if c.level == level):
            findings = findings_of(results, c)
            lines.append(
                f"### {STATUS_ICON[c.status]} {inline(c.id)} {inline(c.title[lang])}: "
                f"{t(f'status.{c.status}', lang)}"
            )
            lines.append("")
            lines.append(f"- **{t('report.why', lang)}:** {inline(why(c, findings, lang))}")
            step = _step(results, c, lang)
            if step and c.status not in (ControlStatus.COMPLIANT, ControlStatus.NOT_APPLICABLE):
                lines.append(f"- **{t('report.next', lang)}:** {step}")
            for f in findings:
                line = (
                    f"  - {code(f.check)} @ {inline(f.target)}: "
                    f"{t(f'finding.{f.status}', lang)}: {inline(f.text(lang))}"
                )
                warning = f.warning_text(lang)
                if warning:
                    line += f" ({t('report.warning', lang)}: {inline(warning)})"
                if f.id in accepted:
                    said = accepted_line(accepted[f.id], f, lang)
                    line += f" ({t('status.waived', lang)}: {inline(said)})"
                lines.append(line)
                if f.status in (FindingStatus.FAIL, FindingStatus.ERROR):
                    lines += _where(f)
            lines.append("")
    if results.waivers:
        lines += [f"## {t('report.waivers', lang)}", ""]
        for w in results.waivers:
            accepts = waiver_accepts(results, w, lang)
            lines.append(
                f"- {inline(waiver_line(w, lang))}" + (f" — {inline(accepts)}" if accepts else "")
            )
        lines.append("")
    lines += [f"## {t('report.inputs', lang)}", ""]
    lines += [
        f"- {code(path)} {inline(digest)}" for path, digest in sorted(results.run.inputs.items())
    ]
    return "\n".join(lines) + "\n"

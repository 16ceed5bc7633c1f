"""Markdown gap report, grouped by level, in Dutch or English."""

from __future__ import annotations

from cyberstd.explain import why
from cyberstd.i18n import t
from cyberstd.report.common import STATUS_ICON, findings_of, gaps, incomplete, inert, next_step
from cyberstd.report.locations import locations
from cyberstd.results import ControlStatus, Finding, FindingStatus, Results


def _cell(text: str) -> str:
    """Text from the scanned network made inert inside a Markdown table cell."""
    clean = inert(text)
    for ch in "\\|`*_[]<>#":
        clean = clean.replace(ch, "\\" + ch)
    return clean


def _line(text: str) -> str:
    """Our own text (catalog, remediation, suggested commands): kept on one line."""
    return " ".join(text.split())


MAX_LOCATIONS = 10


def _where(f: Finding) -> list[str]:
    """The configuration lines behind a failing finding, as `file:line` sub-items."""
    found = [loc for loc in locations(f) if loc.line]
    out = []
    for loc in found[:MAX_LOCATIONS]:
        label = f" {_cell(loc.label)}" if loc.label else ""
        actual = (
            f": {_cell(str(loc.actual))}"
            if loc.actual is not None and not isinstance(loc.actual, (dict, list))
            else ""
        )
        out.append(f"    - {_cell(loc.file)}:{loc.line}{label}{actual}")
    if len(found) > MAX_LOCATIONS:
        out.append(f"    - … (+{len(found) - MAX_LOCATIONS})")
    return out


def render(results: Results, lang: str = "nl") -> str:
    s = results.summary
    school = results.school
    lines = [
        f"# {t('report.title', lang, framework=results.run.framework.id.upper())}: {_cell(school.name)}",
        "",
        f"- **{t('report.school', lang)}:** {_cell(school.name)} (`{school.id}`)",
        f"- **{t('report.date', lang)}:** {results.run.finished:%Y-%m-%d %H:%M} UTC",
        f"- **{t('report.framework', lang)}:** {results.run.framework.id} {results.run.framework.version}",
        f"- **{t('report.profile', lang)}:** {results.run.profile}",
        f"- **{t('report.level_reached', lang)}:** "
        + (str(s.level_reached) if s.level_reached else t("report.level_none", lang))
        + f" / {s.target_level}",
        f"- **{t('report.score', lang)}:** {s.score:.1f}%",
        "",
    ]
    errors = incomplete(results)
    if errors:
        lines += [f"> {t('report.errors', lang, n=len(errors))}", ""]
    lines += [f"## {t('report.counts', lang)}", ""]
    lines += [f"| {t('report.counts', lang)} | # |", "|---|---|"]
    lines += [
        f"| {STATUS_ICON[st]} {t(f'status.{st}', lang)} | {n} |" for st, n in s.counts.items() if n
    ]
    lines += ["", f"## {t('report.top_gaps', lang)}", ""]
    top = gaps(results)[:10]
    if not top:
        lines.append(t("report.no_gaps", lang))
    for i, c in enumerate(top, 1):
        lines.append(
            f"{i}. **{c.id}** ({t('report.level', lang, level=c.level)}) {_cell(c.title[lang])}: "
            f"{_line(next_step(results, c, lang))}"
        )
    lines.append("")
    for level in sorted({c.level for c in results.controls}):
        lines += [f"## {t('report.level', lang, level=level)}", ""]
        for c in (c for c in results.controls if c.level == level):
            findings = findings_of(results, c)
            lines.append(
                f"### {STATUS_ICON[c.status]} {c.id} {_cell(c.title[lang])}: {t(f'status.{c.status}', lang)}"
            )
            lines.append("")
            lines.append(f"- **{t('report.why', lang)}:** {_cell(why(c, findings, lang))}")
            step = next_step(results, c, lang)
            if step and c.status not in (ControlStatus.COMPLIANT, ControlStatus.NOT_APPLICABLE):
                lines.append(f"- **{t('report.next', lang)}:** {_line(step)}")
            for f in findings:
                line = f"  - `{f.check}` @ {_cell(f.target)}: {t(f'finding.{f.status}', lang)}: {_cell(f.message)}"
                if f.warning:
                    line += f" ({t('report.warning', lang)}: {_cell(f.warning)})"
                lines.append(line)
                if f.status in (FindingStatus.FAIL, FindingStatus.ERROR):
                    lines += _where(f)
            lines.append("")
    lines += [f"## {t('report.inputs', lang)}", ""]
    lines += [f"- `{_cell(path)}` {digest}" for path, digest in sorted(results.run.inputs.items())]
    return "\n".join(lines) + "\n"

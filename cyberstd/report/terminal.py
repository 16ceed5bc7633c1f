"""Terminal summary with rich: level reached, counts by status, the top gaps."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cyberstd.i18n import t
from cyberstd.report.actions import (
    FIRST_PAGE,
    blocker_kind,
    fixes,
    head_lines,
    headline,
    to_attest,
)
from cyberstd.report.common import (
    advice,
    error_causes,
    incomplete,
    next_step_parts,
    waiver_accepts,
    waiver_line,
)
from cyberstd.report.escape import terminal
from cyberstd.results import ControlResult, ControlStatus, Results, Severity

STYLE = {
    ControlStatus.COMPLIANT: "green",
    ControlStatus.PARTIAL: "yellow",
    ControlStatus.NON_COMPLIANT: "bold red",
    ControlStatus.WAIVED: "cyan",
    ControlStatus.NOT_APPLICABLE: "dim",
    ControlStatus.NOT_ASSESSED: "magenta",
    ControlStatus.ERROR: "bold yellow",
}

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "dim",
    Severity.INFO: "dim",
}


def summary(results: Results, lang: str, top: int = FIRST_PAGE) -> RenderableType:
    run = results.run
    (level_label, level), *rest = head_lines(results, lang)
    head = Text.assemble(
        terminal(results.school.name, "bold"),
        terminal(f"  {run.framework.id} {run.framework.version} / {run.profile}", limit=300),
        "\n",
        (f"{level_label}: {level}", "bold"),
        "\n",
        "   ".join(f"{label}: {value}" for label, value in rest),
    )
    if results.run.as_of is not None:
        head.append(f"\n{t('report.as_of', lang, day=results.run.as_of)}", style="bold yellow")
    counts = Table(title=t("report.counts", lang), show_header=False, box=None)
    for status, n in results.summary.counts.items():
        if n:
            counts.add_row(Text(t(f"status.{status}", lang), style=STYLE[status]), str(n))
    parts: list[RenderableType] = [head, counts]
    errors = incomplete(results)
    if errors:
        parts.append(Text(t("report.errors", lang, n=len(errors)), style="bold yellow"))
        for cause in error_causes(results, lang):
            parts.append(terminal(f"  • {cause.line(lang)}", "yellow", 600))
    h = headline(results)
    if h.next_level is not None:
        parts.append(Text(t("report.next_level", lang, level=h.next_level), style="bold"))
        shown = ", ".join(
            f"{c.id} ({blocker_kind(results, c, lang)})" for c in h.blockers[: top * 2]
        )
        more = len(h.blockers) - top * 2
        if more > 0:
            shown += ", " + t("report.and_more", lang, n=more)
        parts.append(terminal(f"  {shown}", "", 2000))
    parts.append(_fix_table(results, lang, top))
    parts.extend(_attest_lines(results, lang, top))
    recommended = advice(results)
    if recommended:
        parts.append(Text(f"{t('report.advice', lang)} ({len(recommended)})", style="bold"))
        for f in recommended[:top]:
            parts.append(terminal(f"  • {f.check} @ {f.target}: {f.text(lang)}", "", 300))
    if results.waivers:
        parts.append(Text(t("report.waivers", lang), style="bold"))
        for w in results.waivers:
            accepts = waiver_accepts(results, w, lang)
            line = f"  • {waiver_line(w, lang)}" + (f" — {accepts}" if accepts else "")
            parts.append(terminal(line, "" if w.applied else "yellow", 900))
    return Group(*parts)


def _fix_table(results: Results, lang: str, top: int) -> RenderableType:
    todo = fixes(results)
    if not todo:
        return Text(t("report.no_gaps", lang), style="green")
    table = Table(title=t("report.top_gaps", lang), show_lines=True)
    for col in (
        t("html.severity", lang),
        t("report.col_controls", lang),
        t("report.col_where", lang),
        t("report.next", lang),
    ):
        table.add_column(col, overflow="fold")
    for fix in todo[:top]:
        where = ", ".join(fix.places)
        if fix.more_places:
            where += ", " + t("report.and_more", lang, n=fix.more_places)
        table.add_row(
            Text(t(f"severity.{fix.severity}", lang), style=SEVERITY_STYLE[fix.severity]),
            terminal(", ".join(c.id for c in fix.controls), limit=100),
            terminal(f"{fix.finding.check} @ {where}", limit=600),
            terminal(_short(fix.remediation(lang) or fix.finding.text(lang)), limit=600),
        )
    if len(todo) > top:
        table.caption = t("report.show_all", lang, n=len(todo) - top)
    return table


def _attest_lines(results: Results, lang: str, top: int) -> list[RenderableType]:
    pending = to_attest(results)
    if not pending:
        return []
    out: list[RenderableType] = [
        Text(f"{t('report.to_attest', lang)} ({len(pending)})", style="bold")
    ]
    for c in pending[:top]:
        line = f"  • {c.id} ({t('report.level', lang, level=c.level).lower()}) {c.title[lang]}"
        out.append(terminal(line, "", 400))
    if len(pending) > top:
        out.append(Text(f"  {t('report.show_all', lang, n=len(pending) - top)}", style="dim"))
    return out


def _plain_step(results: Results, control: ControlResult, lang: str) -> str:
    """A next step as plain text (commands without their backticks)."""
    return "".join(part for _, part in next_step_parts(results, control, lang))


def _short(text: str, limit: int = 160) -> str:
    """The first sentence of a next step, for a table cell; the reports carry the whole text."""
    head, dot, _ = text.partition(". ")
    head = head + ("." if dot else "")
    return head if len(head) <= limit else head[: limit - 1] + "…"

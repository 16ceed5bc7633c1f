"""Terminal summary with rich: level reached, counts by status, the top gaps."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cyberstd.i18n import percent, t
from cyberstd.report.common import (
    advice,
    error_causes,
    gaps,
    incomplete,
    next_step_parts,
    severity_of,
    waiver_line,
)
from cyberstd.report.escape import terminal
from cyberstd.results import ControlResult, ControlStatus, Results

STYLE = {
    ControlStatus.COMPLIANT: "green",
    ControlStatus.PARTIAL: "yellow",
    ControlStatus.NON_COMPLIANT: "bold red",
    ControlStatus.WAIVED: "cyan",
    ControlStatus.NOT_APPLICABLE: "dim",
    ControlStatus.NOT_ASSESSED: "magenta",
    ControlStatus.ERROR: "bold yellow",
}


def summary(results: Results, lang: str, top: int = 10) -> RenderableType:
    s = results.summary
    reached = str(s.level_reached) if s.level_reached else t("report.level_none", lang)
    run = results.run
    head = Text.assemble(
        terminal(results.school.name, "bold"),
        terminal(f"  {run.framework.id} {run.framework.version} / {run.profile}", limit=300),
        "\n",
        (f"{t('report.level_reached', lang)}: {reached} / {s.target_level}", "bold"),
        f"   {t('report.score', lang)}: {percent(s.score, lang)}",
    )
    if results.run.as_of is not None:
        head.append(f"\n{t('report.as_of', lang, day=results.run.as_of)}", style="bold yellow")
    counts = Table(title=t("report.counts", lang), show_header=False, box=None)
    for status, n in s.counts.items():
        if n:
            counts.add_row(Text(t(f"status.{status}", lang), style=STYLE[status]), str(n))
    parts: list[RenderableType] = [head, counts]
    errors = incomplete(results)
    if errors:
        parts.append(Text(t("report.errors", lang, n=len(errors)), style="bold yellow"))
        for cause in error_causes(results, lang):
            parts.append(terminal(f"  • {cause.line(lang)}", "yellow", 600))
    gap_list = gaps(results)[:top]
    if gap_list:
        table = Table(title=t("report.top_gaps", lang), show_lines=False)
        for col in (
            "id",
            t("report.level", lang, level="").strip(),
            "status",
            t("report.next", lang),
        ):
            table.add_column(col, overflow="fold")
        for c in gap_list:
            table.add_row(
                terminal(c.id, limit=100),
                str(c.level),
                Text(
                    f"{t(f'status.{c.status}', lang)} ({t(f'severity.{severity_of(results, c)}', lang)})",
                    style=STYLE[c.status],
                ),
                terminal(_short(_plain_step(results, c, lang))),
            )
        parts.append(table)
    else:
        parts.append(Text(t("report.no_gaps", lang), style="green"))
    recommended = advice(results)
    if recommended:
        parts.append(Text(f"{t('report.advice', lang)} ({len(recommended)})", style="bold"))
        for f in recommended[:top]:
            parts.append(terminal(f"  • {f.check} @ {f.target}: {f.text(lang)}", "", 300))
    if results.waivers:
        parts.append(Text(t("report.waivers", lang), style="bold"))
        for w in results.waivers:
            parts.append(
                terminal(f"  • {waiver_line(w, lang)}", "" if w.applied else "yellow", 600)
            )
    return Group(*parts)


def _plain_step(results: Results, control: ControlResult, lang: str) -> str:
    """A next step as plain text (commands without their backticks)."""
    return "".join(part for _, part in next_step_parts(results, control, lang))


def _short(text: str, limit: int = 160) -> str:
    """The first sentence of a next step, for a table cell; the reports carry the whole text."""
    head, dot, _ = text.partition(". ")
    head = head + ("." if dot else "")
    return head if len(head) <= limit else head[: limit - 1] + "…"

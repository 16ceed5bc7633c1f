"""Markdown gap report, grouped by level, in Dutch or English.

Text from the scanned network or the school folder (messages, evidence, banners, targets) is
made inert: Markdown's special characters are escaped, and URLs (with a scheme, or a `www.`
name) are shown as code, so that they never become live links. GitHub links `www.` names even
with escapes, and GitLab links every `scheme://` in the rendered text, so only a code span
keeps them plain on both. (E-mail addresses are left as text: GitHub shows them as mailto:
links.)
"""

from __future__ import annotations

import re

from cyberstd.explain import why
from cyberstd.i18n import t
from cyberstd.report.common import (
    STATUS_ICON,
    error_causes,
    findings_of,
    gaps,
    incomplete,
    inert,
    next_step,
)
from cyberstd.report.locations import locations
from cyberstd.results import ControlStatus, Finding, FindingStatus, Results

# What GitHub or GitLab would make a link of: a URL with a scheme, or a `www.` name.
LINKABLE = re.compile(r"(?i)(?<![\w.+-])(?:[a-z][a-z0-9+.-]{0,31}://|www\.)[^\s`<>|\"'\\]+")
# Punctuation that ends a sentence rather than a URL ("see https://x.example/a.").
TRAILING = ".,;:!?)]}"


def _escape(text: str) -> str:
    """Markdown's special characters escaped with a backslash."""
    for ch in "\\|`*_[]<>#":
        text = text.replace(ch, "\\" + ch)
    return text


def code(text: str) -> str:
    """Text as a Markdown code span, whatever backticks it holds (no link, no markup in it)."""
    clean = inert(text)
    longest = max((len(run) for run in re.findall(r"`+", clean)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if clean.startswith("`") or clean.endswith("`") else ""
    return f"{fence}{pad}{clean}{pad}{fence}"


def inline(text: str) -> str:
    """Text from the scanned network made inert in Markdown: escaped, links shown as code."""
    clean = inert(text)
    out: list[str] = []
    pos = 0
    for m in LINKABLE.finditer(clean):
        link = m.group(0).rstrip(TRAILING)
        if m.start() < pos or not link:
            continue
        out.append(_escape(clean[pos : m.start()]))
        out.append(f"`{link}`")
        pos = m.start() + len(link)
    out.append(_escape(clean[pos:]))
    return "".join(out)


def _line(text: str) -> str:
    """Our own text (catalog, remediation, suggested commands): kept on one line."""
    return " ".join(text.split())


MAX_LOCATIONS = 10


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


def render(results: Results, lang: str = "nl") -> str:
    s = results.summary
    school = results.school
    lines = [
        f"# {t('report.title', lang, framework=results.run.framework.id.upper())}: {inline(school.name)}",
        "",
        f"- **{t('report.school', lang)}:** {inline(school.name)} (`{school.id}`)",
        f"- **{t('report.date', lang)}:** {results.run.finished:%Y-%m-%d %H:%M} UTC",
        *(
            [f"- **{t('report.as_of', lang, day=results.run.as_of)}**"]
            if results.run.as_of is not None
            else []
        ),
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
        lines += [f"> {t('report.errors', lang, n=len(errors))}", ">"]
        lines += [f"> - {inline(cause.line(lang))}" for cause in error_causes(results, lang)]
        lines.append("")
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
            f"{i}. **{c.id}** ({t('report.level', lang, level=c.level)}) {inline(c.title[lang])}: "
            f"{_line(next_step(results, c, lang))}"
        )
    lines.append("")
    for level in sorted({c.level for c in results.controls}):
        lines += [f"## {t('report.level', lang, level=level)}", ""]
        for c in (c for c in results.controls if c.level == level):
            findings = findings_of(results, c)
            lines.append(
                f"### {STATUS_ICON[c.status]} {c.id} {inline(c.title[lang])}: {t(f'status.{c.status}', lang)}"
            )
            lines.append("")
            lines.append(f"- **{t('report.why', lang)}:** {inline(why(c, findings, lang))}")
            step = next_step(results, c, lang)
            if step and c.status not in (ControlStatus.COMPLIANT, ControlStatus.NOT_APPLICABLE):
                lines.append(f"- **{t('report.next', lang)}:** {_line(step)}")
            for f in findings:
                line = f"  - `{f.check}` @ {inline(f.target)}: {t(f'finding.{f.status}', lang)}: {inline(f.text(lang))}"
                if f.warning:
                    line += f" ({t('report.warning', lang)}: {inline(f.warning)})"
                lines.append(line)
                if f.status in (FindingStatus.FAIL, FindingStatus.ERROR):
                    lines += _where(f)
            lines.append("")
    lines += [f"## {t('report.inputs', lang)}", ""]
    lines += [f"- {code(path)} {digest}" for path, digest in sorted(results.run.inputs.items())]
    return "\n".join(lines) + "\n"

"""Self-contained HTML gap report: one file with inline CSS, SVG and a little JS, in nl or en.

Nothing in the page is fetched from anywhere: a Content-Security-Policy forbids every network
request, and the only script allowed to run is our own, named by its sha256. Text that comes
from the scanned network or the school folder is made inert (control characters shown, length
bounded) here and escaped by Jinja's autoescape in the template; no data is ever marked safe.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cyberstd.explain import why
from cyberstd.i18n import percent, t
from cyberstd.messages import catalog
from cyberstd.report.actions import (
    FIRST_PAGE,
    blocker_kind,
    fixes,
    head_lines,
    headline,
    relative,
    to_attest,
)
from cyberstd.report.common import (
    advice,
    error_causes,
    findings_of,
    incomplete,
    next_step_parts,
    severity_of,
    shell_word,
    waiver_accepts,
    waiver_effect,
    waiver_line,
    waiver_scope,
)
from cyberstd.report.escape import inert
from cyberstd.report.html_views import (
    AdviceView,
    AttestationView,
    AttestView,
    Bar,
    BlockerView,
    CauseLine,
    ControlView,
    FindingView,
    FixView,
    LevelCount,
    Segment,
    StatusCount,
    Step,
    WaiverView,
    Where,
)
from cyberstd.report.locations import locations
from cyberstd.results import (
    GAP_ORDER,
    MET,
    AttestationRecord,
    ControlResult,
    ControlStatus,
    Finding,
    FindingStatus,
    Results,
    WaiverRecord,
)

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "report.html.j2"
SCRIPT = "filters.js"

# Met statuses first, then the gaps from least to most serious: the order of bars and filters.
STATUS_ORDER = [
    ControlStatus.COMPLIANT,
    ControlStatus.WAIVED,
    ControlStatus.NOT_APPLICABLE,
    ControlStatus.PARTIAL,
    ControlStatus.NOT_ASSESSED,
    ControlStatus.ERROR,
    ControlStatus.NON_COMPLIANT,
]

MESSAGE_LIMIT = 1000  # characters of a message or explanation
VALUE_LIMIT = 200  # characters of one evidence value in the compact view
MAX_KEYS = 12  # evidence keys in the compact view
MAX_LOCATIONS = 10  # file:line items per finding
JSON_LIMIT = 10_000  # characters of the full evidence JSON
OWN_LIMIT = 5000  # our own texts (remediation, suggested commands): bounded, never cut in practice


# Texts of the HTML report that cyberstd.i18n does not have: key -> (nl, en).
def text(key: str, lang: str, **values: Any) -> str:
    """A text of the HTML report in `lang` (from the message catalog)."""
    return t(key, lang, **values)


CAUSE_CHECKS = 12


# ----------------------------------------------------------------------------- helpers


def _inert(text: str, limit: int = 500) -> str:
    """common.inert(), with a fast path for the usual text that has nothing to make visible."""
    if text.isprintable():
        return text if len(text) <= limit else text[: limit - 1] + "…"
    return inert(text, limit)


def _local(values: dict[str, str], lang: str) -> str:
    """A catalog text in `lang`, falling back to the other language."""
    return values.get(lang) or values.get("en") or values.get("nl") or ""


def _rel(path: str, folder: str | None) -> str:
    return relative(path, folder)


def _segments(parts: list[tuple[bool, str]]) -> list[tuple[str, str]]:
    """A next step's parts as (kind, text), each inert: "text", "code" (shown as <code>) or
    "command", a cyberstd command line, which is for the screen only: the text before it loses
    the colon that led to it, which the template shows with the command."""
    out: list[tuple[str, str]] = []
    for is_code, part in parts:
        if is_code and part.startswith("cyberstd "):
            if out and out[-1][0] == "text":
                out[-1] = ("text", out[-1][1].rstrip().removesuffix(":"))
            out.append(("command", _inert(part, OWN_LIMIT)))
        else:
            out.append(("code" if is_code else "text", _inert(part, OWN_LIMIT)))
    return out


def _compact(value: Any) -> str:
    """One evidence value on one short line."""
    if isinstance(value, str):
        shown = value
    else:
        shown = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return _inert(shown, VALUE_LIMIT)


def _full_json(evidence: dict[str, Any]) -> tuple[str, int]:
    """The evidence as indented JSON, bounded, each line inert; and how much was cut."""
    dumped = json.dumps(evidence, indent=2, ensure_ascii=False, default=str)
    cut = max(0, len(dumped) - JSON_LIMIT)
    kept = dumped[:JSON_LIMIT]
    return "\n".join(_inert(line, JSON_LIMIT + 1) for line in kept.split("\n")), cut


CONFIG_KEYS = ("files", "items", "any_of", "all_of")


def _where(finding: Finding, folder: str | None) -> list[Where]:
    """The file:line items behind a failing (or errored) configuration finding."""
    if finding.status not in (FindingStatus.FAIL, FindingStatus.ERROR):
        return []
    out = []
    for loc in locations(finding):
        actual = (
            ""
            if loc.actual is None or isinstance(loc.actual, (dict, list))
            else _compact(loc.actual)
        )
        out.append(
            Where(_inert(_rel(loc.file, folder)), loc.line, _inert(loc.label or "", 200), actual)
        )
    return out


def _evidence_rows(finding: Finding, folder: str | None) -> list[tuple[str, str]]:
    """Evidence as (key, short value) rows; configuration evidence without its item lists."""
    ev = finding.evidence
    if not isinstance(ev.get("files"), list):
        return [(_inert(str(k), 80), _compact(v)) for k, v in ev.items()]
    rows = [(_inert(str(k), 80), _compact(v)) for k, v in ev.items() if k not in CONFIG_KEYS]
    paths = [
        _rel(str(f["path"]), folder) for f in ev["files"] if isinstance(f, dict) and "path" in f
    ]
    if paths:
        rows.insert(0, ("files", _inert(", ".join(paths), VALUE_LIMIT)))
    return rows


def _finding_view(finding: Finding, lang: str, folder: str | None) -> FindingView:
    """What the report shows of one finding."""
    where = _where(finding, folder)
    rows = _evidence_rows(finding, folder)
    full, cut = _full_json(finding.evidence) if any(finding.evidence.values()) else ("", 0)
    reason = (
        text(f"html.error.{finding.error_reason}", lang) if finding.error_reason is not None else ""
    )
    return FindingView(
        status=str(finding.status),
        status_text=t(f"finding.{finding.status}", lang),
        check=_inert(finding.check, 200),
        title=_inert(_local(finding.title, lang), MESSAGE_LIMIT),
        target=_inert(finding.target, 300),
        severity=str(finding.severity),
        severity_text=t(f"severity.{finding.severity}", lang),
        message=_inert(finding.text(lang), MESSAGE_LIMIT),
        warning=_inert(finding.warning_text(lang) or "", MESSAGE_LIMIT),
        error_reason=reason,
        error_detail=_inert(finding.error_detail or "", MESSAGE_LIMIT),
        waived_by=_inert(finding.waived_by or "", 300),
        where=where[:MAX_LOCATIONS],
        more_where=max(0, len(where) - MAX_LOCATIONS),
        evidence=rows[:MAX_KEYS],
        more_keys=max(0, len(rows) - MAX_KEYS),
        full_json=full,
        json_cut=cut,
    )


def _attestation_view(att: AttestationRecord, lang: str) -> AttestationView:
    """What the report shows of an attestation."""
    return AttestationView(
        answer=text(f"html.answer.{att.answer}", lang),
        explanation=_inert(att.explanation, MESSAGE_LIMIT),
        attested_by=_inert(att.attested_by, 300),
        date=att.date.isoformat(),
        review_by=att.review_by.isoformat(),
        expired=att.expired,
        evidence=[
            (_inert(e.get("path", ""), 500), _inert(e.get("sha256", ""), 100)) for e in att.evidence
        ],
    )


def _waiver_view(waiver: WaiverRecord, lang: str) -> WaiverView:
    """What the report shows of a waiver, with whether it takes effect in this run."""
    return WaiverView(
        reason=_inert(waiver.reason, MESSAGE_LIMIT),
        approved_by=_inert(waiver.approved_by, 300),
        expires=waiver.expires.isoformat(),
        expired=waiver.expired,
        scope=_inert(waiver_scope(waiver, lang), 300),
        applied=waiver.applied,
        effect=_inert(waiver_effect(waiver, lang), MESSAGE_LIMIT),
        line=_inert(waiver_line(waiver, lang), MESSAGE_LIMIT + 1000),
    )


def _why(control: ControlResult, found: list[Finding], lang: str) -> str:
    """Why a control has its status, as the Markdown report says it; the stored reason if the
    results are inconsistent (say, edited by hand: an error status without a finding in error)."""
    try:
        return why(control, found, lang) or control.reason
    except (IndexError, KeyError):
        return control.reason


def _control_view(results: Results, control: ControlResult, lang: str) -> ControlView:
    """What the report shows of one control."""
    found = findings_of(results, control)
    folder = results.school.folder
    is_gap = control.status in GAP_ORDER
    step = next_step_parts(results, control, lang)
    show_step = step and control.status not in (
        ControlStatus.COMPLIANT,
        ControlStatus.NOT_APPLICABLE,
    )
    severity = severity_of(results, control)
    underlying = control.underlying_status
    return ControlView(
        id=_inert(control.id, 100),
        level=control.level,
        type=text(f"html.type.{control.type}", lang)
        if f"html.type.{control.type}" in catalog()
        else _inert(control.type, 100),
        title=_inert(_local(control.title, lang), MESSAGE_LIMIT),
        status=str(control.status),
        status_text=t(f"status.{control.status}", lang),
        underlying=t(f"status.{underlying}", lang)
        if underlying is not None and underlying is not control.status
        else "",
        why=_inert(_why(control, found, lang), MESSAGE_LIMIT),
        next=_segments(step) if show_step else [],
        is_gap=is_gap,
        severity=str(severity) if is_gap else "",
        severity_text=t(f"severity.{severity}", lang) if is_gap else "",
        findings=[_finding_view(f, lang, folder) for f in found],
        attestation=_attestation_view(control.attestation, lang)
        if control.attestation is not None
        else None,
        waiver=_waiver_view(control.waiver, lang) if control.waiver is not None else None,
        na_reason=_inert(_local(control.not_applicable_reason, lang), MESSAGE_LIMIT)
        if control.not_applicable_reason
        else "",
    )


# ----------------------------------------------------------------------------- charts

STEP_WIDTH, STEP_GAP, STEP_UNIT, STEP_BASE, STEP_TOP = 84, 8, 16, 20, 44


def growth_steps(levels: int, reached: int, target: int) -> list[Step]:
    """The steps of the growth path: each a bit higher, reached ones filled, the target marked."""
    bottom = STEP_TOP + STEP_BASE + STEP_UNIT * levels
    steps = []
    for level in range(1, levels + 1):
        height = STEP_BASE + STEP_UNIT * level
        steps.append(
            Step(
                level=level,
                x=8 + (level - 1) * (STEP_WIDTH + STEP_GAP),
                y=bottom - height,
                width=STEP_WIDTH,
                height=height,
                reached=level <= reached,
                target=level == target,
            )
        )
    return steps


BAR_LABEL, BAR_WIDTH, BAR_ROW, BAR_TOP = 56, 420, 28, 6


def chart_bars(results: Results, levels: list[int], lang: str) -> list[Bar]:
    """One stacked bar per level, segments in STATUS_ORDER, scaled to the fullest level."""
    per_level = {
        level: [c.status for c in results.controls if c.level == level] for level in levels
    }
    widest = max((len(v) for v in per_level.values()), default=0) or 1
    bars = []
    for row, level in enumerate(levels):
        statuses = per_level[level]
        x = BAR_LABEL
        segments = []
        for status in STATUS_ORDER:
            count = statuses.count(status)
            if not count:
                continue
            width = round(BAR_WIDTH * count / widest)
            label = (
                f"{text('report.level', lang, level=level)}: {t(f'status.{status}', lang)}: {count}"
            )
            segments.append(Segment(str(status), count, x, width, label))
            x += width
        bars.append(
            Bar(
                level=level,
                label=text("html.level_short", lang, level=level),
                y=BAR_TOP + row * BAR_ROW,
                total=len(statuses),
                total_x=x + 6,
                segments=segments,
            )
        )
    return bars


# ----------------------------------------------------------------------------- rendering


@functools.cache
def template_env(folder: Path = TEMPLATES) -> Environment:
    """The Jinja environment of a folder of templates, made once on first use (importing
    jinja2 only then): autoescaped, strict about undefined values."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _env() -> Environment:
    """The environment of the report's own templates."""
    return template_env(TEMPLATES)


@functools.cache
def script_hash() -> str:
    """The CSP source that allows our one inline script and nothing else."""
    body = _env().get_template(SCRIPT).render()
    digest = hashlib.sha256(body.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy() -> str:
    """No network fetch of any kind; inline styles, data: images and our own script only."""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {script_hash()}; base-uri 'none'; form-action 'none'"
    )


def _when(moment: dt.datetime) -> str:
    """A moment of the run in UTC, to the minute."""
    utc = moment.astimezone(dt.UTC) if moment.tzinfo is not None else moment
    return f"{utc:%Y-%m-%d %H:%M} UTC"


def _context(results: Results, lang: str) -> dict[str, Any]:
    """Everything the template shows, already made inert."""
    s = results.summary
    levels = sorted({c.level for c in results.controls} | {s.target_level})
    steps_total = max([*levels, 1])
    all_levels = list(range(1, steps_total + 1))
    views = {c.id: _control_view(results, c, lang) for c in results.controls}
    statuses = [c.status for c in results.controls]
    tr: Callable[..., str] = functools.partial(text, lang=lang)
    h = headline(results)
    folder = results.school.folder or results.school.id
    return {
        "lang": "en" if lang == "en" else "nl",
        "tr": tr,
        "csp": content_security_policy(),
        "title": _inert(text("report.title", lang, framework=results.run.framework.id.upper())),
        "school_name": _inert(results.school.name, 300),
        "school_id": _inert(results.school.id, 200),
        "run_id": _inert(results.run.id, 200),
        "as_of": results.run.as_of.isoformat() if results.run.as_of else "",
        "date": _when(results.run.finished),
        "profile": _inert(results.run.profile, 200),
        "framework": _inert(results.run.framework.id, 100),
        "framework_version": _inert(results.run.framework.version, 100),
        "level_reached": s.level_reached,
        "level_text": str(s.level_reached) if s.level_reached else t("report.level_none", lang),
        "target_level": s.target_level,
        "score": percent(s.score, lang),
        "errors": incomplete(results),
        "causes": [
            CauseLine(
                text(f"html.error.{cause.reason}", lang) if cause.reason else "",
                _inert(cause.message, MESSAGE_LIMIT),
                len(cause.findings),
                [_inert(f.id, 300) for f in cause.findings[:CAUSE_CHECKS]],
                max(0, len(cause.findings) - CAUSE_CHECKS),
            )
            for cause in error_causes(results, lang)
        ],
        "steps": growth_steps(steps_total, s.level_reached, s.target_level),
        "steps_width": 16 + steps_total * (STEP_WIDTH + STEP_GAP),
        "steps_height": STEP_TOP + STEP_BASE + STEP_UNIT * steps_total + 26,
        "bars": chart_bars(results, all_levels, lang),
        "chart_width": BAR_LABEL + BAR_WIDTH + 40,
        "chart_height": BAR_TOP * 2 + BAR_ROW * len(all_levels),
        "bar_height": BAR_ROW - 8,
        "legend": [
            StatusCount(str(st), t(f"status.{st}", lang), statuses.count(st)) for st in STATUS_ORDER
        ],
        "gap_statuses": " ".join(str(st) for st in GAP_ORDER),
        "fixes": _fix_views(results, lang),
        "first_page": FIRST_PAGE,
        "attest": [
            AttestView(
                _inert(c.id, 100),
                _inert(_local(c.title, lang), MESSAGE_LIMIT),
                text("report.level", lang, level=c.level).lower(),
                f"cyberstd attest {_inert(shell_word(folder), 500)} {_inert(c.id, 100)}",
            )
            for c in to_attest(results)
        ],
        "head": head_lines(results, lang),
        "next_level": h.next_level,
        "blockers": [
            BlockerView(
                _inert(c.id, 100),
                _inert(_local(c.title, lang), MESSAGE_LIMIT),
                blocker_kind(results, c, lang),
            )
            for c in h.blockers
        ],
        "levels": [
            LevelCount(
                level,
                text("report.level", lang, level=level),
                sum(1 for c in results.controls if c.level == level),
                sum(1 for c in results.controls if c.level == level and c.status in MET),
            )
            for level in levels
            if any(c.level == level for c in results.controls)
        ],
        "controls": [views[c.id] for c in results.controls],
        "waivers": [
            (_waiver_view(w, lang), _inert(waiver_accepts(results, w, lang), MESSAGE_LIMIT))
            for w in results.waivers
        ],
        "advice": [
            AdviceView(
                _inert(f.check, 200),
                _inert(f.target, 300),
                _inert(t("advice.for", lang, controls=", ".join(f.advises)), 300),
                _inert(f.text(lang), MESSAGE_LIMIT),
                _inert(f.remediation.get(lang) or f.remediation.get("en", ""), MESSAGE_LIMIT),
            )
            for f in advice(results)
        ],
        "shown_template": text("html.shown", lang, shown="{shown}", total="{total}"),
        "inputs": [
            (_inert(_rel(path, results.school.folder), 500), _inert(digest, 100))
            for path, digest in sorted(results.run.inputs.items())
        ],
        "tool": _inert(results.tool.name, 100),
        "tool_version": _inert(results.tool.version, 100),
    }


def _fix_views(results: Results, lang: str) -> list[FixView]:
    return [
        FixView(
            rank=i,
            severity=str(fix.severity),
            severity_text=t(f"severity.{fix.severity}", lang),
            controls=[_inert(c.id, 100) for c in fix.controls],
            about=_inert(
                t(
                    "report.fix_for",
                    lang,
                    controls=", ".join(c.id for c in fix.controls),
                    level=fix.level,
                    n=len(fix.controls),
                ),
                300,
            ),
            check=_inert(fix.finding.check, 200),
            places=[_inert(p, 300) for p in fix.places],
            more_places=fix.more_places,
            message=_inert(fix.message(lang), MESSAGE_LIMIT),
            remedy=_inert(fix.remediation(lang), MESSAGE_LIMIT),
        )
        for i, fix in enumerate(fixes(results), 1)
    ]


def render(results: Results, lang: str = "nl") -> str:
    """The whole report as one self-contained HTML page in Dutch ('nl') or English ('en')."""
    return _env().get_template(TEMPLATE).render(_context(results, lang))

"""What a school does next, as every report shows it: technical gaps to fix (worst first, each
naming where), attestations still to record, what stands between the school and the next level,
and the headline (level, coverage, score over what was assessed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cyberstd.i18n import percent, t
from cyberstd.report.common import findings_of, gaps
from cyberstd.report.locations import locations
from cyberstd.results import (
    GAP_ORDER,
    ControlResult,
    ControlStatus,
    Finding,
    FindingStatus,
    Results,
    Severity,
    assessed_score,
)

# How many of each list the terminal and the first page show; the full report shows all.
FIRST_PAGE = 10
# How long a finding's message may be in an action list before it is cut.
BRIEF = 300
# How many places one action names before "and N more".
PLACES = 6


@dataclass(frozen=True)
class Fix:
    """One technical gap: a required check that failed on a target, with where it points."""

    finding: Finding
    controls: tuple[ControlResult, ...]
    level: int
    severity: Severity
    places: tuple[str, ...]
    more_places: int

    def message(self, lang: str, limit: int = BRIEF) -> str:
        """The finding's message, cut after its first parts when long: the control's own
        section carries all of it."""
        text = self.finding.text(lang)
        if len(text) <= limit:
            return text
        cut = text[:limit]
        for mark in ("; ", ". ", ", "):
            at = cut.rfind(mark)
            if at > limit // 2:
                return cut[:at] + " …"
        return cut.rsplit(" ", 1)[0] + " …"

    def remediation(self, lang: str) -> str:
        f = self.finding
        return f.remediation.get(lang) or f.remediation.get("en", "")


def _port_of(item: dict[str, Any], host: str) -> str | None:
    port = item.get("port")
    if not isinstance(port, int):
        return None
    what = item.get("what") or item.get("product") or item.get("service")
    address = item.get("address")
    where = f"{address if isinstance(address, str) else host}:{port}"
    return f"{where} ({what})" if isinstance(what, str) and what else where


def relative(path: str, folder: str | None) -> str:
    """A path shown relative to the school folder when it lies inside it."""
    if folder:
        base = folder.rstrip("/\\")
        for sep in ("/", "\\"):
            if path.startswith(base + sep):
                return path[len(base) + 1 :]
    return path


def places(finding: Finding, folder: str | None = None) -> list[str]:
    """Where a failed check points, most specific first: file:line of a configuration (relative
    to the school folder), host and port of a network service, the URL or DNS record that was
    read, addresses found."""
    ev = finding.evidence
    out: list[str] = []
    for loc in locations(finding):
        file = relative(loc.file, folder)
        out.append(f"{file}:{loc.line}" if loc.line is not None else file)
    host = finding.target
    for key in ("exposed", "reachable", "components"):
        for item in ev.get(key) or []:
            port = _port_of(item, host) if isinstance(item, dict) else None
            if port is not None and (key != "components" or item.get("outdated", True)):
                out.append(port)
    if isinstance(ev.get("undeclared"), list):
        out.extend(f"{host}:{p}" for p in ev["undeclared"] if isinstance(p, int))
    if isinstance(ev.get("url"), str):
        out.append(ev["url"])
    for key in ("asked", "unknown"):
        out.extend(str(x) for x in ev.get(key) or [] if isinstance(x, str))
    if not out and host not in ("", "-"):
        out.append(host)
    return list(dict.fromkeys(out))


def _accepted(finding: Finding, controls: list[ControlResult]) -> bool:
    return finding.waived_by is not None or (
        bool(controls) and all(c.status is ControlStatus.WAIVED for c in controls)
    )


def fixes(results: Results) -> list[Fix]:
    """Required checks that failed and no waiver accepts, worst severity first, then the
    lowest level, then the check: the technical gaps to fix first."""
    by_id = {c.id: c for c in results.controls}
    out: list[Fix] = []
    for f in results.findings:
        if f.status is not FindingStatus.FAIL or not f.controls:
            continue
        controls = [by_id[c] for c in f.controls if c in by_id]
        if _accepted(f, controls):
            continue
        where = places(f, results.school.folder)
        out.append(
            Fix(
                finding=f,
                controls=tuple(controls),
                level=min((c.level for c in controls), default=0),
                severity=Severity(f.severity),
                places=tuple(where[:PLACES]),
                more_places=max(0, len(where) - PLACES),
            )
        )
    return sorted(out, key=lambda x: (-x.severity.rank, x.level, x.finding.check, x.finding.target))


def needs_attestation(results: Results, control: ControlResult) -> bool:
    """A gap that only an attestation closes: no required check failed or erred on it."""
    status = control.underlying_status or control.status
    if status not in GAP_ORDER or status is ControlStatus.ERROR:
        return False
    if control.status is ControlStatus.WAIVED:
        return False
    failing = [
        f
        for f in findings_of(results, control)
        if f.status in (FindingStatus.FAIL, FindingStatus.ERROR)
    ]
    return not failing


def to_attest(results: Results) -> list[ControlResult]:
    """Controls waiting for an attestation (missing, partial, out of date), lowest level first."""
    order = {c.id: i for i, c in enumerate(results.controls)}
    return sorted(
        (c for c in results.controls if needs_attestation(results, c)),
        key=lambda c: (c.level, order[c.id]),
    )


@dataclass(frozen=True)
class Headline:
    level_reached: int
    target_level: int
    assessed: int
    total: int
    # Share of what was assessed that is in place (partial counts half); None when nothing was.
    score_assessed: float | None
    next_level: int | None
    blockers: tuple[ControlResult, ...]


def headline(results: Results) -> Headline:
    """Where the school stands: level, coverage, score over what was assessed, and exactly the
    controls that stand between it and the next level."""
    s = results.summary
    judged = [
        c
        for c in results.controls
        if c.status not in (ControlStatus.NOT_APPLICABLE, ControlStatus.NOT_ASSESSED)
    ]
    applicable = [c for c in results.controls if c.status is not ControlStatus.NOT_APPLICABLE]
    score = assessed_score(results.controls) if judged else None
    levels = sorted({c.level for c in results.controls})
    upper = [lv for lv in levels if s.level_reached < lv <= s.target_level]
    next_level = upper[0] if upper else None
    blockers = (
        tuple(c for c in gaps(results) if c.level <= next_level) if next_level is not None else ()
    )
    return Headline(
        level_reached=s.level_reached,
        target_level=s.target_level,
        assessed=len(judged),
        total=len(applicable),
        score_assessed=score,
        next_level=next_level,
        blockers=blockers,
    )


def head_lines(results: Results, lang: str) -> list[tuple[str, str]]:
    """The headline as (label, value): level reached of the target, coverage, score over what
    was assessed."""
    h = headline(results)
    reached = str(h.level_reached) if h.level_reached else t("report.level_none", lang)
    score = (
        percent(h.score_assessed, lang)
        if h.score_assessed is not None
        else t("report.score_none", lang)
    )
    return [
        (t("report.level_reached", lang), f"{reached} / {h.target_level}"),
        (t("report.assessed", lang), t("report.coverage", lang, assessed=h.assessed, n=h.total)),
        (t("report.score_assessed", lang), score),
    ]


def blocker_kind(results: Results, control: ControlResult, lang: str) -> str:
    """What closes a gap that blocks the next level: a fix, an attestation, a new scan."""
    if (control.underlying_status or control.status) is ControlStatus.ERROR:
        return t("report.blocker_error", lang)
    if needs_attestation(results, control):
        return t("report.blocker_attest", lang)
    return t("report.blocker_fix", lang)

"""The board summary: at most two A4 pages in plain language for the directeur and the
schoolbestuur, in nl or en.

Where the school stands on the growth path, the five most important risks in words a
non-technician understands (one risk said once, whatever the number of checks, hosts or files
behind it), what fixing costs (an effort class per risk), the risks the school accepted, and the
trend against a previous run when one is given. No check ids, no commands, no messages from the
scanned network: those belong in the full report.

One self-contained HTML page that prints to A4 (`cyberstd report --format summary --pdf` prints
it through headless Chromium). It runs no script at all; text from the school folder or a custom
catalog is made inert by the HTML report's helpers and escaped by Jinja's autoescape.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyberstd.i18n import percent, t
from cyberstd.messages import catalog
from cyberstd.report.actions import Fix, fixes, headline, to_attest
from cyberstd.report.common import incomplete, waiver_effect, waiver_scope
from cyberstd.report.html import (
    MESSAGE_LIMIT,
    STEP_BASE,
    STEP_GAP,
    STEP_TOP,
    STEP_UNIT,
    STEP_WIDTH,
    _env,
    _inert,
    _local,
    _when,
    growth_steps,
)
from cyberstd.results import ControlResult, Results, WaiverRecord

TEMPLATE = "summary.html.j2"
BOARD_FILE = Path("checks") / "data" / "board-summary.yaml"
EFFORTS = ("small", "medium", "large")
DEFAULT_EFFORT = "medium"
RISKS = 5  # how many risks the summary names
NAMES = 4  # controls named for the next level, before "and N more"
WAIVERS = 5  # accepted risks listed, before "and N more"
REASON_LIMIT = 240  # characters of a waiver's reason (the full report has it whole)
COST_NAMES = 3  # risks named per effort class

# A Content-Security-Policy that allows no script and no fetch of any kind.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


# ----------------------------------------------------------------------------- board data


@dataclass(frozen=True)
class BoardData:
    """checks/data/board-summary.yaml: per check its effort class and its risk."""

    families: dict[str, str]
    checks: dict[str, dict[str, str]]

    def effort(self, check: str) -> str:
        """small, medium or large: the check's own class, else its family's, else medium."""
        own = self.checks.get(check, {}).get("effort")
        return own or self.families.get(check.split(".", 1)[0], DEFAULT_EFFORT)

    def risk(self, check: str) -> str | None:
        """The risk a check belongs to: the one the data names, else the check's own id, else
        its family, whichever the message catalog has texts for; None when none has."""
        known = catalog()
        own = self.checks.get(check, {}).get("risk")
        for key in (own, check, check.split(".", 1)[0]):
            if key and f"board.risk.{key}" in known and f"board.problem.{key}" in known:
                return key
        return None


def _load_board(path: Path) -> BoardData:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    families = {str(k): str(v) for k, v in (data.get("families") or {}).items()}
    checks = {
        str(k): {str(a): str(b) for a, b in (v or {}).items()}
        for k, v in (data.get("checks") or {}).items()
    }
    return BoardData(families, checks)


@functools.cache
def board_data(root: Path | None = None) -> BoardData:
    """The board data of the catalog at `root` (default: the one cyberstd ships); empty when
    the file is missing, so that every check falls back to medium and a general text."""
    from cyberstd.paths import default_root

    path = (root or default_root()) / BOARD_FILE
    return _load_board(path) if path.is_file() else BoardData({}, {})


# ----------------------------------------------------------------------------- risks


@dataclass(frozen=True)
class Risk:
    """One risk as the board reads it, with every technical gap behind it."""

    key: str
    problem: str
    text: str
    severity: str
    severity_text: str
    level: int
    effort: str
    effort_text: str
    places: int


def _title(control: ControlResult, lang: str) -> str:
    return _inert(_local(control.title, lang), MESSAGE_LIMIT)


def risks(results: Results, lang: str, data: BoardData | None = None) -> list[Risk]:
    """The technical gaps of fixes() grouped by risk, in the order of their worst gap: the
    most severe first, then the lowest level."""
    data = data or board_data()
    groups: dict[str, list[Fix]] = {}
    for fix in fixes(results):
        check = fix.finding.check
        key = data.risk(check) or f"check:{check}"
        groups.setdefault(key, []).append(fix)
    out = []
    for key, found in groups.items():
        first = found[0]
        if key.startswith("check:"):
            control = _title(first.controls[0], lang) if first.controls else first.finding.check
            problem = t("board.problem.generic", lang, control=control)
            text = t("board.risk.generic", lang, control=control)
        else:
            problem = t(f"board.problem.{key}", lang)
            text = t(f"board.risk.{key}", lang)
        effort = max(
            (data.effort(f.finding.check) for f in found),
            key=lambda e: EFFORTS.index(e) if e in EFFORTS else EFFORTS.index(DEFAULT_EFFORT),
        )
        effort = effort if effort in EFFORTS else DEFAULT_EFFORT
        places = {p for f in found for p in (f.places or (f.finding.target,))}
        severity = max((f.severity for f in found), key=lambda s: s.rank)
        out.append(
            Risk(
                key=_inert(key, 200),
                problem=problem,
                text=text,
                severity=str(severity),
                severity_text=t(f"severity.{severity}", lang),
                level=min(f.level for f in found),
                effort=effort,
                effort_text=t(f"board.effort.{effort}", lang),
                places=len(places) + sum(f.more_places for f in found),
            )
        )
    return out


# ----------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Cost:
    effort: str
    text: str
    count: str
    names: str


@dataclass(frozen=True)
class Accepted:
    text: str
    effect: str
    applied: bool


@dataclass(frozen=True)
class Trend:
    title: str
    rows: list[tuple[str, str, str]]  # (what, then, now)
    resolved: str
    worse: str
    regressed: bool


def _named(names: list[str], limit: int, lang: str, sep: str = ", ") -> str:
    shown = sep.join(names[:limit])
    more = len(names) - limit
    return shown + (f"{sep}{t('report.and_more', lang, n=more)}" if more > 0 else "")


def _standing(results: Results, lang: str) -> list[str]:
    """Where the school stands, in two or three sentences."""
    h = headline(results)
    if h.level_reached >= h.target_level:
        out = [t("summary.level_target", lang, level=h.level_reached)]
    elif h.level_reached == 0:
        out = [t("summary.level_none", lang, target=h.target_level)]
    else:
        out = [t("summary.level", lang, level=h.level_reached, target=h.target_level)]
    if h.score_assessed is not None:
        score = percent(h.score_assessed, lang)
        out.append(t("summary.coverage", lang, n=h.total, assessed=h.assessed, score=score))
    else:
        out.append(t("summary.coverage_none", lang))
    if h.next_level is not None and h.blockers:
        titles = _named([_title(c, lang) for c in h.blockers], NAMES, lang)
        out.append(t("summary.next", lang, level=h.next_level, n=len(h.blockers), titles=titles))
    return out


def _level_text(level: int, lang: str) -> str:
    return str(level) if level else t("report.level_none", lang)


def _score_text(score: float | None, lang: str) -> str:
    return percent(score, lang) if score is not None else t("report.score_none", lang)


def trend(results: Results, previous: Results, lang: str) -> Trend:
    """Level and score then and now, and how many controls were fixed or got worse (the
    comparison of `cyberstd diff`)."""
    from cyberstd.diff import Change, compare

    d = compare(previous, results)
    then, now = headline(previous), headline(results)
    return Trend(
        title=t("summary.trend", lang, date=f"{previous.run.finished:%Y-%m-%d}"),
        rows=[
            (
                t("summary.trend_level", lang),
                _level_text(then.level_reached, lang),
                _level_text(now.level_reached, lang),
            ),
            (
                t("summary.trend_score", lang),
                _score_text(then.score_assessed, lang),
                _score_text(now.score_assessed, lang),
            ),
        ],
        resolved=t("summary.resolved", lang, n=len(d.of(Change.RESOLVED))),
        worse=t("summary.worse", lang, n=len(d.regressions)),
        regressed=d.regression,
    )


def _costs(found: list[Risk], lang: str) -> list[Cost]:
    out = []
    for effort in EFFORTS:
        names = [r.problem for r in found if r.effort == effort]
        if names:
            out.append(
                Cost(
                    effort,
                    t(f"board.effort.{effort}", lang),
                    t("summary.cost_count", lang, n=len(names)),
                    _named(names, COST_NAMES, lang, "; "),
                )
            )
    return out


def _scope(waiver: WaiverRecord, results: Results, lang: str, data: BoardData) -> str:
    """What a waiver covers, in words: the control's title, or the risk of the check."""
    kind, _, ident = waiver.scope.partition(" ")
    if kind == "control":
        control = next((c for c in results.controls if c.id == ident), None)
        if control is not None:
            return t("summary.control", lang, title=_title(control, lang), id=_inert(ident, 100))
    if kind == "check":
        key = data.risk(ident)
        if key is not None:
            return t(f"board.problem.{key}", lang)
    return _inert(waiver_scope(waiver, lang), 300)


def _accepted(results: Results, lang: str, data: BoardData) -> list[Accepted]:
    return [
        Accepted(
            t(
                "summary.waiver",
                lang,
                scope=_scope(w, results, lang, data),
                reason=_inert(w.reason, REASON_LIMIT),
                by=_inert(w.approved_by, 120),
                expires=w.expires.isoformat(),
            ),
            _inert(waiver_effect(w, lang), MESSAGE_LIMIT),
            w.applied,
        )
        for w in results.waivers
    ]


def _context(results: Results, lang: str, previous: Results | None) -> dict[str, Any]:
    data = board_data()
    s = results.summary
    levels = max([*(c.level for c in results.controls), s.target_level, 1])
    found = risks(results, lang, data)
    accepted = _accepted(results, lang, data)
    school = _inert(results.school.name, 300)
    framework = f"{results.run.framework.id.upper()} {results.run.framework.version}"
    return {
        "lang": "en" if lang == "en" else "nl",
        "tr": functools.partial(t, lang=lang),
        "csp": CSP,
        "title": t("summary.title", lang),
        "school": school,
        "subtitle": t(
            "summary.subtitle",
            lang,
            date=_when(results.run.finished),
            framework=_inert(framework, 200),
            profile=_inert(results.run.profile, 200),
        ),
        "standing": _standing(results, lang),
        "errors": len(incomplete(results)),
        "steps": growth_steps(levels, s.level_reached, s.target_level),
        "steps_width": 16 + levels * (STEP_WIDTH + STEP_GAP),
        "steps_height": STEP_TOP + STEP_BASE + STEP_UNIT * levels + 8,
        "trend": trend(results, previous, lang) if previous is not None else None,
        "risks": found[:RISKS],
        "costs": _costs(found, lang),
        "attest": len(to_attest(results)),
        "accepted": accepted[:WAIVERS],
        "more_accepted": max(0, len(accepted) - WAIVERS),
        "footer": t(
            "summary.footer",
            lang,
            name=_inert(results.tool.name, 100),
            version=_inert(results.tool.version, 100),
            run=_inert(results.run.id, 200),
        ),
    }


def render(results: Results, lang: str = "nl", previous: Results | None = None) -> str:
    """The board summary as one self-contained HTML page in Dutch ('nl') or English ('en');
    with `previous`, an earlier run of the same school, it shows the trend since then."""
    return _env().get_template(TEMPLATE).render(_context(results, lang, previous))

"""What the group dashboard shows, computed from the roll-up alone and already made inert.

Every text from the group folder, the school list or a results file (names, ids, errors, paths)
goes through `inert` here and Jinja's autoescape in the template; a link is kept only when it is
a relative path inside the group's output folder.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote

from cyberstd.groupresults import ControlInfo, GroupResults, RunSummary, ScanState, SchoolRow
from cyberstd.i18n import percent, t
from cyberstd.report.escape import inert
from cyberstd.report.html import STATUS_ORDER
from cyberstd.results import ControlStatus
from cyberstd.rollup.rows import assessed, control_order, level_counts, run_summary, top_level

NAME_LIMIT = 200  # characters of a school's or the group's name
ID_LIMIT = 100  # characters of an id
ERROR_LIMIT = 600  # characters of a scan's error
CAUSES_SHOWN = 40  # causes of schools without results listed, before "and N more"
SCHOOLS_PER_CAUSE = 12  # schools named per cause
TOP_GAPS = 15
HEATMAP_LIMIT = 60  # schools shown one column each; more get the share per status instead
BAR_WIDTH = 320  # width of a full bar in the level chart, the share chart and the trend
LEVEL_CLASSES = 7  # colours for levels 0 .. 6; a higher level takes the last one
STATE_ORDER = [
    ScanState.DONE,
    ScanState.RECENT,
    ScanState.FAILED,
    ScanState.TIMED_OUT,
    ScanState.PENDING,
]


def level_class(level: int) -> str:
    return f"lv{min(level, LEVEL_CLASSES - 1)}"


def level_name(level: int, lang: str) -> str:
    """ "Niveau 2", or "nog geen niveau" for level 0."""
    return t("report.level", lang, level=level) if level else t("report.level_none", lang)


def share(count: int, total: int, lang: str) -> str:
    """A count's share of a total as the language writes a percentage ("" of nothing)."""
    return percent(100.0 * count / total, lang, digits=0) if total else ""


def spans(counts: list[int], total: int) -> list[tuple[int, int]]:
    """Where each count's segment of a stacked bar starts and how wide it is: the ends rounded
    from the running total, so that the segments fill BAR_WIDTH exactly and never overrun it."""
    out = []
    start = running = 0
    for n in counts:
        running += n
        end = round(BAR_WIDTH * running / total) if total else 0
        out.append((start, end - start))
        start = end
    return out


def href(path: str | None) -> str:
    """A link to a file of the group's output folder, or "" for anything else: an absolute
    path, a URL of any scheme, a path that climbs out with '..'."""
    if not path:
        return ""
    plain = path.replace("\\", "/")
    if plain.startswith("/") or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", plain):
        return ""
    if any(part == ".." for part in plain.split("/")):
        return ""
    return quote(plain, safe="/")


@dataclass(frozen=True)
class StateCount:
    state: str
    text: str
    count: int


@dataclass(frozen=True)
class Unfinished:
    """Schools without results in this run for one reason: their state and error, and the first
    SCHOOLS_PER_CAUSE of them (by id) as (id, name)."""

    state: str
    state_text: str
    error: str
    count: int
    schools: list[tuple[str, str]]
    more: int


def state_counts(group: GroupResults, lang: str) -> list[StateCount]:
    counted = Counter(s.state for s in group.schools)
    return [StateCount(str(st), t(f"group.state.{st}", lang), counted[st]) for st in STATE_ORDER]


def _error(row: SchoolRow, lang: str) -> str:
    """Why a school has no results, in the language asked for."""
    if row.error is None:
        return ""
    return inert(row.error.en if lang == "en" else row.error.nl, ERROR_LIMIT)


def unfinished(group: GroupResults, lang: str) -> list[Unfinished]:
    """The schools whose scan failed or timed out, grouped by state and error (one cause said
    once, however many schools it stopped), the largest group first."""
    groups: dict[tuple[ScanState, str], list[SchoolRow]] = {}
    failed = [s for s in group.schools if s.state in (ScanState.FAILED, ScanState.TIMED_OUT)]
    for s in sorted(failed, key=lambda s: s.id):
        key = (s.state, _error(s, lang) or t("group.no_error", lang))
        groups.setdefault(key, []).append(s)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0].id))
    return [
        Unfinished(
            state=str(state),
            state_text=t(f"group.state.{state}", lang),
            error=error,
            count=len(rows),
            schools=[
                (inert(s.id, ID_LIMIT), inert(s.name, NAME_LIMIT)) for s in rows[:SCHOOLS_PER_CAUSE]
            ],
            more=max(0, len(rows) - SCHOOLS_PER_CAUSE),
        )
        for (state, error), rows in ranked
    ]


# ----------------------------------------------------------------------------- levels


@dataclass(frozen=True)
class LevelBar:
    level: int
    css: str
    label: str
    count: int
    at_least: int
    width: int
    title: str


def level_bars(group: GroupResults, lang: str) -> list[LevelBar]:
    """One bar per level of the growth path: the schools whose highest level it is, scaled to
    the fullest level, and how many schools reached at least that level."""
    counts = level_counts(assessed(group.schools), top_level(group))
    widest = max(counts.values(), default=0) or 1
    bars = []
    for key, count in counts.items():
        level = int(key)
        at_least = sum(n for k, n in counts.items() if int(k) >= level)
        name = level_name(level, lang)
        bars.append(
            LevelBar(
                level=level,
                css=level_class(level),
                label=name,
                count=count,
                at_least=at_least,
                width=round(BAR_WIDTH * count / widest),
                title=t("group.levels.bar", lang, level=name, n=count),
            )
        )
    return bars


# ----------------------------------------------------------------------------- heat map


@dataclass(frozen=True)
class Column:
    id: str
    name: str


@dataclass(frozen=True)
class Cell:
    status: str  # "" for a school without results
    mark: str
    title: str


@dataclass(frozen=True)
class HeatRow:
    id: str
    title: str
    level: int
    first_of_level: bool
    cells: list[Cell]


def _title(info: ControlInfo, lang: str) -> str:
    return inert(info.title.en if lang == "en" else info.title.nl, NAME_LIMIT * 2)


def _control_rows(group: GroupResults) -> list[ControlInfo]:
    return sorted(group.controls, key=control_order)


def heat_map(group: GroupResults, lang: str) -> tuple[list[Column], list[HeatRow]]:
    """Controls (by level) by schools (by id): per cell the school's status of the control, as a
    colour, a mark and a title that say the same."""
    schools = sorted(group.schools, key=lambda s: s.id)
    columns = [Column(inert(s.id, ID_LIMIT), inert(s.name, NAME_LIMIT)) for s in schools]
    marks = {st: t(f"group.cell.{st}", lang) for st in ControlStatus}
    words = {st: t(f"status.{st}", lang) for st in ControlStatus}
    none = t("group.cell.none", lang)
    rows = []
    level = -1
    for info in _control_rows(group):
        cid = inert(info.id, ID_LIMIT)
        cells = []
        for school, column in zip(schools, columns, strict=True):
            status = school.controls.get(info.id)
            said = words[status] if status is not None else none
            cells.append(
                Cell(
                    str(status) if status is not None else "",
                    marks[status] if status is not None else t("group.cell.mark_none", lang),
                    t("group.cell.title", lang, control=cid, school=column.name, status=said),
                )
            )
        rows.append(HeatRow(cid, _title(info, lang), info.level, info.level != level, cells))
        level = info.level
    return columns, rows


# ----------------------------------------------------------------------------- share per status


@dataclass(frozen=True)
class Part:
    status: str
    count: int
    share: str
    x: int
    width: int
    title: str


@dataclass(frozen=True)
class ShareRow:
    id: str
    title: str
    level: int
    first_of_level: bool
    parts: list[Part]  # one per status, in STATUS_ORDER (count 0 included)


def share_rows(group: GroupResults, lang: str) -> list[ShareRow]:
    """Per control, how many of the schools with results have it in each status, and the
    share, as a bar that is as wide for every control."""
    with_results = assessed(group.schools)
    total = len(with_results)
    counted: dict[str, Counter[ControlStatus]] = {c.id: Counter() for c in group.controls}
    for school in with_results:
        for cid, status in school.controls.items():
            if cid in counted:
                counted[cid][status] += 1
    words = {st: t(f"status.{st}", lang) for st in ControlStatus}
    rows = []
    level = -1
    for info in _control_rows(group):
        cid = inert(info.id, ID_LIMIT)
        tally = [counted[info.id][status] for status in STATUS_ORDER]
        parts = []
        for status, n, (x, width) in zip(STATUS_ORDER, tally, spans(tally, total), strict=True):
            said = share(n, total, lang)
            title = t("group.share.part", lang, control=cid, status=words[status], n=n, share=said)
            parts.append(Part(str(status), n, said, x, width, title))
        rows.append(ShareRow(cid, _title(info, lang), info.level, info.level != level, parts))
        level = info.level
    return rows


# ----------------------------------------------------------------------------- gaps


@dataclass(frozen=True)
class Gap:
    id: str
    title: str
    level: int | None
    count: int
    share: str


def control_gaps(group: GroupResults, lang: str, top: int = TOP_GAPS) -> list[Gap]:
    """The controls most schools have non-compliant, with how many schools share each."""
    with_results = assessed(group.schools)
    counted = Counter(
        cid
        for s in with_results
        for cid, status in s.controls.items()
        if status is ControlStatus.NON_COMPLIANT
    )
    infos = {c.id: c for c in group.controls}

    def order(item: tuple[str, int]) -> tuple[int, int, tuple[tuple[int, int | str], ...]]:
        cid, n = item
        info = infos.get(cid)
        key = control_order(info) if info is not None else (99, ((1, cid),))
        return (-n, *key)

    ranked = sorted(counted.items(), key=order)[:top]
    return [
        Gap(
            id=inert(cid, ID_LIMIT),
            title=_title(infos[cid], lang) if cid in infos else "",
            level=infos[cid].level if cid in infos else None,
            count=n,
            share=share(n, len(with_results), lang),
        )
        for cid, n in ranked
    ]


def check_gaps(group: GroupResults, lang: str, top: int = TOP_GAPS) -> list[Gap]:
    """The checks that failed in most schools, with how many schools share each."""
    with_results = assessed(group.schools)
    counted = Counter(check for s in with_results for check in set(s.failed_checks))
    ranked = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    titles = {c.id: c.title for c in group.checks}
    return [
        Gap(
            inert(check, ID_LIMIT),
            inert(titles[check].en if lang == "en" else titles[check].nl, NAME_LIMIT * 2)
            if check in titles
            else "",
            None,
            n,
            share(n, len(with_results), lang),
        )
        for check, n in ranked
    ]


# ----------------------------------------------------------------------------- trend


@dataclass(frozen=True)
class TrendPart:
    level: int
    css: str
    count: int
    x: int
    width: int
    title: str


@dataclass(frozen=True)
class TrendRow:
    id: str
    date: str
    current: bool
    schools: int
    assessed: int
    mean: str
    mean_value: float | None
    levels: list[tuple[int, int]]  # (level, schools) for every level of the table
    parts: list[TrendPart]


def _trend_row(run: RunSummary, levels: list[int], current: bool, lang: str) -> TrendRow:
    counts = [(level, run.levels.get(str(level), 0)) for level in levels]
    tally = [n for _, n in counts]
    parts = []
    for (level, n), (x, width) in zip(counts, spans(tally, sum(tally)), strict=True):
        if n:
            title = t("group.levels.bar", lang, level=level_name(level, lang), n=n)
            parts.append(TrendPart(level, level_class(level), n, x, width, title))
    return TrendRow(
        id=inert(run.id, ID_LIMIT),
        date=f"{run.finished:%Y-%m-%d}",
        current=current,
        schools=run.schools,
        assessed=run.assessed,
        mean=percent(run.mean_score, lang) if run.mean_score is not None else "",
        mean_value=run.mean_score,
        levels=counts,
        parts=parts,
    )


def trend(group: GroupResults, lang: str) -> list[TrendRow]:
    """The earlier runs from the oldest, then this run: schools per level and the mean score."""
    now = run_summary(group)
    runs = sorted(group.history, key=lambda r: (r.finished, r.id))
    top = max((int(k) for r in [*runs, now] for k in r.levels), default=0)
    levels = list(range(top + 1))
    rows = [_trend_row(r, levels, False, lang) for r in runs]
    return [*rows, _trend_row(now, levels, True, lang)]


@dataclass(frozen=True)
class Change:
    """How the schools' levels changed since the run before."""

    up: int
    down: int
    same: int
    new: int
    fell: list[tuple[str, int, int]]  # (school name, level before, level now), worst first


def changes(group: GroupResults) -> Change:
    with_results = assessed(group.schools)
    up = down = same = new = 0
    fell: list[tuple[SchoolRow, int, int]] = []
    for s in with_results:
        if s.previous_level is None or s.level_reached is None:
            new += 1
        elif s.level_reached > s.previous_level:
            up += 1
        elif s.level_reached < s.previous_level:
            down += 1
            fell.append((s, s.previous_level, s.level_reached))
        else:
            same += 1
    fell.sort(key=lambda item: (item[2] - item[1], item[0].id))
    return Change(
        up, down, same, new, [(inert(s.name, NAME_LIMIT), a, b) for s, a, b in fell[:TOP_GAPS]]
    )


def change_text(row: SchoolRow, lang: str) -> tuple[str, str]:
    """A school's change of level since the run before, and its CSS class."""
    if row.level_reached is None:
        return "", ""
    if row.previous_level is None:
        return t("group.change.no_previous", lang), "new"
    diff = row.level_reached - row.previous_level
    if diff == 0:
        return "=", "same"
    return (f"+{diff}", "up") if diff > 0 else (f"\u2212{-diff}", "down")


# ----------------------------------------------------------------------------- schools


@dataclass(frozen=True)
class SchoolView:
    id: str
    name: str
    institution: str
    state: str
    state_text: str
    level: str
    level_value: int | None
    target: str
    score: str
    change: str
    change_class: str
    failed: str
    report: str
    results: str
    error: str


def school_views(group: GroupResults, lang: str) -> list[SchoolView]:
    out = []
    for s in sorted(group.schools, key=lambda s: s.id):
        change, css = change_text(s, lang)
        out.append(
            SchoolView(
                id=inert(s.id, ID_LIMIT),
                name=inert(s.name, NAME_LIMIT),
                institution=inert(s.institution_number or "", ID_LIMIT),
                state=str(s.state),
                state_text=t(f"group.state.{s.state}", lang),
                level=str(s.level_reached) if s.level_reached is not None else "",
                level_value=s.level_reached,
                target=str(s.target_level) if s.target_level is not None else "",
                score=percent(s.score, lang) if s.score is not None else "",
                change=change,
                change_class=css,
                failed=str(len(s.failed_checks)) if s.level_reached is not None else "",
                report=href(s.report_path),
                results=href(s.results_path),
                error=_error(s, lang),
            )
        )
    return out

"""The rows of a group's roll-up, built from the results of each school's scan.

One `SchoolRow` per school: where it stands (level reached, score, the status of every control,
the checks that failed) and how its scan went; a row without results for a school whose scan
failed, ran out of time or has not run yet. `control_infos` gives the heat map its rows,
`failed_check_infos` the titles of the checks in the list of gaps, and
`run_summary` sums a run up for the trend of the runs after it. Nothing here reads a file or the
clock: the group scan hands in what it has.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from cyberstd.catalog import Catalog, Framework
from cyberstd.groupresults import (
    CheckInfo,
    ControlInfo,
    GroupResults,
    LocalText,
    RunSummary,
    ScanState,
    SchoolRow,
)
from cyberstd.results import ControlStatus, FindingStatus, Results

# States whose row carries the results of a scan (this run's, or a recent run's).
WITH_RESULTS = frozenset({ScanState.DONE, ScanState.RECENT})


def school_row(
    results: Results,
    *,
    state: ScanState,
    attempts: int,
    results_path: str | None,
    report_path: str | None,
    results_run: str | None,
    previous: Results | None = None,
    institution_number: str | None = None,
) -> SchoolRow:
    """A school's row from its results: level, score, every control's status and the checks
    that failed (any finding that failed, advice and waived failures included: the check did
    fail there). `previous`, the school's results of the group's run before, gives the trend."""
    return SchoolRow(
        id=results.school.id,
        name=results.school.name,
        institution_number=institution_number,
        state=state,
        attempts=attempts,
        results_path=results_path,
        report_path=report_path,
        results_run=results_run or results.run.id,
        scanned=results.run.finished,
        target_level=results.summary.target_level,
        level_reached=results.summary.level_reached,
        score=results.summary.score,
        controls={c.id: c.status for c in results.controls},
        failed_checks=sorted({f.check for f in results.findings if f.status is FindingStatus.FAIL}),
        previous_level=previous.summary.level_reached if previous is not None else None,
        previous_score=previous.summary.score if previous is not None else None,
    )


def unscanned_row(
    id: str,
    name: str,
    state: ScanState,
    *,
    attempts: int = 0,
    error: LocalText | None = None,
    institution_number: str | None = None,
) -> SchoolRow:
    """The row of a school without results in this run: its scan failed or timed out (`error`
    says why, in both languages), or it is still pending."""
    if state in WITH_RESULTS:
        raise ValueError(f"a school in state {state} has results: use school_row")
    return SchoolRow(
        id=id,
        name=name,
        institution_number=institution_number,
        state=state,
        attempts=attempts,
        error=error,
    )


def _natural(control_id: str) -> tuple[tuple[int, int | str], ...]:
    """A control id's sort key with its numbers as numbers: O2 before O10, O9.6 before O10.1."""
    parts = re.split(r"(\d+)", control_id)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def control_order(info: ControlInfo) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    return (info.level, _natural(info.id))


def control_infos(source: Results | Framework) -> list[ControlInfo]:
    """The controls of the framework, for the heat map's rows: from a school's results or from
    the catalog's framework, ordered by level, then by id (numbers as numbers)."""
    if isinstance(source, Results):
        found = [
            ControlInfo(id=c.id, level=c.level, title=LocalText(nl=c.title["nl"], en=c.title["en"]))
            for c in source.controls
        ]
    else:
        found = [
            ControlInfo(id=c.id, level=c.level, title=LocalText(nl=c.title.nl, en=c.title.en))
            for c in source.controls.values()
        ]
    return sorted(found, key=control_order)


def assessed(schools: Iterable[SchoolRow]) -> list[SchoolRow]:
    """The schools with results (a level reached) in a run."""
    return [s for s in schools if s.level_reached is not None]


def top_level(group: GroupResults) -> int:
    """The highest level of the growth path: of the framework's controls, the schools' target
    levels and any level a school reached."""
    levels = [c.level for c in group.controls]
    levels += [s.target_level for s in group.schools if s.target_level is not None]
    levels += [s.level_reached for s in group.schools if s.level_reached is not None]
    return max(levels, default=0)


def level_counts(schools: Iterable[SchoolRow], top: int) -> dict[str, int]:
    """How many schools reached each level as their highest, for every level 0 .. `top`."""
    counted = Counter(s.level_reached for s in schools if s.level_reached is not None)
    top = max([top, *counted])
    return {str(level): counted.get(level, 0) for level in range(top + 1)}


def mean_score(schools: Iterable[SchoolRow]) -> float | None:
    """The mean score of the schools with a score, to one decimal; None when none has one."""
    scores = [s.score for s in schools if s.score is not None]
    return round(sum(scores) / len(scores), 1) if scores else None


def run_summary(group: GroupResults) -> RunSummary:
    """A run summed up for the trend of the runs after it: schools, schools with results, the
    schools per level reached and the mean score. A run that was stopped has no end: its start
    stands for it."""
    with_results = assessed(group.schools)
    return RunSummary(
        id=group.run.id,
        finished=group.run.finished or group.run.started,
        schools=len(group.schools),
        assessed=len(with_results),
        levels=level_counts(with_results, top_level(group)),
        mean_score=mean_score(with_results),
    )


def errored_schools(group: GroupResults) -> int:
    """Schools with results of which a control could not be judged (a check that ended in an
    error): never to be read as "nothing wrong"."""
    return sum(
        any(status is ControlStatus.ERROR for status in s.controls.values()) for s in group.schools
    )


def failed_check_infos(schools: Iterable[SchoolRow], catalog: Catalog) -> list[CheckInfo]:
    """The titles of the checks that failed in at least one school, by id (a check the
    catalog no longer has keeps its id as its title)."""
    failed = sorted({check for s in schools for check in s.failed_checks})
    return [
        CheckInfo(
            id=cid,
            title=LocalText(nl=catalog.checks[cid].title.nl, en=catalog.checks[cid].title.en)
            if cid in catalog.checks
            else LocalText(nl=cid, en=cid),
        )
        for cid in failed
    ]

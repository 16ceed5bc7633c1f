"""The demo school's configuration-only scan, variants of it with other statuses, and group
roll-ups made of them (a handful of schools, with every scan state, and thousands)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from cyberstd.catalog import load_catalog
from cyberstd.groupresults import (
    BatchAuthorization,
    GroupMode,
    GroupRef,
    GroupResults,
    GroupRunInfo,
    LocalText,
    RunSummary,
    ScanState,
    SchoolRow,
)
from cyberstd.results import MET, ControlStatus, FindingStatus, Results, Tool, assessed_score
from cyberstd.rollup import control_infos, school_row, unscanned_row
from cyberstd.rollup.rows import failed_check_infos
from tests.conftest import REPO
from tests.report_formats import scan_demo

STARTED = dt.datetime(2026, 10, 5, 8, 0, tzinfo=dt.UTC)
# Text a hostile school list or group folder could hold, where the dashboard shows it.
HOSTILE_NAME = '=HYPERLINK("http://x") <script>alert(1)</script> \u202eevil'
HOSTILE_LINK = "javascript:alert(1)"


@pytest.fixture(scope="session")
def demo_scan(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return scan_demo(tmp_path_factory.mktemp("rollup-demo"))


@pytest.fixture
def demo(demo_scan: Results) -> Results:
    """A copy of the demo scan that a test may change."""
    return demo_scan.model_copy(deep=True)


def restate(
    results: Results, school: str, name: str, statuses: dict[str, ControlStatus]
) -> Results:
    """The results of another school: some controls in another status (a control made
    compliant has its failed findings pass), the summary counted again as a scan counts it."""
    r = results.model_copy(deep=True)
    r.school.id, r.school.name = school, name
    for c in r.controls:
        if c.id not in statuses:
            continue
        c.status = statuses[c.id]
        if c.status in MET:
            for f in r.findings:
                if f.id in c.finding_ids and f.status is FindingStatus.FAIL:
                    f.status = FindingStatus.PASS
    reached = 0
    for level in sorted({c.level for c in r.controls}):
        if level > r.summary.target_level or not all(
            c.status in MET for c in r.controls if c.level == level
        ):
            break
        reached = level
    r.summary.level_reached = reached
    r.summary.score = assessed_score(r.controls)
    r.summary.counts = {s: sum(c.status is s for c in r.controls) for s in ControlStatus}
    return r


def better(results: Results, school: str, name: str, up_to: int) -> Results:
    """The school with every control of the levels up to `up_to` in place."""
    return restate(
        results,
        school,
        name,
        {c.id: ControlStatus.COMPLIANT for c in results.controls if c.level <= up_to},
    )


def group_of(
    rows: list[SchoolRow],
    results: Results,
    *,
    mode: GroupMode = GroupMode.FOLDERS,
    history: list[RunSummary] | None = None,
    finished: bool = True,
) -> GroupResults:
    return GroupResults(
        tool=Tool(version="0.1.0"),
        run=GroupRunInfo(
            id="20261005T080000Z-group",
            started=STARTED,
            finished=STARTED + dt.timedelta(hours=2) if finished else None,
            mode=mode,
            profile=results.run.profile,
            framework=results.run.framework.id,
            as_of=results.run.as_of,
            authorization=BatchAuthorization(
                authorized_by="Kenniscentrum Digisprong",
                date=dt.date(2026, 10, 1),
                expires=dt.date(2027, 9, 30),
                reference="KC-2026-117",
            )
            if mode is GroupMode.PERIMETER
            else None,
        ),
        group=GroupRef(id="scholengroep-noord", name="Scholengroep Noord"),
        controls=control_infos(results),
        schools=rows,
        checks=failed_check_infos(rows, load_catalog(REPO)[0]),
        history=history or [],
    )


def paths(school: str) -> dict[str, str]:
    return {
        "results_path": f"schools/{school}/results.json",
        "report_path": f"schools/{school}/report.nl.html",
    }


@pytest.fixture
def small_group(demo: Results) -> GroupResults:
    return small(demo)


def small(demo: Results) -> GroupResults:
    """Six schools in every state: the demo, two better ones (one of them better than in the
    run before, one worse), one from a recent run, one failed, one timed out, one pending."""
    klimop = better(demo, "de-klimop", "De Klimop", 2)
    zonnebloem = better(demo, "zonnebloem", "Basisschool De Zonnebloem", 1)
    rows = [
        school_row(
            demo,
            state=ScanState.DONE,
            attempts=1,
            results_run=None,
            previous=demo,
            institution_number="012345",
            **paths("demo-school"),
        ),
        school_row(
            klimop,
            state=ScanState.DONE,
            attempts=2,
            results_run=None,
            previous=zonnebloem,
            **paths("de-klimop"),
        ),
        school_row(
            zonnebloem,
            state=ScanState.RECENT,
            attempts=0,
            results_run="20261001T080000Z-earlier",
            previous=klimop,
            **paths("zonnebloem"),
        ),
        unscanned_row(
            "sint-jan",
            "Sint-Jan",
            ScanState.FAILED,
            attempts=3,
            error=LocalText(
                nl="sint-jan/school.yaml:3: het veld 'name' ontbreekt",
                en="sint-jan/school.yaml:3: the field 'name' is missing",
            ),
        ),
        unscanned_row(
            "atheneum",
            "Atheneum",
            ScanState.TIMED_OUT,
            attempts=2,
            error=LocalText(nl="de scan duurde langer dan 600 s", en="the scan ran past 600 s"),
        ),
        unscanned_row("vrije-school", "Vrije School", ScanState.PENDING),
    ]
    history = [
        RunSummary(
            id="20260901T080000Z-first",
            finished=dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.UTC),
            schools=5,
            assessed=4,
            levels={"0": 3, "1": 1},
            mean_score=51.5,
        )
    ]
    return group_of(rows, demo, history=history)


STATUSES = list(ControlStatus)


def synthetic(results: Results, schools: int, seed: int = 7) -> GroupResults:
    """`schools` rows with statuses drawn at random (a fixed seed) over the demo's controls,
    some failed, timed out or pending, with long names: a roll-up of a whole education network."""
    rng = random.Random(seed)
    infos = control_infos(results)
    checks = sorted({f.check for f in results.findings})
    rows = []
    for i in range(schools):
        sid = f"school-{100000 + i}"
        name = f"Gemeentelijke Basisschool Voorbeeld {i} {'Sint-' * (i % 3)}Lutgardis"
        roll = rng.random()
        if roll < 0.02:
            rows.append(
                unscanned_row(
                    sid,
                    name,
                    ScanState.FAILED,
                    error=LocalText(nl="geen DNS-antwoord", en="no DNS answer"),
                    institution_number=str(100000 + i),
                )
            )
            continue
        if roll < 0.03:
            rows.append(unscanned_row(sid, name, ScanState.TIMED_OUT, attempts=2))
            continue
        if roll < 0.04:
            rows.append(unscanned_row(sid, name, ScanState.PENDING))
            continue
        controls = {c.id: rng.choice(STATUSES) for c in infos}
        level = rng.randint(0, 6)
        rows.append(
            SchoolRow(
                id=sid,
                name=name,
                institution_number=str(100000 + i),
                state=ScanState.DONE if roll < 0.9 else ScanState.RECENT,
                attempts=1,
                results_run="20261005T080000Z-group",
                **paths(sid),
                scanned=STARTED,
                target_level=6,
                level_reached=level,
                score=round(rng.uniform(0, 100), 1),
                controls=controls,
                failed_checks=sorted(rng.sample(checks, rng.randint(0, min(8, len(checks))))),
                previous_level=max(0, level + rng.choice([-1, 0, 0, 1])) if i % 4 else None,
                previous_score=None,
            )
        )
    history = [
        RunSummary(
            id=f"2026090{k}T080000Z-run",
            finished=dt.datetime(2026, 9, k, 10, tzinfo=dt.UTC),
            schools=schools,
            assessed=schools - 50,
            levels={str(lv): (schools - 50) // 7 for lv in range(7)},
            mean_score=40.0 + k,
        )
        for k in range(1, 4)
    ]
    return group_of(rows, results, mode=GroupMode.PERIMETER, history=history)


@pytest.fixture
def many(demo: Results) -> GroupResults:
    return synthetic(demo, 3000)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path

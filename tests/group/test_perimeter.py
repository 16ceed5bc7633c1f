"""Perimeter mode against a simulated fleet on loopback: every seeded flaw found, no false
pass, the same verdicts after a resume, and never two schools on one host at once."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cyberstd.catalog import load_catalog
from cyberstd.clock import Clock
from cyberstd.group.executors import LocalExecutor
from cyberstd.group.job import GroupOptions, Outcome, SchoolJob, scan_school
from cyberstd.group.run import GroupRun, RunSettings
from cyberstd.groupfile import load_group
from cyberstd.groupresults import GroupMode, GroupResults, ScanState
from cyberstd.lab.fleet import Fleet, fleet_lab
from cyberstd.results import FindingStatus, Results
from cyberstd.store import Store
from tests.conftest import REPO

DAY = dt.date(2026, 11, 29)
STARTED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
OPTIONS = GroupOptions(workers=8, catalog_root=str(REPO), formats=())
# worst first: a check with one failing target fails
_RANK = {
    FindingStatus.FAIL: 4,
    FindingStatus.ERROR: 3,
    FindingStatus.PASS: 2,
    FindingStatus.NOT_APPLICABLE: 1,
    FindingStatus.SKIPPED: 0,
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    workdir = tmp_path_factory.mktemp("fleet")
    with fleet_lab(workdir, 12, seed=7, clock=Clock.at(DAY), flawed=0.6) as running:
        yield running


def _run(
    fleet: Fleet, out: Path, db: Path, *, scan: Any = scan_school, slots: int = 4, **settings: Any
) -> tuple[GroupRun, GroupResults]:
    catalog, problems = load_catalog(REPO)
    assert problems == []
    store = Store(db)
    try:
        clock = Clock.at(DAY, started=STARTED)
        group = load_group(fleet.workdir)
        run = GroupRun(group, catalog, store, out, RunSettings(OPTIONS, **settings), clock)
        executor = LocalExecutor(slots, OPTIONS, run.clock.now, run.clock.as_of, scan=scan)
        return run, run.run(executor)
    finally:
        store.close()


def _by_check(results: Results) -> dict[str, str]:
    worst: dict[str, FindingStatus] = {}
    for finding in results.findings:
        now = worst.get(finding.check)
        if now is None or _RANK[finding.status] > _RANK[now]:
            worst[finding.check] = finding.status
    return {check: status.value for check, status in worst.items()}


def test_every_seeded_flaw_is_found_and_nothing_else_fails(fleet: Fleet, tmp_path: Path) -> None:
    expected = json.loads(fleet.expected_file.read_text())
    out = tmp_path / "out"
    _, results = _run(fleet, out, tmp_path / "g.db")
    assert results.run.mode is GroupMode.PERIMETER
    assert results.run.authorization is not None
    assert len(results.schools) == 12
    assert all(s.state is ScanState.DONE for s in results.schools), [
        (s.id, s.error) for s in results.schools if s.state is not ScanState.DONE
    ]
    flawed = 0
    for school in results.schools:
        want = expected["schools"][school.id]
        flawed += bool(want["flaws"])
        scanned = Results.model_validate_json(
            (out / f"schools/{school.id}/results.json").read_text()
        )
        got = _by_check(scanned)
        wrong = {c: (got.get(c), s) for c, s in want["checks"].items() if got.get(c) != s}
        assert wrong == {}, f"{school.id} with flaws {want['flaws']}: {wrong}"
        assert school.institution_number == school.id.removeprefix("school-")
        # only the perimeter checks gave a verdict (a VPN check finds no VPN host to judge)
        others = {c: got[c] for c in set(got) - set(want["checks"])}
        assert set(others.values()) <= {"not_applicable"}, others
    assert flawed >= 4  # the seeded mix holds flaws to find


def test_a_run_after_a_partly_failed_one_rescans_only_what_failed(
    fleet: Fleet, tmp_path: Path
) -> None:
    _, whole = _run(fleet, tmp_path / "whole", tmp_path / "whole.db")

    class Stop(Exception):
        pass

    calls = {"n": 0}

    def stop_after_five(
        job: SchoolJob, options: GroupOptions, now: dt.datetime, as_of: bool
    ) -> Outcome:
        calls["n"] += 1
        if calls["n"] > 5:
            raise Stop
        return scan_school(job, options, now, as_of)

    _, first = _run(
        fleet, tmp_path / "part", tmp_path / "part.db", scan=stop_after_five, slots=1, retries=0
    )
    done_before = {s.id for s in first.schools if s.state is ScanState.DONE}
    assert 0 < len(done_before) < 12
    # the stopped attempts count as failed in that run; a new run of the same group scans
    # again only what has no results, with --since reusing the rest
    run, second = _run(fleet, tmp_path / "part", tmp_path / "part.db", since=dt.timedelta(days=1))
    assert {s.id for s in second.schools if s.state is ScanState.RECENT} == done_before
    assert {s.id: s.controls for s in second.schools} == {s.id: s.controls for s in whole.schools}
    assert run.info.id != first.run.id


def test_never_two_schools_on_one_host_at_once(fleet: Fleet, tmp_path: Path) -> None:
    expected = json.loads(fleet.expected_file.read_text())["schools"]
    lock = threading.Lock()
    busy: dict[str, str] = {}
    clashes: list[tuple[str, str]] = []

    def watched(job: SchoolJob, options: GroupOptions, now: dt.datetime, as_of: bool) -> Outcome:
        address = expected[job.key]["address"]
        with lock:
            if address in busy:
                clashes.append((busy[address], job.key))
            busy[address] = job.key
        try:
            return scan_school(job, options, now, as_of)
        finally:
            with lock:
                busy.pop(address, None)

    _, results = _run(fleet, tmp_path / "out", tmp_path / "g.db", scan=watched, slots=8)
    addresses = {expected[s.id]["address"] for s in results.schools}
    assert len(addresses) < len(results.schools)  # schools do share hosting addresses
    assert clashes == []
    assert all(s.state is ScanState.DONE for s in results.schools)

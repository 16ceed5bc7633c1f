"""A school's row from its results, the control list from results or the catalog, and a run
summed up for the trend."""

from __future__ import annotations

import pytest

from cyberstd.catalog import load_catalog
from cyberstd.groupresults import GroupResults, LocalText, ScanState
from cyberstd.results import ControlStatus, FindingStatus, Results
from cyberstd.rollup import control_infos, run_summary, school_row, unscanned_row
from tests.conftest import REPO
from tests.rollup.conftest import better, group_of, paths, restate


def test_a_row_holds_where_the_school_stands(demo: Results) -> None:
    row = school_row(
        demo,
        state=ScanState.DONE,
        attempts=1,
        results_run=None,
        institution_number="012345",
        **paths("demo-school"),
    )
    assert (row.id, row.name, row.institution_number) == (
        demo.school.id,
        demo.school.name,
        "012345",
    )
    assert row.level_reached == demo.summary.level_reached
    assert row.target_level == demo.summary.target_level
    assert row.score == demo.summary.score
    assert row.controls == {c.id: c.status for c in demo.controls}
    failed = {f.check for f in demo.findings if f.status is FindingStatus.FAIL}
    assert failed and row.failed_checks == sorted(failed)
    assert row.results_run == demo.run.id  # no other run named: the results' own
    assert row.scanned == demo.run.finished
    assert (row.results_path, row.report_path) == (
        "schools/demo-school/results.json",
        "schools/demo-school/report.nl.html",
    )
    assert row.previous_level is None and row.previous_score is None


def test_a_row_follows_edited_statuses(demo: Results) -> None:
    failing = [c for c in demo.controls if c.status is ControlStatus.NON_COMPLIANT]
    assert failing
    fixed = restate(demo, "fixed", "Fixed", {c.id: ControlStatus.COMPLIANT for c in failing})
    row = school_row(
        fixed,
        state=ScanState.DONE,
        attempts=1,
        results_run="r",
        results_path=None,
        report_path=None,
    )
    assert all(row.controls[c.id] is ControlStatus.COMPLIANT for c in failing)
    assert len(row.failed_checks) < len(
        {f.check for f in demo.findings if f.status is FindingStatus.FAIL}
    )
    assert row.score == fixed.summary.score and row.score > demo.summary.score
    assert row.results_run == "r"


def test_the_run_before_gives_the_trend(demo: Results) -> None:
    now = better(demo, "demo-school", demo.school.name, 2)
    row = school_row(
        now,
        state=ScanState.DONE,
        attempts=1,
        results_run=None,
        previous=demo,
        **paths("demo-school"),
    )
    assert row.level_reached == 2
    assert row.previous_level == demo.summary.level_reached
    assert row.previous_score == demo.summary.score


def test_a_school_without_results_says_why(demo: Results) -> None:
    error = LocalText(nl="kapot", en="broken")
    row = unscanned_row("x", "X", ScanState.FAILED, attempts=3, error=error)
    assert (row.state, row.attempts, row.error, row.level_reached) == (
        ScanState.FAILED,
        3,
        error,
        None,
    )
    assert row.controls == {} and row.results_path is None
    with pytest.raises(ValueError, match="has results"):
        unscanned_row("x", "X", ScanState.DONE)


def _in_order(ids_levels: list[tuple[str, int]]) -> None:
    levels = [level for _, level in ids_levels]
    assert levels == sorted(levels)
    ids = [cid for cid, _ in ids_levels]
    for early, late in (("O2", "O10.1"), ("O9.1", "O10.1"), ("O8", "O9.1")):
        if early in ids and late in ids:
            assert ids.index(early) < ids.index(late)


def test_control_infos_from_results_and_from_the_catalog(demo: Results) -> None:
    from_results = control_infos(demo)
    assert {c.id for c in from_results} == {c.id for c in demo.controls}
    _in_order([(c.id, c.level) for c in from_results])
    by_id = {c.id: c for c in demo.controls}
    for info in from_results:
        assert info.level == by_id[info.id].level
        assert info.title.nl == by_id[info.id].title["nl"]
        assert info.title.en == by_id[info.id].title["en"]

    catalog, problems = load_catalog(REPO)
    assert problems == []
    framework = catalog.framework(demo.run.framework.id)
    from_catalog = control_infos(framework)
    assert {c.id for c in from_catalog} == set(framework.controls)
    _in_order([(c.id, c.level) for c in from_catalog])
    # the demo scan covers the whole framework: both sources agree
    assert [c.id for c in from_catalog] == [c.id for c in from_results]


def test_a_run_summed_up(small_group: GroupResults) -> None:
    summary = run_summary(small_group)
    with_results = [s for s in small_group.schools if s.level_reached is not None]
    assert summary.id == small_group.run.id
    assert summary.finished == small_group.run.finished
    assert summary.schools == len(small_group.schools)
    assert summary.assessed == len(with_results) == 3
    assert sum(summary.levels.values()) == summary.assessed
    for level, n in summary.levels.items():
        assert n == sum(1 for s in with_results if s.level_reached == int(level))
    assert set(summary.levels) >= {str(c.level) for c in small_group.controls}
    scores = [s.score for s in with_results if s.score is not None]
    assert summary.mean_score == pytest.approx(sum(scores) / len(scores), abs=0.05)


def test_a_stopped_run_is_summed_up_at_its_start(demo: Results) -> None:
    group = group_of([unscanned_row("x", "X", ScanState.PENDING)], demo, finished=False)
    summary = run_summary(group)
    assert summary.finished == group.run.started
    assert (summary.schools, summary.assessed, summary.mean_score) == (1, 0, None)
    assert set(summary.levels.values()) == {0}

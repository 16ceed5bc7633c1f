"""The database of group runs: a run's schools, resume, results reused with --since, history."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from cyberstd.groupresults import GroupMode, GroupRunInfo, ScanState, SchoolRow
from cyberstd.store import Store, StoreError

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def _info(run_id: str, started: dt.datetime) -> GroupRunInfo:
    return GroupRunInfo(
        id=run_id, started=started, mode=GroupMode.PERIMETER, profile="perimeter", framework="grip"
    )


def _row(
    key: str, level: int, scanned: dt.datetime, state: ScanState = ScanState.DONE
) -> SchoolRow:
    return SchoolRow(
        id=key,
        name=key.title(),
        state=state,
        attempts=1,
        level_reached=level,
        score=50.0 + level,
        scanned=scanned,
    )


def test_a_stopped_run_keeps_what_it_did_and_knows_what_is_left(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.db")
    store.begin(_info("r1", T0), "g", ["a", "b", "c"])
    store.record("r1", "b", _row("b", 2, T0), '{"x": 1}')
    store.close()

    again = Store(tmp_path / "g.db")  # a new process
    unfinished = again.unfinished("g")
    assert unfinished is not None and unfinished.id == "r1"
    assert again.pending("r1") == ["a", "c"]  # in the group's order
    rows = dict(again.rows("r1"))
    assert rows["a"] is None and rows["b"] is not None and rows["b"].level_reached == 2
    assert again.results_json("r1", "b") == '{"x": 1}'
    assert again.unfinished("another-group") is None


def test_results_are_reused_only_when_recent_enough(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.db")
    store.begin(_info("r1", T0), "g", ["a", "b"])
    store.record("r1", "a", _row("a", 3, T0 + dt.timedelta(minutes=5)), '{"a": 1}')
    store.record("r1", "b", _row("b", 1, T0, ScanState.FAILED))  # no results: never reused
    found = store.earlier("g", "a", T0)
    assert found is not None and found.run_id == "r1" and found.results_json == '{"a": 1}'
    assert store.earlier("g", "a", T0 + dt.timedelta(hours=1)) is None
    assert store.earlier("g", "b", T0 - dt.timedelta(days=1)) is None
    assert store.earlier("other", "a", T0) is None


def test_history_and_previous_rows_come_from_finished_runs_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.db")
    for i, levels in enumerate(([1, 2], [2, 2])):
        run_id = f"r{i}"
        started = T0 + dt.timedelta(days=i)
        store.begin(_info(run_id, started), "g", ["a", "b"])
        for key, level in zip("ab", levels, strict=True):
            store.record(run_id, key, _row(key, level, started))
        store.finish(
            _info(run_id, started).model_copy(update={"finished": started + dt.timedelta(hours=1)})
        )
    store.begin(_info("r9", T0 + dt.timedelta(days=9)), "g", ["a", "b"])  # not finished
    later = T0 + dt.timedelta(days=10)
    history = store.history("g", later)
    assert [h.id for h in history] == ["r0", "r1"]
    assert history[0].levels == {"1": 1, "2": 1} and history[1].levels == {"2": 2}
    assert history[1].mean_score == 52.0 and history[1].assessed == 2
    previous = store.previous_rows("g", later)
    assert previous["a"].level_reached == 2
    assert store.previous_rows("g", T0) == {}


def test_a_file_that_is_no_database_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    path.write_text("not a database, a note the coordinator kept here\n" * 50)
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert str(path) in caught.value.text("nl") and "databank" in caught.value.text("nl")


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='version'")
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert "99" in caught.value.text("en")


def test_a_stopped_run_that_a_later_run_came_after_is_not_resumed(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.db")
    store.begin(_info("r1", T0), "g", ["a", "b"])  # stopped
    later = T0 + dt.timedelta(hours=1)
    store.begin(_info("r2", later), "g", ["a", "b"])  # a new run, finished
    store.finish(_info("r2", later).model_copy(update={"finished": later}))
    assert store.unfinished("g") is None
    store.begin(_info("r3", T0 + dt.timedelta(hours=2)), "g", ["a", "b"])  # stopped again
    found = store.unfinished("g")
    assert found is not None and found.id == "r3"


def test_every_recent_result_of_a_school_comes_latest_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.db")
    for i in range(3):
        run_id, scanned = f"r{i}", T0 + dt.timedelta(hours=i)
        store.begin(_info(run_id, scanned), "g", ["a"])
        store.record(run_id, "a", _row("a", i, scanned), f'{{"run": {i}}}')
    found = list(store.recent("g", "a", T0 + dt.timedelta(minutes=30)))
    assert [e.run_id for e in found] == ["r2", "r1"]
    assert store.earlier("g", "a", T0) is not None
    assert store.earlier("g", "a", T0).run_id == "r2"  # type: ignore[union-attr]


def test_an_error_of_the_machine_is_said_in_both_languages_without_its_path() -> None:
    from cyberstd.group.job import error_text

    said = error_text(PermissionError(13, "Permission denied", "/home/jan/scholen/a/school.yaml"))
    assert said.nl.startswith("de scan van deze school liep op een fout: ")
    assert said.en.startswith("the scan of this school ended in an error: ")
    assert "school.yaml" in said.en and "/home/jan" not in said.en + said.nl

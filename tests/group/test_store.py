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

"""The embedded database of group runs (SQLite): runs, each school's state and results, history.

One file, no server. A group run writes each school's outcome as soon as it has it (so memory
stays flat in the number of schools and nothing is lost when the run stops), and reads it back
to resume a stopped run, to skip schools scanned recently (`--since`), to render the roll-up
and to show the trend against earlier runs. Only the process that runs the group writes; the
workers (threads, or Dask workers on other machines) hand their outcomes back to it.

Each school's results.json is kept, compressed, beside its roll-up row: the results of a school
skipped with `--since` come from there, whichever output folder the earlier run wrote to.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from cyberstd.errors import CyberstdError
from cyberstd.groupresults import GroupRunInfo, RunSummary, ScanState, SchoolRow
from cyberstd.messages import msg

STORE_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    info TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_group ON runs (group_id, started);
CREATE TABLE IF NOT EXISTS schools (
    run_id TEXT NOT NULL REFERENCES runs (id),
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    scanned TEXT,
    row TEXT,
    results BLOB,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX IF NOT EXISTS schools_done ON schools (key, state, scanned);
"""


class StoreError(CyberstdError):
    """The database cannot be used (not ours, a newer version, damaged)."""


@dataclass(frozen=True)
class Earlier:
    """A school's results from an earlier run, reused by `--since`."""

    run_id: str
    scanned: dt.datetime
    results_json: str
    row: SchoolRow


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


class Store:
    """One SQLite database of group runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            found = self.db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(msg("store.unusable", path=str(path), why=str(exc))) from None
        if found is None:
            self.db.execute("INSERT INTO meta VALUES ('version', ?)", (str(STORE_VERSION),))
        elif found[0] != str(STORE_VERSION):
            said = msg("store.version", path=str(path), found=found[0], reads=STORE_VERSION)
            raise StoreError(said)

    def close(self) -> None:
        self.db.close()

    # --- runs ------------------------------------------------------------------------------

    def begin(self, info: GroupRunInfo, group_id: str, keys: list[str]) -> None:
        """A new run, with every school pending."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT INTO runs (id, group_id, started, info) VALUES (?, ?, ?, ?)",
                (info.id, group_id, _iso(info.started), info.model_dump_json()),
            )
            self.db.executemany(
                "INSERT INTO schools (run_id, key, position, state) VALUES (?, ?, ?, ?)",
                [(info.id, key, i, ScanState.PENDING.value) for i, key in enumerate(keys)],
            )

    def unfinished(self, group_id: str) -> GroupRunInfo | None:
        """The latest run of the group when it did not finish, to resume. A stopped run that a
        later run came after is never resumed: its schools were scanned again since."""
        found = self.db.execute(
            "SELECT info, finished FROM runs WHERE group_id=? ORDER BY started DESC, rowid DESC "
            "LIMIT 1",
            (group_id,),
        ).fetchone()
        if found is None or found[1] is not None:
            return None
        return GroupRunInfo.model_validate_json(found[0])

    def run(self, run_id: str) -> tuple[str, GroupRunInfo] | None:
        found = self.db.execute("SELECT group_id, info FROM runs WHERE id=?", (run_id,)).fetchone()
        return (found[0], GroupRunInfo.model_validate_json(found[1])) if found else None

    def finish(self, info: GroupRunInfo) -> None:
        assert info.finished is not None
        self.db.execute(
            "UPDATE runs SET finished=?, info=? WHERE id=?",
            (_iso(info.finished), info.model_dump_json(), info.id),
        )

    # --- schools ---------------------------------------------------------------------------

    def pending(self, run_id: str) -> list[str]:
        """The schools of a run still to scan, in the order of the group."""
        rows = self.db.execute(
            "SELECT key FROM schools WHERE run_id=? AND state=? ORDER BY position",
            (run_id, ScanState.PENDING.value),
        )
        return [key for (key,) in rows]

    def keys(self, run_id: str) -> list[str]:
        rows = self.db.execute(
            "SELECT key FROM schools WHERE run_id=? ORDER BY position", (run_id,)
        )
        return [key for (key,) in rows]

    def record(
        self,
        run_id: str,
        key: str,
        row: SchoolRow,
        results_json: str | None = None,
    ) -> None:
        """A school's outcome in this run (written at once: a stopped run loses nothing)."""
        blob = zlib.compress(results_json.encode(), 6) if results_json is not None else None
        scanned = _iso(row.scanned) if row.scanned is not None else None
        self.db.execute(
            "UPDATE schools SET state=?, attempts=?, scanned=?, row=?, results=? "
            "WHERE run_id=? AND key=?",
            (row.state.value, row.attempts, scanned, row.model_dump_json(), blob, run_id, key),
        )

    def rows(self, run_id: str) -> Iterator[tuple[str, SchoolRow | None]]:
        """Every school of a run in the group's order, with its row once it has one."""
        found = self.db.execute(
            "SELECT key, row FROM schools WHERE run_id=? ORDER BY position", (run_id,)
        )
        for key, row in found:
            yield key, SchoolRow.model_validate_json(row) if row else None

    def results_json(self, run_id: str, key: str) -> str | None:
        found = self.db.execute(
            "SELECT results FROM schools WHERE run_id=? AND key=?", (run_id, key)
        ).fetchone()
        return zlib.decompress(found[0]).decode() if found and found[0] is not None else None

    def earlier(self, group_id: str, key: str, since: dt.datetime) -> Earlier | None:
        """The latest results of a school scanned at or after `since` in a run of the group."""
        return next(self.recent(group_id, key, since), None)

    def recent(self, group_id: str, key: str, since: dt.datetime) -> Generator[Earlier, None, None]:
        """Every result of a school scanned at or after `since` in a run of the group, the
        latest first (read one at a time)."""
        found = self.db.execute(
            "SELECT s.run_id, s.scanned, s.results, s.row FROM schools s JOIN runs r ON r.id=s.run_id "
            "WHERE r.group_id=? AND s.key=? AND s.state=? AND s.scanned>=? AND s.results IS NOT NULL "
            "ORDER BY s.scanned DESC",
            (group_id, key, ScanState.DONE.value, _iso(since)),
        )
        for run_id, scanned, results, row in found:
            yield Earlier(
                run_id,
                dt.datetime.fromisoformat(scanned),
                zlib.decompress(results).decode(),
                SchoolRow.model_validate_json(row),
            )

    def previous_rows(self, group_id: str, before: dt.datetime) -> dict[str, SchoolRow]:
        """Each school's row in the latest finished run of the group that started before
        `before`, for the trend."""
        found = self.db.execute(
            "SELECT id FROM runs WHERE group_id=? AND finished IS NOT NULL AND started<? "
            "ORDER BY started DESC LIMIT 1",
            (group_id, _iso(before)),
        ).fetchone()
        if found is None:
            return {}
        return {key: row for key, row in self.rows(found[0]) if row is not None}

    def history(self, group_id: str, before: dt.datetime, limit: int = 12) -> list[RunSummary]:
        """The finished runs of the group before `before`, oldest first (at most `limit`)."""
        runs = self.db.execute(
            "SELECT id, finished FROM runs WHERE group_id=? AND finished IS NOT NULL AND started<? "
            "ORDER BY started DESC LIMIT ?",
            (group_id, _iso(before), limit),
        ).fetchall()
        out = []
        for run_id, finished in reversed(runs):
            levels: dict[str, int] = {}
            scores: list[float] = []
            total = 0
            for _, row in self.rows(run_id):
                total += 1
                if row is None or row.level_reached is None:
                    continue
                levels[str(row.level_reached)] = levels.get(str(row.level_reached), 0) + 1
                if row.score is not None:
                    scores.append(row.score)
            out.append(
                RunSummary(
                    id=run_id,
                    finished=dt.datetime.fromisoformat(finished),
                    schools=total,
                    assessed=sum(levels.values()),
                    levels=levels,
                    mean_score=round(sum(scores) / len(scores), 1) if scores else None,
                )
            )
        return out

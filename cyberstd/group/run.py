"""A group run: hand the schools out to an executor, keep each school's deadline and retries,
stream every outcome to the database and the output folder at once, and write the roll-up.

A run is resumable: the database knows which schools are still pending, and a run started
again for the same group (`--resume`) scans only those. With `since`, a school scanned that
recently in an earlier run of the group is not scanned again; that run's results are used.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyberstd import __version__
from cyberstd.catalog import Catalog
from cyberstd.clock import Clock
from cyberstd.errors import ProbeError
from cyberstd.group.executors import Executor, Running
from cyberstd.group.job import (
    GroupOptions,
    Outcome,
    SchoolJob,
    error_text,
    pack,
    render_reports,
)
from cyberstd.groupfile import Group, Member, perimeter_school
from cyberstd.groupresults import (
    GroupRef,
    GroupResults,
    GroupRunInfo,
    LocalText,
    ScanState,
    SchoolRow,
)
from cyberstd.messages import msg
from cyberstd.net.resolver import Resolver
from cyberstd.outputs import write_atomic
from cyberstd.results import Results, Tool
from cyberstd.rollup.rows import control_infos, failed_check_infos, school_row, unscanned_row
from cyberstd.store import Earlier, Store

SCHOOLS_DIR = "schools"
FRAMEWORK = "grip"


@dataclass(frozen=True)
class RunSettings:
    options: GroupOptions
    retries: int = 1  # attempts after the first, for a school whose scan failed or timed out
    deadline: float = 900.0  # seconds one attempt at one school may take
    since: dt.timedelta | None = None
    resume: bool = False
    ship_folders: bool = False  # send school folders as files (an executor on other machines)


# (schools finished, schools in all, the school, how its scan went, why it failed if it did)
Progress = Callable[[int, int, str, ScanState, LocalText | None], None]


@dataclass
class _Pending:
    member: Member
    attempts: int = 0


class GroupRun:
    """One run of one group into one output folder."""

    def __init__(
        self,
        group: Group,
        catalog: Catalog,
        store: Store,
        out: Path,
        settings: RunSettings,
        clock: Clock,
    ) -> None:
        self.group, self.catalog, self.store, self.out = group, catalog, store, out
        self.settings, self.clock = settings, clock
        self.members = {m.key: m for m in group.members}
        self.previous: dict[str, SchoolRow] = {}
        self.resumed = False
        # a stopped run of the group that was not resumed: other schools or other settings
        self.set_aside: GroupRunInfo | None = None
        self.info = self._open()
        self.busy: set[str] = set()
        self.addresses: dict[str, frozenset[str]] = {}
        given = group.file.defaults.resolver
        scope = settings.options.run_scope or self.info.id
        self.resolver = (
            Resolver(str(given.address), given.port, 5.0, scope)
            if given is not None
            else Resolver(timeout=5.0, cache_scope=scope)
        )

    # --- the run in the database ---------------------------------------------------------

    def _open(self) -> GroupRunInfo:
        group_id = self.group.file.group.id
        profile = self.settings.options.profile or self._profile()
        if self.settings.resume:
            earlier = self.store.unfinished(group_id)
            if earlier is not None and self._resumable(earlier, profile):
                # judged as of the same moment as the schools scanned before the stop
                if earlier.as_of is not None:
                    self.clock = Clock.at(earlier.as_of, started=earlier.started)
                else:
                    self.clock = Clock(earlier.started, started_at=earlier.started)
                self.resumed = True
                return earlier
            self.set_aside = earlier
        info = GroupRunInfo(
            id=f"{self.clock.started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
            started=self.clock.started,
            mode=self.group.mode,
            profile=profile,
            framework=FRAMEWORK,
            as_of=self.clock.today if self.clock.as_of else None,
            authorization=self.group.authorization,
        )
        self.store.begin(info, group_id, list(self.members))
        return info

    def _resumable(self, earlier: GroupRunInfo, profile: str) -> bool:
        """A stopped run goes on only with the same schools and the same settings: its schools
        and the rest must be judged alike (the same profile; the same day, when one is given)."""
        if set(self.store.keys(earlier.id)) != set(self.members) or earlier.profile != profile:
            return False
        return not self.clock.as_of or earlier.as_of == self.clock.today

    def _profile(self) -> str:
        if self.group.file.perimeter is not None:
            return "perimeter"
        return self.group.file.defaults.profile or "-"

    # --- jobs ------------------------------------------------------------------------------

    def job(self, member: Member) -> SchoolJob:
        file = self.group.file
        defaults = file.defaults.model_dump(mode="json", exclude_none=True)
        bundle = self.group.ca_bundle()
        ca = bundle.read_bytes() if bundle is not None else None
        if file.perimeter is not None:
            school = perimeter_school(
                member, file.defaults.resolver, file.perimeter.scope, file.defaults.timeout
            )
            return SchoolJob(member.key, school=school.model_dump(mode="json"), ca_bundle=ca)
        scope = [a.model_dump(mode="json") for a in file.scope]
        shared = tuple(
            (Path(e.path).as_posix(), e.kind, (self.group.dir / e.path).read_bytes())
            for e in file.exports
        )
        assert member.folder is not None
        common: dict[str, Any] = {"defaults": defaults, "scope": scope, "ca_bundle": ca}
        if self.settings.ship_folders:
            return SchoolJob(member.key, files=pack(member.folder), shared=shared, **common)
        return SchoolJob(member.key, folder=str(member.folder), shared=shared, **common)

    # --- outcomes --------------------------------------------------------------------------

    def _paths(self, key: str) -> tuple[Path, str, str | None]:
        folder = self.out / SCHOOLS_DIR / key
        results = f"{SCHOOLS_DIR}/{key}/results.json"
        fmt = self.settings.options.formats
        report = (
            f"{SCHOOLS_DIR}/{key}/report.{self.settings.options.lang}.html"
            if "html" in fmt
            else None
        )
        return folder, results, report

    def _write_school(self, key: str, text: str, reports: dict[str, bytes]) -> None:
        folder, _, _ = self._paths(key)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "results.json", text.encode("utf-8"))
        for name, data in reports.items():
            write_atomic(folder / name, data)

    def _with_previous(self, row: SchoolRow) -> SchoolRow:
        before = self.previous.get(row.id)
        if before is None:
            return row
        return row.model_copy(
            update={"previous_level": before.level_reached, "previous_score": before.score}
        )

    def _results_row(
        self,
        key: str,
        text: str,
        reports: dict[str, bytes],
        state: ScanState,
        attempts: int,
        run_id: str,
        institution_number: str | None = None,
    ) -> SchoolRow:
        _, results_path, report_path = self._paths(key)
        self._write_school(key, text, reports)
        results = Results.model_validate_json(text)
        row = school_row(
            results,
            state=state,
            attempts=attempts,
            results_path=results_path,
            report_path=report_path,
            results_run=run_id,
            institution_number=institution_number
            or (self.members[key].institution_number if key in self.members else None),
        )
        return self._with_previous(row.model_copy(update={"id": key}))

    def _failed_row(
        self, member: Member, state: ScanState, attempts: int, error: LocalText | None
    ) -> SchoolRow:
        row = unscanned_row(
            member.key,
            member.name,
            state,
            attempts=attempts,
            error=error,
            institution_number=member.institution_number,
        )
        return self._with_previous(row)

    def _recent(self, member: Member) -> bool:
        """Use an earlier run's results when the school was scanned within `since`."""
        if self.settings.since is None:
            return False
        group_id = self.group.file.group.id
        since = self.clock.started - self.settings.since
        found: tuple[Earlier, Results] | None = None
        candidates = self.store.recent(group_id, member.key, since)
        try:
            for earlier in candidates:
                if earlier.run_id == self.info.id:
                    continue
                results = Results.model_validate_json(earlier.results_json)
                if self._judged_alike(earlier.run_id, results):
                    found = earlier, results
                    break
        finally:
            candidates.close()  # the read ends before the reused row is written
        if found is None:
            return False
        self._reuse(member, *found)
        return True

    def _reuse(self, member: Member, earlier: Earlier, results: Results) -> None:
        reports = render_reports(results, self.settings.options)
        row = self._results_row(
            member.key,
            earlier.results_json,
            reports,
            ScanState.RECENT,
            0,
            earlier.run_id,
            earlier.row.institution_number,
        )
        row = row.model_copy(update={"scanned": earlier.scanned})
        self.store.record(self.info.id, member.key, row)

    def _judged_alike(self, run_id: str, results: Results) -> bool:
        """Whether a school's results of an earlier run may stand in this run: judged with the
        same profile and as of the same day (or both as of the day they ran)."""
        if results.run.as_of != self.info.as_of:
            return False
        given = self.settings.options.profile
        if given is not None and results.run.profile != given:
            return False
        found = self.store.run(run_id)
        return found is not None and found[1].profile == self.info.profile

    # --- politeness: never two schools on one host at once ---------------------------------

    def _hosts(self, member: Member) -> frozenset[str]:
        """The addresses of a perimeter school's website (looked up once, through the run's
        shared DNS cache); schools on the same address wait for each other."""
        if not member.domains:
            return frozenset()
        if member.key not in self.addresses:
            try:
                found = self.resolver.addresses(f"www.{member.domains[0]}")
            except ProbeError:
                found = []  # the scan itself will say why
            self.addresses[member.key] = frozenset(found)
        return self.addresses[member.key]

    def _next_ready(self, queue: deque[_Pending]) -> _Pending | None:
        """The first school in the queue whose website shares no address with a school being
        scanned, taken out of the queue; None when there is none."""
        for _ in range(len(queue)):
            pending = queue.popleft()
            if not (self._hosts(pending.member) & self.busy):
                return pending
            queue.append(pending)
        return None

    # --- the loop --------------------------------------------------------------------------

    def _restore(self) -> None:
        """A resumed run's schools scanned before the stop, written into this output folder
        when it lacks them (a run started again with another --out): every link works."""
        for key, row in self.store.rows(self.info.id):
            if row is None or row.results_path is None or (self.out / row.results_path).exists():
                continue
            text = self.store.results_json(self.info.id, key)
            if text is None and row.results_run is not None:
                text = self.store.results_json(row.results_run, key)  # reused with --since
            if text is None:
                continue
            reports = render_reports(Results.model_validate_json(text), self.settings.options)
            self._write_school(key, text, reports)

    def run(self, executor: Executor, progress: Progress | None = None) -> GroupResults:
        group_id = self.group.file.group.id
        self.previous = self.store.previous_rows(group_id, self.info.started)
        if self.resumed:
            self._restore()
        keys = self.store.pending(self.info.id)
        total = len(self.members)
        finished = total - len(keys)
        queue = deque(_Pending(self.members[k]) for k in keys)
        running: dict[int, tuple[Running, _Pending]] = {}

        def settle(pending: _Pending, row: SchoolRow, text: str | None = None) -> None:
            nonlocal finished
            self.store.record(self.info.id, pending.member.key, row, text)
            finished += 1
            if progress is not None:
                progress(finished, total, pending.member.key, row.state, row.error)

        def again_or(pending: _Pending, state: ScanState, error: LocalText | None) -> None:
            if pending.attempts <= self.settings.retries:
                queue.append(pending)
            else:
                settle(pending, self._failed_row(pending.member, state, pending.attempts, error))

        while queue or running:
            while queue and len(running) < executor.slots:
                pending = self._next_ready(queue)
                if pending is None:
                    break  # every school left shares a host with one being scanned
                if pending.attempts == 0 and self._recent(pending.member):
                    finished += 1
                    if progress is not None:
                        progress(finished, total, pending.member.key, ScanState.RECENT, None)
                    continue
                pending.attempts += 1
                try:
                    job = self.job(pending.member)
                except (OSError, ValueError) as exc:
                    why = error_text(exc)
                    row = self._failed_row(pending.member, ScanState.FAILED, pending.attempts, why)
                    settle(pending, row)
                    continue
                handle = executor.submit(job)
                running[id(handle)] = (handle, pending)
                self.busy |= self._hosts(pending.member)
            # only with schools in flight: nothing would come to end the wait otherwise
            for handle, outcome in executor.done(0.2) if running else []:
                _, pending = running.pop(id(handle))
                self.busy -= self._hosts(pending.member)
                self._settle(pending, outcome, settle, again_or)
            now = time.monotonic()
            for key, (handle, pending) in list(running.items()):
                if now - handle.started > self.settings.deadline:
                    executor.abandon(handle)
                    del running[key]
                    self.busy -= self._hosts(pending.member)
                    said = msg("group.deadline", seconds=f"{self.settings.deadline:.0f}")
                    again_or(
                        pending,
                        ScanState.TIMED_OUT,
                        LocalText(nl=said.render("nl"), en=said.render("en")),
                    )
        self.info = self.info.model_copy(
            update={"finished": self.clock.finished(), "executor": executor.name}
        )
        self.store.finish(self.info)
        return self.rollup()

    def _settle(
        self,
        pending: _Pending,
        outcome: Outcome | BaseException,
        settle: Callable[..., None],
        again_or: Callable[[_Pending, ScanState, LocalText | None], None],
    ) -> None:
        if isinstance(outcome, BaseException):
            again_or(pending, ScanState.FAILED, error_text(outcome))
        elif outcome.results_json is not None:
            row = self._results_row(
                pending.member.key,
                outcome.results_json,
                outcome.reports,
                ScanState.DONE,
                pending.attempts,
                self.info.id,
                outcome.institution_number,
            )
            row = row.model_copy(update={"scanned": self.clock.finished()})
            settle(pending, row, outcome.results_json)
        elif outcome.invalid:
            settle(
                pending,
                self._failed_row(pending.member, ScanState.FAILED, pending.attempts, outcome.error),
            )
        else:
            again_or(pending, ScanState.FAILED, outcome.error)

    # --- the roll-up -----------------------------------------------------------------------

    def rollup(self) -> GroupResults:
        """The roll-up of this run as the database holds it (also of a stopped run)."""
        rows = []
        for key, row in self.store.rows(self.info.id):
            if row is None:
                member = self.members.get(key)
                name = member.name if member is not None else key
                row = unscanned_row(key, name, ScanState.PENDING)
            rows.append(row)
        group_id = self.group.file.group.id
        return GroupResults(
            tool=Tool(version=__version__),
            run=self.info,
            group=GroupRef(id=group_id, name=self.group.file.group.name),
            controls=control_infos(self.catalog.framework(FRAMEWORK)),
            schools=rows,
            checks=failed_check_infos(rows, self.catalog),
            history=self.store.history(group_id, self.info.started),
        )

"""`cyberstd group scan` over school folders: every school scanned as `cyberstd scan` would,
one broken school never stopping the rest, deadlines and retries, resume, --since, Dask."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from cyberstd.clock import Clock
from cyberstd.errors import InputError
from cyberstd.group.executors import LocalExecutor
from cyberstd.group.job import GroupOptions, Outcome, SchoolJob, scan_school
from cyberstd.group.run import GroupRun, RunSettings
from cyberstd.groupfile import load_group
from cyberstd.groupresults import GroupResults, ScanState
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.results import Results
from cyberstd.store import Store
from tests.conftest import REPO, real_timers

DEMO = REPO / "examples" / "demo-school"
OPTIONS = GroupOptions(profile="ci-baseline", workers=4, catalog_root=str(REPO))
STARTED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _clock(hours: float = 0) -> Clock:
    return Clock.at(DEMO_DAY, started=STARTED + dt.timedelta(hours=hours))


@pytest.fixture
def group_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "scholengroep"
    folder.mkdir()
    (folder / "group.yaml").write_text("group:\n  id: sg-test\n  name: Scholengroep Test\n")
    for name in ("atheneum", "basisschool", "college"):
        shutil.copytree(DEMO, folder / name)
        school = folder / name / "school.yaml"
        school.write_text(school.read_text().replace("id: demo-school", f"id: {name}"))
    return folder


def _run(
    group_dir: Path,
    out: Path,
    clock: Clock,
    *,
    scan=scan_school,  # type: ignore[no-untyped-def]
    progress=None,  # type: ignore[no-untyped-def]
    options: GroupOptions = OPTIONS,
    **settings: object,
) -> tuple[GroupRun, GroupResults]:
    catalog, problems = load_catalog(REPO)
    assert problems == []
    store = Store(group_dir / "cyberstd.db")
    try:
        run = GroupRun(
            load_group(group_dir), catalog, store, out, RunSettings(options, **settings), clock
        )  # type: ignore[arg-type]
        executor = LocalExecutor(2, options, run.clock.now, run.clock.as_of, scan=scan)
        return run, run.run(executor, progress)
    finally:
        store.close()


def _verdicts(out: Path, key: str) -> dict[str, str]:
    results = Results.model_validate_json((out / "schools" / key / "results.json").read_text())
    return {f.id: f.status.value for f in results.findings} | {
        c.id: c.status.value for c in results.controls
    }


def test_every_school_is_scanned_as_a_single_scan_would(group_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _, results = _run(group_dir, out, _clock())
    assert [s.id for s in results.schools] == ["atheneum", "basisschool", "college"]
    assert all(s.state is ScanState.DONE and s.attempts == 1 for s in results.schools)
    # the same school scanned on its own gives the same verdicts
    alone = tmp_path / "alone"
    args = [
        "--root",
        str(REPO),
        "scan",
        str(group_dir / "college"),
        "--as-of",
        DEMO_DAY.isoformat(),
    ]
    result = CliRunner().invoke(
        main, [*args, "--profile", "ci-baseline", "--out", str(alone), "-q"]
    )
    assert result.exit_code in (0, 1), result.output
    single = Results.model_validate_json((alone / "results.json").read_text())
    assert _verdicts(out, "college") == (
        {f.id: f.status.value for f in single.findings}
        | {c.id: c.status.value for c in single.controls}
    )
    row = next(s for s in results.schools if s.id == "college")
    assert row.level_reached == single.summary.level_reached and row.score == single.summary.score
    assert row.controls == {c.id: c.status for c in single.controls}
    assert row.results_path == "schools/college/results.json"
    assert (out / row.results_path).is_file()
    assert row.report_path is not None and (out / row.report_path).read_text().startswith(
        "<!DOCTYPE html>"
    )


def test_a_broken_school_fails_alone_with_its_reason(group_dir: Path, tmp_path: Path) -> None:
    (group_dir / "basisschool" / "school.yaml").write_text(
        "school:\n  id: basisschool\n  naam: fout\n"
    )
    _, results = _run(group_dir, tmp_path / "out", _clock())
    states = {s.id: s.state for s in results.schools}
    assert states == {
        "atheneum": ScanState.DONE,
        "basisschool": ScanState.FAILED,
        "college": ScanState.DONE,
    }
    broken = next(s for s in results.schools if s.id == "basisschool")
    assert broken.attempts == 1  # a fault in the school's files: no retry
    assert broken.error is not None
    assert broken.error.en.startswith("basisschool/school.yaml:2:3:")  # never a machine's path
    assert "basisschool/school.yaml:3:3:" in broken.error.en
    assert "'naam'" in broken.error.nl and "fout[" in broken.error.nl
    assert broken.results_path is None and broken.level_reached is None


@real_timers  # a deadline is time passing on threads
def test_a_hanging_school_runs_out_of_time_and_a_flaky_one_is_retried(
    group_dir: Path, tmp_path: Path
) -> None:
    calls: dict[str, int] = {}
    release = threading.Event()

    def scan(job: SchoolJob, options: GroupOptions, now: dt.datetime, as_of: bool) -> Outcome:
        calls[job.key] = calls.get(job.key, 0) + 1
        if job.key == "atheneum":
            release.wait(30)  # hangs past the deadline
        if job.key == "basisschool" and calls[job.key] == 1:
            raise RuntimeError("connection pool broke")
        return scan_school(job, options, now, as_of)

    try:
        _, results = _run(group_dir, tmp_path / "out", _clock(), scan=scan, deadline=1.0, retries=1)
    finally:
        release.set()
    rows = {s.id: s for s in results.schools}
    assert rows["atheneum"].state is ScanState.TIMED_OUT and rows["atheneum"].attempts == 2
    assert rows["atheneum"].error is not None and "1 s" in rows["atheneum"].error.en
    assert rows["basisschool"].state is ScanState.DONE and rows["basisschool"].attempts == 2
    assert rows["college"].state is ScanState.DONE and rows["college"].attempts == 1


class _Stop(Exception):
    pass


def test_a_stopped_run_resumes_where_it_stopped(group_dir: Path, tmp_path: Path) -> None:
    full_out = tmp_path / "full"
    _, full = _run(group_dir, full_out, _clock())
    (group_dir / "cyberstd.db").unlink()

    out = tmp_path / "out"
    seen: list[str] = []

    def stop_after_one(done: int, total: int, key: str, state: ScanState, error: object) -> None:
        seen.append(key)
        raise _Stop

    with pytest.raises(_Stop):
        _run(group_dir, out, _clock(), progress=stop_after_one)
    assert len(seen) == 1
    # started again later: the same run goes on, judged as of the same moment
    run, resumed = _run(group_dir, out, _clock(hours=3), resume=True)
    assert run.resumed
    assert all(s.state is ScanState.DONE for s in resumed.schools)
    assert [s.attempts for s in resumed.schools if s.id == seen[0]] == [1]
    for school in ("atheneum", "basisschool", "college"):
        assert _verdicts(out, school) == _verdicts(full_out, school)
    assert {s.id: s.controls for s in resumed.schools} == {s.id: s.controls for s in full.schools}


def test_since_reuses_recent_results_and_rescans_old_ones(group_dir: Path, tmp_path: Path) -> None:
    _, first = _run(group_dir, tmp_path / "one", _clock())
    _, second = _run(group_dir, tmp_path / "two", _clock(hours=2), since=dt.timedelta(hours=24))
    assert all(s.state is ScanState.RECENT for s in second.schools)
    assert {s.results_run for s in second.schools} == {first.run.id}
    # the reused results are in the new output folder too, so every link works
    assert _verdicts(tmp_path / "two", "college") == _verdicts(tmp_path / "one", "college")
    assert second.history and second.history[0].id == first.run.id
    assert all(s.previous_level == s.level_reached for s in second.schools)
    _, third = _run(group_dir, tmp_path / "three", _clock(hours=50), since=dt.timedelta(hours=24))
    assert all(s.state is ScanState.DONE for s in third.schools)


def test_the_command_writes_the_roll_up_and_exits_by_how_the_run_went(
    group_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["--root", str(REPO), "group", "scan", str(group_dir), "--out", str(out)]
    args += ["--profile", "ci-baseline", "--as-of", DEMO_DAY.isoformat(), "--lang", "en"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "group-results.json").read_text())
    assert [s["state"] for s in doc["schools"]] == ["done"] * 3
    # the failed checks come with their titles, for the dashboard's list of gaps
    failed = sorted({c for s in doc["schools"] for c in s["failed_checks"]})
    assert failed and [c["id"] for c in doc["checks"]] == failed
    assert all(c["title"]["nl"] and c["title"]["nl"] != c["id"] for c in doc["checks"])
    assert (out / "group.en.html").is_file() and (out / "group.en.csv").is_file()
    assert "3/3" in result.output

    (group_dir / "college" / "school.yaml").write_text("kapot: [\n")
    result = CliRunner().invoke(main, [*args, "--new-run", "-q"])
    assert result.exit_code == 3, result.output  # incomplete: one school has no results
    assert result.output == ""
    # without -q the console says why the school failed, not only that it did; the CSV for
    # programs other than Excel has ',' and no byte order mark
    result = CliRunner().invoke(main, [*args, "--new-run", "--csv-sep", ","])
    assert result.exit_code == 3
    (line,) = [x for x in result.output.splitlines() if " college: " in x]
    assert "failed (college/school.yaml:2:1: error[yaml-syntax]" in line, line
    table = (out / "group.en.csv").read_bytes()
    assert not table.startswith(b"\xef\xbb\xbf") and table.count(b",") > table.count(b";")


def test_a_bad_group_yaml_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "group.yaml").write_text("group:\n  id: sg\n  naam: x\n")
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "group", "scan", str(tmp_path), "--lang", "en"]
    )
    assert result.exit_code == 2
    assert "group.yaml:3" in result.output and "Traceback" not in result.output


def test_since_takes_only_a_span(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["group", "scan", str(tmp_path), "--since", "gisteren"])
    assert result.exit_code == 2 and "'gisteren'" in result.output


def test_the_dask_executor_gives_the_same_verdicts(group_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from cyberstd.group.executors import DaskExecutor

    _, local = _run(group_dir, tmp_path / "local", _clock())
    catalog, _ = load_catalog(REPO)
    store = Store(tmp_path / "dask.db")
    try:
        clock = _clock()
        run = GroupRun(
            load_group(group_dir),
            catalog,
            store,
            tmp_path / "dask",
            RunSettings(OPTIONS, ship_folders=True),
            clock,
        )
        executor = DaskExecutor(None, OPTIONS, clock.now, clock.as_of, workers=2)
        try:
            assert executor.client.cluster is not None  # worker processes of a LocalCluster
            results = run.run(executor)
        finally:
            executor.close()
    finally:
        store.close()
    assert results.run.executor == "dask"
    assert [s.state for s in results.schools] == [ScanState.DONE] * 3
    for school in ("atheneum", "basisschool", "college"):
        assert _verdicts(tmp_path / "dask", school) == _verdicts(tmp_path / "local", school)
    assert {s.id: s.controls for s in results.schools} == {s.id: s.controls for s in local.schools}


def test_shared_exports_reach_the_schools_that_lack_their_own(
    group_dir: Path, tmp_path: Path
) -> None:
    shared = group_dir / "gedeeld" / "m365"
    shared.mkdir(parents=True)
    shutil.copyfile(DEMO / "exports" / "m365" / "users.json", shared / "users.json")
    (group_dir / "group.yaml").write_text(
        "group:\n  id: sg-test\n  name: Scholengroep Test\n"
        "exports:\n  - path: gedeeld/m365/users.json\n    kind: entra-users\n"
    )
    own = "  - path: exports/m365/users.json\n    kind: entra-users\n"
    school = group_dir / "basisschool" / "school.yaml"
    assert own in school.read_text()
    school.write_text(school.read_text().replace(own, ""))
    out = tmp_path / "out"
    _, results = _run(group_dir, out, _clock())
    assert all(s.state is ScanState.DONE for s in results.schools)

    def inputs(key: str) -> dict[str, str]:
        text = (out / "schools" / key / "results.json").read_text()
        return Results.model_validate_json(text).run.inputs

    assert "group:gedeeld/m365/users.json" in inputs("basisschool")
    assert "exports/m365/users.json" not in inputs("basisschool")
    # a school with its own export of that kind keeps it
    assert "group:gedeeld/m365/users.json" not in inputs("college")

    def by_check(key: str) -> dict[str, str]:
        return {k.split("@")[0]: v for k, v in _verdicts(out, key).items()}

    assert by_check("basisschool") == by_check("college")
    text = (out / "schools" / "basisschool" / "results.json").read_text()
    assert "group:gedeeld/m365/users.json" in text and str(tmp_path) not in text


def test_a_shared_export_must_lie_in_the_group_folder(group_dir: Path) -> None:
    (group_dir / "group.yaml").write_text(
        "group:\n  id: sg\n  name: SG\nexports:\n"
        "  - path: ../elders.json\n    kind: entra-users\n"
        "  - path: weg.json\n    kind: entra-users\n"
    )
    with pytest.raises(InputError) as caught:
        load_group(group_dir)
    problems = [p.render("en") for p in caught.value.problems]
    assert "group.yaml:5:" in problems[0] and "'../elders.json'" in problems[0]
    assert "group.yaml:7:" in problems[1] and "'weg.json'" in problems[1]


def _profiles(out: Path) -> set[tuple[str, str | None]]:
    found = set()
    for path in (out / "schools").glob("*/results.json"):
        results = Results.model_validate_json(path.read_text())
        found.add((results.run.profile, str(results.run.as_of) if results.run.as_of else None))
    return found


def test_a_school_folder_s_institution_number_is_in_its_row(
    group_dir: Path, tmp_path: Path
) -> None:
    wanted = {"atheneum": "100001", "basisschool": "100002", "college": "100003"}
    for name, number in wanted.items():
        school = group_dir / name / "school.yaml"
        school.write_text(school.read_text().replace('"999001"', f'"{number}"'))
    _, first = _run(group_dir, tmp_path / "one", _clock())
    assert {s.id: s.institution_number for s in first.schools} == wanted
    _, again = _run(group_dir, tmp_path / "two", _clock(hours=1), since=dt.timedelta(hours=24))
    assert all(s.state is ScanState.RECENT for s in again.schools)
    assert {s.id: s.institution_number for s in again.schools} == wanted


def test_since_reuses_only_results_judged_alike(group_dir: Path, tmp_path: Path) -> None:
    day = _clock().today
    _, first = _run(group_dir, tmp_path / "one", _clock())
    # judged as of another day: scanned again, not the results of the day before
    other_day = Clock.at(day - dt.timedelta(days=1), started=STARTED + dt.timedelta(hours=1))
    _, second = _run(group_dir, tmp_path / "two", other_day, since=dt.timedelta(hours=24))
    assert all(s.state is ScanState.DONE for s in second.schools)
    assert _profiles(tmp_path / "two") == {("ci-baseline", str(other_day.today))}
    # with another profile: scanned again with it
    basis = dataclasses.replace(OPTIONS, profile="grip-basis-1")
    _, third = _run(
        group_dir, tmp_path / "three", _clock(hours=2), since=dt.timedelta(hours=24), options=basis
    )
    assert all(s.state is ScanState.DONE for s in third.schools)
    assert _profiles(tmp_path / "three") == {("grip-basis-1", str(day))}
    # as the first run again: its results, not the later ones judged otherwise
    _, fourth = _run(group_dir, tmp_path / "four", _clock(hours=3), since=dt.timedelta(hours=24))
    assert all(s.state is ScanState.RECENT for s in fourth.schools)
    assert {s.results_run for s in fourth.schools} == {first.run.id}
    assert _profiles(tmp_path / "four") == {("ci-baseline", str(day))}


def _stop_after_one(group_dir: Path, out: Path) -> str:
    def stop(done: int, total: int, key: str, state: ScanState, error: object) -> None:
        raise _Stop

    with pytest.raises(_Stop):
        _run(group_dir, out, _clock(), progress=stop)
    store = Store(group_dir / "cyberstd.db")
    try:
        stopped = store.unfinished("sg-test")
    finally:
        store.close()
    assert stopped is not None
    return stopped.id


@pytest.mark.parametrize("change", ["profile", "day"])
def test_a_stopped_run_started_again_with_other_settings_starts_anew(
    group_dir: Path, tmp_path: Path, change: str
) -> None:
    stopped = _stop_after_one(group_dir, tmp_path / "out")
    options, clock = OPTIONS, _clock(hours=1)
    if change == "profile":
        options = dataclasses.replace(OPTIONS, profile="grip-basis-1")
    else:
        clock = Clock.at(clock.today - dt.timedelta(days=1), started=clock.started)
    run, results = _run(group_dir, tmp_path / "out", clock, options=options, resume=True)
    # every school judged alike, none with the stopped run's settings
    assert not run.resumed and run.set_aside is not None and run.set_aside.id == stopped
    assert results.run.id != stopped
    assert all(s.state is ScanState.DONE and s.results_run == run.info.id for s in results.schools)
    assert _profiles(tmp_path / "out") == {(options.profile or "", str(clock.today))}


def test_a_run_resumed_into_another_folder_links_only_to_files_that_are_there(
    group_dir: Path, tmp_path: Path
) -> None:
    stopped = _stop_after_one(group_dir, tmp_path / "first")
    out = tmp_path / "second"
    run, results = _run(group_dir, out, _clock(hours=1), resume=True)
    assert run.resumed and results.run.id == stopped
    for school in results.schools:
        assert school.results_path is not None and (out / school.results_path).is_file()
        assert school.report_path is not None and (out / school.report_path).is_file()
    # the school scanned before the stop: its files from the database, as they were
    (before,) = [p.name for p in (tmp_path / "first" / "schools").iterdir()]
    assert _verdicts(out, before) == _verdicts(tmp_path / "first", before)


def test_checks_that_end_in_errors_never_read_as_all_well(group_dir: Path, tmp_path: Path) -> None:
    # a firewall export that cannot be read: its checks end in errors at that school
    (group_dir / "college" / "exports" / "firewall" / "fortigate.conf").write_bytes(
        b"\x00\xff" * 64
    )
    out = tmp_path / "out"
    args = ["--root", str(REPO), "group", "scan", str(group_dir), "--out", str(out)]
    args += ["--profile", "ci-baseline", "--as-of", DEMO_DAY.isoformat(), "--lang", "en"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 3, result.output  # incomplete, as `cyberstd scan` says
    assert "not everything was judged" in result.output
    doc = json.loads((out / "group-results.json").read_text())
    college = next(s for s in doc["schools"] if s["id"] == "college")
    assert "error" in college["controls"].values()
    page = (out / "group.en.html").read_text()
    assert 'id="errored" data-count="1"' in page

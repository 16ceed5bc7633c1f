"""The backup checks on the backup software's own session histories: Veeam's sessions,
Hyper Backup's lines in DSM's Log Center, Active Backup for Business's task history. Each job's
latest success is derived from its sessions; a history says nothing about copies, and about
restores only when it holds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cyberstd.catalog import Catalog
from cyberstd.kinds import detect, parse_export
from cyberstd.parsers.base import ParseError, Source, source_from_text
from cyberstd.results import FindingStatus
from cyberstd.rules.compare import as_date
from tests.rules.conftest import evidence_items, line_of, run_check, sample

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE
KINDS = ("veeam-sessions", "synology-hyper-backup", "synology-active-backup")
# kind -> the jobs the weak sample fails on (last success too old, or never), and the text
# of the line of each job's latest session.
WEAK = {
    "veeam-sessions": {"SRV-FS01": '"SRV-FS01","Failed"', "SQL-WISA": "11/28/2026 11:00:03 PM"},
    "synology-hyper-backup": {"Offsite-C2": "partially completed", "USB-Rotatie": "[USB-Rotatie]"},
    "synology-active-backup": {"PC-Secretariaat": '"status": 3', "PC-Directie": '"status": 4'},
}


@pytest.mark.parametrize("variant", ["good", "bad"])
@pytest.mark.parametrize("kind", KINDS)
def test_detect_recognises_each_sample(catalog: Catalog, kind: str, variant: str) -> None:
    assert detect(sample(kind, variant), catalog.kinds) == [kind]


@pytest.mark.parametrize("kind", KINDS)
def test_every_job_succeeded_recently_in_the_sound_sample(catalog: Catalog, kind: str) -> None:
    v = run_check(catalog, "backup.recent-success", "good", [kind])
    assert v.status is P, v.message


@pytest.mark.parametrize("kind", KINDS)
def test_the_weak_sample_fails_naming_each_job(catalog: Catalog, kind: str) -> None:
    v = run_check(catalog, "backup.recent-success", "bad", [kind])
    assert v.status is F
    items = {it["label"]: it for it in evidence_items(v.evidence)}
    assert set(items) == set(WEAK[kind])
    for job in WEAK[kind]:
        assert job in v.message
    if kind == "veeam-sessions":  # the last success, as a date, beside the job's name
        assert "SRV-FS01 ('2026-11-20 22:30:09')" in v.message
        path = sample(kind, "bad")
        assert items["SRV-FS01"]["line"] == line_of(path, WEAK[kind]["SRV-FS01"])


def test_a_partial_run_is_no_success_and_a_warning_is(catalog: Catalog) -> None:
    """Hyper Backup's "partially completed" left files out; Veeam's Warning backed up every
    object (the sound sample's SRV-FS01 last succeeded with a warning)."""
    tree = parse_export(catalog.kinds["synology-hyper-backup"], _source("synology-hyper-backup"))
    jobs = {j["job"]: j for j in tree.plain()["jobs"]}
    assert jobs["Offsite-C2"]["last_success"] == "2026-11-25 23:40:11"
    assert jobs["Offsite-C2"]["failures_since_success"] == 1
    assert "last_success" not in jobs["USB-Rotatie"]
    good = parse_export(catalog.kinds["veeam-sessions"], _source("veeam-sessions", "good"))
    fs01 = next(j for j in good.plain()["jobs"] if j["job"] == "SRV-FS01")
    assert (fs01["last_result"], fs01["last_success"]) == ("Warning", "2026-11-28 22:30:02")


@pytest.mark.parametrize("variant", ["good", "bad"])
@pytest.mark.parametrize("kind", KINDS)
def test_copies_are_not_judged_on_a_history(catalog: Catalog, kind: str, variant: str) -> None:
    v = run_check(catalog, "backup.offsite-or-immutable", variant, [kind])
    assert v.status is NA
    assert "not judged" in v.message and "Offsite copy" in v.message


@pytest.mark.parametrize("kind", ["veeam-sessions", "synology-hyper-backup"])
def test_a_history_without_restores_says_nothing_about_them(catalog: Catalog, kind: str) -> None:
    v = run_check(catalog, "backup.restore-tested", "good", [kind])
    assert v.status is NA and "is not set in" in v.message


def test_restores_in_the_task_history_are_restore_tests(catalog: Catalog) -> None:
    good = run_check(catalog, "backup.restore-tested", "good", ["synology-active-backup"])
    assert good.status is P and "'2026-09-02 14:15:00'" in good.message
    # The restore of 2/11 failed; the one before is more than a year old.
    bad = run_check(catalog, "backup.restore-tested", "bad", ["synology-active-backup"])
    assert bad.status is F and "'2025-10-01 14:15:00'" in bad.message


# --- no pass without evidence --------------------------------------------------------------------

EMPTY = {
    "veeam-sessions": '"JobName","Result","Date"\r\n',
    # only lines of other packages, and a start without an outcome
    "synology-hyper-backup": (
        "System\nLevel,Log,Time,User,Event\n"
        "Info,System,2026/11/28 10:00:00,admin,User [admin] logged in from [192.0.2.7]\n"
        "Info,System,2026/11/28 01:00:02,SYSTEM,[Local][USB-Rotatie] Backup task started.\n"
    ),
    # a deletion of versions is no backup
    "synology-active-backup": (
        '{"count": 1, "results": [{"task_name": "PC-Directie", "job_action": 131072,'
        ' "status": 2, "time_end": 1796300000}]}'
    ),
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_history_without_sessions_is_not_judged(catalog: Catalog, kind: str) -> None:
    tree = parse_export(catalog.kinds[kind], source_from_text(EMPTY[kind], "empty"))
    for check in ("backup.recent-success", "backup.offsite-or-immutable"):
        v = run_check(catalog, check, {kind: [tree]})
        assert v.status is NA, (check, v.message)


def test_a_job_that_only_failed_fails(catalog: Catalog) -> None:
    text = '"JobName","Result","Date"\r\n"SRV-DC01","Failed","11/28/2026 10:00:12 PM"\r\n'
    tree = parse_export(catalog.kinds["veeam-sessions"], source_from_text(text, "s.csv"))
    v = run_check(catalog, "backup.recent-success", {"veeam-sessions": [tree]})
    assert v.status is F and "SRV-DC01" in v.message


def test_a_time_that_is_not_a_date_is_refused_at_its_line(catalog: Catalog) -> None:
    text = '"JobName","Result","Date"\r\n"SRV-DC01","Success","gisteren"\r\n'
    with pytest.raises(ParseError) as caught:
        parse_export(catalog.kinds["veeam-sessions"], source_from_text(text, "s.csv"))
    assert caught.value.line == 2 and "not a date" in str(caught.value)


def test_the_log_center_title_line_is_skipped_and_may_be_absent(catalog: Catalog) -> None:
    kind = catalog.kinds["synology-hyper-backup"]
    full = _source("synology-hyper-backup", "good").text
    with_title = parse_export(kind, source_from_text(full, "log.csv"))
    without = parse_export(kind, source_from_text(full.split("\n", 1)[1], "log.csv"))
    assert with_title.plain()["columns"] == ["Level", "Log", "Time", "User", "Event"]
    assert with_title.get("rows").value[0].line == 3
    assert without.plain()["jobs"] == with_title.plain()["jobs"]
    with pytest.raises(ParseError, match="no header line"):
        parse_export(kind, source_from_text("System\nsomething else\n", "log.csv"))


def test_dsm_year_first_dates_are_dates() -> None:
    assert str(as_date("2026/11/28 01:52:07")) == "2026-11-28"


def _source(kind: str, variant: str = "bad") -> Source:
    path: Path = sample(kind, variant)
    return source_from_text(path.read_text(encoding="utf-8"), path.name)

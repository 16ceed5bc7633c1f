"""Copy jobs in a backup report (Veeam Backup Copy, Synology Hyper Backup to a second target):
they are not read as failed backup jobs, and they give the jobs they copy an off-site or
immutable copy when their own row says so (tests/data/exports/backup/copies/SOURCES.md)."""

from __future__ import annotations

import datetime as dt

from cyberstd.catalog import Catalog
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import Node, source_from_text
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, evaluate
from tests.rules.conftest import EXPORTS, TODAY, line_of

REPORT = EXPORTS / "backup" / "copies" / "backup-report.csv"
TEXT = REPORT.read_text(encoding="utf-8-sig")
P, F = FindingStatus.PASS, FindingStatus.FAIL


def changed(catalog: Catalog, check_id: str, **changes: object) -> RuleParams:
    """The backup report's part of a catalog check (its first part: the other parts read the
    backup software's histories), with some of its parameters replaced as a profile would."""
    params = catalog.checks[check_id].params
    mode = "all_of" if "all_of" in params else "any_of"
    part = params[mode][0]
    assert "kind" not in part  # the rule's own kind: backup-report
    return RuleParams.model_validate({"kind": params["kind"], **part, **changes})


def check_params(catalog: Catalog, check_id: str) -> RuleParams:
    return changed(catalog, check_id)


def test_a_report_alone_is_judged_as_the_check_judges_it(catalog: Catalog) -> None:
    for check_id in ("backup.recent-success", "backup.offsite-or-immutable"):
        whole = RuleParams.model_validate(catalog.checks[check_id].params)
        v, part = (
            evaluate(whole, report(), TODAY),
            evaluate(check_params(catalog, check_id), report(), TODAY),
        )
        assert (v.status, v.message) == (part.status, part.message)


def report(text: str = TEXT) -> dict[str, list[Node]]:
    return {"backup-report": [parse_source(source_from_text(text, REPORT.name), "csv")]}


def test_copy_jobs_are_not_read_as_failed_backup_jobs(catalog: Catalog) -> None:
    params = check_params(catalog, "backup.recent-success")
    v = evaluate(params, report(), TODAY)
    assert v.status is P, v.message
    assert v.message == (
        "backup jobs whose last success is more than 2 days ago: 0 of 4 backup jobs (copy jobs "
        "aside) (at most 0 expected)"
    )
    # Judged as backup jobs, the weekly C2 copy and the failing USB copy would fail it.
    old = evaluate(changed(catalog, "backup.recent-success", population=None), report(), TODAY)
    assert old.status is F
    assert [it["label"] for it in old.evidence["items"]] == [
        "Backup Copy - USB-rotatie",
        "Hyper Backup - C2",
    ]


def test_a_failed_backup_job_still_fails(catalog: Catalog) -> None:
    text = TEXT.replace("Success;28/11/2026 22:40", "Failed;20/11/2026 22:40")
    v = evaluate(check_params(catalog, "backup.recent-success"), report(text), TODAY)
    assert v.status is F
    assert v.message.endswith("where at most 0 are expected: HV - Bestandsserver FS01")


def test_copy_jobs_give_the_jobs_they_copy_an_offsite_or_immutable_copy(catalog: Catalog) -> None:
    params = check_params(catalog, "backup.offsite-or-immutable")
    v = evaluate(params, report(), TODAY)
    assert v.status is P, v.message
    covered = {it["label"]: (it["by"]["label"], it["by"]["line"]) for it in v.evidence["covered"]}
    hardened = "Backup Copy - Hardened repo bijgebouw"
    assert covered == {
        "HV - Domeincontroller DC01": (hardened, line_of(REPORT, hardened)),
        "HV - Bestandsserver FS01": (hardened, line_of(REPORT, hardened)),
        "Agent - Secretariaat-pc's": ("Hyper Backup - C2", line_of(REPORT, "Hyper Backup - C2")),
    }
    assert "3 covered by a copy job that succeeded in the last 7 days" in v.message
    assert "3 gedekt door een kopietaak die de laatste 7 dagen slaagde" in v.message_nl
    # Without the copy jobs, the three jobs whose own row says "Nee" would fail.
    no_cover = changed(catalog, "backup.offsite-or-immutable", covered_by=None)
    alone = evaluate(no_cover, report(), TODAY)
    assert alone.status is F and alone.evidence["count"] == 3


def test_a_failing_copy_job_covers_nothing(catalog: Catalog) -> None:
    """Only the failing USB copy still copies FS01: FS01 has no off-site copy."""
    text = TEXT.replace(
        "HV - Domeincontroller DC01 | HV - Bestandsserver FS01", "HV - Domeincontroller DC01"
    )
    v = evaluate(check_params(catalog, "backup.offsite-or-immutable"), report(text), TODAY)
    assert v.status is F
    assert [it["label"] for it in v.evidence["items"]] == ["HV - Bestandsserver FS01"]
    assert v.evidence["items"][0]["line"] == line_of(REPORT, "HV - Bestandsserver FS01;")


def test_a_weekly_copy_covers_for_seven_days(catalog: Catalog) -> None:
    params = check_params(catalog, "backup.offsite-or-immutable")
    assert evaluate(params, report(), dt.date(2026, 11, 30)).status is P  # 7 days
    late = evaluate(params, report(), dt.date(2026, 12, 1))
    assert late.status is F
    assert [it["label"] for it in late.evidence["items"]] == ["Agent - Secretariaat-pc's"]


def test_a_copy_job_without_copy_of_covers_nothing_and_is_no_backup_job(catalog: Catalog) -> None:
    text = TEXT.replace(";Agent - Secretariaat-pc's\r\n", ";\r\n").replace(
        ";Agent - Secretariaat-pc's\n", ";\n"
    )
    assert text != TEXT
    offsite = evaluate(check_params(catalog, "backup.offsite-or-immutable"), report(text), TODAY)
    assert [it["label"] for it in offsite.evidence["items"]] == ["Agent - Secretariaat-pc's"]
    # Hyper Backup is no copy type by name: without "Copy of" the weekly task is a backup job.
    recent = evaluate(check_params(catalog, "backup.recent-success"), report(text), TODAY)
    assert recent.status is F and recent.message.endswith(": Hyper Backup - C2")


def test_restore_tests_of_any_job_count(catalog: Catalog) -> None:
    v = evaluate(check_params(catalog, "backup.restore-tested"), report(), TODAY)
    assert v.status is P and "'14/03/2026 10:30'" in v.message

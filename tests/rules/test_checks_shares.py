"""GRIP's shares on Intune device exports: anti-malware and disk encryption on at least 95 % of
the computers (T4, T12), signatures judged on the devices in use (T4) and a bounded share of
devices that stopped checking in (T5), run as the catalog defines them.

The samples follow Intune's Devices > All devices > Export (report DevicesWithInventory, as
listed on https://learn.microsoft.com/mem/intune/fundamentals/reports-export-graph-available-reports);
tests/data/exports/intune/shares/SOURCES.md says what each holds and what GRIP concludes.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.profiles import resolve
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, Verdict, evaluate
from tests.conftest import REPO
from tests.rules.conftest import (
    EXPORTS,
    TODAY,
    check_params,
    evidence_items,
    line_of,
    parse_kind,
)

SHARES = EXPORTS / "intune" / "shares"
WITHIN = SHARES / "all-devices-within-95.csv"
ABOVE = SHARES / "all-devices-above-95.csv"
PLAIN = SHARES / "all-devices-plain.csv"
IPADS = SHARES / "ipads-only.csv"
P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE


def verdict(catalog: Catalog, check_id: str, path: Path, day: dt.date = TODAY) -> Verdict:
    params = check_params(catalog, check_id)
    return evaluate(params, {"intune-devices": [parse_kind(catalog, "intune-devices", path)]}, day)


def named(v: Verdict, path: Path) -> dict[str, int]:
    """The devices a verdict names (label -> line), checked against the file's own lines."""
    found = {it["label"]: it["line"] for it in evidence_items(v.evidence)}
    for label, line in found.items():
        assert line == line_of(path, f'"{label}"'), label
        assert label in v.message
    return found


# check -> file -> (status, the start of the English message, devices named)
EXPECTED: dict[str, dict[Path, tuple[FindingStatus, str, set[str]]]] = {
    "endpoint.disk-encryption": {
        WITHIN: (
            P,
            "devices whose disk is not encrypted: 1 of 24 Windows and macOS devices "
            "(4.2%; at most 5% expected): LKR-LT-0107",
            {"LKR-LT-0107"},
        ),
        ABOVE: (
            F,
            "devices whose disk is not encrypted: 2 of 24 Windows and macOS devices (8.3%), "
            "where at most 5% is expected: LKR-LT-0107, LKR-LT-0111",
            {"LKR-LT-0107", "LKR-LT-0111"},
        ),
        PLAIN: (P, "devices whose disk is not encrypted: 1 of 24", {"LKR-LT-0107"}),
        IPADS: (NA, "devices whose disk is not encrypted: not judged: ipads-only.csv holds no "
                "Windows and macOS devices (OS in Windows, macOS) among its 6 items", set()),
    },
    "endpoint.antimalware-on": {
        WITHIN: (P, "devices without active anti-malware and real-time protection: 1 of 24 "
                 "Windows and macOS devices (4.2%; at most 5% expected): LKR-LT-0113",
                 {"LKR-LT-0113"}),
        ABOVE: (F, "devices without active anti-malware and real-time protection: 2 of 24 "
                "Windows and macOS devices (8.3%), where at most 5% is expected: "
                "LKR-LT-0113, ADM-PC-02", {"LKR-LT-0113", "ADM-PC-02"}),
        PLAIN: (NA, "devices without active anti-malware and real-time protection: not judged: "
                "the export has no 'Malware protection' column", set()),
        IPADS: (NA, "devices without active anti-malware and real-time protection: not judged: "
                "the export has no 'Malware protection' column", set()),
    },
    "endpoint.signatures-fresh": {
        # LKR-LT-0104 has been off for 16 days: its signatures were fresh when it was last on.
        WITHIN: (P, "devices whose signatures were more than 7 days old at their last "
                 "check-in: 0 of 21 Windows devices that checked in in the last 30 days", set()),
        ABOVE: (F, "devices whose signatures were more than 7 days old at their last "
                "check-in: 1 of 20 Windows devices that checked in in the last 30 days, where "
                "at most 0 are expected: LKR-LT-0102", {"LKR-LT-0102"}),
        PLAIN: (NA, "devices whose signatures were more than 7 days old at their last "
                "check-in: not judged: the export has no 'Signature last updated' column", set()),
    },
    "endpoint.checked-in": {
        WITHIN: (P, "devices with no check-in for 30 days: 1 of 28 managed devices (3.6%; at "
                 "most 5% expected): LKR-LT-0119", {"LKR-LT-0119"}),
        ABOVE: (F, "devices with no check-in for 30 days: 2 of 28 managed devices (7.1%), "
                "where at most 5% is expected: LKR-LT-0116, LKR-LT-0119",
                {"LKR-LT-0116", "LKR-LT-0119"}),
        IPADS: (P, "devices with no check-in for 30 days: 0 of 6 managed devices (0%; at most "
                "5% expected)", set()),
    },
    "endpoint.os-supported": {
        WITHIN: (P, "", set()),
        IPADS: (NA, "devices on a build that is no longer serviced: not judged: ipads-only.csv "
                "holds no Windows devices", set()),
    },
}  # fmt: skip
CASES = [(c, f, *v) for c, files in EXPECTED.items() for f, v in files.items()]


@pytest.mark.parametrize(("check_id", "path", "status", "start", "labels"), CASES)
def test_verdict_on_each_export(
    catalog: Catalog,
    check_id: str,
    path: Path,
    status: FindingStatus,
    start: str,
    labels: set[str],
) -> None:
    v = verdict(catalog, check_id, path)
    assert v.status is status, v.message
    assert v.message.startswith(start), v.message
    assert set(named(v, path)) == labels


def test_the_dutch_message_gives_the_same_share(catalog: Catalog) -> None:
    v = verdict(catalog, "endpoint.disk-encryption", ABOVE)
    assert v.message_nl == (
        "toestellen met een onversleutelde schijf: 2 van 24 Windows- en macOS-toestellen "
        "(8,3 %), waar hoogstens 5 % verwacht wordt: LKR-LT-0107, LKR-LT-0111"
    )
    ok = verdict(catalog, "endpoint.checked-in", WITHIN)
    assert ok.message_nl == (
        "toestellen zonder aanmelding bij het beheer in 30 dagen: 1 van 28 beheerde toestellen "
        "(3,6 %; verwacht: hoogstens 5 %): LKR-LT-0119"
    )


def test_evidence_holds_the_population_and_the_share(catalog: Catalog) -> None:
    v = verdict(catalog, "endpoint.disk-encryption", WITHIN)
    (part,) = v.evidence["all_of"]  # the one part that reads this kind
    assert (part["count"], part["population"], part["percent"]) == (1, 24, 4.17)
    assert part["expected"] == "count at most 5%"
    (item,) = part["items"]
    assert item["actual"] == {"Encrypted": "False"}
    assert item["file"] == WITHIN.name and item["path"] == "rows[6]"


def test_a_device_off_over_a_holiday_does_not_fail_the_signatures(catalog: Catalog) -> None:
    """The same rule judging the signatures' age on the day of the run (as before) fails the
    laptop that was off for 16 days; judged at its last check-in, it is fine."""
    params = check_params(catalog, "endpoint.signatures-fresh")
    shipped = dict(catalog.checks["endpoint.signatures-fresh"].params)
    csv_part, *others = shipped["all_of"]
    today_based = RuleParams.model_validate(
        {
            **shipped,
            "all_of": [
                {**csv_part, "where": {"Signature last updated": {"older_than_days": 7}}},
                *others,
            ],
        }
    )
    docs = {"intune-devices": [parse_kind(catalog, "intune-devices", WITHIN)]}
    old = evaluate(today_based, docs, TODAY)
    assert old.status is F
    assert [it["label"] for it in evidence_items(old.evidence)] == ["LKR-LT-0104"]
    assert evaluate(params, docs, TODAY).status is P


def test_the_spare_laptop_is_left_to_the_check_in_check(catalog: Catalog) -> None:
    """LKR-LT-0119 (unseen for 45 days, signatures 46 days old) is not among the devices in use
    for the signatures, and is named by endpoint.checked-in."""
    signatures = verdict(catalog, "endpoint.signatures-fresh", WITHIN)
    assert "LKR-LT-0119" not in signatures.message
    assert "LKR-LT-0119" in verdict(catalog, "endpoint.checked-in", WITHIN).message


def test_the_share_moves_with_the_day(catalog: Catalog) -> None:
    """Sixteen days on, the laptop off since 13/11 is past 30 days too: 2 of 28 (7.1 %)."""
    v = verdict(catalog, "endpoint.checked-in", WITHIN, TODAY + dt.timedelta(days=16))
    assert v.status is F
    assert "2 of 28 managed devices (7.1%), where at most 5% is expected" in v.message
    assert set(named(v, WITHIN)) == {"LKR-LT-0104", "LKR-LT-0119"}


@pytest.fixture()
def strict_root(tmp_path: Path) -> Path:
    """The shipped catalog with a profile of a school group that allows no exception."""
    for folder in ("standards", "checks", "profiles"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "profiles" / "strict-group.yaml").write_text(
        "id: strict-group\n"
        "title: {nl: Strenge scholengroep, en: Strict school group}\n"
        "description: {nl: Geen uitzondering., en: No exception.}\n"
        "framework: grip\n"
        "extends: ci-baseline\n"
        "params:\n"
        "  # The group gives only Intune's All devices export: one part each.\n"
        "  endpoint.disk-encryption:\n"
        "    all_of:\n"
        "      - about: devices whose disk is not encrypted\n"
        "        select: rows[*]\n"
        "        population: {about: Windows and macOS devices, where: {OS: {in: [Windows, macOS]}}}\n"
        "        where: {Encrypted: {not_equals: true}}\n"
        "        count: {at_most_percent: 0}\n"
        "        label: Device name\n"
        "  endpoint.checked-in:\n"
        "    all_of:\n"
        "      - about: devices with no check-in for 60 days\n"
        "        select: rows[*]\n"
        "        where: {Last check-in: {older_than_days: 60}}\n"
        "        count: {at_most: 0}\n"
        "        label: Device name\n",
        encoding="utf-8",
    )
    return tmp_path


def test_a_profile_tightens_the_share_and_the_days(strict_root: Path) -> None:
    catalog, problems = load_catalog(strict_root)
    assert problems == []
    planned = resolve(catalog, "strict-group").checks
    docs = {"intune-devices": [parse_kind(catalog, "intune-devices", WITHIN)]}
    encryption = planned["endpoint.disk-encryption"].params
    assert isinstance(encryption, RuleParams)
    v = evaluate(encryption, docs, TODAY)
    assert v.status is F and "(4.2%), where at most 0% is expected: LKR-LT-0107" in v.message
    checked_in = planned["endpoint.checked-in"].params
    assert isinstance(checked_in, RuleParams)
    assert evaluate(checked_in, docs, TODAY).status is P  # 45 days is within 60
    later = evaluate(checked_in, docs, TODAY + dt.timedelta(days=16))
    assert later.status is F and later.message.endswith(": LKR-LT-0119")

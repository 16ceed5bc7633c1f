"""GRIP checks on endpoint management (Intune), backup reports and inventories (CSV exports),
run exactly as the catalog defines them. The endpoint checks also read Intune's Defender report
and Graph's managed devices: tests/rules/test_checks_intune.py judges those; here each check
reads its CSV kind alone."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cyberstd.catalog import Catalog
from cyberstd.clock import Clock
from cyberstd.errors import ExportError
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.kinds import detect
from cyberstd.probes import probes
from cyberstd.registry import ProbeContext, Target, TargetKind
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.rules.engine import evaluate
from tests.rules.conftest import (
    EXPORTS,
    TODAY,
    assert_named,
    check_params,
    docs_for,
    evidence_items,
    line_of,
    parse_kind,
    run_check,
    sample,
)

CSV_KINDS = ("intune-devices", "backup-report", "device-inventory", "application-inventory")
PORTAL = EXPORTS / "intune" / "portal" / "DevicesWithInventory_3f9c1e52.csv"

# check -> (kind, labels that fail in the bad sample)
COUNT_CHECKS: dict[str, tuple[str, tuple[str, ...]]] = {
    # LPT-LK-022 and PC-LOKAAL-B12-03 (Windows) and MBP-ICT-02 (macOS) report Encrypted=False.
    "endpoint.disk-encryption": (
        "intune-devices",
        ("LPT-LK-022", "PC-LOKAAL-B12-03", "MBP-ICT-02"),
    ),
    # PC-LOKAAL-B12-03 has anti-malware off; LPT-LK-022 only real-time protection.
    "endpoint.antimalware-on": ("intune-devices", ("LPT-LK-022", "PC-LOKAAL-B12-03")),
    # Signatures of 10/11 at a check-in of 28/11, and LPT-LK-031 that never reported any.
    # PC-LOKAAL-B12-03 (signatures of 01/09) last checked in on 02/09: not a device in use,
    # it is endpoint.checked-in's to report.
    "endpoint.signatures-fresh": ("intune-devices", ("LPT-LK-022", "LPT-LK-031")),
    # Windows 11 23H2 (22631), Windows 10 22H2 (19045) and macOS 14.
    "endpoint.os-supported": ("intune-devices", ("LPT-LK-022", "PC-LOKAAL-B12-03", "MBP-ICT-02")),
    # Last check-ins on 02/09 and 14/08.
    "endpoint.checked-in": ("intune-devices", ("PC-LOKAAL-B12-03", "IPAD-KLAS-1B-02")),
    # Last success 21/11 (8 days) and a job that never succeeded (empty cell).
    "backup.recent-success": ("backup-report", ("SRV-DC01 system state", "Microsoft 365")),
    # Only on the NAS next to the server, or on a USB disk: neither off-site nor immutable.
    "backup.offsite-or-immutable": (
        "backup-report",
        ("SRV-DC01 system state", "Wisa accounting"),
    ),
    # An empty classification and "hoog", which is no classification level.
    "inventory.devices-classified": ("device-inventory", ("SRV-OLD-02", "PRN-LK-01")),
    "inventory.applications-classified": (
        "application-inventory",
        ("Zorgdossier (Excel op gedeelde schijf)", "Canva for Education"),
    ),
    # No owner column and no column for the kind of data (every application counts), and the
    # Excel file on a shared drive has no supplier either.
    "inventory.applications-columns": (
        "application-inventory",
        ("Smartschool", "Zorgdossier (Excel op gedeelde schijf)", "Canva for Education"),
    ),
}
# check -> (kind, expected value in the bad sample, the text that finds its line)
EXPECT_CHECKS: dict[str, tuple[str, object, str]] = {
    # The latest restore test is from 12/10/2025, more than a year before TODAY.
    "backup.restore-tested": ("backup-report", "12/10/2025 09:00", "12/10/2025 09:00"),
    # Last seen on 30/06/2026: 152 days before TODAY.
    "inventory.devices-fresh": ("device-inventory", "30/06/2026", "FW-01;"),
    # The most recent review of the bad application inventory is from 15/03/2025.
    "inventory.applications-fresh": ("application-inventory", "15/03/2025", "Smartschool;"),
}
# check -> (kind, the parts of the rule that fail on the bad sample's header)
COLUMN_CHECKS: dict[str, tuple[str, tuple[str, ...]]] = {
    # The bad device inventory has no column for the kind of device (a user column is there).
    "inventory.devices-columns": ("device-inventory", ("kind of device",)),
}


def test_every_endpoint_backup_and_inventory_check_is_tested_here(catalog: Catalog) -> None:
    ids = {
        cid
        for cid, check in catalog.checks.items()
        if cid.split(".")[0] in ("endpoint", "backup", "inventory") and check.probe == "config.rule"
    }
    assert ids == set(COUNT_CHECKS) | set(EXPECT_CHECKS) | set(COLUMN_CHECKS)
    for cid in ids:
        assert check_params(catalog, cid).kinds()[0] in CSV_KINDS


def _csv(catalog: Catalog, check_id: str) -> list[str]:
    """The CSV kind a check reads (its own kind)."""
    return [check_params(catalog, check_id).kinds()[0]]


# --- the samples --------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["good", "bad"])
@pytest.mark.parametrize("kind", CSV_KINDS)
def test_detect_recognises_each_sample(
    catalog: Catalog, kind: str, variant: str, tmp_path: Path
) -> None:
    path = sample(kind, variant)
    assert detect(path, catalog.kinds) == [kind]
    anonymous = tmp_path / "export.csv"
    shutil.copy(path, anonymous)
    assert detect(anonymous, catalog.kinds) == [kind]


def test_detect_recognises_the_intune_portal_export(catalog: Catalog) -> None:
    assert detect(PORTAL, catalog.kinds) == ["intune-devices"]


def test_belgian_excel_csv_is_read(catalog: Catalog) -> None:
    path = sample("backup-report", "good")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b";" in raw.splitlines()[0]
    tree = parse_kind(catalog, "backup-report", path)
    plain = tree.plain()
    assert plain["columns"][0] == "Job name"
    assert plain["rows"][2] == {
        "Job name": "Microsoft 365 (Exchange, OneDrive, SharePoint)",
        "Type": "Microsoft 365",
        "Last result": "Warning",
        "Last success": "27/11/2026 02:00",
        "Target": "Cloud (Keepit)",
        "Offsite copy": "Ja",
        "Immutable": "Ja",
        "Last restore test": None,
    }
    rows = tree.get("rows")
    assert rows is not None and [r.line for r in rows.value] == [2, 3, 4, 5, 6]


# --- the checks on good and bad samples ---------------------------------------------------------


@pytest.mark.parametrize("check_id", sorted({*COUNT_CHECKS, *EXPECT_CHECKS, *COLUMN_CHECKS}))
def test_good_sample_passes(catalog: Catalog, check_id: str) -> None:
    v = run_check(catalog, check_id, "good", kinds=_csv(catalog, check_id))
    assert v.status is FindingStatus.PASS, v.message


@pytest.mark.parametrize("check_id", sorted(COUNT_CHECKS))
def test_bad_sample_fails_naming_the_rows(catalog: Catalog, check_id: str) -> None:
    kind, labels = COUNT_CHECKS[check_id]
    path = sample(kind, "bad")
    v = run_check(catalog, check_id, "bad", kinds=[kind])
    assert v.status is FindingStatus.FAIL
    assert_named(v, path, {label: line_of(path, label + ";") for label in labels})


@pytest.mark.parametrize("check_id", sorted(EXPECT_CHECKS))
def test_bad_sample_fails_naming_the_value(catalog: Catalog, check_id: str) -> None:
    kind, actual, needle = EXPECT_CHECKS[check_id]
    path = sample(kind, "bad")
    v = run_check(catalog, check_id, "bad", kinds=[kind])
    assert v.status is FindingStatus.FAIL
    (item,) = evidence_items(v.evidence)
    assert item["file"] == path.name
    assert item["line"] == line_of(path, needle)
    assert item["actual"] == actual and item["ok"] is False
    assert f"at {path.name}:{item['line']}" in v.message


@pytest.mark.parametrize("check_id", sorted(COLUMN_CHECKS))
def test_bad_sample_fails_naming_the_missing_columns(catalog: Catalog, check_id: str) -> None:
    kind, failing = COLUMN_CHECKS[check_id]
    path = sample(kind, "bad")
    v = run_check(catalog, check_id, "bad", kinds=[kind])
    assert v.status is FindingStatus.FAIL
    failed = [p for p in v.evidence["all_of"] if p["status"] == "fail"]
    assert len(failed) == len(failing)
    for part, words in zip(failed, failing, strict=True):
        assert words in part["message"] and words in v.message
        (item,) = part["items"]  # the inventory, at its header line
        assert (item["file"], item["line"]) == (path.name, 1)
    assert f"{path.name}:1" in v.message


def test_antimalware_counts_a_device_once_showing_what_is_off(catalog: Catalog) -> None:
    v = run_check(catalog, "endpoint.antimalware-on", "bad", kinds=["intune-devices"])
    assert v.message.startswith(
        "devices without active anti-malware and real-time protection: 2 of 6 Windows and "
        "macOS devices (33.3%), where at most 5% is expected: "
    )
    (part,) = v.evidence["all_of"]
    assert {it["label"]: it["actual"] for it in part["items"]} == {
        "LPT-LK-022": {"Malware protection": "Enabled", "Real-time protection": "Disabled"},
        "PC-LOKAAL-B12-03": {"Malware protection": "Disabled", "Real-time protection": "Disabled"},
    }


def test_os_supported_parts(catalog: Catalog) -> None:
    v = run_check(catalog, "endpoint.os-supported", "bad", kinds=["intune-devices"])
    windows, macos = v.evidence["all_of"]
    assert [it["label"] for it in windows["items"]] == ["LPT-LK-022", "PC-LOKAAL-B12-03"]
    assert [it["label"] for it in macos["items"]] == ["MBP-ICT-02"]


@pytest.mark.parametrize(
    ("check_id", "label"),
    [
        # Checked in on 30/10: 30 days on TODAY.
        ("endpoint.checked-in", "MBA-ZORG-01"),
        # Last success on 27/11: 2 days on TODAY.
        ("backup.recent-success", "Microsoft 365 (Exchange, OneDrive, SharePoint)"),
    ],
)
def test_good_sample_sits_on_the_boundary(catalog: Catalog, check_id: str, label: str) -> None:
    params = check_params(catalog, check_id)
    docs = docs_for(catalog, params, "good", _csv(catalog, check_id))
    assert evaluate(params, docs, TODAY).status is FindingStatus.PASS
    later = evaluate(params, docs, TODAY + dt.timedelta(days=1))
    assert later.status is FindingStatus.FAIL
    assert later.message.endswith(f": {label}")


def test_signatures_are_judged_at_the_devices_last_check_in(catalog: Catalog) -> None:
    """LPT-LK-014's signatures of 22/11 were 5 days old at its check-in of 27/11: fresh
    however long it stays off, until it drops out of the devices in use after 30 days."""
    params = check_params(catalog, "endpoint.signatures-fresh")
    docs = docs_for(catalog, params, "good", ["intune-devices"])
    for days in (0, 8, 28):
        v = evaluate(params, docs, TODAY + dt.timedelta(days=days))
        assert v.status is FindingStatus.PASS, (days, v.message)
    # Two months on, no Windows device has checked in for 30 days: nothing to judge.
    gone = evaluate(params, docs, TODAY + dt.timedelta(days=60))
    assert gone.status is FindingStatus.NOT_APPLICABLE
    assert "holds no Windows devices that checked in in the last 30 days" in gone.message


def test_restore_test_is_the_latest_of_all_jobs(catalog: Catalog) -> None:
    path = sample("backup-report", "good")
    v = run_check(catalog, "backup.restore-tested", "good", kinds=["backup-report"])
    (item,) = evidence_items(v.evidence)
    assert item == {
        "file": "backup-report.csv",
        "line": line_of(path, "Wisa boekhouding;"),
        "path": "rows[3].Last restore test",
        "actual": "02/09/2026 14:00",
        "ok": True,
    }
    assert v.message == "the most recent restore test is '02/09/2026 14:00' (backup-report.csv:5)"


# --- the real Intune portal export (Devices > All devices > Export) -----------------------------


@pytest.mark.parametrize(
    "check_id", ["endpoint.disk-encryption", "endpoint.os-supported", "endpoint.checked-in"]
)
def test_checks_read_the_portal_export(catalog: Catalog, check_id: str) -> None:
    docs = {"intune-devices": [parse_kind(catalog, "intune-devices", PORTAL)]}
    v = run_check(catalog, check_id, docs)
    assert v.status is FindingStatus.FAIL
    assert_named(v, PORTAL, {"PC-LOKAAL-B12-03": line_of(PORTAL, '"PC-LOKAAL-B12-03"')})


# --- through the probe --------------------------------------------------------------------------


def _probe(catalog: Catalog, check_id: str, files: list[ExportFile]) -> ProbeOutcome:
    spec = probes()["config.rule"]
    params = spec.params.model_validate(catalog.checks[check_id].params)
    ctx = ProbeContext(exports=ExportStore(catalog.kinds, files), clock=Clock.at(TODAY))
    return spec.func(Target("sint-jozef", kind=TargetKind.SCHOOL), params, ctx)


def test_probe_reads_several_exports_of_one_kind(catalog: Catalog, tmp_path: Path) -> None:
    good = tmp_path / "exports" / "backup-nas.csv"
    bad = tmp_path / "exports" / "backup-cloud.csv"
    good.parent.mkdir()
    shutil.copy(sample("backup-report", "good"), good)
    shutil.copy(sample("backup-report", "bad"), bad)
    files = [
        ExportFile(good, "exports/backup-nas.csv", "backup-report"),
        ExportFile(bad, "exports/backup-cloud.csv", "backup-report"),
    ]
    outcome = _probe(catalog, "backup.offsite-or-immutable", files)
    assert outcome.status is FindingStatus.FAIL
    assert [f["sha256"] for f in outcome.evidence["files"]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (good, bad)
    ]
    assert {(it["file"], it["label"]) for it in evidence_items(outcome.evidence)} == {
        ("exports/backup-cloud.csv", "SRV-DC01 system state"),
        ("exports/backup-cloud.csv", "Wisa accounting"),
    }
    # The latest restore test over both reports is the good one's.
    assert _probe(catalog, "backup.restore-tested", files).status is FindingStatus.PASS


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        # Cut inside a quoted cell, as a download that stopped half-way.
        (lambda row: row[:40], "bad CSV: unexpected end of data"),
        # Cut at a cell boundary: too few cells.
        (
            lambda row: '","'.join(row.split('","')[:5]) + '"',
            "row has 5 cells where the header has 13",
        ),
    ],
)
def test_probe_truncated_csv_is_an_export_error(
    catalog: Catalog, tmp_path: Path, cut: Callable[[str], str], message: str
) -> None:
    path = tmp_path / "intune-devices.csv"
    lines = sample("intune-devices", "good").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines[:3], cut(lines[3])]) + "\n", encoding="utf-8")
    files = [ExportFile(path, "exports/intune-devices.csv", "intune-devices")]
    with pytest.raises(ExportError, match=rf"exports/intune-devices\.csv:4: {message}"):
        _probe(catalog, "endpoint.disk-encryption", files)


def test_probe_non_utf8_export_is_an_export_error(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "applications.csv"
    path.write_bytes(
        "application;owner;classification\nLeerlingvolgsysteem;Zorgcoördinator;vertrouwelijk\n".encode(
            "cp1252"
        )
    )
    files = [ExportFile(path, "exports/applications.csv", "application-inventory")]
    with pytest.raises(ExportError, match=r"exports/applications\.csv:2: not UTF-8"):
        _probe(catalog, "inventory.applications-classified", files)

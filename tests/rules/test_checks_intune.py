"""The endpoint checks on what Microsoft's tools give: Intune's Antivirus agent status report
(intune-defender-agents) and Graph's managed devices with their Defender state
(intune-managed-devices), alone and together with the All devices export; and the checks on
Intune's compliance policies (intune-compliance-policies). Run as the catalog defines them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cyberstd.catalog import Catalog
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.kinds import detect
from cyberstd.parsers.base import Node
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import Verdict, evaluate
from tests.rules.conftest import (
    TODAY,
    assert_named,
    check_params,
    item_line,
    line_of,
    parse_kind,
    run_check,
    sample,
)

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE
DEFENDER, GRAPH, ALL_DEVICES = "intune-defender-agents", "intune-managed-devices", "intune-devices"
POLICIES = "intune-compliance-policies"
NEW_KINDS = (DEFENDER, GRAPH, POLICIES)

# check -> kind -> the devices the bad sample of that kind fails on
BAD: dict[str, dict[str, tuple[str, ...]]] = {
    "endpoint.disk-encryption": {
        # isEncrypted false on two Windows PCs and a Mac (3 of 6: 50 %)
        GRAPH: ("LPT-LK-022", "PC-LOKAAL-B12-03", "MBP-ICT-02"),
    },
    "endpoint.antimalware-on": {
        # real-time protection off; both off (2 of 5: 40 %)
        DEFENDER: ("LPT-LK-022", "PC-LOKAAL-B12-03"),
        # the same, and a Windows laptop without any Defender state (3 of 5: 60 %)
        GRAPH: ("LPT-LK-022", "PC-LOKAAL-B12-03", "LPT-LK-031"),
    },
    "endpoint.signatures-fresh": {
        # overdue, and an empty cell; PC-LOKAAL-B12-03 (overdue) last reported on 02/09: not
        # a device in use
        DEFENDER: ("LPT-LK-022", "LPT-LK-031"),
        # overdue; a state not reported since 10/11 while the PC synced on 27/11; no state
        GRAPH: ("LPT-LK-022", "PC-SECR-01", "LPT-LK-031"),
    },
    "endpoint.os-supported": {
        GRAPH: ("LPT-LK-022", "PC-LOKAAL-B12-03", "MBP-ICT-02"),
    },
    "endpoint.checked-in": {
        # last syncs on 02/09 and 14/08 (2 of 7: 28.6 %)
        GRAPH: ("PC-LOKAAL-B12-03", "IPAD-KLAS-1B-02"),
    },
}
CASES = [(c, k) for c, kinds in BAD.items() for k in kinds]


def _docs(catalog: Catalog, **paths: Path) -> dict[str, list[Node]]:
    return {
        k.replace("_", "-"): [parse_kind(catalog, k.replace("_", "-"), p)] for k, p in paths.items()
    }


def _line(kind: str, path: Path, label: str) -> int:
    if kind == GRAPH:
        return item_line(path, f'"deviceName": "{label}"')
    return line_of(path, f'"{label}"')


def _json(tmp_path: Path, body: Any, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    return path


def _graph(variant: str = "good") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(sample(GRAPH, variant).read_text(encoding="utf-8"))
    return loaded


# --- the kinds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["good", "bad"])
@pytest.mark.parametrize("kind", NEW_KINDS)
def test_detect_recognises_each_sample(
    catalog: Catalog, kind: str, variant: str, tmp_path: Path
) -> None:
    path = sample(kind, variant)
    assert detect(path, catalog.kinds) == [kind]
    anonymous = tmp_path / ("export" + path.suffix)
    shutil.copy(path, anonymous)
    assert detect(anonymous, catalog.kinds) == [kind]


def test_the_defender_report_is_not_taken_for_the_all_devices_export(catalog: Catalog) -> None:
    """Given as intune-devices, the Antivirus agent status report is refused, saying which kind
    it is; given as its own kind it is read."""
    path = sample(DEFENDER, "bad")
    wrong = ExportStore(catalog.kinds).parsed(ExportFile(path, path.name, ALL_DEVICES))
    assert wrong.error is not None and "kind intune-defender-agents" in wrong.error.detail
    right = ExportStore(catalog.kinds).parsed(ExportFile(path, path.name, DEFENDER))
    assert right.tree is not None


@pytest.mark.parametrize(
    ("kind", "body", "marker"),
    [
        (GRAPH, {"value": [], "@odata.nextLink": "https://graph.microsoft.com/v1.0/x"}, "@odata.nextLink"),
        (POLICIES, {"value": [{"@odata.type": "#microsoft.graph.windows10CompliancePolicy",
                               "displayName": "W", "assignments": [],
                               "assignments@odata.nextLink": "https://graph.microsoft.com/v1.0/y"}]},
         "assignments@odata.nextLink"),
    ],
)  # fmt: skip
def test_one_page_of_several_is_refused(
    catalog: Catalog, tmp_path: Path, kind: str, body: dict[str, Any], marker: str
) -> None:
    path = _json(tmp_path, body)
    parsed = ExportStore(catalog.kinds).parsed(ExportFile(path, "export.json", kind))
    assert parsed.error is not None and "one page of several" in parsed.error.detail
    assert marker in parsed.error.detail


# --- the endpoint checks on each new kind alone -------------------------------------------------


@pytest.mark.parametrize(("check_id", "kind"), CASES)
def test_good_sample_passes(catalog: Catalog, check_id: str, kind: str) -> None:
    v = run_check(catalog, check_id, "good", kinds=[kind])
    assert v.status is P, v.message


@pytest.mark.parametrize(("check_id", "kind"), CASES)
def test_bad_sample_fails_naming_the_devices(catalog: Catalog, check_id: str, kind: str) -> None:
    path = sample(kind, "bad")
    v = run_check(catalog, check_id, "bad", kinds=[kind])
    assert v.status is F
    assert_named(v, path, {label: _line(kind, path, label) for label in BAD[check_id][kind]})


@pytest.mark.parametrize(
    ("check_id", "said"),
    [
        ("endpoint.disk-encryption", "no export of kind intune-devices or intune-managed-devices"),
        ("endpoint.os-supported", "no export of kind intune-devices or intune-managed-devices"),
        ("endpoint.checked-in", "no export of kind intune-devices or intune-managed-devices"),
    ],
)
def test_the_defender_report_alone_judges_no_encryption_version_or_check_in(
    catalog: Catalog, check_id: str, said: str
) -> None:
    v = run_check(catalog, check_id, "good", kinds=[DEFENDER])
    assert v.status is NA and said in v.message


@pytest.mark.parametrize("check_id", ["endpoint.antimalware-on", "endpoint.signatures-fresh"])
def test_graph_without_any_defender_state_is_not_judged(
    catalog: Catalog, tmp_path: Path, check_id: str
) -> None:
    body = _graph()
    for device in body["value"]:
        device["windowsProtectionState"] = None
    docs = _docs(catalog, intune_managed_devices=_json(tmp_path, body, "managed-devices.json"))
    v = run_check(catalog, check_id, docs)
    assert v.status is NA
    assert "no device in the export has a Defender state (windowsProtectionState)" in v.message


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_an_empty_tenant_is_never_a_pass(catalog: Catalog, tmp_path: Path, check_id: str) -> None:
    path = _json(tmp_path, {"@odata.context": _graph()["@odata.context"], "value": []})
    v = run_check(catalog, check_id, _docs(catalog, intune_managed_devices=path))
    assert v.status is NA, v.message


def test_the_powershell_array_with_its_pascal_case_names_is_read(
    catalog: Catalog, tmp_path: Path
) -> None:
    """Get-MgDeviceManagementManagedDevice | ConvertTo-Json writes a bare array whose names
    start with a capital (DeviceName, IsEncrypted): selectors match names without case."""

    def pascal(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k if k.startswith("@") else k[0].upper() + k[1:]: pascal(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [pascal(v) for v in value]
        return value

    path = _json(tmp_path, pascal(_graph("bad")["value"]), "devices.json")
    assert detect(path, catalog.kinds) == [GRAPH]
    docs = _docs(catalog, intune_managed_devices=path)
    for check_id, kinds in BAD.items():
        if GRAPH in kinds:
            v = run_check(catalog, check_id, docs)
            assert v.status is F
            assert_named(v, path, {label: item_line(path, f'"DeviceName": "{label}"')
                                   for label in kinds[GRAPH]})  # fmt: skip


# --- the exports together -----------------------------------------------------------------------


def test_every_export_that_shows_the_protection_must_meet_it(catalog: Catalog) -> None:
    """A sound All devices export beside a Defender report that shows protection off fails:
    the better export does not make up for the worse."""
    docs = _docs(
        catalog,
        intune_devices=sample(ALL_DEVICES, "good"),
        intune_defender_agents=sample(DEFENDER, "bad"),
    )
    v = run_check(catalog, "endpoint.antimalware-on", docs)
    assert v.status is F
    assert [p["status"] for p in v.evidence["all_of"]] == ["pass", "fail"]


def test_the_defender_report_judges_what_the_all_devices_export_cannot(catalog: Catalog) -> None:
    """Intune's plain All devices export has no anti-malware columns (its part is not judged);
    the Defender report beside it decides."""
    plain = sample(ALL_DEVICES, "good").parent.parent / "shares" / "all-devices-plain.csv"
    for defender, status in (("good", P), ("bad", F)):
        docs = _docs(
            catalog, intune_devices=plain, intune_defender_agents=sample(DEFENDER, defender)
        )
        for check_id in ("endpoint.antimalware-on", "endpoint.signatures-fresh"):
            v = run_check(catalog, check_id, docs)
            assert v.status is status, (check_id, v.message)
            csv_part, defender_part = v.evidence["all_of"]
            assert csv_part["status"] == "not_applicable"
            assert defender_part["kind"] == DEFENDER


def test_a_stale_defender_state_is_no_evidence_of_fresh_signatures(catalog: Catalog) -> None:
    """PC-SECR-01 synced on 27/11 but its Defender state dates from 10/11: Defender's 'not
    overdue' is 17 days old at the sync, so it counts against the device."""
    v = run_check(catalog, "endpoint.signatures-fresh", "bad", kinds=[GRAPH])
    (part,) = v.evidence["all_of"]
    stale = next(it for it in part["items"] if it["label"] == "PC-SECR-01")
    assert stale["actual"]["windowsProtectionState.signatureUpdateOverdue"] is False
    assert stale["actual"]["windowsProtectionState.lastReportedDateTime"] == "2026-11-10T08:10:02Z"


def test_devices_in_use_follow_the_day_of_the_run(catalog: Catalog) -> None:
    """The Defender report's devices in use are those that reported in the last 30 days: a
    month on, none is, and the check has nothing to judge."""
    params = check_params(catalog, "endpoint.signatures-fresh")
    docs = _docs(catalog, intune_defender_agents=sample(DEFENDER, "good"))
    assert evaluate(params, docs, TODAY).status is P
    later = evaluate(params, docs, TODAY + dt.timedelta(days=31))
    assert later.status is NA
    assert "holds no Windows devices that reported to Defender in the last 30 days" in later.message


# --- the compliance policies --------------------------------------------------------------------

COMPLIANCE = ("intune.compliance-encryption", "intune.compliance-antimalware")


def _policies(
    catalog: Catalog, tmp_path: Path, policies: list[dict[str, Any]]
) -> dict[str, list[Node]]:
    return _docs(catalog, intune_compliance_policies=_json(tmp_path, {"value": policies}))


def _windows(**settings: Any) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.windows10CompliancePolicy",
        "displayName": "Windows - naleving",
        **settings,
    }


def _to(*targets: str, group: str = "0b6d1f3a-5c7e-4a9b-8d2f-6e4c3b2a1f09") -> list[dict[str, Any]]:
    out = []
    for t in targets:
        target: dict[str, Any] = {"@odata.type": f"#microsoft.graph.{t}AssignmentTarget"}
        if "roup" in t:
            target["groupId"] = group
        out.append({"id": t, "target": target})
    return out


ENCRYPTS = {"bitLockerEnabled": True}
PROTECTS = {"defenderEnabled": True, "rtpEnabled": True}


@pytest.mark.parametrize("check_id", COMPLIANCE)
def test_compliance_good_sample_passes_naming_the_policy(catalog: Catalog, check_id: str) -> None:
    v = run_check(catalog, check_id, "good")
    assert v.status is P
    assert "Windows - BitLocker en Defender" in v.message


@pytest.mark.parametrize("check_id", COMPLIANCE)
def test_compliance_bad_sample_fails(catalog: Catalog, check_id: str) -> None:
    """The BitLocker policy is not assigned, the assigned Windows one asks for Defender without
    real-time protection, and Android's encryption is not about laptops."""
    v = run_check(catalog, check_id, "bad")
    assert v.status is F
    assert v.message.startswith("none of the alternatives holds: 0 Windows")


@pytest.mark.parametrize(
    ("settings", "assignments", "status"),
    [
        ({**ENCRYPTS, **PROTECTS}, _to("allDevices"), P),
        ({**ENCRYPTS, **PROTECTS}, _to("allLicensedUsers", "exclusionGroup"), P),
        ({**ENCRYPTS, **PROTECTS}, _to("group", "allDevices"), P),
        # an unassigned policy protects nothing
        ({**ENCRYPTS, **PROTECTS}, [], F),
        # a group excluded, nothing included
        ({**ENCRYPTS, **PROTECTS}, _to("exclusionGroup"), F),
        # asked for nothing
        ({"bitLockerEnabled": False, "defenderEnabled": True, "rtpEnabled": False}, _to("allDevices"), F),
        # groups only: whether they hold every device is not in the export
        ({**ENCRYPTS, **PROTECTS}, _to("group"), NA),
        ({**ENCRYPTS, **PROTECTS}, _to("group", "exclusionGroup"), NA),
    ],
)  # fmt: skip
def test_what_counts_as_an_assigned_policy(
    catalog: Catalog,
    tmp_path: Path,
    settings: dict[str, Any],
    assignments: list[dict[str, Any]],
    status: FindingStatus,
) -> None:
    docs = _policies(catalog, tmp_path, [_windows(**settings, assignments=assignments)])
    for check_id in COMPLIANCE:
        v = run_check(catalog, check_id, docs)
        assert v.status is status, (check_id, v.message)
        if status is NA:
            assert "Windows - naleving" in v.message and "Have it attested" in v.message


def test_other_ways_to_require_encryption_and_anti_malware(
    catalog: Catalog, tmp_path: Path
) -> None:
    """Storage encryption on Windows, FileVault on macOS, and any antivirus registered with
    Windows Security Center count; the same settings on Android do not."""
    mac = {"@odata.type": "#microsoft.graph.macOSCompliancePolicy", "displayName": "macOS",
           "storageRequireEncryption": True, "assignments": _to("allDevices")}  # fmt: skip
    storage = _windows(
        storageRequireEncryption=True, antivirusRequired=True, assignments=_to("allDevices")
    )
    android = {"@odata.type": "#microsoft.graph.androidCompliancePolicy", "displayName": "Android",
               "storageRequireEncryption": True, "assignments": _to("allDevices")}  # fmt: skip

    def verdict(check_id: str, *policies: dict[str, Any]) -> Verdict:
        return run_check(catalog, check_id, _policies(catalog, tmp_path, list(policies)))

    assert verdict("intune.compliance-encryption", mac).status is P
    assert verdict("intune.compliance-encryption", storage).status is P
    assert verdict("intune.compliance-antimalware", storage).status is P
    assert verdict("intune.compliance-encryption", android).status is F
    assert verdict("intune.compliance-antimalware", mac).status is F


@pytest.mark.parametrize("check_id", COMPLIANCE)
def test_a_tenant_without_compliance_policies_fails(
    catalog: Catalog, tmp_path: Path, check_id: str
) -> None:
    assert run_check(catalog, check_id, _policies(catalog, tmp_path, [])).status is F


def test_devices_without_their_os_version_are_no_evidence_of_support(
    catalog: Catalog, tmp_path: Path
) -> None:
    # a $select without osVersion (or a trimmed file) says nothing of the build
    body = _graph()
    for device in body["value"]:
        device.pop("osVersion", None)
    docs = _docs(catalog, intune_managed_devices=_json(tmp_path, body, "managed-devices.json"))
    v = run_check(catalog, "endpoint.os-supported", docs)
    assert v.status is NA and "osVersion" in v.message, v.message

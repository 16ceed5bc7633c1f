"""Intune through `cyberstd collect m365`: managed devices with each Windows device's Defender
status, compliance policies with their assignments, and a tenant without Intune."""

from __future__ import annotations

from pathlib import Path

import pytest

from cyberstd.collect.graph import GraphError
from cyberstd.collect.m365 import DEVICE_FIELDS, RESOURCES
from cyberstd.messages import catalog
from tests.collect.graph_server import Fault, GraphHTTPServer
from tests.collect.intune_data import make_devices
from tests.collect.test_m365 import Recorder, read, run

PROTECTION_FIELDS = {
    "malwareProtectionEnabled",
    "realTimeProtectionEnabled",
    "signatureUpdateOverdue",
    "antiMalwareVersion",
    "signatureVersion",
    "lastReportedDateTime",
    "deviceState",
}


def test_managed_devices_in_graph_shape_with_defender_status(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.page_size = 10  # three pages of devices
    rec = Recorder()
    run(school, env, rec)
    data = read(school, "managed-devices.json")
    assert list(data) == ["@odata.context", "cyberstdCollected", "value"]
    assert data["@odata.context"].endswith(
        f"$metadata#deviceManagement/managedDevices({DEVICE_FIELDS})"
    )
    assert data["cyberstdCollected"]["source"] == (
        f"/v1.0/deviceManagement/managedDevices?$select={DEVICE_FIELDS}"
    )
    devices = data["value"]
    assert [d["id"] for d in devices] == [d["id"] for d in graph.state.devices]
    for device in devices:
        assert set(device) == {*DEVICE_FIELDS.split(","), "windowsProtectionState"}
    windows = [d for d in devices if d["operatingSystem"] == "Windows"]
    others = [d for d in devices if d["operatingSystem"] != "Windows"]
    assert others and all(d["windowsProtectionState"] is None for d in others)
    states = [d["windowsProtectionState"] for d in windows]
    reported = [s for s in states if s is not None]
    assert len(reported) < len(states)  # a device without a state (404) is null, not an error
    for state in reported:
        assert set(state) >= PROTECTION_FIELDS
        assert "@odata.context" not in state and "value" not in state
    by_id = {d["id"]: d for d in windows}
    unwrapped = by_id["d0000000-0000-4000-8000-000000000006"]["windowsProtectionState"]
    assert unwrapped["id"] == "d0000000-0000-4000-8000-000000000006"  # was wrapped in "value"
    weak = by_id["d0000000-0000-4000-8000-000000000002"]["windowsProtectionState"]
    assert weak["realTimeProtectionEnabled"] is False and weak["signatureUpdateOverdue"] is True
    # one request per Windows device, none for the others
    assert len(graph.state.requests_to("/v1.0/deviceManagement/managedDevices/")) == len(windows)
    assert any(f"Defender status of {len(windows)} Windows devices" in x for x in rec.lines)
    assert any(f"  {len(devices)} devices" == line for line in rec.lines)


def test_compliance_policies_with_assignments(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    run(school, env)
    data = read(school, "compliance-policies.json")
    assert list(data) == ["@odata.context", "cyberstdCollected", "value"]
    assert data["@odata.context"].endswith(
        "$metadata#deviceManagement/deviceCompliancePolicies(assignments())"
    )
    policies = {p["@odata.type"]: p for p in data["value"]}
    windows = policies["#microsoft.graph.windows10CompliancePolicy"]
    for name in ("bitLockerEnabled", "storageRequireEncryption", "defenderEnabled", "rtpEnabled"):
        assert windows[name] is True
    assert windows["osMinimumVersion"] == "10.0.19045"
    targets = {
        kind: [a["target"]["@odata.type"] for a in p["assignments"]] for kind, p in policies.items()
    }
    assert targets == {
        "#microsoft.graph.windows10CompliancePolicy": [
            "#microsoft.graph.allDevicesAssignmentTarget"
        ],
        "#microsoft.graph.iosCompliancePolicy": ["#microsoft.graph.groupAssignmentTarget"],
    }


def test_throttled_defender_status_is_retried(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.faults["protection"] = [Fault(429, {"Retry-After": "3"})]
    rec = Recorder()
    run(school, env, rec)
    assert rec.sleeps == [3.0]
    assert any("windowsProtectionState: HTTP 429 (throttled)" in line for line in rec.lines)


def test_tenant_without_intune_gets_empty_lists_that_say_why(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.intune = False
    rec = Recorder()
    outcome = run(school, env, rec)
    assert "managed-devices.json" in [p.name for p in outcome.written]
    for name in ("managed-devices.json", "compliance-policies.json"):
        data = read(school, name)
        assert data["value"] == []
        assert "no Microsoft Intune licence" in data["cyberstdCollected"]["note"]
    assert sum("no Microsoft Intune licence" in line for line in rec.lines) == 2
    assert len(read(school, "users.json")["value"]) == 250  # the rest is read as before


def test_another_bad_request_is_still_an_error(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.faults["compliance"] = [Fault(500)]
    with pytest.raises(
        GraphError, match=r"deviceCompliancePolicies\?\$expand=assignments: HTTP 500"
    ):
        run(school, env)
    assert not (school / "exports" / "m365").exists()


def test_no_devices_is_an_empty_list_without_a_note(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.devices = make_devices(0)
    run(school, env)
    data = read(school, "managed-devices.json")
    assert data["value"] == [] and "note" not in data["cyberstdCollected"]


def test_every_resource_says_what_it_reads_in_both_languages() -> None:
    for resource in RESOURCES:
        for key in (f"m365.resource.{resource.name}", f"m365.count.{resource.name}"):
            assert set(catalog()[key]) == {"nl", "en"}, key

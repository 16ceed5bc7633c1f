"""Tests of the zone probes with real nmap: a small school on 127.0.42.0/24."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cyberstd import nmapscan
from cyberstd.catalog import load_catalog
from cyberstd.errors import ProbeError
from cyberstd.lab.services import TcpService, http_service, rdp_service, silent_service
from cyberstd.nmapscan import ToolMissing
from cyberstd.probes.segmentation import (
    DiscoveryMethod,
    ForbiddenParams,
    UnknownDevicesParams,
    ZoneRule,
    forbidden_reachable,
    read_inventory,
    unknown_devices,
)
from cyberstd.registry import ProbeContext, Target, TargetKind, probes
from cyberstd.results import FindingStatus
from cyberstd.runner import context_for
from cyberstd.schema import SchoolFile
from cyberstd.school import SchoolFolder
from tests.conftest import CLOCK

ADMIN_PC = "127.0.42.17"  # declared, remote desktop open
STRAY = "127.0.42.18"  # not declared: a web server nobody listed
BIG_HOST = "127.0.42.130"  # declared host in a zone too large to sweep
SCHOOL = Target(name="seg-school", kind=TargetKind.SCHOOL)


def _school(**network: Any) -> dict[str, Any]:
    return {
        "school": {"id": "seg-school", "name": "Segmentation test school"},
        "hosts": [
            {
                "name": "adminpc.seg.test",
                "address": ADMIN_PC,
                "roles": ["other"],
                "zone": "administration",
            },
            {
                "name": "srv.seg.test",
                "address": "127.0.42.33",
                "roles": ["server"],
                "zone": "servers",
            },
            {"name": "big.seg.test", "address": BIG_HOST, "roles": ["server"], "zone": "big"},
            {
                "name": "out.seg.test",
                "address": "127.0.42.70",
                "roles": ["server"],
                "zone": "unauthorised",
            },
        ],
        "zones": [
            {"id": "pupils", "cidr": "127.0.42.0/28"},
            {"id": "administration", "cidr": "127.0.42.16/28"},
            {"id": "servers", "cidr": "127.0.42.32/28"},
            {"id": "unauthorised", "cidr": "127.0.42.64/28"},
            {"id": "big", "cidr": "127.0.42.128/25"},
        ],
        "scope": [
            {
                "ranges": ["127.0.42.0/26", "127.0.42.128/25"],
                "authorized_by": "Test Director",
                "date": "2026-01-01",
            }
        ],
        "network": {"vantage_zone": "pupils", **network},
    }


def _ctx(folder: Path, data: dict[str, Any] | None = None) -> ProbeContext:
    school = SchoolFile.model_validate(data or _school())
    return context_for(SchoolFolder(dir=folder, school=school), timeout=5.0, clock=CLOCK)


@pytest.fixture(scope="module")
def lab() -> Iterator[dict[str, TcpService]]:
    with ExitStack() as stack:
        yield {
            "rdp": stack.enter_context(rdp_service(address=ADMIN_PC, port=3389)),
            "stray": stack.enter_context(http_service(address=STRAY, port=8080)),
            "big": stack.enter_context(silent_service(address=BIG_HOST, port=5900)),
        }


@pytest.fixture
def ctx(tmp_path: Path) -> ProbeContext:
    return _ctx(tmp_path)


# --- segmentation.forbidden-reachable ----------------------------------------------------------


def test_reachable_forbidden_services_fail_with_the_list(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    rule = ZoneRule(from_zone="pupils", to_zone="administration", ports=[3389, 8080, 445])
    outcome = forbidden_reachable(SCHOOL, ForbiddenParams(rules=[rule]), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert "from zone pupils, 2 forbidden service(s) are reachable" in outcome.message
    reachable = {(r["address"], r["port"]) for r in outcome.evidence["reachable"]}
    assert reachable == {(ADMIN_PC, 3389), (STRAY, 8080)}
    (record,) = outcome.evidence["rules"]
    assert record["judged"] is True
    assert record["targets"] == ["127.0.42.16/28"]  # the declared host lies inside the swept range
    assert "127.0.42.16/28" in outcome.evidence["nmap"][0]
    json.dumps(outcome.evidence)


def test_zones_in_dutch_are_judged_by_their_kind(
    lab: dict[str, TcpService], tmp_path: Path
) -> None:
    """The shipped rules speak of kinds (pupils -> administration); a school names its zones in
    Dutch and says their kind: the rule is judged, not skipped."""
    data = _school()
    renamed = {"pupils": ("wifi-leerlingen", "pupils"), "administration": ("administratie",
               "administration")}  # fmt: skip
    for zone in data["zones"]:
        if zone["id"] in renamed:
            zone["id"], zone["kind"] = renamed[zone["id"]]
    for host in data["hosts"]:
        if host["zone"] in renamed:
            host["zone"] = renamed[host["zone"]][0]
    data["network"]["vantage_zone"] = "wifi-leerlingen"
    rule = ZoneRule(from_zone="pupils", to_zone="administration", ports=[3389])
    outcome = forbidden_reachable(SCHOOL, ForbiddenParams(rules=[rule]), _ctx(tmp_path, data))
    assert outcome.status is FindingStatus.FAIL, outcome.message
    (record,) = outcome.evidence["rules"]
    assert record["judged"] is True and record["zones"] == ["administratie"]
    assert {(r["address"], r["port"]) for r in outcome.evidence["reachable"]} == {(ADMIN_PC, 3389)}


def test_nothing_reachable_passes(lab: dict[str, TcpService], ctx: ProbeContext) -> None:
    rules = [
        ZoneRule(from_zone="pupils", to_zone="servers", ports=[22, 3389, 5985]),
        ZoneRule(from_zone="guests", to_zone="administration", ports=[3389]),
    ]
    outcome = forbidden_reachable(SCHOOL, ForbiddenParams(rules=rules), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.message == "from zone pupils, nothing forbidden is reachable (1 rule(s) checked)"
    judged, skipped = outcome.evidence["rules"]
    assert judged["judged"] is True
    assert skipped["judged"] is False
    assert skipped["reason"] == "the scan runs from zone pupils (kind pupils), not from guests"


def test_rules_from_another_zone_are_not_judged(ctx: ProbeContext) -> None:
    rule = ZoneRule(from_zone="guests", to_zone="administration", ports=[3389])
    outcome = forbidden_reachable(SCHOOL, ForbiddenParams(rules=[rule]), ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert outcome.message == "no segmentation rule applies from vantage zone pupils"
    assert outcome.evidence["nmap"] == []


def test_without_a_vantage_zone_the_check_is_not_applicable(tmp_path: Path) -> None:
    data = _school()
    data["network"] = {}
    rule = ZoneRule(from_zone="pupils", to_zone="administration", ports=[3389])
    outcome = forbidden_reachable(SCHOOL, ForbiddenParams(rules=[rule]), _ctx(tmp_path, data))
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert "names no network.vantage_zone" in outcome.message


def test_without_rules_the_check_is_not_applicable(ctx: ProbeContext) -> None:
    outcome = forbidden_reachable(SCHOOL, ForbiddenParams(), ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert "no segmentation rules given" in outcome.message


def test_a_zone_too_large_to_sweep_is_probed_on_its_declared_hosts(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    rule = ZoneRule(from_zone="pupils", to_zone="big", ports=[5900])
    params = ForbiddenParams(rules=[rule], max_sweep_addresses=64)
    outcome = forbidden_reachable(SCHOOL, params, ctx)

    assert outcome.status is FindingStatus.FAIL
    assert [(r["address"], r["port"]) for r in outcome.evidence["reachable"]] == [(BIG_HOST, 5900)]
    (record,) = outcome.evidence["rules"]
    assert record["targets"] == [BIG_HOST]
    assert "more than max_sweep_addresses (64): not swept" in record["notes"][0]


def test_a_zone_outside_the_authorised_scope_is_never_scanned(ctx: ProbeContext) -> None:
    rule = ZoneRule(from_zone="pupils", to_zone="unauthorised", ports=[80])
    with pytest.raises(ProbeError, match=r"outside the authorised scope: out\.seg\.test"):
        forbidden_reachable(SCHOOL, ForbiddenParams(rules=[rule]), ctx)


def test_an_unknown_target_zone_is_not_judged(ctx: ProbeContext) -> None:
    rule = ZoneRule(from_zone="pupils", to_zone="printers", ports=[9100])
    outcome = forbidden_reachable(SCHOOL, ForbiddenParams(rules=[rule]), ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert (
        outcome.evidence["rules"][0]["reason"] == "school.yaml declares no zone of kind 'printers'"
    )


def test_rules_refuse_bad_ports_and_zone_names() -> None:
    with pytest.raises(ValidationError):
        ZoneRule(from_zone="pupils", to_zone="admin", ports=[0])
    with pytest.raises(ValidationError):
        ZoneRule(from_zone="pupils; rm", to_zone="admin", ports=[22])
    with pytest.raises(ValidationError):
        ZoneRule(from_zone="pupils", to_zone="admin", ports=[])


# --- inventory.unknown-devices -----------------------------------------------------------------


def _with_inventory(tmp_path: Path, text: str, name: str = "devices.csv") -> ProbeContext:
    (tmp_path / name).write_text(text)
    data = _school()
    data["exports"] = [{"path": name, "kind": "device-inventory"}]
    return _ctx(tmp_path, data)


def test_a_device_missing_from_the_inventory_fails(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    outcome = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.message == (
        "1 device(s) found that school.yaml (no inventory export) does not list: "
        f"{STRAY} (open: 8080)"
    )
    assert outcome.evidence["unknown"] == [STRAY]
    discovered = {d["address"]: d["open_ports"] for d in outcome.evidence["discovered"]}
    assert discovered == {ADMIN_PC: [3389], STRAY: [8080]}
    assert outcome.evidence["method"] == "tcp"  # loopback answers every address: count open ports
    assert outcome.warning == "school.yaml lists no export of kind device-inventory"
    json.dumps(outcome.evidence)


def test_an_inventoried_device_passes(lab: dict[str, TcpService], tmp_path: Path) -> None:
    ctx = _with_inventory(tmp_path, f"name,IP,owner\nprinter,{STRAY},ICT\nbroken,not-an-ip,x\n")
    outcome = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.message == "all 2 device(s) found in 1 zone(s) are declared or in the inventory"
    (used,) = outcome.evidence["inventory_files"]
    assert used["path"] == str(tmp_path / "devices.csv")
    assert (used["column"], used["addresses"], used["rows_without_address"]) == ("IP", 1, 1)
    assert len(used["sha256"]) == 64
    assert outcome.warning is None


def test_a_semicolon_inventory_from_excel_is_read(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_bytes("\ufeffToestel;IP Address;Lokaal\nprinter;127.0.42.18;B.0.12\n".encode())
    addresses, record = read_inventory(path)
    assert {str(a) for a in addresses} == {STRAY}
    assert record["column"] == "IP Address"


def test_a_ping_sweep_of_loopback_finds_every_address(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    # Why `auto` sweeps loopback with TCP: every 127/8 address answers, device or not.
    params = UnknownDevicesParams(zones=["administration"], method=DiscoveryMethod.PING)
    outcome = unknown_devices(SCHOOL, params, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["method"] == "ping"
    assert len(outcome.evidence["discovered"]) == 16
    assert ADMIN_PC not in outcome.evidence["unknown"] and STRAY in outcome.evidence["unknown"]
    assert "-sn" in outcome.evidence["nmap"][0]


def test_an_inventory_without_an_address_column_is_an_error(tmp_path: Path) -> None:
    ctx = _with_inventory(tmp_path, "name,mac\nprinter,00:11:22:33:44:55\n")
    with pytest.raises(ProbeError, match="no column named ip, ip_address or address"):
        unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)


def test_a_missing_inventory_file_is_an_error(tmp_path: Path) -> None:
    data = _school()
    data["exports"] = [{"path": "nowhere.csv", "kind": "device-inventory"}]
    with pytest.raises(ProbeError, match=r"nowhere\.csv cannot be read"):
        unknown_devices(
            SCHOOL, UnknownDevicesParams(zones=["administration"]), _ctx(tmp_path, data)
        )


def test_zones_too_large_are_skipped_with_a_warning(ctx: ProbeContext) -> None:
    params = UnknownDevicesParams(zones=["big"], max_sweep_addresses=64)
    outcome = unknown_devices(SCHOOL, params, ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert outcome.warning is not None and "not swept" in outcome.warning


def test_a_zone_outside_scope_is_refused(ctx: ProbeContext) -> None:
    with pytest.raises(ProbeError, match="no zone to sweep lies in the authorised scope"):
        unknown_devices(SCHOOL, UnknownDevicesParams(zones=["unauthorised"]), ctx)


def test_an_unknown_zone_is_an_error(ctx: ProbeContext) -> None:
    with pytest.raises(ProbeError, match="declares no zone 'library'"):
        unknown_devices(SCHOOL, UnknownDevicesParams(zones=["library"]), ctx)


def test_a_school_without_zones_is_not_applicable(tmp_path: Path) -> None:
    data = _school()
    data["zones"], data["network"] = [], {}
    for host in data["hosts"]:
        host.pop("zone")
    outcome = unknown_devices(SCHOOL, UnknownDevicesParams(), _ctx(tmp_path, data))
    assert outcome.status is FindingStatus.NOT_APPLICABLE


def test_missing_nmap_is_tool_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ctx: ProbeContext
) -> None:
    monkeypatch.setattr(nmapscan, "NMAP_SEARCH_PATH", (str(tmp_path / "nmap"),))
    rule = ZoneRule(from_zone="pupils", to_zone="servers", ports=[22])
    with pytest.raises(ToolMissing):
        forbidden_reachable(SCHOOL, ForbiddenParams(rules=[rule]), ctx)
    with pytest.raises(ToolMissing):
        unknown_devices(
            SCHOOL, UnknownDevicesParams(zones=["servers"], method=DiscoveryMethod.TCP), ctx
        )


def test_the_checks_are_in_the_catalog_with_valid_params() -> None:
    catalog, problems = load_catalog()
    assert problems == []
    for check_id in ("segmentation.forbidden-reachable", "inventory.unknown-devices"):
        check = catalog.checks[check_id]
        spec = probes()[check.probe]
        assert spec.target is TargetKind.SCHOOL
        spec.params.model_validate(check.params)


# --- plan shows what the scan does -------------------------------------------------------------


def test_the_plan_preview_names_exactly_what_the_scan_probes(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    """plan and scan pick targets with the same function: the ranges, ports, refusals and
    skipped rules the preview names are those the scan's evidence records."""
    from cyberstd.registry import preview_for

    rules = [
        ZoneRule(from_zone="pupils", to_zone="administration", ports=[3389, 445]),
        ZoneRule(from_zone="pupils", to_zone="big", ports=[5900]),
        ZoneRule(from_zone="guests", to_zone="administration", ports=[3389]),
    ]
    params = ForbiddenParams(rules=rules, max_sweep_addresses=64)
    preview_func = preview_for("segmentation.forbidden-reachable")
    assert preview_func is not None
    preview = preview_func(SCHOOL, params, ctx)
    outcome = forbidden_reachable(SCHOOL, params, ctx)

    scanned = [
        (t, tuple(r["ports"])) for r in outcome.evidence["rules"] for t in r.get("targets", [])
    ]
    assert [(r.what, r.ports) for r in preview.reaches] == scanned
    assert scanned == [("127.0.42.16/28", (445, 3389)), (BIG_HOST, (5900,))]
    assert preview.not_judged is None
    assert any("more than max_sweep_addresses (64)" in n for n in preview.notes)
    assert any("not from guests" in n for n in preview.notes)


def test_the_plan_says_why_segmentation_gives_no_verdict(ctx: ProbeContext, tmp_path: Path) -> None:
    from cyberstd.registry import preview_for

    preview_func = preview_for("segmentation.forbidden-reachable")
    assert preview_func is not None
    outside = ForbiddenParams(
        rules=[ZoneRule(from_zone="pupils", to_zone="unauthorised", ports=[80])]
    )
    preview = preview_func(SCHOOL, outside, ctx)
    assert preview.reaches == ()
    assert [t for t, _ in preview.refused] == ["out.seg.test (127.0.42.70)", "127.0.42.64/28"]
    assert preview.not_judged is not None
    assert "nothing of the zone lies in the authorised scope" in preview.not_judged[0]

    data = _school()
    del data["network"]["vantage_zone"]
    rule = ZoneRule(from_zone="pupils", to_zone="administration", ports=[3389])
    none = preview_func(SCHOOL, ForbiddenParams(rules=[rule]), _ctx(tmp_path, data))
    assert none.not_judged is not None and "vantage_zone" in none.not_judged[0]
    assert "vantage_zone" in none.not_judged[1] and "zone de scan loopt" in none.not_judged[1]


def test_the_plan_preview_of_the_device_sweep(ctx: ProbeContext, tmp_path: Path) -> None:
    from cyberstd.registry import preview_for

    preview_func = preview_for("inventory.unknown-devices")
    assert preview_func is not None
    params = UnknownDevicesParams(zones=["pupils", "big", "unauthorised"], max_sweep_addresses=64)
    preview = preview_func(SCHOOL, params, ctx)
    assert [r.what for r in preview.reaches] == ["127.0.42.0/28"]
    assert preview.reaches[0].ports == tuple(sorted(set(params.ports)))
    assert [t for t, _ in preview.refused] == ["127.0.42.64/28"]
    assert any("zone big" in n and "not swept" in n for n in preview.notes)

    data = _school()
    data["zones"] = []
    for host in data["hosts"]:
        host.pop("zone")
    empty = preview_func(SCHOOL, UnknownDevicesParams(), _ctx(tmp_path, data))
    assert empty.not_judged is not None and "no zones" in empty.not_judged[0]

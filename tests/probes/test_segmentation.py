"""Tests of the zone probes with real nmap: a small school on 127.0.42.0/24."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cyberstd.catalog import load_catalog
from cyberstd.errors import ExportError, ProbeError
from cyberstd.lab.dns import DnsServer
from cyberstd.lab.services import TcpService, http_service, rdp_service, silent_service
from cyberstd.net import nmap as nmapscan
from cyberstd.net.nmap import ToolMissing
from cyberstd.probes import probes
from cyberstd.probes.segmentation import (
    DiscoveryMethod,
    ForbiddenParams,
    UnknownDevicesParams,
    ZoneRule,
    forbidden_reachable,
    unknown_devices,
)
from cyberstd.registry import ProbeContext, Target, TargetKind
from cyberstd.results import FindingStatus
from cyberstd.runner import context_for
from cyberstd.schema import SchoolFile
from cyberstd.school import SchoolFolder
from tests.conftest import CLOCK, REPO

ADMIN_PC = "127.0.42.17"  # declared, remote desktop open
STRAY = "127.0.42.18"  # not declared: a web server nobody listed
BIG_HOST = "127.0.42.130"  # declared host in a zone too large to sweep
SCHOOL = Target(name="seg-school", kind=TargetKind.SCHOOL)
# The school's DNS server: the reverse zone gives STRAY the name its DHCP lease registered.
DNS = ("127.0.43.53", 10053)
STRAY_NAME = "lkr-lt-0412.seg.test"
REVERSE_ZONE = {
    "42.0.127.in-addr.arpa": [("SOA", "ns.seg.test. hostmaster.seg.test. 1 3600 600 86400 300")],
    "18.42.0.127.in-addr.arpa": [("PTR", f"{STRAY_NAME}.")],
}


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
        "network": {
            "vantage_zone": "pupils",
            "resolver": {"address": DNS[0], "port": DNS[1]},
            **network,
        },
    }


KINDS: dict[str, Any] = {}  # the catalog's export kinds, loaded once


def _ctx(folder: Path, data: dict[str, Any] | None = None) -> ProbeContext:
    if not KINDS:
        KINDS.update(load_catalog(REPO)[0].kinds)
    school = SchoolFile.model_validate(data or _school())
    return context_for(
        SchoolFolder(dir=folder, school=school), timeout=5.0, clock=CLOCK, kinds=KINDS
    )


@pytest.fixture(scope="module")
def lab() -> Iterator[dict[str, TcpService]]:
    with ExitStack() as stack:
        stack.enter_context(DnsServer(REVERSE_ZONE, address=DNS[0], port=DNS[1]))
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


def _with_inventory(
    tmp_path: Path, text: str, name: str = "devices.csv", kind: str = "device-inventory"
) -> ProbeContext:
    (tmp_path / name).write_text(text, encoding="utf-8")
    data = _school()
    data["exports"] = [{"path": name, "kind": kind}]
    return _ctx(tmp_path, data)


def _known(outcome: Any) -> dict[str, Any]:
    return {d["address"]: d["known_by"] for d in outcome.evidence["discovered"]}


def test_a_device_missing_from_the_inventory_fails(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    outcome = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.message == (
        "1 device(s) found that school.yaml (no inventory export) does not list: "
        f"{STRAY} (name {STRAY_NAME}, open: 8080)"
    )
    assert outcome.messages["nl"] == (
        "1 toestel gevonden dat niet in school.yaml (geen inventaris) staat: "
        f"{STRAY} (naam {STRAY_NAME}, open: 8080)"
    )
    assert outcome.evidence["unknown"] == [STRAY]
    discovered = {d["address"]: d["open_ports"] for d in outcome.evidence["discovered"]}
    assert discovered == {ADMIN_PC: [3389], STRAY: [8080]}
    assert _known(outcome) == {ADMIN_PC: {"source": "school.yaml", "by": "ip"}, STRAY: None}
    assert outcome.evidence["method"] == "tcp"  # loopback answers every address: count open ports
    assert outcome.warning == (
        "school.yaml lists no export of kind device-inventory or intune-devices"
    )
    json.dumps(outcome.evidence)


def test_an_inventoried_device_passes(lab: dict[str, TcpService], tmp_path: Path) -> None:
    ctx = _with_inventory(tmp_path, f"name,IP,owner\nprinter,{STRAY},ICT\nbroken,not-an-ip,x\n")
    outcome = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.message == "all 2 device(s) found in 1 zone(s) are declared or in the inventory"
    shown = "devices.csv"  # relative to the school folder, as every output names it
    assert _known(outcome)[STRAY] == {"source": shown, "by": "ip"}
    (used,) = outcome.evidence["inventory_files"]
    assert (used["path"], used["kind"]) == (shown, "device-inventory")
    assert used["columns"] == {"hostname": "name", "ip": "IP"}
    assert (used["rows"], used["addresses"], used["names"]) == (2, 1, 2)
    assert used["sha256"] == hashlib.sha256((tmp_path / "devices.csv").read_bytes()).hexdigest()
    assert outcome.warning is None


def test_a_laptop_on_dhcp_is_known_by_its_name(lab: dict[str, TcpService], tmp_path: Path) -> None:
    """A school's own list in Excel (nl-BE) with Dutch headers and no address for laptops on
    DHCP: the name the reverse look-up gives is the inventory's "Toestel"."""
    text = (
        "\ufeffToestel;IP-adres;Type;Eigenaar/Gebruiker;Locatie/Lokaal\r\n"
        "LKR-LT-0412;DHCP;laptop;An Declercq;mobiel\r\n"
        "PRN-LKK-2;10.20.30.12;printer;secretariaat;leraarskamer\r\n"
    )
    ctx = _with_inventory(tmp_path, text, "inventaris-toestellen.csv")
    outcome = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)

    assert outcome.status is FindingStatus.PASS, outcome.message
    stray = next(d for d in outcome.evidence["discovered"] if d["address"] == STRAY)
    assert stray["names"] == [STRAY_NAME]
    assert stray["known_by"] == {
        "source": "inventaris-toestellen.csv",
        "by": "name",
    }
    (used,) = outcome.evidence["inventory_files"]
    assert used["columns"] == {"hostname": "Toestel", "ip": "IP-adres"}
    assert (used["rows"], used["addresses"], used["names"]) == (2, 1, 2)


def test_the_intune_export_makes_its_devices_known(
    lab: dict[str, TcpService], tmp_path: Path
) -> None:
    """Intune's export (Devices > All devices > Export) as the endpoint checks read it: a
    managed laptop is a known device, here by its Device name."""
    source = REPO / "tests" / "data" / "realworld" / "intune" / "all-devices-export.csv"
    ctx = _with_inventory(
        tmp_path, source.read_text(encoding="utf-8"), "intune.csv", "intune-devices"
    )
    outcome = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)

    assert outcome.status is FindingStatus.PASS, outcome.message
    assert _known(outcome)[STRAY] == {"source": "intune.csv", "by": "name"}
    (used,) = outcome.evidence["inventory_files"]
    assert used["kind"] == "intune-devices"
    assert used["columns"] == {
        "hostname": "Device name",
        "ip": "WiFiIPv4Address",
        "mac": "Wi-Fi MAC",
        "mac_wired": "EthernetMAC",
    }
    assert (used["rows"], used["macs"]) == (13, 13)


def test_a_name_in_no_inventory_is_still_unknown(
    lab: dict[str, TcpService], tmp_path: Path
) -> None:
    ctx = _with_inventory(tmp_path, "Toestel;IP-adres\nLKR-LT-0418;DHCP\nlkr-lt-04;DHCP\n")
    outcome = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["unknown"] == [STRAY]
    assert f"{STRAY} (name {STRAY_NAME}, open: 8080)" in outcome.message


def test_without_reverse_look_ups_a_name_is_not_asked(
    lab: dict[str, TcpService], tmp_path: Path
) -> None:
    ctx = _with_inventory(tmp_path, "Toestel;IP-adres\nLKR-LT-0412;DHCP\n")
    params = UnknownDevicesParams(zones=["administration"], reverse_dns=False)
    outcome = unknown_devices(SCHOOL, params, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.message.endswith(f"{STRAY} (open: 8080)")
    assert "names" not in next(d for d in outcome.evidence["discovered"] if d["address"] == STRAY)


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


def test_an_inventory_without_a_name_column_is_an_export_error(tmp_path: Path) -> None:
    ctx = _with_inventory(tmp_path, "ip,owner\n127.0.42.18,ICT\n")
    with pytest.raises(ExportError, match=r"devices\.csv: this device-inventory export lacks "
                                         r"column 'hostname' \(or one of: hostnaam"):  # fmt: skip
        unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)


def test_a_missing_inventory_file_is_an_error(tmp_path: Path) -> None:
    data = _school()
    data["exports"] = [{"path": "nowhere.csv", "kind": "device-inventory"}]
    with pytest.raises(ExportError, match=r"nowhere\.csv"):
        unknown_devices(
            SCHOOL, UnknownDevicesParams(zones=["administration"]), _ctx(tmp_path, data)
        )


def _with_guests(data: dict[str, Any]) -> dict[str, Any]:
    """The pupils' zone is the guests' Wi-Fi, and the servers' zone holds personal devices."""
    for zone in data["zones"]:
        if zone["id"] == "pupils":
            zone["id"], zone["kind"] = "wifi-gasten", "guests"
        if zone["id"] == "servers":
            zone["id"], zone["kind"] = "eigen-toestellen", "byod"
    data["hosts"] = [h for h in data["hosts"] if h.get("zone") != "servers"]
    data["network"].pop("vantage_zone")
    return data


def test_zones_of_guests_and_personal_devices_are_not_swept(
    lab: dict[str, TcpService], tmp_path: Path
) -> None:
    ctx = _ctx(tmp_path, _with_guests(_school()))
    zones = ["wifi-gasten", "administration", "eigen-toestellen"]
    outcome = unknown_devices(SCHOOL, UnknownDevicesParams(zones=zones), ctx)
    assert outcome.evidence["zones"] == ["127.0.42.16/28"]
    assert outcome.evidence["skipped"] == [
        "zone wifi-gasten (127.0.42.0/28, kind guests) not swept: guests' and personal (BYOD) "
        "devices are not the school's",
        "zone eigen-toestellen (127.0.42.32/28, kind byod) not swept: guests' and personal "
        "(BYOD) devices are not the school's",
    ]
    assert outcome.warning is not None and "not swept" not in outcome.warning  # by design
    # a device on the guests' network that is in no inventory is not reported
    assert outcome.status is FindingStatus.FAIL and outcome.evidence["unknown"] == [STRAY]

    only_guests = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["wifi-gasten"]), ctx)
    assert only_guests.status is FindingStatus.NOT_APPLICABLE
    assert only_guests.message.startswith("nothing swept: zone wifi-gasten (127.0.42.0/28")
    assert only_guests.messages["nl"].startswith("niets doorzocht: zone wifi-gasten")


def test_the_pass_message_names_the_zones_left_out(
    lab: dict[str, TcpService], tmp_path: Path
) -> None:
    data = _with_guests(_school())
    (tmp_path / "devices.csv").write_text(f"hostname,ip\nprinter,{STRAY}\n", encoding="utf-8")
    data["exports"] = [{"path": "devices.csv", "kind": "device-inventory"}]
    params = UnknownDevicesParams(zones=["wifi-gasten", "administration"])
    outcome = unknown_devices(SCHOOL, params, _ctx(tmp_path, data))
    assert outcome.status is FindingStatus.PASS
    assert outcome.message == (
        "all 2 device(s) found in 1 zone(s) are declared or in the inventory; zones not swept "
        "(guests' and personal devices): wifi-gasten"
    )
    assert outcome.messages["nl"].endswith(
        "zones niet doorzocht (toestellen van gasten en eigen toestellen): wifi-gasten"
    )
    # a profile that does want them swept says so
    swept = unknown_devices(
        SCHOOL, UnknownDevicesParams(zones=["wifi-gasten"], skip_kinds=[]), _ctx(tmp_path, data)
    )
    assert swept.evidence["zones"] == ["127.0.42.0/28"]


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
    from cyberstd.probes import preview_for

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
    assert any("more than max_sweep_addresses (64)" in str(n) for n in preview.notes)
    assert any("not from guests" in str(n) for n in preview.notes)


def test_the_plan_says_why_segmentation_gives_no_verdict(ctx: ProbeContext, tmp_path: Path) -> None:
    from cyberstd.probes import preview_for

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
    from cyberstd.probes import preview_for

    preview_func = preview_for("inventory.unknown-devices")
    assert preview_func is not None
    params = UnknownDevicesParams(zones=["pupils", "big", "unauthorised"], max_sweep_addresses=64)
    preview = preview_func(SCHOOL, params, ctx)
    assert [r.what for r in preview.reaches] == ["127.0.42.0/28"]
    assert preview.reaches[0].ports == tuple(sorted(set(params.ports)))
    assert [t for t, _ in preview.refused] == ["127.0.42.64/28"]
    assert any("zone big" in str(n) and "not swept" in str(n) for n in preview.notes)

    data = _school()
    data["zones"] = []
    for host in data["hosts"]:
        host.pop("zone")
    empty = preview_func(SCHOOL, UnknownDevicesParams(), _ctx(tmp_path, data))
    assert empty.not_judged is not None and "no zones" in empty.not_judged[0]


def test_the_plan_preview_of_the_device_sweep_is_what_the_scan_sweeps(
    lab: dict[str, TcpService], tmp_path: Path
) -> None:
    """plan and scan pick the zones to sweep with the same function: the ranges, the zones left
    out (guests, BYOD, too large) and the refusals the preview names are the scan's."""
    from cyberstd.probes import preview_for

    preview_func = preview_for("inventory.unknown-devices")
    assert preview_func is not None
    ctx = _ctx(tmp_path, _with_guests(_school()))
    params = UnknownDevicesParams(
        zones=["wifi-gasten", "administration", "eigen-toestellen", "big", "unauthorised"],
        max_sweep_addresses=64,
    )
    preview = preview_func(SCHOOL, params, ctx)
    outcome = unknown_devices(SCHOOL, params, ctx)

    assert [r.what for r in preview.reaches] == outcome.evidence["zones"] == ["127.0.42.16/28"]
    assert [str(n) for n in preview.notes] == outcome.evidence["skipped"]
    assert any("zone big" in str(n) and "not swept" in str(n) for n in preview.notes)
    assert any("zone wifi-gasten" in str(n) and "kind guests" in str(n) for n in preview.notes)
    assert any("zone eigen-toestellen" in str(n) and "kind byod" in str(n) for n in preview.notes)
    assert (
        [t for t, _ in preview.refused]
        == [n["target"] for n in outcome.evidence["not_probed"]]
        == ["127.0.42.64/28"]
    )

    guests_only = params.model_copy(update={"zones": ["wifi-gasten", "eigen-toestellen"]})
    none = preview_func(SCHOOL, guests_only, ctx)
    assert none.not_judged is not None and "kind guests" in none.not_judged[0]
    scan = unknown_devices(SCHOOL, guests_only, ctx)
    assert scan.status is FindingStatus.NOT_APPLICABLE
    assert none.not_judged[0].removeprefix("nothing to sweep: ") == scan.message.removeprefix(
        "nothing swept: "
    )


def test_the_guests_check_judges_from_the_guest_network_and_counts_for_t3_and_t10(
    lab: dict[str, TcpService], tmp_path: Path
) -> None:
    """GRIP T3 asks for separate, isolated guest networks and T10 for a test from the pupils'
    or guest network: the guests' rules are a check of their own, mapped to both."""
    from cyberstd.profiles import resolve

    catalog = load_catalog(REPO)[0]
    data = _school()
    for zone in data["zones"]:
        if zone["id"] == "pupils":
            zone["id"], zone["kind"] = "wifi-gasten", "guests"
    data["network"]["vantage_zone"] = "wifi-gasten"
    params = ForbiddenParams.model_validate(catalog.checks["segmentation.guests-isolated"].params)
    outcome = forbidden_reachable(SCHOOL, params, _ctx(tmp_path, data))
    assert outcome.status is FindingStatus.FAIL, outcome.message
    assert (ADMIN_PC, 3389) in {(r["address"], r["port"]) for r in outcome.evidence["reachable"]}
    # From the pupils' network the guests' rules are not judged, and the pupils' check has none.
    pupils = forbidden_reachable(SCHOOL, params, _ctx(tmp_path))
    assert pupils.status is FindingStatus.NOT_APPLICABLE
    shipped = catalog.checks["segmentation.forbidden-reachable"].params["rules"]
    assert {r["from_zone"] for r in shipped} == {"pupils"}
    planned = resolve(catalog, "grip-basis-4").checks["segmentation.guests-isolated"]
    assert set(planned.controls) == {"T3", "T10"}

"""The zone probes, the device sweep, their plan previews and the configuration probe speak
Dutch: every outcome, warning and error has a Dutch text of its own, with no English sentence.

Real nmap against the lab school of test_segmentation (127.0.42.0/24)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cyberstd.catalog import load_catalog
from cyberstd.errors import ExportError, ProbeError
from cyberstd.lab.services import TcpService
from cyberstd.probes import preview_for, probes
from cyberstd.probes.config import config_rule
from cyberstd.probes.segmentation import (
    ForbiddenParams,
    UnknownDevicesParams,
    ZoneRule,
    forbidden_reachable,
    unknown_devices,
)
from cyberstd.registry import ProbeContext
from cyberstd.results import FindingStatus
from tests.conftest import CLOCK, REPO
from tests.probes import test_segmentation
from tests.probes.test_ports_dutch import dutch, error_said, said, warned
from tests.probes.test_segmentation import (
    ADMIN_PC,
    SCHOOL,
    STRAY,
    STRAY_NAME,
    _ctx,
    _school,
    _with_guests,
    _with_inventory,
)

# the fixtures of test_segmentation: its lab school and its context
lab = test_segmentation.lab
ctx = test_segmentation.ctx


# --- segmentation.forbidden-reachable ----------------------------------------------------------


def test_forbidden_reachable_in_dutch(lab: dict[str, TcpService], ctx: ProbeContext) -> None:
    rule = ZoneRule(from_zone="pupils", to_zone="administration", ports=[3389, 8080, 445])
    fail = forbidden_reachable(SCHOOL, ForbiddenParams(rules=[rule]), ctx)
    assert fail.status is FindingStatus.FAIL
    text = said(fail)
    assert text.startswith("vanuit zone pupils zijn 2 verboden diensten bereikbaar: ")
    assert f"{ADMIN_PC}:3389 (" in text and f"{STRAY}:8080 (" in text

    one = ZoneRule(from_zone="pupils", to_zone="administration", ports=[3389])
    assert "is 1 verboden dienst bereikbaar" in said(
        forbidden_reachable(SCHOOL, ForbiddenParams(rules=[one]), ctx)
    )

    rules = [
        ZoneRule(from_zone="pupils", to_zone="servers", ports=[22, 3389, 5985]),
        ZoneRule(from_zone="guests", to_zone="administration", ports=[3389]),
    ]
    ok = forbidden_reachable(SCHOOL, ForbiddenParams(rules=rules), ctx)
    assert ok.status is FindingStatus.PASS
    assert said(ok) == "vanuit zone pupils is niets verbodens bereikbaar (1 regel gecontroleerd)"
    assert ok.evidence["rules"][1]["reason"].startswith("the scan runs from")  # evidence: English


def test_forbidden_reachable_not_judged_in_dutch(ctx: ProbeContext, tmp_path: Path) -> None:
    other = ZoneRule(from_zone="guests", to_zone="administration", ports=[3389])
    none = forbidden_reachable(SCHOOL, ForbiddenParams(rules=[other]), ctx)
    assert said(none) == "geen segmentatieregel geldt vanuit zone pupils"

    no_rules = forbidden_reachable(SCHOOL, ForbiddenParams(), ctx)
    assert said(no_rules).startswith("geen segmentatieregels opgegeven")

    data = _school()
    data["network"] = {}
    rule = ZoneRule(from_zone="pupils", to_zone="administration", ports=[3389])
    no_vantage = forbidden_reachable(SCHOOL, ForbiddenParams(rules=[rule]), _ctx(tmp_path, data))
    assert "vanuit welke zone de scan loopt" in said(no_vantage)

    outside = ZoneRule(from_zone="pupils", to_zone="unauthorised", ports=[80])
    with pytest.raises(ProbeError) as caught:
        forbidden_reachable(SCHOOL, ForbiddenParams(rules=[outside]), ctx)
    assert error_said(caught.value).startswith(
        "elk doel van de segmentatieregels die gelden ligt buiten de toegestane scope: out.seg.test"
    )

    with pytest.raises(ProbeError) as no_school:
        forbidden_reachable(
            SCHOOL, ForbiddenParams(rules=[rule]), ProbeContext(clock=CLOCK, timeout=1.0)
        )
    assert "heeft de school.yaml van de school nodig" in error_said(no_school.value)


# --- inventory.unknown-devices -----------------------------------------------------------------


def test_unknown_devices_in_dutch(lab: dict[str, TcpService], ctx: ProbeContext) -> None:
    fail = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), ctx)
    assert fail.status is FindingStatus.FAIL
    assert said(fail) == (
        "1 toestel gevonden dat niet in school.yaml (geen inventaris) staat: "
        f"{STRAY} (naam {STRAY_NAME}, open: 8080)"
    )
    assert warned(fail) == (
        "school.yaml vermeldt geen export van soort device-inventory of intune-devices"
    )


def test_known_devices_and_zones_left_out_in_dutch(
    lab: dict[str, TcpService], tmp_path: Path
) -> None:
    data = _with_guests(_school())
    (tmp_path / "devices.csv").write_text(f"hostname,ip\nprinter,{STRAY}\n", encoding="utf-8")
    data["exports"] = [{"path": "devices.csv", "kind": "device-inventory"}]
    params = UnknownDevicesParams(zones=["wifi-gasten", "administration"])
    ok = unknown_devices(SCHOOL, params, _ctx(tmp_path, data))
    assert ok.status is FindingStatus.PASS
    assert said(ok) == (
        "alle 2 gevonden toestellen in 1 zone staan in school.yaml of in de inventaris; zones "
        "niet doorzocht (toestellen van gasten en eigen toestellen): wifi-gasten"
    )

    guests = unknown_devices(
        SCHOOL, UnknownDevicesParams(zones=["wifi-gasten"]), _ctx(tmp_path, data)
    )
    assert guests.status is FindingStatus.NOT_APPLICABLE
    assert said(guests) == (
        "niets doorzocht: zone wifi-gasten (127.0.42.0/28, soort guests) niet doorzocht: "
        "toestellen van gasten en eigen toestellen (BYOD) zijn niet van de school"
    )


def test_device_sweep_not_judged_in_dutch(ctx: ProbeContext, tmp_path: Path) -> None:
    big = unknown_devices(SCHOOL, UnknownDevicesParams(zones=["big"], max_sweep_addresses=64), ctx)
    assert big.status is FindingStatus.NOT_APPLICABLE
    assert said(big).startswith("niets doorzocht: zone big (127.0.42.128/25) heeft 128 adressen")
    assert warned(big).endswith("meer dan max_sweep_addresses (64): niet doorzocht")

    with pytest.raises(ProbeError) as outside:
        unknown_devices(SCHOOL, UnknownDevicesParams(zones=["unauthorised"]), ctx)
    assert error_said(outside.value).startswith(
        "geen enkele te doorzoeken zone ligt binnen de toegestane scope: 127.0.42.64/28"
    )
    with pytest.raises(ProbeError) as unknown_zone:
        unknown_devices(SCHOOL, UnknownDevicesParams(zones=["library"]), ctx)
    assert error_said(unknown_zone.value) == "school.yaml vermeldt geen zone 'library'"

    data = _school()
    data["zones"] = []
    for host in data["hosts"]:
        host.pop("zone")
    no_zones = unknown_devices(SCHOOL, UnknownDevicesParams(), _ctx(tmp_path, data))
    assert said(no_zones) == "school.yaml vermeldt geen zones om onbekende toestellen in te zoeken"

    broken = _with_inventory(tmp_path, "ip,owner\n127.0.42.18,ICT\n")
    with pytest.raises(ExportError) as caught:
        unknown_devices(SCHOOL, UnknownDevicesParams(zones=["administration"]), broken)
    assert error_said(caught.value, "devices.csv").startswith(
        "een toestellenlijst is niet te lezen: "
    )


# --- what the plan says ------------------------------------------------------------------------


def test_the_plan_previews_in_dutch(ctx: ProbeContext, tmp_path: Path) -> None:
    segmentation = preview_for("segmentation.forbidden-reachable")
    sweep = preview_for("inventory.unknown-devices")
    assert segmentation is not None and sweep is not None

    outside = ForbiddenParams(
        rules=[
            ZoneRule(from_zone="pupils", to_zone="unauthorised", ports=[80]),
            ZoneRule(from_zone="guests", to_zone="administration", ports=[3389]),
        ]
    )
    preview = segmentation(SCHOOL, outside, ctx)
    assert preview.not_judged is not None
    en, nl = preview.not_judged
    assert dutch(nl, en) == (
        "geen segmentatieregel geldt vanuit zone pupils: pupils -> unauthorised: niets van de zone "
        "ligt binnen de toegestane scope; guests -> administration: de scan loopt vanuit zone "
        "pupils (soort pupils), niet vanuit guests"
    )
    no_rules = segmentation(SCHOOL, ForbiddenParams(), ctx).not_judged
    assert no_rules is not None
    assert dutch(no_rules[1], no_rules[0]).endswith("geen segmentatieregels opgegeven")

    data = _with_guests(_school())
    guests = sweep(SCHOOL, UnknownDevicesParams(zones=["wifi-gasten"]), _ctx(tmp_path, data))
    assert guests.not_judged is not None
    assert dutch(guests.not_judged[1], guests.not_judged[0]).startswith(
        "niets om te doorzoeken: zone wifi-gasten (127.0.42.0/28, soort guests) niet doorzocht"
    )
    refused = sweep(SCHOOL, UnknownDevicesParams(zones=["unauthorised"]), ctx).not_judged
    assert refused is not None
    assert dutch(refused[1], refused[0]) == (
        "niets om te doorzoeken: geen enkele zone ligt binnen de toegestane scope"
    )


# --- config.rule -------------------------------------------------------------------------------


def test_a_rule_without_its_export_in_dutch(ctx: ProbeContext) -> None:
    check = load_catalog(REPO)[0].checks["fortigate.admin-on-wan"]
    params = probes()[check.probe].params.model_validate(check.params)
    none = config_rule(SCHOOL, params, ctx)
    assert none.status is FindingStatus.NOT_APPLICABLE
    assert said(none) == "de school vermeldt geen export van soort fortigate"

    config = preview_for("config.rule")
    assert config is not None
    not_judged = config(SCHOOL, params, ctx).not_judged
    assert not_judged is not None
    assert dutch(not_judged[1], not_judged[0]) == said(none)

"""The school's known devices and how a live host is matched to them: by IP address, MAC address
or name, whichever the school's lists hold."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from cyberstd.catalog import load_catalog
from cyberstd.errors import ExportError
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.inventory import KnownDevices, Match, known_devices, normal_mac, short_name
from cyberstd.schema import SchoolFile
from tests.conftest import REPO

INTUNE = REPO / "tests" / "data" / "realworld" / "intune" / "all-devices-export.csv"
DUTCH = REPO / "tests" / "data" / "realworld" / "inventory" / "devices-dutch-headers.csv"
SCHOOL = SchoolFile.model_validate(
    {
        "school": {"id": "hhi", "name": "Heilig-Hartinstituut"},
        "hosts": [{"name": "fw.hhi-waterdonk.test", "address": "10.20.0.1", "roles": ["firewall"]}],
    }
)


@pytest.mark.parametrize(
    ("text", "mac"),
    [
        ("02:1A:2B:3C:4D:5E", "021a2b3c4d5e"),
        ("02-1a-2b-3c-4d-5e", "021a2b3c4d5e"),
        ("021a.2b3c.4d5e", "021a2b3c4d5e"),
        ("a6c1e2f30412", "a6c1e2f30412"),  # Intune's Wi-Fi MAC, without separators
        (" 02:1A:2B:3C:4D:5E ", "021a2b3c4d5e"),
        ("00:00:00:00:00:00", None),
        ("02:1A:2B:3C:4D", None),
        ("DHCP", None),
        ("", None),
    ],
)
def test_mac_addresses_however_written(text: str, mac: str | None) -> None:
    assert normal_mac(text) == mac


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("LKR-LT-0412", "lkr-lt-0412"),
        ("lkr-lt-0412.hhi.local.", "lkr-lt-0412"),
        ("DC01", "dc01"),
        ("10.20.0.31", None),  # Lansweeper names a device without a name by its address
        ("fe80::1", None),
        ("iPad-kar (24 toestellen)", None),
        ("", None),
    ],
)
def test_names_by_their_first_label(text: str, name: str | None) -> None:
    assert short_name(text) == name


def _store(*files: tuple[Path, str]) -> ExportStore:
    catalog, problems = load_catalog(REPO)
    assert problems == []
    return ExportStore(catalog.kinds, [ExportFile(p, p.name, kind) for p, kind in files])


def test_known_by_address_mac_or_name_from_each_list() -> None:
    known = known_devices(SCHOOL, _store((DUTCH, "device-inventory"), (INTUNE, "intune-devices")))
    ip = ipaddress.ip_address
    # declared in school.yaml
    assert known.match(ip("10.20.0.1")) == Match("school.yaml", "ip")
    assert known.match(ip("192.0.2.1"), names=("FW.hhi-waterdonk.test",)) == Match(
        "school.yaml", "name"
    )
    # the school's own list: addresses where it has them
    assert known.match(ip("10.20.30.12")) == Match("devices-dutch-headers.csv", "ip")
    # Intune: a laptop on DHCP by its Wi-Fi MAC (written with colons by nmap) or its name
    assert known.match(ip("192.0.2.50"), mac="A6:C1:E2:F3:04:12") == Match(
        "all-devices-export.csv", "mac"
    )
    assert known.match(ip("192.0.2.51"), names=("lkr-lt-0418.hhi.local",)) == Match(
        "devices-dutch-headers.csv",
        "name",  # listed in both: the first list read is named
    )
    assert known.match(ip("192.0.2.52"), mac="02:00:00:00:00:01", names=("gast-telefoon",)) is None
    dutch, intune = known.files
    assert dutch["columns"] == {"hostname": "hostnaam", "ip": "ip-adres"}
    # "DHCP" is no address: 13 rows, 7 addresses
    assert (dutch["rows"], dutch["addresses"], dutch["macs"], dutch["names"]) == (13, 7, 0, 13)
    assert intune["kind"] == "intune-devices" and intune["macs"] == 13


def test_an_address_is_tried_before_a_mac_address_and_a_name() -> None:
    known = KnownDevices(
        {ipaddress.ip_address("10.0.0.1"): "a.csv"}, {"021a2b3c4d5e": "b.csv"}, {"pc": "c.csv"}, ()
    )
    hit = known.match(ipaddress.ip_address("10.0.0.1"), "02:1a:2b:3c:4d:5e", ("pc",))
    assert hit == Match("a.csv", "ip")
    hit = known.match(ipaddress.ip_address("10.0.0.2"), "02:1a:2b:3c:4d:5e", ("pc",))
    assert hit == Match("b.csv", "mac")


def test_an_export_that_cannot_be_read_is_an_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "toestellen.csv"
    broken.write_text("Toestel;IP-adres\nPC-01;10.0.0.1;extra\n", encoding="utf-8")
    with pytest.raises(ExportError, match=r"toestellen\.csv:2: row has 3 cells"):
        known_devices(SCHOOL, _store((broken, "device-inventory")))


def test_without_exports_only_school_yaml_is_known() -> None:
    known = known_devices(SCHOOL, None)
    assert known.files == () and set(known.names) == {"fw"}

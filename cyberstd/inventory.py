"""The school's known devices (declared hosts, device inventories, Intune's device export) and how
a live host found on the network is matched to them: by IP address, MAC address or name."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from cyberstd.errors import ExportError
from cyberstd.exports import ExportStore
from cyberstd.kinds import FIELDS
from cyberstd.messages import msg
from cyberstd.parsers.base import Node
from cyberstd.schema import SchoolFile

Address = IPv4Address | IPv6Address

# Exports that list the school's devices: its own inventories (GRIP O5) and the devices its
# endpoint management knows (O5 accepts such an export as the inventory).
INVENTORY_KINDS = ("device-inventory", "intune-devices")
# The column names (kinds' column_names) that identify a device on the network.
ADDRESS_FIELDS = ("ip",)
MAC_FIELDS = ("mac", "mac_wired")
NAME_FIELDS = ("hostname",)

_HEX = re.compile(r"[0-9a-f]{12}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62})")


def normal_mac(text: str) -> str | None:
    """A MAC address as 12 lowercase hex digits, however it is written ("AA:BB:..",
    "aa-bb-..", "aabb.ccdd.eeff", Intune's "a6c1e2f30412"), or None when it is none."""
    digits = re.sub(r"[\s:.-]", "", text).casefold()
    return digits if _HEX.fullmatch(digits) and digits != "0" * 12 else None


def short_name(text: str) -> str | None:
    """A host name's first label, without case ("LKR-LT-0412.school.local." is "lkr-lt-0412"),
    or None for what is no host name (an IP address, a description with spaces)."""
    name = text.strip().rstrip(".").casefold()
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return None
    label = name.split(".", 1)[0]
    return label if _LABEL.fullmatch(label) else None


@dataclass(frozen=True)
class Match:
    """How a live host is known: from where (school.yaml or an export) and by what."""

    source: str  # "school.yaml" or the export's path as shown
    by: str  # "ip", "mac" or "name"


@dataclass(frozen=True)
class KnownDevices:
    """Every address, MAC address and short name the school lists, with where each came from,
    and a record of each export read (for the evidence)."""

    addresses: dict[Address, str]
    macs: dict[str, str]
    names: dict[str, str]
    files: tuple[dict[str, Any], ...]

    def match(self, address: Address, mac: str = "", names: tuple[str, ...] = ()) -> Match | None:
        """How the host is known, trying its address, then its MAC address, then its names."""
        if address in self.addresses:
            return Match(self.addresses[address], "ip")
        normal = normal_mac(mac) if mac else None
        if normal is not None and normal in self.macs:
            return Match(self.macs[normal], "mac")
        for name in names:
            short = short_name(name)
            if short is not None and short in self.names:
                return Match(self.names[short], "name")
        return None


def _cells(row: Node, fields: tuple[str, ...]) -> list[str]:
    out = []
    for name in fields:
        cell = row.get(name)
        if cell is not None and cell.value is not None and not isinstance(cell.value, dict | list):
            out.append(str(cell.value))
    return out


def _read(tree: Node, source: str, found: KnownDevices) -> dict[str, Any]:
    """Add one export's devices to `found`; what was read from it, for the evidence."""
    rows = tree.get("rows")
    record = {"rows": 0, "addresses": 0, "macs": 0, "names": 0}
    for row in rows.value if rows is not None and isinstance(rows.value, list) else []:
        record["rows"] += 1
        for text in _cells(row, ADDRESS_FIELDS):
            try:
                address = ipaddress.ip_address(text.strip())
            except ValueError:
                continue  # "DHCP", a range, a typo: no address to match on
            found.addresses.setdefault(address, source)
            record["addresses"] += 1
        for text in _cells(row, MAC_FIELDS):
            mac = normal_mac(text)
            if mac is not None:
                found.macs.setdefault(mac, source)
                record["macs"] += 1
        for text in _cells(row, NAME_FIELDS):
            short = short_name(text)
            if short is not None:
                found.names.setdefault(short, source)
                record["names"] += 1
    fields = tree.get(FIELDS)
    wanted = (*ADDRESS_FIELDS, *MAC_FIELDS, *NAME_FIELDS)
    columns = (
        {k: str(v.value) for k, v in fields.value.items() if k in wanted}
        if fields is not None and isinstance(fields.value, dict)
        else {}
    )
    return {"columns": columns, **record}


def known_devices(school: SchoolFile, store: ExportStore | None) -> KnownDevices:
    """The hosts school.yaml declares and the devices of every export of INVENTORY_KINDS.

    Raises ExportError when such an export cannot be read or parsed (naming file and line)."""
    found = KnownDevices({}, {}, {}, ())
    for host in school.hosts:
        if host.address is not None:
            found.addresses.setdefault(host.address, "school.yaml")
        short = short_name(host.name)
        if short is not None:
            found.names.setdefault(short, "school.yaml")
    files: list[dict[str, Any]] = []
    problems: list[str] = []
    for kind in INVENTORY_KINDS:
        for export in store.of_kind(kind) if store is not None else []:
            parsed = store.parsed(export) if store is not None else None
            if parsed is None or parsed.tree is None:
                problems.append(str(parsed.error) if parsed is not None else export.display)
                continue
            record = _read(parsed.tree, export.display, found)
            files.append({"path": export.display, "kind": kind, "sha256": parsed.sha256, **record})
    if problems:
        raise ExportError(msg("inventory.unreadable", problems="; ".join(problems)))
    return KnownDevices(found.addresses, found.macs, found.names, tuple(files))

"""Network probes of the school's zones with nmap: forbidden zones reachable, devices missing from the inventory."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from cyberstd.errors import ProbeError, ProbeTimeout, ScopeError
from cyberstd.inventory import INVENTORY_KINDS, KnownDevices, known_devices
from cyberstd.listing import alternatives, commas
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.net.nmap import (
    DISCOVERY_PORTS,
    Address,
    Deadline,
    HostResult,
    Network,
    ScanMode,
    ScanRequest,
    ScanResult,
    gave_up,
    run_scan,
    service_name,
)
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.schema import SchoolFile, ZoneDef, ZoneKind

Port = Annotated[int, Field(ge=1, le=65535)]
ZoneId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=80)]

SEGMENTATION_BUDGET = 10.0
INVENTORY_BUDGET = 10.0
DEFAULT_MAX_SWEEP = 256
# A reverse look-up waits at most this long: a resolver that does not answer costs little.
REVERSE_TIMEOUT = 2.0


def _school(ctx: ProbeContext) -> SchoolFile:
    if ctx.school is None:
        raise ProbeError(msg("segmentation.no-school"))
    return ctx.school


def _zone_hosts(school: SchoolFile, zone: ZoneDef) -> list[tuple[str, Address]]:
    """Declared hosts of a zone: those that name it, and those whose address lies in it."""
    found = []
    for host in school.hosts:
        if host.address is None:
            continue
        if host.zone == zone.id or (
            host.zone is None
            and host.address.version == zone.cidr.version
            and host.address in zone.cidr
        ):
            found.append((host.name, host.address))
    return found


@dataclass(frozen=True)
class NotProbed:
    """A host or range the scope guard refuses, with the guard's reason."""

    target: str
    why: Msg

    def record(self) -> dict[str, str]:
        """As the evidence keeps it (`not_probed`), in English."""
        return {"target": self.target, "reason": f"outside scope: {self.why.render('en')}"}


def _refused(target: str, exc: ScopeError) -> NotProbed:
    return NotProbed(target, exc.said if exc.said is not None else verbatim(str(exc)))


@dataclass
class _Targets:
    """What one zone contributes to a scan, and what was left out and why."""

    networks: list[Network] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    not_probed: list[NotProbed] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)
    # zones left out on purpose, by their kind (guests, BYOD), with why
    excluded: list[Msg] = field(default_factory=list)

    def all(self) -> list[Address | Network]:
        inside = [a for a in self.addresses if not any(_within(a, n) for n in self.networks)]
        return [*self.networks, *dict.fromkeys(inside)]


def _within(address: Address, network: Network) -> bool:
    return address.version == network.version and address in network


def _zone_targets(
    school: SchoolFile, zone: ZoneDef, ctx: ProbeContext, max_sweep: int, *, hosts: bool
) -> _Targets:
    out = _Targets()
    if hosts:
        for name, address in _zone_hosts(school, zone):
            try:
                ctx.guard(name, str(address))
            except ScopeError as exc:
                out.not_probed.append(_refused(f"{name} ({address})", exc))
                continue
            out.addresses.append(address)
    size = zone.cidr.num_addresses
    if size > max_sweep:
        out.notes.append(
            msg(
                "segmentation.too-large",
                zone=zone.id,
                cidr=str(zone.cidr),
                size=size,
                most=max_sweep,
            )
        )
        return out
    try:
        ctx.guard_range(str(zone.cidr))
    except ScopeError as exc:
        out.not_probed.append(_refused(str(zone.cidr), exc))
        return out
    out.networks.append(zone.cidr)
    return out


def _scan(
    targets: list[Address | Network],
    ctx: ProbeContext,
    deadline: Deadline,
    *,
    mode: ScanMode = ScanMode.CONNECT,
    ports: tuple[int, ...] = (),
) -> list[tuple[HostResult, ScanResult]]:
    """One nmap run per IP version over `targets`; every host with its run."""
    found: list[tuple[HostResult, ScanResult]] = []
    for version in (4, 6):
        mine = tuple(t for t in targets if t.version == version)
        if not mine:
            continue
        host_timeout, process_timeout = deadline.budget()
        request = ScanRequest(
            targets=mine,
            mode=mode,
            ports=ports,
            assume_up=mode is not ScanMode.PING,
            host_timeout=host_timeout,
            max_rate=ctx.limiter.rate,
        )
        ctx.limiter.acquire()
        result = run_scan(request, timeout=process_timeout)
        found.extend((host, result) for host in result.hosts)
    return found


def _timed_out(hosts: Iterable[tuple[HostResult, ScanResult]]) -> list[str]:
    return sorted({h.address for h, _ in hosts if h.timed_out})


# --- segmentation.forbidden-reachable ----------------------------------------------------------


class ZoneRule(BaseModel):
    """From `from_zone`, none of `ports` may be reachable on anything in `to_zone`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_zone: ZoneId
    to_zone: ZoneId
    ports: list[Port] = Field(min_length=1)


class ForbiddenParams(ProbeParams):
    rules: list[ZoneRule] = Field(
        default_factory=list, description="Zone pairs and the ports that must be unreachable."
    )
    max_sweep_addresses: int = Field(default=DEFAULT_MAX_SWEEP, ge=1, le=65536)


class RuleTargets(NamedTuple):
    """One rule as the scan from a vantage zone would judge it: its record (with `judged` and,
    when false, the reason), the addresses and ranges to try, what the scope guard refuses, why
    the rule is not judged (None when it is) and what it leaves out (zones too large to sweep,
    also in the record as `notes`)."""

    record: dict[str, Any]
    targets: list[Address | Network]
    refused: list[NotProbed]
    why_not: Msg | None
    notes: list[Msg]


def rule_targets(
    rule: ZoneRule, school: SchoolFile, vantage: str, ctx: ProbeContext, max_sweep: int
) -> RuleTargets:
    """One rule as the scan from `vantage` would judge it (see RuleTargets). Sends nothing;
    `plan` shows the same."""
    zones = {z.id: z for z in school.zones}
    here = zones.get(vantage)
    vantage_kind = str(here.effective_kind) if here is not None and here.effective_kind else None
    record: dict[str, Any] = {
        "from_zone": rule.from_zone,
        "to_zone": rule.to_zone,
        "ports": sorted(set(rule.ports)),
        "judged": False,
    }
    # a rule names zone kinds (pupils, administration, ...), or a zone's own id
    if rule.from_zone not in (vantage, vantage_kind):
        kind = verbatim(vantage_kind) if vantage_kind else msg("segmentation.kind-not-given")
        why = msg("segmentation.other-vantage", vantage=vantage, kind=kind, zone=rule.from_zone)
        record["reason"] = str(why)
        return RuleTargets(record, [], [], why, [])
    matched = [z for z in school.zones if rule.to_zone in (z.id, str(z.effective_kind or ""))]
    if not matched:
        why = msg("segmentation.no-such-zone", kind=repr(rule.to_zone))
        record["reason"] = str(why)
        return RuleTargets(record, [], [], why, [])
    targets: list[Address | Network] = []
    refused: list[NotProbed] = []
    notes: list[Msg] = []
    for zone in matched:
        found = _zone_targets(school, zone, ctx, max_sweep, hosts=True)
        refused.extend(found.not_probed)
        targets += [t for t in found.all() if t not in targets]
        notes.extend(found.notes)
    if notes:
        record["notes"] = [str(n) for n in notes]
    record["zones"] = [z.id for z in matched]
    record["targets"] = [str(t) for t in targets]
    if not targets:
        why = msg("segmentation.zone-out-of-scope")
        record["reason"] = str(why)
        return RuleTargets(record, [], refused, why, notes)
    record["judged"] = True
    return RuleTargets(record, targets, refused, None, notes)


@probe(
    "segmentation.forbidden-reachable",
    params=ForbiddenParams,
    target=TargetKind.SCHOOL,
    budget=SEGMENTATION_BUDGET,
    tool="nmap",
)
def forbidden_reachable(target: Target, params: ForbiddenParams, ctx: ProbeContext) -> ProbeOutcome:
    """From the zone the scan runs in, the zones it must not reach are really unreachable.

    school.yaml names the zones (id and CIDR) and `network.vantage_zone`, the zone this scan
    runs from (for example the pupils' Wi-Fi). Each rule of `rules` (set by the profile) says
    which ports of `to_zone` must not be reachable from `from_zone`. Rules whose `from_zone` is
    not the vantage zone are not judged (run the scan from that zone for them). For each other
    rule a TCP connect scan (nmap -sT, no ping, no DNS) tries the rule's ports on the declared
    hosts of `to_zone` and, when the zone has at most `max_sweep_addresses` addresses, on the
    whole range. Every host and range must be in the authorised scope; what is not is listed
    as not probed.

    Pass: no port of any applicable rule is open.
    Fail: something answers; the message and the evidence list address, port and service.
    Not applicable: no vantage zone in school.yaml, no rules, or no rule starts from it.

    Parameters: `rules` (list of `from_zone`, `to_zone`, `ports`), `max_sweep_addresses`
    (default 256).
    Evidence: `vantage_zone`, `rules` (each with its targets or why it was not judged),
    `reachable` (address, port, service, rule), `not_probed`, `nmap` (the command lines).
    """
    school = _school(ctx)
    vantage = school.network.vantage_zone
    if vantage is None:
        return ProbeOutcome.said(FindingStatus.NOT_APPLICABLE, msg("segmentation.no-vantage"))
    if not params.rules:
        no_rules = msg("segmentation.no-rules")
        return ProbeOutcome.said(FindingStatus.NOT_APPLICABLE, no_rules, {"vantage_zone": vantage})
    deadline = Deadline(ctx.timeout * SEGMENTATION_BUDGET)
    rules_seen: list[dict[str, Any]] = []
    reachable: list[dict[str, Any]] = []
    not_probed: list[NotProbed] = []
    commands: list[str] = []
    judged = 0
    for rule in params.rules:
        record, targets, refused, _, _ = rule_targets(
            rule, school, vantage, ctx, params.max_sweep_addresses
        )
        rules_seen.append(record)
        not_probed.extend(refused)
        if not record["judged"]:
            continue
        judged += 1
        scanned = _scan(targets, ctx, deadline, ports=tuple(sorted(set(rule.ports))))
        commands.extend(dict.fromkeys(" ".join(r.argv) for _, r in scanned))
        timed_out = _timed_out(scanned)
        if timed_out:
            record["timed_out"] = timed_out
        for host, _ in scanned:
            for port in host.open_ports():
                reachable.append(
                    {
                        "address": host.address,
                        "port": port.port,
                        "service": port.service,
                        "rule": f"{rule.from_zone} -> {rule.to_zone}",
                    }
                )
    evidence: dict[str, Any] = {
        "vantage_zone": vantage,
        "rules": rules_seen,
        "reachable": reachable,
        "not_probed": [n.record() for n in not_probed],
        "nmap": commands,
    }
    if judged == 0:
        if not_probed:
            outside = "; ".join(n.target for n in not_probed)
            raise ProbeError(msg("segmentation.all-out-of-scope", targets=outside))
        none = msg("segmentation.no-rule-applies", vantage=vantage)
        return ProbeOutcome.said(FindingStatus.NOT_APPLICABLE, none, evidence)
    timed = sorted({a for r in rules_seen for a in r.get("timed_out", [])})
    warnings = [gave_up(timed)] if timed else []
    if reachable:
        listed = [
            msg(
                "segmentation.reachable.item",
                address=r["address"],
                port=r["port"],
                service=service_name(r["service"]),
            )
            for r in reachable[:20]
        ]
        found = msg(
            "segmentation.reachable",
            vantage=vantage,
            n=len(reachable),
            listed=commas(listed),
            more=_more(len(reachable) - 20),
        )
        return ProbeOutcome.said(FindingStatus.FAIL, found, evidence, warnings)
    if timed and len(timed) == sum(len(r.get("targets", [])) for r in rules_seen):
        raise ProbeTimeout(msg("segmentation.all-timed-out", addresses=", ".join(timed)))
    nothing = msg("segmentation.nothing-reachable", vantage=vantage, n=judged)
    return ProbeOutcome.said(FindingStatus.PASS, nothing, evidence, warnings)


def _more(left: int) -> Msg | str:
    """ " and 5 more" when some of a list are left out."""
    return msg("segmentation.and-more", n=left) if left > 0 else ""


# --- inventory.unknown-devices -----------------------------------------------------------------


class DiscoveryMethod(StrEnum):
    """How hosts are discovered: ping sweep, TCP connect sweep, or whichever fits."""

    AUTO = "auto"
    PING = "ping"
    TCP = "tcp"


class UnknownDevicesParams(ProbeParams):
    zones: list[ZoneId] | None = Field(
        default=None, description="Zones to sweep (default: every zone in school.yaml)."
    )
    max_sweep_addresses: int = Field(default=DEFAULT_MAX_SWEEP, ge=1, le=65536)
    method: DiscoveryMethod = DiscoveryMethod.AUTO
    ports: list[Port] = Field(
        default_factory=lambda: list(DISCOVERY_PORTS),
        min_length=1,
        description="Ports a TCP sweep tries on every address.",
    )
    skip_kinds: list[ZoneKind] = Field(
        default_factory=lambda: [ZoneKind.GUESTS, ZoneKind.BYOD],
        description="Kinds of zone not swept: guests' and personal (BYOD) devices are not the "
        "school's devices, which GRIP O5 inventories.",
    )
    reverse_dns: bool = Field(
        default=True,
        description="Look up the name (PTR) of a host that matches no address or MAC address, "
        "through the scan's resolver, and match it by name.",
    )


def _own_address(network: Network) -> Address | None:
    # The address this machine would send from into the zone: it is the scanner, not a device.
    # Connecting a UDP socket only picks the route; no packet is sent.
    family = socket.AF_INET if network.version == 4 else socket.AF_INET6
    probe_to = str(next(iter(network.hosts()), network.network_address))
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((probe_to, 9))
            own = ipaddress.ip_address(sock.getsockname()[0])
    except (OSError, ValueError):
        return None
    return own if own.version == network.version and own in network else None


def _method(requested: DiscoveryMethod, networks: list[Network]) -> DiscoveryMethod:
    if requested is not DiscoveryMethod.AUTO:
        return requested
    if any(n.is_loopback for n in networks):
        return DiscoveryMethod.TCP
    privileged = hasattr(os, "geteuid") and os.geteuid() == 0
    return DiscoveryMethod.PING if privileged else DiscoveryMethod.TCP


def sweep_targets(
    school: SchoolFile, params: UnknownDevicesParams, ctx: ProbeContext
) -> _Targets | None:
    """The ranges the device sweep would cover, the zones too large to sweep (notes) and what
    the scope guard refuses; None when school.yaml declares no zone to sweep. Sends nothing."""
    wanted = params.zones if params.zones is not None else [z.id for z in school.zones]
    zones = {z.id: z for z in school.zones}
    missing = [z for z in wanted if z not in zones]
    if missing:
        raise ProbeError(msg("segmentation.unknown-zone", zones=", ".join(map(repr, missing))))
    if not wanted:
        return None
    out = _Targets()
    for zone_id in dict.fromkeys(wanted):
        zone = zones[zone_id]
        kind = zone.effective_kind
        if kind is not None and kind in params.skip_kinds:
            out.excluded.append(
                msg("inventory.zone-excluded", zone=zone.id, cidr=str(zone.cidr), kind=str(kind))
            )
            continue
        found = _zone_targets(school, zone, ctx, params.max_sweep_addresses, hosts=False)
        out.networks.extend(found.networks)
        out.notes.extend(found.notes)
        out.not_probed.extend(found.not_probed)
    return out


def _reverse(ctx: ProbeContext, address: str, deadline: Deadline) -> str | None:
    left = deadline.remaining() - 1.0
    if left <= 0:
        return None
    return ctx.resolver.reverse(address, timeout=min(REVERSE_TIMEOUT, left))


def _identify(
    hosts: list[HostResult], known: KnownDevices, ctx: ProbeContext, deadline: Deadline, rdns: bool
) -> list[dict[str, Any]]:
    """Every live host with what identifies it and how the school knows it (None: unknown)."""
    found = []
    for h in hosts:
        address = ipaddress.ip_address(h.address)
        names = h.hostnames
        match = known.match(address, h.mac, names)
        if match is None and rdns:
            name = _reverse(ctx, h.address, deadline)
            if name is not None and name not in names:
                names = (*names, name)
                match = known.match(address, h.mac, names)
        record: dict[str, Any] = {
            "address": h.address,
            "open_ports": [p.port for p in h.open_ports()],
        }
        if h.mac:
            record["mac"] = h.mac
        if names:
            record["names"] = list(names)
        record["known_by"] = None if match is None else {"source": match.source, "by": match.by}
        found.append(record)
    return found


def _device(d: dict[str, Any]) -> Msg:
    """An unknown host in words: address, then name, MAC address and open ports if known."""
    return msg(
        "inventory.device",
        address=d["address"],
        name=msg("inventory.device.name", name=d["names"][0]) if "names" in d else "",
        mac=f"MAC {d['mac']}, " if "mac" in d else "",
        ports=", ".join(map(str, d["open_ports"])) or msg("inventory.device.no-ports"),
    )


def _listed(unknown: list[dict[str, Any]]) -> Msg:
    """The first 20 unknown hosts in words, and how many more there are."""
    shown = commas([_device(d) for d in unknown[:20]])
    return msg("inventory.devices", shown=shown, more=_more(len(unknown) - 20))


def _excluded_zones(sweep: _Targets) -> Msg | str:
    if not sweep.excluded:
        return ""
    ids = ", ".join(str(e.args["zone"]) for e in sweep.excluded)
    return msg("inventory.zones-excluded", zones=ids)


@probe(
    "inventory.unknown-devices",
    params=UnknownDevicesParams,
    target=TargetKind.SCHOOL,
    budget=INVENTORY_BUDGET,
    tool="nmap",
)
def unknown_devices(
    target: Target, params: UnknownDevicesParams, ctx: ProbeContext
) -> ProbeOutcome:
    """Every device found on the school's internal networks is a device the school knows.

    Sweeps the zones of school.yaml (`zones`, default all) for live hosts and matches each one
    to the declared hosts and to the school's device lists: the exports of kind
    `device-inventory` (its own inventory, an asset tool's report, or Intune's device export
    given as the inventory) and `intune-devices`, whose columns are read under the names of
    checks/data/kinds/. A host is known when its IP address, its MAC address (when
    nmap reports one) or its name is listed; the name is the one nmap reports or the one a
    reverse (PTR) look-up through the scan's resolver gives (`reverse_dns`), compared by its
    first label without case, so that a laptop on DHCP is found by name. Every range must be
    in the authorised scope.

    Zones whose kind is in `skip_kinds` (default guests and byod) are not swept: guests' and
    personal devices are not the school's, and GRIP O5 inventories the school's devices. A
    zone larger than `max_sweep_addresses` is skipped with a warning.

    Discovery: `method` ping (nmap -sn: ARP on the local network, ICMP and TCP probes; needs
    root; only then does nmap see MAC addresses) or tcp (a TCP connect sweep of `ports`, no
    privileges needed); auto picks ping when running as root and tcp otherwise. A TCP sweep
    counts a host only when one of `ports` is open: a closed port's reset would prove a host
    is there, but on loopback every address resets, and some firewalls reset for absent hosts
    too. So a TCP sweep can miss a device with every port shut. The scanning machine's own
    address is left out.

    Pass: every host found is known by address, MAC address or name.
    Fail: a host matches nothing; the message lists each with its name, MAC address and open
    ports where known.
    Not applicable: school.yaml declares no zones (or none of those asked for), or every zone
    is skipped.

    Parameters: `zones`, `max_sweep_addresses` (default 256), `method` (auto, ping, tcp),
    `ports` (for the TCP sweep), `skip_kinds`, `reverse_dns` (default true).
    Evidence: `method`, `zones` swept, `skipped` zones with why, `discovered` (address, open
    ports, MAC address, names, and `known_by`: source and ip/mac/name), `unknown`,
    `inventory_files` (path, kind, sha256, the columns read, and how many rows, addresses, MAC
    addresses and names), `not_probed`, `nmap`.
    """
    school = _school(ctx)
    sweep = sweep_targets(school, params, ctx)
    if sweep is None:
        return ProbeOutcome.said(FindingStatus.NOT_APPLICABLE, msg("inventory.no-zones"))
    networks, not_probed = sweep.networks, sweep.not_probed
    known = known_devices(school, ctx.exports)
    skipped = [*sweep.notes, *sweep.excluded]
    evidence: dict[str, Any] = {
        "zones": [str(n) for n in networks],
        "skipped": [str(s) for s in skipped],
        "not_probed": [n.record() for n in not_probed],
        "inventory_files": list(known.files),
    }
    if not networks:
        if not_probed:
            outside = "; ".join(n.target for n in not_probed)
            raise ProbeError(msg("inventory.all-out-of-scope", targets=outside))
        nothing = msg("inventory.nothing-swept", why=skipped)
        return ProbeOutcome.said(FindingStatus.NOT_APPLICABLE, nothing, evidence, sweep.notes)
    method = _method(params.method, networks)
    deadline = Deadline(ctx.timeout * INVENTORY_BUDGET)
    targets: list[Address | Network] = list(networks)
    if method is DiscoveryMethod.PING:
        scanned = _scan(targets, ctx, deadline, mode=ScanMode.PING)
        live = [h for h, _ in scanned if h.state == "up"]
    else:
        scanned = _scan(targets, ctx, deadline, ports=tuple(sorted(set(params.ports))))
        live = [h for h, _ in scanned if h.open_ports()]
    own = {a for a in (_own_address(n) for n in networks) if a is not None}
    hosts = [h for h in live if ipaddress.ip_address(h.address) not in own]
    discovered = _identify(hosts, known, ctx, deadline, params.reverse_dns)
    unknown = [d for d in discovered if d["known_by"] is None]
    evidence.update(
        method=str(method),
        discovered=discovered,
        unknown=[d["address"] for d in unknown],
        scanner_addresses=sorted(str(a) for a in own),
        nmap=list(dict.fromkeys(" ".join(r.argv) for _, r in scanned)),
    )
    notes = list(sweep.notes)
    if not known.files:
        notes.append(msg("inventory.no-export", kinds=alternatives(INVENTORY_KINDS)))
    timed = _timed_out(scanned)
    if timed:
        notes.append(gave_up(timed))
    if unknown:
        where = msg("inventory.where.list" if known.files else "inventory.where.school")
        found = msg("inventory.unknown", n=len(unknown), where=where, listed=_listed(unknown))
        return ProbeOutcome.said(FindingStatus.FAIL, found, evidence, notes)
    all_known = msg(
        "inventory.all-known",
        n=len(discovered),
        zones=msg("inventory.zones", n=len(networks)),
        excluded=_excluded_zones(sweep),
    )
    return ProbeOutcome.said(FindingStatus.PASS, all_known, evidence, notes)

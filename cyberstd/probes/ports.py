"""Port probes with nmap: risky services reachable, ports open beyond the allow-list, outdated software."""

from __future__ import annotations

import functools
import ipaddress
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.listing import commas
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.net.banners import Outcome, ServiceRead, read_banner
from cyberstd.net.nmap import (
    NMAP_LISTEN_SECONDS,
    Deadline,
    HostResult,
    PortResult,
    ScanMode,
    ScanRequest,
    ScanResult,
    clip,
    decimal,
    run_scan,
    run_scans,
    service_name,
)
from cyberstd.net.tcp import run_all
from cyberstd.paths import catalog_name, default_root
from cyberstd.probes.software_versions import (
    MinVersionsFile,
    components,
    load_min_versions,
    read_components,
    read_ports,
)
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.schema import HostRole

Port = Annotated[int, Field(ge=1, le=65535)]

# What each risky port is, by its well-known number (T7: remote access; O18: exposed services).
RISKY_PORTS: dict[int, str] = {
    21: "FTP",
    23: "Telnet",
    139: "NetBIOS session service",
    445: "SMB (Windows file sharing)",
    1433: "Microsoft SQL Server",
    3306: "MySQL/MariaDB",
    3389: "RDP (remote desktop)",
    5432: "PostgreSQL",
    5900: "VNC",
    5901: "VNC",
    6379: "Redis",
    9200: "Elasticsearch",
    27017: "MongoDB",
}

# The same services by the names a school may use for them in a host's `ports` in school.yaml,
# so that a risky service moved to another port is still recognised.
RISKY_SERVICE_NAMES: dict[str, str] = {
    "ftp": "FTP",
    "telnet": "Telnet",
    "netbios": "NetBIOS session service",
    "netbios-ssn": "NetBIOS session service",
    "smb": "SMB (Windows file sharing)",
    "microsoft-ds": "SMB (Windows file sharing)",
    "mssql": "Microsoft SQL Server",
    "ms-sql-s": "Microsoft SQL Server",
    "mysql": "MySQL/MariaDB",
    "rdp": "RDP (remote desktop)",
    "ms-wbt-server": "RDP (remote desktop)",
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "vnc": "VNC",
    "redis": "Redis",
    "elasticsearch": "Elasticsearch",
    "mongodb": "MongoDB",
}

# Firewall and VPN appliance management ports, counted only on hosts with those roles (where the
# port otherwise means a web server): 4444 Sophos Firewall WebAdmin; 8443 the usual HTTPS admin
# port once a VPN portal holds 443 (FortiGate, SonicWall, UniFi); 10443 FortiGate admin or SSL-VPN
# alternative; 8080 WatchGuard Fireware Web UI; 8291 MikroTik Winbox; 4117 WatchGuard management.
FIREWALL_ADMIN_PORTS: tuple[int, ...] = (4117, 4444, 8080, 8291, 8443, 10443)
ADMIN_SERVICE_NAMES = frozenset({"admin", "management", "webadmin", "mgmt"})
ADMIN_INTERFACE = "firewall/VPN administration interface"
OTHER_RISKY = "risky service (port {port})"

# Ports where the services that announce a version usually listen, for software.outdated.
SERVICE_PORTS: tuple[int, ...] = (
    21,
    22,
    25,
    80,
    110,
    143,
    443,
    465,
    587,
    993,
    995,
    3306,
    5432,
    8080,
    8443,
)

CATALOG_ROOT = default_root()
MIN_VERSIONS_FILE = CATALOG_ROOT / "checks" / "data" / "min-versions.yaml"

# Budgets (x the scan timeout) for the runner's hard limit; each probe keeps nmap inside it.
EXPOSED_BUDGET = 3.0
UNDECLARED_BUDGET = 6.0
OUTDATED_BUDGET = 4.0


# --- shared ------------------------------------------------------------------------------------


def target_ip(target: Target) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The target's address as an ipaddress object (the only kind nmap is given)."""
    try:
        return ipaddress.ip_address(target.address)
    except ValueError:
        said = msg("ports.not-an-ip", name=target.name, address=repr(target.address))
        raise ConnectivityError(said) from None


def _scan_host(
    target: Target,
    ctx: ProbeContext,
    deadline: Deadline,
    *,
    ports: tuple[int, ...] = (),
    top_ports: int | None = None,
) -> tuple[HostResult, ScanResult]:
    host_timeout, process_timeout = deadline.budget()
    request = ScanRequest(
        targets=(target_ip(target),),
        ports=ports,
        top_ports=top_ports,
        host_timeout=host_timeout,
        max_rate=ctx.limiter.rate,
    )
    ctx.limiter.acquire()
    result = run_scan(request, timeout=process_timeout)
    host = result.host(str(request.targets[0]))
    where = {"name": target.name, "address": target.address}
    if host is None:
        detail = verbatim("; ".join(result.messages)) if result.messages else msg("ports.no-result")
        raise ProtocolError(msg("ports.nothing-reported", **where, detail=detail))
    if host.timed_out:
        seconds = f"{request.host_timeout:.0f}"
        raise ProbeTimeout(msg("ports.host-timeout", **where, seconds=seconds))
    return host, result


def _command(result: ScanResult) -> str:
    return " ".join(result.argv)


def _port_list(ports: list[int] | tuple[int, ...]) -> str:
    return ", ".join(str(p) for p in sorted(ports))


def _said(exc: ProbeError) -> Msg:
    return exc.said if exc.said is not None else verbatim(str(exc))


# What the risky services are called in a message, where a language has its own words.
_WHAT = {
    "NetBIOS session service": "ports.what.netbios",
    "SMB (Windows file sharing)": "ports.what.smb",
    "RDP (remote desktop)": "ports.what.rdp",
    ADMIN_INTERFACE: "ports.what.admin",
}


def _what(port: int, text: str) -> Msg:
    """What a risky port is (as risky_ports says it in English) in words."""
    if text in _WHAT:
        return msg(_WHAT[text])
    if text == OTHER_RISKY.format(port=port):
        return msg("ports.what.other", port=port)
    return verbatim(text)


# --- ports.exposed-services --------------------------------------------------------------------


class ExposedParams(ProbeParams):
    ports: list[Port] = Field(
        default_factory=lambda: sorted(RISKY_PORTS),
        min_length=1,
        description="Ports of risky services (Telnet, FTP, SMB, RDP, VNC, databases).",
    )
    admin_ports: list[Port] = Field(
        default_factory=lambda: list(FIREWALL_ADMIN_PORTS),
        description="Management ports of firewalls and VPN appliances.",
    )
    admin_roles: list[HostRole] = Field(
        default_factory=lambda: [HostRole.FIREWALL, HostRole.VPN],
        description="Host roles on which admin_ports count.",
    )
    banners: bool = Field(default=True, description="Read the banner of each exposed service.")
    banner_timeout: float = Field(default=1.0, gt=0, le=30)


def risky_ports(target: Target, params: ExposedParams) -> dict[int, str]:
    risky = {p: RISKY_PORTS.get(p, OTHER_RISKY.format(port=p)) for p in params.ports}
    admin_host = any(role in target.roles for role in params.admin_roles)
    declared = {port: name.lower() for name, port in target.ports.items()}
    if admin_host:
        for port in params.admin_ports:
            # A port the school declares as one of this host's services (a VPN portal on
            # 10443, say) is that service, not an admin interface.
            if port not in declared or declared[port] in ADMIN_SERVICE_NAMES:
                risky[port] = ADMIN_INTERFACE
    for port, name in declared.items():
        if name in RISKY_SERVICE_NAMES:
            risky[port] = RISKY_SERVICE_NAMES[name]
        elif admin_host and name in ADMIN_SERVICE_NAMES:
            risky[port] = ADMIN_INTERFACE
    return risky


def _exposed(port: int, what: str, seen: PortResult) -> Msg:
    """One exposed port in words: what it is, what nmap saw, and its banner."""
    banner = msg("ports.banner", text=clip(seen.banner, 60)) if seen.banner else ""
    return msg(
        "ports.exposed.item",
        port=port,
        what=_what(port, what),
        service=service_name(seen.service),
        banner=banner,
    )


def _banners(
    target: Target, ctx: ProbeContext, ports: dict[int, PortResult], timeout: float
) -> dict[int, PortResult]:
    """`ports` with the banner each service sent by itself within `timeout` seconds, read on
    every port at the same time (as nmap's banner script shows a banner)."""

    def reader(port: int) -> str | None:
        ctx.limiter.acquire(target.address)
        return read_banner(target.address, port, timeout=timeout)

    read = run_all([functools.partial(reader, port) for port in sorted(ports)])
    return {
        port: replace(ports[port], scripts={**ports[port].scripts, "banner": banner})
        for port, banner in zip(sorted(ports), read, strict=True)
        if isinstance(banner, str)
    }


@probe("ports.exposed-services", params=ExposedParams, role=(), budget=EXPOSED_BUDGET, tool="nmap")
def exposed_services(target: Target, params: ExposedParams, ctx: ProbeContext) -> ProbeOutcome:
    """No risky service can be reached on the host: Telnet, FTP, SMB/NetBIOS, RDP, VNC, databases.

    A TCP connect scan (nmap -sT, no ping, no DNS) of the host's address on `ports` (default:
    FTP 21, Telnet 23, NetBIOS 139, SMB 445, MSSQL 1433, MySQL 3306, RDP 3389, PostgreSQL 5432,
    VNC 5900-5901, Redis 6379, Elasticsearch 9200, MongoDB 27017), plus every port the host
    declares in school.yaml under a risky service name (e.g. `rdp: 13389`). On hosts with a role
    in `admin_roles` (default firewall, vpn) the firewall management ports `admin_ports` count
    too (4117, 4444, 8080, 8291, 8443, 10443), except a port the host declares as another service.
    Then, when something is open, the banner each exposed service sends by itself is read (all
    at the same time, at most `banner_timeout` seconds each), shown as nmap's banner script
    shows it.

    Pass: none of these ports is open from where the scan runs.
    Fail: at least one is open; the message lists each port with the service it is and the
    evidence holds what nmap saw (service name) and the banner.
    A host nmap gives up on (time-out) is an error, not a pass.

    Parameters: `ports`, `admin_ports`, `admin_roles`, `banners` (default true),
    `banner_timeout` (seconds per banner, default 1).
    Evidence: `address`, `scanned_ports`, `exposed` (port, what it is, nmap's service name and
    banner), `open_ports`, `nmap` (the command lines run).
    """
    deadline = Deadline(ctx.timeout * EXPOSED_BUDGET)
    risky = risky_ports(target, params)
    host, result = _scan_host(target, ctx, deadline, ports=tuple(sorted(risky)))
    commands = [_command(result)]
    exposed = [p for p in host.open_ports() if p.port in risky]
    evidence: dict[str, Any] = {
        "address": target.address,
        "scanned_ports": sorted(risky),
        "open_ports": [p.evidence() for p in host.open_ports()],
        "nmap": commands,
    }
    if not exposed:
        evidence["exposed"] = []
        none = msg("ports.exposed.none", n=len(risky), name=target.name, address=target.address)
        return ProbeOutcome.said(FindingStatus.PASS, none, evidence)
    warnings: list[Msg] = []
    seen: dict[int, PortResult] = {p.port: p for p in exposed}
    if params.banners:
        try:
            _, timeout = deadline.budget(params.banner_timeout)
        except ProbeTimeout as exc:
            warnings.append(msg("ports.banners-unread", why=_said(exc)))
        else:
            seen.update(_banners(target, ctx, seen, timeout))
    evidence["exposed"] = [{**seen[port].evidence(), "what": risky[port]} for port in sorted(seen)]
    listed = [_exposed(port, risky[port], seen[port]) for port in sorted(seen)]
    exposes = msg(
        "ports.exposed", name=target.name, address=target.address, n=len(seen), listed=listed
    )
    return ProbeOutcome.said(FindingStatus.FAIL, exposes, evidence, warnings)


# --- ports.undeclared --------------------------------------------------------------------------


class UndeclaredParams(ProbeParams):
    ports: list[Port] | None = Field(
        default=None, description="Ports to scan; when absent, nmap's `top_ports` most common."
    )
    top_ports: int = Field(default=1000, ge=1, le=65535)


@probe("ports.undeclared", params=UndeclaredParams, role=(), budget=UNDECLARED_BUDGET, tool="nmap")
def undeclared(target: Target, params: UndeclaredParams, ctx: ProbeContext) -> ProbeOutcome:
    """Only the ports that the school allows for the host are open (an allow-list per host).

    A TCP connect scan (nmap -sT, no ping, no DNS) of the host's address, on `ports` or else on
    nmap's `top_ports` most common ports (default 1000), compared with the host's
    `allowed_ports` in school.yaml.

    Pass: every open port is in `allowed_ports`.
    Fail: a port is open that `allowed_ports` does not list; the message lists them.
    Not applicable: the host declares no `allowed_ports`.

    Parameters: `ports` (a list) or `top_ports` (default 1000).
    Evidence: `address`, `allowed_ports`, `scanned`, `open_ports` (with nmap's service names),
    `undeclared`, `nmap` (the command line).
    """
    if target.allowed_ports is None:
        none = msg("ports.undeclared.no-allow-list", name=target.name)
        return ProbeOutcome.said(FindingStatus.NOT_APPLICABLE, none)
    deadline = Deadline(ctx.timeout * UNDECLARED_BUDGET)
    if params.ports:
        host, result = _scan_host(target, ctx, deadline, ports=tuple(params.ports))
        scanned = msg("ports.scanned.list", ports=_port_list(params.ports))
    else:
        host, result = _scan_host(target, ctx, deadline, top_ports=params.top_ports)
        scanned = msg("ports.scanned.top", top=params.top_ports)
    allowed = set(target.allowed_ports)
    opened = host.open_ports()
    extra = [p for p in opened if p.port not in allowed]
    evidence: dict[str, Any] = {
        "address": target.address,
        "allowed_ports": sorted(allowed),
        "scanned": str(scanned),
        "open_ports": [p.evidence() for p in opened],
        "undeclared": [p.port for p in extra],
        "nmap": [_command(result)],
    }
    if extra:
        listed = commas(
            [msg("ports.open-port", port=p.port, service=service_name(p.service)) for p in extra]
        )
        where = {"name": target.name, "address": target.address}
        found = msg("ports.undeclared.found", **where, n=len(extra), listed=listed)
        return ProbeOutcome.said(FindingStatus.FAIL, found, evidence)
    allowed_only = msg("ports.undeclared.none", name=target.name, n=len(opened), scanned=scanned)
    return ProbeOutcome.said(FindingStatus.PASS, allowed_only, evidence)


# --- software.outdated: the data file ----------------------------------------------------------


def min_versions(path: Path | None = None) -> MinVersionsFile:
    """The minimum supported versions (checks/data/min-versions.yaml unless `path` is given)."""
    return load_min_versions(path or MIN_VERSIONS_FILE)


# --- software.outdated: the probe --------------------------------------------------------------


class OutdatedParams(ProbeParams):
    ports: list[Port] = Field(
        default_factory=lambda: list(SERVICE_PORTS),
        min_length=1,
        description="Ports to look for services on (the host's declared ports are added).",
    )
    read_timeout: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description="Seconds each read of a port waits for an answer (greeting, HTTP, TLS).",
    )
    version_intensity: int = Field(default=2, ge=0, le=9)
    version_budget: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Seconds nmap -sV may take per host, for the ports the reads left unknown.",
    )
    data_file: str | None = Field(
        default=None,
        description="Another minimum-versions file (relative paths from the catalog root).",
    )


def _data_path(params: OutdatedParams) -> Path:
    if params.data_file is None:
        return MIN_VERSIONS_FILE
    path = Path(params.data_file)
    return path if path.is_absolute() else CATALOG_ROOT / path


def version_ports(target: Target, params: OutdatedParams) -> tuple[int, ...]:
    return tuple(sorted(set(params.ports) | set(target.ports.values())))


def _nmap_worth(read: ServiceRead, params: OutdatedParams) -> bool:
    """Whether nmap -sV may tell more than the read: not on a port the read identified (nmap
    reads the same greeting or headers), nor on a silent one when the budget is shorter than
    nmap's wait for a greeting before its first probe."""
    if read.identified:
        return False
    return read.outcome is not Outcome.SILENT or params.version_budget > NMAP_LISTEN_SECONDS


@dataclass
class _VersionScan:
    """What nmap -sV found on the ports it was run for, and on which it ran out of time."""

    services: list[PortResult]
    timed_out: list[int]
    commands: list[str]
    seconds: float = 0.0


def _nmap_versions(
    target: Target, ports: list[int], params: OutdatedParams, ctx: ProbeContext, deadline: Deadline
) -> _VersionScan:
    """nmap -sV on each of `ports` at the same time, within `version_budget` seconds."""
    scan = _VersionScan([], [], [])
    if not ports:
        return scan
    host_timeout, process_timeout = deadline.budget(params.version_budget)
    requests = [
        ScanRequest(
            targets=(target_ip(target),),
            mode=ScanMode.VERSION,
            ports=(port,),
            host_timeout=host_timeout,
            max_rate=ctx.limiter.rate,
            version_intensity=params.version_intensity,
        )
        for port in ports
    ]
    for _ in requests:
        ctx.limiter.acquire()
    started = time.monotonic()
    results = run_scans(requests, timeout=process_timeout)
    scan.seconds = time.monotonic() - started
    for port, result in zip(ports, results, strict=True):
        if isinstance(result, ProbeTimeout):
            scan.timed_out.append(port)
            continue
        scan.commands.append(_command(result))
        found = result.host(str(target_ip(target)))
        if found is None or found.timed_out or not found.ports:
            scan.timed_out.append(port)
            continue
        scan.services.extend(found.ports)
    return scan


def _not_judged(
    reads: list[ServiceRead], scan: _VersionScan, covered: set[int], asked: set[int]
) -> list[dict[str, Any]]:
    """Every open port without a judged product, with the reason (`not-covered`: what it said
    names no product and version of the data file; `out-of-budget`: nmap -sV did not finish in
    time; `silent`: it said nothing, and nmap was not run)."""
    services = {s.port: s for s in scan.services}
    entries: list[dict[str, Any]] = []
    for read in reads:
        if read.port in covered:
            continue
        port: dict[str, Any] = {"port": read.port, "state": "open"}
        if read.port in scan.timed_out:
            entries.append({**port, "reason": "out-of-budget"})
        elif read.port in services:
            entries.append({**services[read.port].evidence(), "reason": "not-covered"})
        elif read.outcome is Outcome.SILENT and read.port not in asked:
            entries.append({**port, "reason": "silent"})
        else:
            said = {k: v for k, v in read.evidence().items() if k in ("protocol", "tls", "said")}
            entries.append({**port, **said, "reason": "not-covered"})
    return entries


def _warnings(
    not_judged: list[dict[str, Any]], params: OutdatedParams, scan: _VersionScan
) -> list[Msg]:
    warnings: list[Msg] = []
    if scan.timed_out:
        seconds, ports = decimal(f"{params.version_budget:g}"), _port_list(scan.timed_out)
        warnings.append(
            msg("ports.outdated.no-answer", seconds=seconds, n=len(scan.timed_out), ports=ports)
        )
    silent = [e["port"] for e in not_judged if e["reason"] == "silent"]
    if silent:
        warnings.append(
            msg(
                "ports.outdated.silent",
                n=len(silent),
                ports=_port_list(silent),
                listen=f"{NMAP_LISTEN_SECONDS:g}",
                budget=decimal(f"{params.version_budget:g}"),
            )
        )
    return warnings


@probe("software.outdated", params=OutdatedParams, role=(), budget=OUTDATED_BUDGET, tool="nmap")
def outdated(target: Target, params: OutdatedParams, ctx: ProbeContext) -> ProbeOutcome:
    """The services on the host run software versions that their makers still support.

    First a fast TCP connect scan (nmap -sT) of `ports` (default 21, 22, 25, 80, 110, 143, 443,
    465, 587, 993, 995, 3306, 5432, 8080, 8443) and the host's declared ports. Then each open
    port is read, all at the same time, each wait at most `read_timeout` seconds: the greeting
    a server sends first (SSH banner, FTP, SMTP, POP3 and IMAP greetings; SMTP is also asked
    EHLO), else the Server and X-Powered-By headers of a HEAD request; in plain text or inside
    TLS. nmap version detection (-sV --version-light, with the HTTP header scripts) runs only
    on the open ports that the read could not identify, one nmap run per port at the same time,
    all within `version_budget` seconds per host: where the read identified the service, nmap
    would read the same greeting or headers. A port that stayed silent goes to nmap only when
    `version_budget` exceeds the 6 s nmap listens for a greeting before its first probe.
    Products and versions are compared with checks/data/min-versions.yaml (OpenSSH, Apache
    httpd, nginx, Microsoft IIS, PHP, OpenSSL, ProFTPD, vsftpd, Exim, Postfix; each entry with
    the date it was checked and the maker's support policy). Versions compare as numbers.

    Pass: every product found that the data file covers is at least its minimum version.
    Fail: a product is older than its minimum; the message names product, version and port.
    Not applicable: no open port, or no service revealed a product and version the data file
    covers. A port is judged only on a version it showed: a banner without a version, a port
    nmap could not finish within the budget and a silent port are not judged (each listed in
    the evidence with its reason; the last two also in a warning), and never make a pass.
    Linux distributions backport security fixes into older version numbers; the data file's
    minimums follow the oldest release still supported by its maker or a major distribution,
    and its policy says so.

    Parameters: `ports`, `read_timeout` (default 1), `version_intensity` (0-9, default 2:
    --version-light), `version_budget` (default 5), `data_file` (another minimum-versions file).
    Evidence: `address`, `reads` (what each open port said, and where: "ssh banner", "smtp
    banner", "http server header", ...), `components` (port, product, version, minimum,
    outdated, where found, date checked, source), `services` (what nmap identified),
    `not_judged` (with `reason`: not-covered, out-of-budget, silent), `version_timed_out`,
    `read_seconds`, `version_seconds`, `nmap` (the command lines).
    """
    data = min_versions(_data_path(params))
    deadline = Deadline(ctx.timeout * OUTDATED_BUDGET)
    wanted = version_ports(target, params)
    host, first = _scan_host(target, ctx, deadline, ports=wanted)
    commands = [_command(first)]
    opened = [p.port for p in host.open_ports()]
    evidence: dict[str, Any] = {"address": target.address, "scanned_ports": list(wanted)}
    if not opened:
        evidence["nmap"] = commands
        none = msg("ports.outdated.no-open-port", name=target.name, n=len(wanted))
        return ProbeOutcome.said(FindingStatus.NOT_APPLICABLE, none, evidence)
    started = time.monotonic()
    reads = read_ports(target, opened, min(params.read_timeout, ctx.timeout), ctx)
    read_seconds = time.monotonic() - started
    asked = [r.port for r in reads if _nmap_worth(r, params)]
    scan = _nmap_versions(target, asked, params, ctx, deadline)
    comps = [c for r in reads for c in read_components(r, data)]
    comps += [c for s in scan.services for c in components(s, data)]
    judged = [c for c in comps if c.outdated is not None]
    old = [c for c in judged if c.outdated]
    not_judged = _not_judged(reads, scan, {c.port for c in judged}, set(asked))
    evidence.update(
        reads=[r.evidence() for r in reads],
        components=[c.evidence() for c in comps],
        services=[s.evidence() for s in scan.services],
        not_judged=not_judged,
        version_timed_out=scan.timed_out,
        read_seconds=round(read_seconds, 2),
        version_seconds=round(scan.seconds, 2),
        data_file=catalog_name(_data_path(params), CATALOG_ROOT),
        nmap=commands + scan.commands,
    )
    warnings = _warnings(not_judged, params, scan)
    if old:
        listed = [
            msg(
                "ports.outdated.item",
                product=f"{c.entry.name} {clip(c.version_text, 40)}",
                port=c.port,
                minimum=c.entry.minimum,
            )
            for c in old
        ]
        runs = msg("ports.outdated.found", name=target.name, listed=listed)
        return ProbeOutcome.said(FindingStatus.FAIL, runs, evidence, warnings)
    if judged:
        products = ", ".join(f"{c.entry.name} {clip(c.version_text, 40)}" for c in judged)
        supported = msg("ports.outdated.none", name=target.name, listed=products)
        return ProbeOutcome.said(FindingStatus.PASS, supported, evidence, warnings)
    unknown = msg("ports.outdated.not-covered", name=target.name)
    return ProbeOutcome.said(FindingStatus.NOT_APPLICABLE, unknown, evidence, warnings)

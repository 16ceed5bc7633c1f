"""Port probes with nmap: risky services reachable, ports open beyond the allow-list, outdated software."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cyberstd.errors import ConnectivityError, InputError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.listing import commas
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.net.nmap import (
    Deadline,
    HostResult,
    PortResult,
    ScanMode,
    ScanRequest,
    ScanResult,
    clip,
    run_scan,
    run_scans,
    service_name,
)
from cyberstd.paths import catalog_name, default_root
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.schema import HostRole
from cyberstd.versions import Version, parse_version
from cyberstd.yamlsrc import load

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
    mode: ScanMode = ScanMode.CONNECT,
    ports: tuple[int, ...] = (),
    top_ports: int | None = None,
    banner_timeout: float = 1.0,
) -> tuple[HostResult, ScanResult]:
    host_timeout, process_timeout = deadline.budget()
    request = ScanRequest(
        targets=(target_ip(target),),
        mode=mode,
        ports=ports,
        top_ports=top_ports,
        host_timeout=host_timeout,
        max_rate=ctx.limiter.rate,
        banner_timeout=banner_timeout,
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


@probe("ports.exposed-services", params=ExposedParams, role=(), budget=EXPOSED_BUDGET, tool="nmap")
def exposed_services(target: Target, params: ExposedParams, ctx: ProbeContext) -> ProbeOutcome:
    """No risky service can be reached on the host: Telnet, FTP, SMB/NetBIOS, RDP, VNC, databases.

    A TCP connect scan (nmap -sT, no ping, no DNS) of the host's address on `ports` (default:
    FTP 21, Telnet 23, NetBIOS 139, SMB 445, MSSQL 1433, MySQL 3306, RDP 3389, PostgreSQL 5432,
    VNC 5900-5901, Redis 6379, Elasticsearch 9200, MongoDB 27017), plus every port the host
    declares in school.yaml under a risky service name (e.g. `rdp: 13389`). On hosts with a role
    in `admin_roles` (default firewall, vpn) the firewall management ports `admin_ports` count
    too (4117, 4444, 8080, 8291, 8443, 10443), except a port the host declares as another service.
    Then, when something is open, a second nmap run reads the banner of each exposed service.

    Pass: none of these ports is open from where the scan runs.
    Fail: at least one is open; the message lists each port with the service it is and the
    evidence holds what nmap saw (service name, banner).
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
            banner_host, banner_result = _scan_host(
                target,
                ctx,
                deadline,
                mode=ScanMode.BANNER,
                ports=tuple(sorted(seen)),
                banner_timeout=params.banner_timeout,
            )
        except ProbeTimeout as exc:
            warnings.append(msg("ports.banners-unread", why=_said(exc)))
        else:
            commands.append(_command(banner_result))
            seen.update({p.port: p for p in banner_host.ports if p.port in seen})
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Strict):
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://\S+$")


class MinVersion(_Strict):
    """One product: how to recognise it, the oldest supported version, and where that comes from."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    nmap_product: str | None = None
    header_token: str | None = None
    minimum: str = Field(min_length=1)
    checked: dt.date
    source: SourceRef
    note: str | None = None

    @field_validator("nmap_product", "header_token")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
            if compiled.groups > 1:
                raise ValueError(f"{value!r} may capture at most one group (the version)")
        return value

    @field_validator("minimum")
    @classmethod
    def _version(cls, value: str) -> str:
        if parse_version(value) is None:
            raise ValueError(f"{value!r} is not a version number")
        return value


class MinVersionsFile(_Strict):
    policy: str = Field(min_length=1)
    entries: list[MinVersion] = Field(min_length=1)


@functools.lru_cache(maxsize=8)
def _load_min_versions(path: Path, mtime_ns: int) -> MinVersionsFile:
    try:
        doc = load(path)
    except InputError as exc:
        raise ProbeError(msg("ports.min-versions.unreadable", why=str(exc))) from None
    try:
        return MinVersionsFile.model_validate(doc.data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ProbeError(msg("ports.min-versions.invalid", path=path, why=problems)) from None


def min_versions(path: Path | None = None) -> MinVersionsFile:
    """The minimum supported versions (checks/data/min-versions.yaml unless `path` is given)."""
    where = path or MIN_VERSIONS_FILE
    try:
        stamp = where.stat().st_mtime_ns
    except OSError as exc:
        said = msg("ports.min-versions.missing", path=where, why=str(exc))
        raise ProbeError(said) from None
    return _load_min_versions(where, stamp)


# --- software.outdated: versions ---------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """A product and version one port revealed, and how they were found."""

    port: int
    entry: MinVersion
    version_text: str
    found_in: str

    @property
    def version(self) -> Version | None:
        return parse_version(self.version_text)

    @property
    def outdated(self) -> bool | None:
        version, minimum = self.version, parse_version(self.entry.minimum)
        if version is None or minimum is None:
            return None
        return version < minimum

    def evidence(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "product": self.entry.name,
            "version": clip(self.version_text, 100),
            "minimum": self.entry.minimum,
            "outdated": self.outdated,
            "found_in": self.found_in,
            "checked": self.entry.checked.isoformat(),
            "source": self.entry.source.url,
        }


def _header_texts(port: PortResult) -> list[tuple[str, str]]:
    texts = [
        (
            "nmap version detection",
            " ".join(x for x in (port.product, port.version, port.extrainfo) if x),
        )
    ]
    server = port.scripts.get("http-server-header")
    if server:
        texts.append(("Server header", server))
    for line in port.scripts.get("http-headers", "").splitlines():
        name, _, value = line.strip().partition(":")
        if name.lower() in {"server", "x-powered-by"}:
            texts.append((f"{name.strip()} header", value.strip()))
    return texts


def components(port: PortResult, data: MinVersionsFile) -> list[Component]:
    """Every product of the data file that `port` reveals, with its version text."""
    found: dict[tuple[str, str], Component] = {}
    for entry in data.entries:
        if entry.nmap_product and port.product and re.search(entry.nmap_product, port.product):
            if port.version:
                key = (entry.id, port.version)
                found.setdefault(key, Component(port.port, entry, port.version, "nmap -sV"))
            continue
        if entry.header_token:
            pattern = re.compile(entry.header_token)
            for where, text in _header_texts(port):
                for match in pattern.finditer(text):
                    version = match.group(1) if pattern.groups else match.group(0)
                    found.setdefault(
                        (entry.id, version), Component(port.port, entry, version, where)
                    )
    return list(found.values())


# --- software.outdated: the probe --------------------------------------------------------------


class OutdatedParams(ProbeParams):
    ports: list[Port] = Field(
        default_factory=lambda: list(SERVICE_PORTS),
        min_length=1,
        description="Ports to look for services on (the host's declared ports are added).",
    )
    version_intensity: int = Field(default=2, ge=0, le=9)
    version_timeout: float = Field(
        default=15.0, gt=0, le=300, description="Seconds nmap may spend on one port's version."
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


@probe("software.outdated", params=OutdatedParams, role=(), budget=OUTDATED_BUDGET, tool="nmap")
def outdated(target: Target, params: OutdatedParams, ctx: ProbeContext) -> ProbeOutcome:
    """The services on the host run software versions that their makers still support.

    First a fast TCP connect scan (nmap -sT) of `ports` (default 21, 22, 25, 80, 110, 143, 443,
    465, 587, 993, 995, 3306, 5432, 8080, 8443) and the host's declared ports; then nmap
    version detection (-sV, with the Server and X-Powered-By headers of web servers) on the open
    ones only, one nmap run per port at the same time, each limited to `version_timeout`
    seconds, so that a service that never answers costs its own time and no one else's.
    Products and versions are compared with checks/data/min-versions.yaml (OpenSSH, Apache
    httpd, nginx, Microsoft IIS, PHP, OpenSSL, ProFTPD, vsftpd, Exim, Postfix; each entry with
    the date it was checked and the maker's support policy). Versions compare as numbers.

    Pass: every product found that the data file covers is at least its minimum version.
    Fail: a product is older than its minimum; the message names product, version and port.
    Not applicable: no open port, or no service revealed a product the data file covers
    (those are listed in the evidence, not judged). Linux distributions backport security fixes
    into older version numbers; the data file's minimums follow the oldest release still
    supported by its maker or a major distribution, and its policy says so.

    Parameters: `ports`, `version_intensity` (0-9, default 2), `version_timeout` (default 15),
    `data_file` (another minimum-versions file).
    Evidence: `address`, `components` (port, product, version, minimum, outdated, where found,
    date checked, source), `services` (what nmap identified on each open port), `not_judged`,
    `version_timed_out`, `nmap` (the command lines).
    """
    data = min_versions(_data_path(params))
    deadline = Deadline(ctx.timeout * OUTDATED_BUDGET)
    wanted = version_ports(target, params)
    host, first = _scan_host(target, ctx, deadline, ports=wanted)
    commands = [_command(first)]
    opened = host.open_ports()
    evidence: dict[str, Any] = {"address": target.address, "scanned_ports": list(wanted)}
    if not opened:
        evidence["nmap"] = commands
        none = msg("ports.outdated.no-open-port", name=target.name, n=len(wanted))
        return ProbeOutcome.said(FindingStatus.NOT_APPLICABLE, none, evidence)
    host_timeout, process_timeout = deadline.budget(params.version_timeout)
    requests = [
        ScanRequest(
            targets=(target_ip(target),),
            mode=ScanMode.VERSION,
            ports=(p.port,),
            host_timeout=host_timeout,
            max_rate=ctx.limiter.rate,
            version_intensity=params.version_intensity,
        )
        for p in opened
    ]
    for _ in requests:
        ctx.limiter.acquire()
    started = time.monotonic()
    results = run_scans(requests, timeout=process_timeout)
    services: list[PortResult] = []
    timed_out: list[int] = []
    for port, result in zip(opened, results, strict=True):
        if isinstance(result, ProbeTimeout):
            timed_out.append(port.port)
            continue
        commands.append(_command(result))
        found = result.host(str(target_ip(target)))
        if found is None or found.timed_out or not found.ports:
            timed_out.append(port.port)
            continue
        services.extend(found.ports)
    comps = [c for s in services for c in components(s, data)]
    judged = [c for c in comps if c.outdated is not None]
    old = [c for c in judged if c.outdated]
    covered = {c.port for c in comps}
    evidence.update(
        components=[c.evidence() for c in comps],
        services=[s.evidence() for s in services],
        not_judged=[s.evidence() for s in services if s.port not in covered],
        version_timed_out=timed_out,
        version_seconds=round(time.monotonic() - started, 2),
        data_file=catalog_name(_data_path(params), CATALOG_ROOT),
        nmap=commands,
    )
    warnings: list[Msg] = []
    if timed_out:
        seconds, ports = f"{process_timeout:.0f}", _port_list(timed_out)
        warnings.append(
            msg("ports.outdated.no-answer", seconds=seconds, n=len(timed_out), ports=ports)
        )
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

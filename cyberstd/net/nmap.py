"""The one place that builds nmap argument lists and runs nmap, through python-nmap's PortScanner."""

from __future__ import annotations

import ipaddress
import math
import re
import shlex
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

import nmap  # type: ignore[import-untyped]

from cyberstd.errors import ProbeError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg, verbatim

# Where python-nmap looks for the nmap binary, in order; tests point it at a missing path.
NMAP_SEARCH_PATH: tuple[str, ...] = ("nmap", "/usr/bin/nmap", "/usr/local/bin/nmap")

MAX_PORT = 65535
MAX_TARGETS = 4096
MAX_VERSION_INTENSITY = 9
# Evidence strings (banners, script output) are cut to this many characters.
MAX_TEXT = 2048
# How many nmap processes one probe run may have at a time.
MAX_PARALLEL_SCANS = 8
# How long nmap's version detection listens for a greeting before it sends its first probe (the
# NULL probe's totalwaitms in nmap-service-probes): it can tell nothing of a silent service sooner.
NMAP_LISTEN_SECONDS = 6.0
# --version-light is this intensity; the command line says it by that name.
LIGHT_INTENSITY = 2

# Ports a host-discovery sweep tries when it cannot ping (unprivileged, or loopback): remote
# administration, file sharing, web, printing and the ports phones and tablets keep open.
DISCOVERY_PORTS: tuple[int, ...] = (
    21,
    22,
    23,
    53,
    80,
    135,
    139,
    443,
    445,
    515,
    548,
    631,
    3389,
    5900,
    8080,
    8443,
    9100,
    62078,
)

# Every token of a built argument list matches this: letters, digits and . , : / - = _ only,
# so that nothing in it can be read as a second argument, a shell character or a file name.
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9.,:/=_-]+$")
_FLAG = re.compile(r"^--?[a-z][a-z-]*$")

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


class ToolMissing(ProbeError):
    """nmap is not installed (or not where python-nmap looks for it)."""

    reason = "tool_missing"


class ScanArgumentError(ValueError):
    """A value for an nmap argument list is not of the validated kind it must be."""


class ScanMode(StrEnum):
    """What an nmap run does; each mode maps to a fixed set of nmap options."""

    CONNECT = "connect"  # -sT: full TCP connect, works without privileges
    BANNER = "banner"  # -sT plus the NSE banner script on open ports
    VERSION = "version"  # -sT -sV plus the HTTP header scripts, for product and version
    PING = "ping"  # -sn: host discovery only


class PortState(StrEnum):
    """A port state as nmap reports it."""

    OPEN = "open"
    CLOSED = "closed"
    FILTERED = "filtered"
    UNFILTERED = "unfiltered"
    OPEN_FILTERED = "open|filtered"
    CLOSED_FILTERED = "closed|filtered"


def decimal(number: str) -> Msg:
    """A number written with a decimal point ("1.5") as each language writes it ("1,5")."""
    whole, _, fraction = number.partition(".")
    return msg("nmap.decimal", whole=whole, fraction=fraction) if fraction else verbatim(whole)


def service_name(service: str) -> Msg:
    """The service nmap named on a port, or "unknown" in words: also when nmap itself says
    `unknown` (a port its services list does not name), which is no name but a word."""
    known = service and service.strip().lower() != "unknown"
    return verbatim(service) if known else msg("nmap.service-unknown")


def gave_up(addresses: Sequence[str]) -> Msg:
    """The warning that nmap gave up on these addresses (time-out)."""
    return msg("nmap.gave-up", addresses=", ".join(addresses))


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """`text` cut to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [cut: {len(text) - limit} more characters]"


def _port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScanArgumentError(f"port {value!r} is not an integer")
    if not 1 <= value <= MAX_PORT:
        raise ScanArgumentError(f"port {value} is outside 1-{MAX_PORT}")
    return value


def _positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScanArgumentError(f"{name} {value!r} is not a number")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ScanArgumentError(f"{name} {value!r} must be a finite number above 0")
    return number


def _count(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScanArgumentError(f"{name} {value!r} is not an integer")
    if not low <= value <= high:
        raise ScanArgumentError(f"{name} {value} is outside {low}-{high}")
    return value


def _target(value: object) -> Address | Network:
    if not isinstance(value, IPv4Address | IPv6Address | IPv4Network | IPv6Network):
        raise ScanArgumentError(f"target {value!r} is not an ipaddress address or network object")
    return value


def _millis(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def _rate(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class ScanRequest:
    """One nmap run, from validated values only (checked when the request is made).

    `targets` are ipaddress objects (addresses or networks, all IPv4 or all IPv6); `ports`
    integers 1-65535 or `top_ports` a count; `assume_up` adds -Pn (declared hosts are scanned
    even when they ignore pings); `host_timeout` and `banner_timeout` are seconds,
    `max_rate` packets per second (None: no limit).
    """

    targets: tuple[Address | Network, ...]
    mode: ScanMode = ScanMode.CONNECT
    ports: tuple[int, ...] = ()
    top_ports: int | None = None
    assume_up: bool = True
    host_timeout: float = 30.0
    max_retries: int = 1
    max_rate: float | None = None
    version_intensity: int = 2
    banner_timeout: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.targets, tuple) or not self.targets:
            raise ScanArgumentError("a scan needs at least one target, as a tuple")
        if len(self.targets) > MAX_TARGETS:
            raise ScanArgumentError(f"at most {MAX_TARGETS} targets per scan")
        targets = [_target(t) for t in self.targets]
        if len({t.version for t in targets}) > 1:
            raise ScanArgumentError("IPv4 and IPv6 targets cannot share one nmap run")
        if not isinstance(self.mode, ScanMode):
            raise ScanArgumentError(f"scan mode {self.mode!r} is not a ScanMode")
        if not isinstance(self.ports, tuple):
            raise ScanArgumentError("ports must be a tuple of integers")
        for port in self.ports:
            _port(port)
        if self.top_ports is not None:
            _count("top_ports", self.top_ports, 1, MAX_PORT)
            if self.ports:
                raise ScanArgumentError("give either ports or top_ports, not both")
        if self.mode is ScanMode.PING:
            if self.ports or self.top_ports is not None:
                raise ScanArgumentError("a ping sweep takes no ports")
        elif not self.ports and self.top_ports is None:
            raise ScanArgumentError(f"a {self.mode} scan needs ports or top_ports")
        if not isinstance(self.assume_up, bool):
            raise ScanArgumentError("assume_up must be True or False")
        _positive("host_timeout", self.host_timeout)
        _count("max_retries", self.max_retries, 0, 10)
        if self.max_rate is not None:
            _positive("max_rate", self.max_rate)
        _count("version_intensity", self.version_intensity, 0, MAX_VERSION_INTENSITY)
        _positive("banner_timeout", self.banner_timeout)


def build_arguments(request: ScanRequest) -> list[str]:
    """The nmap options (everything after the targets) for `request`."""
    args = ["-n", "--host-timeout", _millis(request.host_timeout)]
    args += ["--max-retries", str(request.max_retries)]
    if request.max_rate is not None:
        args += ["--max-rate", _rate(request.max_rate)]
    if request.targets[0].version == 6:
        args.append("-6")
    if request.mode is ScanMode.PING:
        args.append("-sn")
    else:
        args.append("-sT")
        if request.assume_up:
            args.append("-Pn")
        if request.ports:
            args += ["-p", ",".join(str(p) for p in sorted(set(request.ports)))]
        else:
            args += ["--top-ports", str(request.top_ports)]
    if request.mode is ScanMode.BANNER:
        args += ["--script", "banner"]
        args += ["--script-args", f"banner.timeout={_millis(request.banner_timeout)}"]
    if request.mode is ScanMode.VERSION:
        if request.version_intensity == LIGHT_INTENSITY:
            args += ["-sV", "--version-light"]
        else:
            args += ["-sV", "--version-intensity", str(request.version_intensity)]
        # Version detection reads the Server header but not X-Powered-By (PHP): ask for both.
        args += ["--script", "http-server-header,http-headers"]
    for token in args:
        if not (_FLAG.match(token) or _SAFE_TOKEN.match(token)):
            raise ScanArgumentError(f"refusing to pass {token!r} to nmap")
    return args


def build_argv(request: ScanRequest, nmap_path: str = "nmap") -> list[str]:
    """The whole command line as python-nmap runs it: nmap, XML to stdout, targets, options."""
    targets = [str(t) for t in request.targets]
    for token in targets:
        if not _SAFE_TOKEN.match(token):
            raise ScanArgumentError(f"refusing to pass {token!r} to nmap")
    return [nmap_path, "-oX", "-", *targets, *build_arguments(request)]


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortResult:
    """One port of one host as nmap saw it (service fields are empty when nmap has none)."""

    port: int
    state: PortState
    reason: str = ""
    service: str = ""
    product: str = ""
    version: str = ""
    extrainfo: str = ""
    cpe: str = ""
    scripts: Mapping[str, str] = field(default_factory=dict)

    @property
    def banner(self) -> str | None:
        return self.scripts.get("banner")

    def evidence(self) -> dict[str, Any]:
        """A JSON-ready record with every string bounded in size."""
        record: dict[str, Any] = {"port": self.port, "state": str(self.state)}
        for key in ("service", "product", "version", "extrainfo", "cpe"):
            value = getattr(self, key)
            if value:
                record[key] = clip(value, 256)
        if self.banner is not None:
            record["banner"] = clip(self.banner)
        other = {k: clip(v) for k, v in self.scripts.items() if k != "banner"}
        if other:
            record["scripts"] = other
        return record


@dataclass(frozen=True)
class HostResult:
    """One host of a scan: its state, whether nmap gave up on it, and its ports; the MAC
    address when nmap saw one (a ping sweep on the local network, as root) and the names nmap
    reported for it (none with -n)."""

    address: str
    state: str
    reason: str = ""
    timed_out: bool = False
    ports: tuple[PortResult, ...] = ()
    mac: str = ""
    hostnames: tuple[str, ...] = ()

    def open_ports(self) -> tuple[PortResult, ...]:
        return tuple(p for p in self.ports if p.state is PortState.OPEN)


@dataclass(frozen=True)
class ScanResult:
    """What one nmap run found, with the command line that produced it."""

    argv: tuple[str, ...]
    hosts: tuple[HostResult, ...]
    elapsed: float
    messages: tuple[str, ...] = ()

    def host(self, address: str) -> HostResult | None:
        return next((h for h in self.hosts if h.address == address), None)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _timed_out_hosts(xml_output: object) -> set[str]:
    # python-nmap drops the host element's timedout attribute; read it from nmap's XML.
    if isinstance(xml_output, bytes):
        xml_output = xml_output.decode("utf-8", "replace")
    if not isinstance(xml_output, str) or 'timedout="true"' not in xml_output:
        return set()
    try:
        root = ET.fromstring(xml_output)
    except ET.ParseError:
        return set()
    found: set[str] = set()
    for host in root.iter("host"):
        if host.get("timedout") == "true":
            address = host.find("address")
            if address is not None and address.get("addr"):
                found.add(str(address.get("addr")))
    return found


def _port_result(number: object, info: Mapping[str, Any]) -> PortResult:
    try:
        state = PortState(_text(info.get("state")))
    except ValueError:
        unknown = repr(info.get("state"))
        raise ProtocolError(msg("nmap.unknown-state", state=unknown)) from None
    scripts_raw = info.get("script") or {}
    scripts = {str(k): clip(v.strip()) for k, v in dict(scripts_raw).items() if isinstance(v, str)}
    return PortResult(
        port=int(str(number)),
        state=state,
        reason=_text(info.get("reason")),
        service=_text(info.get("name")),
        product=_text(info.get("product")),
        version=_text(info.get("version")),
        extrainfo=_text(info.get("extrainfo")),
        cpe=_text(info.get("cpe")),
        scripts=scripts,
    )


def _parse(raw: Mapping[str, Any], timed_out: set[str]) -> tuple[HostResult, ...]:
    hosts = []
    for address, data in dict(raw.get("scan") or {}).items():
        status = dict(data.get("status") or {})
        ports = tuple(
            sorted(
                (_port_result(n, i) for n, i in dict(data.get("tcp") or {}).items()),
                key=lambda p: p.port,
            )
        )
        names = (_text(dict(n).get("name")) for n in data.get("hostnames") or [])
        hosts.append(
            HostResult(
                address=str(address),
                state=_text(status.get("state")),
                reason=_text(status.get("reason")),
                timed_out=str(address) in timed_out,
                ports=ports,
                mac=_text(dict(data.get("addresses") or {}).get("mac")),
                hostnames=tuple(dict.fromkeys(clip(n, 253) for n in names if n)),
            )
        )
    # nmap lists a host it gave up on without ports; python-nmap keeps it, but be sure.
    known = {h.address for h in hosts}
    hosts += [HostResult(address=a, state="up", timed_out=True) for a in timed_out - known]
    return tuple(sorted(hosts, key=lambda h: ipaddress.ip_address(h.address).packed))


def _messages(raw: Mapping[str, Any]) -> tuple[str, ...]:
    info = dict(dict(raw.get("nmap") or {}).get("scaninfo") or {})
    lines: list[str] = []
    for key in ("error", "warning"):
        for entry in info.get(key) or []:
            lines.extend(line.strip() for line in str(entry).splitlines() if line.strip())
    return tuple(clip(line, 300) for line in dict.fromkeys(lines))[:20]


def find_nmap(search_path: Sequence[str] | None = None) -> str | None:
    """Where the nmap program is, or None when it is not installed (nothing is run)."""
    for candidate in search_path if search_path is not None else NMAP_SEARCH_PATH:
        found = shutil.which(candidate)
        if found is not None:
            return found
    return None


def run_scan(
    request: ScanRequest,
    *,
    timeout: float,
    search_path: Sequence[str] | None = None,
) -> ScanResult:
    """Run one nmap scan and parse what it found.

    `timeout` bounds the whole nmap process (it is killed after that many seconds: a
    ProbeTimeout); give `request.host_timeout` a little less so that nmap stops by itself and
    still reports what it saw. Raises ToolMissing when nmap cannot be found and ProtocolError
    when it fails or its output cannot be read.
    """
    limit = _positive("timeout", timeout)
    paths = tuple(search_path if search_path is not None else NMAP_SEARCH_PATH)
    try:
        scanner = nmap.PortScanner(nmap_search_path=paths)
    except nmap.PortScannerError as exc:
        raise ToolMissing(msg("nmap.missing", paths=", ".join(paths))) from exc
    argv = build_argv(request, str(getattr(scanner, "_nmap_path", "nmap")))
    hosts, options = argv[3 : 3 + len(request.targets)], argv[3 + len(request.targets) :]
    # python-nmap splits these strings with shlex; every token is a plain word, so the join
    # and the split give back exactly the validated list.
    joined = shlex.join(options)
    if shlex.split(joined) != options:
        raise ScanArgumentError(f"nmap options do not survive quoting: {options!r}")
    started = time.monotonic()
    try:
        raw = scanner.scan(hosts=" ".join(hosts), arguments=joined, timeout=limit)
    except nmap.PortScannerTimeout:
        seconds = decimal(f"{limit:.1f}")
        raise ProbeTimeout(
            msg("nmap.timeout", seconds=seconds, command=" ".join(argv[3:]))
        ) from None
    except nmap.PortScannerError as exc:
        raise ProtocolError(msg("nmap.failed", detail=clip(str(exc).strip(), 500))) from None
    elapsed = time.monotonic() - started
    return ScanResult(
        argv=tuple(argv),
        hosts=_parse(raw, _timed_out_hosts(scanner.get_nmap_last_output())),
        elapsed=elapsed,
        messages=_messages(raw),
    )


def run_scans(
    requests: Sequence[ScanRequest],
    *,
    timeout: float,
    search_path: Sequence[str] | None = None,
) -> list[ScanResult | ProbeTimeout]:
    """Run several scans at once (at most MAX_PARALLEL_SCANS processes), results in order.

    A scan that overruns `timeout` yields its ProbeTimeout in its place, so that one silent
    service does not cost the others their results; any other error is raised.
    """

    def one(request: ScanRequest) -> ScanResult | ProbeTimeout:
        try:
            return run_scan(request, timeout=timeout, search_path=search_path)
        except ProbeTimeout as exc:
            return exc

    if not requests:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_SCANS, len(requests))) as pool:
        return list(pool.map(one, requests))


class Deadline:
    """The time left for a probe run, so that nmap stops before the runner gives up on it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def budget(self, wanted: float | None = None, *, margin: float = 0.5) -> tuple[float, float]:
        """(host timeout, process timeout) for the next nmap run: at most `wanted` seconds.

        Raises ProbeTimeout when too little time is left to start one.
        """
        left = self.remaining()
        if left < 1.0:
            raise ProbeTimeout(msg("nmap.out-of-time", seconds=f"{self.seconds:.0f}"))
        process = min(left, wanted) if wanted is not None else left
        return max(0.5, process - margin), process

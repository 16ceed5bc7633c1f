#!/usr/bin/env python3
"""Benchmark: cyberstd's probe families against sslyze, testssl.sh, checkdmarc and bare nmap on the lab school.

One run starts the lab school on loopback (the demo flaws, DNS on port 53, plus a VPN portal
that still accepts TLS 1.0), times each cyberstd family through the library and each peer tool
as a process on the same targets, and prints the times, the ratios against the goals of issue 3
and the verdicts side by side. Run it as root (ports 25, 53, 443, 445) after
`bash bench/setup-peers.sh`; bench/README.md says what is compared and why.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import multiprocessing as mp
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, TextIO

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from ruamel.yaml import YAML

from cyberstd.catalog import load_catalog
from cyberstd.lab import WebServer, lab_school
from cyberstd.lab.certs import CertFiles, CertificateAuthority
from cyberstd.lab.school import DEMO_FLAWS, Ports
from cyberstd.registry import probes
from cyberstd.results import Finding, FindingStatus
from cyberstd.runner import context_for, execute, make_plan
from cyberstd.school import load_school

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEMO_SCHOOL = REPO / "examples" / "demo-school"
DOMAIN = "demo-school.test"
VPN_NAME = f"vpn.{DOMAIN}"
VPN_ADDRESS = "127.0.10.4"
VPN_PORT = 443
DNS_PORT = 53  # checkdmarc asks port 53 only
LAB_START_TIMEOUT = 60.0

# Per-process limits (seconds): a peer that hangs ends the benchmark with a clear message.
SSLYZE_TIMEOUT = 180.0
CHECKDMARC_TIMEOUT = 60.0
NMAP_TIMEOUT = 300.0
STARTUP_TIMEOUT = 60.0

PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
WEAK_CLASSES = ("NULL", "EXPORT", "anonymous", "RC4", "3DES")
TESTSSL_FLAGGED = frozenset({"LOW", "MEDIUM", "HIGH", "CRITICAL"})


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def say(text: str) -> None:
    """Progress goes to stderr so that stdout holds the report alone."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


# --- the families ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    checks: Callable[[str], bool]


MAIL_CHECKS = frozenset({"mail.spf", "mail.dmarc", "mail.mx"})
FAMILIES = (
    Family("tls", "TLS (tls.* on 3 endpoints)", lambda c: c.startswith("tls.")),
    Family("mail", "mail/DNS (mail.spf, mail.dmarc, mail.mx)", lambda c: c in MAIL_CHECKS),
    Family(
        "ports",
        "ports (ports.exposed-services, ports.undeclared)",
        lambda c: c in ("ports.exposed-services", "ports.undeclared"),
    ),
    Family(
        "versions", "versions (software.outdated, nmap -sV)", lambda c: c == "software.outdated"
    ),
    Family("whole", "whole lab scan (every check)", lambda c: True),
)


# --- the lab, in its own process ---------------------------------------------------------------


def _lab_ca(workdir: Path) -> CertificateAuthority:
    """The lab school's CA, read back from the files lab_school wrote, to issue one more leaf."""
    files = CertFiles(cert=workdir / "ca.pem", key=workdir / "ca-key.pem")
    key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise BenchError(f"unexpected lab CA key type {type(key).__name__}")
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    return CertificateAuthority(key=key, cert=cert, files=files)


@contextmanager
def _lab(workdir: Path) -> Iterator[dict[str, Any]]:
    with lab_school(workdir, flaws=DEMO_FLAWS, ports=Ports(dns=DNS_PORT)) as lab:
        cert = _lab_ca(workdir).issue(workdir, [VPN_NAME])
        # A VPN portal that still speaks TLS 1.0 and 1.1 (at OpenSSL security level 0).
        with WebServer(
            cert=cert,
            address=VPN_ADDRESS,
            host_name=VPN_NAME,
            http_port=None,
            https_port=VPN_PORT,
            hsts_max_age=31536000,
            tls_min_version=ssl.TLSVersion.TLSv1,
        ) as vpn:
            hosts = [(h.name, h.address, dict(h.ports)) for h in lab.hosts]
            hosts.append((VPN_NAME, VPN_ADDRESS, dict(vpn.ports)))
            yield {
                "ca_bundle": str(lab.ca_bundle),
                "hosts": hosts,
                "resolver": list(lab.resolver) if lab.resolver else None,
            }


def _serve_lab(workdir: str, conn: Connection, stop: Event) -> None:
    """Body of the lab process: start the lab, report where it is, wait for the stop signal.

    The lab runs apart from the process that measures, so that its server threads do not
    compete for the measuring process's interpreter lock (the peers get the same lab)."""
    try:
        with _lab(Path(workdir)) as info:
            conn.send(("ready", info))
            stop.wait()
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


@dataclass(frozen=True)
class LabInfo:
    ca_bundle: Path
    hosts: list[tuple[str, str, dict[str, int]]]
    resolver: tuple[str, int]


@contextmanager
def running_lab(workdir: Path) -> Iterator[LabInfo]:
    """The lab in a child process, stopped when the block ends, also on error or Ctrl-C."""
    context = mp.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    stop = context.Event()
    process = context.Process(
        target=_serve_lab, args=(str(workdir), sender, stop), name="cyberstd-lab", daemon=True
    )
    process.start()
    try:
        if not receiver.poll(LAB_START_TIMEOUT):
            raise BenchError(f"the lab did not start within {LAB_START_TIMEOUT:.0f} s")
        kind, payload = receiver.recv()
        if kind != "ready":
            hint = ""
            if "Permission denied" in str(payload):
                hint = " (run as root: the lab binds ports 25, 53, 443 and 445)"
            elif "Address already in use" in str(payload):
                hint = " (is a demo or another benchmark running?)"
            raise BenchError(f"the lab failed to start: {payload}{hint}")
        resolver = payload["resolver"]
        yield LabInfo(
            ca_bundle=Path(payload["ca_bundle"]),
            hosts=[(str(n), str(a), dict(p)) for n, a, p in payload["hosts"]],
            resolver=(str(resolver[0]), int(resolver[1])),
        )
    finally:
        stop.set()
        process.join(15)
        if process.is_alive():
            process.terminate()
            process.join(5)
        say("lab stopped")


def prepare_school(dest: Path, lab: LabInfo) -> Path:
    """A copy of the demo school folder that declares the lab as it runs here: DNS on port 53
    and the VPN portal."""
    shutil.copytree(DEMO_SCHOOL, dest)
    path = dest / "school.yaml"
    yaml = YAML()
    data = yaml.load(path.read_text(encoding="utf-8"))
    ports = {name: p for name, _, p in lab.hosts}
    for host in data["hosts"]:
        if host["name"] == f"ns1.{DOMAIN}":
            host["ports"]["dns"] = ports[host["name"]]["dns"]
            host["allowed_ports"] = [ports[host["name"]]["dns"]]
    data["hosts"].append(
        {
            "name": VPN_NAME,
            "address": VPN_ADDRESS,
            "roles": ["vpn"],
            "ports": {"https": ports[VPN_NAME]["https"]},
            "allowed_ports": [ports[VPN_NAME]["https"]],
            "zone": "dmz",
        }
    )
    data["network"]["resolver"]["port"] = lab.resolver[1]
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    return dest


# --- timing cyberstd through the library -------------------------------------------------------


@dataclass
class CyberstdRun:
    load_s: float  # catalog, school folder, plan
    exec_s: float
    findings: list[Finding]

    @property
    def library_s(self) -> float:
        return self.load_s + self.exec_s


def run_family(family: Family, school_dir: Path, ca_bundle: Path) -> CyberstdRun:
    started = time.perf_counter()
    catalog, problems = load_catalog()
    if problems:
        raise BenchError(f"the catalog has problems: {problems[0]}")
    folder, problems = load_school(school_dir, catalog)
    if folder is None or problems:
        raise BenchError(f"the bench's school folder has problems: {problems[:3]}")
    plan = make_plan(catalog, folder)
    plan = replace(plan, items=[i for i in plan.items if family.checks(i.check_id)])
    ctx = context_for(folder, ca_bundle=ca_bundle)
    loaded = time.perf_counter()
    findings = execute(plan, ctx)
    done = time.perf_counter()
    return CyberstdRun(loaded - started, done - loaded, findings)


def startup_seconds() -> float:
    """Interpreter start and cyberstd's imports (probe modules included), in a fresh process."""
    code = (
        "import cyberstd.runner, cyberstd.school, cyberstd.catalog\n"
        "from cyberstd.registry import probes\nprobes()\n"
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code], check=True, timeout=STARTUP_TIMEOUT, stdin=subprocess.DEVNULL
    )
    return time.perf_counter() - started


# --- running peers -----------------------------------------------------------------------------


@dataclass
class ProcResult:
    argv: list[str]
    returncode: int
    stdout: Path
    stderr: Path

    def out(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def err(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


def run_group(
    argvs: Sequence[Sequence[str]], timeout: float, logs: Path, label: str
) -> tuple[float, list[ProcResult]]:
    """Run the commands at the same time, each in its own process group; return the wall time
    until the last one ended. On time-out (or Ctrl-C) every group still running is killed."""
    procs: list[subprocess.Popen[bytes]] = []
    results: list[ProcResult] = []
    with ExitStack() as files:
        started = time.perf_counter()
        try:
            for i, argv in enumerate(argvs):
                out_path, err_path = logs / f"{label}-{i}.out", logs / f"{label}-{i}.err"
                out: TextIO = files.enter_context(out_path.open("w"))
                err: TextIO = files.enter_context(err_path.open("w"))
                procs.append(
                    subprocess.Popen(
                        list(argv),
                        stdout=out,
                        stderr=err,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
                results.append(ProcResult(list(argv), -1, out_path, err_path))
            deadline = started + timeout
            for proc in procs:
                proc.wait(timeout=max(0.0, deadline - time.perf_counter()))
            elapsed = time.perf_counter() - started
        except subprocess.TimeoutExpired:
            raise BenchError(f"{label} did not finish within {timeout:.0f} s") from None
        finally:
            for proc in procs:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)  # the group this script started
                    proc.wait()
    for proc, result in zip(procs, results, strict=True):
        result.returncode = proc.returncode
    return elapsed, results


def run_one(
    argv: Sequence[str], timeout: float, logs: Path, label: str
) -> tuple[float, ProcResult]:
    elapsed, results = run_group([argv], timeout, logs, label)
    return elapsed, results[0]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(
    label: str, repeat: int, once: Callable[[int], tuple[float, Any]]
) -> tuple[float, list[float], Any]:
    """Run `once` `repeat` times; return the median, every time and the last run's result."""
    times: list[float] = []
    result: Any = None
    for i in range(repeat):
        seconds, result = once(i)
        times.append(seconds)
        say(f"{label} run {i + 1}/{repeat}: {seconds:.3f} s")
    return median(times), times, result


# --- TLS endpoints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    address: str
    port: int
    starttls: str | None

    @property
    def label(self) -> str:
        return f"{self.name}:{self.port}" + (f" ({self.starttls.upper()})" if self.starttls else "")

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.port)


def tls_endpoints(findings: list[Finding]) -> list[Endpoint]:
    """The endpoints cyberstd's TLS probes judged, so that the peers get exactly these."""
    found: dict[tuple[str, int], Endpoint] = {}
    for f in findings:
        if not f.check.startswith("tls."):
            continue
        address = str(f.evidence.get("address", ""))
        for record in f.evidence.get("endpoints", []):
            ep = Endpoint(f.target, address, int(record["port"]), record.get("starttls"))
            found.setdefault(ep.key, ep)
    return sorted(found.values(), key=lambda e: (e.name, e.port))


def endpoint_records(findings: list[Finding], check: str) -> dict[tuple[str, int], dict[str, Any]]:
    """Per endpoint, the verdict record of one TLS check (status, message and evidence)."""
    records: dict[tuple[str, int], dict[str, Any]] = {}
    for f in findings:
        if f.check != check:
            continue
        for record in f.evidence.get("endpoints", []):
            records[(f.target, int(record["port"]))] = record
    return records


# --- sslyze ------------------------------------------------------------------------------------

SSLYZE_VERSIONS = {
    "ssl_2_0_cipher_suites": "SSLv2",
    "ssl_3_0_cipher_suites": "SSLv3",
    "tls_1_0_cipher_suites": "TLSv1",
    "tls_1_1_cipher_suites": "TLSv1.1",
    "tls_1_2_cipher_suites": "TLSv1.2",
    "tls_1_3_cipher_suites": "TLSv1.3",
}


@dataclass
class SslyzeView:
    versions: dict[str, bool | None] = field(default_factory=dict)
    suites: list[str] = field(default_factory=list)
    verified: bool | None = None
    verify_error: str = ""
    sha1: bool | None = None
    key: str = ""
    not_after: str = ""
    error: str = ""


def sslyze_commands(
    sslyze: Path, endpoints: list[Endpoint], ca: Path, out: Path
) -> list[list[str]]:
    """One sslyze process per kind of endpoint (direct TLS, STARTTLS SMTP); scans limited to
    what cyberstd's TLS family judges: versions and their cipher suites, the certificate."""
    scans = [
        "--mozilla_config=disable",
        *(f"--{flag}" for flag in ("sslv2", "sslv3", "tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3")),
        "--certinfo",
        f"--certinfo_ca_file={ca}",
    ]
    groups: dict[str | None, list[Endpoint]] = {}
    for ep in endpoints:
        groups.setdefault(ep.starttls, []).append(ep)
    commands = []
    for starttls, eps in sorted(groups.items(), key=lambda kv: kv[0] or ""):
        json_out = out / f"sslyze-{starttls or 'tls'}.json"
        argv = [str(sslyze), "--quiet", f"--json_out={json_out}"]
        if starttls:
            argv.append(f"--starttls={starttls}")
        argv += scans + [f"{ep.name}:{ep.port}{{{ep.address}}}" for ep in eps]
        commands.append(argv)
    return commands


def parse_sslyze(paths: list[Path]) -> dict[tuple[str, int], SslyzeView]:
    views: dict[tuple[str, int], SslyzeView] = {}
    for path in paths:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for server in doc.get("server_scan_results", []):
            loc = server["server_location"]
            view = SslyzeView()
            views[(loc["hostname"], int(loc["port"]))] = view
            if server.get("scan_status") != "COMPLETED":
                view.error = str(
                    server.get("connectivity_error_trace") or server.get("scan_status")
                )
                continue
            result = server["scan_result"]
            for attr, version in SSLYZE_VERSIONS.items():
                attempt = result.get(attr) or {}
                if attempt.get("status") != "COMPLETED":
                    view.versions[version] = None
                    continue
                accepted = attempt["result"]["accepted_cipher_suites"]
                view.versions[version] = bool(accepted)
                view.suites += [a["cipher_suite"]["name"] for a in accepted]
            info = result.get("certificate_info") or {}
            if info.get("status") == "COMPLETED":
                deployment = info["result"]["certificate_deployments"][0]
                supplied = [
                    r
                    for r in deployment["path_validation_results"]
                    if r["trust_store"]["name"] == "Supplied CA file"
                ]
                if supplied:
                    view.verified = bool(supplied[0]["was_validation_successful"])
                    view.verify_error = str(supplied[0].get("validation_error") or "")
                view.sha1 = deployment.get("verified_chain_has_sha1_signature")
                leaf = deployment["received_certificate_chain"][0]
                key = leaf["public_key"]
                view.key = f"{key['algorithm'].removesuffix('PublicKey')} {key['key_size']}"
                view.not_after = str(leaf["not_valid_after"])[:10]
    return views


def sslyze_weak(suites: list[str]) -> dict[str, bool]:
    """sslyze's accepted suites sorted into cyberstd's weak classes (IANA names)."""
    names = [s.upper() for s in suites]
    return {
        "NULL": any("_WITH_NULL_" in s for s in names),
        "EXPORT": any("EXPORT" in s for s in names),
        "anonymous": any("_ANON_" in s for s in names),
        "RC4": any("_RC4_" in s for s in names),
        "3DES": any("_3DES_" in s or "_DES_" in s or "DES40" in s for s in names),
    }


# --- testssl.sh --------------------------------------------------------------------------------

TESTSSL_VERSIONS = {
    "SSLv2": "SSLv2",
    "SSLv3": "SSLv3",
    "TLS1": "TLSv1",
    "TLS1_1": "TLSv1.1",
    "TLS1_2": "TLSv1.2",
    "TLS1_3": "TLSv1.3",
}
TESTSSL_WEAK = {
    "NULL": "cipherlist_NULL",
    "EXPORT": "cipherlist_EXPORT",
    "anonymous": "cipherlist_aNULL",
    "3DES": "cipherlist_3DES_IDEA",
}
# What the certificate rows below already compare; any other flagged cert_* or cipherlist_*
# entry is listed as judged by testssl alone.
TESTSSL_COMPARED = frozenset(
    {
        "cert_chain_of_trust",
        "cert_trust",
        "cert_expirationStatus",
        "cert_notAfter",
        "cert_keySize",
        "cert_signatureAlgorithm",
        *TESTSSL_WEAK.values(),
    }
)


@dataclass
class TestsslView:
    entries: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (severity, finding)
    error: str = ""

    def get(self, key: str) -> tuple[str, str] | None:
        return self.entries.get(key)

    def offered(self, key: str) -> bool | None:
        entry = self.get(key)
        if entry is None:
            return None
        text = entry[1].lower()
        if text.startswith("not offered") or text.startswith("no "):
            return False
        if "offered" in text or "vulnerable" in text:
            return True
        return None

    def flagged(self, key: str) -> bool | None:
        entry = self.get(key)
        return None if entry is None else entry[0] in TESTSSL_FLAGGED


def testssl_command(testssl: str, ep: Endpoint, ca: Path, json_path: Path) -> list[str]:
    argv = [testssl, "--ip", ep.address, "--nodns", "none", "--add-ca", str(ca)]
    argv += ["--quiet", "--warnings", "batch", "--color", "0"]
    argv += ["--connect-timeout", "10", "--openssl-timeout", "10", "--jsonfile", str(json_path)]
    if ep.starttls:
        argv += ["--starttls", ep.starttls]
    return [*argv, f"{ep.name}:{ep.port}"]


def parse_testssl(path: Path) -> TestsslView:
    view = TestsslView()
    if not path.exists():
        view.error = "no JSON output"
        return view
    for entry in json.loads(path.read_text(encoding="utf-8")):
        view.entries[str(entry["id"])] = (str(entry["severity"]), str(entry["finding"]))
    if "scanProblem" in view.entries:
        view.error = view.entries["scanProblem"][1]
    return view


# --- checkdmarc --------------------------------------------------------------------------------


def checkdmarc_command(checkdmarc: Path, nameserver: str) -> list[str]:
    # checkdmarc 6 tests no TLS unless --check-mx-tls is given (its --skip-tls is a no-op).
    return [str(checkdmarc), "-n", nameserver, "-t", "2", "-f", "json", DOMAIN]


# --- nmap --------------------------------------------------------------------------------------


@dataclass
class NmapCommand:
    hosts: list[str]
    ports: set[int]
    top_ports: int | None
    script: str | None
    script_args: str | None
    version: bool
    version_intensity: str | None


def parse_nmap_command(command: str) -> NmapCommand:
    """What one of cyberstd's recorded nmap command lines scanned (evidence `nmap`)."""
    tokens = command.split()
    parsed = NmapCommand([], set(), None, None, None, "-sV" in tokens, None)
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token == "-p":
            parsed.ports |= parse_port_spec(following)
        elif token == "--top-ports":
            parsed.top_ports = int(following)
        elif token == "--script":
            parsed.script = following
        elif token == "--script-args":
            parsed.script_args = following
        elif token == "--version-intensity":
            parsed.version_intensity = following
        else:
            try:
                ipaddress.ip_address(token)
            except ValueError:
                continue
            parsed.hosts.append(token)
    return parsed


def parse_port_spec(spec: str) -> set[int]:
    ports: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.partition("-")
        ports.update(range(int(low), int(high or low) + 1))
    return ports


def port_spec(ports: set[int]) -> str:
    """Ports as nmap's compact list of ranges."""
    ordered = sorted(ports)
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def top_ports(nmap: str, count: int) -> set[int]:
    """nmap's own list of its `count` most common TCP ports (read from a run with no target)."""
    done = subprocess.run(
        [nmap, "-sT", "-n", "-Pn", "--top-ports", str(count), "-oX", "-", "-iL", os.devnull],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    info = ET.fromstring(done.stdout).find("scaninfo")
    if info is None or not info.get("services"):
        raise BenchError("nmap did not list its top ports")
    return parse_port_spec(str(info.get("services")))


def sort_hosts(hosts: set[str]) -> list[str]:
    return sorted(hosts, key=lambda a: ipaddress.ip_address(a).packed)


@dataclass
class NmapPort:
    state: str
    product: str
    scripts: dict[str, str]


def parse_nmap_xml(path: Path) -> dict[str, dict[int, NmapPort]]:
    """Per host address, per TCP port: state, product and version, script outputs."""
    hosts: dict[str, dict[int, NmapPort]] = {}
    root = ET.parse(path).getroot()
    for host in root.iter("host"):
        address = host.find("address")
        if address is None:
            continue
        ports: dict[int, NmapPort] = {}
        for port in host.iter("port"):
            if port.get("protocol") != "tcp":
                continue
            state = port.find("state")
            service = port.find("service")
            product = ""
            if service is not None:
                product = " ".join(
                    x for x in (service.get("product"), service.get("version")) if x
                ).strip()
            scripts = {s.get("id", ""): s.get("output", "") for s in port.iter("script")}
            ports[int(port.get("portid", "0"))] = NmapPort(
                state.get("state", "") if state is not None else "", product, scripts
            )
        hosts[str(address.get("addr"))] = ports
    return hosts


@dataclass
class NmapPlan:
    """Bare nmap command lines doing the work of one cyberstd family's nmap runs."""

    phases: list[list[str]]
    scanned: dict[str, set[int]]  # what cyberstd scanned per host address


def nmap_ports_plan(nmap: str, findings: list[Finding], out: Path) -> NmapPlan:
    """Connect scan of every port cyberstd scanned, on every host, in one nmap run; then the
    banner script on the ports where cyberstd read banners, in a second run."""
    scanned: dict[str, set[int]] = {}
    banner_hosts: set[str] = set()
    banner_ports: set[int] = set()
    banner_args: str | None = None
    tops: dict[int, set[int]] = {}
    for f in findings:
        for command in f.evidence.get("nmap", []):
            cmd = parse_nmap_command(command)
            ports = set(cmd.ports)
            if cmd.top_ports is not None:
                if cmd.top_ports not in tops:
                    tops[cmd.top_ports] = top_ports(nmap, cmd.top_ports)
                ports |= tops[cmd.top_ports]
            for host in cmd.hosts:
                scanned.setdefault(host, set()).update(ports)
            if cmd.script == "banner":
                banner_hosts.update(cmd.hosts)
                banner_ports |= cmd.ports
                banner_args = cmd.script_args
    if not scanned:
        raise BenchError("cyberstd's port findings recorded no nmap command")
    every = set().union(*scanned.values())
    connect = [nmap, "-sT", "-Pn", "-n", "-p", port_spec(every)]
    phases = [[*connect, "-oX", str(out / "nmap-connect.xml"), *sort_hosts(set(scanned))]]
    if banner_hosts:
        banner = [nmap, "-sT", "-Pn", "-n", "-p", port_spec(banner_ports), "--script", "banner"]
        if banner_args:
            banner += ["--script-args", banner_args]
        phases.append([*banner, "-oX", str(out / "nmap-banner.xml"), *sort_hosts(banner_hosts)])
    return NmapPlan(phases, scanned)


def nmap_versions_plan(nmap: str, findings: list[Finding], out: Path) -> NmapPlan:
    """One nmap run with version detection (and the same HTTP header scripts) on every port
    that software.outdated's first phase scanned, on every host."""
    scanned: dict[str, set[int]] = {}
    intensity = "2"
    scripts = "http-server-header,http-headers"
    for f in findings:
        commands = [parse_nmap_command(c) for c in f.evidence.get("nmap", [])]
        for cmd in commands:
            if cmd.version:
                intensity = cmd.version_intensity or intensity
                scripts = cmd.script or scripts
            else:
                for host in cmd.hosts:
                    scanned.setdefault(host, set()).update(cmd.ports)
    if not scanned:
        raise BenchError("software.outdated recorded no nmap command")
    every = set().union(*scanned.values())
    argv = [nmap, "-sT", "-Pn", "-n", "-sV", "--version-intensity", intensity, "--script", scripts]
    argv += ["-p", port_spec(every), "-oX", str(out / "nmap-versions.xml")]
    return NmapPlan([argv + sort_hosts(set(scanned))], scanned)


# --- verdicts side by side ---------------------------------------------------------------------


@dataclass
class Verdict:
    """One thing judged, by each tool: what it says (shown) and a comparable value (None: the
    tool does not judge it)."""

    topic: str
    subject: str
    shown: dict[str, str]
    judged: dict[str, str | None]

    @property
    def disagree(self) -> bool:
        return len({v for v in self.judged.values() if v is not None}) > 1


def accepted(result: object) -> bool | None:
    """cyberstd's per-offer result: accepted, refused, or anything else (no answer)."""
    return True if result == "accepted" else False if result == "refused" else None


def yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def status_yes(finding: Finding | dict[str, Any] | None) -> str | None:
    """pass -> yes, fail -> no, anything else (error, not applicable, absent) -> not judged."""
    if finding is None:
        return None
    status = finding.status if isinstance(finding, Finding) else finding.get("status")
    if status == FindingStatus.PASS:
        return "yes"
    return "no" if status == FindingStatus.FAIL else None


def show(value: str | None, detail: str = "") -> str:
    text = "not judged" if value is None else value
    return f"{text} ({detail})" if detail else text


def version_list(versions: dict[str, bool | None], tested: Sequence[str]) -> tuple[str, str]:
    """Shown text and comparable value of the versions a tool found offered."""
    offered = [v for v in tested if versions.get(v)]
    unknown = [v for v in tested if versions.get(v) is None]
    text = " ".join(offered) or "none"
    if unknown:
        text += f" (not tested: {' '.join(unknown)})"
    return text, " ".join(offered)


def tls_verdicts(
    endpoints: list[Endpoint],
    tls_findings: list[Finding],
    sslyze: dict[tuple[str, int], SslyzeView],
    testssl: dict[tuple[str, int], TestsslView] | None,
) -> tuple[list[Verdict], list[str]]:
    verdicts: list[Verdict] = []
    only: list[str] = []
    protocols = endpoint_records(tls_findings, "tls.protocols")
    weak = endpoint_records(tls_findings, "tls.weak-ciphers")
    valid = endpoint_records(tls_findings, "tls.cert-valid")
    expiry = endpoint_records(tls_findings, "tls.cert-expiry")
    keys = endpoint_records(tls_findings, "tls.cert-key")
    for ep in endpoints:
        s = sslyze.get(ep.key, SslyzeView(error="no result"))
        t = testssl.get(ep.key) if testssl is not None else None

        def add(topic: str, values: dict[str, tuple[str, str | None]], ep: Endpoint = ep) -> None:
            verdicts.append(
                Verdict(
                    topic,
                    ep.label,
                    {k: v[0] for k, v in values.items()},
                    {k: v[1] for k, v in values.items()},
                )
            )

        # Versions: compared on the versions that every tool with a result tested (cyberstd
        # does not offer SSLv2); a version only some tools tested is listed apart when offered.
        p = protocols.get(ep.key)
        c_versions: dict[str, bool | None] = dict.fromkeys(PROTOCOLS)
        if p is not None and "versions" in p:
            for name, attempt in p["versions"].items():
                c_versions[name] = accepted(attempt.get("result"))
        by_tool: dict[str, dict[str, bool | None]] = {
            "cyberstd": c_versions,
            "sslyze": s.versions,
        }
        if t is not None:
            by_tool["testssl"] = {name: t.offered(i) for i, name in TESTSSL_VERSIONS.items()}
        answered = {k: vs for k, vs in by_tool.items() if any(x is not None for x in vs.values())}
        common = [v for v in PROTOCOLS if all(vs.get(v) is not None for vs in answered.values())]
        values: dict[str, tuple[str, str | None]] = {}
        for tool, vs in by_tool.items():
            if tool not in answered:
                values[tool] = ("no result", None)
                continue
            text, _ = version_list(vs, PROTOCOLS)
            values[tool] = (text, " ".join(v for v in common if vs.get(v)) or "none")
            for version in PROTOCOLS:
                if version not in common and vs.get(version):
                    only.append(f"{tool:<8} {ep.label}: offers {version}, not tested by all")
        add("TLS versions offered", values)

        # Weak cipher classes.
        w = weak.get(ep.key)
        c_weak: dict[str, bool | None] = {}
        if w is not None and "classes" in w:
            for cls, attempt in w["classes"].items():
                c_weak[cls] = accepted(attempt.get("result"))
        s_weak: dict[str, bool | None] = dict(sslyze_weak(s.suites)) if s.versions else {}
        t_weak: dict[str, bool | None] = {}
        if t is not None:
            t_weak = {cls: t.offered(key) for cls, key in TESTSSL_WEAK.items()}
            rc4 = t.get("RC4")
            t_weak["RC4"] = None if rc4 is None else ("VULNERABLE" in rc4[1].upper())
        values = {}
        for tool, classes in (("cyberstd", c_weak), ("sslyze", s_weak), ("testssl", t_weak)):
            if tool == "testssl" and t is None:
                continue
            if not classes:
                values[tool] = ("no result", None)
                continue
            found = [c for c in WEAK_CLASSES if classes.get(c)]
            values[tool] = (", ".join(found) or "none", ", ".join(found) or "none")
        add("weak cipher classes accepted", values)

        # Certificate: verifies (trust, name, dates) against the lab CA.
        v = valid.get(ep.key)
        t_verifies: str | None = None
        t_detail = ""
        if t is not None:
            chain, name = t.get("cert_chain_of_trust"), t.get("cert_trust")
            exp = t.get("cert_expirationStatus")
            if chain and name:
                ok = chain[0] == "OK" and name[0] == "OK" and not (exp and "expired" in exp[1])
                t_verifies = yes_no(ok)
                t_detail = "" if ok else f"chain: {chain[1]}; name: {name[1]}"
        values = {
            "cyberstd": (
                show(status_yes(v), "" if v is None else str(v.get("problem") or "")),
                status_yes(v),
            ),
            "sslyze": (show(yes_no(s.verified), s.verify_error[:60]), yes_no(s.verified)),
        }
        if t is not None:
            values["testssl"] = (show(t_verifies, t_detail[:60]), t_verifies)
        add("certificate verifies (CA, name, dates)", values)

        # Certificate: expires within 30 days (cyberstd warns, testssl grades).
        e = expiry.get(ep.key)
        c_soon: str | None = None
        c_detail = ""
        if e is not None and "days_left" in e:
            c_soon = yes_no(int(e["days_left"]) < int(e.get("warn_days", 30)))
            c_detail = f"{e['days_left']} days left"
        values = {
            "cyberstd": (show(c_soon, c_detail), c_soon),
            "sslyze": (show(None, f"not after {s.not_after}" if s.not_after else ""), None),
        }
        if t is not None:
            status = t.get("cert_expirationStatus")
            t_soon = None
            if status is not None:
                t_soon = yes_no("expired" in status[1] or "< 30" in status[1])
            values["testssl"] = (show(t_soon, status[1] if status else ""), t_soon)
        add("certificate expires within 30 days", values)

        # Certificate: key too small; SHA-1/MD5 signature.
        k = keys.get(ep.key)
        c_weak_key: str | None = None
        c_sha1: str | None = None
        key_text = ""
        if k is not None and "key_type" in k:
            kind, size = str(k["key_type"]), int(k["key_size"])
            small = (kind in ("RSA", "DSA") and size < int(k["min_rsa_bits"])) or (
                kind == "EC" and size < int(k["min_ec_bits"])
            )
            c_weak_key = yes_no(small)
            key_text = f"{kind} {size}"
            chain_certs = k.get("chain", [])
            c_sha1 = yes_no(
                any(
                    str(cert.get("signature_hash")) in ("sha1", "md5")
                    and not (i and cert.get("subject") == cert.get("issuer"))
                    for i, cert in enumerate(chain_certs)
                )
            )
        values = {
            "cyberstd": (show(c_weak_key, key_text), c_weak_key),
            "sslyze": (show(None, s.key), None),
        }
        if t is not None:
            size_entry = t.get("cert_keySize")
            values["testssl"] = (
                show(yes_no(t.flagged("cert_keySize")), size_entry[1] if size_entry else ""),
                yes_no(t.flagged("cert_keySize")),
            )
        add("certificate key too small", values)
        values = {
            "cyberstd": (show(c_sha1), c_sha1),
            "sslyze": (show(yes_no(s.sha1)), yes_no(s.sha1)),
        }
        if t is not None:
            sig = t.get("cert_signatureAlgorithm")
            values["testssl"] = (
                show(yes_no(t.flagged("cert_signatureAlgorithm")), sig[1] if sig else ""),
                yes_no(t.flagged("cert_signatureAlgorithm")),
            )
        add("SHA-1/MD5 signature in chain", values)

        if t is not None:
            for key, (severity, finding) in sorted(t.entries.items()):
                if (
                    key.startswith(("cert", "cipherlist_"))
                    and key not in TESTSSL_COMPARED
                    and severity in TESTSSL_FLAGGED
                ):
                    only.append(f"testssl  {ep.label}: {key} {severity}: {finding}")
            if t.error:
                only.append(f"testssl  {ep.label}: scan problem: {t.error}")
        if s.error:
            only.append(f"sslyze   {ep.label}: {s.error[:200]}")
    return verdicts, only


def finding_for(findings: list[Finding], check: str) -> Finding | None:
    return next((f for f in findings if f.check == check), None)


def mail_verdicts(
    mail_findings: list[Finding], whole_findings: list[Finding], cd: dict[str, Any]
) -> tuple[list[Verdict], list[str]]:
    verdicts: list[Verdict] = []
    only: list[str] = []

    def cd_part(name: str) -> dict[str, Any]:
        part = cd.get(name)
        return part if isinstance(part, dict) else {}

    def row(topic: str, finding: Finding | None, cd_value: str | None, cd_detail: str = "") -> None:
        mine = status_yes(finding)
        detail = finding.message[:90] if finding is not None else "no finding"
        verdicts.append(
            Verdict(
                topic,
                DOMAIN,
                {"cyberstd": show(mine, detail), "checkdmarc": show(cd_value, cd_detail[:90])},
                {"cyberstd": mine, "checkdmarc": cd_value},
            )
        )

    spf, dmarc, mx = cd_part("spf"), cd_part("dmarc"), cd_part("mx")
    row(
        "SPF valid",
        finding_for(mail_findings, "mail.spf"),
        yes_no(spf.get("valid")) if "valid" in spf else None,
        str(spf.get("error") or spf.get("record") or ""),
    )
    row(
        "DMARC valid",
        finding_for(mail_findings, "mail.dmarc"),
        yes_no(dmarc.get("valid")) if "valid" in dmarc else None,
        str(dmarc.get("error") or "; ".join(dmarc.get("warnings", [])) or dmarc.get("record", "")),
    )
    # The policy itself, as each tool read it.
    f_dmarc = finding_for(mail_findings, "mail.dmarc")
    mine = str(f_dmarc.evidence.get("policy")) if f_dmarc and "policy" in f_dmarc.evidence else None
    tags = dmarc.get("tags") or {}
    theirs = str(tags["p"]["value"]) if "p" in tags else None
    pct_mine = f_dmarc.evidence.get("pct") if f_dmarc else None
    pct_theirs = tags.get("pct", {}).get("value") if "pct" in tags else None
    verdicts.append(
        Verdict(
            "DMARC policy p= (pct)",
            DOMAIN,
            {
                "cyberstd": show(mine, f"pct {pct_mine}" if pct_mine else ""),
                "checkdmarc": show(theirs, f"pct {pct_theirs}" if pct_theirs else "no pct tag"),
            },
            {"cyberstd": mine, "checkdmarc": theirs},
        )
    )
    hosts = [h.get("hostname") for h in mx.get("hosts", [])]
    row(
        "MX present and usable",
        finding_for(mail_findings, "mail.mx"),
        yes_no(bool(hosts) and not mx.get("error")) if mx else None,
        str(mx.get("error") or ", ".join(str(h) for h in hosts)),
    )
    # From the whole scan: what checkdmarc reports besides SPF, DMARC and MX.
    row(
        "DNSSEC signed (whole scan)",
        finding_for(whole_findings, "dns.dnssec"),
        yes_no(cd.get("dnssec")) if "dnssec" in cd else None,
    )
    mta = cd_part("mta_sts")
    row(
        "MTA-STS valid (whole scan)",
        finding_for(whole_findings, "mail.mta-sts"),
        yes_no(mta.get("valid")) if "valid" in mta else None,
        str(mta.get("error") or ""),
    )
    rpt = cd_part("smtp_tls_reporting")
    row(
        "TLS-RPT valid (whole scan)",
        finding_for(whole_findings, "mail.tls-rpt"),
        yes_no(rpt.get("valid")) if "valid" in rpt else None,
        str(rpt.get("error") or ""),
    )
    for name in ("spf", "dmarc", "mx", "ns", "mta_sts", "smtp_tls_reporting"):
        for warning in cd_part(name).get("warnings", []):
            only.append(f"checkdmarc {name}: {warning}")
    return verdicts, only


def ports_verdicts(
    port_findings: list[Finding],
    version_findings: list[Finding],
    connect: dict[str, dict[int, NmapPort]],
    versions: dict[str, dict[int, NmapPort]],
    scanned: dict[str, set[int]],
) -> list[Verdict]:
    verdicts: list[Verdict] = []
    mine: dict[str, set[int]] = {}
    names: dict[str, str] = {}
    for f in port_findings:
        address = str(f.evidence.get("address", ""))
        if not address:
            continue
        names[address] = f.target
        mine.setdefault(address, set()).update(
            int(p["port"]) for p in f.evidence.get("open_ports", [])
        )
    for address in sort_hosts(set(scanned)):
        theirs = {
            port
            for port, info in connect.get(address, {}).items()
            if info.state == "open" and port in scanned[address]
        }
        a = ", ".join(str(p) for p in sorted(mine.get(address, set()))) or "none"
        b = ", ".join(str(p) for p in sorted(theirs)) or "none"
        verdicts.append(
            Verdict(
                "open TCP ports",
                f"{names.get(address, address)} ({address})",
                {"cyberstd": a, "nmap": b},
                {"cyberstd": a, "nmap": b},
            )
        )
    for f in version_findings:
        address = str(f.evidence.get("address", ""))
        timed_out = set(f.evidence.get("version_timed_out", []))
        services = {int(s["port"]): s for s in f.evidence.get("services", [])}
        for port in sorted(set(services) | timed_out):
            if port in timed_out:
                c_text, c_value = "no answer within the version time-out", None
            else:
                record = services[port]
                c_value = " ".join(
                    str(record[k]) for k in ("product", "version") if record.get(k)
                ).strip()
                c_text = c_value or f"no product ({record.get('service', '?')})"
            info = versions.get(address, {}).get(port)
            n_value = info.product if info is not None else None
            n_text = show(n_value or ("no product" if info is not None else None))
            verdicts.append(
                Verdict(
                    "product and version (-sV)",
                    f"{f.target}:{port}",
                    {"cyberstd": c_text, "nmap": n_text},
                    {"cyberstd": c_value, "nmap": n_value},
                )
            )
    return verdicts


# --- printing ----------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return lines


def print_verdicts(title: str, tools: Sequence[str], verdicts: list[Verdict]) -> int:
    print(f"\n{title}")
    rows = []
    for v in verdicts:
        mark = "DISAGREE <<<" if v.disagree else "agree"
        rows.append([v.subject, v.topic, *(v.shown.get(t, "-") for t in tools), mark])
    for line in table(["subject", "what", *tools, ""], rows):
        print(f"  {line}")
    return sum(1 for v in verdicts if v.disagree)


def seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


# --- main --------------------------------------------------------------------------------------


@dataclass
class Peers:
    sslyze: Path
    checkdmarc: Path
    nmap: str
    testssl: str | None


def find_peers(peers_dir: Path, skip_testssl: bool) -> Peers:
    sslyze = peers_dir / "sslyze" / "bin" / "sslyze"
    checkdmarc = peers_dir / "checkdmarc" / "bin" / "checkdmarc"
    nmap = shutil.which("nmap")
    testssl = None if skip_testssl else shutil.which("testssl") or shutil.which("testssl.sh")
    missing = [str(p) for p in (sslyze, checkdmarc) if not p.is_file()]
    if nmap is None:
        missing.append("nmap")
    if not skip_testssl and testssl is None:
        missing.append("testssl")
    if missing:
        raise BenchError(
            f"peer tools missing: {', '.join(missing)}; run `bash bench/setup-peers.sh` first "
            "(or pass --skip-testssl)"
        )
    assert nmap is not None
    return Peers(sslyze, checkdmarc, nmap, testssl)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median shown)")
    parser.add_argument("--skip-testssl", action="store_true", help="do not run testssl.sh")
    parser.add_argument("--testssl-timeout", type=float, default=600.0, help="seconds (all)")
    parser.add_argument("--peers", type=Path, default=BENCH_DIR / ".peers", help="peer venvs")
    parser.add_argument("--keep", type=Path, help="keep the peers' raw outputs in this folder")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    try:
        peers = find_peers(args.peers, args.skip_testssl)
        with tempfile.TemporaryDirectory(prefix="cyberstd-bench-") as tmp:
            work = Path(tmp)
            logs = args.keep or work / "peers"
            logs.mkdir(parents=True, exist_ok=True)
            (work / "lab").mkdir()
            with running_lab(work / "lab") as lab:
                return bench(args, peers, lab, work, logs)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; the lab is stopped", file=sys.stderr)
        return 130


def bench(args: argparse.Namespace, peers: Peers, lab: LabInfo, work: Path, logs: Path) -> int:
    repeat = int(args.repeat)
    for name, address, ports in lab.hosts:
        say(f"lab: {name} {address} {ports}")
    school_dir = prepare_school(work / "school", lab)
    probes()  # imports the probe modules once; start-up is measured apart below
    cyb: dict[str, tuple[float, float, CyberstdRun]] = {}  # key -> (median exec, median lib, last)
    peer_times: dict[str, float] = {}

    def cyberstd_family(family: Family) -> None:
        runs: list[CyberstdRun] = []

        def once(_: int) -> tuple[float, CyberstdRun]:
            run = run_family(family, school_dir, lab.ca_bundle)
            runs.append(run)
            return run.library_s, run

        timed(f"cyberstd {family.key}", repeat, once)
        errors = [f for f in runs[-1].findings if f.status is FindingStatus.ERROR]
        for f in errors:
            say(f"warning: {f.id} ended in error: {f.message}")
        cyb[family.key] = (
            median([r.exec_s for r in runs]),
            median([r.library_s for r in runs]),
            runs[-1],
        )

    families = {f.key: f for f in FAMILIES}
    startup, _, _ = timed("cyberstd start-up", repeat, lambda _: (startup_seconds(), None))

    # TLS
    cyberstd_family(families["tls"])
    tls_findings = cyb["tls"][2].findings
    endpoints = tls_endpoints(tls_findings)
    sslyze_argvs = sslyze_commands(peers.sslyze, endpoints, lab.ca_bundle, logs)
    peer_times["sslyze"], _, _ = timed(
        "sslyze", repeat, lambda i: run_group(sslyze_argvs, SSLYZE_TIMEOUT, logs, f"sslyze-{i}")
    )
    sslyze_views = parse_sslyze(sorted(logs.glob("sslyze-*.json")))
    testssl_views: dict[tuple[str, int], TestsslView] | None = None
    if peers.testssl is not None:
        say(f"testssl on {len(endpoints)} endpoints at once (about a minute or two)")
        jsons = {ep.key: logs / f"testssl-{ep.name}-{ep.port}.json" for ep in endpoints}
        for path in jsons.values():
            path.unlink(missing_ok=True)
        argvs = [
            testssl_command(peers.testssl, ep, lab.ca_bundle, jsons[ep.key]) for ep in endpoints
        ]
        peer_times["testssl"], _ = run_group(argvs, float(args.testssl_timeout), logs, "testssl")
        say(f"testssl: {peer_times['testssl']:.1f} s")
        testssl_views = {key: parse_testssl(path) for key, path in jsons.items()}

    # Mail and DNS
    cyberstd_family(families["mail"])
    cd_argv = checkdmarc_command(peers.checkdmarc, lab.resolver[0])
    peer_times["checkdmarc"], _, cd_proc = timed(
        "checkdmarc",
        repeat,
        lambda i: run_one(cd_argv, CHECKDMARC_TIMEOUT, logs, f"checkdmarc-{i}"),
    )
    try:
        cd_doc = json.loads(cd_proc.out())
    except json.JSONDecodeError as exc:
        raise BenchError(f"checkdmarc printed no JSON ({exc}): {cd_proc.err()[-500:]}") from None
    cd: dict[str, Any] = cd_doc[0] if isinstance(cd_doc, list) else cd_doc

    # Ports
    cyberstd_family(families["ports"])
    port_plan = nmap_ports_plan(peers.nmap, cyb["ports"][2].findings, logs)

    def nmap_ports(i: int) -> tuple[float, None]:
        total = 0.0
        for n, phase in enumerate(port_plan.phases):
            elapsed, proc = run_one(phase, NMAP_TIMEOUT, logs, f"nmap-ports-{i}-{n}")
            if proc.returncode != 0:
                raise BenchError(f"nmap failed: {proc.err()[-500:]}")
            total += elapsed
        return total, None

    peer_times["nmap ports"], _, _ = timed("nmap connect+banner", repeat, nmap_ports)

    # Versions
    cyberstd_family(families["versions"])
    version_plan = nmap_versions_plan(peers.nmap, cyb["versions"][2].findings, logs)

    def nmap_versions(i: int) -> tuple[float, None]:
        elapsed, proc = run_one(version_plan.phases[0], NMAP_TIMEOUT, logs, f"nmap-sV-{i}")
        if proc.returncode != 0:
            raise BenchError(f"nmap -sV failed: {proc.err()[-500:]}")
        return elapsed, None

    peer_times["nmap -sV"], _, _ = timed("nmap -sV", repeat, nmap_versions)

    # Whole scan
    cyberstd_family(families["whole"])

    # --- report ---
    print("cyberstd lab benchmark (issue 3): one lab, the same targets for every tool")
    print(
        f"lab: demo flaws + {VPN_NAME} ({VPN_ADDRESS}:{VPN_PORT}, TLS 1.0 allowed); "
        f"DNS {lab.resolver[0]}:{lab.resolver[1]}; machine: {os.cpu_count()} cores; "
        f"median of {repeat} runs (testssl: 1 run)"
    )
    print("TLS endpoints: " + ", ".join(f"{ep.label} {{{ep.address}}}" for ep in endpoints))

    print("\nTimes")
    rows = []
    for family in FAMILIES:
        exec_s, lib_s, last = cyb[family.key]
        rows.append(
            [
                f"cyberstd {family.key}",
                family.title,
                str(len(last.findings)),
                seconds(exec_s),
                seconds(lib_s),
                seconds(lib_s + startup),
            ]
        )
    for line in table(["tool", "what", "findings", "execute", "library", "end-to-end"], rows):
        print(f"  {line}")
    print(
        f"  (library = catalog and school load + plan + execute; end-to-end adds the measured "
        f"start-up of a cyberstd process, {seconds(startup)})"
    )
    peer_rows = [
        ["sslyze", f"{len(sslyze_argvs)} processes at once (versions, suites, certificate)"],
    ]
    if "testssl" in peer_times:
        peer_rows.append(["testssl", f"{len(endpoints)} processes at once, default run (1 run)"])
    peer_rows += [
        ["checkdmarc", f"-n {lab.resolver[0]} {DOMAIN}"],
        ["nmap ports", " then ".join(f"nmap {' '.join(_short(p))}" for p in port_plan.phases)],
        ["nmap -sV", "nmap " + " ".join(_short(version_plan.phases[0]))],
    ]
    for line in table(
        ["peer", "what", "wall time"], [[n, w, seconds(peer_times[n])] for n, w in peer_rows]
    ):
        print(f"  {line}")

    print("\nRatios (cyberstd / peer) against the goals of issue 3")
    tls_peer = min(
        ((n, peer_times[n]) for n in ("sslyze", "testssl") if n in peer_times), key=lambda x: x[1]
    )
    comparisons = [
        ("TLS", "tls", tls_peer[0], tls_peer[1], 1.0),
        ("mail/DNS", "mail", "checkdmarc", peer_times["checkdmarc"], 1.0),
        ("ports (nmap wrapper)", "ports", "nmap ports", peer_times["nmap ports"], 1.2),
        ("versions (nmap wrapper)", "versions", "nmap -sV", peer_times["nmap -sV"], 1.2),
    ]
    all_peers = sum(peer_times.values())
    fastest = sum(t for _, _, _, t, _ in comparisons)
    rows = []
    goals_met: list[tuple[str, bool]] = []
    for label, key, peer, theirs, goal in comparisons:
        exec_s, lib_s, _ = cyb[key]
        rows.append(
            _ratio_row(label, f"{peer} {seconds(theirs)}", exec_s, lib_s, startup, theirs, goal)
        )
        goals_met.append((label, lib_s / theirs <= goal))
    whole_exec, whole_lib, _ = cyb["whole"]
    sum_label = " + ".join(peer_times)
    rows.append(
        _ratio_row(
            "whole scan / sum of all peers",
            f"{sum_label} = {seconds(all_peers)}",
            whole_exec,
            whole_lib,
            startup,
            all_peers,
            0.5,
        )
    )
    goals_met.append(("whole scan / sum of all peers", whole_lib / all_peers <= 0.5))
    rows.append(
        _ratio_row(
            "whole scan / sum of fastest peers",
            f"{tls_peer[0]} + checkdmarc + nmap ports + nmap -sV = {seconds(fastest)}",
            whole_exec,
            whole_lib,
            startup,
            fastest,
            0.5,
        )
    )
    for line in table(
        ["family", "peer", "execute", "library", "end-to-end", "goal", "met (exec/lib/e2e)"], rows
    ):
        print(f"  {line}")

    tls_v, tls_only = tls_verdicts(endpoints, tls_findings, sslyze_views, testssl_views)
    mail_v, mail_only = mail_verdicts(cyb["mail"][2].findings, cyb["whole"][2].findings, cd)
    connect = parse_nmap_xml(logs / "nmap-connect.xml")
    version_scan = parse_nmap_xml(logs / "nmap-versions.xml")
    port_v = ports_verdicts(
        cyb["ports"][2].findings,
        cyb["versions"][2].findings,
        connect,
        version_scan,
        port_plan.scanned,
    )
    tls_tools = ["cyberstd", "sslyze"] + (["testssl"] if testssl_views is not None else [])
    disagreements = print_verdicts("Verdicts: TLS", tls_tools, tls_v)
    disagreements += print_verdicts("Verdicts: mail and DNS", ["cyberstd", "checkdmarc"], mail_v)
    disagreements += print_verdicts("Verdicts: ports and versions", ["cyberstd", "nmap"], port_v)
    print("\nJudged by one tool only (not disagreements; see bench/README.md)")
    for line in tls_only + mail_only or ["(none)"]:
        print(f"  {line}")
    print(f"\n{disagreements} disagreement(s) marked above")
    return 0


def _short(argv: Sequence[str]) -> list[str]:
    """A command line without the program path and output file, long port lists cut."""
    out: list[str] = []
    skip = False
    for i, token in enumerate(argv[1:], start=1):
        if skip:
            skip = False
            continue
        if token == "-oX":
            skip = True
            continue
        if argv[i - 1] == "-p" and len(token) > 40:
            token = f"<{len(parse_port_spec(token))} ports>"
        out.append(token)
    return out


def _ratio_row(
    label: str, peer: str, exec_s: float, lib_s: float, startup: float, theirs: float, goal: float
) -> list[str]:
    values = (exec_s / theirs, lib_s / theirs, (lib_s + startup) / theirs)
    met = "/".join("yes" if v <= goal else "NO" for v in values)
    return [
        label,
        peer,
        f"{values[0]:.2f}x",
        f"{values[1]:.2f}x",
        f"{values[2]:.2f}x",
        f"<={goal:.1f}x",
        met,
    ]


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark: cyberstd's probe families against peer tools on the same lab targets, in one run.

Run as root after `bash bench/setup-peers.sh`:  python bench/lab_bench.py [--skip-testssl]
Everything stays on loopback (the lab school on 127.0.10.0/24 and 127.0.30.0/24).
"""

from __future__ import annotations

import argparse
import json
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cyberstd.catalog import load_catalog
from cyberstd.lab.certs import CertificateAuthority
from cyberstd.lab.school import DEMO_FLAWS, Lab, Ports, lab_school
from cyberstd.lab.web import WebServer
from cyberstd.results import Finding
from cyberstd.runner import context_for, execute, make_plan
from cyberstd.school import load_school

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = HERE / ".peers"
DOMAIN = "demo-school.test"
VPN = ("vpn.demo-school.test", "127.0.10.4", 443)
TLS_TARGETS = [  # (name, address, port, starttls)
    ("www.demo-school.test", "127.0.10.1", 18443, None),
    ("mail.demo-school.test", "127.0.10.2", 25, "smtp"),
    (VPN[0], VPN[1], VPN[2], None),
]
TLS_CHECKS = (
    "tls.protocols",
    "tls.weak-ciphers",
    "tls.cert-valid",
    "tls.cert-expiry",
    "tls.cert-key",
)
MAIL_CHECKS = ("mail.spf", "mail.dmarc", "mail.mx")
PORT_CHECKS = ("ports.exposed-services",)
TIMEOUT = 900


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = func()
    return time.perf_counter() - started, value


def run(argv: list[str], timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def school_copy(workdir: Path) -> Path:
    """The demo school, asking the lab's DNS on port 53 and with a VPN portal that allows TLS 1.0."""
    folder = workdir / "school"
    shutil.copytree(REPO / "examples" / "demo-school", folder)
    text = (folder / "school.yaml").read_text()
    text = text.replace(
        "resolver: {address: 127.0.10.53, port: 10053}",
        "resolver: {address: 127.0.10.53, port: 53}",
    )
    text = text.replace(
        "zones:\n",
        f"  - name: {VPN[0]}\n    address: {VPN[1]}\n    roles: [vpn]\n    allowed_ports: [443]\n    zone: dmz\n\nzones:\n",
        1,
    )
    (folder / "school.yaml").write_text(text)
    return folder


class Cyberstd:
    """cyberstd's families through the library, on the lab."""

    def __init__(self, folder: Path, ca_bundle: Path) -> None:
        self.catalog, problems = load_catalog(REPO)
        school, found = load_school(folder, self.catalog)
        if problems or found or school is None:
            raise SystemExit("\n".join(str(p) for p in [*problems, *found]))
        self.school = school
        self.ctx = context_for(school, ca_bundle=ca_bundle)

    def family(self, checks: Iterable[str] | None) -> list[Finding]:
        plan = make_plan(self.catalog, self.school, "secondary-school")
        if checks is not None:
            wanted = set(checks)
            plan.items = [i for i in plan.items if i.check_id in wanted]
        return execute(plan, self.ctx, workers=8)


def sslyze(ca: Path, out: Path) -> dict[str, Any]:
    exe = str(PEERS / "sslyze" / "bin" / "sslyze")
    plain = [f"{n}:{p}{{{a}}}" for n, a, p, s in TLS_TARGETS if s is None]
    smtp = [f"{n}:{p}{{{a}}}" for n, a, p, s in TLS_TARGETS if s == "smtp"]
    jobs = [
        [exe, f"--json_out={out}/sslyze-plain.json", f"--certinfo_ca_file={ca}", *plain],
        [
            exe,
            "--starttls=smtp",
            f"--json_out={out}/sslyze-smtp.json",
            f"--certinfo_ca_file={ca}",
            *smtp,
        ],
    ]
    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(run, jobs))
    results: dict[str, Any] = {}
    for name in ("sslyze-plain.json", "sslyze-smtp.json"):
        path = out / name
        if path.exists():
            for server in json.loads(path.read_text()).get("server_scan_results", []):
                host = server["server_location"]["hostname"]
                results[host] = server.get("scan_result") or {}
    return results


def testssl(ca: Path, out: Path) -> dict[str, list[dict[str, Any]]]:
    def one(target: tuple[str, str, int, str | None]) -> tuple[str, list[dict[str, Any]]]:
        name, address, port, starttls = target
        report = out / f"testssl-{name}.json"
        argv = [
            "testssl",
            "--quiet",
            "--warnings",
            "off",
            "--ip",
            address,
            "--add-ca",
            str(ca),
            "-p",
            "-s",
            "-S",
            "--jsonfile",
            str(report),
        ]
        if starttls:
            argv += ["--starttls", starttls]
        argv.append(f"{name}:{port}")
        run(argv)
        return name, json.loads(report.read_text()) if report.exists() else []

    with ThreadPoolExecutor(len(TLS_TARGETS)) as pool:
        return dict(pool.map(one, TLS_TARGETS))


def checkdmarc() -> dict[str, Any]:
    exe = str(PEERS / "checkdmarc" / "bin" / "checkdmarc")
    proc = run([exe, "-n", "127.0.10.53", "--skip-tls", "-f", "json", DOMAIN], timeout=120)
    try:
        data: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"error": proc.stderr.strip()[-300:]}
    return data


def nmap_bare(hosts: list[str], ports: list[int], banners: bool) -> str:
    argv = ["nmap", "-sT", "-Pn", "-n", "-p", ",".join(map(str, ports)), *hosts]
    if banners:
        argv[1:1] = ["--script", "banner", "--script-args", "banner.timeout=1s"]
    return run(argv, timeout=300).stdout


# --- verdicts -------------------------------------------------------------------------------

VERSIONS = [
    ("SSLv3", "ssl_3_0", "SSLv3"),
    ("TLSv1", "tls_1_0", "TLS1"),
    ("TLSv1.1", "tls_1_1", "TLS1_1"),
    ("TLSv1.2", "tls_1_2", "TLS1_2"),
    ("TLSv1.3", "tls_1_3", "TLS1_3"),
]


def ours_versions(findings: list[Finding], host: str) -> str:
    f = next((f for f in findings if f.check == "tls.protocols" and f.target == host), None)
    if f is None:
        return "?"
    offered = f.evidence.get("offered") or f.evidence.get("versions_offered")
    if isinstance(offered, list):
        return ",".join(str(v) for v in offered)
    return f.message[:60]


def sslyze_versions(scan: dict[str, Any]) -> str:
    offered = []
    for ours, key, _ in VERSIONS:
        result = ((scan.get(f"{key}_cipher_suites") or {}).get("result")) or {}
        if result.get("accepted_cipher_suites"):
            offered.append(ours)
    return ",".join(offered) or "?"


def testssl_versions(rows: list[dict[str, Any]]) -> str:
    by_id = {r.get("id"): str(r.get("finding", "")) for r in rows}
    offered = [ours for ours, _, tid in VERSIONS if by_id.get(tid, "").startswith("offered")]
    return ",".join(offered) or "?"


def ours_cert(findings: list[Finding], host: str) -> str:
    bad = [
        f.check
        for f in findings
        if f.target == host
        and f.check in ("tls.cert-valid", "tls.cert-expiry", "tls.cert-key")
        and f.status != "pass"
    ]
    warn = [
        f.check for f in findings if f.target == host and f.check == "tls.cert-expiry" and f.warning
    ]
    return ("problems: " + ",".join(bad)) if bad else ("ok (expiry warning)" if warn else "ok")


def sslyze_cert(scan: dict[str, Any]) -> str:
    info = ((scan.get("certificate_info") or {}).get("result")) or {}
    deployments = info.get("certificate_deployments") or []
    if not deployments:
        return "?"
    # sslyze 6 validates the path and the host name together; it has no expiry warning.
    results = deployments[0].get("path_validation_results", [])
    if any(v.get("was_validation_successful") for v in results):
        return "ok"
    errors = {str(v.get("validation_error")) for v in results}
    return "problems: " + "; ".join(sorted(errors))[:60]


def testssl_cert(rows: list[dict[str, Any]]) -> str:
    bad = [
        r["id"]
        for r in rows
        if str(r.get("id", "")).startswith(
            ("cert_trust", "cert_chain_of_trust", "cert_expirationStatus")
        )
        and r.get("severity") not in ("OK", "INFO")
    ]
    return ("problems: " + ",".join(bad)) if bad else "ok"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--skip-testssl", action="store_true", help="leave out testssl.sh (about 100 s)"
    )
    args = parser.parse_args()
    for tool in ("nmap",) + (() if args.skip_testssl else ("testssl",)):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: run bash bench/setup-peers.sh first")
    for peer in ("sslyze", "checkdmarc"):
        if not (PEERS / peer / "bin" / peer).exists():
            raise SystemExit(f"{peer} not found in {PEERS}: run bash bench/setup-peers.sh first")

    with tempfile.TemporaryDirectory(prefix="cyberstd-bench-") as tmp:
        work = Path(tmp)
        folder = school_copy(work)
        (work / "lab").mkdir()
        with lab_school(work / "lab", flaws=DEMO_FLAWS, ports=Ports(dns=53)) as lab:
            vpn_ca = CertificateAuthority.create(work, common_name="Bench VPN CA", stem="vpn-ca")
            vpn_cert = vpn_ca.issue(work, [VPN[0]], expires_in_days=365)
            bundle = work / "bundle.pem"
            bundle.write_bytes(lab.ca_bundle.read_bytes() + vpn_ca.cert_path.read_bytes())
            with WebServer(
                cert=vpn_cert,
                address=VPN[1],
                host_name=VPN[0],
                http_port=None,
                https_port=VPN[2],
                tls_min_version=ssl.TLSVersion.TLSv1,
            ):
                report(Cyberstd(folder, bundle), lab, bundle, work, args.skip_testssl)


def report(ours: Cyberstd, lab: Lab, ca: Path, work: Path, skip_testssl: bool) -> None:
    times: dict[str, float] = {}
    times["cyberstd tls"], tls_findings = timed(lambda: ours.family(TLS_CHECKS))
    times["cyberstd mail"], mail_findings = timed(lambda: ours.family(MAIL_CHECKS))
    times["cyberstd ports"], _ = timed(lambda: ours.family(PORT_CHECKS))
    times["cyberstd whole scan"], _ = timed(lambda: ours.family(None))
    times["sslyze"], sslyze_res = timed(lambda: sslyze(ca, work))
    if not skip_testssl:
        times["testssl.sh"], testssl_res = timed(lambda: testssl(ca, work))
    else:
        testssl_res = {}
    times["checkdmarc"], cd = timed(checkdmarc)
    hosts = [h.address for h in lab.hosts]
    ports = sorted(
        set(ours.catalog.checks["ports.exposed-services"].params.get("ports", []))
        | {18080, 18443, 25, 2222, 3389, 445}
    )
    times["nmap -sT"], _ = timed(lambda: nmap_bare(hosts, ports, banners=False))
    times["nmap -sT --script banner"], _ = timed(lambda: nmap_bare(hosts, ports, banners=True))

    print("\n== times (s) ==")
    for name, seconds in times.items():
        print(f"  {name:28} {seconds:8.2f}")
    tls_peers = [times["sslyze"]] + ([times["testssl.sh"]] if "testssl.sh" in times else [])
    ratios = [
        ("TLS: cyberstd / fastest peer", times["cyberstd tls"] / min(tls_peers), 1.0),
        ("mail: cyberstd / checkdmarc", times["cyberstd mail"] / times["checkdmarc"], 1.0),
        (
            "ports: cyberstd / nmap --script banner",
            times["cyberstd ports"] / times["nmap -sT --script banner"],
            1.2,
        ),
        (
            "whole scan / sum of peers",
            times["cyberstd whole scan"]
            / sum(times[k] for k in times if not k.startswith("cyberstd") and k != "nmap -sT"),
            0.5,
        ),
    ]
    print("\n== ratios (goal) ==")
    for name, ratio, goal in ratios:
        print(f"  {name:40} {ratio:6.2f}x  (goal <= {goal}x) {'ok' if ratio <= goal else 'MISSED'}")

    print("\n== verdicts side by side ==")
    print(f"  {'endpoint':24} {'tool':10} {'TLS versions offered':34} certificate")
    for name, _, _, _ in TLS_TARGETS:
        rows = [
            ("cyberstd", ours_versions(tls_findings, name), ours_cert(tls_findings, name)),
            (
                "sslyze",
                sslyze_versions(sslyze_res.get(name, {})),
                sslyze_cert(sslyze_res.get(name, {})),
            ),
        ]
        if testssl_res:
            rows.append(
                (
                    "testssl",
                    testssl_versions(testssl_res.get(name, [])),
                    testssl_cert(testssl_res.get(name, [])),
                )
            )
        for tool, versions, cert in rows:
            print(f"  {name:24} {tool:10} {versions:34} {cert}")
    spf = next((f for f in mail_findings if f.check == "mail.spf"), None)
    dmarc = next((f for f in mail_findings if f.check == "mail.dmarc"), None)
    print(f"\n  {'':24} {'tool':10} {'SPF valid':12} DMARC valid")
    print(
        f"  {DOMAIN:24} {'cyberstd':10} {spf and spf.status == 'pass'!s:12} {dmarc and dmarc.status == 'pass'}"
    )
    print(
        f"  {DOMAIN:24} {'checkdmarc':10} {cd.get('spf', {}).get('valid')!s:12} {cd.get('dmarc', {}).get('valid')}"
        f"  (warnings: {cd.get('dmarc', {}).get('warnings')})"
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark of the lab fleet: start time and memory for fleets of 100, 1,000 and 3,000 schools,
how fast its DNS server answers, and how long a perimeter scan of one school takes against it.

Run as root (ports 25, 53, 80 and 443 on 127.16.x.x), from the repository:
    python bench/fleet_lab_bench.py [--sizes 100 1000 3000] [--scans 5]
Each size runs in a process of its own, so that its memory is its own. Loopback only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _queries(domains: list[str]) -> list[bytes]:
    import dns.message

    wires = []
    for domain in domains:
        for name, kind in [
            (domain, "SOA"),
            (domain, "MX"),
            (domain, "TXT"),
            (f"_dmarc.{domain}", "TXT"),
            (f"www.{domain}", "A"),
            (domain, "DNSKEY"),
        ]:
            query = dns.message.make_query(name, kind, want_dnssec=True)
            wires.append(query.to_wire())
    return wires


def _ask_all(address: tuple[str, int], wires: list[bytes]) -> float:
    """Seconds to send every query and read its answer, one after the other (UDP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        started = time.perf_counter()
        for wire in wires:
            sock.sendto(wire, address)
            sock.recv(65535)
        return time.perf_counter() - started


def one_size(n: int, scans: int) -> dict[str, Any]:
    """Start a fleet of `n` schools in this process and measure it (the child's part)."""
    from cyberstd.clock import Clock
    from cyberstd.lab.fleet import FleetDnsServer, fleet_lab
    from cyberstd.messages import catalog as message_catalog

    message_catalog()
    clock = Clock.system()
    out: dict[str, Any] = {"schools": n}
    base = rss_mb()
    with tempfile.TemporaryDirectory(prefix="cyberstd-fleet-bench-") as tmp:
        started = time.perf_counter()
        with fleet_lab(Path(tmp) / "list", n, 1, clock):
            out["start_list_s"] = time.perf_counter() - started
        started = time.perf_counter()
        with fleet_lab(Path(tmp) / "fleet", n, 1, clock, folders=True) as fleet:
            out["start_s"] = time.perf_counter() - started
            out["rss_started_mb"] = rss_mb() - base
            domains = [s.domain for s in random.Random(1).sample(fleet.schools, min(n, 200))]
            wires = _queries(domains)
            address = fleet.resolver
            cold = _ask_all(address, wires)
            warm = _ask_all(address, wires)
            out["dns_queries"] = len(wires)
            out["dns_cold_qps"] = len(wires) / cold
            out["dns_cached_qps"] = len(wires) / warm
            with FleetDnsServer(
                fleet.schools, clock=clock, address="127.16.0.54", answer_cache=0
            ) as plain:
                plain.warm()
                _ask_all((plain.address, plain.port), wires)
                out["dns_uncached_qps"] = len(wires) / _ask_all((plain.address, plain.port), wires)
            warmed = time.perf_counter()
            fleet.warm()
            out["warm_all_s"] = time.perf_counter() - warmed
            out["rss_warm_mb"] = rss_mb() - base
            out["scan_s"] = _scans(fleet, clock, scans)
            out["cli_scan_s"] = _cli_scan(fleet, clock)
            out["rss_after_scans_mb"] = rss_mb() - base
    return out


def _scans(fleet: Any, clock: Any, scans: int) -> list[float]:
    """Perimeter scans of single schools, in this process: the first includes loading the
    catalog and the probes."""
    from cyberstd.catalog import load_catalog
    from cyberstd.runner import context_for, evaluate, execute, make_plan
    from cyberstd.school import load_school

    times = []
    for school in fleet.schools[:scans]:
        started = time.perf_counter()
        catalog, _ = load_catalog(REPO)
        folder, problems = load_school(fleet.folder_of(school), catalog, clock.today)
        assert folder is not None and not problems, problems
        plan = make_plan(catalog, folder, "perimeter")
        findings = execute(plan, context_for(folder, clock=clock, kinds=catalog.kinds))
        evaluate(plan, findings, clock=clock, catalog_inputs=catalog.inputs)
        times.append(time.perf_counter() - started)
    return times


def _cli_scan(fleet: Any, clock: Any) -> float:
    """`cyberstd scan SCHOOL --profile perimeter` as a command, start-up included."""
    school = fleet.schools[-1]
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "cyberstd", "scan", str(fleet.folder_of(school))]
        argv += ["--profile", "perimeter", "--out", out, "-q"]
        argv += ["--as-of", clock.today.isoformat()]
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, cwd=REPO, timeout=300)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 3000])
    parser.add_argument("--scans", type=int, default=5)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_size(args.child, args.scans)))
        return
    print(f"fleet benchmark, {dt.date.today()}")
    header = (
        f"{'schools':>8} {'start s (csv, folders)':>22} {'RSS MB':>7} {'warm all s':>10} {'RSS warm':>9}"
        f" {'DNS q/s cold':>12} {'cached':>8} {'no cache':>8} {'scan s (1st, next)':>20}"
        f" {'CLI scan s':>10}"
    )
    print(header)
    for n in args.sizes:
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(n), "--scans", str(args.scans)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        r = json.loads(child.stdout.strip().splitlines()[-1])
        later = r["scan_s"][1:] or r["scan_s"]
        scans = f"{r['scan_s'][0]:.2f}, {sum(later) / len(later):.2f}"
        print(
            f"{r['schools']:>8} {r['start_list_s']:>10.2f}, {r['start_s']:>9.2f}"
            f" {r['rss_started_mb']:>7.1f}"
            f" {r['warm_all_s']:>10.2f} {r['rss_warm_mb']:>9.1f}"
            f" {r['dns_cold_qps']:>12.0f} {r['dns_cached_qps']:>8.0f}"
            f" {r['dns_uncached_qps']:>8.0f} {scans:>20} {r['cli_scan_s']:>10.2f}"
        )


if __name__ == "__main__":
    main()

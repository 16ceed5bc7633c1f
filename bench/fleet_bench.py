#!/usr/bin/env python3
"""Benchmark: `cyberstd group scan` in perimeter mode over a simulated fleet on loopback.

Run as root (the fleet binds ports 25, 53, 80 and 443 on its own 127.16.x.y addresses):

    sudo .venv/bin/python bench/fleet_bench.py [--sizes 100,300,1000,3000] [--peers]

For each size it starts a fleet of that many schools (a seeded mix of the known flaws) in a
process of its own, scans it with `cyberstd group scan` in another, and prints the wall time,
schools per second, the scan's peak memory, where the time went (the checks' summed durations),
and whether every verdict equals the fleet's expected.json (every seeded flaw found, no false
pass). With --peers (after `sudo bash bench/setup-peers.sh`), checkdmarc and sslyze run on the
first size's domains and websites in the same run, and the ratios are printed. Everything stays
on loopback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = HERE / ".peers"
DAY = dt.date(2026, 11, 29)
SEED = 20261129
_RANK = {"fail": 4, "error": 3, "pass": 2, "not_applicable": 1, "skipped": 0}


def _serve(workdir: str, n: int, ready: Any, stop: Any, folders: bool = False) -> None:
    from cyberstd.clock import Clock
    from cyberstd.lab.fleet import fleet_lab

    with fleet_lab(
        Path(workdir), n, seed=SEED, clock=Clock.at(DAY), flawed=0.4, folders=folders
    ) as fleet:
        fleet.warm()
        ready.set()
        stop.wait()


def _run(args: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak memory (MiB) and exit code of a child process."""
    started = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    return wall, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


def _check(out: Path, expected: dict[str, Any]) -> tuple[int, int, int, Counter[str]]:
    """(schools judged, wrong verdicts, missed flaws, ms per check) against expected.json."""
    wrong = missed = judged = 0
    spent: Counter[str] = Counter()
    for school_id, want in expected["schools"].items():
        path = out / "schools" / school_id / "results.json"
        if not path.is_file():
            wrong += len(want["checks"])
            continue
        judged += 1
        worst: dict[str, str] = {}
        for finding in json.loads(path.read_text())["findings"]:
            spent[finding["check"]] += finding.get("duration_ms", 0)
            now = worst.get(finding["check"])
            if now is None or _RANK[finding["status"]] > _RANK[now]:
                worst[finding["check"]] = finding["status"]
        for check, status in want["checks"].items():
            if worst.get(check) != status:
                wrong += 1
                missed += status == "fail" and worst.get(check) == "pass"
    return judged, wrong, missed, spent


def _peers(expected: dict[str, Any], workdir: Path) -> dict[str, float]:
    """checkdmarc over every domain and sslyze over every website, timed."""
    times: dict[str, float] = {}
    domains = [s["domain"] for s in expected["schools"].values()]
    checkdmarc = PEERS / "checkdmarc" / "bin" / "checkdmarc"
    if checkdmarc.exists():
        started = time.monotonic()
        subprocess.run(
            [str(checkdmarc), "-n", "127.16.0.53", "--skip-tls", "-f", "json", *domains],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times["checkdmarc"] = time.monotonic() - started
    sslyze = PEERS / "sslyze" / "bin" / "sslyze"
    if sslyze.exists():
        targets = [f"www.{s['domain']}:443{{{s['address']}}}" for s in expected["schools"].values()]
        started = time.monotonic()
        subprocess.run(
            [str(sslyze), "--certinfo_ca_file", str(workdir / "ca.pem"), *targets],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times["sslyze"] = time.monotonic() - started
    return times


def bench(
    n: int,
    schools_at_once: int,
    executor: str,
    peers: bool,
    per_target: float,
    folders: bool = False,
) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    ready, stop = ctx.Event(), ctx.Event()
    with tempfile.TemporaryDirectory(prefix="cyberstd-fleet-") as tmp:
        workdir, out = Path(tmp) / "fleet", Path(tmp) / "out"
        workdir.mkdir()
        started = time.monotonic()
        lab = ctx.Process(target=_serve, args=(str(workdir), n, ready, stop, folders), daemon=True)
        lab.start()
        if not ready.wait(600):
            raise SystemExit(f"the fleet of {n} did not start")
        lab_seconds = time.monotonic() - started
        cli = [sys.executable, "-m", "cyberstd", "--root", str(REPO), "group", "scan", str(workdir)]
        cli += ["--out", str(out), "--as-of", DAY.isoformat(), "--new-run", "-q"]
        cli += ["--executor", executor, "--schools-at-once", str(schools_at_once)]
        cli += ["--per-target-rate", str(per_target)]
        wall, rss, code = _run(cli)
        expected = json.loads((workdir / "expected.json").read_text())
        judged, wrong, missed, spent = _check(out, expected)
        peer_times = _peers(expected, workdir) if peers else {}
        stop.set()
        lab.join(30)
        shutil.rmtree(out, ignore_errors=True)
    return {
        "schools": n,
        "lab_start_s": round(lab_seconds, 1),
        "wall_s": round(wall, 1),
        "schools_per_s": round(n / wall, 1),
        "peak_mib": rss,
        "exit": code,
        "judged": judged,
        "wrong_verdicts": wrong,
        "missed_flaws": missed,
        "top_checks_s": {c: round(ms / 1000, 1) for c, ms in spent.most_common(6)},
        "peers_s": {k: round(v, 1) for k, v in peer_times.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,300,1000,3000")
    parser.add_argument("--schools-at-once", type=int, default=16)
    parser.add_argument("--executor", choices=("local", "dask"), default="local")
    parser.add_argument("--peers", action="store_true", help="time checkdmarc and sslyze too")
    parser.add_argument(
        "--folders",
        action="store_true",
        help="a group folder of school folders (with their reports) instead of a list",
    )
    parser.add_argument(
        "--per-target-rate",
        type=float,
        default=20.0,
        help="new connections per second to one hosting address (the command's default: 20)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for i, n in enumerate(sizes):
        row = bench(
            n,
            args.schools_at_once,
            args.executor,
            args.peers and i == 0,
            args.per_target_rate,
            args.folders,
        )
        rows.append(row)
        print(json.dumps(row), flush=True)
    mode = "group folder of school folders" if args.folders else "perimeter mode"
    print(
        f"\n== {mode}, simulated fleet on loopback ({args.executor}, "
        f"{args.schools_at_once} schools at once, {args.per_target_rate:g} connections/s "
        "per hosting address, 16 hosting addresses) =="
    )
    print(
        f"  {'schools':>8} {'wall s':>8} {'schools/s':>10} {'peak MiB':>9} {'wrong':>6} {'missed':>7}"
    )
    for row in rows:
        print(
            f"  {row['schools']:>8} {row['wall_s']:>8} {row['schools_per_s']:>10} "
            f"{row['peak_mib']:>9} {row['wrong_verdicts']:>6} {row['missed_flaws']:>7}"
        )
    goal = next((r for r in rows if r["schools"] == 3000), None)
    if goal is not None:
        verdict = "ok" if goal["wall_s"] <= 300 else "NOT MET"
        print(f"\n  3,000 schools in {goal['wall_s']} s (goal <= 300 s): {verdict}")
    first = rows[0]
    peers = dict(first["peers_s"])
    if len(peers) > 1:
        peers["sum of peers"] = sum(peers.values())
    for peer, seconds in peers.items():
        ratio = first["wall_s"] / seconds if seconds else float("inf")
        print(
            f"  {first['schools']} schools: cyberstd, every perimeter check "
            f"({first['wall_s']} s) / {peer} ({seconds:.1f} s): {ratio:.2f}x"
        )
    print("\n  where the time went (summed check durations, largest size):")
    for check, seconds in rows[-1]["top_checks_s"].items():
        print(f"    {check:<28} {seconds:>8} s")


if __name__ == "__main__":
    main()

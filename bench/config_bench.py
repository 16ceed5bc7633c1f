#!/usr/bin/env python3
"""Benchmark: configuration baselines over 1,000 files of mixed kinds, and command start-up.

Builds 1,000 export files (FortiGate and pfSense backups, sshd_config, secedit INF, Microsoft
Graph JSON, Wi-Fi controller JSON, Intune, backup and inventory CSV) from the samples in
tests/data/exports and the demo school, each a copy at its own path (parsed on its own),
and:

1. judges them with the ci-baseline profile in-process (`run_baseline`), best of 3;
2. runs `cyberstd baseline FOLDER --format sarif` as a process, once, end to end;
3. reads and parses the same files with the standard library alone (json, csv, xml.etree,
   line splitting) as a floor: what any tool pays to look at the bytes;
4. times `cyberstd --help` and `cyberstd baseline ONE-FILE` (median of 15), next to
   `python -c pass` as the interpreter's own start-up.

Goals (issue 4): at least 500 files per second on a 2-core machine, start-up under 300 ms.
No network traffic. Usage: python bench/config_bench.py [--files N]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "tests" / "data" / "exports"
DEMO = REPO / "examples" / "demo-school" / "exports"
CLI = [sys.executable, "-m", "cyberstd"]


def _sources() -> list[tuple[Path, str]]:
    """(sample file, kind) pairs to copy from, of every kind the baseline profile reads."""
    picks: list[tuple[Path, str]] = []
    for pattern, kind in [
        ("fortigate/*.conf", "fortigate"),
        ("pfsense/*.xml", "pfsense"),
        ("secedit/*.inf", "secedit"),
        ("sshd_config/*/sshd_config", "sshd_config"),
        ("wifi/*/*.json", "wifi-controller"),
        ("backup/*/*.csv", "backup-report"),
        ("intune/*/*.csv", "intune-devices"),
        ("inventory/*/*.csv", None),
        ("entra/*/*.json", None),
        ("google/*/*.json", "google-users"),
    ]:
        picks.extend((p, kind or "") for p in sorted(SAMPLES.glob(pattern)))
    picks.extend((p, "") for p in sorted((DEMO / "m365").glob("*.json")))
    return [(p, k) for p, k in picks if p.is_file()]


def build(folder: Path, count: int) -> list[Path]:
    """`count` files cycling over the samples; each gets a unique name (and so its own parse)."""
    sources = _sources()
    if not sources:
        raise SystemExit("no samples found under tests/data/exports")
    out: list[Path] = []
    for i in range(count):
        src, _ = sources[i % len(sources)]
        sub = folder / f"site{i % 40:02d}" / f"{i:04d}"
        sub.mkdir(parents=True)
        target = sub / src.name
        shutil.copyfile(src, target)
        out.append(target)
    return out


def stdlib_floor(files: list[Path]) -> float:
    """Seconds to read and parse every file with the standard library only."""
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
        suffix = path.suffix
        if suffix == ".json":
            json.loads(text)
        elif suffix == ".csv":
            list(csv.reader(io.StringIO(text)))
        elif suffix == ".xml":
            ET.fromstring(data)
        else:
            [line.split() for line in text.splitlines()]
    return time.perf_counter() - started


def in_process(files: list[Path], rounds: int = 3) -> tuple[float, int, int]:
    """Best time of `rounds` in-process baseline runs, with findings and files judged."""
    from cyberstd.baseline import run_baseline
    from cyberstd.catalog import load_catalog

    catalog, problems = load_catalog()
    if problems:
        raise SystemExit("\n".join(map(str, problems)))
    best, findings, judged = float("inf"), 0, 0
    for _ in range(rounds):
        started = time.perf_counter()
        result = run_baseline(catalog, "ci-baseline", files)
        best = min(best, time.perf_counter() - started)
        findings, judged = len(result.findings), len(result.files)
    return best, findings, judged


def timed(cmd: list[str], runs: int) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cyberstd-bench-") as tmp:
        folder = Path(tmp)
        files = build(folder, args.files)
        kinds = len({p.name for p in files})
        floor = stdlib_floor(files)
        best, findings, judged = in_process(files)
        started = time.perf_counter()
        proc = subprocess.run(
            [*CLI, "baseline", str(folder), "--format", "sarif", "-o", str(folder / "out.sarif")],
            capture_output=True,
            text=True,
            check=False,
        )
        whole = time.perf_counter() - started
        one = next(p for p in files if p.suffix == ".json")
        python = timed([sys.executable, "-c", "pass"], 15)
        help_ = timed([*CLI, "--help"], 15)
        single = timed([*CLI, "baseline", str(one)], 15)
    print(f"files: {len(files)} ({kinds} distinct sample names), judged {judged}, {findings} findings")
    print(f"in-process baseline (best of 3): {best:.3f} s = {len(files) / best:,.0f} files/s  [goal >= 500]")
    print(f"`cyberstd baseline FOLDER --format sarif` as a process: {whole:.3f} s = {len(files) / whole:,.0f} files/s (exit {proc.returncode})")
    print(f"standard library read+parse only (floor): {floor:.3f} s; cyberstd / floor = {best / floor:.1f}x")
    print(f"start-up (median of 15): python -c pass {python * 1000:.0f} ms, `cyberstd --help` {help_ * 1000:.0f} ms, `cyberstd baseline ONE-FILE` {single * 1000:.0f} ms  [goal < 300 ms]")


if __name__ == "__main__":
    main()

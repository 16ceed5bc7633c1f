#!/usr/bin/env python3
"""Benchmark: rendering one school's report with 1,000 findings as HTML, Markdown and JSON.

Builds a Results over every control of the GRIP catalog (loaded with cyberstd.catalog.load_catalog)
with 1,000 findings spread over them: configuration findings with file:line items, network
findings with headers and banners, some in error, some not applicable; attestations (one in
three of the controls, some expired) and a few waivers. Each control's status comes from the
roll-up rule, the summary from the controls. Then it times each renderer, median of 5 runs
(after one warm-up run that also compiles the HTML template), and prints the sizes.

Goal (issue 5): the HTML report of one school renders well under a second.
No network traffic. Usage: python bench/report_bench.py [--findings N] [--runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cyberstd.catalog import load_catalog  # noqa: E402
from cyberstd.report import renderer  # noqa: E402
from cyberstd.results import (  # noqa: E402
    MET,
    Answer,
    AttestationRecord,
    ControlResult,
    ControlStatus,
    ErrorReason,
    Finding,
    FindingStatus,
    FrameworkRef,
    Results,
    Run,
    SchoolRef,
    Severity,
    Summary,
    Tool,
    WaiverRecord,
    roll_up,
)

FOLDER = "/srv/schools/bench-school"
STATUSES = [FindingStatus.PASS] * 5 + [
    FindingStatus.FAIL,
    FindingStatus.FAIL,
    FindingStatus.NOT_APPLICABLE,
    FindingStatus.ERROR,
    FindingStatus.SKIPPED,
]


def _evidence(i: int, status: FindingStatus) -> dict[str, Any]:
    """Configuration evidence (file:line items) for even findings, network evidence for odd ones."""
    if i % 2 == 0:
        path = f"{FOLDER}/exports/firewall/site{i % 7}.conf"
        return {
            "files": [{"path": path, "kind": "fortigate", "sha256": f"{i:064x}"}],
            "kind": "fortigate",
            "select": ["system interface[*].allowaccess"],
            "expected": "contains none of http, https, ssh, telnet",
            "items": [
                {
                    "file": path,
                    "line": 40 + j,
                    "path": f"system interface[{j}].allowaccess",
                    "label": f"port{j}",
                    "actual": ["ping", "https", "ssh"] if j % 2 else ["ping"],
                    "ok": status is not FindingStatus.FAIL or j % 2 == 0,
                }
                for j in range(12)
            ],
            "checked": 12,
        }
    return {
        "url": f"https://www{i}.bench-school.test/",
        "status_code": 200,
        "headers": {
            "Server": "Apache/2.4.41 (Ubuntu)",
            "Strict-Transport-Security": "max-age=300",
            "Content-Security-Policy": "default-src 'self'; " * 20,
        },
        "banner": f"SSH-2.0-OpenSSH_7.4 <b>host {i}</b>",
        "tls_versions": ["TLSv1.2", "TLSv1.3"],
    }


def _finding(i: int, control_id: str, title: dict[str, str]) -> Finding:
    """One made-up finding on one control."""
    status = STATUSES[i % len(STATUSES)]
    error = status is FindingStatus.ERROR
    return Finding(
        id=f"bench.check-{i}@target-{i}",
        check=f"bench.check-{i % 40}",
        title=title,
        controls=[control_id],
        target=f"host{i}.bench-school.test",
        status=status,
        severity=list(Severity)[i % len(Severity)],
        message=f"finding {i}: {'connection refused' if error else 'value seen'} "
        + "x" * (i % 120),
        evidence=_evidence(i, status),
        warning="certificate expires in 19 days" if i % 17 == 0 else None,
        error_reason=ErrorReason.CONNECTIVITY if error else None,
        error_detail="connect() to 127.0.0.1:443 refused" if error else None,
        remediation={"nl": "Herstel dit op de firewall.", "en": "Fix this on the firewall."},
        duration_ms=i % 50,
    )


def build(n_findings: int) -> Results:
    """Results for a school with `n_findings` findings over every GRIP control."""
    catalog, problems = load_catalog(REPO)
    if problems:
        raise SystemExit(f"catalog problems: {problems[:3]}")
    framework = catalog.framework("grip")
    defs = list(framework.controls.values())
    per_control: dict[str, list[Finding]] = {c.id: [] for c in defs}
    for i in range(n_findings):
        c = defs[i % len(defs)]
        per_control[c.id].append(_finding(i, c.id, {"nl": c.title.nl, "en": c.title.en}))
    today = dt.date(2026, 11, 29)
    controls = []
    for k, c in enumerate(defs):
        found = per_control[c.id]
        att = None
        if k % 3 == 0:
            expired = k % 9 == 0
            att = AttestationRecord(
                answer=Answer.IMPLEMENTED if k % 2 else Answer.PARTIALLY,
                explanation="Recorded at the staff council; see the minutes.",
                attested_by="L. Janssens, director",
                date=dt.date(2025, 9, 15),
                review_by=dt.date(2026, 9, 15) if expired else dt.date(2027, 9, 15),
                expired=expired,
                evidence=[{"path": f"evidence/{c.id.lower()}.md", "sha256": f"{k:064x}"}],
            )
        status = roll_up(
            not_applicable=k % 13 == 5,
            findings=[f.status for f in found],
            answer=att.answer if att is not None and not att.expired else None,
            evidence_missing=att is None and not found,
        )
        waiver = None
        underlying = None
        if k % 11 == 0 and status is ControlStatus.NON_COMPLIANT:
            waiver = WaiverRecord(
                reason="Replacement planned next summer.",
                approved_by="School board",
                expires=today + dt.timedelta(days=200),
                expired=False,
                scope=f"control {c.id}",
            )
            status, underlying = ControlStatus.WAIVED, status
        controls.append(
            ControlResult(
                id=c.id,
                level=c.level,
                type=c.type,
                title={"nl": c.title.nl, "en": c.title.en},
                status=status,
                underlying_status=underlying,
                reason="",
                finding_ids=[f.id for f in found],
                attestation=att,
                waiver=waiver,
                not_applicable_reason={"nl": "Geen eigen servers.", "en": "No servers of its own."}
                if status is ControlStatus.NOT_APPLICABLE
                else None,
            )
        )
    findings = [f for c in defs for f in per_control[c.id]]
    counts = {st: sum(1 for c in controls if c.status is st) for st in ControlStatus}
    met = sum(counts[st] for st in MET)
    started = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
    return Results(
        tool=Tool(version="bench"),
        run=Run(
            id="bench",
            started=started,
            finished=started + dt.timedelta(minutes=3),
            profile="secondary-school",
            framework=FrameworkRef(id="grip", version=framework.meta.version),
            inputs={f"{FOLDER}/exports/firewall/site{i}.conf": f"{i:064x}" for i in range(7)},
        ),
        school=SchoolRef(id="bench-school", name="Bench School", folder=FOLDER),
        summary=Summary(
            target_level=6,
            level_reached=0,
            score=round(100 * met / len(controls), 1),
            counts=counts,
            finding_counts={st: sum(1 for f in findings if f.status is st) for st in FindingStatus},
        ),
        controls=controls,
        findings=findings,
    )


def time_render(fmt: str, results: Results, runs: int) -> tuple[float, int]:
    """Median seconds of `runs` renders (after one warm-up) and the size of the output."""
    render = renderer(fmt)
    out = render(results, "nl")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        out = render(results, "nl")
        times.append(time.perf_counter() - started)
    return statistics.median(times), len(out.encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    results = build(args.findings)
    built = time.perf_counter() - started
    print(
        f"results: {len(results.controls)} controls, {len(results.findings)} findings "
        f"(built in {built:.2f} s)"
    )
    print(f"== render time, median of {args.runs} ==")
    figures = {fmt: time_render(fmt, results, args.runs) for fmt in ("html", "md", "json")}
    for fmt, (seconds, size) in figures.items():
        print(f"  {fmt:5} {seconds * 1000:8.1f} ms  {size / 1024:8.0f} KiB")
    html = figures["html"][0]
    verdict = "ok" if html < 1.0 else "TOO SLOW"
    print(f"goal: HTML well under 1 s: {html:.3f} s {verdict}")


if __name__ == "__main__":
    main()

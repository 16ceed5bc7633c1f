"""Tests of the spreadsheet and OSCAL reports, with results built here and from the demo school."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.results import (
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
)
from tests.conftest import REPO

DEMO = REPO / "examples" / "demo-school"

# Values a hostile device or export could put in a message, a banner or a name.
HOSTILE = [
    '=HYPERLINK("http://x","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "line one\nline two\r\n=line three",
    "<script>alert(1)</script>",
    '"}, "injected": {"x": "',
    "\x1b[31mred\x1b[0m",
]
SHA = "ab" * 32


def _title(text: str) -> dict[str, str]:
    return {"nl": f"{text} (nl)", "en": f"{text} (en)"}


def _finding(fid: str, controls: list[str], status: FindingStatus, **extra: Any) -> Finding:
    values: dict[str, Any] = {
        "id": fid,
        "check": fid.split("@")[0],
        "title": _title(f"Check {fid.split('@')[0]}"),
        "controls": controls,
        "target": "www.school.test",
        "status": status,
        "severity": Severity.HIGH,
        "message": f"message of {fid}",
        "remediation": {"nl": "Herstel het.", "en": "Repair it."},
    } | extra
    return Finding(**values)


def _attestation(answer: Answer, *, expired: bool = False) -> AttestationRecord:
    return AttestationRecord(
        answer=answer,
        explanation="Done as the policy says.",
        attested_by="A. Director",
        date=dt.date(2026, 9, 1),
        review_by=dt.date(2027, 9, 1),
        expired=expired,
        evidence=[{"path": "evidence/policy.md", "sha256": SHA}],
    )


def make_results(*, hostile: bool = False) -> Results:
    """Results with a control in every status, a configuration and a network finding for each.

    With `hostile`, messages, targets, names and titles carry the HOSTILE strings."""
    config_fail = _finding(
        "cfg.bad@test-school",
        ["C2"],
        FindingStatus.FAIL,
        target="test-school",
        message="2 interfaces allow admin access",
        evidence={
            "files": [{"path": "exports/fw.conf", "kind": "fortigate", "sha256": SHA}],
            "count": 2,
            "items": [
                {"file": "exports/fw.conf", "line": 14, "path": "a", "label": "wan1"},
                {"file": "exports/fw.conf", "line": 30, "path": "b", "label": "wan2"},
            ],
        },
    )
    config_pass = _finding(
        "cfg.ok@test-school",
        ["C1"],
        FindingStatus.PASS,
        target="test-school",
        severity=Severity.LOW,
        evidence={
            "files": [{"path": "exports/fw.conf", "kind": "fortigate", "sha256": SHA}],
            "items": [{"file": "exports/fw.conf", "line": 3, "path": "x", "ok": True}],
        },
    )
    probe_pass = _finding(
        "web.ok@www.school.test",
        ["C1"],
        FindingStatus.PASS,
        evidence={"address": "127.0.0.1", "status": 200},
    )
    probe_fail = _finding(
        "web.bad@www.school.test",
        ["C2", "C3"],
        FindingStatus.FAIL,
        severity=Severity.CRITICAL,
        evidence={"address": "127.0.0.1", "header": "missing"},
    )
    probe_error = _finding(
        "web.down@www.school.test",
        ["C5"],
        FindingStatus.ERROR,
        error_reason=ErrorReason.CONNECTIVITY,
        message="connection refused",
    )
    probe_na = _finding("mail.na@school.test", ["C4"], FindingStatus.NOT_APPLICABLE)
    findings = [config_fail, config_pass, probe_pass, probe_fail, probe_error, probe_na]
    controls = [
        ControlResult(
            id="C1",
            level=1,
            type="technical",
            title=_title("Compliant control"),
            status=ControlStatus.COMPLIANT,
            reason="2 check(s) passed",
            finding_ids=[config_pass.id, probe_pass.id],
            attestation=_attestation(Answer.IMPLEMENTED),
        ),
        ControlResult(
            id="C2",
            level=1,
            type="technical",
            title=_title("Failing control"),
            status=ControlStatus.NON_COMPLIANT,
            reason="checks failed",
            finding_ids=[config_fail.id, probe_fail.id],
        ),
        ControlResult(
            id="C3",
            level=2,
            type="organisational",
            title=_title("Waived control"),
            status=ControlStatus.WAIVED,
            underlying_status=ControlStatus.NON_COMPLIANT,
            reason="waived",
            finding_ids=[probe_fail.id],
            waiver=WaiverRecord(
                reason="New firewall arrives in spring.",
                approved_by="School board",
                expires=dt.date(2027, 6, 30),
                expired=False,
                scope="control C3",
            ),
        ),
        ControlResult(
            id="C4",
            level=2,
            type="technical",
            title=_title("Not applicable control"),
            status=ControlStatus.NOT_APPLICABLE,
            reason="not applicable",
            finding_ids=[probe_na.id],
            not_applicable_reason={"nl": "Geen e-mail.", "en": "No mail."},
        ),
        ControlResult(
            id="C5",
            level=3,
            type="technical",
            title=_title("Errored control"),
            status=ControlStatus.ERROR,
            reason="could not be judged",
            finding_ids=[probe_error.id],
        ),
        ControlResult(
            id="C6.1",
            level=3,
            type="organisational",
            title=_title("Partial control"),
            status=ControlStatus.PARTIAL,
            reason="attested partially",
            attestation=_attestation(Answer.PARTIALLY),
        ),
        ControlResult(
            id="7 odd id",
            level=3,
            type="organisational",
            title=_title("Unassessed control"),
            status=ControlStatus.NOT_ASSESSED,
            reason="no evidence",
            attestation=_attestation(Answer.IMPLEMENTED, expired=True),
            waiver=WaiverRecord(
                reason="Old waiver.",
                approved_by="Director",
                expires=dt.date(2026, 1, 1),
                expired=True,
                scope="control 7 odd id",
            ),
        ),
    ]
    school = SchoolRef(id="test-school", name="Test School", folder="schools/test")
    if hostile:
        for i, f in enumerate(findings):
            f.message = HOSTILE[i % len(HOSTILE)] + " | " + "\n".join(HOSTILE)
            f.target = HOSTILE[(i + 1) % len(HOSTILE)]
            f.title = {"nl": HOSTILE[i % len(HOSTILE)], "en": HOSTILE[i % len(HOSTILE)]}
        for i, c in enumerate(controls):
            c.title = {"nl": HOSTILE[i % len(HOSTILE)], "en": HOSTILE[i % len(HOSTILE)]}
            if c.attestation is not None:
                c.attestation.attested_by = HOSTILE[0]
                c.attestation.explanation = "\n".join(HOSTILE)
            if c.waiver is not None:
                c.waiver.approved_by = HOSTILE[1]
                c.waiver.reason = HOSTILE[3]
        school = SchoolRef(id="test-school", name=HOSTILE[0], folder="schools/test")
    counts = {s: sum(c.status is s for c in controls) for s in ControlStatus}
    finding_counts = {s: sum(f.status is s for f in findings) for s in FindingStatus}
    started = dt.datetime(2026, 11, 1, 9, 0, 0, 123456, tzinfo=dt.UTC)
    return Results(
        tool=Tool(version="0.1.0"),
        run=Run(
            id="20261101T090000Z-abcdef01",
            started=started,
            finished=started + dt.timedelta(seconds=42),
            profile="test-profile",
            framework=FrameworkRef(id="mini", version="1"),
            inputs={"schools/test/school.yaml": SHA, "exports/fw.conf": SHA},
        ),
        school=school,
        summary=Summary(
            target_level=3,
            level_reached=0,
            score=40.0,
            counts=counts,
            finding_counts=finding_counts,
        ),
        controls=controls,
        findings=findings,
    )


def scan_demo(out: Path) -> Results:
    """A configuration-only scan of the demo school (no network), as results.json gives it back."""
    result = CliRunner().invoke(
        main,
        [
            "--root",
            str(REPO),
            "scan",
            "--as-of",
            DEMO_DAY.isoformat(),
            str(DEMO),
            "--profile",
            "ci-baseline",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    return Results.model_validate_json((out / "results.json").read_text(encoding="utf-8"))

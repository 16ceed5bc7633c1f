"""`cyberstd diff`: buckets and their precedence, finding changes, renderers, exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cyberstd.cli.diff import diff
from cyberstd.diff import (
    DISPLAY_ORDER,
    PRECEDENCE,
    Change,
    classify,
    compare,
    render_markdown,
    render_text,
    to_json,
)
from cyberstd.errors import UsageError
from cyberstd.results import (
    Answer,
    AttestationRecord,
    ControlResult,
    ControlStatus,
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

DAY = dt.date(2026, 9, 1)


def att(expired: bool = False, answer: Answer = Answer.IMPLEMENTED) -> AttestationRecord:
    return AttestationRecord(
        answer=answer,
        explanation="done",
        attested_by="A. Person, director",
        date=DAY,
        review_by=DAY,
        expired=expired,
    )


def waiver(expired: bool = False) -> WaiverRecord:
    return WaiverRecord(
        reason="later",
        approved_by="Board",
        expires=DAY,
        expired=expired,
        scope="control X",
    )


def control(
    cid: str,
    status: str,
    *,
    attestation: AttestationRecord | None = None,
    waiver_: WaiverRecord | None = None,
    findings: tuple[str, ...] = (),
    level: int = 1,
) -> ControlResult:
    return ControlResult(
        id=cid,
        level=level,
        type="technical",
        title={"nl": f"Titel {cid}", "en": f"Title {cid}"},
        status=ControlStatus(status),
        reason="",
        finding_ids=list(findings),
        attestation=attestation,
        waiver=waiver_,
    )


def finding(check: str, target: str, status: str, controls: tuple[str, ...]) -> Finding:
    return Finding(
        id=f"{check}@{target}",
        check=check,
        controls=list(controls),
        target=target,
        status=FindingStatus(status),
        severity=Severity.HIGH,
        message="seen",
    )


def results(
    controls: list[ControlResult],
    findings: list[Finding] | None = None,
    *,
    school: str = "school-a",
    version: str = "2026.02",
    profile: str = "p1",
    finished: str = "2026-10-01T10:00:00Z",
    score: float = 50.0,
) -> Results:
    when = dt.datetime.fromisoformat(finished.replace("Z", "+00:00"))
    return Results(
        tool=Tool(version="0.1.0"),
        run=Run(
            id=f"run-{finished}",
            started=when,
            finished=when,
            profile=profile,
            framework=FrameworkRef(id="grip", version=version),
            inputs={},
        ),
        school=SchoolRef(id=school, name="School A", folder="schools/a"),
        summary=Summary(
            target_level=2,
            level_reached=0,
            score=score,
            counts={s: sum(1 for c in controls if c.status is s) for s in ControlStatus},
            finding_counts={s: 0 for s in FindingStatus},
        ),
        controls=controls,
        findings=findings or [],
    )


# --- buckets ---------------------------------------------------------------------------------

CASES: list[tuple[str, ControlResult | None, ControlResult | None, Change, bool]] = [
    ("met -> gap", control("C", "compliant"), control("C", "non_compliant"), Change.NEW_GAP, True),
    (
        "n/a -> not assessed",
        control("C", "not_applicable"),
        control("C", "not_assessed"),
        Change.NEW_GAP,
        True,
    ),
    (
        "gap -> met",
        control("C", "non_compliant"),
        control("C", "compliant"),
        Change.RESOLVED,
        False,
    ),
    (
        "gap -> not applicable",
        control("C", "partial"),
        control("C", "not_applicable"),
        Change.RESOLVED,
        False,
    ),
    (
        "gap in both, same status",
        control("C", "non_compliant"),
        control("C", "non_compliant"),
        Change.STILL_FAILING,
        False,
    ),
    (
        "gap -> waived is newly waived, not resolved",
        control("C", "non_compliant"),
        control("C", "waived", waiver_=waiver()),
        Change.NEWLY_WAIVED,
        False,
    ),
    (
        "compliant -> waived",
        control("C", "compliant"),
        control("C", "waived", waiver_=waiver()),
        Change.NEWLY_WAIVED,
        False,
    ),
    (
        "waiver expired beats new gap",
        control("C", "waived", waiver_=waiver()),
        control("C", "non_compliant", waiver_=waiver(expired=True)),
        Change.WAIVER_EXPIRED,
        True,
    ),
    (
        "waiver lost and a gap again",
        control("C", "waived", waiver_=waiver()),
        control("C", "partial"),
        Change.WAIVER_EXPIRED,
        True,
    ),
    (
        "waiver expired on a control that is met: no regression",
        control("C", "compliant", waiver_=waiver()),
        control("C", "compliant", waiver_=waiver(expired=True)),
        Change.UNCHANGED,
        False,
    ),
    (
        "waiver already expired before",
        control("C", "non_compliant", waiver_=waiver(expired=True)),
        control("C", "non_compliant", waiver_=waiver(expired=True)),
        Change.STILL_FAILING,
        False,
    ),
    (
        "attestation expired beats new gap",
        control("C", "compliant", attestation=att()),
        control("C", "not_assessed", attestation=att(expired=True)),
        Change.ATTESTATION_EXPIRED,
        True,
    ),
    (
        "attestation expired while already failing",
        control("C", "non_compliant", attestation=att()),
        control("C", "not_assessed", attestation=att(expired=True)),
        Change.ATTESTATION_EXPIRED,
        True,
    ),
    (
        "attestation expired in both",
        control("C", "not_assessed", attestation=att(expired=True)),
        control("C", "not_assessed", attestation=att(expired=True)),
        Change.STILL_FAILING,
        False,
    ),
    (
        "'not implemented' expired, checks pass now: not resolved, the review is due",
        control("C", "non_compliant", attestation=att(answer=Answer.NOT_IMPLEMENTED)),
        control("C", "compliant", attestation=att(expired=True, answer=Answer.NOT_IMPLEMENTED)),
        Change.ATTESTATION_EXPIRED,
        True,
    ),
    (
        "'partially' expired, checks pass now",
        control("C", "partial", attestation=att(answer=Answer.PARTIALLY)),
        control("C", "compliant", attestation=att(expired=True, answer=Answer.PARTIALLY)),
        Change.ATTESTATION_EXPIRED,
        True,
    ),
    (
        "'not applicable' expired, judged on checks now",
        control("C", "not_applicable", attestation=att(answer=Answer.NOT_APPLICABLE)),
        control("C", "compliant", attestation=att(expired=True, answer=Answer.NOT_APPLICABLE)),
        Change.ATTESTATION_EXPIRED,
        True,
    ),
    (
        "'implemented' expired while a failing check was fixed: resolved",
        control("C", "non_compliant", attestation=att()),
        control("C", "compliant", attestation=att(expired=True)),
        Change.RESOLVED,
        False,
    ),
    (
        "'not implemented' expired on a control that stays met",
        control("C", "compliant", attestation=att(answer=Answer.NOT_IMPLEMENTED)),
        control("C", "compliant", attestation=att(expired=True, answer=Answer.NOT_IMPLEMENTED)),
        Change.UNCHANGED,
        False,
    ),
    (
        "waived -> compliant: fixed, the waiver is no longer needed",
        control("C", "waived", waiver_=waiver()),
        control("C", "compliant", waiver_=waiver()),
        Change.RESOLVED,
        False,
    ),
    (
        "waived -> compliant after the waiver expired",
        control("C", "waived", waiver_=waiver()),
        control("C", "compliant", waiver_=waiver(expired=True)),
        Change.RESOLVED,
        False,
    ),
    (
        "waived -> not applicable",
        control("C", "waived", waiver_=waiver()),
        control("C", "not_applicable"),
        Change.RESOLVED,
        False,
    ),
    (
        "error -> not assessed",
        control("C", "error"),
        control("C", "not_assessed"),
        Change.OTHER_CHANGE,
        False,
    ),
    (
        "partial -> non compliant got worse",
        control("C", "partial"),
        control("C", "non_compliant"),
        Change.OTHER_CHANGE,
        True,
    ),
    (
        "not assessed -> partial got better",
        control("C", "not_assessed"),
        control("C", "partial"),
        Change.OTHER_CHANGE,
        False,
    ),
    (
        "compliant -> not applicable",
        control("C", "compliant"),
        control("C", "not_applicable"),
        Change.OTHER_CHANGE,
        False,
    ),
    ("added", None, control("C", "non_compliant"), Change.CONTROL_ADDED, False),
    ("removed", control("C", "non_compliant"), None, Change.CONTROL_REMOVED, False),
    ("unchanged", control("C", "compliant"), control("C", "compliant"), Change.UNCHANGED, False),
]


@pytest.mark.parametrize(
    ("old", "new", "expected", "regression"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bucket_and_regression(
    old: ControlResult | None, new: ControlResult | None, expected: Change, regression: bool
) -> None:
    assert classify(old, new) is expected
    d = compare(results([old] if old else []), results([new] if new else []))
    (only,) = d.controls
    assert only.change is expected
    assert only.regression is regression
    assert d.regression is regression


def test_every_bucket_is_listed_in_both_orders() -> None:
    assert set(PRECEDENCE) == set(Change) == set(DISPLAY_ORDER)
    assert len(PRECEDENCE) == len(DISPLAY_ORDER) == len(Change)


def mixed() -> tuple[Results, Results]:
    old = results(
        [
            control("A1", "compliant", findings=("web.hsts@www",)),
            control("A2", "non_compliant", findings=("tls.min@www", "tls.min@mail")),
            control("A3", "waived", waiver_=waiver()),
            control("A4", "non_compliant", findings=("dns.spf@school.test",)),
            control("A5", "compliant"),
            control("GONE", "not_assessed", level=2),
        ],
        [
            finding("web.hsts", "www", "pass", ("A1",)),
            finding("tls.min", "www", "fail", ("A2",)),
            finding("tls.min", "mail", "fail", ("A2",)),
            finding("dns.spf", "school.test", "fail", ("A4",)),
        ],
        score=40.0,
    )
    new = results(
        [
            control("A1", "non_compliant", findings=("web.hsts@www",)),
            control("A2", "non_compliant", findings=("tls.min@www", "tls.min@new")),
            control("A3", "non_compliant", waiver_=waiver(expired=True)),
            control("A4", "compliant", findings=("dns.spf@school.test",)),
            control("A5", "compliant"),
            control("NEW", "not_assessed", level=2),
        ],
        [
            finding("web.hsts", "www", "fail", ("A1",)),
            finding("tls.min", "www", "pass", ("A2",)),
            finding("tls.min", "new", "fail", ("A2",)),
            finding("dns.spf", "school.test", "pass", ("A4",)),
        ],
        finished="2026-11-01T10:00:00Z",
        score=45.5,
    )
    return old, new


def test_every_control_in_exactly_one_bucket_with_finding_changes() -> None:
    old, new = mixed()
    d = compare(old, new)
    by_id = {c.id: c for c in d.controls}
    assert sorted(by_id) == ["A1", "A2", "A3", "A4", "A5", "GONE", "NEW"]
    assert sum(d.counts().values()) == 7
    assert {c: ch.change for c, ch in by_id.items()} == {
        "A1": Change.NEW_GAP,
        "A2": Change.NEW_FAILURES,
        "A3": Change.WAIVER_EXPIRED,
        "A4": Change.RESOLVED,
        "A5": Change.UNCHANGED,
        "GONE": Change.CONTROL_REMOVED,
        "NEW": Change.CONTROL_ADDED,
    }
    changed = {(f.id, f.old, f.new) for f in by_id["A2"].findings}
    assert changed == {
        ("tls.min@www", FindingStatus.FAIL, FindingStatus.PASS),
        ("tls.min@new", None, FindingStatus.FAIL),
        ("tls.min@mail", FindingStatus.FAIL, None),
    }
    assert [(f.check, f.target) for f in by_id["A1"].findings] == [("web.hsts", "www")]
    assert by_id["A5"].findings == ()
    assert [c.id for c in d.regressions] == ["A1", "A2", "A3"]


def gap_with(statuses: dict[str, str], status: str = "non_compliant") -> Results:
    """A run with one control C (a gap) and the given findings of it, by target."""
    ids = tuple(f"tls.min@{t}" for t in statuses)
    return results(
        [control("C", status, findings=ids)],
        [finding("tls.min", t, st, ("C",)) for t, st in statuses.items()],
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"www": "fail", "mail": "pass"}, {"www": "fail", "mail": "fail"}, Change.NEW_FAILURES),
        ({"www": "fail"}, {"www": "fail", "new": "fail"}, Change.NEW_FAILURES),
        ({"www": "fail", "mail": "error"}, {"www": "fail", "mail": "fail"}, Change.NEW_FAILURES),
        ({"www": "fail", "mail": "fail"}, {"www": "fail", "mail": "pass"}, Change.STILL_FAILING),
        ({"www": "fail", "mail": "fail"}, {"www": "fail"}, Change.STILL_FAILING),
    ],
    ids=["pass->fail", "new failing", "error->fail", "fail->pass", "one gone"],
)
def test_a_new_failure_inside_an_open_gap_is_a_regression(
    old: dict[str, str], new: dict[str, str], expected: Change
) -> None:
    d = compare(gap_with(old), gap_with(new))
    (only,) = d.controls
    assert only.change is expected
    assert d.regression is (expected is Change.NEW_FAILURES)


def test_new_failures_are_listed_and_exit_1(tmp_path: Path) -> None:
    old = gap_with({"www": "fail", "mail": "pass"})
    new = gap_with({"www": "fail", "mail": "fail", "new": "fail"})
    a, b = write(tmp_path / "a.json", old), write(tmp_path / "b.json", new)
    result = run(str(a), str(b), "--lang", "en")
    assert result.exit_code == 1, result.output
    assert "New failing checks in an open gap (1)" in result.output
    assert "tls.min@mail: pass → fail" in result.output
    assert "tls.min@new: absent → fail" in result.output
    assert "Regressions: 1 control " in result.output
    data = json.loads(run(str(a), str(b), "--format", "json").output)
    (c,) = data["controls"]
    assert (c["change"], c["regression"], c["worse"]) == ("new_failures", True, False)
    assert data["counts"]["new_failures"] == 1


def test_text_report() -> None:
    text = render_text(compare(*mixed()), "en")
    assert "New gaps (1)" in text
    assert "A1       level 1   compliant → non-compliant" in text
    assert "web.hsts@www: pass → fail" in text
    assert "tls.min@mail: fail → absent" in text
    assert "tls.min@new: absent → fail" in text
    assert "Waiver expired (1)" in text and "Resolved (1)" in text
    assert "Control added (1)" in text and "Control removed (1)" in text
    assert "Score: 40.0% → 45.5% (+5.5)" in text
    assert "Regressions: 3 controls" in text
    assert "New failing checks in an open gap (1)" in text
    assert text.index("New gaps") < text.index("New failing checks") < text.index("Resolved")
    nl = render_text(compare(*mixed()), "nl")
    assert "Nieuwe tekortkomingen (1)" in nl and "Opgelost (1)" in nl and "geslaagd → gefaald" in nl
    # Flemish numbers: a decimal comma and a space before the percent sign.
    assert "40,0\u00a0% → 45,5\u00a0% (+5,5)" in nl and "40.0%" not in nl


def test_markdown_report_escapes_network_text() -> None:
    old, new = mixed()
    new.findings[0].target = "<b>|x"
    new.findings[0].id = "web.hsts@www"
    md = render_markdown(compare(old, new), "en")
    assert md.startswith("# Comparison of two scans: School A\n")
    assert "| Score | 40.0% | 45.5% |" in md
    assert "## New gaps (1)" in md
    assert "- **A1** (Level 1) Title A1: compliant → non-compliant" in md
    assert "`web.hsts` @ \\<b\\>\\|x: pass → fail" in md
    assert "<b>" not in md


def test_json_has_stable_keys() -> None:
    data = to_json(compare(*mixed()))
    assert set(data) == {"diff_version", "old", "new", "regression", "notes", "counts", "controls"}
    assert data["regression"] is True
    assert list(data["counts"]) == [str(c) for c in DISPLAY_ORDER]
    assert data["counts"]["new_gap"] == 1 and data["counts"]["unchanged"] == 1
    a2 = next(c for c in data["controls"] if c["id"] == "A2")
    assert set(a2) == {
        "id",
        "level",
        "title",
        "change",
        "old_status",
        "new_status",
        "worse",
        "regression",
        "findings",
    }
    assert {
        "id": "tls.min@new",
        "check": "tls.min",
        "target": "new",
        "old_status": None,
        "new_status": "fail",
    } in a2["findings"]
    gone = next(c for c in data["controls"] if c["id"] == "GONE")
    assert gone["change"] == "control_removed" and gone["new_status"] is None
    assert data["old"]["score"] == 40.0 and data["new"]["framework"] == {
        "id": "grip",
        "version": "2026.02",
    }
    json.dumps(data)


def test_notes_for_framework_profile_and_order() -> None:
    old = results([control("A", "compliant")], version="2026.02", finished="2026-12-01T00:00:00Z")
    new = results([control("B", "compliant")], version="2026.06", profile="p2")
    d = compare(old, new)
    codes = [n.code for n in d.notes]
    assert codes == ["framework_changed", "profile_changed", "order"]
    text = render_text(d, "en")
    assert "framework changed (grip 2026.02 → grip 2026.06)" in text
    assert "profile changed (p1 → p2)" in text
    assert "wrong order" not in text and "right order" in text
    assert [n["code"] for n in to_json(d)["notes"]] == codes


def test_runs_of_different_schools_refused_unless_forced() -> None:
    old = results([control("A", "compliant")], school="one")
    new = results([control("A", "compliant")], school="two")
    with pytest.raises(UsageError, match="--force"):
        compare(old, new)
    d = compare(old, new, force=True)
    assert [n.code for n in d.notes] == ["other_school"]


# --- command line ----------------------------------------------------------------------------


def write(path: Path, r: Results | dict[str, Any] | str) -> Path:
    if isinstance(r, Results):
        path.write_text(r.model_dump_json(exclude_none=True))
    elif isinstance(r, dict):
        path.write_text(json.dumps(r))
    else:
        path.write_text(r)
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(diff, list(args))


def test_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    old, new = mixed()
    a, b = write(tmp_path / "a.json", old), write(tmp_path / "b.json", new)
    worse = run(str(a), str(b), "--lang", "en")
    assert worse.exit_code == 1, worse.output
    assert "New gaps (1)" in worse.output
    back = run(str(b), str(a), "--format", "json")
    data = json.loads(back.output)
    assert back.exit_code == 1, back.output
    assert (data["counts"]["resolved"], data["counts"]["new_gap"]) == (1, 1)
    assert data["counts"]["newly_waived"] == 1  # A3: expired waiver -> waived again
    same = run(str(a), str(a), "--format", "md", "--lang", "en")
    assert same.exit_code == 0, same.output
    assert "**No regressions.**" in same.output and "## New gaps" not in same.output
    assert "## Still failing (3)" in same.output
    out = tmp_path / "diff.md"
    written = run(str(a), str(b), "--format", "md", "-o", str(out))
    assert written.exit_code == 1
    assert out.read_text().startswith("# Vergelijking van twee scans")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        ("{not json", "not valid JSON"),
        ('["a"]', "not a cyberstd results file"),
        ('{"hello": "world"}', "not a cyberstd results file"),
        ("schema", "schema_version '9.0' is not supported"),
        ("invalid", "not a cyberstd results file: controls.0.status"),
    ],
)
def test_cli_invalid_input_exits_2_without_traceback(
    tmp_path: Path, content: str | None, message: str
) -> None:
    good = write(tmp_path / "good.json", results([control("A", "compliant")]))
    bad = tmp_path / "bad.json"
    if content == "schema":
        data = json.loads(good.read_text())
        data["schema_version"] = "9.0"
        write(bad, data)
    elif content == "invalid":
        data = json.loads(good.read_text())
        data["controls"][0]["status"] = "great"
        write(bad, data)
    elif content is not None:
        write(bad, content)
    result = run(str(good), str(bad))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_different_schools(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", results([control("A", "compliant")], school="one"))
    b = write(tmp_path / "b.json", results([control("A", "non_compliant")], school="two"))
    refused = run(str(a), str(b))
    assert refused.exit_code == 2 and "give --force" in refused.output
    forced = run(str(a), str(b), "--force", "--lang", "en")
    assert forced.exit_code == 1
    assert "Runs of different schools (one and two)" in forced.output


def test_cli_redact_hides_accounts_and_keeps_ids_matching(tmp_path: Path) -> None:
    old, new = mixed()
    for r in (old, new):
        r.findings[0].message = "admin j.peeters@school.test on 10.0.0.5"
        r.findings[0].target = "srv-jpeeters"
        r.findings[0].id = "web.hsts@srv-jpeeters"
        r.controls[0].finding_ids = ["web.hsts@srv-jpeeters"]
    a, b = write(tmp_path / "a.json", old), write(tmp_path / "b.json", new)
    result = run(str(a), str(b), "--redact", "--format", "json")
    assert result.exit_code == 1
    assert "srv-jpeeters" not in result.output
    a1 = next(c for c in json.loads(result.output)["controls"] if c["id"] == "A1")
    # the same host in both runs gets the same placeholder, so the finding is still matched
    assert a1["findings"] == [
        {
            "id": "web.hsts@host-1",
            "check": "web.hsts",
            "target": "host-1",
            "old_status": "pass",
            "new_status": "fail",
        }
    ]

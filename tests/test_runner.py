"""Runner: plan, execution with errors and timeouts, roll-up, attestations, waivers, level reached."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ruamel.yaml import YAML

from cyberstd.catalog import load_catalog
from cyberstd.clock import Clock
from cyberstd.registry import ProbeContext
from cyberstd.results import ControlStatus, ErrorReason, FindingStatus, Results
from cyberstd.runner import evaluate, execute, make_plan
from cyberstd.schema import SchoolFile
from cyberstd.school import SchoolFolder, load_school
from tests.conftest import real_timers

TODAY = dt.date(2026, 11, 29)


def run(root: Path, school: Path, profile: str | None = None, timeout: float = 2.0) -> Results:
    catalog, problems = load_catalog(root)
    assert problems == []
    folder, problems = load_school(school, catalog, today=TODAY)
    assert problems == [] and folder is not None
    plan = make_plan(catalog, folder, profile)
    findings = execute(plan, ProbeContext(clock=Clock.at(TODAY), timeout=timeout))
    return evaluate(plan, findings, clock=Clock.at(TODAY), catalog_inputs=catalog.inputs)


def status(results: Results) -> dict[str, ControlStatus]:
    return {c.id: c.status for c in results.controls}


def attest(school: Path, *entries: tuple[str, str, str]) -> None:
    """entries: (control, answer, review_by)"""
    lines = ["attestations:"]
    for control, answer, review in entries:
        lines += [
            f"  - control: {control}",
            f"    answer: {answer}",
            "    explanation: Done as described in the policy.",
            "    attested_by: An Peeters, director",
            "    date: 2026-01-10",
            f"    review_by: {review}",
        ]
    (school / "attestations.yaml").write_text("\n".join(lines) + "\n")


def test_roll_up_without_attestations(mini_root: Path, school_dir: Path) -> None:
    results = run(mini_root, school_dir)
    assert status(results) == {
        "A1": ControlStatus.COMPLIANT,
        "A2": ControlStatus.NOT_ASSESSED,
        "B1": ControlStatus.NON_COMPLIANT,
        "B2": ControlStatus.NOT_ASSESSED,
    }
    assert results.summary.level_reached == 0
    assert results.summary.target_level == 2
    b1 = next(c for c in results.controls if c.id == "B1")
    assert "the thing is wrong" in b1.reason
    assert b1.finding_ids == ["mini.bad@www.school.test"]
    finding = next(f for f in results.findings if f.id == "mini.bad@www.school.test")
    assert finding.status is FindingStatus.FAIL
    assert finding.evidence["target"] == "www.school.test"
    assert finding.remediation["nl"] == "Herstel het ding."


def test_attestations_raise_the_level(mini_root: Path, school_dir: Path) -> None:
    attest(school_dir, ("A2", "implemented", "2027-01-10"), ("B2", "partially", "2027-01-10"))
    results = run(mini_root, school_dir)
    assert status(results)["A2"] is ControlStatus.COMPLIANT
    assert status(results)["B2"] is ControlStatus.PARTIAL
    assert results.summary.level_reached == 1
    # A1, A2 met; B1 fail; B2 partial -> (1 + 1 + 0 + 0.5) / 4
    assert results.summary.score == 62.5


def test_attestation_past_review_date_counts_as_missing(mini_root: Path, school_dir: Path) -> None:
    attest(school_dir, ("A2", "implemented", "2026-06-30"))
    results = run(mini_root, school_dir)
    a2 = next(c for c in results.controls if c.id == "A2")
    assert a2.status is ControlStatus.NOT_ASSESSED
    assert a2.attestation is not None and a2.attestation.expired
    assert "due for review on 30 June 2026" in a2.reason


def test_not_implemented_and_not_applicable_answers(mini_root: Path, school_dir: Path) -> None:
    attest(
        school_dir, ("A2", "not_implemented", "2027-01-10"), ("B2", "not_applicable", "2027-01-10")
    )
    results = run(mini_root, school_dir)
    assert status(results)["A2"] is ControlStatus.NON_COMPLIANT
    assert status(results)["B2"] is ControlStatus.NOT_APPLICABLE


def test_school_and_profile_not_applicable(mini_root: Path, school_dir: Path) -> None:
    with (school_dir / "school.yaml").open("a") as fh:
        fh.write("not_applicable:\n  - control: B2\n    reason: No servers here.\n")
    (mini_root / "profiles" / "mini-all.yaml").write_text(
        "id: mini-all\ntitle: {nl: Alles, en: All}\ndescription: {nl: Alles., en: All.}\nframework: mini\n"
        "not_applicable:\n  - control: B1\n    reason: {nl: Nvt., en: Does not apply here.}\n"
    )
    results = run(mini_root, school_dir)
    by_id = {c.id: c for c in results.controls}
    assert by_id["B2"].status is ControlStatus.NOT_APPLICABLE
    assert by_id["B2"].not_applicable_reason == {"nl": "No servers here.", "en": "No servers here."}
    assert by_id["B1"].status is ControlStatus.NOT_APPLICABLE
    # a not-applicable control plans no checks
    assert all(f.check != "mini.bad" for f in results.findings)


def write_waiver(school: Path, key: str, value: str, expires: str) -> None:
    (school / "waivers.yaml").write_text(
        f"waivers:\n  - {key}: {value}\n    reason: Replacement ordered.\n"
        f"    approved_by: School board\n    expires: {expires}\n"
    )


def test_control_waiver(mini_root: Path, school_dir: Path) -> None:
    attest(school_dir, ("A2", "implemented", "2027-01-10"), ("B2", "implemented", "2027-01-10"))
    write_waiver(school_dir, "control", "B1", "2027-03-01")
    results = run(mini_root, school_dir)
    b1 = next(c for c in results.controls if c.id == "B1")
    assert b1.status is ControlStatus.WAIVED
    assert b1.underlying_status is ControlStatus.NON_COMPLIANT
    assert results.summary.level_reached == 2


def test_expired_waiver_changes_nothing_and_is_flagged(mini_root: Path, school_dir: Path) -> None:
    write_waiver(school_dir, "control", "B1", "2026-10-31")
    results = run(mini_root, school_dir)
    b1 = next(c for c in results.controls if c.id == "B1")
    assert b1.status is ControlStatus.NON_COMPLIANT
    assert b1.waiver is not None and b1.waiver.expired
    assert "waiver by School board expired on 31 October 2026" in b1.reason


def test_check_waiver(mini_root: Path, school_dir: Path) -> None:
    write_waiver(school_dir, "check", "mini.bad", "2027-03-01")
    results = run(mini_root, school_dir)
    b1 = next(c for c in results.controls if c.id == "B1")
    assert b1.status is ControlStatus.WAIVED
    assert b1.underlying_status is ControlStatus.NON_COMPLIANT
    finding = next(f for f in results.findings if f.check == "mini.bad")
    assert finding.status is FindingStatus.FAIL and finding.waived_by is not None


def _set_outcome(root: Path, check: str, outcome: str) -> None:
    path = root / "checks" / "mini.yaml"
    text = path.read_text()
    marker = f"  - id: {check}\n"
    head, tail = text.split(marker)
    lines = tail.split("\n")
    lines = [
        f"    params: {{outcome: {outcome}}}" if line.startswith("    params:") else line
        for line in lines[:4]
    ] + lines[4:]
    path.write_text(head + marker + "\n".join(lines))


def test_probe_exception_becomes_error_finding(mini_root: Path, school_dir: Path) -> None:
    _set_outcome(mini_root, "mini.ok", "crash")
    results = run(mini_root, school_dir)
    finding = next(f for f in results.findings if f.check == "mini.ok")
    assert finding.status is FindingStatus.ERROR
    assert finding.error_reason is ErrorReason.BUG
    assert "ZeroDivisionError" in finding.message
    assert finding.error_detail is not None and "Traceback" in finding.error_detail
    assert status(results)["A1"] is ControlStatus.ERROR
    # the scan went on: the other check still has its verdict
    assert status(results)["B1"] is ControlStatus.NON_COMPLIANT


def test_probe_error_reason(mini_root: Path, school_dir: Path) -> None:
    _set_outcome(mini_root, "mini.ok", "error")
    results = run(mini_root, school_dir)
    finding = next(f for f in results.findings if f.check == "mini.ok")
    assert finding.error_reason is ErrorReason.CONNECTIVITY
    assert "connection refused" in finding.message


@real_timers
def test_hanging_probe_is_cut_off(mini_root: Path, school_dir: Path) -> None:
    _set_outcome(mini_root, "mini.ok", "hang")
    results = run(mini_root, school_dir, timeout=0.1)
    finding = next(f for f in results.findings if f.check == "mini.ok")
    assert finding.status is FindingStatus.ERROR
    assert finding.error_reason is ErrorReason.TIMEOUT


def test_internal_address_outside_scope_is_refused(mini_root: Path, school_dir: Path) -> None:
    text = (
        (school_dir / "school.yaml").read_text().replace("address: 127.0.0.1", "address: 10.9.8.7")
    )
    (school_dir / "school.yaml").write_text(text)
    # validate (and so plan and scan) refuses it before anything runs ...
    catalog, _ = load_catalog(mini_root)
    _, problems = load_school(school_dir, catalog, today=TODAY)
    assert [p.code for p in problems] == ["out-of-scope"]
    assert "10.9.8.7" in problems[0].message
    # ... and the runner's own guard refuses it too, for an address that only shows up at
    # scan time (a DNS answer): here the folder as it would be without the static check
    school = SchoolFile.model_validate(YAML(typ="safe").load(text))
    plan = make_plan(catalog, SchoolFolder(dir=school_dir, school=school))
    findings = execute(plan, ProbeContext(clock=Clock.at(TODAY), timeout=2.0))
    results = evaluate(plan, findings, clock=Clock.at(TODAY), catalog_inputs=catalog.inputs)
    for finding in results.findings:
        assert finding.status is FindingStatus.ERROR
        assert finding.error_reason is ErrorReason.SCOPE
        assert "10.9.8.7" in finding.message and "authorised" in finding.message
        # refused before the probe ran: the static probe would have put its evidence there
        assert "target" not in finding.evidence


def test_no_host_with_the_role_gives_not_applicable_finding(
    mini_root: Path, school_dir: Path
) -> None:
    text = (school_dir / "school.yaml").read_text().replace("roles: [website]", "roles: [mail]")
    (school_dir / "school.yaml").write_text(text)
    results = run(mini_root, school_dir)
    assert {f.status for f in results.findings} == {FindingStatus.NOT_APPLICABLE}
    # A1 has no verdict from its check and needs an attestation then
    assert status(results)["A1"] is ControlStatus.NOT_ASSESSED


def test_profile_target_level_limits_scope(mini_root: Path, school_dir: Path) -> None:
    results = run(mini_root, school_dir, profile="mini-1")
    assert [c.id for c in results.controls] == ["A1", "A2"]
    assert results.summary.target_level == 1
    assert results.run.profile == "mini-1"


def test_results_record_input_hashes(mini_root: Path, school_dir: Path) -> None:
    results = run(mini_root, school_dir)
    names = " ".join(results.run.inputs)
    assert "school.yaml" in names and "mapping.yaml" in names and "mini.yaml" in names
    assert all(len(h) == 64 for h in results.run.inputs.values())


def test_an_expired_authorisation_is_named_as_the_reason(mini_root: Path, school_dir: Path) -> None:
    text = (
        (school_dir / "school.yaml")
        .read_text()
        .replace("    date: 2026-01-01\n", "    date: 2026-01-01\n    expires: 2026-06-30\n")
    )
    (school_dir / "school.yaml").write_text(text)
    catalog, _ = load_catalog(mini_root)
    _, problems = load_school(school_dir, catalog, today=TODAY)
    assert [p.code for p in problems] == ["out-of-scope"]
    assert "expired on 2026-06-30" in problems[0].message  # validate says what scan would
    school = SchoolFile.model_validate(YAML(typ="safe").load(text))
    plan = make_plan(catalog, SchoolFolder(dir=school_dir, school=school))
    findings = execute(plan, ProbeContext(clock=Clock.at(TODAY), timeout=2.0))
    results = evaluate(plan, findings, clock=Clock.at(TODAY), catalog_inputs=catalog.inputs)
    refused = [f for f in results.findings if f.error_reason is ErrorReason.SCOPE]
    assert refused
    for finding in refused:
        assert "expired on 2026-06-30" in finding.message and "Test Director" in finding.message

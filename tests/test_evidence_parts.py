"""A control's checks cover what it asks only when they cover every part of it: O7 asks for
MFA, a password policy and lockout, so a password-policy export alone leaves the MFA part to an
attestation instead of making O7 compliant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cyberstd.catalog import load_catalog
from cyberstd.clock import Clock
from cyberstd.evidence import coverage
from cyberstd.explain import why
from cyberstd.results import ControlResult, ControlStatus, Finding, FindingStatus, Results
from cyberstd.runner import Plan, evaluate, make_plan
from cyberstd.schema import AttestationDef, MappingEntry, SchoolFile
from cyberstd.school import SchoolFolder
from tests.conftest import REPO

DAY = dt.date(2026, 11, 29)


def _entry(rule: str = "if_no_checks", parts: bool = True) -> MappingEntry:
    return MappingEntry.model_validate(
        {
            "control": "X1",
            "checks": ["a.one", "a.two", "a.three"],
            "parts": [
                {"id": "p1", "title": {"nl": "deel een", "en": "part one"}, "covered_by": ["a.one"]},
                {"id": "p2", "title": {"nl": "deel twee", "en": "part two"}, "covered_by": ["a.two"]},
            ]
            if parts
            else [],
            "attestation": {"required": rule},
        }
    )  # fmt: skip


def _finding(check: str, status: FindingStatus = FindingStatus.PASS) -> Finding:
    return Finding(
        id=f"{check}@x",
        check=check,
        target="x",
        status=status,
        severity="low",
        controls=["X1"],
        message="-",
    )


def test_every_part_must_be_covered_before_checks_replace_the_attestation() -> None:
    entry = _entry()
    some = coverage(entry, [_finding("a.one"), _finding("a.three")], lambda f: True)
    assert some.attestation_needed and [p.id for p in some.uncovered] == ["p2"]
    full = coverage(
        entry, [_finding("a.one"), _finding("a.two", FindingStatus.FAIL)], lambda f: True
    )
    assert not full.attestation_needed and full.uncovered == ()
    # Without parts, any verdict covers the control, as before.
    assert not coverage(
        _entry(parts=False), [_finding("a.three")], lambda f: True
    ).attestation_needed
    assert coverage(_entry(parts=False), [], lambda f: True).attestation_needed
    # if_no_config counts configuration findings only.
    config = coverage(
        _entry("if_no_config"), [_finding("a.one"), _finding("a.two")], lambda f: f.check == "a.one"
    )
    assert [p.id for p in config.uncovered] == ["p2"]
    assert coverage(
        _entry("always"), [_finding("a.one"), _finding("a.two")], lambda f: True
    ).attestation_needed
    assert not coverage(_entry("never"), [], lambda f: True).attestation_needed


def test_a_part_no_check_can_cover_always_asks_for_the_attestation() -> None:
    entry = MappingEntry.model_validate(
        {
            "control": "X1",
            "checks": ["a.one"],
            "parts": [
                {"id": "p1", "title": {"nl": "een", "en": "one"}, "covered_by": ["a.one"]},
                {"id": "paper", "title": {"nl": "papier", "en": "paper"}},
            ],
            "attestation": {"required": "if_no_checks"},
        }
    )
    cover = coverage(entry, [_finding("a.one")], lambda f: True)
    assert cover.attestation_needed and [p.id for p in cover.uncovered] == ["paper"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"parts": [{"id": "p", "title": {"nl": "x", "en": "x"}, "covered_by": ["b.other"]}]},
         "not among this control's required checks"),
        ({"parts": [{"id": "p", "title": {"nl": "x", "en": "x"}},
                    {"id": "p", "title": {"nl": "y", "en": "y"}}]}, "part p given twice"),
        ({"reasons": {"b.other": {"nl": "x", "en": "x"}}}, "which this control does not map"),
    ],
)  # fmt: skip
def test_the_catalog_refuses_parts_and_reasons_that_do_not_fit(
    body: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        MappingEntry.model_validate(
            {
                "control": "X1",
                "checks": ["a.one"],
                "attestation": {"required": "if_no_checks"},
                **body,
            }
        )


def _grip_plan() -> Plan:
    catalog, problems = load_catalog(REPO)
    assert problems == []
    school = SchoolFile.model_validate(
        {
            "school": {"id": "parts", "name": "Parts school"},
            "profile": "grip-basis-2",
            "domains": ["parts.test"],
            "hosts": [{"name": "www.parts.test", "address": "127.0.0.1", "roles": ["website"]}],
            "scope": [{"ranges": ["127.0.0.0/8"], "authorized_by": "Director", "date": "2026-01-01"}],
        }
    )  # fmt: skip
    return make_plan(catalog, SchoolFolder(dir=Path("."), school=school))


def _run(plan: Plan, verdicts: dict[str, FindingStatus]) -> Results:
    findings = [
        item.planned.finding(
            item.finding_id,
            item.check_id,
            item.target.name if item.target else "-",
            verdicts.get(item.check_id, FindingStatus.NOT_APPLICABLE),
            "as set by the test",
        )
        for item in plan.items
    ]
    return evaluate(plan, findings, clock=Clock.at(DAY))


def _control(results: Results, cid: str) -> ControlResult:
    return next(c for c in results.controls if c.id == cid)


def test_a_password_policy_alone_does_not_make_o7_compliant() -> None:
    plan = _grip_plan()
    ok = FindingStatus.PASS
    results = _run(plan, {"windows.password-length": ok, "windows.account-lockout": ok})
    o7 = _control(results, "O7")
    assert o7.status is ControlStatus.NOT_ASSESSED
    assert [p.id for p in o7.uncovered_parts] == ["mfa", "written"]
    assert "MFA enforced for all staff and administrator accounts" in o7.reason
    assert "an attestation must answer that part" in o7.reason
    nl = why(o7, [f for f in results.findings if f.id in o7.finding_ids], "nl")
    assert "MFA afgedwongen voor alle personeels- en beheerdersaccounts" in nl
    # MFA from the identity platform covers the technical parts; that the written policy
    # matches the settings only a person can answer (GRIP O7's "Voldaan").
    covered = _run(
        plan,
        {"windows.password-length": ok, "windows.account-lockout": ok, "entra.mfa-all-users": ok},
    )
    assert _control(covered, "O7").status is ControlStatus.NOT_ASSESSED
    assert [p.id for p in _control(covered, "O7").uncovered_parts] == ["written"]


def test_the_attestation_answers_an_uncovered_part() -> None:
    plan = _grip_plan()
    plan.folder.attestations = {
        "O7": AttestationDef(
            control="O7",
            answer="implemented",
            explanation="MFA through Smartschool for all staff.",
            attested_by="ICT coordinator",
            date=dt.date(2026, 10, 1),
            review_by=dt.date(2027, 10, 1),
        )
    }
    results = _run(plan, {"windows.password-length": FindingStatus.PASS})
    o7 = _control(results, "O7")
    assert o7.status is ControlStatus.COMPLIANT
    assert [p.id for p in o7.uncovered_parts] == ["mfa", "lockout", "written"]
    # The Why line says what the attestation answers for.
    assert "the attestation answers for what no check showed: MFA enforced" in o7.reason
    nl = why(o7, [f for f in results.findings if f.id in o7.finding_ids], "nl")
    assert "de verklaring staat in voor wat geen controle toonde: MFA afgedwongen" in nl


def test_mail_without_a_dkim_verdict_is_not_compliant_from_checks() -> None:
    """O11 asks for MX, SPF, DKIM, DMARC and STARTTLS: a DKIM key that could not be found
    (no known selector) leaves that part to the attestation."""
    plan = _grip_plan()
    ok = FindingStatus.PASS
    verdicts = {c: ok for c in ("mail.mx", "mail.spf", "mail.dmarc", "mail.starttls")}
    verdicts["mail.dkim"] = FindingStatus.SKIPPED
    o11 = _control(_run(plan, verdicts), "O11")
    assert o11.status is ControlStatus.NOT_ASSESSED
    assert [p.id for p in o11.uncovered_parts] == ["dkim"]
    verdicts["mail.dkim"] = ok
    assert _control(_run(plan, verdicts), "O11").status is ControlStatus.COMPLIANT

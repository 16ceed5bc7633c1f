"""GRIP, level by level: a sound school reaches each level on GRIP's own catalog, advice never
gates, and each required check failing alone drops exactly the controls it is required for."""

from __future__ import annotations

import datetime as dt
import errno
from pathlib import Path

import pytest

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.clock import Clock
from cyberstd.lab import Flaw, lab_school
from cyberstd.lab.timeshift import shifted_copy
from cyberstd.results import ControlStatus, FindingStatus, Results
from cyberstd.runner import Plan, context_for, evaluate, execute, make_plan
from cyberstd.schema import AttestationDef, SchoolFile
from cyberstd.school import SchoolFolder, load_school
from tests.conftest import REPO

DAY = dt.date(2026, 11, 29)

# One host per role, so that every check of every level has a target.
HOSTS = [
    {"name": "www.sound.test", "address": "127.0.0.1", "roles": ["website"]},
    {"name": "mx.sound.test", "address": "127.0.0.2", "roles": ["mail"]},
    {"name": "vpn.sound.test", "address": "127.0.0.3", "roles": ["vpn", "firewall"]},
    {"name": "nas.sound.test", "address": "127.0.0.4", "roles": ["nas", "server"]},
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    found, problems = load_catalog(REPO)
    assert problems == []
    return found


def _plan(catalog: Catalog, level: int) -> Plan:
    school = SchoolFile.model_validate(
        {
            "school": {"id": "sound", "name": "Sound school"},
            "profile": f"grip-basis-{level}",
            "domains": ["sound.test"],
            "hosts": HOSTS,
            "scope": [{"ranges": ["127.0.0.0/8"], "authorized_by": "Director", "date": "2026-01-01"}],
        }
    )  # fmt: skip
    folder = SchoolFolder(dir=Path("."), school=school)
    plan = make_plan(catalog, folder)
    folder.attestations = _attested(plan)
    return plan


def _attested(plan: Plan) -> dict[str, AttestationDef]:
    """Every control of the plan attested as implemented, valid on DAY."""
    return {
        c.id: AttestationDef(
            control=c.id,
            answer="implemented",
            explanation="In place, as the control's text asks.",
            attested_by="Director",
            date=DAY - dt.timedelta(days=59),
            review_by=DAY + dt.timedelta(days=306),
        )
        for c in plan.profile.controls
    }


def _judged(plan: Plan, failing: set[str]) -> Results:
    findings = [
        item.planned.finding(
            item.finding_id,
            item.check_id,
            item.target.name if item.target else "-",
            FindingStatus.FAIL if item.check_id in failing else FindingStatus.PASS,
            "as set by the test",
        )
        for item in plan.items
    ]
    return evaluate(plan, findings, clock=Clock.at(DAY))


def _advice(plan: Plan) -> set[str]:
    """Checks that are only advice in this profile."""
    return {c for c, p in plan.profile.checks.items() if p.advises and not p.controls}


@pytest.mark.parametrize("level", range(1, 7))
def test_a_sound_school_reaches_each_level_with_every_recommendation_failing(
    catalog: Catalog, level: int
) -> None:
    plan = _plan(catalog, level)
    advice = _advice(plan)
    if level >= 2:  # GRIP T1 and O11 come with advice from level 2 on
        assert {"dns.dnssec", "dns.caa", "mail.mta-sts", "mail.tls-rpt"} <= advice
    results = _judged(plan, advice)
    assert results.summary.level_reached == level, [
        (c.id, c.status, c.reason)
        for c in results.controls
        if c.status is not ControlStatus.COMPLIANT
    ]
    failed = {f.check for f in results.findings if f.status is FindingStatus.FAIL}
    assert failed == advice
    shown = {i for c in results.controls for i in c.advice_ids}
    assert {f.id for f in results.findings if f.check in advice} <= shown


@pytest.mark.parametrize("level", range(1, 7))
def test_each_required_check_failing_alone_drops_exactly_its_controls(
    catalog: Catalog, level: int
) -> None:
    plan = _plan(catalog, level)
    fw = catalog.framework("grip")
    required = {c: p for c, p in plan.profile.checks.items() if p.controls}
    assert required
    for check_id, planned in required.items():
        results = _judged(plan, {check_id})
        gaps = {c.id for c in results.controls if c.status is ControlStatus.NON_COMPLIANT}
        assert gaps == set(planned.controls), check_id
        expected = min(fw.controls[c].level for c in planned.controls) - 1
        assert results.summary.level_reached == min(level, expected), check_id


def test_no_requirement_is_pulled_below_its_level(catalog: Catalog) -> None:
    """A check that is advice for a control at level n is never required at a lower level,
    and the TLS hardening and DMARC enforcement are required where GRIP puts them."""
    fw = catalog.framework("grip")
    for control, mapping in fw.mappings.items():
        level = fw.controls[control].level
        for check in mapping.recommended:
            required_at = [c for c, m in fw.mappings.items() if check in m.checks]
            assert all(fw.controls[c].level >= level for c in required_at), (check, control)
    assert {"tls.protocols", "tls.weak-ciphers", "tls.cert-key"} <= set(fw.mappings["T12"].checks)
    assert not {"tls.protocols", "tls.weak-ciphers", "tls.cert-key"} & set(
        fw.mappings["O18"].checks
    )


# What the lab can leave out that GRIP only recommends up to level 2.
ADVICE_FLAWS = frozenset(
    {
        Flaw.NO_DNSSEC,
        Flaw.NO_CAA,
        Flaw.NO_MTA_STS,
        Flaw.NO_TLS_RPT,
        Flaw.NO_SECURITY_TXT,
        Flaw.NO_SECURITY_HEADERS,
        Flaw.DMARC_NONE,
        Flaw.DMARC_NO_RUA,
    }
)


def test_the_lab_school_without_the_recommendations_reaches_level_2(
    catalog: Catalog, tmp_path: Path
) -> None:
    """On real servers: the lab school answers every required check of levels 1 and 2, but has
    no DNSSEC, CAA, MTA-STS, TLS-RPT, security.txt or DMARC enforcement; with every level-1
    and level-2 attestation recorded it reaches level 2, and the gaps it leaves are advice."""
    copy = shifted_copy(REPO / "examples" / "demo-school", tmp_path / "school", 0)
    folder, problems = load_school(copy, catalog, DAY)
    assert problems == [] and folder is not None
    folder.school = folder.school.model_copy(update={"profile": "grip-basis-2", "exports": []})
    folder.waivers = []
    clock = Clock.at(DAY)
    try:
        with lab_school(tmp_path / "lab", clock=clock, flaws=ADVICE_FLAWS) as lab:
            plan = make_plan(catalog, folder)
            folder.attestations = _attested(plan)
            ctx = context_for(folder, ca_bundle=lab.ca_bundle, clock=clock, kinds=catalog.kinds)
            findings = execute(plan, ctx)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EADDRINUSE):
            pytest.skip(f"the lab school cannot bind its ports here: {exc}")
        raise
    results = evaluate(plan, findings, clock=clock)
    assert results.summary.level_reached == 2, [
        (c.id, c.reason) for c in results.controls if c.status is not ControlStatus.COMPLIANT
    ]
    failed = {f.check for f in results.findings if f.status is FindingStatus.FAIL}
    assert {"dns.dnssec", "dns.caa", "mail.mta-sts", "mail.tls-rpt"} <= failed
    assert failed <= _advice(plan), failed - _advice(plan)

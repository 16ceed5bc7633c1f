"""Required and recommended checks per control, as GRIP words its measures: a failed
recommendation is advice, shown with its remediation, and never keeps a control (or a level)
from being met; a profile may require it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from cyberstd.clock import Clock
from cyberstd.registry import ProbeContext
from cyberstd.results import ControlStatus, Finding, FindingStatus, Results
from cyberstd.runner import evaluate, execute, make_plan
from cyberstd.school import load_school
from tests.conftest import REPO

AS_OF = "2026-11-29"
DAY = dt.date.fromisoformat(AS_OF)


def _recommend_bad(root: Path) -> None:
    """B1: mini.ok required, mini.bad (always fails) recommended."""
    mapping = root / "standards" / "mini" / "mapping.yaml"
    text = mapping.read_text()
    old = "  - control: B1\n    checks: [mini.bad]\n"
    assert old in text
    mapping.write_text(
        text.replace(old, "  - control: B1\n    checks: [mini.ok]\n    recommended: [mini.bad]\n")
    )


def _results(root: Path, school: Path, profile: str | None = None) -> Results:
    catalog, problems = load_catalog(root)
    assert problems == []
    folder, problems = load_school(school, catalog, today=DAY)
    assert problems == [] and folder is not None
    plan = make_plan(catalog, folder, profile)
    clock = Clock.at(DAY)
    return evaluate(plan, execute(plan, ProbeContext(clock=clock)), clock=clock)


def test_a_failed_recommendation_is_advice_not_a_gap(mini_root: Path, school_dir: Path) -> None:
    _recommend_bad(mini_root)
    results = _results(mini_root, school_dir)
    b1 = next(c for c in results.controls if c.id == "B1")
    assert b1.status is ControlStatus.COMPLIANT, b1.reason
    (bad,) = [f for f in results.findings if f.check == "mini.bad"]
    assert bad.status is FindingStatus.FAIL
    assert bad.controls == [] and bad.advises == ["B1"]
    assert b1.advice_ids == [bad.id] and bad.id not in b1.finding_ids


def test_every_report_shows_advice_and_none_gates_on_it(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    _recommend_bad(mini_root)
    (school_dir / "attestations.yaml").write_text(
        "attestations:\n"
        + "".join(
            f"  - {{control: {c}, answer: implemented, explanation: Done., attested_by: An,"
            f" date: 2026-11-01, review_by: 2027-11-01}}\n"
            for c in ("A2", "B2")
        )
    )
    out = tmp_path / "out"
    formats = [a for f in ("md", "html", "csv", "sarif", "junit") for a in ("--format", f)]
    result = CliRunner().invoke(
        main,
        ["--root", str(mini_root), "scan", str(school_dir), "--out", str(out), "--as-of",
         AS_OF, "-q", *formats],
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # advice never fails the run
    results = Results.model_validate_json((out / "results.json").read_text(encoding="utf-8"))
    assert results.summary.level_reached == 2

    md = (out / "report.nl.md").read_text(encoding="utf-8")
    assert "## Aanbevelingen" in md and "aanbeveling bij B1" in md
    assert "Herstel het ding." in md  # the remediation comes with the advice
    html = (out / "report.nl.html").read_text(encoding="utf-8")
    assert 'id="advice"' in html and "aanbeveling bij B1" in html
    sarif = json.loads((out / "report.nl.sarif").read_text(encoding="utf-8"))
    (advice,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "mini.bad"]
    assert advice["level"] == "note"
    junit = (out / "report.nl.junit.xml").read_text(encoding="utf-8")
    assert 'failures="0"' in junit and "aanbeveling bij B1: the thing is wrong" in junit
    csv_text = (out / "report.nl.csv").read_text(encoding="utf-8-sig")
    assert "aanbeveling bij B1" in csv_text


def test_a_profile_can_require_a_recommendation(mini_root: Path, school_dir: Path) -> None:
    _recommend_bad(mini_root)
    (mini_root / "profiles" / "mini-strict.yaml").write_text(
        "id: mini-strict\ntitle: {nl: Streng, en: Strict}\ndescription: {nl: S., en: S.}\n"
        "framework: mini\nextends: mini-all\n"
        "require:\n  - check: mini.bad\n    reason: {nl: Centraal beheerd., en: Managed centrally.}\n"
    )
    results = _results(mini_root, school_dir, "mini-strict")
    b1 = next(c for c in results.controls if c.id == "B1")
    assert b1.status is ControlStatus.NON_COMPLIANT
    (bad,) = [f for f in results.findings if f.check == "mini.bad"]
    assert bad.controls == ["B1"] and bad.advises == []


def test_the_catalog_refuses_a_pair_both_required_and_recommended(mini_root: Path) -> None:
    mapping = mini_root / "standards" / "mini" / "mapping.yaml"
    text = mapping.read_text()
    mapping.write_text(
        text.replace(
            "  - control: B1\n    checks: [mini.bad]\n",
            "  - control: B1\n    checks: [mini.bad]\n    recommended: [mini.bad, mini.nope]\n",
        )
    )
    _, problems = load_catalog(mini_root)
    said = " ".join(str(p) for p in problems)
    assert "mini.bad both required and recommended" in said
    assert "mapping.yaml" in said


def test_a_profile_cannot_require_what_is_not_recommended(mini_root: Path) -> None:
    (mini_root / "profiles" / "mini-odd.yaml").write_text(
        "id: mini-odd\ntitle: {nl: O, en: O}\ndescription: {nl: O., en: O.}\nframework: mini\n"
        "require:\n  - check: mini.ok\n    reason: {nl: X., en: X.}\n"
    )
    _, problems = load_catalog(mini_root)
    (problem,) = [p for p in problems if p.path.endswith("mini-odd.yaml")]
    assert "'mini.ok' is not recommended for any control" in problem.message


def _grip_finding(results: Results, check: str) -> Finding:
    return next(f for f in results.findings if f.check == check)


def test_grip_advice_stays_advice() -> None:
    """GRIP T1 asks for an own, verified domain name: DNSSEC and CAA are advice there. O11's
    MTA-STS and TLS-RPT are 'bij voorkeur'; security.txt, server disclosure and TLS hardening
    are advice at O18 and required at T12 (level 5)."""
    catalog, problems = load_catalog(REPO)
    assert problems == []
    fw = catalog.framework("grip")
    advice = {c: set(m.recommended) for c, m in fw.mappings.items() if m.recommended}
    assert advice["T1"] == {"dns.dnssec", "dns.caa", "entra.domain-verified"}
    assert {"mail.mta-sts", "mail.tls-rpt", "mail.dmarc-enforced"} <= advice["O11"]
    assert {"entra.break-glass", "google.break-glass"} <= advice["O12"]
    assert {"web.security-txt", "tls.protocols", "tls.weak-ciphers"} <= advice["O18"]
    assert {"tls.protocols", "tls.weak-ciphers", "tls.cert-key"} <= set(fw.mappings["T12"].checks)
    assert {"entra.legacy-auth-blocked", "windows.password-complexity"} <= advice["O7"]
    for control, checks in advice.items():
        level = fw.controls[control].level
        for check in checks:
            required_at = [c for c, m in fw.mappings.items() if check in m.checks]
            assert all(fw.controls[c].level >= level for c in required_at), (check, control)

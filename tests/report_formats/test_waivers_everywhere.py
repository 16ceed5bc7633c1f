"""Accepted risks in every format: each waiver with what it covers, its approver, expiry and
effect (and why one takes no effect), the findings it accepts marked as accepted risk, and
counts that agree with the summary.

One school, scanned once, with a waiver of each kind:

- control B1 (mini.bad fails): in effect;
- check mini.bad2 (fails, the only check of A2): in effect, A2 is waived through it;
- control B2: expired before the day judged;
- check mini.broken: maps to no control of the profile, so it never runs;
- control A1: compliant, nothing to accept.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from cyberstd.cli import main
from cyberstd.messages import day
from cyberstd.report import renderer
from cyberstd.report.terminal import summary
from cyberstd.results import ControlStatus, Results
from tests.conftest import REPO, SCHOOL_YAML, write_mini_catalog

AS_OF = "2026-11-29"
LANGS = ("nl", "en")
BAD2 = """\
  - id: mini.bad2
    title: {nl: Ook fout, en: Also wrong}
    probe: test.static
    params: {outcome: fail, message: "the other thing is wrong"}
    severity: medium
    remediation: {nl: Herstel het andere., en: Repair the other.}
"""
WAIVERS = """\
waivers:
  - control: B1
    reason: Replacement ordered
    approved_by: Board
    expires: 2027-06-30
  - check: mini.bad2
    reason: Known and tolerated
    approved_by: Director
    expires: 2027-03-31
  - control: B2
    reason: Was planned
    approved_by: Former board
    expires: 2026-09-30
  - check: mini.broken
    reason: Flaky
    approved_by: ICT coordinator
    expires: 2027-06-30
  - control: A1
    reason: Just in case
    approved_by: Deputy director
    expires: 2027-05-31
"""


@dataclass(frozen=True)
class Expected:
    scope: str
    shown: dict[str, str]  # the scope as the report says it
    reason: str
    by: str
    expires: str
    effect: dict[str, str]
    # OSCAL risk status: accepted, or what is left when the waiver accepts nothing
    risk: str

    @property
    def applied(self) -> bool:
        return self.risk == "deviation-approved"

    def line(self, lang: str) -> str:
        if lang == "nl":
            return (
                f"{self.shown['nl']}: {self.reason} (goedgekeurd door {self.by}, "
                f"tot {day(dt.date.fromisoformat(self.expires), 'nl')}): {self.effect['nl']}"
            )
        return (
            f"{self.shown['en']}: {self.reason} (approved by {self.by}, "
            f"until {day(dt.date.fromisoformat(self.expires), 'en')}): {self.effect['en']}"
        )


IN_EFFECT = {"nl": "geldt", "en": "in effect"}
EXPECTED = [
    Expected(
        "control B1",
        {"nl": "maatregel B1", "en": "control B1"},
        "Replacement ordered",
        "Board",
        "2027-06-30",
        IN_EFFECT,
        "deviation-approved",
    ),
    Expected(
        "check mini.bad2",
        {"nl": "controle mini.bad2", "en": "check mini.bad2"},
        "Known and tolerated",
        "Director",
        "2027-03-31",
        IN_EFFECT,
        "deviation-approved",
    ),
    Expected(
        "control B2",
        {"nl": "maatregel B2", "en": "control B2"},
        "Was planned",
        "Former board",
        "2026-09-30",
        {
            "nl": "geldt niet: verlopen op 2026-09-30; ze telt niet meer",
            "en": "takes no effect: expired on 2026-09-30; it no longer counts",
        },
        "open",  # B2 is still not assessed
    ),
    Expected(
        "check mini.broken",
        {"nl": "controle mini.broken", "en": "check mini.broken"},
        "Flaky",
        "ICT coordinator",
        "2027-06-30",
        {
            "nl": "geldt niet: controle mini.broken liep niet",
            "en": "takes no effect: check mini.broken did not run",
        },
        "closed",
    ),
    Expected(
        "control A1",
        {"nl": "maatregel A1", "en": "control A1"},
        "Just in case",
        "Deputy director",
        "2027-05-31",
        {
            "nl": "geldt niet: niet nodig: de maatregel is in orde",
            "en": "takes no effect: not needed: the control is compliant",
        },
        "closed",
    ),
]
# The failed findings the waivers accept, with the waiver that accepts each.
ACCEPTED = {
    "mini.bad@www.school.test": "control B1",
    "mini.bad2@www.school.test": "check mini.bad2",
}
WAIVED_CONTROLS = {"A2", "B1"}
BY_SCOPE = {e.scope: e for e in EXPECTED}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    base = tmp_path_factory.mktemp("waivers")
    root = write_mini_catalog(
        base / "catalog",
        {
            "A1": (["mini.ok"], "if_no_checks"),
            "A2": (["mini.bad2"], "never"),
            "B1": (["mini.bad"], "never"),
            "B2": ([], "always"),
        },
    )
    checks = root / "checks" / "mini.yaml"
    checks.write_text(checks.read_text() + BAD2)
    school = base / "school"
    school.mkdir()
    (school / "school.yaml").write_text(SCHOOL_YAML)
    (school / "waivers.yaml").write_text(WAIVERS)
    out = base / "out"
    result = CliRunner().invoke(
        main,
        ["--root", str(root), "scan", str(school), "--out", str(out), "--as-of", AS_OF, "-q",
         "--fail-on", "none"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return Results.model_validate_json((out / "results.json").read_text(encoding="utf-8"))


def test_the_scan_judged_each_waiver(results: Results) -> None:
    assert [w.scope for w in results.waivers] == [e.scope for e in EXPECTED]
    for w, e in zip(results.waivers, EXPECTED, strict=True):
        assert (w.reason, w.approved_by, w.expires.isoformat()) == (e.reason, e.by, e.expires)
        assert w.applied is e.applied
    status = {c.id: c.status for c in results.controls}
    assert {c for c, s in status.items() if s is ControlStatus.WAIVED} == WAIVED_CONTROLS
    assert results.summary.counts[ControlStatus.WAIVED] == len(WAIVED_CONTROLS)
    assert {f.id for f in results.findings if f.waived_by} == {"mini.bad2@www.school.test"}


@pytest.mark.parametrize("lang", LANGS)
def test_json_keeps_every_waiver(results: Results, lang: str) -> None:
    doc = json.loads(renderer("json")(results, lang))
    assert [w["scope"] for w in doc["waivers"]] == [e.scope for e in EXPECTED]
    for w, e in zip(doc["waivers"], EXPECTED, strict=True):
        assert (w["approved_by"], w["expires"], w["applied"]) == (e.by, e.expires, e.applied)
        if not e.applied:
            assert e.effect["en"].endswith(w["note"]["en"])
            assert e.effect["nl"].endswith(w["note"]["nl"])
    assert doc["summary"]["counts"]["waived"] == len(WAIVED_CONTROLS)


def _section(text: str, start: str, end: str) -> str:
    assert start in text, start
    return text.split(start, 1)[1].split(end, 1)[0]


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_lists_every_waiver_and_counts_the_waived_controls(
    results: Results, lang: str
) -> None:
    md = renderer("md")(results, lang)
    title = {"nl": "## Uitzonderingen (aanvaarde risico's)", "en": "## Waivers (accepted risks)"}
    section = _section(md, title[lang], "\n## ")
    listed = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(listed) == len(EXPECTED)
    accepts = {"nl": "aanvaardt de gefaalde controle", "en": "accepts the failed check"}[lang]
    for line, e in zip(listed, EXPECTED, strict=True):
        assert line.startswith(f"- {e.line(lang)}"), line
        # a waiver in effect names the failed checks it hides
        hidden = [fid.split("@")[0] for fid, scope in ACCEPTED.items() if scope == e.scope]
        assert all(f" — {accepts} {h} @ " in line for h in hidden) and (" — " in line) == bool(
            hidden
        ), line
    word = {"nl": "risico aanvaard", "en": "waived"}[lang]
    assert f"| ⚪ {word} | {len(WAIVED_CONTROLS)} |" in md
    # the accepted failure itself says which waiver accepts it
    by_scope = {e.scope: e for e in EXPECTED}
    for finding_id, scope in ACCEPTED.items():
        check = finding_id.split("@")[0]
        line = next(x for x in md.splitlines() if x.startswith(f"  - `{check}` @"))
        assert line.endswith(f" ({word}: {by_scope[scope].line(lang)})"), line


@pytest.mark.parametrize("lang", LANGS)
def test_terminal_summary_lists_every_waiver(results: Results, lang: str) -> None:
    buffer = io.StringIO()
    Console(file=buffer, width=400, color_system=None).print(summary(results, lang))
    shown = buffer.getvalue()
    for e in EXPECTED:
        assert e.line(lang) in shown, e.scope
    word = {"nl": "risico aanvaard", "en": "waived"}[lang]
    assert re.search(rf"{word}\s+{len(WAIVED_CONTROLS)}\b", shown)


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("lang", LANGS)
def test_html_lists_every_waiver_and_counts_the_waived_controls(
    results: Results, lang: str
) -> None:
    page = renderer("html")(results, lang)
    title = {"nl": "Uitzonderingen (aanvaarde risico&#39;s)", "en": "Waivers (accepted risks)"}
    section = _section(page, title[lang], "<h2")
    items = [_text(li) for li in re.findall(r"<li[^>]*>(.*?)</li>", section, re.S)]
    assert len(items) == len(EXPECTED)
    for item, e in zip(items, EXPECTED, strict=True):
        assert html.unescape(item).startswith(e.line(lang)), item  # one sentence, as elsewhere
    word = {"nl": "risico aanvaard", "en": "waived"}[lang]
    counted = re.search(rf'<li data-status="waived">.*?{word}: <strong>(\d+)</strong>', page, re.S)
    assert counted is not None and int(counted.group(1)) == len(WAIVED_CONTROLS)


def _csv(text: str, delimiter: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


CSV_WORDS = {
    "nl": {
        "kind": "Soort",
        "control": "Maatregel",
        "title": "Titel",
        "check": "Controle",
        "status": "Status maatregel",
        "by": "Uitzondering goedgekeurd door",
        "expires": "Uitzondering geldig tot",
        "expired": "Uitzondering verlopen",
        "effect": "Uitzondering geldt",
        "reason": "Reden",
        "waiver": "uitzondering",
        "finding": "bevinding",
        "control_kind": "maatregel",
        "waived": "risico aanvaard",
    },
    "en": {
        "kind": "Record",
        "control": "Control",
        "title": "Title",
        "check": "Check",
        "status": "Control status",
        "by": "Waiver approved by",
        "expires": "Waiver expires",
        "expired": "Waiver expired",
        "effect": "Waiver effect",
        "reason": "Reason",
        "waiver": "waiver",
        "finding": "finding",
        "control_kind": "control",
        "waived": "waived",
    },
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("csv-semicolon", ";")])
def test_csv_has_a_record_per_waiver_and_marks_what_it_accepts(
    results: Results, fmt: str, delimiter: str, lang: str
) -> None:
    w = CSV_WORDS[lang]
    rows = _csv(renderer(fmt)(results, lang), delimiter)
    waivers = [r for r in rows if r[w["kind"]] == w["waiver"]]
    assert [r[w["title"]] for r in waivers] == [e.shown[lang] for e in EXPECTED]
    for row, e in zip(waivers, EXPECTED, strict=True):
        assert (row[w["by"]], row[w["expires"]], row[w["effect"]]) == (
            e.by,
            e.expires,
            e.effect[lang],
        )
        assert row[w["reason"]] == e.reason
        expired = e.scope == "control B2"
        assert (
            row[w["expired"]]
            == {"nl": "ja" if expired else "nee", "en": "yes" if expired else "no"}[lang]
        )
    covered = {r[w["title"]]: r[w["control"]] for r in waivers}
    assert covered[EXPECTED[1].shown[lang]] == "A2"  # the check waiver covers A2 in this run
    assert waivers[1][w["check"]] == "mini.bad2" and waivers[3][w["check"]] == "mini.broken"
    controls = [r for r in rows if r[w["kind"]] == w["control_kind"]]
    waived = {r[w["control"]] for r in controls if r[w["status"]] == w["waived"]}
    assert waived == WAIVED_CONTROLS
    findings = {r[w["check"]]: r for r in rows if r[w["kind"]] == w["finding"]}
    for fid, scope in ACCEPTED.items():
        row, e = findings[fid.split("@")[0]], BY_SCOPE[scope]
        assert (row[w["by"]], row[w["expires"]], row[w["effect"]]) == (
            e.by,
            e.expires,
            e.effect[lang],
        )
        assert e.line(lang) in row[w["reason"]]
    assert findings["mini.ok"][w["by"]] == ""


def _sarif_schema_errors(doc: dict[str, Any]) -> list[str]:
    import jsonschema

    schema = json.loads((REPO / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    return [e.message for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("lang", LANGS)
def test_sarif_suppresses_each_accepted_failure_and_notes_every_waiver(
    results: Results, lang: str
) -> None:
    doc = json.loads(renderer("sarif")(results, lang))
    assert _sarif_schema_errors(doc) == []
    run = doc["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [e.line(lang) for e in EXPECTED]
    assert [n["level"] for n in notes] == ["note" if e.applied else "warning" for e in EXPECTED]
    suppressed = {
        r["partialFingerprints"]["cyberstdFinding/v1"]: r["suppressions"]
        for r in run["results"]
        if r.get("suppressions")
    }
    assert set(suppressed) == set(ACCEPTED)
    assert all(r.get("suppressions") for r in run["results"])  # every failure here is accepted
    for fid, scope in ACCEPTED.items():
        (s,) = suppressed[fid]
        e = BY_SCOPE[scope]
        assert (s["kind"], s["status"], s["justification"]) == (
            "external",
            "accepted",
            e.line(lang),
        )
        assert s["properties"] == {"waiverScope": scope, "approvedBy": e.by, "expires": e.expires}


@pytest.mark.parametrize("lang", LANGS)
def test_junit_skips_accepted_failures_with_their_waiver(results: Results, lang: str) -> None:
    root = ET.fromstring(renderer("junit")(results, lang))
    word = {"nl": "risico aanvaard", "en": "waived"}[lang]

    def props(case: ET.Element) -> dict[str, str]:
        return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}

    cases = {c.get("name", "").split(":")[0]: c for c in root.iter("testcase")}
    for fid, scope in ACCEPTED.items():
        case, e = cases[fid.split("@")[0]], BY_SCOPE[scope]
        assert case.find("failure") is None
        skipped = case.find("skipped")
        assert skipped is not None and skipped.get("message") == f"{word}: {e.line(lang)}"
        assert props(case)["waiver.approved_by"] == e.by
        assert props(case)["waiver.expires"] == e.expires
        assert props(case)["waiver.scope"] == scope
    (suite,) = [s for s in root.iter("testsuite") if s.get("name") == "waivers"]
    listed = suite.findall("testcase")
    assert [c.get("name") for c in listed] == [e.scope for e in EXPECTED]
    for case, e in zip(listed, EXPECTED, strict=True):
        assert props(case)["waiver.approved_by"] == e.by
        assert props(case)["waiver.expires"] == e.expires
        assert props(case)["waiver.effect"] == e.effect[lang]
        skipped = case.find("skipped")
        assert (skipped is None) is e.applied
        if skipped is not None:
            assert skipped.get("message") == e.line(lang)
    no_effect = sum(not e.applied for e in EXPECTED)
    assert suite.get("skipped") == str(no_effect)
    # the accepted failures are skipped, not failed: the totals agree with the exit code
    assert root.get("failures") == "0"
    assert root.get("skipped") == str(len(ACCEPTED) + no_effect)


def _oscal_errors(doc: dict[str, Any]) -> list[str]:
    import jsonschema
    from jsonschema import Draft7Validator

    from tests.report_formats.test_oscal import SCHEMA, _format_checker, _pattern, errors

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.extend(Draft7Validator, {"pattern": _pattern})
    return errors(cls(schema, format_checker=_format_checker()), doc)


def _props(item: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in item.get("props", [])}


@pytest.mark.parametrize("lang", LANGS)
def test_oscal_has_a_risk_per_waiver_and_marks_what_it_accepts(results: Results, lang: str) -> None:
    doc = json.loads(renderer("oscal")(results, lang))
    assert _oscal_errors(doc) == []
    result = doc["assessment-results"]["results"][0]
    risks = result["risks"]
    assert [_props(r)["waiver-scope"] for r in risks] == [e.scope for e in EXPECTED]
    for risk, e in zip(risks, EXPECTED, strict=True):
        assert risk["status"] == e.risk
        assert risk["statement"] == e.line(lang) and risk["description"] == e.reason
        assert risk["deadline"] == f"{e.expires}T00:00:00Z"
        assert _props(risk)["waiver-approved-by"] == e.by
        assert _props(risk)["waiver-applied"] == str(e.applied).lower()
    risk_of = {_props(r)["waiver-scope"]: r for r in risks}
    observations = {_props(o).get("finding-id"): o for o in result["observations"]}
    for fid, scope in ACCEPTED.items():
        obs, e = observations[fid], BY_SCOPE[scope]
        assert _props(obs)["accepted-risk"] == "true"
        assert (_props(obs)["waiver-approved-by"], _props(obs)["waiver-expires"]) == (
            e.by,
            e.expires,
        )
        related = [r["observation-uuid"] for r in risk_of[scope]["related-observations"]]
        assert obs["uuid"] in related
    assert "accepted-risk" not in _props(observations["mini.ok@www.school.test"])
    findings = {_props(f)["control-id"]: f for f in result["findings"]}
    waived = {cid for cid, f in findings.items() if _props(f)["status"] == "waived"}
    assert waived == WAIVED_CONTROLS
    for cid, scope in (("B1", "control B1"), ("A2", "check mini.bad2")):
        finding, e = findings[cid], BY_SCOPE[scope]
        assert _props(finding)["waiver-approved-by"] == e.by
        assert _props(finding)["waiver-expires"] == e.expires
        assert finding["related-risks"] == [{"risk-uuid": risk_of[scope]["uuid"]}]
        assert finding["target"]["status"]["state"] == "not-satisfied"
    uuids = {r["uuid"] for r in risks}
    assert len(uuids) == len(risks)


def test_the_action_plan_leaves_accepted_risks_out(results: Results) -> None:
    rows = _csv(renderer("actionplan")(results, "nl"), ";")
    assert [(r["Soort"], r["Maatregel(en)"]) for r in rows] == [("verklaring", "B2")]
    assert rows[0]["Wat te doen"].startswith("De uitzondering is verlopen")

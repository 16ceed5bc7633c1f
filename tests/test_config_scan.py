"""A scan of a school folder with configuration exports: verdicts with file:line, no secrets."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from cyberstd.clock import Clock
from cyberstd.errors import ExportError
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.registry import ProbeContext, Target, TargetKind
from cyberstd.results import ErrorReason, FindingStatus, ProbeOutcome, Results
from cyberstd.rules.engine import RuleParams
from cyberstd.school import load_school
from tests.conftest import CLOCK, REPO

EXPORTS = REPO / "examples" / "demo-school" / "exports"
SECRETS = (
    "Leerlingen2026!",
    "SH2nlSm9Qj3cQ0hQp3JK6yyb4fTkJ9xfR0n2c4JqkZ6c0m0Yb1c=",
    "MIIFHDBOBgkq",
)

SCHOOL = """\
school:
  id: config-school
  name: "Basisschool De Configuratie"
exports:
  - path: exports/m365/users.json
    kind: entra-users
  - path: exports/m365/directory-roles.json
    kind: entra-directory-roles
  - path: exports/wifi/wlanconf.json
    kind: wifi-controller
  - path: exports/fortigate.conf
    kind: fortigate
  - path: exports/broken.xml
    kind: pfsense
"""


@pytest.fixture
def school(tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    (folder / "exports").mkdir(parents=True)
    shutil.copytree(EXPORTS / "m365", folder / "exports" / "m365")
    shutil.copytree(EXPORTS / "wifi", folder / "exports" / "wifi")
    shutil.copyfile(EXPORTS / "firewall" / "fortigate.conf", folder / "exports" / "fortigate.conf")
    (folder / "exports" / "broken.xml").write_text("<pfsense><filter><rule><type>pass</type>")
    (folder / "school.yaml").write_text(SCHOOL)
    return folder


def _scan_args(school: Path, out: Path | None = None) -> list[str]:
    """A configuration-only scan of `school`, judged as of the day its exports were written."""
    args = ["--root", str(REPO), "scan", str(school), "--as-of", DEMO_DAY.isoformat()]
    return [*args, "--profile", "ci-baseline", *(["--out", str(out)] if out else [])]


def test_scan_reports_configuration_controls_with_file_and_line(school: Path) -> None:
    out = school.parent / "out"
    result = CliRunner().invoke(
        main,
        [
            "--root",
            str(REPO),
            "scan",
            "--as-of",
            DEMO_DAY.isoformat(),
            str(school),
            "--profile",
            "ci-baseline",
            "--out",
            str(out),
            "--format",
            "md",
            "--format",
            "sarif",
            "--format",
            "junit",
            "--lang",
            "en",
            "-q",
        ],
    )
    assert result.exit_code == 1, result.output
    results = Results.model_validate_json((out / "results.json").read_text())
    by_check = {f.check: f for f in results.findings}
    stale = by_check["entra.stale-accounts"]
    assert stale.status is FindingStatus.FAIL
    item = stale.evidence["items"][0]
    assert item["file"].endswith("exports/m365/users.json") and item["line"] == 8
    assert item["label"] == "j.peeters@demo-school.test"
    assert stale.evidence["files"][0]["sha256"]
    assert "O13" in stale.controls
    broken = by_check["pfsense.wan-pass-any"]
    assert broken.status is FindingStatus.ERROR and broken.error_reason is ErrorReason.INPUT
    assert "broken.xml" in broken.message
    report = (out / "report.en.md").read_text()
    report = report.replace("\\_", "_")
    assert "exports/m365/users.json:8 j.peeters@demo-school.test" in report
    assert "exports/fortigate.conf:14 wan1" in report
    sarif = json.loads((out / "report.en.sarif").read_text())
    lines = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in sarif["runs"][0]["results"]
        if "region" in r["locations"][0].get("physicalLocation", {})
    }
    assert ("entra.stale-accounts", 8) in lines
    ET.fromstring((out / "report.en.junit.xml").read_text())
    for path in out.iterdir():
        text = path.read_text()
        assert not any(secret in text for secret in SECRETS), path.name
    controls = {c.id: c for c in results.controls}
    assert controls["O13"].status.value == "non_compliant"
    assert controls["T3"].status.value == "non_compliant"  # the secretariat's Wi-Fi: a shared key


def test_unknown_export_kind_is_a_positioned_problem(school: Path) -> None:
    text = (school / "school.yaml").read_text().replace("kind: wifi-controller", "kind: wifi")
    (school / "school.yaml").write_text(text)
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "validate", str(school), "--as-of", DEMO_DAY.isoformat()]
    )
    assert result.exit_code == 2
    assert "school.yaml:10:11: error[unknown-id]: unknown export kind 'wifi'" in result.output


def _probe(store: ExportStore, rule: dict[str, object]) -> ProbeOutcome:
    from cyberstd.probes.config import config_rule

    ctx = ProbeContext(exports=store, clock=Clock.at(date(2026, 11, 29)))
    target = Target(name="school", kind=TargetKind.SCHOOL)
    return config_rule(target, RuleParams.model_validate(rule), ctx)


def test_an_export_over_the_size_limit_is_an_error_naming_it(tmp_path: Path) -> None:
    catalog, _ = load_catalog(REPO)
    path = tmp_path / "users.json"
    shutil.copyfile(EXPORTS / "m365" / "users.json", path)
    store = ExportStore(
        catalog.kinds, [ExportFile(path, "exports/users.json", "entra-users")], 1000
    )
    rule = {"kind": "entra-users", "select": "value[*]", "count": {"at_most": 100}}
    with pytest.raises(
        ExportError, match=r"exports/users.json: file is \d+ bytes, more than the limit of 1000"
    ):
        _probe(store, rule)


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        ("entra-users", b'{"value": [', "unexpected end of file"),
        ("entra-users", "caf\xe9".encode("latin-1"), "not UTF-8"),
        ("fortigate", b"<pfsense></pfsense>", "not a FortiGate configuration"),
        (
            "pfsense",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><pfsense>&a;</pfsense>',
            "XML entities are not allowed",
        ),
        ("sshd_config", b"\x00\x01\x02\x03", "binary"),
    ],
)
def test_bad_exports_are_errors_naming_the_file(
    tmp_path: Path, kind: str, content: bytes, message: str
) -> None:
    catalog, _ = load_catalog(REPO)
    path = tmp_path / "export"
    path.write_bytes(content)
    store = ExportStore(catalog.kinds, [ExportFile(path, "exports/export", kind)])
    rule = {"kind": kind, "select": "x", "expect": {"present": True}}
    with pytest.raises(ExportError, match=message) as info:
        _probe(store, rule)
    assert "exports/export" in str(info.value)


def test_no_export_of_the_kind_is_not_applicable() -> None:
    catalog, _ = load_catalog(REPO)
    outcome = _probe(
        ExportStore(catalog.kinds), {"kind": "secedit", "select": "x", "expect": {"present": True}}
    )
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert "lists no export of kind secedit" in outcome.message


def test_school_folder_loads_with_exports(school: Path) -> None:
    catalog, _ = load_catalog(REPO)
    folder, problems = load_school(school, catalog, CLOCK.today)
    assert problems == [] and folder is not None
    assert any(p.endswith("exports/m365/users.json") for p in folder.inputs)


def test_scan_redact_shares_reports_without_accounts_or_hosts(school: Path) -> None:
    out = school.parent / "shared"
    args = _scan_args(school, out)
    formats = ["--format", "json", "--format", "md", "--format", "html", "--format", "csv"]
    result = CliRunner().invoke(main, [*args, *formats, "--lang", "en", "-q", "--redact"])
    assert result.exit_code == 1, result.output
    complete = (out / "results.json").read_text()
    assert "j.peeters@demo-school.test" in complete  # the school's own record stays whole
    for name in ("results.redacted.json", "report.en.md", "report.en.html", "report.en.csv"):
        text = (out / name).read_text(encoding="utf-8-sig")
        for secret in (
            "j.peeters@demo-school.test",
            "partner@demo-school.test",
            "demo-school.test",
        ):
            assert secret not in text, (name, secret)
    shared = Results.model_validate_json((out / "results.redacted.json").read_text())
    stale = next(f for f in shared.findings if f.check == "entra.stale-accounts")
    assert stale.evidence["items"][0]["label"].startswith("user-")


def test_diff_of_two_scans_exits_1_on_a_regression(school: Path, tmp_path: Path) -> None:
    yaml = school / "school.yaml"
    yaml.write_text(
        yaml.read_text().replace("  - path: exports/broken.xml\n    kind: pfsense\n", "")
    )
    # T11 asks for analysis too, which no check covers: the school attests that part.
    (school / "attestations.yaml").write_text(
        "attestations:\n"
        "  - control: T11\n"
        "    answer: implemented\n"
        "    explanation: Logs kept 180 days on the group's syslog server and read weekly.\n"
        "    evidence: []\n"
        "    attested_by: ICT coordinator\n"
        f"    date: {DEMO_DAY.isoformat()}\n"
        "    review_by: 2099-01-01\n"
    )
    args = [*_scan_args(school), "-q"]
    assert CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")]).exit_code == 1
    firewall = school / "exports" / "fortigate.conf"  # logs no longer forwarded: T11 regresses
    firewall.write_text(firewall.read_text().replace("set status enable", "set status disable"))
    assert CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b")]).exit_code == 1
    old, new = tmp_path / "a" / "results.json", tmp_path / "b" / "results.json"
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    t11 = next(c for c in doc["controls"] if c["id"] == "T11")
    assert t11["change"] == "new_gap" and doc["regression"] is True
    assert "fortigate.log-forwarding" in json.dumps(t11)
    same = CliRunner().invoke(main, ["diff", str(old), str(old)])
    assert same.exit_code == 0, same.output


def test_validate_parses_the_exports_and_names_file_and_line(school: Path) -> None:
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "validate", str(school), "--as-of", DEMO_DAY.isoformat()]
    )
    assert result.exit_code == 2
    line = next(x for x in result.output.splitlines() if "broken.xml" in x)
    assert line.endswith(
        "exports/broken.xml:1:1: error[export]: unexpected end of file (the export may be truncated)"
    ), line
    (school / "exports" / "broken.xml").write_text("<pfsense><filter/></pfsense>")
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "validate", str(school), "--as-of", DEMO_DAY.isoformat()]
    )
    assert result.exit_code == 0, result.output


def test_configuration_findings_speak_dutch_in_dutch_reports(school: Path) -> None:
    out = school.parent / "nl"
    args = _scan_args(school, out)
    result = CliRunner().invoke(main, [*args, "--format", "md", "--format", "html", "-q"])
    assert result.exit_code == 1, result.output
    results = Results.model_validate_json((out / "results.json").read_text())
    stale = next(f for f in results.findings if f.check == "entra.stale-accounts")
    assert stale.message.startswith("1 enabled accounts with no sign-in for 90 days")
    assert stale.text("nl").startswith("1 actieve accounts zonder aanmelding in 90 dagen")
    assert "waar hoogstens 0 verwacht wordt: j.peeters@demo-school.test" in stale.text("nl")
    assert stale.text("en") == stale.message
    report = (out / "report.nl.md").read_text()
    assert "actieve accounts zonder aanmelding in 90 dagen" in report
    assert "enabled accounts with no sign-in" not in report
    assert "actieve accounts zonder aanmelding in 90 dagen" in (out / "report.nl.html").read_text()
    baseline = CliRunner().invoke(
        main,
        [
            "--root",
            str(REPO),
            "baseline",
            "--lang",
            "nl",
            "--as-of",
            "2026-11-29",
            str(school / "exports" / "m365"),
        ],
    )
    assert "actieve accounts zonder aanmelding" in baseline.output

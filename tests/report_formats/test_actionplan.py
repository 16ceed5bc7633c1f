"""The action plan export: one row per gap for Excel in a Belgian locale, dated from the run's
day, with the columns the school fills in left empty; `cyberstd attest` takes it as evidence."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.report import FORMATS, SUFFIX, renderer
from cyberstd.report.actionplan import COLUMNS, TO_FILL, render
from cyberstd.report.actions import fixes, to_attest
from cyberstd.report.csv import BOM
from cyberstd.results import Results, Severity
from tests.conftest import REPO
from tests.report_formats import DEMO, make_results, scan_demo

NL = [
    "Prioriteit",
    "Soort",
    "Ernst",
    "Maatregel(en)",
    "Niveau",
    "Titel",
    "Controle",
    "Waar",
    "Bevinding",
    "Wat te doen",
    "Voorgestelde deadline",
    "Eigenaar",
    "Deadline",
    "Status (open / bezig / klaar / aanvaard risico)",
    "Verantwoording",
]
EN = [
    "Priority",
    "Kind",
    "Severity",
    "Control(s)",
    "Level",
    "Title",
    "Check",
    "Where",
    "Finding",
    "What to do",
    "Suggested due date",
    "Owner",
    "Due date",
    "Status (open / in progress / done / risk accepted)",
    "Justification",
]
HOSTILE = "=cmd|' /C calc'!A0"


def table(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of an action plan, read as Excel in a Belgian locale writes CSV."""
    assert text.startswith(BOM) and text.count(BOM) == 1
    reader = csv.reader(io.StringIO(text[len(BOM) :], newline=""), delimiter=";")
    header, *data = list(reader)
    assert all(len(row) == len(header) for row in data)
    return header, [dict(zip(header, row, strict=True)) for row in data]


def test_columns_in_order_in_dutch_and_english() -> None:
    assert len(COLUMNS) == len(NL) == len(EN)
    assert table(render(make_results(), "nl"))[0] == NL
    assert table(render(make_results(), "en"))[0] == EN


def test_one_row_per_gap_most_urgent_first() -> None:
    _, rows = table(render(make_results(), "en"))
    assert [r["Priority"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [(r["Kind"], r["Severity"], r["Control(s)"], r["Level"]) for r in rows] == [
        ("technical gap", "critical", "C2, C3", "1"),
        ("technical gap", "high", "C2", "1"),
        ("could not be judged", "medium", "C5", "3"),
        ("attestation", "medium", "C6.1", "3"),
        ("attestation", "medium", "7 odd id", "3"),
    ]
    web, config, error, partial, unassessed = rows
    assert (web["Check"], web["Where"], web["What to do"]) == (
        "web.bad",
        "www.school.test",
        "Repair it.",
    )
    web_bad = next(f for f in make_results().findings if f.check == "web.bad")
    assert web["Finding"] == web_bad.text("en") and web["Finding"]
    assert config["Where"] == "exports/fw.conf:14, exports/fw.conf:30"
    assert config["Title"] == "Check cfg.bad (en)"
    assert error["Check"] == "web.down" and "connection refused" in error["What to do"]
    assert error["Title"] == "Errored control (en)"
    # attested 'partially': put the measure in place, then attest again
    assert partial["What to do"].startswith("Put the measure in place, then record")
    assert "`cyberstd attest schools/test C6.1`" in partial["What to do"]
    assert partial["Check"] == partial["Where"] == ""
    assert unassessed["What to do"].startswith("The waiver expired")
    for row in rows:
        assert all(row[EN[COLUMNS.index(key)]] == "" for key in TO_FILL)


def test_the_plan_follows_the_report_lists(tmp_path: Path) -> None:
    demo = scan_demo(tmp_path / "out")
    _, rows = table(render(demo, "nl"))
    technical = [r for r in rows if r["Soort"] == "technisch tekort"]
    attest = [r for r in rows if r["Soort"] == "verklaring"]
    assert [r["Controle"] for r in technical] == [f.finding.check for f in fixes(demo)]
    assert [r["Maatregel(en)"] for r in attest] == [c.id for c in to_attest(demo)]
    order = ["kritiek", "hoog", "gemiddeld", "laag", "info"]
    ranks = [order.index(r["Ernst"]) for r in rows]
    assert ranks == sorted(ranks) and [r["Prioriteit"] for r in rows] == [
        str(i) for i in range(1, len(rows) + 1)
    ]
    # a control whose waiver is in effect (O12 in the demo) is no action: its risk is accepted
    assert not any("O12" in r["Maatregel(en)"].split(", ") for r in rows)


def test_due_dates_count_from_the_run_day_in_belgian_format() -> None:
    results = make_results()  # the run started on 2026-11-01, 09:00 UTC
    _, rows = table(render(results, "nl"))
    due = {r["Ernst"]: r["Voorgestelde deadline"] for r in rows}
    assert due == {"kritiek": "15/11/2026", "hoog": "01/12/2026", "gemiddeld": "30/01/2027"}
    # judged as of another day (--as-of): that day counts, not the day the run started
    results.run.as_of = dt.date(2027, 2, 20)
    _, rows = table(render(results, "en"))
    due = {r["Severity"]: r["Suggested due date"] for r in rows}
    assert due == {"critical": "06/03/2027", "high": "22/03/2027", "medium": "21/05/2027"}
    # a run just after midnight in Brussels is on that day there, though not yet in UTC
    late = make_results()
    late.run.started = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
    _, rows = table(render(late, "en"))
    assert rows[0]["Severity"] == "critical" and rows[0]["Suggested due date"] == "15/12/2026"


def test_due_days_grow_as_severity_falls() -> None:
    from cyberstd.report.actionplan import DUE_DAYS

    days = [DUE_DAYS[s] for s in sorted(Severity, key=lambda s: -s.rank)]
    assert days[:4] == [14, 30, 90, 180] and days == sorted(days)


def test_a_hostile_message_stays_text() -> None:
    results = make_results()
    bad = next(f for f in results.findings if f.check == "web.bad")
    bad.remediation = {"nl": HOSTILE, "en": HOSTILE}
    bad.title = {"nl": "@SUM(1)", "en": "@SUM(1)"}
    bad.target = "+www.school.test"
    text = render(results, "en")
    _, rows = table(text)
    web = next(r for r in rows if r["Check"] == "web.bad")
    assert web["What to do"] == "'" + HOSTILE
    assert web["Title"] == "'@SUM(1)"
    assert web["Where"] == "'+www.school.test"
    for row in rows:
        for cell in row.values():
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
    hostile = render(make_results(hostile=True), "nl")
    for row in table(hostile)[1]:
        for cell in row.values():
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_bom_semicolons_and_crlf() -> None:
    text = render(make_results(hostile=True), "nl")
    assert text.startswith(BOM)
    rest = text.replace("\r\n", "")
    assert "\n" not in rest and "\r" not in rest and text.endswith("\r\n")
    first = text[len(BOM) :].split("\r\n")[0]
    assert first.count(";") == len(COLUMNS) - 1 and "," not in first
    assert text.count("\r\n") == 1 + 5
    # what Excel's "CSV UTF-8" import reads: the BOM taken as the encoding, ';' as separator
    data = text.encode("utf-8")
    with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert list(rows[0]) == NL and len(rows) == 5


def test_registered_for_report_and_scan(tmp_path: Path) -> None:
    assert "actionplan" in FORMATS and SUFFIX["actionplan"] == "actionplan.csv"
    assert renderer("actionplan") is render
    source = tmp_path / "results.json"
    source.write_text(make_results().model_dump_json(), encoding="utf-8")
    out = tmp_path / "actieplan.csv"
    result = CliRunner().invoke(
        main, ["report", str(source), "--format", "actionplan", "--lang", "nl", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == render(make_results(), "nl").encode("utf-8")
    assert b"\r\n" in out.read_bytes()


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, ["--root", str(REPO), *args])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture
def school(tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    shutil.copytree(DEMO, folder)
    return folder


def test_an_action_plan_from_the_scan_is_o4_evidence(school: Path, tmp_path: Path) -> None:
    """Scan, export the action plan into the school folder, attest O4 with it as evidence:
    its sha256 is recorded, and the next scan shows the attestation with that file."""
    day = DEMO_DAY.isoformat()
    out = tmp_path / "out"
    common = ["--profile", "ci-baseline", "--as-of", day, "-q"]
    _cli("scan", str(school), *common, "--out", str(out), "--format", "actionplan")
    written = out / f"report.nl.{SUFFIX['actionplan']}"
    assert written.read_bytes().startswith(BOM.encode("utf-8"))
    plan = school / "actieplan.csv"
    _cli("report", str(out / "results.json"), "--format", "actionplan", "-o", str(plan))
    assert plan.read_bytes() == written.read_bytes()
    output = _cli(
        "attest",
        str(school),
        "O4",
        "--answer",
        "implemented",
        "--explanation",
        "Action plan from the scan, owners and dates filled in; reviewed by the staff council.",
        "--by",
        "L. Janssens, director",
        "--date",
        day,
        "--evidence",
        str(plan),
        "--lang",
        "en",
    )
    assert "recorded O4 (implemented)" in output
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    text = (school / "attestations.yaml").read_text(encoding="utf-8")
    assert "path: actieplan.csv" in text and digest in text
    validated = _cli("validate", str(school), "--as-of", day)
    assert "evidence-changed" not in validated
    again = tmp_path / "again"
    _cli("scan", str(school), *common, "--out", str(again))
    results = Results.model_validate_json((again / "results.json").read_text(encoding="utf-8"))
    o4 = next(c for c in results.controls if c.id == "O4")
    assert o4.attestation is not None and o4.attestation.void is None
    assert o4.attestation.evidence == [{"path": "actieplan.csv", "sha256": digest}]
    assert o4.status == "compliant"

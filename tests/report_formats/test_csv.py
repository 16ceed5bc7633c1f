"""CSV reports: parse back with either separator, one row per control and finding, no formulas."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstd.report import Renderer, renderer
from cyberstd.report.csv import BOM, render, render_semicolon
from cyberstd.results import Results
from tests.report_formats import make_results, scan_demo

FORMULA = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS: list[tuple[Renderer, str]] = [(render, ","), (render_semicolon, ";")]


def parse(text: str, delimiter: str) -> list[dict[str, str]]:
    """The data rows of a CSV report, keyed by header, after checking BOM and line ends."""
    assert text.startswith(BOM)
    assert text.count(BOM) == 1
    body = text[len(BOM) :]
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    table = list(reader)
    header, data = table[0], table[1:]
    assert all(len(row) == len(header) for row in data)
    return [dict(zip(header, row, strict=True)) for row in data]


def by_key(rows: list[dict[str, str]], column: str, value: str) -> dict[str, str]:
    """The one row of its kind (control rows for 'Control' or 'Maatregel', finding rows
    otherwise) with a value."""
    control = column in ("Control", "Maatregel")
    kinds = {"control", "maatregel"} if control else {"finding", "bevinding"}
    found = [r for r in rows if r[column] == value and next(iter(r.values())) in kinds]
    assert len(found) == 1, (column, value, found)
    return found[0]


@pytest.mark.parametrize(("render_fn", "sep"), SEPARATORS)
def test_rows_parse_back_with_each_separator(render_fn: Renderer, sep: str) -> None:
    results = make_results()
    text = render_fn(results, "en")
    rows = parse(text, sep)
    assert len(rows) == len(results.controls) + len(results.findings)
    assert [r["Record"] for r in rows] == ["control"] * 7 + ["finding"] * 6
    assert [r["Control"] for r in rows[:7]] == [c.id for c in results.controls]
    # the other separator does not split the header into columns
    other = ";" if sep == "," else ","
    first_line = text[len(BOM) :].split("\r\n")[0]
    assert other not in first_line
    assert first_line.count(sep) == len(rows[0]) - 1


def test_lines_end_in_crlf_and_nowhere_else() -> None:
    text = render(make_results(hostile=True), "en")
    rest = text.replace("\r\n", "")
    assert "\n" not in rest and "\r" not in rest
    assert text.endswith("\r\n")
    assert text.count("\r\n") == 1 + 7 + 6


def test_headers_in_dutch_and_english() -> None:
    nl = parse(render(make_results(), "nl"), ",")
    en = parse(render(make_results(), "en"), ",")
    assert list(nl[0])[:5] == ["Soort", "Maatregel", "Niveau", "Titel", "Status maatregel"]
    assert list(en[0])[:5] == ["Record", "Control", "Level", "Title", "Control status"]
    assert "Uitzondering goedgekeurd door" in nl[0] and "Waiver approved by" in en[0]
    assert by_key(nl, "Maatregel", "C2")["Titel"] == "Failing control (nl)"
    assert by_key(en, "Control", "C2")["Title"] == "Failing control (en)"
    assert by_key(nl, "Maatregel", "C2")["Status maatregel"] == "niet in orde"
    assert by_key(en, "Control", "C2")["Control status"] == "non-compliant"


def test_dutch_rows_say_kind_and_severity_in_dutch() -> None:
    nl = parse(render(make_results(), "nl"), ",")
    assert [r["Soort"] for r in nl] == ["maatregel"] * 7 + ["bevinding"] * 6
    assert by_key(nl, "Controle", "web.bad")["Ernst"] == "kritiek"
    assert by_key(nl, "Controle", "cfg.bad")["Ernst"] == "hoog"
    assert by_key(nl, "Controle", "cfg.ok")["Ernst"] == "laag"
    # a control whose gap rests on no failing check (an error here) is of medium severity
    assert by_key(nl, "Maatregel", "C5")["Ernst"] == "gemiddeld"
    words = {cell for row in nl for cell in row.values()}
    assert not words & {"medium", "high", "critical", "low", "finding", "middel"}
    en = parse(render(make_results(), "en"), ",")
    assert by_key(en, "Control", "C5")["Severity"] == "medium"
    assert {r["Record"] for r in en} == {"control", "finding"}


def test_control_rows_carry_attestation_and_waiver() -> None:
    rows = parse(render(make_results(), "en"), ",")
    c1 = by_key(rows, "Control", "C1")
    assert (c1["Attested by"], c1["Attestation date"], c1["Review by"]) == (
        "A. Director",
        "2026-09-01",
        "2027-09-01",
    )
    assert c1["Attestation expired"] == "no" and c1["Attestation answer"] == "implemented"
    assert c1["Severity"] == ""  # compliant: no gap to rank
    c3 = by_key(rows, "Control", "C3")
    assert (c3["Waiver approved by"], c3["Waiver expires"], c3["Waiver expired"]) == (
        "School board",
        "2027-06-30",
        "no",
    )
    assert "New firewall arrives in spring." in c3["Reason"]
    odd = by_key(rows, "Control", "7 odd id")
    assert odd["Attestation expired"] == "yes" and odd["Waiver expired"] == "yes"
    assert by_key(rows, "Control", "C2")["Severity"] == "critical"
    assert "Repair it." in by_key(rows, "Control", "C2")["What next"]
    nl = parse(render(make_results(), "nl"), ",")
    assert by_key(nl, "Maatregel", "7 odd id")["Verklaring verlopen"] == "ja"


def test_finding_rows_carry_evidence() -> None:
    rows = parse(render_semicolon(make_results(), "en"), ";")
    failing = by_key(rows, "Check", "cfg.bad")
    assert failing["Evidence"] == "exports/fw.conf:14 (wan1); exports/fw.conf:30 (wan2)"
    assert failing["Finding status"] == "fail" and failing["Target"] == "test-school"
    assert by_key(rows, "Check", "cfg.ok")["Evidence"] == "exports/fw.conf"
    probe = by_key(rows, "Check", "web.bad")
    assert probe["Evidence"] == "address=127.0.0.1; header=missing"
    assert probe["Control"] == "C2, C3" and probe["Level"] == "1"
    assert probe["Severity"] == "critical" and probe["Title"] == "Check web.bad (en)"
    assert by_key(rows, "Check", "web.down")["Reason"] == "connectivity"


@pytest.mark.parametrize(("render_fn", "sep"), SEPARATORS)
def test_hostile_values_are_neutralised(render_fn: Renderer, sep: str) -> None:
    text = render_fn(make_results(hostile=True), "en")
    rows = parse(text, sep)
    cells = [cell for row in rows for cell in row.values()]
    assert not [c for c in cells if c.startswith(FORMULA)]
    assert "\x1b" not in text
    findings = [r for r in rows if r["Record"] == "finding"]
    # the first finding's message starts with =HYPERLINK; the newlines in it are shown, not kept
    message = findings[0]["Message"]
    assert message.startswith('\'=HYPERLINK("http://x","click") | ')
    assert "\\n+cmd|' /C calc'!A0\\n-2+3\\n@SUM(1)\\n\\t=1" in message
    targets = [r["Target"] for r in findings]
    assert targets[:5] == ["'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(1)", "'\\t=1", "'\\r=1"]
    titles = [r["Title"] for r in rows if r["Record"] == "control"]
    assert '\'=HYPERLINK("http://x","click")' in titles
    assert "<script>alert(1)</script>" in message  # plain text for a spreadsheet
    waiver = by_key(rows, "Control", "C3")["Waiver approved by"]
    assert waiver == "'+cmd|' /C calc'!A0"


@settings(max_examples=200, deadline=None)
@given(st.text(), st.sampled_from(SEPARATORS))
def test_any_message_is_one_inert_cell(message: str, pair: tuple[Renderer, str]) -> None:
    render_fn, sep = pair
    results = make_results()
    results.findings[0].message = message
    results.findings[0].target = message
    text = render_fn(results, "nl")
    rows = parse(text, sep)
    assert len(rows) == 13
    cells = [c for row in rows for c in row.values()]
    assert not [c for c in cells if c.startswith(FORMULA) or c.lstrip(" ").startswith(FORMULA)]
    rest = text.replace("\r\n", "")
    assert "\n" not in rest and "\r" not in rest


def test_registry_names_both_variants() -> None:
    results = make_results()
    assert renderer("csv")(results, "nl") == render(results, "nl")
    assert renderer("csv-semicolon")(results, "nl") == render_semicolon(results, "nl")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return scan_demo(tmp_path_factory.mktemp("demo"))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_demo_school_rows(demo: Results, lang: str, tmp_path: Path) -> None:
    for render_fn, sep in SEPARATORS:
        path = tmp_path / f"report.{lang}.csv"
        path.write_text(render_fn(demo, lang), encoding="utf-8", newline="")
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
        rows = parse(data.decode("utf-8"), sep)
        assert len(rows) == len(demo.controls) + len(demo.findings) + len(demo.waivers)
    rows = parse(render(demo, "en"), ",")
    mfa = by_key(rows, "Check", "entra.mfa-all-users")
    assert "security-defaults.json:6" in mfa["Evidence"]
    assert mfa["Control"] == "O7, T7"

"""Every report format from one results.json, in both languages: hostile content stays inert,
probe errors are named, and the command line renders each one."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.i18n import t
from cyberstd.report import FORMATS, renderer
from cyberstd.results import ControlStatus, Finding, FindingStatus, Results
from tests.report_formats import make_results

LONG = "A" * 100_000
JSON_FORMATS = {"json", "oscal", "sarif"}
# The formats that name each check that could not run; the board summary names no check, it
# says how many could not run (tests/report/test_summary.py).
NAMING_FORMATS = [f for f in FORMATS if f != "summary"]


@pytest.fixture(scope="module")
def hostile() -> Results:
    results = make_results(hostile=True)
    first = results.findings[0]
    long = first.model_copy(update={"id": "long@x", "check": "long", "message": LONG})
    return results.model_copy(update={"findings": [*results.findings, long]})


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_content_is_inert(hostile: Results, fmt: str, lang: str) -> None:
    text = renderer(fmt)(hostile, lang)
    assert "\x1b" not in text  # terminal escapes never reach a file raw
    if fmt in JSON_FORMATS:
        json.loads(text)  # hostile text stays inside JSON strings
    elif fmt == "junit":
        ET.fromstring(text)
    elif fmt == "summary":
        assert "<script" not in text  # it shows no text from the network, and no script
    elif fmt == "html":
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    elif fmt in ("csv", "csv-semicolon", "actionplan"):
        rows = _csv_rows(text, fmt)
        for row in rows:
            for cell in row:
                assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
    elif fmt == "md":
        assert "<script>" not in text


def _csv_rows(text: str, fmt: str) -> list[list[str]]:
    delimiter = ";" if fmt in ("csv-semicolon", "actionplan") else ","
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


def _props(item: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in item.get("props", [])}


def error_shown(fmt: str, text: str, f: Finding, lang: str) -> bool:
    """Whether a report shows finding `f` as an error: the format's word for error (or its
    error reason) with that very check, not merely the check's name somewhere."""
    word = t("finding.error", lang)
    reason = str(f.error_reason)
    if fmt == "json":
        found = json.loads(text)["findings"]
        return any(x["check"] == f.check and x["status"] == "error" for x in found)
    if fmt == "md":
        return any(f"`{f.check}` @" in line and f": {word}: " in line for line in text.splitlines())
    if fmt == "html":
        # grouped by cause at the top: the error badge, then every check it stopped
        causes = [
            line for line in text.splitlines() if line.lstrip().startswith('<li class="cause">')
        ]
        badge = f'<span class="badge error">{word}</span>'
        return any(badge in line and f"<code>{f.id}</code>" in line for line in causes)
    if fmt == "actionplan":
        # one row per cause that kept checks from judging a control: kind "error", its checks
        header, *rows = _csv_rows(text, fmt)
        kind = header.index(t("actionplan.col.kind", lang))
        check = header.index(t("actionplan.col.check", lang))
        what = t("actionplan.kind.error", lang)
        return any(r[kind] == what and f.check in r[check].split(", ") for r in rows)
    if fmt in ("csv", "csv-semicolon"):
        header, *rows = _csv_rows(text, fmt)
        check, status = header.index(COLUMNS_CHECK[lang]), header.index(COLUMNS_STATUS[lang])
        why = header.index(COLUMNS_REASON[lang])
        return any(r[check] == f.check and r[status] == word and reason in r[why] for r in rows)
    if fmt == "oscal":
        observations = json.loads(text)["assessment-results"]["results"][0]["observations"]
        return any(
            _props(o).get("check") == f.check
            and _props(o).get("status") == "error"
            and _props(o).get("error-reason") == reason
            for o in observations
        )
    if fmt == "sarif":
        results = json.loads(text)["runs"][0]["results"]
        return any(
            r["ruleId"] == f.check and r.get("properties", {}).get("error_reason") == reason
            for r in results
        )
    if fmt == "junit":
        cases = ET.fromstring(text).iter("testcase")
        return any(
            (c.get("name") or "").startswith(f"{f.check}:")
            and any(e.get("type") == reason for e in c.iter("error"))
            for c in cases
        )
    raise AssertionError(f"no rule for format {fmt}")


COLUMNS_CHECK = {"en": "Check", "nl": "Controle"}
COLUMNS_STATUS = {"en": "Finding status", "nl": "Status bevinding"}
COLUMNS_REASON = {"en": "Reason", "nl": "Reden"}


def errors_as_passes(results: Results) -> Results:
    """The same results with every probe error turned into a pass (what the test must catch)."""
    findings = [
        f.model_copy(update={"status": FindingStatus.PASS, "error_reason": None})
        if f.status is FindingStatus.ERROR
        else f
        for f in results.findings
    ]
    controls = [
        c.model_copy(update={"status": ControlStatus.COMPLIANT})
        if c.status is ControlStatus.ERROR
        else c
        for c in results.controls
    ]
    return results.model_copy(update={"findings": findings, "controls": controls})


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("fmt", NAMING_FORMATS)
def test_probe_errors_are_named_in_every_format(fmt: str, lang: str) -> None:
    results = make_results()
    errors = [f for f in results.findings if f.status is FindingStatus.ERROR]
    assert errors
    text = renderer(fmt)(results, lang)
    for f in errors:
        assert error_shown(fmt, text, f, lang), (fmt, lang, f.check)


@pytest.mark.parametrize("fmt", NAMING_FORMATS)
def test_an_error_shown_as_a_pass_is_caught(fmt: str) -> None:
    results = make_results()
    errors = [f for f in results.findings if f.status is FindingStatus.ERROR]
    text = renderer(fmt)(errors_as_passes(results), "en")
    if fmt != "actionplan":  # the action plan lists gaps only: a pass is not in it
        assert all(f.check in text for f in errors)  # the check is still named...
    assert not any(error_shown(fmt, text, f, "en") for f in errors)  # ...but not as an error


def test_every_format_and_language_from_one_results_json(tmp_path: Path) -> None:
    source = tmp_path / "results.json"
    source.write_text(make_results().model_dump_json(indent=2))
    for fmt in FORMATS:
        for lang in ("nl", "en"):
            out = tmp_path / f"{fmt}.{lang}"
            result = CliRunner().invoke(
                main, ["report", str(source), "--format", fmt, "--lang", lang, "-o", str(out)]
            )
            assert result.exit_code == 0, (fmt, lang, result.output)
            assert out.stat().st_size > 200, (fmt, lang)
    nl, en = (tmp_path / "html.nl").read_text(), (tmp_path / "html.en").read_text()
    assert '<html lang="nl"' in nl and '<html lang="en"' in en


def test_report_of_a_file_that_is_not_results_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('{"schema_version": "1.0", "tool": {}}')
    result = CliRunner().invoke(main, ["report", str(bad), "--format", "html"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "results.json" in result.output


def test_scan_sarif_validates_against_the_oasis_schema(hostile: Results) -> None:
    import jsonschema

    from tests.conftest import REPO

    schema = json.loads((REPO / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(renderer("sarif")(hostile, "nl"))
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)

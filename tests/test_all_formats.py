"""Every report format from one results.json, in both languages: hostile content stays inert,
probe errors are named, and the command line renders each one."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.report import FORMATS, renderer
from cyberstd.results import FindingStatus, Results
from tests.report_formats import make_results

LONG = "A" * 100_000
JSON_FORMATS = {"json", "oscal", "sarif"}


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
    elif fmt == "html":
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    elif fmt in ("csv", "csv-semicolon"):
        rows = list(
            csv.reader(
                io.StringIO(text.lstrip("\ufeff")), delimiter=";" if "semicolon" in fmt else ","
            )
        )
        for row in rows:
            for cell in row:
                assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
    elif fmt == "md":
        assert "<script>" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_probe_errors_are_named_in_every_format(fmt: str) -> None:
    results = make_results()
    errors = [f for f in results.findings if f.status is FindingStatus.ERROR]
    assert errors
    text = renderer(fmt)(results, "en")
    for f in errors:
        assert f.check in text, (fmt, f.check)


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

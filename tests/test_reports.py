"""Reports from results.json: Markdown in both languages, terminal summary, hostile text kept inert."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from cyberstd.cli import main
from cyberstd.report.markdown import render as render_md
from cyberstd.report.terminal import summary
from cyberstd.results import Results

HOSTILE = "<script>alert(1)</script> | **bold** [red]x[/red] \x1b[31mred\x1b[0m `code`"


def scan(root: Path, school: Path, out: Path, *extra: str) -> Results:
    result = CliRunner().invoke(
        main, ["--root", str(root), "scan", str(school), "--out", str(out), "-q", *extra]
    )
    assert result.exit_code in (0, 1, 3), result.output
    return Results.model_validate_json((out / "results.json").read_text())


def make_hostile(root: Path) -> None:
    checks = root / "checks" / "mini.yaml"
    text = checks.read_text().replace(
        'message: "the thing is wrong"', f"message: {json.dumps(HOSTILE)}"
    )
    checks.write_text(text)


def test_markdown_in_both_languages(mini_root: Path, school_dir: Path, tmp_path: Path) -> None:
    results = scan(mini_root, school_dir, tmp_path / "out")
    nl, en = render_md(results, "nl"), render_md(results, "en")
    assert "## Niveau 1" in nl and "Bereikt niveau" in nl and "niet in orde" in nl
    assert "## Level 1" in en and "Level reached" in en and "non-compliant" in en
    assert "Herstel het ding." in nl and "Repair the thing." in en
    # two action lists: technical gaps naming check and target, then attestations by level
    top = en.split("## Fix first")[1].split("## Still to attest")[0]
    assert "`mini.bad` @ `www.school.test`: the thing is wrong" in top
    assert "What next: Repair the thing." in top and "A2" not in top
    attest = en.split("## Still to attest")[1].split("## Level 1")[0]
    assert attest.index("**A2** (level 1)") < attest.index("**B2** (level 2)")
    assert "B1" not in attest
    # what blocks the next level, and the honest headline
    assert (
        "## What stands between the school and level 1\n\n- **A2** Title A2: attestation needed\n"
        in en
    )
    assert (
        "- **Assessed:** 2 of 4 controls" in en
        and "- **Score over what was assessed:** 50.0%" in en
    )
    assert "- **Beoordeeld:** 2 van 4 maatregelen" in nl and "50,0\u00a0%" in nl
    assert f"cyberstd attest {school_dir.name}" in en or f"cyberstd attest {school_dir}" in en


def test_hostile_text_is_inert_in_markdown(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    make_hostile(mini_root)
    md = render_md(scan(mini_root, school_dir, tmp_path / "out"), "en")
    assert "<script>" not in md
    assert "\\<script\\>" in md
    assert "\x1b" not in md
    assert "\\| \\*\\*bold\\*\\*" in md


def test_hostile_text_is_inert_in_terminal(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    make_hostile(mini_root)
    results = scan(mini_root, school_dir, tmp_path / "out")
    results.school.name = "[bold red]Evil[/bold red] \x1b[31mschool"
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(summary(results, "en"))
    text = buffer.getvalue()
    assert "[bold red]Evil[/bold red]" in text
    assert "\x1b" not in text
    assert "Level reached" in text


def test_report_command_rerenders(mini_root: Path, school_dir: Path, tmp_path: Path) -> None:
    scan(mini_root, school_dir, tmp_path / "out")
    out = tmp_path / "again.md"
    result = CliRunner().invoke(
        main,
        [
            "report",
            str(tmp_path / "out" / "results.json"),
            "--format",
            "md",
            "--lang",
            "en",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# MINI gap report: Test School")


def test_report_refuses_what_is_not_results(tmp_path: Path) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('{"hello": "world"}')
    result = CliRunner().invoke(main, ["report", str(bad)])
    assert result.exit_code == 2
    assert "not a cyberstd results file" in result.output
    assert "Traceback" not in result.output


def test_incomplete_run_is_said(mini_root: Path, school_dir: Path, tmp_path: Path) -> None:
    checks = mini_root / "checks" / "mini.yaml"
    checks.write_text(
        checks.read_text().replace("params: {outcome: pass}", "params: {outcome: error}")
    )
    md = render_md(scan(mini_root, school_dir, tmp_path / "out"), "en")
    assert "this report is incomplete" in md


def test_the_command_line_offers_every_report_format() -> None:
    from cyberstd.cli.report import REPORT_FORMATS
    from cyberstd.report import FORMATS, SUFFIX

    assert sorted(REPORT_FORMATS) == sorted(FORMATS)
    assert len(set(SUFFIX.values())) == len(SUFFIX)  # no two formats write the same file


def test_a_large_results_file_is_reported_and_another_schema_refused(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    results = scan(mini_root, school_dir, tmp_path / "out")
    finding = results.findings[0]
    # about 12 MB: an 800-host school's results, beyond the 5 MiB limit of YAML inputs
    many = [
        finding.model_copy(update={"id": f"{finding.check}@host{i}", "evidence": {"x": "y" * 2000}})
        for i in range(6000)
    ]
    many.extend(f for f in results.findings if f.id != finding.id)  # the controls name them
    many.append(finding)
    big = tmp_path / "big.json"
    big.write_text(results.model_copy(update={"findings": many}).model_dump_json(), "utf-8")
    assert big.stat().st_size > 10 * 1024 * 1024
    done = CliRunner().invoke(main, ["report", str(big), "--format", "csv"])
    assert done.exit_code == 0, done.output[-500:]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    for version, said in (
        ("2.0", "schema_version '2.0' is not supported"),
        (None, "no schema_version"),
    ):
        if version is None:
            data.pop("schema_version")
        else:
            data["schema_version"] = version
        other = tmp_path / "other.json"
        other.write_text(json.dumps(data), "utf-8")
        for command in (["report", str(other)], ["diff", str(other), str(other)]):
            done = CliRunner().invoke(main, command)
            assert done.exit_code == 2 and said in done.output, done.output
            assert f"{other}:1:1: error[results]" in done.output

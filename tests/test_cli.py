"""Command line: exit codes, bad input with clear messages and no traceback, attest and init."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from cyberstd.clock import Clock
from cyberstd.registry import ProbeContext
from cyberstd.results import ControlStatus
from cyberstd.runner import evaluate, execute, make_plan
from cyberstd.school import load_school

# The day validate judges the dated files below as of: no verdict depends on the day tests run.
AS_OF = "2026-11-29"


def cli(root: Path, *args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(main, ["--root", str(root), *args], input=input)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.exception
    return result


def test_validate_ok(mini_root: Path, school_dir: Path) -> None:
    result = cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


BAD_SCHOOL_FILES = {
    "malformed": ("school.yaml", b"school:\n  id: x\n  name: [unclosed\n", "yaml-syntax"),
    "duplicate": ("school.yaml", b"school:\n  id: x\n  name: A\n  name: B\n", "duplicate-key"),
    "empty": ("school.yaml", b"", "empty"),
    "binary": ("school.yaml", bytes(range(256)), "binary"),
    "latin1": ("school.yaml", b"school:\n  id: x\n  name: \xe9cole\n", "encoding"),
    "huge": ("school.yaml", b"#" * (5 * 1024 * 1024 + 1), "too-large"),
    "unknown-control": (
        "attestations.yaml",
        b"attestations:\n  - control: A3\n    answer: implemented\n    explanation: x\n"
        b"    attested_by: me\n    date: 2026-01-01\n    review_by: 2027-01-01\n",
        "unknown-id",
    ),
    "waiver-no-expiry": (
        "waivers.yaml",
        b"waivers:\n  - control: A1\n    reason: later\n    approved_by: board\n",
        "missing-field",
    ),
    "waiver-no-reason": (
        "waivers.yaml",
        b"waivers:\n  - control: A1\n    approved_by: board\n    expires: 2027-01-01\n",
        "missing-field",
    ),
    "impossible-date": (
        "waivers.yaml",
        b"waivers:\n  - control: A1\n    reason: r\n    approved_by: b\n    expires: 2027-02-30\n",
        "date",
    ),
    "unknown-field": ("school.yaml", b"school:\n  id: x\n  name: A\n  nmae: B\n", "unknown-field"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCHOOL_FILES))
def test_bad_school_input_exits_2_with_position(
    mini_root: Path, school_dir: Path, case: str
) -> None:
    name, content, code = BAD_SCHOOL_FILES[case]
    (school_dir / name).write_bytes(content)
    for command in (
        ["validate", str(school_dir), "--as-of", AS_OF],
        ["scan", str(school_dir), "--out", str(school_dir / "out"), "--as-of", AS_OF],
    ):
        result = cli(mini_root, *command)
        assert result.exit_code == 2, result.output
        assert f"{name}:" in result.output and f"error[{code}]" in result.output
    assert not (school_dir / "out").exists()


def test_unknown_control_suggests(mini_root: Path, school_dir: Path) -> None:
    (school_dir / "attestations.yaml").write_bytes(
        BAD_SCHOOL_FILES["unknown-control"][1].replace(b"A3", b"a1")
    )
    result = cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF)
    assert "did you mean 'A1'?" in result.output


def test_missing_school_yaml(mini_root: Path, tmp_path: Path) -> None:
    result = cli(mini_root, "scan", str(tmp_path))
    assert result.exit_code == 2
    assert "school.yaml not found" in result.output


def test_unknown_profile(mini_root: Path, school_dir: Path) -> None:
    result = cli(mini_root, "scan", str(school_dir), "--profile", "mini-al")
    assert result.exit_code == 2
    assert (
        "unknown profile 'mini-al'" in result.output and "did you mean 'mini-all'" in result.output
    )


def test_all_problems_reported_at_once(mini_root: Path, school_dir: Path) -> None:
    (school_dir / "waivers.yaml").write_bytes(BAD_SCHOOL_FILES["waiver-no-expiry"][1])
    (school_dir / "attestations.yaml").write_bytes(BAD_SCHOOL_FILES["unknown-control"][1])
    result = cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF)
    assert "waivers.yaml" in result.output and "attestations.yaml" in result.output
    assert "2 problems found" in result.output


def test_catalog_problems(mini_root: Path, school_dir: Path) -> None:
    checks = mini_root / "checks" / "mini.yaml"
    text = checks.read_text().replace(
        "params: {outcome: pass}", "params: {outcome: maybe, colour: red}"
    )
    text = text.replace(
        "probe: test.static\n    params: {outcome: error}",
        "probe: test.statik\n    params: {outcome: error}",
    )
    checks.write_text(text)
    mapping = mini_root / "standards" / "mini" / "mapping.yaml"
    mapping.write_text(mapping.read_text().replace("checks: [mini.ok]", "checks: [mini.okay]"))
    result = cli(mini_root, "validate", "--as-of", AS_OF)
    assert result.exit_code == 2
    out = result.output
    assert "error[invalid-params]: parameter 'outcome'" in out
    assert "unknown parameter 'colour'" in out
    assert "unknown probe 'test.statik' (did you mean 'test.static'?)" in out
    assert "mapping.yaml:" in out and "unknown check 'mini.okay' (did you mean 'mini.ok'?)" in out


def test_scan_writes_results_and_report(mini_root: Path, school_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli(mini_root, "scan", str(school_dir), "--out", str(out), "--lang", "en")
    assert result.exit_code == 1  # B1 fails
    data = json.loads((out / "results.json").read_text())
    for key in ("schema_version", "tool", "run", "school", "summary", "controls", "findings"):
        assert key in data
    assert data["summary"]["level_reached"] == 0
    report = (out / "report.en.md").read_text()
    assert "## Level 1" in report and "B1" in report and "Repair the thing." in report
    assert "Level reached" in result.output


def test_fail_on_and_incomplete_exit_codes(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    out = str(tmp_path / "o")
    assert (
        cli(mini_root, "scan", str(school_dir), "--out", out, "-q", "--fail-on", "none").exit_code
        == 0
    )
    checks = mini_root / "checks" / "mini.yaml"
    checks.write_text(
        checks.read_text().replace("params: {outcome: fail,", "params: {outcome: pass,")
    )
    # B1 passes now; A2 and B2 are not assessed
    assert cli(mini_root, "scan", str(school_dir), "--out", out, "-q").exit_code == 0
    assert (
        cli(
            mini_root, "scan", str(school_dir), "--out", out, "-q", "--fail-on", "not_assessed"
        ).exit_code
        == 1
    )
    checks.write_text(
        checks.read_text().replace("params: {outcome: pass}", "params: {outcome: error}")
    )
    assert cli(mini_root, "scan", str(school_dir), "--out", out, "-q").exit_code == 3


def test_attest_round_trip_keeps_comments(mini_root: Path, school_dir: Path) -> None:
    evidence = school_dir / "evidence" / "policy.pdf"
    evidence.parent.mkdir()
    evidence.write_bytes(b"%PDF-1.4 policy")
    (school_dir / "attestations.yaml").write_text(
        "# Our attestations, kept by the ICT coordinator\nattestations:\n"
        "  - control: A1  # reviewed yearly\n    answer: partially\n    explanation: Draft only.\n"
        "    attested_by: Jan\n    date: 2026-01-05\n    review_by: 2027-01-05\n"
    )
    result = cli(
        mini_root,
        "attest",
        str(school_dir),
        "A2",
        "--answer",
        "implemented",
        "--explanation",
        "Inventory kept in the spreadsheet.",
        "--by",
        "An Peeters, director",
        "--date",
        "2026-11-01",
        "--evidence",
        str(evidence),
    )
    assert result.exit_code == 0, result.output
    text = (school_dir / "attestations.yaml").read_text()
    assert text.startswith("# Our attestations, kept by the ICT coordinator\n")
    assert "  - control: A1  # reviewed yearly\n" in text
    assert (
        "date: 2026-01-05" in text
        and "date: 2026-11-01" in text
        and "review_by: 2027-11-01" in text
    )
    assert hashlib.sha256(b"%PDF-1.4 policy").hexdigest() in text
    assert cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF).exit_code == 0
    # editing the evidence afterwards is caught: that attestation stops counting, nothing else
    evidence.write_bytes(b"%PDF-1.4 policy, edited")
    result = cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "notice[evidence-changed]" in result.output and "evidence/policy.pdf" in result.output
    assert "--rehash" in result.output
    catalog, _ = load_catalog(mini_root)
    folder, problems = load_school(school_dir, catalog, today=dt.date.fromisoformat(AS_OF))
    assert problems == [] and folder is not None and set(folder.void) == {"A2"}
    plan = make_plan(catalog, folder)
    clock = Clock.at(dt.date.fromisoformat(AS_OF))
    results = evaluate(plan, execute(plan, ProbeContext(clock=clock)), clock=clock)
    a2 = next(c for c in results.controls if c.id == "A2")
    assert a2.status is ControlStatus.NOT_ASSESSED and a2.attestation is not None
    assert a2.attestation.void is not None and "changed" in a2.attestation.void
    a1 = next(c for c in results.controls if c.id == "A1")
    assert a1.attestation is not None and a1.attestation.void is None
    # after review, --rehash records the new file and the attestation counts again
    result = cli(mini_root, "attest", str(school_dir), "A2", "--rehash")
    assert result.exit_code == 0 and "1 evidence file(s) rehashed" in result.output
    assert (
        hashlib.sha256(b"%PDF-1.4 policy, edited").hexdigest()
        in (school_dir / "attestations.yaml").read_text()
    )
    result = cli(mini_root, "validate", str(school_dir))  # attested again today
    assert result.exit_code == 0 and "notice" not in result.output, result.output


def test_attest_prompts_and_replaces(mini_root: Path, school_dir: Path) -> None:
    before = Clock.system().today
    result = cli(
        mini_root, "attest", str(school_dir), "A2", input="partially\nHalf done.\nJan, ICT\n"
    )
    assert result.exit_code == 0, result.output
    result = cli(
        mini_root,
        "attest",
        str(school_dir),
        "A2",
        "--answer",
        "implemented",
        "--explanation",
        "Done.",
        "--by",
        "Jan",
    )
    assert result.exit_code == 0
    text = (school_dir / "attestations.yaml").read_text()
    assert text.count("control: A2") == 1 and "answer: implemented" in text
    # the day in Flanders, as the run's clock reads it (not the machine's UTC date)
    assert f"date: {Clock.system().today}" in text or f"date: {before}" in text


def test_attest_refuses_unknown_control(mini_root: Path, school_dir: Path) -> None:
    result = cli(mini_root, "attest", str(school_dir), "a2", "--answer", "implemented")
    assert result.exit_code == 2
    assert "unknown control 'a2' (did you mean 'A2'?)" in result.output
    assert not (school_dir / "attestations.yaml").exists()


def test_attest_without_input_fails_cleanly(mini_root: Path, school_dir: Path) -> None:
    result = cli(mini_root, "attest", str(school_dir), "A2", input="")
    assert result.exit_code == 2
    assert "give --answer, --explanation and --by" in result.output


def test_init_scaffold_validates(mini_root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "new-school"
    result = cli(mini_root, "init", str(folder), "--name", "GO! Atheneum Voorbeeld")
    assert result.exit_code == 0
    assert "# school.yaml" in (folder / "school.yaml").read_text()
    text = (
        (folder / "school.yaml").read_text().replace("profile: grip-basis-2", "profile: mini-all")
    )
    (folder / "school.yaml").write_text(text)
    assert cli(mini_root, "validate", str(folder), "--as-of", AS_OF).exit_code == 0
    again = cli(mini_root, "init", str(folder))
    assert again.exit_code == 2 and "already exists" in again.output


def test_module_entry_point_runs_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cyberstd", "scan", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "school folder not found" in proc.stderr


MORE_BAD = {
    "alias-bomb": (
        "school.yaml",
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n"
                for p, n in zip("abcdefg", "bcdefgh", strict=True)
            )
            + "school: {id: x, name: y}\n"
        ).encode(),
        "alias-bomb",
    ),
    "host-bits": (
        "school.yaml",
        b"school: {id: x, name: y}\nscope:\n  - ranges: [10.20.0.1/16]\n    authorized_by: me\n    date: 2026-01-01\n",
        "invalid",
    ),
    "duplicate-waiver": (
        "waivers.yaml",
        b"waivers:\n  - {control: A1, reason: r, approved_by: b, expires: 2027-01-01}\n"
        b"  - {control: A1, reason: s, approved_by: b, expires: 2027-02-01}\n",
        "duplicate-id",
    ),
    "future-approval": (
        "waivers.yaml",
        b"waivers:\n  - {control: A1, reason: r, approved_by: b, approved: 2999-01-01, expires: 2999-02-01}\n",
        "date",
    ),
    "expiry-before-approval": (
        "waivers.yaml",
        b"waivers:\n  - {control: A1, reason: r, approved_by: b, approved: 2026-05-01, expires: 2026-04-01}\n",
        "invalid",
    ),
    "review-before-date": (
        "attestations.yaml",
        b"attestations:\n  - {control: A1, answer: implemented, explanation: x, attested_by: me,"
        b" date: 2026-05-01, review_by: 2026-04-01}\n",
        "invalid",
    ),
    "wrong-type": ("school.yaml", b"school: {id: x, name: y}\nhosts: yes\n", "type"),
}


@pytest.mark.parametrize("case", sorted(MORE_BAD))
def test_more_bad_input(mini_root: Path, school_dir: Path, case: str) -> None:
    name, content, code = MORE_BAD[case]
    (school_dir / name).write_bytes(content)
    result = cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    assert f"{name}:" in result.output and f"error[{code}]" in result.output, result.output
    assert "lax-or-strict" not in result.output


@pytest.mark.parametrize("value", ["banana", "127.0.0.1:99999", "127.0.0.1:x", "[::1"])
def test_bad_resolver_option(mini_root: Path, school_dir: Path, tmp_path: Path, value: str) -> None:
    result = cli(
        mini_root, "scan", str(school_dir), "--out", str(tmp_path / "o"), "--resolver", value
    )
    assert result.exit_code == 2
    assert "--resolver" in result.output


def test_rate_limited_scan_still_completes(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    result = cli(
        mini_root, "scan", str(school_dir), "--out", str(tmp_path / "o"), "-q", "--max-rate", "50"
    )
    assert result.exit_code == 1
    assert (tmp_path / "o" / "results.json").is_file()


def test_dkim_selectors_of_a_declared_domain_are_valid(mini_root: Path, school_dir: Path) -> None:
    with (school_dir / "school.yaml").open("a") as fh:
        fh.write("mail:\n  dkim_selectors:\n    school.test: [s2026, selector1]\n")
    result = cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    with (school_dir / "school.yaml").open("a") as fh:
        fh.write("    other: [bad selector]\n")
    refused = cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF)
    assert refused.exit_code == 2
    assert "school.yaml:" in refused.output and "'bad selector'" in refused.output


def test_dkim_selectors_for_an_undeclared_domain(mini_root: Path, school_dir: Path) -> None:
    with (school_dir / "school.yaml").open("a") as fh:
        fh.write("mail:\n  dkim_selectors:\n    school.tset: [s1]\n")
    result = cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF)
    assert result.exit_code == 2
    assert "error[unknown-id]" in result.output and "did you mean 'school.test'" in result.output

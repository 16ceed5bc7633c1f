"""A waiver accepts a known gap; one that cannot take effect says why, in validate before any
scan and in results.json and every report after it, never vanishing without a word."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.results import Results, WaiverRecord

AS_OF = "2026-11-29"
WAIVERS = """\
waivers:
  - control: B1   # non-compliant (mini.bad fails): accepted
    reason: Replacement ordered
    approved_by: Board
    expires: 2027-06-30
  - control: A2   # not assessed: nothing known to accept
    reason: Later
    approved_by: Board
    expires: 2027-06-30
  - control: A1   # compliant: not needed
    reason: Just in case
    approved_by: Board
    expires: 2027-06-30
  - check: mini.ok   # passes: did not fail
    reason: Noise
    approved_by: Board
    expires: 2027-06-30
  - control: B2   # expired before the day judged
    reason: Was planned
    approved_by: Board
    expires: 2026-09-30
  - check: mini.broken   # mapped to no control of the profile: never runs
    reason: Flaky
    approved_by: Board
    expires: 2027-06-30
"""


def _cli(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--root", str(root), *args])
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.exit_code, result.output


def test_validate_names_each_waiver_that_cannot_take_effect(
    mini_root: Path, school_dir: Path
) -> None:
    (school_dir / "waivers.yaml").write_text(WAIVERS)
    code, output = _cli(mini_root, "validate", str(school_dir), "--as-of", AS_OF)
    assert code == 0, output
    notices = [line for line in output.splitlines() if "notice[waiver-no-effect]" in line]
    assert len(notices) == 2, output
    expired, broken = notices
    assert "waivers.yaml:18:5:" in expired and "control B2" in expired
    assert "expired on 2026-09-30" in expired
    assert "waivers.yaml:22:5:" in broken
    assert "check mini.broken does not run in profile mini-all" in broken


def _scan(mini_root: Path, school_dir: Path, out: Path) -> Results:
    (school_dir / "waivers.yaml").write_text(WAIVERS)
    formats = ["md", "json", "html", "csv", "oscal", "sarif", "junit"]
    code, output = _cli(
        mini_root,
        "scan",
        str(school_dir),
        "--out",
        str(out),
        "--as-of",
        AS_OF,
        "-q",
        "--fail-on",
        "none",
        *[a for f in formats for a in ("--format", f)],
    )
    assert code == 0, output
    return Results.model_validate_json((out / "results.json").read_text(encoding="utf-8"))


def test_results_say_what_every_waiver_did(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    results = _scan(mini_root, school_dir, tmp_path / "out")
    effect = {w.scope: w for w in results.waivers}
    assert list(effect) == [
        "control B1",
        "control A2",
        "control A1",
        "check mini.ok",
        "control B2",
        "check mini.broken",
    ]

    def note(w: WaiverRecord) -> str:
        assert not w.applied and w.note is not None
        return w.note["en"]

    assert effect["control B1"].applied and effect["control B1"].note is None
    assert note(effect["control A2"]).startswith("the control is not assessed")
    assert note(effect["control A1"]) == "not needed: the control is compliant"
    assert note(effect["check mini.ok"]) == "check mini.ok did not fail (pass)"
    assert note(effect["control B2"]) == "expired on 2026-09-30; it no longer counts"
    assert note(effect["check mini.broken"]) == "check mini.broken did not run"
    assert effect["control A2"].note is not None
    assert effect["control A2"].note["nl"].startswith("de maatregel is niet beoordeeld")

    status = {c.id: c for c in results.controls}
    assert status["B1"].status == "waived"
    assert status["A2"].status == "not_assessed"  # the waiver does not hide the missing evidence
    assert status["A2"].waiver is not None and not status["A2"].waiver.applied
    assert "waiver by Board takes no effect: the control is not assessed" in status["A2"].reason


def test_every_report_shows_a_waiver_that_takes_no_effect(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _scan(mini_root, school_dir, out)
    md = (out / "report.nl.md").read_text(encoding="utf-8")
    assert "## Uitzonderingen (aanvaarde risico's)" in md
    assert (
        "maatregel B1: Replacement ordered (goedgekeurd door Board, tot 30 juni 2027): geldt" in md
    )
    assert "maatregel A2: Later" in md and "geldt niet: de maatregel is niet beoordeeld" in md
    assert "controle mini.broken: Flaky" in md and "controle mini.broken liep niet" in md

    html = (out / "report.nl.html").read_text(encoding="utf-8")
    assert "Uitzonderingen (aanvaarde risico&#39;s)" in html
    assert "geldt niet: de maatregel is niet beoordeeld" in html

    with (out / "report.nl.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["Maatregel"]: r for r in csv.DictReader(fh) if r["Soort"] == "maatregel"}
    assert rows["A2"]["Uitzondering geldt"].startswith("geldt niet: de maatregel is niet")
    assert rows["B1"]["Uitzondering geldt"] == "geldt"

    sarif = (out / "report.nl.sarif").read_text(encoding="utf-8")
    junit = (out / "report.nl.junit.xml").read_text(encoding="utf-8")
    oscal = json.loads((out / "report.nl.oscal.json").read_text(encoding="utf-8"))
    for text in (sarif, junit, json.dumps(oscal)):
        assert "takes no effect: the control is not assessed" in text or (
            "geldt niet: de maatregel is niet beoordeeld" in text
        )


def test_validate_names_a_waiver_on_a_check_that_will_give_no_verdict(tmp_path: Path) -> None:
    """The demo school has no pfSense export: a waiver on a pfSense check accepts nothing, and
    validate says so before any scan, as plan does."""
    import shutil

    from cyberstd.lab.timeshift import DEMO_DAY

    repo = Path(__file__).resolve().parents[1]
    folder = tmp_path / "school"
    shutil.copytree(repo / "examples" / "demo-school", folder)
    with (folder / "waivers.yaml").open("a", encoding="utf-8") as fh:
        fh.write(
            "  - check: pfsense.wan-pass-any\n    reason: Old firewall\n"
            "    approved_by: Board\n    expires: 2027-06-30\n"
        )
    lines = (folder / "waivers.yaml").read_text(encoding="utf-8").splitlines()
    at = lines.index("  - check: pfsense.wan-pass-any") + 1
    code, output = _cli(repo, "validate", str(folder), "--as-of", DEMO_DAY.isoformat())
    assert code == 0, output
    (notice,) = [line for line in output.splitlines() if "pfsense.wan-pass-any" in line]
    assert f"waivers.yaml:{at}:5: notice[waiver-no-effect]" in notice
    assert "will give no verdict: the school lists no export of kind pfsense" in notice

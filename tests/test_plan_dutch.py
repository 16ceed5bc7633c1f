"""What a coordinator reads in Dutch: `plan` (its text, and every sentence of plan --json in
both languages), a waiver that accepts a failed check in the reports, and the files the
command line says it wrote. The English stays as it was."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from cyberstd.clock import Clock
from cyberstd.errors import ProbeError
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.messages import msg
from cyberstd.planview import PlanView, describe, render
from cyberstd.results import Results
from cyberstd.runner import context_for, make_plan
from cyberstd.school import load_school
from tests.english import english_in

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo-school"
NL_ENV = {"LANG": "nl_BE.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
EN_ENV = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


def _school(tmp_path: Path) -> Path:
    """The demo school with a zone outside the authorised scope (refused), a zone too large to
    sweep (a note) and a DKIM selector declared."""
    folder = tmp_path / "school"
    shutil.copytree(DEMO, folder)
    school = folder / "school.yaml"
    text = school.read_text(encoding="utf-8")
    zones = "    description: Administration network (simulated)\n"
    scope = "  - ranges: [127.0.10.0/24, 127.0.20.0/24, 127.0.30.0/24]"
    assert zones in text and scope in text
    text = text.replace(
        zones,
        zones + "  - id: outside\n    kind: administration\n    cidr: 127.0.99.0/28\n"
        "  - id: big\n    kind: servers\n    cidr: 127.0.64.0/20\n",
    )
    text = text.replace(
        scope,
        "  - ranges: [127.0.10.0/24, 127.0.20.0/24, 127.0.30.0/24, 127.0.64.0/20]",
    )
    text += "\nmail:\n  dkim_selectors:\n    demo-school.test: [selector1]\n"
    school.write_text(text, encoding="utf-8")
    return folder


def _plan(folder: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        main,
        ["--root", str(REPO), "plan", str(folder), "--as-of", DEMO_DAY.isoformat(), *args],
        env=EN_ENV,
    )
    assert result.exit_code == 0, result.output
    return result


def test_the_plan_in_dutch_has_no_english_sentence(tmp_path: Path) -> None:
    output = _plan(_school(tmp_path), "--lang", "nl").output
    assert english_in(output) == []
    assert "Geweigerd door de scope (niet gescand):" in output
    assert (
        "127.0.99.0/28: buiten scope: bereik 127.0.99.0/28 ligt buiten elk toegestaan bereik"
        in output
    )
    assert "let op [inventory.unknown-devices]: zone big (127.0.64.0/20) heeft 4096 adressen" in (
        output
    )
    assert "poorten 21,22,23" in output
    assert "verklaringen gevraagd voor 42 maatregelen" in output


def test_the_plan_in_english_says_what_it_said(tmp_path: Path) -> None:
    lines = _plan(_school(tmp_path), "--lang", "en").output.splitlines()
    assert lines[0] == "profile secondary-school: grip up to level 6, 52 controls"
    assert "Refused by scope (not scanned):" in lines
    assert (
        "  inventory.unknown-devices         127.0.99.0/28: outside scope: range 127.0.99.0/28 "
        "lies outside every authorised range in school.yaml 'scope'; add it with authorized_by "
        "and date to scan it"
    ) in lines
    assert (
        "  note [segmentation.forbidden-reachable]: zone big (127.0.64.0/20) has 4096 "
        "addresses, more than max_sweep_addresses (256): not swept"
    ) in lines
    assert "  note [segmentation.forbidden-reachable]: pupils -> servers: nothing of the zone " \
        "lies in the authorised scope" in lines  # fmt: skip
    assert lines[-1] == "attestations asked for: 42 controls (16 recorded)"


def _both(value: Any, where: str) -> dict[str, str]:
    assert isinstance(value, dict) and set(value) == {"nl", "en"}, where
    assert value["nl"] and value["en"], where
    assert english_in(value["nl"]) == [], (where, value["nl"])
    return value


def _every_sentence(plan: dict[str, Any]) -> int:
    """Check every sentence field of plan --json; how many there were."""
    seen = 0
    for h in plan["hosts"]:
        if h["refused"] is not None:
            _both(h["refused"], f"hosts {h['name']}")
            seen += 1
    for key, field in (
        ("refused", "reason"),
        ("not_judged", "reason"),
        ("notes", "note"),
        ("excluded", "reason"),
    ):
        for entry in plan[key]:
            _both(entry[field], f"{key} {entry['check']}")
            seen += 1
    for u in plan["attestations"]["uncovered_parts"]:
        _both(u["title"], f"uncovered {u['control']}")
        seen += 1
    reaches = [r for c in plan["checks"] for r in c["reaches"]] + plan["ranges"]
    for r in reaches:  # a word the same in every language, or a sentence in both
        if isinstance(r["note"], dict):
            _both(r["note"], f"reach {r['what']}")
            seen += 1
        else:
            assert english_in(r["note"]) == [], r
    return seen


def test_plan_json_gives_every_sentence_in_dutch_and_english(tmp_path: Path) -> None:
    plan = json.loads(_plan(_school(tmp_path), "--json").output)
    assert _every_sentence(plan) > 30
    refused = {(r["check"], r["target"]): r["reason"] for r in plan["refused"]}
    reason = refused["inventory.unknown-devices", "127.0.99.0/28"]
    assert reason["en"].startswith("outside scope: range 127.0.99.0/28 lies outside")
    assert reason["nl"].startswith("buiten scope: bereik 127.0.99.0/28 ligt buiten")
    notes = [n["note"] for n in plan["notes"] if n["check"] == "inventory.unknown-devices"]
    assert notes == [
        {
            "nl": "zone big (127.0.64.0/20) heeft 4096 adressen, meer dan "
            "max_sweep_addresses (256): niet doorzocht",
            "en": "zone big (127.0.64.0/20) has 4096 addresses, more than "
            "max_sweep_addresses (256): not swept",
        }
    ]


def _view(folder: Path, day: dt.date) -> PlanView:
    """The plan of `folder`, loaded on the demo's day, as a scan on `day` would carry it out."""
    catalog, problems = load_catalog(REPO)
    assert not problems
    school, problems = load_school(folder, catalog, DEMO_DAY)
    assert school is not None and not problems, problems
    plan = make_plan(catalog, school)
    return describe(plan, context_for(school, clock=Clock.at(day), kinds=catalog.kinds))


def test_hosts_the_scope_no_longer_allows_are_refused_in_dutch(tmp_path: Path) -> None:
    """The authorisation of the demo's ranges ends on 31 August 2030: a day later every host is
    refused, and says why in both languages."""
    view = _view(_school(tmp_path), dt.date(2030, 9, 1))
    plan = view.to_json()
    _every_sentence(plan)
    refused = {h["name"]: h["refused"] for h in plan["hosts"]}
    www = refused["www.demo-school.test"]
    assert www["en"].startswith("www.demo-school.test (127.0.10.1) is an internal address")
    assert "expired on 2030-08-31" in www["en"] or "31 August 2030" in www["en"]
    assert www["nl"].startswith("www.demo-school.test (127.0.10.1) is een intern adres")
    nl = "\n".join(render(view, "nl"))
    assert "GEWEIGERD: www.demo-school.test (127.0.10.1) is een intern adres" in nl
    assert english_in(nl) == []
    en = "\n".join(render(view, "en"))
    assert "REFUSED: www.demo-school.test (127.0.10.1) is an internal address" in en


def test_a_preview_that_fails_says_why_in_dutch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cyberstd.planview as planview

    def fails(target: Any, params: Any, ctx: Any) -> Any:
        raise ProbeError(msg("segmentation.no-school"))

    real = planview.preview_for
    monkeypatch.setattr(
        planview,
        "preview_for",
        lambda probe: fails if probe == "segmentation.forbidden-reachable" else real(probe),
    )
    view = _view(DEMO, DEMO_DAY)
    (seg,) = [n for n in view.not_judged if n.check == "segmentation.forbidden-reachable"]
    said = msg("segmentation.no-school")
    assert (seg.en, seg.nl) == (said.render("en"), said.render("nl"))
    assert seg.nl != seg.en


# --- a waiver on a failed check ---------------------------------------------------------------

WAIVER = """\
waivers:
  - check: mini.bad
    reason: Vervanging besteld
    approved_by: Directie
    expires: 2027-06-30
"""


def _scan_waived(mini_root: Path, school_dir: Path, out: Path, lang: str) -> Results:
    (school_dir / "waivers.yaml").write_text(WAIVER, encoding="utf-8")
    formats = [a for f in ("md", "html", "csv", "junit") for a in ("--format", f)]
    result = CliRunner().invoke(
        main,
        ["--root", str(mini_root), "scan", str(school_dir), "--out", str(out), "--as-of",
         "2026-11-29", "-q", "--fail-on", "none", "--lang", lang, *formats],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return Results.model_validate_json((out / "results.json").read_text(encoding="utf-8"))


def test_a_waived_finding_shows_its_waiver_in_dutch(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    results = _scan_waived(mini_root, school_dir, out, "nl")
    (bad,) = [f for f in results.findings if f.check == "mini.bad"]
    assert bad.waived_by == "Directie"  # who approved it; the rest is in the waiver record

    md = (out / "report.nl.md").read_text(encoding="utf-8")
    assert (
        "controle mini.bad: Vervanging besteld (goedgekeurd door Directie, tot 30 juni 2027): "
        "geldt" in md
    )
    assert "risico aanvaard door Directie tot 30 juni 2027: Vervanging besteld" in md
    html = (out / "report.nl.html").read_text(encoding="utf-8")
    assert "Uitgezonderd door: Directie</p>" in html
    junit = (out / "report.nl.junit.xml").read_text(encoding="utf-8")
    assert "controle mini.bad: Vervanging besteld (goedgekeurd door" in junit, junit
    csv = (out / "report.nl.csv").read_text(encoding="utf-8-sig")
    assert (
        "uitzondering,B1,,controle mini.bad,,mini.bad,,,,,,,,,,,Directie,2027-06-30,nee,geldt,Vervanging besteld"
        in csv
    )
    for text in (md, html, junit, csv):
        assert "(until " not in text and "waived by" not in text
    assert "waived: " not in csv

    en = tmp_path / "en"
    _scan_waived(mini_root, school_dir, en, "en")
    md_en = (en / "report.en.md").read_text(encoding="utf-8")
    assert "check mini.bad: Vervanging besteld (approved by Directie, until 30 June 2027)" in md_en


def test_an_older_results_file_with_the_waiver_as_a_sentence_still_reports(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _scan_waived(mini_root, school_dir, out, "nl")
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    (bad,) = [f for f in data["findings"] if f["check"] == "mini.bad"]
    bad["waived_by"] = "Directie (until 2027-06-30): Vervanging besteld"
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    report = tmp_path / "report.html"
    result = CliRunner().invoke(
        main,
        ["report", str(old), "--format", "html", "-o", str(report)],
        env=EN_ENV,
    )
    assert result.exit_code == 0, result.output
    assert "Directie (until 2027-06-30): Vervanging besteld" in report.read_text("utf-8")


# --- what the command line wrote ---------------------------------------------------------------


def test_the_command_line_says_what_it_wrote_in_the_console_language(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    _scan_waived(mini_root, school_dir, tmp_path / "out", "nl")
    results = tmp_path / "out" / "results.json"
    target = tmp_path / "r.md"

    def report(env: dict[str, str], *args: str) -> str:
        done = CliRunner().invoke(main, ["report", str(results), "-o", str(target), *args], env=env)
        assert done.exit_code == 0, done.output
        return str(done.output)

    assert report(EN_ENV) == f"wrote {target}\n"  # report's default --lang is not the console's
    assert report(NL_ENV) == f"geschreven: {target}\n"
    assert report(EN_ENV, "--lang", "nl") == f"geschreven: {target}\n"
    assert report(NL_ENV, "--lang", "en") == f"wrote {target}\n"

    key = tmp_path / "key"
    done = CliRunner().invoke(main, ["keygen", "--out", str(key)], env=NL_ENV)
    assert done.exit_code == 0, done.output
    assert f"geschreven: {key} (privésleutel, niet versleuteld; hou hem geheim)" in done.output

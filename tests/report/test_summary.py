"""The board summary: plain language for the directeur and schoolbestuur, at most two A4 pages
in nl and en, each risk said once, effort classes and risk texts as data, accepted risks, the
trend against a previous run; and PDF printing through Chromium with clear errors."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from cyberstd.diff import compare
from cyberstd.messages import catalog
from cyberstd.report import pdf
from cyberstd.report.actions import fixes
from cyberstd.report.summary import EFFORTS, board_data, render, risks
from cyberstd.results import ControlStatus, FindingStatus, Results, Severity
from tests.conftest import REPO
from tests.report.conftest import HOSTILE, parse
from tests.report.printing import assert_a4, needs_chromium, printed, visible_text

# Words of English sentences that Dutch does not use (not "is", "of", "in", "op": Dutch too).
ENGLISH = re.compile(
    r"\b(the|and|with|not|has|have|was|were|which|this|that|from|your|you|for|found|could|"
    r"been|their|there|risks|control|controls|level|still)\b",
    re.IGNORECASE,
)


def all_failing(results: Results) -> Results:
    """Every finding fails and every control is a gap; a dozen waivers, none of them applied."""
    r = results.model_copy(deep=True)
    for f in r.findings:
        f.status = FindingStatus.FAIL
        f.waived_by = None
        f.controls = f.controls or f.advises
    for c in r.controls:
        c.status = ControlStatus.NON_COMPLIANT
        c.waiver = None
    template = r.waivers[0]
    r.waivers = [
        template.model_copy(update={"scope": f"control {c.id}", "applied": False})
        for c in r.controls[:12]
    ]
    return r


def school_texts(results: Results) -> list[str]:
    """What the school wrote itself (its name, waiver reasons, who approved them): in the
    language the school chose, not ours."""
    out = [results.school.name]
    for w in results.waivers:
        out += [w.reason, w.approved_by]
    return out


def ours(html: str, results: Results) -> str:
    text = visible_text(html)
    for own in sorted(school_texts(results), key=len, reverse=True):
        text = text.replace(re.sub(r"\s+", " ", own).strip(), " ")
    return text


# --------------------------------------------------------------------------- content


def test_the_summary_says_where_the_school_stands(demo_results: Results) -> None:
    page = parse(render(demo_results, "en"))
    standing = page.by_id("standing").text()
    assert "has not yet fully reached any level" in standing
    assert "The target is level 6" in standing
    assert "For level 1, 1 control is still missing: Authentication policy." in standing
    assert page.by_id("school").text() == "Sint-Voorbeeldinstituut (demo)"
    csp = [m for m in page.find_all("meta") if m.attrs.get("http-equiv")]
    assert "script-src 'none'" in csp[0].attrs["content"]
    assert "default-src 'none'" in csp[0].attrs["content"]


def test_five_risks_in_plain_words_each_said_once(demo_results: Results) -> None:
    r = all_failing(demo_results)
    found = risks(r, "nl")
    keys = [x.key for x in found]
    assert len(keys) == len(set(keys))
    # one risk per group, however many checks and hosts are behind it
    assert len(found) < len({(f.finding.check, f.finding.target) for f in fixes(r)})
    page = parse(render(r, "nl"))
    items = page.by_id("risks").find_all("li")
    assert len(items) == 5
    assert [li.attrs["data-risk"] for li in items] == keys[:5]
    severities = [Severity(x.severity).rank for x in found]
    assert severities == sorted(severities, reverse=True)
    shown = page.by_id("risks").text()
    checks = {f.check for f in r.findings}
    assert not [c for c in checks if c in shown]  # no check ids, only words
    assert "Ernst: kritiek" in shown and "Werk om te herstellen: " in shown


def test_a_check_on_many_hosts_is_one_risk_with_its_places(demo_results: Results) -> None:
    r = demo_results.model_copy(deep=True)
    before = risks(r, "en")
    first = fixes(r)[0].finding
    for host in ("a.school.test", "b.school.test", "c.school.test"):
        copy = first.model_copy(update={"id": f"{first.check}@{host}", "target": host})
        copy.evidence = {}
        r.findings.append(copy)
        for c in r.controls:
            if first.id in c.finding_ids:
                c.finding_ids.append(copy.id)
    after = risks(r, "en")
    assert [x.key for x in after] == [x.key for x in before]
    assert after[0].places == before[0].places + 3


def test_a_check_without_a_text_of_its_own_says_its_controls_title(
    demo_results: Results,
) -> None:
    r = demo_results.model_copy(deep=True)
    first = fixes(r)[0].finding
    first.check = "custom.thing"
    found = risks(r, "nl")
    control = fixes(r)[0].controls[0].title["nl"]
    generic = next(x for x in found if x.key == "check:custom.thing")
    assert generic.problem == f"Zwakke plek bij: {control}"
    assert control in generic.text and generic.effort == "medium"


def test_effort_per_risk_and_what_fixing_costs(demo_results: Results) -> None:
    page = parse(render(all_failing(demo_results), "en"))
    rows = page.by_id("cost").find_all("tr")
    assert [row.attrs["data-effort"] for row in rows] == list(EFFORTS)
    assert rows[0].text().startswith("small (about an hour)")
    assert "a statement from the school" in page.by_id("attest").text()


def test_accepted_risks_applied_or_not_with_why(demo_results: Results) -> None:
    page = parse(render(demo_results, "nl"))
    accepted = page.by_id("accepted").find_all("li")
    assert len(accepted) == len(demo_results.waivers)
    texts = [li.text() for li in accepted]
    assert any(t.endswith(": geldt") for t in texts)
    expired = next(w for w in demo_results.waivers if not w.applied)
    assert expired.note is not None
    assert any(f"geldt niet: {expired.note['nl']}" in t for t in texts)
    assert any("(maatregel O12)" in t for t in texts)
    assert "No risks accepted" not in page.by_id("accepted").text()


def test_the_trend_against_a_previous_run(demo_results: Results) -> None:
    worse = all_failing(demo_results)
    page = parse(render(worse, "nl", previous=demo_results))
    trend = page.by_id("trend")
    rows = [[c.text() for c in tr.find_all("td")] for tr in trend.find_all("tr")][1:]
    assert rows[1][0] != rows[1][1] and rows[1][1] == "0,0\u00a0%"  # score then and now
    worse_now = len(compare(demo_results, worse).regressions)
    assert worse_now > 40
    assert f"{worse_now} maatregelen zijn achteruitgegaan" in trend.text()
    better = parse(render(demo_results, "en", previous=worse)).by_id("trend").text()
    assert "controls have been put in place since" in better
    assert "trend" not in {e.attrs.get("id") for e in parse(render(demo_results, "en")).iter()}


def test_an_incomplete_run_is_said(demo_results: Results) -> None:
    r = demo_results.model_copy(deep=True)
    r.findings[0].status = FindingStatus.ERROR
    assert "1 check could not be run" in parse(render(r, "en")).by_id("incomplete").text()


@pytest.mark.parametrize("case", ["demo", "all failing"])
def test_no_english_sentence_in_the_dutch_summary(demo_results: Results, case: str) -> None:
    r = demo_results if case == "demo" else all_failing(demo_results)
    previous = all_failing(demo_results) if case == "demo" else demo_results
    nl = ours(render(r, "nl", previous=previous), r)
    assert not ENGLISH.findall(nl), ENGLISH.findall(nl)
    en = ours(render(r, "en", previous=previous), r)
    assert len(ENGLISH.findall(en)) > 20  # the test would see English


def test_hostile_school_text_stays_inert(demo_results: Results) -> None:
    r = all_failing(demo_results)
    r.school.name = HOSTILE["script"] + HOSTILE["bidi"]
    r.waivers[0].reason = HOSTILE["close"]
    r.waivers[0].approved_by = HOSTILE["img"]
    html = render(r, "en")
    assert "<script" not in html and "<img" not in html and "\u202e" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;evil\\u202etxt.exe" in html
    parse(html)  # well formed: nothing was closed that it did not open


# --------------------------------------------------------------------------- the data


def test_every_check_has_an_effort_and_a_risk_in_words() -> None:
    cat, problems = load_catalog(REPO)
    assert problems == []
    data = board_data(REPO)
    texts = catalog()
    named = set()
    for check in cat.checks:
        assert check in data.checks or check.split(".")[0] in data.families, check
        assert data.effort(check) in EFFORTS, check
        key = data.risk(check)
        assert key is not None, f"{check}: no board.risk text"
        named.add(key)
    for entry in data.checks.values():
        assert entry.get("effort") in EFFORTS and entry.get("risk") in named, entry
    written = {k.removeprefix("board.risk.") for k in texts if k.startswith("board.risk.")}
    assert written - named == {"generic"}  # no text that no check uses


# --------------------------------------------------------------------------- PDF


@needs_chromium
@pytest.mark.timeout(300)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_summary_prints_on_at_most_two_a4_pages(demo_results: Results, lang: str) -> None:
    worst = all_failing(demo_results)
    worst.findings[0].status = FindingStatus.ERROR
    worst.school.name = "Gemeentelijke Basisschool De Regenboog, vestiging Sint-Amandsberg " * 3
    for results, previous in ((demo_results, None), (worst, demo_results)):
        sizes = printed(render(results, lang, previous), lang)
        assert_a4(sizes)
        assert len(sizes) <= 2, (lang, len(sizes))


@needs_chromium
@pytest.mark.timeout(300)
def test_report_and_scan_write_the_summary_as_pdf(demo_results: Results, tmp_path: Path) -> None:
    from tests.report.printing import page_sizes

    source = tmp_path / "results.json"
    source.write_text(demo_results.model_dump_json())
    old = tmp_path / "old.json"
    old.write_text(all_failing(demo_results).model_dump_json())
    out = tmp_path / "summary.pdf"
    args = ["report", str(source), "--format", "summary", "--pdf", "-o", str(out)]
    result = CliRunner().invoke(main, [*args, "--previous", str(old), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert 1 <= len(page_sizes(out.read_bytes())) <= 2
    scan_out = tmp_path / "scan"
    demo = REPO / "examples" / "demo-school"
    scan = ["--root", str(REPO), "scan", str(demo), "--profile", "ci-baseline", "-q"]
    scan += ["--out", str(scan_out), "--format", "summary", "--format", "html", "--pdf"]
    scan += ["--previous", str(old), "--as-of", "2026-11-29"]
    result = CliRunner().invoke(main, scan)
    assert result.exit_code in (0, 1), result.output
    names = sorted(p.name for p in scan_out.iterdir())
    assert names == [
        "report.nl.html",
        "report.nl.pdf",
        "report.nl.summary.html",
        "report.nl.summary.pdf",
        "results.json",
    ]
    assert "Sinds de vorige scan" in (scan_out / "report.nl.summary.html").read_text()


def test_pdf_options_are_checked(demo_results: Results, tmp_path: Path) -> None:
    source = tmp_path / "results.json"
    source.write_text(demo_results.model_dump_json())
    other = tmp_path / "other.json"
    elsewhere = demo_results.model_copy(deep=True)
    elsewhere.school.id = "other-school"
    other.write_text(elsewhere.model_dump_json())
    cases = [
        (["--format", "md", "--pdf", "-o", str(tmp_path / "x.pdf")], "--pdf goes with"),
        (["--format", "summary", "--pdf"], "give it with -o"),
        (["--format", "html", "--previous", str(source)], "--previous goes with"),
        (["--format", "summary", "--previous", str(other)], "of the same school"),
    ]
    for extra, said in cases:
        result = CliRunner().invoke(main, ["report", str(source), *extra])
        assert result.exit_code == 2 and said in result.output, result.output
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("nl", "Installeer het met: sudo apt-get install chromium"),
        ("en", "Install it with: sudo apt-get install chromium"),
    ],
)
def test_without_chromium_a_clear_error_and_no_traceback(
    demo_results: Results, tmp_path: Path, lang: str, said: str
) -> None:
    source = tmp_path / "results.json"
    source.write_text(demo_results.model_dump_json())
    out = tmp_path / "summary.pdf"
    args = ["report", str(source), "--format", "summary", "--pdf", "-o", str(out), "--lang", lang]
    result = CliRunner().invoke(main, args, env={"PATH": str(tmp_path / "empty")})
    assert result.exit_code == 2
    assert said in result.output and "Traceback" not in result.output
    assert not out.exists()


def _program(folder: Path, body: str) -> str:
    path = folder / "fake-chromium"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_browser_that_hangs_is_stopped_in_time(tmp_path: Path) -> None:
    program = _program(tmp_path, "sleep 60 & sleep 60")
    with pytest.raises(pdf.PdfError, match="binnen 1 seconden"):
        pdf.print_pdf("<p>x</p>", "nl", timeout=1, chromium=program)


def test_a_browser_that_makes_no_pdf_is_an_error(tmp_path: Path) -> None:
    program = _program(tmp_path, "echo 'no display' >&2; exit 3")
    with pytest.raises(pdf.PdfError, match=r"exit code 3\); nothing was written: no display"):
        pdf.print_pdf("<p>x</p>", "en", chromium=program)


def test_chromium_runs_without_a_moved_clock() -> None:
    env = pdf.browser_env(
        {"LD_PRELOAD": "/usr/lib/faketime/libfaketime.so.1 /x.so", "FAKETIME": "+1d"}
    )
    assert env == {"LD_PRELOAD": "/x.so"}

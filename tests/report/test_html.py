"""The self-contained HTML report: contents in both languages, nothing fetched, hostile text inert."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import time

import pytest

from cyberstd.i18n import t
from cyberstd.report import renderer
from cyberstd.report.actions import FIRST_PAGE, fixes, headline, to_attest
from cyberstd.report.html import JSON_LIMIT, render, text
from cyberstd.report.markdown import render as render_md
from cyberstd.results import ControlStatus, FindingStatus, Results
from tests.report.conftest import HOSTILE, LONG, Element, parse

STATUS_WORDS = {lang: {t(f"status.{st}", lang) for st in ControlStatus} for lang in ("nl", "en")}
# Attributes that make a browser fetch something (or run something).
URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "srcset", "poster", "data"}


def control_badges(page: Element) -> set[str]:
    """The status words on the badges in the headers of the controls."""
    return {
        badge.text()
        for art in page.find_all("article", "control")
        for badge in art.find_all("header")[0].find_all("span", "badge")
        if "sev" not in badge.classes
    }


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_header_and_every_control_in_both_languages(demo_results: Results, lang: str) -> None:
    page = parse(render(demo_results, lang))
    html = page.find_all("html")[0]
    assert html.attrs["lang"] == lang
    assert any(m.attrs.get("charset") == "utf-8" for m in page.find_all("meta"))
    header = page.by_id("top").text()
    assert "Sint-Voorbeeldinstituut (demo)" in header and "demo-school" in header
    assert "ci-baseline" in header and "grip 2026.02" in header
    finished = demo_results.run.finished
    assert f"{finished:%Y-%m-%d %H:%M} UTC" in header
    assert t("report.level_reached", lang) in header
    assert page.by_id("level-reached").text() == f"{t('report.level_none', lang)} / 6"
    assert page.by_id("error-count").text() == "0"
    for control in demo_results.controls:
        art = page.by_id(f"c-{control.id}")
        assert art.attrs["data-status"] == control.status
        assert art.attrs["data-level"] == str(control.level)
        assert control.title[lang] in art.text()
        assert t(f"status.{control.status}", lang) in art.text()
    words = control_badges(page)
    assert words and words <= STATUS_WORDS[lang]
    other = "en" if lang == "nl" else "nl"
    assert not words & (STATUS_WORDS[other] - STATUS_WORDS[lang])
    levels = [s.attrs["data-level"] for s in page.find_all("section", "level")]
    assert levels == ["1", "2", "3", "4", "5", "6"]
    assert t("report.level", lang, level=3) in page.by_id("level-3").find_all("h2")[0].text()


def test_dutch_and_english_differ_where_they_should(demo_results: Results) -> None:
    nl, en = render(demo_results, "nl"), render(demo_results, "en")
    assert "Bereikt niveau" in nl and "Bereikt niveau" not in en
    assert "Level reached" in en and "Level reached" not in nl
    assert "Groeipad" in nl and "Growth path" in en
    assert "Eerst aan te pakken" in nl and "Fix first" in en


def test_severity_words_in_dutch(demo_results: Results) -> None:
    nl, en = render(demo_results, "nl"), render(demo_results, "en")
    assert "Ernst: gemiddeld" in nl and "Ernst: hoog" in nl
    assert "Ernst: middel" not in nl and ">middel<" not in nl
    assert "Severity: medium" in en
    assert {t(f"severity.{s}", "nl") for s in ("low", "medium", "high", "critical")} == {
        "laag",
        "gemiddeld",
        "hoog",
        "kritiek",
    }


def test_the_report_speaks_from_the_message_catalog() -> None:
    assert text("report.why", "en") == "Why" and text("html.growth", "nl") != text(
        "html.growth", "en"
    )


@pytest.mark.parametrize(("reached", "target"), [(0, 6), (2, 4), (6, 6), (1, 1)])
def test_growth_path(demo_results: Results, reached: int, target: int) -> None:
    demo_results.summary.level_reached = reached
    demo_results.summary.target_level = target
    page = parse(render(demo_results, "en"))
    svg = page.by_id("growth").find_all("svg")[0]
    steps = svg.find_all("rect", "step")
    assert [s.attrs["data-level"] for s in steps] == ["1", "2", "3", "4", "5", "6"]
    filled = [s.attrs["data-level"] for s in steps if "reached" in s.classes]
    assert filled == [str(level) for level in range(1, reached + 1)]
    marked = [s.attrs["data-level"] for s in steps if "target" in s.classes]
    assert marked == [str(target)]
    heights = [int(s.attrs["height"]) for s in steps]
    assert heights == sorted(heights) and len(set(heights)) == 6
    assert svg.find_all("text", "flag-text")[0].text() == "target"
    assert f"level {reached} of 6 reached, target level {target}" in svg.find_all("title")[0].text()


def test_chart_counts_controls_by_level_and_status(demo_results: Results) -> None:
    page = parse(render(demo_results, "en"))
    chart = page.by_id("chart")
    bars = chart.find_all("g", "bar")
    assert [b.attrs["data-level"] for b in bars] == ["1", "2", "3", "4", "5", "6"]
    for bar in bars:
        level = int(bar.attrs["data-level"])
        expected: dict[str, int] = {}
        for c in demo_results.controls:
            if c.level == level:
                expected[c.status] = expected.get(c.status, 0) + 1
        shown = {}
        for seg in bar.find_all("rect", "seg"):
            status = (seg.classes - {"seg"}).pop()
            shown[status] = int(seg.text().rsplit(": ", 1)[1])
            assert int(seg.attrs["width"]) > 0
        assert shown == expected
        assert bar.find_all("text", "seg-total")[0].text() == str(sum(expected.values()))
    legend = {
        li.attrs["data-status"]: li.text()
        for li in chart.find_all("li")
        if "data-status" in li.attrs
    }
    for status, n in demo_results.summary.counts.items():
        assert legend[status].endswith(f": {n}"), (status, legend[status])


def test_action_lists_match_the_markdown(demo_results: Results) -> None:
    page = parse(render(demo_results, "en"))
    items = page.by_id("actions").find_all("li")
    checks = [li.attrs["data-check"] for li in items]
    assert checks == [fix.finding.check for fix in fixes(demo_results)]
    md = render_md(demo_results, "en").split("## Fix first")[1].split("## Still to attest")[0]
    assert re.findall(r"^\d+\. \*\*\w+\*\* · [^`]*`([^`]+)`", md, flags=re.M) == checks
    first = items[0].text()
    assert "critical" in first and "What next" in first
    attest = page.by_id("attest").find_all("li")
    # the first page shows ten; the rest fold away but stay in the report
    folded = page.by_id("attest").find_all("details")
    assert len(attest) > FIRST_PAGE and folded
    assert len(folded[0].find_all("li")) == len(attest) - FIRST_PAGE
    assert [li.attrs["data-control"] for li in attest] == [c.id for c in to_attest(demo_results)]
    codes = [c.text() for c in attest[0].find_all("code")]
    assert codes[0].startswith("cyberstd attest ") and codes[0].endswith(
        f" {attest[0].attrs['data-control']}"
    )
    blockers = page.by_id("next-level").find_all("li")
    assert [li.attrs["data-control"] for li in blockers] == [
        c.id for c in headline(demo_results).blockers
    ]


def test_nothing_is_fetched_from_anywhere(demo_results: Results) -> None:
    html = render(demo_results, "en")
    page = parse(html)
    for el in page.iter():
        for name, value in el.attrs.items():
            assert not name.startswith("on"), (el.tag, name)
            if name in URL_ATTRS:
                assert value.startswith(("#", "data:")), (el.tag, name, value)
    fetching = {"img", "iframe", "object", "embed", "video", "audio", "base", "picture"}
    assert not fetching & {e.tag for e in page.iter()}
    assert "action" not in page.by_id("filters").attrs
    assert [e.attrs for e in page.find_all("link")] == [{"rel": "icon", "href": "data:,"}]
    styles = "".join(s.text() for s in page.find_all("style"))
    assert "@import" not in styles and "@font-face" not in styles
    assert re.findall(r"url\(", styles) == []
    scripts = page.find_all("script")
    assert len(scripts) == 1 and "src" not in scripts[0].attrs
    assert not re.search(r"fetch\(|XMLHttpRequest|import\(|\.src\s*=", scripts[0].text())


def test_content_security_policy_allows_only_our_script(demo_results: Results) -> None:
    page = parse(render(demo_results, "nl"))
    csp = [
        m for m in page.find_all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    assert len(csp) == 1
    policy = dict(
        (part.split()[0], part.split()[1:])
        for part in csp[0].attrs["content"].split(";")
        if part.strip()
    )
    assert policy["default-src"] == ["'none'"]
    assert policy["img-src"] == ["data:"]
    assert policy["style-src"] == ["'unsafe-inline'"]
    script = page.find_all("script")[0].text()
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert policy["script-src"] == [f"'sha256-{digest}'"]
    head = [e for e in page.find_all("head")[0].children if isinstance(e, Element)]
    assert head[0].attrs == {"charset": "utf-8"} and head[1] is csp[0]


def test_without_script_everything_is_visible(demo_results: Results) -> None:
    html = render(demo_results, "en")
    page = parse(html)
    assert "hidden" in page.by_id("filters").attrs  # shown by the script only
    hidden = [e for e in page.iter() if "filtered" in e.classes or "hidden" in e.attrs]
    assert hidden == [page.by_id("filters")]
    boxes = page.by_id("filters").find_all("input")
    statuses = {b.attrs["value"] for b in boxes if b.attrs["name"] == "status"}
    assert statuses == {st for st, n in demo_results.summary.counts.items() if n}
    assert all("checked" in b.attrs for b in boxes)
    assert page.by_id("filters").attrs["data-gaps"] == "non_compliant error partial not_assessed"


def test_print_stylesheet(demo_results: Results) -> None:
    styles = "".join(s.text() for s in parse(render(demo_results, "en")).find_all("style"))
    printed = styles.split("@media print", 1)[1]
    assert "@page { size: A4;" in printed
    assert re.search(r"\.filters \{ display: none !important; \}", printed)
    # what the filter hides is not printed; a narrowed view prints its count
    assert ".filtered" not in printed
    assert ".filters.narrowed > :not(.count) { display: none !important; }" in printed
    # no command line on paper
    assert ".screen-only { display: none !important; }" in printed
    # evidence is printed once, as the compact list: the full JSON stays on the screen, and
    # the action lists print unfolded
    assert "details:not(.more-actions) { display: none !important; }" in printed
    assert "details.more-actions::details-content { display: block;" in printed
    assert "beforeprint" not in render(demo_results, "en")
    assert re.search(r"\.control header[^{]*\{ break-inside: avoid; \}", printed)
    # the growth path and the chart side by side on the first page, no break forced anywhere
    assert ".visuals { grid-template-columns: 1fr 1fr;" in printed
    assert "break-before: page" not in printed
    assert "a { color: inherit; text-decoration: none; }" in printed


def test_no_command_line_is_printed(demo_results: Results) -> None:
    page = parse(render(demo_results, "en"))
    commands = [c for c in page.find_all("code") if c.text().startswith("cyberstd ")]
    assert commands  # the screen shows them...
    for code in commands:  # ...each inside an element that print leaves out
        assert any("screen-only" in e.classes for e in _ancestors(page, code)), code.text()
    steps = [dd.text() for dd in page.find_all("dd", "next")]
    assert "Record an attestation: cyberstd attest " in " ".join(steps)


def _ancestors(root: Element, target: Element) -> list[Element]:
    """The elements that hold `target`, outermost first."""
    for child in root.children:
        if child is target:
            return [root]
        if isinstance(child, Element):
            found = _ancestors(child, target)
            if found:
                return [root, *found]
    return []


def test_configuration_findings_point_at_file_and_line(demo_results: Results) -> None:
    page = parse(render(demo_results, "en"))
    o7 = page.by_id("c-O7")
    where = [li.text() for li in o7.find_all("ul", "where")[0].find_all("li")]
    assert where == ["exports/m365/security-defaults.json:6: false"]
    fail = next(f for f in o7.find_all("li", "finding") if f.attrs["data-status"] == "fail")
    assert "entra.mfa-all-users" in fail.text()
    details = fail.find_all("details")[0]
    assert '"isEnabled"' in details.find_all("pre")[0].text()
    t8 = page.by_id("c-T8").text()
    assert "exports/firewall/fortigate.conf:" in t8 and "wan1" in t8


def test_attestation_and_waiver_details(demo_results: Results) -> None:
    page = parse(render(demo_results, "en"))
    o1 = page.by_id("c-O1").find_all("div", "attestation")[0].text()
    assert "implemented" in o1 and "L. Janssens, directeur, 2026-09-15" in o1
    assert "(valid)" in o1 and "evidence/o1-awareness-session.md" in o1
    o1_sha = next(c.attestation for c in demo_results.controls if c.id == "O1")
    assert o1_sha is not None and o1_sha.evidence[0]["sha256"] in o1
    o13 = page.by_id("c-O13").find_all("div", "attestation")[0]
    assert o13.find_all("span", "expired")[0].text() == "(expired)"
    o12 = page.by_id("c-O12")
    waiver = o12.find_all("div", "waiver")[0].text()
    assert "In de lente komen nieuwe laptops" in waiver
    assert "Schoolbestuur, vergadering van 2026-10-06" in waiver and "2030-06-30 (valid)" in waiver
    assert "Underlying status" in o12.text() and "non-compliant" in o12.text()
    t5 = page.by_id("c-T5").find_all("div", "waiver")[0].text()
    assert "2026-09-30 (expired)" in t5
    nl = parse(render(demo_results, "nl")).by_id("c-T5").text()
    assert "2026-09-30 (verlopen)" in nl and "Uitzondering" in nl


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_probes_in_error_are_named_at_the_top(mini_results: Results, lang: str) -> None:
    errored = [f for f in mini_results.findings if f.status is FindingStatus.ERROR]
    assert len(errored) == 1
    page = parse(render(mini_results, lang))
    assert page.by_id("error-count").text() == "1"
    alert = page.by_id("errors").text()
    assert t("report.errors", lang, n=1) in alert
    assert "mini.broken" in alert and "www.school.test" in alert
    assert text("html.error.connectivity", lang) in alert
    a2 = page.by_id("c-A2")
    assert a2.attrs["data-status"] == "error"
    finding = a2.find_all("li", "finding")[0]
    assert finding.attrs["data-status"] == "error"
    assert finding.find_all("span", "badge")[0].text() == t("finding.error", lang)
    assert text("html.error_reason", lang) in finding.text()
    assert "connection refused" in finding.text()


def test_not_applicable_reason(mini_results: Results) -> None:
    for lang in ("nl", "en"):
        b2 = parse(render(mini_results, lang)).by_id("c-B2")
        assert b2.attrs["data-status"] == "not_applicable"
        block = b2.find_all("div", "na")[0].text()
        assert text("html.na", lang) in block
        assert "The school runs no servers of its own." in block


def test_a_complete_run_has_no_error_banner(demo_results: Results) -> None:
    html = render(demo_results, "en")
    assert 'id="errors"' not in html and "this report is incomplete" not in html


def test_hostile_text_stays_inert(hostile_results: Results) -> None:
    html = render(hostile_results, "en")
    page = parse(html)
    tags = [e.tag for e in page.iter()]
    assert tags.count("script") == 1 and "img" not in tags
    for el in page.iter():
        assert not any(name.startswith("on") for name in el.attrs), el
        assert not any("http://x" in value for value in el.attrs.values()), el
    assert "\x1b" not in html and "\u202e" not in html
    shown = page.text()
    for needle in (
        HOSTILE["script"],
        HOSTILE["img"],
        HOSTILE["formula"],
        "\\x1b[31mred",
        "evil\\u202etxt.exe",
    ):
        assert needle in shown, needle
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/pre&gt;&lt;/details&gt;&lt;/article&gt;" in html
    longest = max(len(run) for run in re.findall(r"Z+", html))
    assert longest <= JSON_LIMIT
    assert LONG not in html and "…" in html
    title = page.find_all("title")[0].text()
    assert title.startswith("GRIP gap report: <script>alert(1)</script> \\x1b[31mred")
    # The long values cost at most a few cut-off copies, whatever else the report holds.
    short = hostile_results.model_copy(deep=True)
    for f in short.findings:
        f.evidence = {k: v for k, v in f.evidence.items() if k != "long"}
        if isinstance(f.evidence.get("headers"), dict):
            f.evidence["headers"] = {"Server": f.evidence["headers"].get("Server", "")}
        f.error_detail = (f.error_detail or "").replace(LONG, "") or None
    for c in short.controls:
        if c.attestation is not None:
            c.attestation.explanation = c.attestation.explanation.replace(LONG, "")
    assert len(html) < len(render(short, "en")) + 10 * JSON_LIMIT


def test_hostile_evidence_is_compact_with_full_json_in_details(hostile_results: Results) -> None:
    page = parse(render(hostile_results, "en"))
    finding = next(
        li
        for li in page.find_all("li", "finding")
        if HOSTILE["img"] in li.text() and li.find_all("ul", "ev")
    )
    rows = {
        li.find_all("span", "k")[0].text(): li.find_all("span", "mono")[0].text()
        for li in finding.find_all("ul", "ev")[0].find_all("li")
        if li.find_all("span", "k")
    }
    assert rows["script:"] == HOSTILE["script"]
    assert rows["formula:"] == HOSTILE["formula"]
    assert len(rows["long:"]) == 200 and rows["long:"].endswith("…")
    assert rows["headers:"].startswith('{"Server": "<img src=x onerror=alert(1)>"')
    full = finding.find_all("details")[0].text()
    assert '"formula": "=HYPERLINK(\\"http://x\\")"' in full
    assert "characters, see results.json" in full


def test_error_detail_and_attestation_are_bounded(hostile_results: Results) -> None:
    page = parse(render(hostile_results, "en"))
    err = next(li for li in page.find_all("li", "finding") if li.attrs["data-status"] == "error")
    detail = err.find_all("p", "err")[0].text()
    assert "</pre></details></article><script>alert(2)</script>" in detail
    assert len(detail) < 1200
    alert = page.by_id("errors").text()
    assert "1 check could not be run" in alert and "protocol" in alert


def test_renders_fast(demo_results: Results) -> None:
    render(demo_results, "nl")  # the template is compiled once, on first use
    started = time.perf_counter()
    render(demo_results, "en")
    assert time.perf_counter() - started < 0.5


def test_registry_and_cheap_import() -> None:
    assert renderer("html") is render
    code = "import sys, cyberstd.report.html; print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_inconsistent_results_still_render(demo_results: Results) -> None:
    control = next(c for c in demo_results.controls if not c.finding_ids)
    control.status = ControlStatus.ERROR
    control.attestation = None
    control.reason = "edited by hand"
    page = parse(render(demo_results, "en"))
    art = page.by_id(f"c-{control.id}")
    assert art.attrs["data-status"] == "error"
    assert art.find_all("dd", "why")[0].text() == "edited by hand"

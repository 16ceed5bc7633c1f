"""The group's JSON, CSV and HTML dashboard, in Dutch and English: what they show equals the
roll-up, hostile names stay text, the Dutch holds no English sentence, and the dashboard of
3,000 schools stays light."""

from __future__ import annotations

import csv
import io
import itertools
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from cyberstd.groupresults import GroupMode, GroupResults, ScanState
from cyberstd.i18n import t
from cyberstd.messages import catalog
from cyberstd.report.csv import BOM
from cyberstd.report.html import STATUS_ORDER
from cyberstd.results import ControlStatus, Results
from cyberstd.rollup import render_csv, render_html, render_json, run_summary
from cyberstd.rollup.html import TEMPLATE, TEMPLATES
from cyberstd.rollup.views import HEATMAP_LIMIT, TOP_GAPS
from tests.english import english_in
from tests.report.conftest import Element, parse
from tests.rollup.conftest import HOSTILE_LINK, HOSTILE_NAME, group_of, synthetic

LANGS = ["nl", "en"]
MAX_BYTES = 5 * 1024 * 1024


# --------------------------------------------------------------------------- JSON


def test_json_is_the_model_in_a_stable_order(small_group: GroupResults) -> None:
    text = render_json(small_group)
    back = GroupResults.model_validate_json(text)
    assert [s.id for s in back.schools] == sorted(s.id for s in small_group.schools)
    assert {s.id: s for s in back.schools} == {s.id: s for s in small_group.schools}
    assert back.history == small_group.history and back.run == small_group.run
    shuffled = small_group.model_copy(deep=True)
    random.Random(3).shuffle(shuffled.schools)
    random.Random(4).shuffle(shuffled.controls)
    for s in shuffled.schools:
        s.controls = dict(reversed(list(s.controls.items())))
        s.failed_checks.reverse()
    assert render_json(shuffled) == text
    assert render_json(small_group) == text  # the roll-up itself is left as it was


# --------------------------------------------------------------------------- CSV


def read_csv(text: str, sep: str) -> list[list[str]]:
    if sep == ";":
        assert text.startswith(BOM) and text.count(BOM) == 1
        text = text[len(BOM) :]
    else:
        assert not text.startswith(BOM)
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("sep", [";", ","])
def test_csv_one_row_per_school(small_group: GroupResults, lang: str, sep: str) -> None:
    table = read_csv(render_csv(small_group, lang, sep), sep)
    header, data = table[0], table[1:]
    assert all(len(r) == len(header) for r in data)
    assert header[0] == "id"
    assert t("group.csv.col.institution_number", lang) in header
    schools = sorted(small_group.schools, key=lambda s: s.id)
    assert [r[0] for r in data] == [s.id for s in schools]
    col = {name: i for i, name in enumerate(header)}
    decimal = "," if sep == ";" else "."
    for row, school in zip(data, schools, strict=True):
        assert row[col[t("group.csv.col.state", lang)]] == t(f"group.state.{school.state}", lang)
        level = row[col[t("group.csv.col.level_reached", lang)]]
        score = row[col[t("group.csv.col.score", lang)]]
        counts = [
            row[col[t("group.csv.col.count", lang, status=t(f"status.{st}", lang))]]
            for st in STATUS_ORDER
        ]
        failed = row[col[t("group.csv.col.failed_checks", lang)]]
        if school.level_reached is None:
            assert (level, score, failed) == ("", "", "")
            assert set(counts) == {""}
            assert row[col[t("group.csv.col.report", lang)]] == ""
        else:
            assert level == str(school.level_reached)
            assert school.score is not None
            assert float(score.replace(decimal, ".")) == pytest.approx(school.score)
            assert decimal in score
            tally = Counter(school.controls.values())
            assert [int(c) for c in counts] == [tally[st] for st in STATUS_ORDER]
            assert sum(int(c) for c in counts) == len(small_group.controls)
            assert int(failed) == len(school.failed_checks)
            assert row[col[t("group.csv.col.report", lang)]] == school.report_path
        error = row[col[t("group.csv.col.error", lang)]]
        assert error == (getattr(school.error, lang) if school.error else "")


def test_csv_cells_cannot_start_a_formula(small_group: GroupResults) -> None:
    small_group.schools[0].name = HOSTILE_NAME
    for sep in (";", ","):
        data = read_csv(render_csv(small_group, "nl", sep), sep)[1:]
        cells = [c for r in data for c in r]
        assert "'" + HOSTILE_NAME.replace("\u202e", "\\u202e") in cells
        assert not any(c[:1] in ("=", "+", "-", "@") for c in cells)


def test_csv_refuses_another_separator(small_group: GroupResults) -> None:
    with pytest.raises(ValueError, match="separator"):
        render_csv(small_group, "nl", "\t")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- HTML


def numbers(cells: list[Element], attr: str = "data-count") -> list[int]:
    return [int(c.attrs[attr]) for c in cells]


def rows_of(page: Element, ident: str) -> list[Element]:
    return [
        r
        for r in page.by_id(ident).find_all("tr")
        if "data-control" in r.attrs or "data-check" in r.attrs or "data-school" in r.attrs
    ]


def check_headline(page: Element, group: GroupResults, lang: str) -> None:
    assert page.by_id("total").text() == str(len(group.schools))
    counted = Counter(s.state for s in group.schools)
    shown = {
        e.attrs["data-state"]: int(e.text())
        for e in page.find_all("span")
        if "data-state" in e.attrs
    }
    assert shown == {str(st): counted[st] for st in ScanState}
    unfinished = [s for s in group.schools if s.state in (ScanState.FAILED, ScanState.TIMED_OUT)]
    if unfinished:
        causes = page.by_id("problems").find_all("li", "cause")
        assert sum(int(li.attrs["data-count"]) for li in causes) == len(unfinished)
        named = {e.attrs["data-school"] for li in causes for e in li.find_all("span", "school")}
        assert named <= {s.id for s in unfinished}
        for li in causes:  # a cause names its schools, up to a dozen
            assert len(li.find_all("span", "school")) == min(12, int(li.attrs["data-count"]))
        with_error = [s for s in unfinished if s.error is not None]
        for s in with_error:
            assert any(getattr(s.error, lang) in li.text() for li in causes)
    else:
        assert not [e for e in page.iter() if e.attrs.get("id") == "problems"]
    assert page.by_id("mode").attrs["data-mode"] == str(group.run.mode)


def check_levels(page: Element, group: GroupResults) -> None:
    summary = run_summary(group)
    rows = [r for r in page.by_id("levels").find_all("tr") if "data-level" in r.attrs]
    shown = {int(r.attrs["data-level"]): int(r.find_all("td")[1].text()) for r in rows}
    assert shown == {int(k): n for k, n in summary.levels.items()}
    at_least = [int(r.find_all("td")[2].text()) for r in rows]
    assert at_least == [
        sum(n for k, n in summary.levels.items() if int(k) >= level) for level in shown
    ]


def check_heat_map(page: Element, group: GroupResults) -> None:
    schools = sorted(group.schools, key=lambda s: s.id)
    table = page.by_id("heatmap")
    heads = [th.attrs["data-school"] for th in table.find_all("th") if "data-school" in th.attrs]
    assert heads == [s.id for s in schools]
    rows = [r for r in table.find_all("tr") if "data-control" in r.attrs]
    assert [r.attrs["data-control"] for r in rows] == [c.id for c in group.controls]
    for row in rows:
        cells = [td for td in row.find_all("td") if "ctitle" not in td.classes]
        expected = [str(s.controls.get(row.attrs["data-control"], "none")) for s in schools]
        assert [" ".join(sorted(td.classes)) for td in cells] == expected
        assert all(td.attrs["title"] and td.text() for td in cells)  # a text beside the colour


def check_shares(page: Element, group: GroupResults) -> None:
    with_results = [s for s in group.schools if s.level_reached is not None]
    rows = [r for r in page.by_id("share").find_all("tr") if "data-control" in r.attrs]
    assert [r.attrs["data-control"] for r in rows] == [c.id for c in group.controls]
    for row in rows:
        cid = row.attrs["data-control"]
        tally = Counter(s.controls[cid] for s in with_results if cid in s.controls)
        cells = [td for td in row.find_all("td") if "data-status" in td.attrs]
        assert {td.attrs["data-status"]: int(td.text()) for td in cells} == {
            str(st): tally[st] for st in ControlStatus
        }


def check_gaps(page: Element, group: GroupResults) -> None:
    with_results = [s for s in group.schools if s.level_reached is not None]
    non_compliant = Counter(
        cid
        for s in with_results
        for cid, st in s.controls.items()
        if st is ControlStatus.NON_COMPLIANT
    )
    rows = [r for r in page.by_id("control-gaps").find_all("tr") if "data-control" in r.attrs]
    shown = {r.attrs["data-control"]: int(r.find_all("td")[2].text()) for r in rows}
    assert len(rows) == min(TOP_GAPS, len(non_compliant))
    assert all(non_compliant[cid] == n for cid, n in shown.items())
    if len(non_compliant) > len(shown):  # what is shown is the most common
        assert min(shown.values()) >= max(n for c, n in non_compliant.items() if c not in shown)
    titles = {c.id: c.title.nl for c in group.controls}
    lang = page.find_all("html")[0].attrs["lang"]
    if lang == "nl":
        assert all(titles[r.attrs["data-control"]] in r.text() for r in rows)
    failed = Counter(check for s in with_results for check in s.failed_checks)
    rows = [r for r in page.by_id("check-gaps").find_all("tr") if "data-check" in r.attrs]
    assert len(rows) == min(TOP_GAPS, len(failed))
    assert all(failed[r.attrs["data-check"]] == int(r.find_all("td")[1].text()) for r in rows)
    # each failed check is named by its title in the page's language, not by its id alone
    check_titles = {c.id: c.title for c in group.checks}
    assert rows and all(r.attrs["data-check"] in check_titles for r in rows)
    for r in rows:
        title = check_titles[r.attrs["data-check"]]
        assert r.find_all("td")[0].text() == (title.nl if lang == "nl" else title.en)


def check_trend(page: Element, group: GroupResults) -> None:
    rows = [r for r in page.by_id("trend").find_all("tr") if "data-run" in r.attrs]
    runs = [*sorted(group.history, key=lambda r: r.finished), run_summary(group)]
    assert [r.attrs["data-run"] for r in rows] == [r.id for r in runs]
    for row, run in zip(rows, runs, strict=True):
        levels = {
            int(td.attrs["data-level"]): int(td.text())
            for td in row.find_all("td")
            if "data-level" in td.attrs
        }
        assert {k: n for k, n in levels.items() if n} == {
            int(k): n for k, n in run.levels.items() if n
        }
        mean = next(td for td in row.find_all("td") if "data-mean" in td.attrs)
        assert mean.attrs["data-mean"] == ("" if run.mean_score is None else str(run.mean_score))
    assert "current" in rows[-1].classes


def check_schools(page: Element, group: GroupResults) -> None:
    rows = [r for r in page.by_id("schools").find_all("tr") if "data-school" in r.attrs]
    schools = sorted(group.schools, key=lambda s: s.id)
    assert [r.attrs["data-school"] for r in rows] == [s.id for s in schools]
    for row, school in zip(rows, schools, strict=True):
        links = [a.attrs["href"] for a in row.find_all("a")]
        assert links == [p for p in (school.report_path, school.results_path) if p]
        assert school.state in row.classes


def check_page(text: str, group: GroupResults, lang: str) -> Element:
    page = parse(text)
    assert page.find_all("html")[0].attrs["lang"] == lang
    csp = next(m for m in page.find_all("meta") if m.attrs.get("http-equiv"))
    assert "default-src 'none'" in csp.attrs["content"]
    assert "script-src 'none'" in csp.attrs["content"]
    assert page.find_all("script") == [] and page.find_all("img") == []
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    check_headline(page, group, lang)
    check_levels(page, group)
    if len(group.schools) <= HEATMAP_LIMIT:
        check_heat_map(page, group)
        assert 'id="share"' not in text
    else:
        check_shares(page, group)
        assert 'id="heatmap"' not in text
    check_gaps(page, group)
    check_trend(page, group)
    check_schools(page, group)
    return page


@pytest.mark.parametrize("lang", LANGS)
def test_dashboard_shows_the_roll_up(small_group: GroupResults, lang: str) -> None:
    text = render_html(small_group, lang)
    page = check_page(text, small_group, lang)
    assert page.by_id("pending").text() == t("group.pending", lang, n=1)
    changes = {li.attrs["data-change"]: li.text() for li in page.by_id("changes").find_all("li")}
    # de-klimop went up, zonnebloem went down, the demo stayed
    assert changes["up"] == t("group.change.up", lang, n=1)
    assert changes["down"] == t("group.change.down", lang, n=1)
    assert changes["same"] == t("group.change.same", lang, n=1)


@pytest.mark.parametrize("lang", LANGS)
def test_perimeter_dashboard_of_many_schools(many: GroupResults, lang: str) -> None:
    text = render_html(many, lang)
    page = check_page(text, many, lang)
    assert many.run.authorization is not None
    assert many.run.authorization.reference in page.by_id("authorization").text()
    assert page.by_id("mode").text() == t("group.mode.perimeter", lang)


def test_dashboard_of_3000_schools_stays_light(many: GroupResults, tmp_path: Path) -> None:
    assert len(many.schools) == 3000
    text = render_html(many, "nl")
    size = len(text.encode("utf-8"))
    assert size < MAX_BYTES, size
    # per school one table row; the controls once each, not once per school
    assert text.count("<tr ") - text.count('<tr class="level-head"') < 3000 + 200


def test_hostile_names_and_links_stay_inert(small_group: GroupResults, demo: Results) -> None:
    small_group.group.name = HOSTILE_NAME
    small_group.schools[0].name = HOSTILE_NAME
    small_group.schools[0].report_path = HOSTILE_LINK
    small_group.schools[1].report_path = "../../etc/passwd"
    small_group.schools[2].results_path = "/etc/passwd"
    small_group.schools[3].error.nl = HOSTILE_NAME  # type: ignore[union-attr]
    for lang in LANGS:
        text = render_html(small_group, lang)
        page = parse(text)
        assert page.find_all("script") == []
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "\u202e" not in text and "\\u202e" in text
        hrefs = [a.attrs["href"] for a in page.find_all("a")]
        assert not any(h.startswith(("javascript", "/")) or ".." in h for h in hrefs)
    wide = group_of([*small_group.schools], demo)
    assert render_html(wide, "nl")  # a heat map with the hostile column head renders too


@pytest.mark.parametrize("which", ["small", "many", "failing"])
def test_the_dutch_dashboard_and_spreadsheet_hold_no_english(
    small_group: GroupResults, demo: Results, which: str
) -> None:
    group = {
        "small": small_group,
        "many": synthetic(demo, 200),
        "failing": group_of(
            [
                s.model_copy(
                    update={
                        "controls": {k: ControlStatus.NON_COMPLIANT for k in s.controls},
                        "level_reached": 0 if s.level_reached is not None else None,
                    }
                )
                for s in small_group.schools
            ],
            demo,
            mode=GroupMode.PERIMETER,
            finished=False,
        ),
    }[which]
    data = (
        group.group.name,
        group.run.profile,
        *(s.name for s in group.schools),
        *(s.id for s in group.schools),
    )
    for text in (render_html(group, "nl"), render_csv(group, "nl")):
        assert english_in(text, data) == []


def test_every_text_the_template_names_is_in_the_catalog() -> None:
    source = (TEMPLATES / TEMPLATE).read_text(encoding="utf-8")
    named = set(re.findall(r"""\btr\(\s*["']([a-z0-9_.-]+)["']""", source))
    assert named and named - set(catalog()) == set()


@pytest.mark.parametrize("counts", [[1, 1, 1], [2874, 0, 3, 997, 5, 1, 1], [0, 0], [7]])
def test_a_stacked_bar_fills_its_width_exactly(counts: list[int]) -> None:
    from cyberstd.rollup.views import BAR_WIDTH, spans

    parts = spans(counts, sum(counts))
    assert all(width >= 0 for _, width in parts)
    assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(parts))
    assert parts[-1][0] + parts[-1][1] == (BAR_WIDTH if sum(counts) else 0)


def test_links_stay_inside_the_output_folder() -> None:
    from cyberstd.rollup.views import href

    assert href("schools/sint jan/report.nl.html") == "schools/sint%20jan/report.nl.html"
    for bad in ("/etc/passwd", "\\\\host\\share", "C:/x", "https://x.test/", "a/../../b", ""):
        assert href(bad) == "", bad

"""Untrusted text is inert in every output: a hostile string in every field of results.json,
rendered into every format, the terminal summary and a diff.

results.json is the one place hostile text can come from (a banner, an export, a school
folder, a custom catalog all end up there), so a results.json whose every free-text field is
hostile covers them all. Each format is then read as its consumer reads it: Markdown through a
CommonMark renderer, HTML through an HTML parser, JUnit through an XML parser, SARIF and OSCAL
as JSON, the terminal as a terminal shows it.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt
from pydantic import ValidationError
from rich.console import Console

from cyberstd.cli import main
from cyberstd.diff import compare, render_markdown, render_text
from cyberstd.report import FORMATS, renderer
from cyberstd.report.escape import json_strings, markdown, visible
from cyberstd.report.terminal import summary
from cyberstd.results import Results
from tests.conftest import scan_demo_config

# Characters that change what a reader sees or what a terminal does: ESC (screen control),
# NUL, BEL, carriage return, right-to-left override and pop, isolates, zero-width space,
# line separator.
HIDDEN = ("\x1b", "\x00", "\x07", "\r", "\u202e", "\u202c", "\u2066", "\u2069", "\u200b", "\u2028")
HOSTILE = (
    "\x1b[2J\x1b[H✔ VERIFIED\x07 [/bold] [link=http://evil.example/]klik[/link] "
    "<script>alert(1)</script><img src=x onerror=alert(1)> [klik](http://evil.example/a) "
    "![beeld](http://evil.example/b.png) `code`` ** _x_ # kop | cel | &#x202e; ~~weg~~ "
    "www.evil.example javascript:alert(1) \u202egnp.exe\u202c \u2066iso\u2069 zero\u200bwidth "
    '\x00nul\u2028sep\r\nline two\n=HYPERLINK("http://evil.example")'
)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real results.json: the demo school's configuration scan (exports, attestations,
    waivers, findings with locations)."""
    path = scan_demo_config(tmp_path_factory.mktemp("scan"))
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return body


def _poison(
    value: Any, path: tuple[Any, ...], paths: list[tuple[Any, ...]], names: dict[str, str]
) -> Any:
    """Every string replaced by HOSTILE plus a number; the same string by the same hostile
    one, so that references (a control's finding_ids) still name their findings."""
    if isinstance(value, str):
        paths.append(path)
        return names.setdefault(value, f"{HOSTILE} {len(names) + 1}")
    if isinstance(value, dict):
        return {k: _poison(v, (*path, k), paths, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, (*path, i), paths, names) for i, v in enumerate(value)]
    return value


def _set(body: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        body = body[part]
    body[path[-1]] = value


def _get(body: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        body = body[part]
    return body


@pytest.fixture(scope="module")
def hostile(clean: dict[str, Any]) -> tuple[Results, int]:
    """The results with every string field that the model lets be free text made hostile
    (statuses, dates, hashes and other typed fields keep their valid values)."""
    paths: list[tuple[Any, ...]] = []
    body = _poison(clean, (), paths, {})
    for _ in range(50):
        try:
            results = Results.model_validate(body)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = tuple(error["loc"])
                while loc and not isinstance(_get(clean, loc[:-1]), (dict, list)):
                    loc = loc[:-1]
                _set(body, loc, _get(clean, loc))
            continue
        poisoned = sum(1 for p in paths if HOSTILE in str(_get(body, p)))
        return results, poisoned
    raise AssertionError("the hostile results never validated")


def test_the_corpus_reaches_every_free_text_field(hostile: tuple[Results, int]) -> None:
    results, poisoned = hostile
    assert poisoned > 500
    for value in (results.school.id, results.school.name, results.run.profile,
                  results.run.framework.id, results.run.framework.version,
                  results.controls[0].id, results.findings[0].check,
                  results.findings[0].target):  # fmt: skip
        assert value.startswith(HOSTILE), value
    assert any(HOSTILE in r for f in results.findings for r in f.remediation.values())


def _no_hidden(text: str, where: str) -> None:
    for ch in HIDDEN:
        assert ch not in text, (where, repr(ch), text[max(0, text.find(ch) - 80) :][:160])


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _html_tags(text: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def _no_live_html(html: str, where: str) -> None:
    """No tag or attribute that the hostile text could have brought."""
    for tag, attrs in _html_tags(html):
        internal = tag == "a" and all(n != "href" or (v or "").startswith("#") for n, v in attrs)
        assert internal or tag not in ("img", "a", "iframe", "object"), (where, tag, attrs)
        for name, value in attrs:
            assert not name.startswith("on"), (where, tag, name)
            if name in ("href", "src", "action", "formaction", "style", "srcset"):
                if (value or "").startswith("#"):
                    continue  # a link within the page, to a control's section
                assert "evil.example" not in (value or ""), (where, tag, name, value)


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "json"])
def test_every_format_keeps_hostile_text_inert(
    hostile: tuple[Results, int], fmt: str, lang: str
) -> None:
    results, _ = hostile
    text = renderer(fmt)(results, lang)
    where = f"{fmt}/{lang}"
    if fmt in ("sarif", "oscal"):
        doc = json.loads(text)
        assert doc == json_strings(doc)  # every string, keys included, already visible
        _no_hidden(json.dumps(doc, ensure_ascii=False), where)
        return
    spreadsheet = fmt.startswith("csv") or fmt == "actionplan"
    _no_hidden(text.replace("\r\n", "\n") if spreadsheet else text, where)
    if fmt == "md":
        assert "evil.example" in text
        rendered = MarkdownIt("commonmark").enable("table").render(text)
        _no_live_html(rendered, where)
        assert "<script" not in rendered and "<h1" in rendered
        assert rendered.count("<h1") == 1  # a '#' in the data opened no heading
    elif fmt == "html":
        _no_live_html(text, where)
        assert text.count("<script") == _baseline_scripts(results, lang)
    elif fmt == "summary":
        _no_live_html(text, where)
        assert "<script" not in text  # the summary runs no script at all
    elif fmt == "junit":
        root = ET.fromstring(text.encode("utf-8"))
        assert root.tag == "testsuites" and len(root) > 0
    elif spreadsheet:
        delimiter = "," if fmt == "csv" else ";"
        for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")), (where, cell[:80])


def _baseline_scripts(results: Results, lang: str) -> int:
    """How many <script> elements the HTML report has of its own (with plain data)."""
    plain = results.model_copy(deep=True)
    plain.school.name = "Plain"
    html = renderer("html")(Results.model_validate(plain.model_dump()), lang)
    return html.count("<script")


def test_the_terminal_summary_neither_crashes_nor_obeys(hostile: tuple[Results, int]) -> None:
    results, _ = hostile
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=200)
    console.print(summary(results, "nl"))
    shown = buffer.getvalue()
    assert "\x1b[2J" not in shown and "\x1b[H" not in shown and "\x07" not in shown
    assert "\x1b]8;" not in shown  # no hyperlink from [link=...] in the data
    assert "[/bold]" in shown  # shown as the text it is
    plain = io.StringIO()
    Console(file=plain, force_terminal=False, width=200).print(summary(results, "en"))
    _no_hidden(plain.getvalue(), "terminal")


def test_a_diff_keeps_hostile_text_inert(
    hostile: tuple[Results, int], clean: dict[str, Any]
) -> None:
    results, _ = hostile
    diff = compare(Results.model_validate(clean), results, force=True)
    for lang in ("nl", "en"):
        text = render_markdown(diff, lang)
        assert "evil.example" in text
        _no_hidden(text, f"diff/md/{lang}")
        _no_live_html(MarkdownIt("commonmark").enable("table").render(text), f"diff/{lang}")
        _no_hidden(render_text(diff, lang), f"diff/text/{lang}")


def test_the_escapes_themselves() -> None:
    assert visible("a\u202eb\x1bc\nd", keep="\n") == "a\\u202eb\\x1bc\nd"
    assert visible("tab\there") == "tab\\there"
    assert visible("2,9\u00a0%") == "2,9\u00a0%"  # a no-break space is shown as it is
    assert markdown("[x](http://e.example)") == "\\[x\\](`http://e.example`)"
    assert markdown("&#x202e; ~~s~~ !") == "\\&\\#x202e; \\~\\~s\\~\\~ \\!"


def test_hostile_results_file_reports_from_the_cli(
    hostile: tuple[Results, int], tmp_path: Path
) -> None:
    """The same results through `cyberstd report`: exit 0, no internal error."""
    body = hostile[0].model_dump(mode="json")
    path = tmp_path / "results.json"
    path.write_text(json.dumps({**body, "schema_version": "1.0"}), encoding="utf-8")
    for fmt in ("md", "junit"):
        result = CliRunner().invoke(main, ["report", str(path), "--format", fmt])
        assert result.exit_code == 0, result.output
        _no_hidden(result.output, f"report --format {fmt}")


def test_an_error_about_hostile_input_is_shown_inert(
    hostile: tuple[Results, int], tmp_path: Path
) -> None:
    """An error message quotes the bad value (here a schema_version) with nothing hidden."""
    path = tmp_path / "results.json"
    path.write_text(hostile[0].model_dump_json(), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(path), "--format", "md"])
    assert result.exit_code == 2, result.output
    assert "schema_version" in result.output
    _no_hidden(result.output, "error message")


def _edit(body: dict[str, Any], how: str) -> str:
    """A results.json changed by hand in one hostile way, as text."""
    body = json.loads(json.dumps(body))
    if how == "title without Dutch":
        body["controls"][0]["title"] = {"de": "x"}
    elif how == "level far too high":
        body["controls"][0]["level"] = 10**400
    elif how == "score not a number":
        return json.dumps(body).replace('"score": ', '"score": NaN, "x": ', 1)
    elif how == "negative count":
        body["summary"]["counts"]["compliant"] = -5
    elif how == "control twice":
        body["controls"].append(body["controls"][0])
    elif how == "finding that is not there":
        body["controls"][0]["finding_ids"] = ["nowhere@nothing"]
    elif how == "key twice":
        text = json.dumps(body)
        return text.replace('"school": {', '"school": {"id": "other", ', 1)
    elif how == "5000 digits":
        return json.dumps(body).replace('"target_level": ', '"target_level": ' + "9" * 5000 + ", "
                                        '"y": ', 1)  # fmt: skip
    return json.dumps(body)


@pytest.mark.parametrize(
    "how",
    ["title without Dutch", "level far too high", "score not a number", "negative count",
     "control twice", "finding that is not there", "key twice", "5000 digits"],
)  # fmt: skip
def test_a_hand_edited_results_file_is_an_input_error(
    clean: dict[str, Any], tmp_path: Path, how: str
) -> None:
    path = tmp_path / "results.json"
    path.write_text(_edit(clean, how), encoding="utf-8")
    for args in (["report", str(path), "--format", "html"], ["diff", str(path), str(path)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (how, args[0], result.output)
        assert "internal error" not in result.output and "results.json" in result.output

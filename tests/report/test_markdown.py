"""The Markdown report: URLs and `www.` names from the scanned network never become live links
on GitHub or GitLab, and the rest of the text keeps its escapes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from cyberstd.report.markdown import code, render
from cyberstd.results import Results
from tests.report_formats import make_results

# What a renderer would turn into a link if it stood in plain text.
LINK_LIKE = re.compile(r"://|\bwww\.", re.I)
URLS = [
    "https://evil.example/login?next=/admin&x=1",
    "http://10.0.0.1:8080/",
    "ftp://files.evil.example/pub",
    "smb://nas/share",
    "www.evil.example/reset",
]


def network_results() -> Results:
    """Results whose messages, evidence and warnings carry URLs a device sent back."""
    results = make_results()
    bad = next(f for f in results.findings if f.id == "web.bad@www.school.test")
    bad.message = "redirects to " + ", ".join(URLS) + "."
    bad.warning = "banner: 220 mail ready (https://status.evil.example) today"
    cfg = next(f for f in results.findings if f.id == "cfg.bad@test-school")
    cfg.evidence["items"][0]["actual"] = "https://update.evil.example/firmware.bin"
    cfg.evidence["items"][1]["label"] = "www.evil.example"
    return results


def inline_tokens(md: str) -> Iterator[Token]:
    parser = MarkdownIt("commonmark").enable("table")
    for block in parser.parse(md):
        yield from block.children or []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_urls_from_the_network_are_never_plain_text(lang: str) -> None:
    md = render(network_results(), lang)
    tokens = list(inline_tokens(md))
    plain = [t.content for t in tokens if t.type == "text" and LINK_LIKE.search(t.content)]
    assert plain == []
    shown = {t.content for t in tokens if t.type == "code_inline"}
    for url in URLS:
        assert url in shown, url
    assert "https://status.evil.example" in shown
    assert "https://update.evil.example/firmware.bin" in shown
    assert not [t for t in tokens if t.type in ("link_open", "html_inline")]


def test_text_around_a_url_keeps_its_escapes_and_punctuation() -> None:
    md = render(network_results(), "en")
    line = next(x for x in md.splitlines() if x.startswith("  - `web.bad` @"))
    assert "redirects to `https://evil.example/login?next=/admin&x=1`, " in line
    assert "`www.evil.example/reset`." in line  # the full stop is not part of the URL
    assert "(`https://status.evil.example`)" in line
    results = make_results()
    results.findings[3].message = "<b>*bold*</b> | [x](javascript:alert(1))"
    md = render(results, "en")
    assert "\\<b\\>\\*bold\\*\\</b\\> \\| \\[x\\](javascript:alert(1))" in md


def test_code_spans_hold_any_text() -> None:
    assert code("exports/fw_1.conf") == "`exports/fw_1.conf`"
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
    md = render(make_results(), "en")
    assert "- `schools/test/school.yaml` " in md  # no escapes shown inside code


def test_github_renders_no_link() -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="GitHub's Markdown renderer (cmarkgfm)")
    html = cmarkgfm.github_flavored_markdown_to_html(render(network_results(), "en"))
    assert not re.search(r'<a href="(?!mailto:)', html)  # addresses may still be mailto: links
    assert "<code>https://evil.example/login?next=/admin&amp;x=1</code>" in html


def test_the_score_is_written_as_each_language_writes_it() -> None:
    results = make_results()
    assert re.search(
        r"- \*\*Score over wat beoordeeld is:\*\* \d+,\d\u00a0%\n", render(results, "nl")
    )
    assert re.search(r"- \*\*Score over what was assessed:\*\* \d+\.\d%\n", render(results, "en"))

"""The group dashboard in a real browser (headless Chromium): it loads from file:// alone with
nothing refused and nothing logged, and what the browser shows equals the roll-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from cyberstd.groupresults import GroupResults
from cyberstd.rollup import render_html
from tests.report.test_html_browser import CHROMIUM, browse, problems
from tests.rollup.conftest import write
from tests.rollup.test_render import check_page

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs headless Chromium at /usr/bin/chromium (Debian package 'chromium')",
    ),
    pytest.mark.timeout(240),
]


def shown(group: GroupResults, lang: str, folder: Path) -> str:
    """The page's DOM as the browser built it, after checking it loaded without a problem."""
    page = write(folder, f"group.{lang}.html", render_html(group, lang))
    dom, stderr = browse(page, folder / "profile")
    assert problems(stderr) == []
    return dom if dom.lstrip().lower().startswith("<!doctype") else "<!DOCTYPE html>" + dom


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_dashboard_in_the_browser(small_group: GroupResults, lang: str, tmp_path: Path) -> None:
    dom = shown(small_group, lang, tmp_path)
    check_page(dom, small_group, lang)


def test_the_dashboard_of_3000_schools_in_the_browser(many: GroupResults, tmp_path: Path) -> None:
    dom = shown(many, "nl", tmp_path)
    check_page(dom, many, "nl")

"""The HTML report in a real browser (headless Chromium): it loads from file:// alone, its script
runs without a console message, the filters work, and hostile text stays text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cyberstd.report.html import render
from cyberstd.results import ControlStatus, Results
from tests.report.conftest import HOSTILE

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs headless Chromium at /usr/bin/chromium (Debian package 'chromium')",
    ),
    pytest.mark.timeout(180),
]

# What Chromium writes to stderr when the page logs, throws, or is refused something.
PAGE_PROBLEMS = re.compile(r"CONSOLE|Uncaught|Refused to|Content Security Policy|net::ERR_")


def browser_env() -> dict[str, str]:
    """The environment for Chromium: without libfaketime, whose moved clock stalls its timers
    (`make test-later` runs the suite under faketime; the page itself reads no date)."""
    drop = ("LD_PRELOAD", "FAKETIME")
    return {k: v for k, v in os.environ.items() if k not in drop}


def browse(page: Path, profile: Path, fragment: str = "") -> tuple[str, str]:
    """The DOM after the page's script ran, and what the browser logged, for one file:// page."""
    args = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=2000",
        "--dump-dom",
        page.as_uri() + fragment,
    ]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=90, check=False, env=browser_env()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if PAGE_PROBLEMS.search(line)]


def write(results: Results, folder: Path, lang: str) -> Path:
    path = folder / f"report.{lang}.html"
    path.write_text(render(results, lang), encoding="utf-8")
    return path


def test_report_loads_and_its_script_runs(demo_results: Results, tmp_path: Path) -> None:
    page = write(demo_results, tmp_path, "en")
    dom, stderr = browse(page, tmp_path / "profile")
    assert problems(stderr) == []
    assert re.search(r'<html lang="en" class="[^"]*\bjs\b', dom), dom[:300]
    assert "Sint-Voorbeeldinstituut (demo)" in dom
    assert "Level reached" in dom and "no level yet / 6" in dom
    assert "Leadership and staff understand information security and privacy" in dom
    total = len(demo_results.controls)
    assert f"{total} of {total} controls shown" in dom
    assert re.search(r'<form class="filters card" id="filters"(?![^>]*hidden)[^>]*>', dom)
    assert "filtered" not in re.sub(r"<style>.*?</style>|<script>.*?</script>", "", dom, flags=re.S)


def test_filters_from_the_fragment(demo_results: Results, tmp_path: Path) -> None:
    page = write(demo_results, tmp_path, "nl")
    dom, stderr = browse(page, tmp_path / "profile", "#status=non_compliant&level=1,2")
    assert problems(stderr) == []
    wanted = [
        c.id
        for c in demo_results.controls
        if c.status is ControlStatus.NON_COMPLIANT and c.level in (1, 2)
    ]
    assert wanted
    articles = re.findall(r'<article class="control ([\w ]+)" id="c-([^"]+)"', dom)
    assert sorted(cid for _, cid in articles) == sorted(c.id for c in demo_results.controls)
    visible = [cid for classes, cid in articles if "filtered" not in classes.split()]
    assert sorted(visible) == sorted(wanted)
    assert f"{len(wanted)} van {len(demo_results.controls)} maatregelen getoond" in dom
    assert re.search(r'<section class="level filtered" id="level-3"', dom)
    assert re.search(r'<section class="level" id="level-1"', dom)


def test_hostile_text_stays_text_in_the_browser(hostile_results: Results, tmp_path: Path) -> None:
    page = write(hostile_results, tmp_path, "en")
    dom, stderr = browse(page, tmp_path / "profile")
    assert problems(stderr) == []
    assert len(re.findall(r"<script\b", dom)) == 1
    assert not re.search(r"<img\b", dom)
    assert not re.search(r"<[a-z][^>]*\son\w+=", dom)  # no element got an event handler
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom
    assert HOSTILE["formula"] in dom  # a text node: quotes need no escaping there


@pytest.mark.parametrize("fragment", ["#status=%E0", "#level=%", "#%E0%A4%A=x"])
def test_a_malformed_fragment_is_ignored(
    demo_results: Results, tmp_path: Path, fragment: str
) -> None:
    page = write(demo_results, tmp_path, "en")
    dom, stderr = browse(page, tmp_path / "profile", fragment)
    assert problems(stderr) == []  # no "Uncaught URIError"
    total = len(demo_results.controls)
    assert f"{total} of {total} controls shown" in dom  # the script ran to the end
    articles = re.findall(r'<article class="control ([\w ]+)" id="c-', dom)
    assert len(articles) == total and not any("filtered" in a.split() for a in articles)


def print_pdf(page: Path, profile: Path) -> Path:
    """The page printed to PDF by Chromium, as a user's "Print to PDF" does."""
    out = page.with_suffix(".pdf")
    args = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={out}",
        page.as_uri(),
    ]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=False, env=browser_env()
    )
    assert done.returncode == 0 and out.is_file(), done.stderr[-2000:]
    return out


def pdf_text(pdf: Path, *pages: str) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdfinfo")),
    reason="needs pdftotext and pdfinfo (Debian package 'poppler-utils')",
)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_printed_report_is_compact(demo_results: Results, tmp_path: Path, lang: str) -> None:
    from cyberstd.report.html import text

    pdf = print_pdf(write(demo_results, tmp_path, lang), tmp_path / "profile")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    first = pdf_text(pdf, "-f", "1", "-l", "1")
    # the first page holds the header, the growth path and the chart (not pushed to page 2)
    assert text("html.growth", lang) in first and text("html.chart", lang) in first
    everything = pdf_text(pdf)
    # evidence once: the compact list, never the full JSON behind it
    assert text("html.full_json", lang) not in everything
    assert '"isEnabled"' not in everything
    # 52 controls used to take 62 pages; now fewer pages than controls
    assert pages < len(demo_results.controls), pages

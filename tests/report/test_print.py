"""The full HTML report on paper: A4, at most 25 pages for the demo school, what the filter
shows is what prints, no command lines, evidence JSON left on the screen."""

from __future__ import annotations

import re

import pytest

from cyberstd.report.html import render
from cyberstd.results import Results
from tests.report.printing import assert_a4, needs_chromium, printed, visible_text

pytestmark = [needs_chromium, pytest.mark.timeout(300)]

# The limit for the demo school's full report.
MAX_PAGES = 25
GAPS = "#status=non_compliant,partial,not_assessed,error"


def test_the_demo_report_prints_on_at_most_25_a4_pages(demo_results: Results) -> None:
    for lang in ("nl", "en"):
        sizes = printed(render(demo_results, lang), lang)
        assert_a4(sizes)
        assert len(sizes) <= MAX_PAGES, (lang, len(sizes))


def test_what_the_filter_shows_is_what_prints(demo_results: Results) -> None:
    page = render(demo_results, "nl")
    everything = printed(page)
    gaps_only = printed(page, fragment=GAPS)
    level_one = printed(page, fragment="#level=1")
    assert_a4(gaps_only)
    assert len(gaps_only) < len(everything)
    assert len(level_one) < len(gaps_only)


def test_print_text_has_no_command_and_no_evidence_json(demo_results: Results) -> None:
    from cyberstd.report.pdf import print_pdf

    pdf = print_pdf(render(demo_results, "en"), "en")
    text = _pdf_text(pdf)
    assert "cyberstd attest" not in text
    assert "Full evidence (JSON)" not in text and '"checked": ' not in text
    # what stays: the controls, the action list in full, the evidence of failed checks
    assert "Authentication policy" in text and "Record an attestation" in text
    fixes = visible_text(render(demo_results, "en")).count("What next:")
    assert text.count("What next:") == fixes


def _pdf_text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))

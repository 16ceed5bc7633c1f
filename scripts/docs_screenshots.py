"""Make the screenshots in docs/ again: the demo's Dutch HTML report as it first shows in a
1280x900 window (docs/report-first-screen.png) and the first page of the demo's Dutch board
summary as it prints on A4 (docs/summary-first-page.png).

    .venv/bin/python scripts/docs_screenshots.py

Runs `cyberstd demo` (the simulated school on loopback: needs nmap) in a temporary folder, on
the demo's own day, then headless Chromium for the report and the summary's PDF, and
pdftoppm (Debian package poppler-utils) for the PDF's first page.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
WINDOW = "1280,900"
DPI = "110"


def chromium_screenshot(page: Path, png: Path, profile: Path) -> None:
    from cyberstd.report.pdf import FLAGS, browser_env, find_chromium

    program = find_chromium()
    if program is None:
        sys.exit("needs Chromium: sudo apt-get install chromium")
    flags = [f for f in FLAGS if f != "--no-pdf-header-footer"]
    args = [
        program,
        *flags,
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
        f"--window-size={WINDOW}",
        f"--screenshot={png}",
        page.as_uri(),
    ]
    subprocess.run(args, check=True, capture_output=True, timeout=120, env=browser_env())


def first_page(pdf: Path, png: Path) -> None:
    if shutil.which("pdftoppm") is None:
        sys.exit("needs pdftoppm: sudo apt-get install poppler-utils")
    stem = png.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", DPI, "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
        check=True,
        timeout=120,
    )


def main() -> None:
    from cyberstd.lab.timeshift import DEMO_DAY
    from cyberstd.report.json import load
    from cyberstd.report.pdf import print_pdf
    from cyberstd.report.summary import render

    with tempfile.TemporaryDirectory(prefix="cyberstd-shots-") as tmp:
        work = Path(tmp)
        out = work / "demo"
        demo = [sys.executable, "-m", "cyberstd", "--root", str(REPO), "demo"]
        demo += ["--out", str(out), "--lang", "nl", "--as-of", DEMO_DAY.isoformat()]
        subprocess.run(demo, check=True, capture_output=True, timeout=600)
        report = DOCS / "report-first-screen.png"
        chromium_screenshot(out / "report.nl.html", report, work / "profile")
        results = load(out / "results.json", "results.json")
        pdf = work / "summary.nl.pdf"
        pdf.write_bytes(print_pdf(render(results, "nl"), "nl"))
        summary = DOCS / "summary-first-page.png"
        first_page(pdf, summary)
        for path in (report, summary):
            print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()

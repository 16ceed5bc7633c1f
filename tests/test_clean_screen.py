"""A clean screen: no library warning reaches the user, and a missing program is said once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.net import nmap as nmapscan
from cyberstd.results import ErrorReason, FindingStatus, Results
from tests.conftest import REPO

DEMO = REPO / "examples" / "demo-school"
# cyberstd's own lines on stderr start with one of these; anything else is someone else's.
OWN_PREFIXES = (
    "warning: ",
    "waarschuwing: ",
    "error: ",
    "lab: ",
    "lab stopped",
    "lab gestopt",
    "wrote ",
    "geschreven: ",
)


def _cyberstd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """cyberstd in a new interpreter that turns every warning into an error (-W error)."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "cyberstd", "--root", str(REPO), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


# and a scan's progress outside a terminal starts with a timestamp
PROGRESS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def _foreign(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if line and not line.startswith(OWN_PREFIXES) and not PROGRESS.match(line)
    ]


def test_plan_prints_no_library_warning(tmp_path: Path) -> None:
    done = _cyberstd("plan", str(DEMO), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and _foreign(done.stderr) == []
    assert "segmentation.forbidden-reachable" in done.stdout


def test_scan_prints_no_library_warning(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _cyberstd(
        "scan",
        str(DEMO),
        "--profile",
        "ci-baseline",
        "--as-of",
        DEMO_DAY.isoformat(),
        "--out",
        str(out),
        "--format",
        "html",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr  # the demo school has gaps
    assert "Warning" not in done.stderr and _foreign(done.stderr) == []
    for report in out.iterdir():
        text = report.read_text(encoding="utf-8")
        assert "DeprecationWarning" not in text and "CryptographyDeprecationWarning" not in text


@pytest.mark.parametrize(
    ("lang", "said"),
    [("nl", "waarschuwing: nmap is niet geïnstalleerd: {n} controles lopen niet"),
     ("en", "warning: nmap is not installed: {n} checks will not run")],
)  # fmt: skip
def test_missing_nmap_is_said_once_with_the_checks_it_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, said: str
) -> None:
    monkeypatch.setattr(nmapscan, "NMAP_SEARCH_PATH", (str(tmp_path / "no-nmap-here"),))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "demo", "--out", str(out), "--lang", lang]
    )
    if result.exit_code == 2 and "in use" in result.output:
        pytest.skip(result.output)
    assert result.exit_code == 0, result.output
    results = Results.model_validate_json((out / "results.json").read_text())
    stopped = [f for f in results.findings if f.error_reason is ErrorReason.TOOL_MISSING]
    assert len(stopped) >= 5
    assert all(f.status is FindingStatus.ERROR for f in stopped)
    n = len(stopped)
    # said once before the scan, not once per check
    assert result.output.count(said.format(n=n)) == 1
    lines = result.output.splitlines()
    assert sum(line.startswith(("warning: nmap", "waarschuwing: nmap")) for line in lines) == 1
    assert sum(line.startswith("  • nmap") for line in lines) == 1  # the summary's one cause
    # and once, as one cause, in the report
    report = (out / f"report.{lang}.md").read_text()
    causes = [line for line in report.splitlines() if line.startswith("> - ")]
    nmap_causes = [line for line in causes if "nmap" in line]
    assert len(nmap_causes) == 1
    assert f"({n} {'controles' if lang == 'nl' else 'checks'}:" in nmap_causes[0]
    assert "apt-get install nmap" in nmap_causes[0]
    html = (out / f"report.{lang}.html").read_text()
    assert html.count('<li class="cause">') == len(causes)

"""Progress people can follow: a live line in a terminal, timestamped lines every few seconds
elsewhere, a closing line with the time and the counts; nothing with -q but errors."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd import progress as progress_module
from cyberstd.cli import main
from cyberstd.progress import ScanProgress, elapsed_text
from cyberstd.results import Finding, FindingStatus, Severity

STARTED = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


class Timer:
    """A monotonic timer the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def finding(check: str, target: str, status: FindingStatus) -> Finding:
    return Finding(
        id=f"{check}@{target}",
        check=check,
        controls=[],
        target=target,
        status=status,
        severity=Severity.LOW,
        message="",
    )


def plain(total: int = 48, lang: str = "nl") -> tuple[ScanProgress, Timer, list[str]]:
    timer, lines = Timer(), []
    scan = ScanProgress(total, lang, lines.append, started=STARTED, monotonic=timer)
    return scan, timer, lines


def test_plain_lines_come_every_five_seconds_and_not_more_often() -> None:
    scan, timer, lines = plain(total=100)
    scan.start("web.hsts", "www.school.be")
    timer.now += 1
    scan.finish(finding("web.hsts", "www.school.be", FindingStatus.PASS))
    scan.start("mail.spf", "school.be")
    timer.now += 3.9
    scan.tick()
    assert lines == []  # 4.9 s: not yet
    timer.now += 0.1
    scan.tick()
    assert lines == ["2026-05-01T10:00:05Z 1/100 · 1 geslaagd · bezig: mail.spf @ school.be"]
    for _ in range(39):  # events and ticks in the next 4.875 s say nothing
        timer.now += 0.125
        scan.tick()
        scan.start("dns.dnssec", "school.be")
        scan.finish(finding("dns.dnssec", "school.be", FindingStatus.FAIL))
    assert len(lines) == 1
    timer.now += 0.125
    scan.finish(finding("mail.spf", "school.be", FindingStatus.ERROR))
    assert lines[1] == "2026-05-01T10:00:10Z 41/100 · 1 geslaagd, 39 gefaald, 1 fout"


def test_a_plain_line_names_the_checks_still_running_and_counts_the_rest() -> None:
    scan, timer, lines = plain(lang="en")
    for n in range(9):
        scan.start(f"c{n}", "www.school.be")
    scan.start("dns.dnssec", None)  # a check without a target is named alone
    scan.finish(finding("c0", "www.school.be", FindingStatus.SKIPPED))
    timer.now += 5
    scan.tick()
    running = ", ".join(f"c{n} @ www.school.be" for n in range(1, 7))
    assert lines == [f"2026-05-01T10:00:05Z 1/48 · 1 skipped · running: {running} and 3 more"]


@pytest.mark.parametrize(
    ("lang", "closing"),
    [
        ("nl", "klaar in 14,2 s: 48 controles, 30 geslaagd, 6 gefaald, 2 fouten, "
               "10 niet van toepassing"),
        ("en", "done in 14.2 s: 48 checks, 30 passed, 6 failed, 2 errors, 10 not applicable"),
    ],
)  # fmt: skip
def test_the_closing_line_gives_time_and_counts_by_status(lang: str, closing: str) -> None:
    scan, timer, lines = plain(lang=lang)
    statuses = (
        [FindingStatus.PASS] * 30
        + [FindingStatus.FAIL] * 6
        + [FindingStatus.ERROR] * 2
        + [FindingStatus.NOT_APPLICABLE] * 10
    )
    for n, status in enumerate(statuses):
        scan.start(f"c{n}", "-" if status is FindingStatus.NOT_APPLICABLE else "host")
        scan.finish(
            finding(f"c{n}", "-" if status is FindingStatus.NOT_APPLICABLE else "host", status)
        )
    timer.now += 14.2
    assert scan.end() == f"2026-05-01T10:00:14Z {closing}"
    assert lines == [f"2026-05-01T10:00:14Z {closing}"]
    scan.end()
    assert len(lines) == 1  # said once
    timer.now += 60
    scan.tick()
    assert len(lines) == 1  # and nothing after it


def test_in_a_terminal_one_live_line_follows_every_event() -> None:
    timer, lines, shown = Timer(), [], []
    scan = ScanProgress(48, "nl", lines.append, started=STARTED, show=shown.append, monotonic=timer)
    for n in range(11):
        scan.start(f"c{n}", "h")
        scan.finish(finding(f"c{n}", "h", FindingStatus.PASS if n < 10 else FindingStatus.FAIL))
    scan.start("web.hsts", "www.school.be")
    scan.start("mail.spf", "school.be")
    scan.start("dns.dnssec", "school.be")
    scan.finish(finding("x", "-", FindingStatus.PASS))
    assert shown[-1] == "12/48 · web.hsts @ www.school.be en nog 2 · 11 geslaagd, 1 gefaald"
    assert len(shown) == 26  # one per event
    timer.now += 30
    scan.tick()
    assert lines == []  # no plain lines in a terminal
    assert scan.end() == "klaar in 30,0 s: 12 controles, 11 geslaagd, 1 gefaald"
    assert lines == ["klaar in 30,0 s: 12 controles, 11 geslaagd, 1 gefaald"]


def test_names_from_the_school_folder_cannot_reach_the_terminal_as_control_codes() -> None:
    shown: list[str] = []
    scan = ScanProgress(1, "en", shown.append, started=STARTED, show=shown.append)
    scan.start("web.hsts", "evil\x1b[2J.school.be")
    assert "\x1b" not in shown[-1] and "\\x1b[2J" in shown[-1]


@pytest.mark.parametrize(
    ("seconds", "nl", "en"),
    [
        (0.04, "0,0 s", "0.0 s"),
        (14.24, "14,2 s", "14.2 s"),
        (75, "1 min 15 s", "1 min 15 s"),
        (3725, "1 u 2 min", "1 h 2 min"),
    ],
)
def test_elapsed_time_as_each_language_writes_it(seconds: float, nl: str, en: str) -> None:
    assert (elapsed_text(seconds, "nl"), elapsed_text(seconds, "en")) == (nl, en)


# --- the command line -------------------------------------------------------------------------


def test_scan_outside_a_terminal_writes_timestamped_progress_to_stderr(
    mini_root: Path, school_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "EVERY", 0.0)  # a line at every event
    result = CliRunner().invoke(
        main,
        ["--root", str(mini_root), "scan", str(school_dir), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 1, result.output  # B1 fails
    lines = result.stderr.splitlines()
    assert lines and all(re.match(rf"{STAMP} ", line) for line in lines), lines
    assert any(re.search(r" 0/2 · bezig: mini\.(ok|bad) @ www\.school\.test", x) for x in lines)
    assert re.fullmatch(
        rf"{STAMP} klaar in \d+,\d s: 2 controles, 1 geslaagd, 1 gefaald", lines[-1]
    ), lines[-1]
    assert "klaar in" not in result.stdout  # progress never mixes with the output
    assert f"wrote {tmp_path / 'o' / 'results.json'}" in result.stdout


def test_scan_speaks_the_language_of_lang(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "--root",
            str(mini_root),
            "scan",
            str(school_dir),
            "--out",
            str(tmp_path / "o"),
            "--lang",
            "en",
        ],
    )
    assert re.fullmatch(
        rf"{STAMP} done in \d+\.\d s: 2 checks, 1 passed, 1 failed\n", result.stderr
    ), result.stderr


def test_quiet_scan_prints_nothing_but_errors_and_keeps_the_exit_code(
    mini_root: Path, school_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    args = ["--root", str(mini_root), "scan", str(school_dir), "--out", str(out), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1  # B1 fails
    assert (result.stdout, result.stderr) == ("", "")
    assert (out / "results.json").is_file()
    wrong = CliRunner().invoke(main, [*args, "--profile", "no-such-profile"])
    assert wrong.exit_code == 2
    assert "no-such-profile" in wrong.stderr and wrong.stdout == ""


def test_scan_in_a_terminal_leaves_only_the_closing_line(
    mini_root: Path, school_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # what rich takes for a terminal
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    monkeypatch.setenv("TERM", "xterm")
    result = CliRunner().invoke(
        main,
        ["--root", str(mini_root), "scan", str(school_dir), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 1, result.output
    assert "2/2 · " in result.stderr  # the live line was drawn
    last = result.stderr.splitlines()[-1]
    assert re.search(r"klaar in \d+,\d s: 2 controles, 1 geslaagd, 1 gefaald$", last), last
    assert not re.search(STAMP, result.stderr)  # no plain lines in a terminal

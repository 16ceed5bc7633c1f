"""The lab school and `cyberstd demo`: every flaw switched on is found, nothing switched off is."""

from __future__ import annotations

import datetime as dt
import errno
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from cyberstd.clock import Clock
from cyberstd.lab import DEMO_FLAWS, Flaw, lab_school
from cyberstd.lab.timeshift import DEMO_DAY, CopyRefused, shift_text, shifted_copy
from cyberstd.messages import day as in_words
from cyberstd.results import ControlStatus, FindingStatus, Results
from cyberstd.runner import context_for, evaluate, execute, make_plan
from cyberstd.school import load_school
from tests.conftest import CLOCK, REPO

DEMO = REPO / "examples" / "demo-school"

# What each flaw must make fail: (check, target) pairs.
EXPECTED: dict[Flaw, set[tuple[str, str]]] = {
    Flaw.SHORT_HSTS: {("web.hsts", "www.demo-school.test")},
    Flaw.SERVER_VERSION: {
        ("web.server-disclosure", "www.demo-school.test"),
        ("software.outdated", "www.demo-school.test"),
    },
    Flaw.NO_SECURITY_HEADERS: {("web.security-headers", "www.demo-school.test")},
    Flaw.NO_SECURITY_TXT: {("web.security-txt", "www.demo-school.test")},
    Flaw.NO_PRIVACY_LINK: {("web.privacy-statement", "www.demo-school.test")},
    Flaw.FORGOTTEN_RDP: {
        ("ports.exposed-services", "oud.demo-school.test"),
        ("ports.undeclared", "oud.demo-school.test"),
    },
    Flaw.OUTDATED_SSH: {("software.outdated", "oud.demo-school.test")},
    Flaw.ADMIN_REACHABLE: {
        ("segmentation.forbidden-reachable", "demo-school"),
        ("ports.exposed-services", "admin.demo-school.test"),
    },
    Flaw.DMARC_NONE: {("mail.dmarc-enforced", "demo-school.test")},
    Flaw.NO_MTA_STS: {("mail.mta-sts", "demo-school.test")},
    Flaw.NO_TLS_RPT: {("mail.tls-rpt", "demo-school.test")},
    Flaw.UNKNOWN_DEVICE: {
        ("inventory.unknown-devices", "demo-school"),
        ("segmentation.forbidden-reachable", "demo-school"),
    },
}


def _scan(flaws: frozenset[Flaw], clock: Clock, tmp: Path) -> Results:
    """The demo school, its dates moved to the clock's day, scanned in the lab school."""
    catalog, problems = load_catalog(REPO)
    assert problems == []
    copy = shifted_copy(DEMO, tmp / "demo-school", (clock.today - DEMO_DAY).days)
    folder, problems = load_school(copy, catalog, clock.today)
    assert problems == [] and folder is not None
    try:
        with lab_school(tmp / "lab", clock=clock, flaws=flaws) as lab:
            plan = make_plan(catalog, folder)
            ctx = context_for(folder, ca_bundle=lab.ca_bundle, clock=clock, kinds=catalog.kinds)
            findings = execute(plan, ctx)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EADDRINUSE):
            pytest.skip(f"the lab school cannot bind its ports here: {exc}")
        raise
    return evaluate(plan, findings, clock=clock, catalog_inputs=catalog.inputs)


def _failed(results: Results) -> set[tuple[str, str]]:
    return {(f.check, f.target) for f in results.findings if f.status is FindingStatus.FAIL}


@dataclass(frozen=True)
class DemoRun:
    """What `cyberstd demo` printed and wrote."""

    output: str
    out: Path
    results: Results


def _demo(out: Path, *extra: str) -> DemoRun:
    result = CliRunner().invoke(main, ["--root", str(REPO), "demo", "--out", str(out), *extra])
    if result.exit_code == 2 and ("in use" in result.output or "root" in result.output):
        pytest.skip(result.output)
    assert result.exit_code == 0, result.output
    results = Results.model_validate_json((out / "results.json").read_text())
    return DemoRun(result.output, out, results)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """`cyberstd demo` on the session's day."""
    return _demo(tmp_path_factory.mktemp("demo") / "out", "--as-of", CLOCK.today.isoformat())


@pytest.fixture(scope="module")
def demo_results(demo_run: DemoRun) -> Results:
    return demo_run.results


def test_every_demo_flaw_is_found(demo_results: Results) -> None:
    failed = _failed(demo_results)
    for flaw in DEMO_FLAWS:
        missing = EXPECTED.get(flaw, set()) - failed
        assert not missing, f"{flaw}: not found: {missing}"
    expiry = next(
        f for f in demo_results.findings if f.id == "tls.cert-expiry@www.demo-school.test"
    )
    assert expiry.status is FindingStatus.PASS and expiry.warning
    assert not [f for f in demo_results.findings if f.status is FindingStatus.ERROR]


def test_demo_controls(demo_results: Results) -> None:
    status = {c.id: c for c in demo_results.controls}
    assert status["T12"].status is ControlStatus.NON_COMPLIANT
    assert status["O5"].status is ControlStatus.NON_COMPLIANT  # the unknown device
    assert status["T10"].status is ControlStatus.NON_COMPLIANT
    assert status["O13"].status is ControlStatus.NON_COMPLIANT  # a leaver's account, still enabled
    assert status["O13"].attestation is not None and status["O13"].attestation.expired
    assert status["O12"].status is ControlStatus.WAIVED
    assert status["O12"].underlying_status is ControlStatus.NON_COMPLIANT
    assert status["T5"].status is ControlStatus.NON_COMPLIANT
    assert status["T5"].waiver is not None and status["T5"].waiver.expired
    assert demo_results.summary.level_reached == 0


# What the demo school's configuration exports (fixed files, not lab flaws) make fail.
CONFIG_FAILS = {
    ("entra.mfa-all-users", "exports/m365/security-defaults.json", "isEnabled"),
    ("entra.global-admin-count", "exports/m365/directory-roles.json", "partner@demo-school.test"),
    ("entra.stale-accounts", "exports/m365/users.json", "j.peeters@demo-school.test"),
    ("fortigate.admin-on-wan", "exports/firewall/fortigate.conf", "wan1"),
    ("wifi.staff-enterprise", "exports/wifi/wlanconf.json", "DemoSchool-Secretariaat"),
    ("endpoint.disk-encryption", "exports/intune-devices.csv", "LKR-LAPTOP-031"),
    ("backup.restore-tested", "exports/backup-report.csv", "12/06/2025"),
    # the policy is one JSON object: the finding points at its start, and shows the length
    ("ad.password-length", "exports/ad/password-policy.json", "{"),
    ("ad.stale-accounts", "exports/ad/ad-users.csv", "j.peeters"),
    # advice: an account whose password never expires, not declared a service account
    ("ad.password-never-expires", "exports/ad/ad-users.csv", "svc-backup"),
}
SECRETS = (
    "Leerlingen2026!",
    "Secretariaat2019",
    "SH2nlSm9Qj3cQ0hQp3JK6yyb4fTkJ9xfR0n2c4JqkZ6c0m0Yb1c=",
    "MIIFHDBOBgkq",
)


def test_config_exports_fail_with_file_and_line(demo_run: DemoRun) -> None:
    demo_results = demo_run.results
    days = (CLOCK.today - DEMO_DAY).days
    config = {f.check: f for f in demo_results.findings if "files" in f.evidence}
    failed = {c for c, f in config.items() if f.status is FindingStatus.FAIL}
    assert failed == {c for c, _, _ in CONFIG_FAILS}
    for check, file, needle in CONFIG_FAILS:
        path = demo_run.out / "demo-school" / file
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        evidence = config[check].evidence
        items = evidence.get("items") or [
            it
            for part in evidence.get("any_of", []) + evidence.get("all_of", [])
            if part["status"] == "fail"
            for it in part["items"]
        ]
        located = [it for it in items if it.get("ok") is not True and it.get("line")]
        assert located, check
        moved = shift_text(needle, days)
        assert any(moved in lines[it["line"] - 1] for it in located), (check, located)
        assert all(it["file"].endswith(file) for it in located)
    (policy,) = config["ad.password-length"].evidence["items"]
    assert policy["actual"]["MinPasswordLength"] == 8
    dump = demo_results.model_dump_json()
    assert not any(secret in dump for secret in SECRETS)
    assert (
        status_of(demo_results, "T11") is ControlStatus.COMPLIANT
    )  # logs forwarded, every accept policy logs


def status_of(results: Results, control: str) -> ControlStatus:
    return next(c.status for c in results.controls if c.id == control)


def test_nothing_is_found_when_every_flaw_is_off(tmp_path: Path) -> None:
    results = _scan(frozenset(), CLOCK, tmp_path)
    network = {(c, t) for c, t in _failed(results) if c.split(".")[0] not in CONFIG_PREFIXES}
    assert network == set()
    assert not [f for f in results.findings if f.status is FindingStatus.ERROR]


CONFIG_PREFIXES = {c.split(".")[0] for c, _, _ in CONFIG_FAILS}


def _listening(port: int, address: str = "127.0.10.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((address, port)) == 0


def test_demo_command(demo_run: DemoRun) -> None:
    out, output = demo_run.out, demo_run.output
    assert "Bereikt niveau: nog geen niveau / 6" in output
    assert f"wrote {out / 'results.json'}" in output
    assert '<html lang="nl"' in (out / "report.nl.html").read_text()
    report = (out / "report.nl.md").read_text()
    expired = dt.date.fromisoformat(shift_text("2026-09-30", (CLOCK.today - DEMO_DAY).days))
    assert (
        f"uitzondering van L. Janssens, directeur is verlopen op {in_words(expired, 'nl')}"
        in report
    )
    assert "## Niveau 6" in report
    assert any(p.endswith("evidence/o3-policy.md") for p in demo_run.results.run.inputs)
    # the lab is gone
    assert not _listening(18080) and not _listening(25, "127.0.10.2")


@pytest.mark.timeout(300)
def test_the_demo_report_prints_on_at_most_25_a4_pages(demo_run: DemoRun) -> None:
    """The demo's full HTML report printed by Chromium: A4, at most 25 pages, and the board
    summary of the same run on at most two."""
    from cyberstd.report.pdf import find_chromium
    from cyberstd.report.summary import render as render_summary
    from tests.report.printing import assert_a4, printed

    if find_chromium() is None:
        pytest.skip("needs headless Chromium (Debian package 'chromium')")
    pages = printed((demo_run.out / "report.nl.html").read_text(encoding="utf-8"))
    assert_a4(pages)
    assert len(pages) <= 25, len(pages)
    summary = printed(render_summary(demo_run.results, "nl"))
    assert_a4(summary)
    assert len(summary) <= 2


@pytest.mark.parametrize("days", [400, -400])
def test_the_demo_tells_the_same_story_on_any_day(
    demo_run: DemoRun, tmp_path: Path, days: int
) -> None:
    """Moved 400 days ahead or back, the demo finds the same flaws, at the same places, with
    the same control statuses and level, and nothing in error."""
    day = CLOCK.today + dt.timedelta(days=days)
    moved = _demo(tmp_path / "out", "--as-of", day.isoformat()).results
    assert moved.run.as_of == day
    # the run records when it really ran, and every report says as of which day it judged
    assert abs((moved.run.started - demo_run.results.run.started).days) < 1
    assert (
        f"Beoordeeld alsof het {in_words(day, 'nl')} is"
        in (tmp_path / "out" / "report.nl.md").read_text()
    )
    assert f'<dd id="as-of">{day}</dd>' in (tmp_path / "out" / "report.nl.html").read_text()
    assert _failed(moved) == _failed(demo_run.results)
    assert {c.id: c.status for c in moved.controls} == {
        c.id: c.status for c in demo_run.results.controls
    }
    assert moved.summary.level_reached == demo_run.results.summary.level_reached
    assert not [f for f in moved.findings if f.status is FindingStatus.ERROR]
    waiver = next(c.waiver for c in moved.controls if c.id == "T5")
    assert waiver is not None and waiver.expired
    assert waiver.expires == dt.date(2026, 9, 30) + dt.timedelta(days=(day - DEMO_DAY).days)


def test_a_shifted_copy_moves_dates_and_nothing_else(tmp_path: Path) -> None:
    text = (
        "2026-11-28T16:02:12Z;2026-11-28 22:00:14;12/06/2025;10.0.26100.6899;"
        "2026-2027;2026-13-01;FGT60F-7.4.3;31/02/2026\n"
    )
    assert shift_text(text, 10) == (
        "2026-12-08T16:02:12Z;2026-12-08 22:00:14;22/06/2025;10.0.26100.6899;"
        "2026-2027;2026-13-01;FGT60F-7.4.3;31/02/2026\n"
    )
    # the forms Windows and DSM write: nl-BE's day without a zero, US month-first with AM/PM
    # (never taken for day-first), DSM's year-first; a slashed date without AM/PM whose day
    # has one digit cannot say which is the month, and stays
    others = (
        "4/12/2026 15:41:22;11/26/2026 10:30:12 PM;6/2/2026 9:05 AM;2026/11/28 01:52:07;4/5/2026"
    )
    assert shift_text(others, 10) == (
        "14/12/2026 15:41:22;12/06/2026 10:30:12 PM;6/12/2026 9:05 AM;2026/12/08 01:52:07;4/5/2026"
    )
    copy = shifted_copy(DEMO, tmp_path / "copy", -400)
    for original in (DEMO / "evidence").iterdir():
        assert (copy / "evidence" / original.name).read_bytes() == original.read_bytes()
    backup = (copy / "exports" / "backup-report.csv").read_bytes()
    assert backup.startswith(b"\xef\xbb\xbf")  # the byte order mark stays
    assert b"08/05/2024" in backup  # 12/06/2025 moved 400 days back (DD/MM/YYYY)
    with pytest.raises(CopyRefused):
        shifted_copy(DEMO, tmp_path, 1)  # not a copy: never replaced
    assert shifted_copy(DEMO, copy, 0) == copy  # an earlier, unchanged copy is replaced


def test_a_copy_never_loses_what_someone_wrote(tmp_path: Path) -> None:
    copy = shifted_copy(DEMO, tmp_path / "copy", 3)
    with (copy / "attestations.yaml").open("a", encoding="utf-8") as out:
        out.write("# my own note\n")
    with pytest.raises(CopyRefused, match="not an unchanged copy"):
        shifted_copy(DEMO, copy, 3)
    assert "# my own note" in (copy / "attestations.yaml").read_text(encoding="utf-8")
    extra = shifted_copy(DEMO, tmp_path / "other", 3) / "evidence" / "mine.pdf"
    extra.write_bytes(b"%PDF")
    with pytest.raises(CopyRefused):
        shifted_copy(DEMO, extra.parent.parent, 3)
    assert extra.is_file()


def test_a_copy_onto_its_own_school_or_with_a_link_is_refused(tmp_path: Path) -> None:
    school = shifted_copy(DEMO, tmp_path / "school", 0)
    (school / "notes.txt").write_text("mine", encoding="utf-8")
    for target in (school, school / "inner", tmp_path):
        with pytest.raises(CopyRefused, match="overlaps"):
            shifted_copy(school, target, 1)
    assert (school / "notes.txt").read_text(encoding="utf-8") == "mine"
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "school.yaml").symlink_to(school / "school.yaml")
    with pytest.raises(CopyRefused, match="symbolic link"):
        shifted_copy(linked, tmp_path / "out", 1)
    assert not (tmp_path / "out").exists()


def test_the_demo_writes_only_into_an_empty_folder_or_an_earlier_demo(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(REPO), "demo", "--out", str(out)])
    assert result.exit_code == 2
    assert "not empty" in result.output and "Traceback" not in result.output
    assert (out / "results.json").read_text(encoding="utf-8") == "mine"
    assert not (out / "demo-school").exists()


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("2026-02-29", "not a day of the calendar"),
        ("1970-01-01", "lies outside 1990-01-01 to 2099-12-31"),
        ("9999-12-31", "lies outside"),
        ("29/11/2026", "not a day written YYYY-MM-DD"),
        ("", "not a day written YYYY-MM-DD"),
    ],
)
def test_a_bad_as_of_is_a_clear_usage_error(tmp_path: Path, value: str, said: str) -> None:
    for command in ("demo", "scan", "validate"):
        args = [command, str(DEMO)] if command != "demo" else [command]
        result = CliRunner().invoke(
            main, ["--root", str(REPO), *args, "--out" if command != "validate" else "--as-of",
                   *( [str(tmp_path / command), "--as-of"] if command != "validate" else []),
                   value],
        )  # fmt: skip
        assert result.exit_code == 2, (command, result.output)
        assert said in result.output and "Traceback" not in result.output
    assert not (tmp_path / "demo").exists()


# Formats a person reads in their language (json and oscal keep both languages side by side).
READ_FORMATS = ("md", "html", "csv", "csv-semicolon", "sarif", "junit")


def _dutch_renderings(results: Results) -> dict[str, str]:
    import io

    from rich.console import Console

    from cyberstd.report import FORMATS, renderer
    from cyberstd.report.terminal import summary

    out = {fmt: renderer(fmt)(results, "nl") for fmt in FORMATS if fmt in READ_FORMATS}
    buffer = io.StringIO()
    Console(file=buffer, width=160, color_system=None).print(summary(results, "nl"))
    out["terminal"] = buffer.getvalue()
    return out


def _data_of(results: Results) -> tuple[str, ...]:
    """What the school wrote itself (names, explanations) and the product names a scan reads:
    not sentences of ours."""
    values = [results.school.name, results.school.id, results.run.profile]
    for c in results.controls:
        if c.attestation is not None:
            values += [c.attestation.explanation, c.attestation.attested_by]
    for w in results.waivers:
        values += [w.reason, w.approved_by]
    return tuple(values)


def test_the_dutch_reports_hold_no_english_sentence(demo_results: Results) -> None:
    from tests.english import english_in

    for fmt, text in _dutch_renderings(demo_results).items():
        assert english_in(text, _data_of(demo_results)) == [], fmt


def test_a_run_where_every_check_fails_reads_dutch_too(demo_results: Results) -> None:
    from tests.english import english_in

    failing = demo_results.model_copy(deep=True)
    for f in failing.findings:
        f.status = FindingStatus.FAIL
        f.advises = []
    for c in failing.controls:
        if c.finding_ids:
            c.status = ControlStatus.NON_COMPLIANT
    for fmt, text in _dutch_renderings(failing).items():
        assert english_in(text, _data_of(failing)) == [], fmt

"""`cyberstd baseline`: exit codes, SARIF and JUnit that parse and point at the offending lines."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cyberstd.cli import main
from cyberstd.clock import Clock
from cyberstd.paths import display_path
from tests.conftest import REPO

EXPORTS = REPO / "examples" / "demo-school" / "exports"
AS_OF = "2026-11-29"
SECRETS = (
    "Leerlingen2026!",
    "Secretariaat2019",
    "SH2nlSm9Qj3cQ0hQp3JK6yyb4fTkJ9xfR0n2c4JqkZ6c0m0Yb1c=",
    "MIIFHDBOBgkqhkiG9w0BBQ0w",
)

GOOD_WIFI = {
    "meta": {"rc": "ok"},
    "data": [
        {
            "name": "Personeel",
            "enabled": True,
            "security": "wpaeap",
            "wpa_mode": "wpa2",
            "is_guest": False,
        },
        {
            "name": "Gasten",
            "enabled": True,
            "security": "open",
            "is_guest": True,
            "l2_isolation": True,
        },
    ],
}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["--root", str(REPO), "baseline", "--as-of", AS_OF, *args])


@pytest.fixture
def good_wifi(tmp_path: Path) -> Path:
    path = tmp_path / "wlanconf.json"
    path.write_text(json.dumps(GOOD_WIFI, indent=2))
    return path


def test_exit_0_when_every_rule_holds(good_wifi: Path) -> None:
    result = run(str(good_wifi))
    assert result.exit_code == 0, result.output
    assert "4 checks: 4 pass, 0 fail, 0 error" in result.output


def test_exit_1_when_a_rule_fails_and_the_text_names_file_and_line() -> None:
    result = run(str(EXPORTS / "wifi" / "wlanconf.json"))
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if "[wifi.staff-enterprise]" in x)
    assert line.startswith(f"{display_path(EXPORTS / 'wifi' / 'wlanconf.json')}:6: FAIL")
    assert "DemoSchool-Secretariaat" in line


@pytest.mark.parametrize(
    ("content", "name", "needle"),
    [
        (
            '{"meta": {"rc": "ok"}, "data": [{"name": "x", "security": "open"',
            "wlan.json",
            "wlan.json:1: ERROR [cyberstd.input] unexpected end of file (the export may be truncated)",
        ),
        ("\x00\x01binary", "wlan.json", "cannot tell what kind"),
        (
            "just some words\n",
            "notes.txt",
            "cannot tell what kind of export this is; give it with --kind",
        ),
    ],
)
def test_exit_2_on_bad_input(tmp_path: Path, content: str, name: str, needle: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = run(str(path))
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output


def test_exit_2_on_missing_file_and_unknown_kind(tmp_path: Path, good_wifi: Path) -> None:
    result = run(str(tmp_path / "nope.json"))
    assert (
        result.exit_code == 2
        and "nope.json: ERROR [cyberstd.input] file not found" in result.output
    )
    result = run("--kind", "wifi-controler", str(good_wifi))
    assert result.exit_code == 2
    assert "unknown kind 'wifi-controler' (did you mean 'wifi-controller'?)" in result.output


def test_kind_given_explicitly(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    path.write_text(json.dumps({"ssids": ["Personeel"]}))
    assert run(str(path)).exit_code == 2
    result = run("--kind", "json", str(path))
    assert result.exit_code == 0, result.output
    assert "1 file, 0 checks" in result.output


def test_folders_are_searched_for_known_kinds(tmp_path: Path) -> None:
    shutil.copytree(EXPORTS / "m365", tmp_path / "m365")
    (tmp_path / "m365" / "README.txt").write_text("not an export\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "users.json").write_text("{broken")
    result = run("--format", "json", str(tmp_path))
    doc = json.loads(result.stdout)
    judged = ["conditional-access.json", "directory-roles.json", "security-defaults.json",
              "users.json"]  # fmt: skip
    # A file of no known kind in a folder is named as an input error, never dropped in silence
    assert sorted(Path(f["path"]).name for f in doc["files"]) == ["README.txt", *judged]
    readme = next(f for f in doc["files"] if f["path"].endswith("README.txt"))
    assert "cannot tell what kind" in readme["error"]
    assert result.exit_code == 2
    # with --skip-unknown it is skipped, and still named in every format
    result = run("--format", "json", "--skip-unknown", str(tmp_path))
    doc = json.loads(result.stdout)
    readme = next(f for f in doc["files"] if f["path"].endswith("README.txt"))
    assert "cannot tell what kind" in readme["skipped"] and result.exit_code == 1
    text = run("--skip-unknown", str(tmp_path)).output
    assert "README.txt: SKIPPED" in text and "1 file skipped" in text
    junit = run("--format", "junit", "--skip-unknown", str(tmp_path)).output
    case = ET.fromstring(junit).find(".//testsuite[@name]/testcase/skipped/..")
    assert case is not None and "README.txt" in ET.tostring(case, encoding="unicode")
    sarif = json.loads(run("--format", "sarif", "--skip-unknown", str(tmp_path)).output)
    (note,) = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "README.txt"
    )


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_sarif_points_at_the_offending_lines(tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    result = run("--format", "sarif", "-o", str(out), str(EXPORTS / "m365"), str(EXPORTS / "wifi"))
    assert result.exit_code == 1
    doc = json.loads(out.read_text())
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert all(r["defaultConfiguration"]["level"] in {"error", "warning", "note"} for r in rules)
    by_rule: dict[str, list[dict[str, object]]] = {}
    for r in run_["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        by_rule.setdefault(r["ruleId"], []).append(r)
    stale = by_rule["entra.stale-accounts"][0]
    loc = stale["locations"][0]["physicalLocation"]  # type: ignore[index]
    users = EXPORTS / "m365" / "users.json"
    assert loc["artifactLocation"]["uri"].endswith("m365/users.json")
    assert loc["region"]["startLine"] == _line_of(users, "j.peeters@demo-school.test")
    admins = by_rule["entra.global-admin-count"]
    assert len(admins) == 5  # one result per Global Administrator, each on its own line
    wifi = by_rule["wifi.staff-enterprise"][0]
    line = wifi["locations"][0]["physicalLocation"]["region"]["startLine"]  # type: ignore[index]
    assert line == _line_of(EXPORTS / "wifi" / "wlanconf.json", "DemoSchool-Secretariaat")
    assert "entra.mfa-admins" not in by_rule  # it passes
    assert not any(s in out.read_text() for s in SECRETS)


def test_junit_has_a_case_per_check_and_file(tmp_path: Path) -> None:
    result = run("--format", "junit", str(EXPORTS / "m365"), str(EXPORTS / "backup-report.csv"))
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert (
        int(root.get("tests", "0")) == len(cases) == 10
    )  # eight required, and the advice of entra.break-glass and entra.mail-own-domain
    failed = {c.get("name", "").split(":")[0] for c in cases if c.find("failure") is not None}
    assert failed == {
        "entra.mfa-all-users",
        "entra.global-admin-count",
        "entra.stale-accounts",
        "backup.restore-tested",
    }
    suites = {s.get("name") for s in root.findall("testsuite")}
    assert display_path(EXPORTS / "backup-report.csv") in suites


def test_junit_error_for_a_file_that_does_not_parse(tmp_path: Path) -> None:
    bad = tmp_path / "users.json"
    bad.write_text(
        '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": [\x01]}'
    )
    result = run("--format", "junit", str(bad))
    assert result.exit_code == 2
    root = ET.fromstring(result.stdout)  # control characters cannot break the XML
    case = root.find("./testsuite/testcase")
    assert case is not None and case.get("line") == "1"
    assert (case.get("file") or "").endswith("users.json")
    error = case.find("error")
    assert error is not None and "unexpected character" in (error.get("message") or "")


def test_json_output_and_no_secret_anywhere() -> None:
    result = run("--format", "json", str(EXPORTS))
    for secret in SECRETS:
        assert secret not in result.output
    doc = json.loads(result.stdout)
    assert doc["run"]["profile"] == "ci-baseline"
    assert {f["kind"] for f in doc["files"]} >= {"wifi-controller", "entra-users", "fortigate"}


def test_unknown_profile_and_profile_without_config_checks() -> None:
    result = run("--profile", "nope", str(EXPORTS / "wifi"))
    assert result.exit_code == 2 and "unknown profile 'nope'" in result.output


def test_pre_commit_hook_skips_files_of_no_known_kind(good_wifi: Path, tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "cyberstd-baseline")
    entry = hook["entry"].split()
    assert entry[:2] == ["cyberstd", "baseline"]
    notes = tmp_path / "notes.json"
    notes.write_text('{"todo": "nothing"}')
    import re

    assert re.search(hook["files"], "configs/fw/school-fw.conf")
    result = run(*entry[2:], str(notes), str(good_wifi))
    assert result.exit_code == 0, result.output
    assert "1 file, 4 checks" in result.output and "1 file skipped" in result.output
    assert "notes.json: SKIPPED" in result.output
    assert run(str(notes), str(good_wifi)).exit_code == 2  # without the flag: named, so an error


def test_checks_kinds_lists_every_kind() -> None:
    result = CliRunner().invoke(main, ["--root", str(REPO), "checks", "kinds", "--lang", "en"])
    assert result.exit_code == 0
    rows = {line.split()[0]: line for line in result.output.splitlines()}
    assert "fortigate" in rows and " 13 checks" in rows["fortigate"]  # with its Wi-Fi
    assert rows["entra-users"].split()[1] == "json"


def test_an_export_without_its_kinds_layout_is_refused_not_passed(tmp_path: Path) -> None:
    # A bare list instead of the controller's {"data": [...]}, and a device list whose column
    # is called otherwise: no rule may pass on what it cannot see.
    wifi = tmp_path / "wlanconf.json"
    wifi.write_text('[{"name": "Open", "security": "open", "wpa_mode": "wpa1"}]')
    devices = tmp_path / "intune-devices.csv"
    devices.write_text(
        "Device name,Operating system,OS version,Last check-in,Encrypted\n"
        "PC1,Windows,10.0.19045,2026-11-28,False\n"
    )
    result = run(str(wifi), str(devices))
    assert result.exit_code == 2, result.output
    assert (
        "wlanconf.json: ERROR [cyberstd.input] this wifi-controller export lacks data"
        in result.output
    )
    assert "this intune-devices export lacks column 'OS'" in result.output
    assert "0 pass" in result.output


def test_nothing_to_judge_or_nowhere_to_write_is_exit_2(tmp_path: Path, good_wifi: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing here\n")
    result = run(str(empty))
    assert result.exit_code == 2
    assert "notes.txt: ERROR [cyberstd.input] cannot tell what kind" in result.output
    result = run("--skip-unknown", str(empty))
    assert result.exit_code == 2
    assert "no configuration export of a known kind found in" in result.output
    result = run("--format", "sarif", "-o", str(tmp_path / "missing" / "x.sarif"), str(good_wifi))
    assert result.exit_code == 2 and "cannot write" in result.output


def test_the_same_file_named_twice_is_judged_once(good_wifi: Path) -> None:
    link = good_wifi.with_name("link.json")
    link.symlink_to(good_wifi)
    result = run("--format", "json", str(good_wifi), str(good_wifi), str(link))
    doc = json.loads(result.stdout)
    assert len(doc["files"]) == 1
    ids = [f["id"] for f in doc["findings"]]
    assert len(ids) == len(set(ids)) == 4


def test_hostile_files_are_input_errors(tmp_path: Path) -> None:
    huge = tmp_path / "users.json"
    huge.write_text(
        '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": ['
        + "9" * 5000
        + "]}"
    )
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    fifo = tmp_path / "pipe.json"
    import os

    os.mkfifo(fifo)
    result = run(str(huge), str(loop), str(fifo))
    assert result.exit_code == 2, result.output
    assert "a number of 5000 digits is too long" in result.output
    assert "loop.json: ERROR [cyberstd.input]" in result.output
    assert "pipe.json: ERROR [cyberstd.input] not a regular file" in result.output


def test_an_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    server = tmp_path / "srv"
    (server / "sshd_config.d").mkdir(parents=True)
    (server / "sshd_config").write_text("Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n")
    (server / "sshd_config.d" / "50-broken.conf").write_text(
        "PermitRootLogin no\nPasswordAuthentication\n"
    )
    result = run("--format", "sarif", str(server / "sshd_config"))
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    loc = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("sshd_config.d/50-broken.conf")
    assert loc["region"]["startLine"] == 2


def test_sarif_uris_are_encoded(tmp_path: Path) -> None:
    folder = tmp_path / "cfg dir" / "fw#1"
    folder.mkdir(parents=True)
    wifi = folder / "wlan 50%.json"
    shutil.copyfile(EXPORTS / "wifi" / "wlanconf.json", wifi)
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = run("--format", "sarif", "cfg dir")
    finally:
        os.chdir(cwd)
    doc = json.loads(result.stdout)
    loc = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "cfg%20dir/fw%231/wlan%2050%25.json", "uriBaseId": "%SRCROOT%"}


def test_sarif_validates_against_the_oasis_schema(tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads((REPO / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
    bad = tmp_path / "users.json"
    bad.write_text(
        '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": ['
    )
    result = run("--format", "sarif", str(EXPORTS), str(bad))
    doc = json.loads(result.stdout)
    assert doc["runs"][0]["results"], "something to validate"
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)


def test_many_files_in_worker_processes_give_the_same_verdicts(tmp_path: Path) -> None:
    from cyberstd.baseline import PARALLEL_MIN, run_baseline
    from cyberstd.catalog import load_catalog

    sources = [p for p in sorted(EXPORTS.rglob("*")) if p.is_file()]
    for i in range(PARALLEL_MIN + 10):
        src = sources[i % len(sources)]
        target = tmp_path / f"site{i:03d}" / src.relative_to(EXPORTS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    catalog, _ = load_catalog(REPO)
    clock = Clock.at(__import__("datetime").date(2026, 11, 29))
    one = run_baseline(catalog, "ci-baseline", [tmp_path], clock=clock, workers=1)
    two = run_baseline(catalog, "ci-baseline", [tmp_path], clock=clock, workers=2)
    assert [f.path for f in one.files] == [f.path for f in two.files]
    assert len(one.files) == PARALLEL_MIN + 10
    key = [(f.id, f.status, f.message) for f in one.findings]
    assert key == [(f.id, f.status, f.message) for f in two.findings]
    # a rule over two kinds (security defaults or conditional access) saw both in both runs
    assert any(f.check == "entra.mfa-all-users" and "any_of" in f.evidence for f in two.findings)


def test_a_value_with_line_breaks_cannot_forge_a_line(tmp_path: Path) -> None:
    """A host name holding CR/LF and a fake verdict stays inside its own output line."""
    forged = "pc1\r\nbl/devices.csv: PASS [inventory.devices-classified] all devices classified"
    export = tmp_path / "devices.csv"
    export.write_text(
        "hostname,ip,type,owner,location,classification,last_seen\r\n"
        f'"{forged}",10.0.0.5,laptop,,,,2026-11-20\r\n',
        encoding="utf-8",
    )
    result = run(str(export), "--kind", "device-inventory", "--lang", "en")
    shown = result.stdout + result.stderr
    assert "\r" not in shown
    assert not any(line.startswith("bl/devices.csv: PASS") for line in shown.splitlines())

"""No command writes over its own input, and every output is written whole or not at all."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.errors import UsageError
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.outputs import write_atomic
from tests.conftest import REPO, scan_demo_config

EXPORTS = REPO / "examples" / "demo-school" / "exports"


def _cli(*args: str) -> object:
    return CliRunner().invoke(main, ["--root", str(REPO), *args])


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scan_demo_config(tmp_path_factory.mktemp("scan"))


def test_report_never_overwrites_the_results_it_reads(results: Path, tmp_path: Path) -> None:
    before = results.read_bytes()
    link = tmp_path / "link.json"
    link.symlink_to(results)
    for target in (results, link):
        result = CliRunner().invoke(main, ["report", str(results), "-o", str(target)])
        assert result.exit_code == 2, result.output
        assert "also an input" in result.output
    assert results.read_bytes() == before


def test_diff_never_overwrites_either_run(results: Path) -> None:
    before = results.read_bytes()
    result = CliRunner().invoke(main, ["diff", str(results), str(results), "-o", str(results)])
    assert result.exit_code == 2, result.output
    assert results.read_bytes() == before


def test_baseline_never_overwrites_an_export(tmp_path: Path) -> None:
    export = tmp_path / "users.json"
    export.write_bytes((EXPORTS / "m365" / "users.json").read_bytes())
    before = export.read_bytes()
    result = _cli(
        "baseline", str(export), "--kind", "entra-users", "--format", "json", "-o", str(export)
    )
    assert result.exit_code == 2, result.output
    assert export.read_bytes() == before


def test_a_bundle_never_lands_on_a_school_file(tmp_path: Path) -> None:
    school = tmp_path / "school"
    import shutil

    shutil.copytree(REPO / "examples" / "demo-school", school)
    target = school / "exports" / "devices.csv"
    before = target.read_bytes()
    out = tmp_path / "out"
    result = _cli(
        "scan", str(school), "--profile", "ci-baseline", "--as-of", DEMO_DAY.isoformat(),
        "--out", str(out), "-q", "--bundle", str(target),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert target.read_bytes() == before
    assert not (out / "results.json").exists()  # refused before anything was written


def test_an_atomic_write_leaves_the_old_file_when_it_fails(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old", encoding="utf-8")
    write_atomic(target, b"new")
    assert target.read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]  # no temporary file left
    with pytest.raises(UsageError, match="folder"):
        write_atomic(tmp_path, b"x")


# Secrets of the demo school's exports, as its vendors write them (UniFi x_passphrase,
# FortiGate ENC password and psksecret).
DEMO_SECRETS = (b"Leerlingen2026!", b"SH2nlSm9Qj3cQ0hQp3JK6yyb4fTkJ9xfR0n2c4JqkZ6c0m0Yb1c=",
                b"qO4o2TZ2ehQ9v0u1bK3z7sX8pYfWm6nL5rE4tA3dC2gB1=")  # fmt: skip


def _members(bundle: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(bundle) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _bundle(tmp_path: Path, *extra: str) -> tuple[object, Path]:
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "bundle.zip"
    result = _cli(
        "scan", str(REPO / "examples" / "demo-school"), "--profile", "ci-baseline",
        "--as-of", DEMO_DAY.isoformat(), "--out", str(out), "-q", "--bundle", str(target), *extra,
    )  # fmt: skip
    return result, target


def test_a_bundle_holds_the_exports_redacted_by_default(tmp_path: Path) -> None:
    import json

    for secret in DEMO_SECRETS:  # the demo's exports do hold them
        assert any(secret in p.read_bytes() for p in EXPORTS.rglob("*") if p.is_file())
    result, target = _bundle(tmp_path)
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    members = _members(target)
    for name, data in members.items():
        for secret in DEMO_SECRETS:
            assert secret not in data, (name, secret)
    manifest = json.loads(members["manifest.json"])
    assert manifest["exports"] == "redacted"
    exported = [e for e in manifest["files"] if e["path"].startswith("exports/")]
    assert exported and all(e["path"].endswith(".redacted.json") for e in exported)
    fortigate = json.loads(members["exports/exports/firewall/fortigate.conf.redacted.json"])
    original = (EXPORTS / "firewall" / "fortigate.conf").read_bytes()
    assert fortigate["original_sha256"] == hashlib.sha256(original).hexdigest()
    assert fortigate["format"] == "fortigate" and fortigate["redacted"] == "[redacted]"
    assert b"[redacted]" in members["exports/exports/firewall/fortigate.conf.redacted.json"]


def test_raw_exports_only_when_asked_and_with_a_warning(tmp_path: Path) -> None:
    result, target = _bundle(tmp_path, "--include-raw-exports")
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert "alle geheimen" in result.stderr  # type: ignore[attr-defined]
    members = _members(target)
    assert (
        members["exports/exports/firewall/fortigate.conf"]
        == (EXPORTS / "firewall" / "fortigate.conf").read_bytes()
    )
    assert b'"exports": "raw"' in members["manifest.json"]


def test_raw_exports_need_a_bundle(tmp_path: Path) -> None:
    result = _cli(
        "scan", str(REPO / "examples" / "demo-school"), "--out", str(tmp_path),
        "--include-raw-exports",
    )  # fmt: skip
    assert result.exit_code == 2 and "--bundle" in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "results.json").exists()

"""No command writes over its own input, and every output is written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.errors import UsageError
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.outputs import write_atomic
from tests.conftest import REPO

EXPORTS = REPO / "examples" / "demo-school" / "exports"


def _cli(*args: str) -> object:
    return CliRunner().invoke(main, ["--root", str(REPO), *args])


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scan")
    result = CliRunner().invoke(
        main,
        ["--root", str(REPO), "scan", str(REPO / "examples" / "demo-school"), "--profile",
         "ci-baseline", "--as-of", DEMO_DAY.isoformat(), "--out", str(out), "-q"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    return out / "results.json"


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

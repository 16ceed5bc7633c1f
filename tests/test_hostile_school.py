"""Hostile school folders are input errors at file:line:col, never silently accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from tests.conftest import REPO

BASE = "school: {id: x, name: y}\ndomains: [school.test]\n"


def _validate(folder: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "validate", str(folder), "--as-of", "2026-11-29"]
    )
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/etc/passwd", "must be relative to the school folder"),
        ("../outside.csv", "must be relative to the school folder"),
        ("exports/../../outside.csv", "must be relative to the school folder"),
        ("exports/link.csv", "is a link out of the school folder"),
    ],
)
def test_exports_stay_inside_the_school_folder(tmp_path: Path, path: str, said: str) -> None:
    folder = tmp_path / "school"
    (folder / "exports").mkdir(parents=True)
    (tmp_path / "outside.csv").write_text("hostname,ip\nx,10.0.0.1\n", encoding="utf-8")
    (folder / "exports" / "link.csv").symlink_to(tmp_path / "outside.csv")
    (folder / "school.yaml").write_text(
        BASE + f"exports:\n  - path: {path}\n    kind: device-inventory\n", encoding="utf-8"
    )
    code, output = _validate(folder)
    assert code == 2 and said in output and "error[outside-folder]" in output, output
    assert "school.yaml:4:11:" in output  # the line and column of the path
    plan = CliRunner().invoke(main, ["--root", str(REPO), "plan", str(folder)])
    assert plan.exit_code == 2


@pytest.mark.parametrize("name", ["attestations.yaml", "waivers.yaml"])
def test_a_broken_link_is_named_not_read_as_absent(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "school"
    folder.mkdir()
    (folder / "school.yaml").write_text(BASE, encoding="utf-8")
    (folder / name).symlink_to(tmp_path / "gone.yaml")
    code, output = _validate(folder)
    assert code == 2 and f"{name} is a link to" in output and "does not exist" in output

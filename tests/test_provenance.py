"""Portable provenance: what a run writes names files the same on every machine (the school's
relative to its folder, the catalog's as `catalog:…`, with their sha256) and never holds an
absolute path."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.paths import (
    CATALOG_PREFIX,
    catalog_name,
    input_paths,
    is_portable,
    portable_name,
    where,
)
from cyberstd.report import FORMATS
from tests.conftest import REPO

DEMO = REPO / "examples" / "demo-school"


def test_a_school_file_is_named_relative_to_the_school_folder(tmp_path: Path) -> None:
    school = tmp_path / "scholen" / "sint-jan"
    (school / "exports" / "m365").mkdir(parents=True)
    users = school / "exports" / "m365" / "users.json"
    assert portable_name(users, school, REPO) == "exports/m365/users.json"
    assert portable_name(school / "school.yaml", school, REPO) == "school.yaml"
    assert where("exports/m365/users.json", school) == users


def test_a_catalog_file_is_named_from_the_catalog_root() -> None:
    controls = REPO / "standards" / "grip" / "controls.yaml"
    assert catalog_name(controls, REPO) == "catalog:standards/grip/controls.yaml"
    assert where("catalog:standards/grip/controls.yaml", Path("/nowhere"), REPO) == controls


def test_any_other_file_keeps_only_its_name(tmp_path: Path) -> None:
    school = tmp_path / "school"
    ca = tmp_path / "elsewhere" / "ca.pem"
    assert portable_name(ca, school, REPO) == "outside:ca.pem"
    assert where("outside:ca.pem", school, REPO) is None
    assert input_paths(["outside:ca.pem", "school.yaml"], school, REPO) == [school / "school.yaml"]


def test_a_link_out_of_the_folder_is_not_named_inside_it(tmp_path: Path) -> None:
    school = tmp_path / "school"
    school.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text("x")
    (school / "devices.csv").symlink_to(secret)
    # named as school.yaml gives it, resolved, the file is not in the folder
    assert (
        portable_name(school / "devices.csv", school, tmp_path / "catalog") == "outside:devices.csv"
    )


@pytest.mark.parametrize(
    ("name", "portable"),
    [
        ("school.yaml", True),
        ("exports/m365/users.json", True),
        ("catalog:standards/grip/controls.yaml", True),
        ("outside:ca.pem", True),
        ("/home/jan/school/school.yaml", False),
        ("C:/Users/jan/school.yaml", False),
        ("exports\\users.json", False),
        ("../school.yaml", False),
        ("catalog:../../etc/passwd", False),
        ("", False),
    ],
)
def test_what_counts_as_a_portable_name(name: str, portable: bool) -> None:
    assert is_portable(name) is portable


def _scan(folder: Path, out: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration-only scan of `folder` in every format, started from `cwd`."""
    monkeypatch.chdir(cwd)
    formats = [arg for fmt in FORMATS for arg in ("--format", fmt)]
    args = ["--root", str(REPO), "scan", str(folder), "--as-of", DEMO_DAY.isoformat()]
    args += ["--profile", "ci-baseline", "--out", str(out), "--lang", "nl", "-q", *formats]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    return out


def test_the_same_school_scanned_in_two_places_records_the_same_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "coordinator" / "Documents" / "scholen" / "demo-school"
    there = tmp_path / "auditor" / "demo-school"
    shutil.copytree(DEMO, here)
    shutil.copytree(DEMO, there)
    (tmp_path / "elsewhere").mkdir()
    first = _scan(here, tmp_path / "out1", tmp_path / "elsewhere", monkeypatch)
    second = _scan(there, tmp_path / "out2", there, monkeypatch)

    one = json.loads((first / "results.json").read_text())
    two = json.loads((second / "results.json").read_text())
    assert one["run"]["inputs"] == two["run"]["inputs"]
    assert one["school"]["folder"] == "demo-school"
    inputs = one["run"]["inputs"]
    assert "school.yaml" in inputs and "exports/firewall/fortigate.conf" in inputs
    assert "catalog:standards/grip/controls.yaml" in inputs
    assert all(is_portable(name) for name in inputs), inputs
    # every name leads back to the file it was computed from, and its sha256 is that file's
    for name, sha in inputs.items():
        path = where(name, here, REPO)
        assert path is not None, name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, name
    assert all(name.startswith(CATALOG_PREFIX) for name in list(inputs)[:3])


def test_no_output_holds_an_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "home" / "jan" / "scholen" / "demo-school"
    shutil.copytree(DEMO, folder)
    out = _scan(folder, tmp_path / "out", tmp_path, monkeypatch)
    written = sorted(p for p in out.iterdir() if p.is_file())
    assert len(written) >= len(FORMATS)
    machine = re.compile(re.escape(str(tmp_path)) + "|" + re.escape(str(REPO)))
    for path in written:
        text = path.read_text(encoding="utf-8-sig")
        found = machine.findall(text)
        assert found == [], f"{path.name} names a path of this machine: {found[:3]}"

"""`cyberstd group scan` on the command line: mistakes caught before any school is scanned,
and a run stopped with Ctrl-C that says how to go on."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.store import Store
from tests.conftest import REPO

DEMO = REPO / "examples" / "demo-school"


@pytest.fixture
def group_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "scholengroep"
    folder.mkdir()
    (folder / "group.yaml").write_text("group:\n  id: sg-cli\n  name: Scholengroep CLI\n")
    shutil.copytree(DEMO, folder / "atheneum")
    return folder


def _scan(group_dir: Path, *args: str) -> tuple[int, str]:
    given = ["--root", str(REPO), "group", "scan", str(group_dir), *args]
    result = CliRunner().invoke(main, [*given, "--as-of", DEMO_DAY.isoformat()])
    return result.exit_code, result.output


def test_an_unknown_profile_stops_before_any_school_is_scanned(group_dir: Path) -> None:
    code, said = _scan(group_dir, "--profile", "ci-baselin", "--lang", "nl")
    assert code == 2
    assert "onbekend profiel 'ci-baselin'" in said and "'ci-baseline'" in said
    assert "Traceback" not in said
    assert not (group_dir / "cyberstd.db").exists()  # no run was begun


def test_an_output_folder_that_cannot_be_written_stops_before_the_run(
    group_dir: Path, tmp_path: Path
) -> None:
    a_file = tmp_path / "notities.txt"
    a_file.write_text("not a folder\n")
    code, said = _scan(group_dir, "--out", str(a_file / "out"), "--profile", "ci-baseline")
    assert code == 2
    assert str(a_file / "out") in said and "--out" in said
    assert "internal error" not in said and "Traceback" not in said
    assert not (group_dir / "cyberstd.db").exists()  # nothing half begun to resume later


@pytest.fixture
def silent_dns() -> Iterator[int]:
    """A DNS server on loopback that never answers: every look-up waits for its timeout."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def _runs(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as found:
            return int(found.execute("SELECT count(*) FROM runs").fetchone()[0])
    except sqlite3.DatabaseError:
        return 0  # still being made


def test_ctrl_c_says_how_far_the_run_got_and_how_to_go_on(tmp_path: Path, silent_dns: int) -> None:
    folder = tmp_path / "kenniscentrum"
    folder.mkdir()
    (folder / "group.yaml").write_text(
        "group: {id: kc-cli, name: KC}\n"
        "perimeter:\n"
        "  schools: scholen.csv\n"
        "  authorization: {authorized_by: Test, date: 2026-10-01}\n"
        f"defaults:\n  resolver: {{address: 127.0.0.1, port: {silent_dns}}}\n  timeout: 60\n"
    )
    (folder / "scholen.csv").write_text(
        "instellingsnummer;naam;domeinen\n10001;A;a.test\n10002;B;b.test\n"
    )
    env = {**os.environ, "LANG": "nl_BE.UTF-8", "PYTHONPATH": str(REPO)}
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    args = [sys.executable, "-m", "cyberstd", "--root", str(REPO), "group", "scan", str(folder)]
    process = subprocess.Popen(
        [*args, "--out", str(tmp_path / "out")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # until the run is in the database (its schools wait on DNS)
            if _runs(folder / "cyberstd.db") or process.poll() is not None:
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "onderbroken: 0 van 2 scholen klaar" in err and "opnieuw" in err
    assert "Traceback" not in err and out == ""
    store = Store(folder / "cyberstd.db")
    try:
        stopped = store.unfinished("kc-cli")
        assert stopped is not None and len(store.pending(stopped.id)) == 2
    finally:
        store.close()

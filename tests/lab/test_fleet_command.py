"""`cyberstd lab fleet`: the fleet as a command, running until Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cyberstd.lab.fleetplan import HOSTING_ADDRESSES
from tests.conftest import REPO, real_timers


@real_timers
def test_the_command_runs_until_interrupted(tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    env = {**os.environ, "LANG": "C.UTF-8", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "cyberstd", "lab", "fleet", "--schools", "5"]
    process = subprocess.Popen(
        [*command, "--out", str(out), "--seed", "4"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True)
    reader.start()
    try:
        while process.poll() is None and not any("Ctrl-C" in line for line in lines):
            reader.join(0.1)
        if process.poll() == 2 and any("in use" in line or "root" in line for line in lines):
            pytest.skip("".join(lines))
        assert (out / "group.yaml").is_file() and (out / "scholen.csv").is_file()
        with socket.create_connection((HOSTING_ADDRESSES[0], 80), timeout=5):
            pass
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    reader.join(5)
    assert process.returncode == 0, "".join(lines)
    assert "lab stopped" in lines[-1]

"""`cyberstd demo`: the lab on loopback, the demo school scanned, reports written, lab stopped."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.results import ControlStatus, FindingStatus, Results
from tests.conftest import REPO


def _ports_free() -> bool:
    for port in (18080, 18443):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.10.1", port))
            except OSError:
                return False
    return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.10.1", port)) == 0


def test_demo_end_to_end(tmp_path: Path) -> None:
    if not _ports_free():
        pytest.skip("the demo ports are in use on this machine")
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["--root", str(REPO), "demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Bereikt niveau: 1 / 6" in result.output
    assert f"wrote {out / 'results.json'}" in result.output
    results = Results.model_validate_json((out / "results.json").read_text())
    status = {c.id: c for c in results.controls}
    assert results.summary.level_reached == 1
    # the website's short HSTS is found over real HTTPS
    assert status["T12"].status is ControlStatus.NON_COMPLIANT
    hsts = next(f for f in results.findings if f.check == "web.hsts")
    assert hsts.status is FindingStatus.FAIL and hsts.evidence["max_age"] == 300
    expiry = next(f for f in results.findings if f.check == "tls.cert-expiry")
    assert expiry.status is FindingStatus.PASS and expiry.warning
    # attestation past its review date, waiver in force, waiver expired
    assert status["O13"].status is ControlStatus.NOT_ASSESSED
    assert status["O12"].status is ControlStatus.WAIVED
    assert status["O12"].underlying_status is ControlStatus.NON_COMPLIANT
    assert status["T5"].status is ControlStatus.NON_COMPLIANT
    assert status["T5"].waiver is not None and status["T5"].waiver.expired
    report = (out / "report.nl.md").read_text()
    assert "uitzondering van L. Janssens, director is verlopen op 2026-09-30" in report
    assert "## Niveau 6" in report
    # every input is hashed, evidence files included
    assert any(p.endswith("evidence/o3-policy.md") for p in results.run.inputs)
    # the lab is gone
    assert not _listening(18080) and not _listening(18443)

"""`plan`: what a scan would probe, sweep and read, and every check that will give no verdict,
with the reason; in nl and en, and as JSON. Sends nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.lab.timeshift import DEMO_DAY

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo-school"


def _plan(folder: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(
        main,
        ["--root", str(REPO), "plan", str(folder), "--as-of", DEMO_DAY.isoformat(), *args],
        env=env,
    )


def test_the_plan_names_hosts_ranges_ports_exports_and_what_gives_no_verdict() -> None:
    result = _plan(DEMO, "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)

    hosts = {h["name"]: h for h in plan["hosts"]}
    assert hosts["admin.demo-school.test"] == {
        "name": "admin.demo-school.test",
        "address": "127.0.30.10",
        "roles": ["server"],
        "zone": "administration",
        "refused": None,
    }
    ranges = {(r["check"], r["what"]) for r in plan["ranges"]}
    assert ("segmentation.forbidden-reachable", "127.0.30.0/24") in ranges
    assert ("inventory.unknown-devices", "127.0.20.0/24") in ranges

    checks = {(c["check"], c["target"]): c["reaches"] for c in plan["checks"]}
    (exposed,) = checks["ports.exposed-services", "admin.demo-school.test"]
    assert exposed["what"] == "127.0.30.10" and {23, 445, 3389} <= set(exposed["ports"])
    (undeclared,) = checks["ports.undeclared", "www.demo-school.test"]
    assert undeclared["ports"] == [] and undeclared["note"] == "top 1000"
    (fortigate,) = checks["fortigate.admin-on-wan", "demo-school"]
    assert fortigate["what"].endswith("exports/firewall/fortigate.conf")
    assert fortigate["note"] == "fortigate"

    silent = {n["check"]: n["reason"] for n in plan["not_judged"]}
    assert silent["pfsense.wan-pass-any"] == {
        "nl": "de school vermeldt geen export van soort pfsense",
        "en": "the school lists no export of kind pfsense",
    }
    assert "ssh.root-login" in silent and "google.2sv-staff" in silent
    assert silent["vpn.tls-min-version"] == {
        "nl": "de school vermeldt geen host met de rol vpn",
        "en": "the school declares no host with role vpn",
    }
    assert not any(c["check"] in silent for c in plan["checks"])  # each check in one list only

    # O7's password policy and lockout are covered by the Active Directory export (no secedit
    # export is needed), its MFA part by the Entra export. T9's e-mail filtering no check can
    # show: that part needs the attestation.
    parts = {(u["control"], u["part"]) for u in plan["attestations"]["uncovered_parts"]}
    assert ("T9", "mail") in parts
    assert not {("O7", "mfa"), ("O7", "passwords"), ("O7", "lockout")} & parts
    assert plan["attestations"]["needed"] >= plan["attestations"]["recorded"] > 0


def test_the_plan_is_dutch_when_the_locale_is(tmp_path: Path) -> None:
    nl = _plan(DEMO, env={"LANG": "nl_BE.UTF-8", "LC_ALL": ""})
    assert nl.exit_code == 0, nl.output
    assert "Controles zonder oordeel" in nl.output and "binnen scope" in nl.output
    assert "de school vermeldt geen export van soort pfsense" in nl.output
    assert "Bereiken die doorzocht worden:" in nl.output
    en = _plan(DEMO, "--lang", "en", env={"LANG": "nl_BE.UTF-8"})
    assert "Checks that will give no verdict" in en.output and "Controles" not in en.output


def test_the_plan_says_why_segmentation_will_not_be_judged(tmp_path: Path) -> None:
    folder = tmp_path / "school"
    shutil.copytree(DEMO, folder)
    school = folder / "school.yaml"
    text = school.read_text(encoding="utf-8")
    assert "vantage_zone: pupils" in text
    school.write_text(text.replace("vantage_zone: pupils", "vantage_zone: dmz"), "utf-8")
    result = _plan(folder, "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    (seg,) = [n for n in plan["not_judged"] if n["check"] == "segmentation.forbidden-reachable"]
    assert seg["reason"]["en"].startswith("no segmentation rule applies from vantage zone dmz")
    assert "not from pupils" in seg["reason"]["en"]
    assert not any(r["check"] == "segmentation.forbidden-reachable" for r in plan["ranges"])

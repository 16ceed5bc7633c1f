"""Tests of the port probes with real nmap against lab services on 127.0.41.x."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cyberstd.catalog import load_catalog
from cyberstd.clock import Clock
from cyberstd.errors import ProbeError
from cyberstd.lab.certs import CertSet
from cyberstd.lab.mail import SmtpServer
from cyberstd.lab.services import (
    CURRENT_HTTP_SERVER,
    CURRENT_SSH,
    TcpService,
    hostile_service,
    http_service,
    mysql_service,
    rdp_service,
    silent_service,
    ssh_service,
    telnet_service,
)
from cyberstd.lab.web import WebServer
from cyberstd.net import nmap as nmapscan
from cyberstd.net.nmap import ToolMissing
from cyberstd.probes import probes
from cyberstd.probes.ports import (
    MIN_VERSIONS_FILE,
    ExposedParams,
    OutdatedParams,
    UndeclaredParams,
    exposed_services,
    min_versions,
    outdated,
    undeclared,
)
from cyberstd.profiles import PlannedCheck
from cyberstd.registry import ProbeContext, Target
from cyberstd.results import ErrorReason, Finding, FindingStatus, ProbeOutcome
from cyberstd.runner import PlanItem, context_for, run_item
from cyberstd.schema import SchoolFile
from cyberstd.school import SchoolFolder
from cyberstd.versions import parse_version
from tests.conftest import CLOCK
from tests.probes.conftest import HOST

EXPOSED = "127.0.41.1"  # RDP and Telnet left open, an outdated SSH
CLEAN = "127.0.41.2"  # current SSH and web server only
FIREWALL = "127.0.41.3"  # a web admin page on 8443
HOSTILE = "127.0.41.4"  # a hostile banner and a silent service
EMPTY = "127.0.41.5"  # nothing listens
VERSIONLESS = "127.0.41.6"  # services of each test's own
OLD_SSH_BANNER = "SSH-2.0-OpenSSH_7.4"


@pytest.fixture(scope="module")
def lab() -> Iterator[dict[str, TcpService]]:
    with ExitStack() as stack:

        def run(service: TcpService) -> TcpService:
            return stack.enter_context(service)

        yield {
            "rdp": run(rdp_service(address=EXPOSED)),
            "telnet": run(telnet_service(address=EXPOSED)),
            "old_ssh": run(ssh_service(address=EXPOSED)),
            "old_http": run(http_service(address=EXPOSED, powered_by="PHP/5.4.16")),
            "mysql": run(mysql_service(address=EXPOSED)),
            "new_ssh": run(ssh_service(address=CLEAN, version=CURRENT_SSH)),
            "new_http": run(http_service(address=CLEAN, server=CURRENT_HTTP_SERVER)),
            "admin": run(http_service(address=FIREWALL, port=8443, server="xxxxxxxx-xxxxx")),
            "hostile": run(hostile_service(address=HOSTILE)),
            "silent": run(silent_service(address=HOSTILE)),
        }


@pytest.fixture
def ctx() -> ProbeContext:
    return ProbeContext(clock=CLOCK, timeout=5.0)


def _host(address: str, roles: tuple[str, ...] = ("server",), **ports: int) -> Target:
    return Target(name=f"host-{address}", address=address, roles=roles, ports=ports)


def _closed_port(address: str) -> int:
    with socket.create_server((address, 0)) as sock:
        return int(sock.getsockname()[1])


# --- ports.exposed-services --------------------------------------------------------------------


def test_exposed_rdp_and_telnet_are_found_with_their_banners(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    target = _host(EXPOSED, rdp=lab["rdp"].port, telnet=lab["telnet"].port, ssh=lab["old_ssh"].port)
    outcome = exposed_services(target, ExposedParams(banner_timeout=0.5), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert "exposes 2 risky service(s)" in outcome.message
    assert f"{lab['rdp'].port}/tcp RDP (remote desktop)" in outcome.message
    assert f"{lab['telnet'].port}/tcp Telnet" in outcome.message
    exposed = {e["port"]: e for e in outcome.evidence["exposed"]}
    assert set(exposed) == {lab["rdp"].port, lab["telnet"].port}
    assert exposed[lab["telnet"].port]["banner"].startswith("\\xFF\\xFD")  # telnet negotiation
    assert exposed[lab["rdp"].port]["what"] == "RDP (remote desktop)"
    assert "banner" not in exposed[lab["rdp"].port]  # RDP waits for the client to speak
    # The SSH port is declared but not risky: not scanned by this check.
    assert lab["old_ssh"].port not in outcome.evidence["scanned_ports"]
    assert len(outcome.evidence["nmap"]) == 1  # the banners are read without a second nmap run
    json.dumps(outcome.evidence)


def test_well_known_risky_ports_are_found_without_declaration(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    params = ExposedParams(ports=[lab["mysql"].port], banners=False)
    outcome = exposed_services(_host(EXPOSED), params, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["exposed"][0]["port"] == lab["mysql"].port
    assert len(outcome.evidence["nmap"]) == 1


def test_a_host_without_risky_services_passes(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    target = _host(CLEAN, ssh=lab["new_ssh"].port, https=lab["new_http"].port)
    outcome = exposed_services(target, ExposedParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.message.startswith("none of 13 risky ports is reachable on host-127.0.41.2")
    assert outcome.evidence["exposed"] == []
    assert 3389 in outcome.evidence["scanned_ports"]


def test_firewall_admin_ports_count_only_on_firewalls_and_vpn(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    params = ExposedParams(banner_timeout=0.5)
    on_firewall = exposed_services(_host(FIREWALL, roles=("firewall",)), params, ctx)
    assert on_firewall.status is FindingStatus.FAIL
    assert "8443/tcp firewall/VPN administration interface" in on_firewall.message

    on_website = exposed_services(_host(FIREWALL, roles=("website",)), params, ctx)
    assert on_website.status is FindingStatus.PASS

    declared = exposed_services(_host(FIREWALL, roles=("vpn",), https=8443), params, ctx)
    assert declared.status is FindingStatus.PASS  # the school says 8443 is its VPN portal


def test_a_hostile_banner_is_evidence_not_a_crash(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    target = _host(HOSTILE, ftp=lab["hostile"].port, vnc=lab["silent"].port)
    outcome = exposed_services(target, ExposedParams(banner_timeout=0.3), ctx)

    assert outcome.status is FindingStatus.FAIL
    exposed = {e["port"]: e for e in outcome.evidence["exposed"]}
    banner = exposed[lab["hostile"].port]["banner"]
    assert "<script>alert(" in banner and "\x1b" not in banner and "\x00" not in banner
    assert len(banner) < 3000
    assert "\x1b" not in outcome.message and len(outcome.message) < 1000
    assert "banner" not in exposed[lab["silent"].port]  # the silent one just did not answer
    json.dumps(outcome.evidence)


# --- ports.undeclared --------------------------------------------------------------------------


def test_ports_the_allow_list_does_not_name_fail(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    ssh, http = lab["new_ssh"].port, lab["new_http"].port
    target = Target(name="clean", address=CLEAN, allowed_ports=(ssh,))
    outcome = undeclared(target, UndeclaredParams(ports=[ssh, http, 22]), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert f"allowed_ports does not list: {http}/tcp" in outcome.message
    assert outcome.evidence["undeclared"] == [http]
    assert outcome.evidence["allowed_ports"] == [ssh]
    assert {p["port"] for p in outcome.evidence["open_ports"]} == {ssh, http}


def test_open_ports_that_are_all_allowed_pass(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    ssh, http = lab["new_ssh"].port, lab["new_http"].port
    target = Target(name="clean", address=CLEAN, allowed_ports=(ssh, http, 443))
    outcome = undeclared(target, UndeclaredParams(ports=[ssh, http, 443]), ctx)
    assert outcome.status is FindingStatus.PASS
    assert "2 open port(s) among ports" in outcome.message


def test_the_top_ports_scan_finds_a_well_known_port(ctx: ProbeContext) -> None:
    with http_service(address=EMPTY, port=8080):
        target = Target(name="empty", address=EMPTY, allowed_ports=(443,))
        outcome = undeclared(target, UndeclaredParams(top_ports=100), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["undeclared"] == [8080]
    assert outcome.evidence["scanned"] == "nmap's top 100 ports"
    assert "--top-ports 100" in outcome.evidence["nmap"][0]


def test_no_allow_list_means_not_applicable(ctx: ProbeContext) -> None:
    outcome = undeclared(Target(name="x", address=EMPTY), UndeclaredParams(), ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert "declares no allowed_ports" in outcome.message


# --- software.outdated -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def version_outcomes(lab: dict[str, TcpService]) -> dict[str, ProbeOutcome]:
    """software.outdated on the outdated and the current host, run once and at the same time."""
    ctx = ProbeContext(clock=CLOCK, timeout=5.0)
    old = _host(EXPOSED, ssh=lab["old_ssh"].port, http=lab["old_http"].port)
    new = _host(CLEAN, ssh=lab["new_ssh"].port, http=lab["new_http"].port)

    def run(target: Target) -> ProbeOutcome:
        return outdated(target, OutdatedParams(ports=[lab["mysql"].port]), ctx)

    with ThreadPoolExecutor(2) as pool:
        old_outcome, new_outcome = pool.map(run, [old, new])
    return {"old": old_outcome, "new": new_outcome}


def test_outdated_openssh_apache_and_php_are_found(
    lab: dict[str, TcpService], version_outcomes: dict[str, ProbeOutcome]
) -> None:
    outcome = version_outcomes["old"]
    assert outcome.status is FindingStatus.FAIL
    assert f"OpenSSH 7.4 on port {lab['old_ssh'].port} (oldest supported: 7.7)" in outcome.message
    assert f"Apache httpd 2.2.15 on port {lab['old_http'].port}" in outcome.message
    assert "PHP 5.4.16" in outcome.message
    found = {(c["product"], c["version"]): c for c in outcome.evidence["components"]}
    assert found[("OpenSSH", "7.4")]["outdated"] is True
    assert found[("OpenSSH", "7.4")]["found_in"] == "ssh banner"
    assert found[("Apache httpd", "2.2.15")]["found_in"] == "http server header"
    assert found[("PHP", "5.4.16")]["found_in"] == "http x-powered-by header"
    assert found[("Apache httpd", "2.2.15")]["source"].startswith("https://")
    reads = {r["port"]: r for r in outcome.evidence["reads"]}
    assert reads[lab["old_ssh"].port]["said"] == [{"source": "ssh banner", "text": OLD_SSH_BANNER}]
    assert reads[lab["old_http"].port]["protocol"] == "http"
    # Only MySQL's greeting was not recognised, so only it went to nmap -sV, which identified
    # it; the data file has no entry for it: evidence, not a verdict.
    (versioned,) = [c for c in outcome.evidence["nmap"] if "-sV" in c]
    assert f"-p {lab['mysql'].port} -sV --version-light" in versioned
    (unjudged,) = outcome.evidence["not_judged"]
    assert (unjudged["port"], unjudged["product"]) == (lab["mysql"].port, "MySQL")
    assert unjudged["reason"] == "not-covered"
    assert outcome.evidence["version_timed_out"] == []
    json.dumps(outcome.evidence)


def test_current_versions_pass(version_outcomes: dict[str, ProbeOutcome]) -> None:
    outcome = version_outcomes["new"]
    assert outcome.status is FindingStatus.PASS
    assert "OpenSSH 9.6p1" in outcome.message and "Apache httpd 2.4.62" in outcome.message
    assert all(c["outdated"] is False for c in outcome.evidence["components"])
    assert not [c for c in outcome.evidence["nmap"] if "-sV" in c]  # the reads told it all


def test_a_silent_service_is_not_judged_and_costs_no_nmap_run(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    outcome = outdated(_host(HOSTILE), OutdatedParams(ports=[lab["silent"].port]), ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert outcome.evidence["not_judged"] == [
        {"port": lab["silent"].port, "state": "open", "reason": "silent"}
    ]
    assert outcome.evidence["reads"][0]["outcome"] == "silent"
    assert len(outcome.evidence["nmap"]) == 1  # the connect scan only
    assert outcome.warning is not None
    assert outcome.warning.startswith(f"port(s) {lab['silent'].port} said nothing")
    assert "longer than version_budget (5 s): not judged" in outcome.warning


def test_a_port_nmap_cannot_finish_within_the_budget_is_not_judged(
    lab: dict[str, TcpService], ctx: ProbeContext
) -> None:
    # A budget above nmap's 6 s of listening sends the silent port to nmap, which then has
    # too little time for its next probe.
    params = OutdatedParams(ports=[lab["silent"].port], version_budget=7)
    outcome = outdated(_host(HOSTILE), params, ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert outcome.evidence["version_timed_out"] == [lab["silent"].port]
    assert outcome.evidence["not_judged"] == [
        {"port": lab["silent"].port, "state": "open", "reason": "out-of-budget"}
    ]
    assert outcome.warning == (
        "nmap version detection gave no answer within version_budget (7 s) on port(s) "
        f"{lab['silent'].port}: not judged"
    )


def test_a_banner_without_a_version_is_not_judged_and_never_passes(ctx: ProbeContext) -> None:
    with (
        ssh_service(address=VERSIONLESS, version="OpenSSH") as ssh,
        http_service(address=VERSIONLESS, server="Apache") as web,
    ):
        ports = {"ssh": ssh.port, "http": web.port}
        outcome = outdated(_host(VERSIONLESS, **ports), OutdatedParams(ports=[ssh.port]), ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert outcome.evidence["components"] == []
    reasons = {e["port"]: e["reason"] for e in outcome.evidence["not_judged"]}
    assert reasons == {ports["ssh"]: "not-covered", ports["http"]: "not-covered"}
    said = {e["port"]: e["said"][0]["text"] for e in outcome.evidence["not_judged"]}
    assert said == {ports["ssh"]: "SSH-2.0-OpenSSH", ports["http"]: "Apache"}
    # nmap would read the same banner and headers: not run for identified services.
    assert not [c for c in outcome.evidence["nmap"] if "-sV" in c]


def test_nmap_identifies_what_a_banner_does_not_name(
    lab: dict[str, TcpService], tmp_path: Path, ctx: ProbeContext
) -> None:
    data = tmp_path / "min.yaml"
    data.write_text(
        "policy: MySQL releases in support.\n"
        "entries:\n"
        "  - id: mysql\n"
        "    name: MySQL\n"
        "    nmap_product: '^MySQL$'\n"
        '    minimum: "8.0"\n'
        "    checked: 2026-11-29\n"
        "    source: {title: MySQL lifecycle, url: 'https://www.mysql.com/support/'}\n"
    )
    params = OutdatedParams(ports=[lab["mysql"].port], data_file=str(data))
    outcome = outdated(_host(EXPOSED), params, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert f"MySQL 5.5.62 on port {lab['mysql'].port} (oldest supported: 8.0)" in outcome.message
    (component,) = outcome.evidence["components"]
    assert component["found_in"] == "nmap -sV"
    assert outcome.evidence["reads"][0]["outcome"] == "unknown"  # a greeting no read recognised


def test_smtp_ftp_and_tls_banners_are_judged(certs: CertSet, ctx: ProbeContext) -> None:
    exim = "220 mail.school.test ESMTP Exim 4.92 Sat, 05 Dec 2026 10:00:00 +0100"
    with (
        SmtpServer(
            address=VERSIONLESS,
            host_name="mail.school.test",
            cert=None,
            starttls=False,
            banner=exim,
        ) as smtp,
        hostile_service(address=VERSIONLESS, banner=b"220 (vsFTPd 3.0.5)\r\n") as ftp,
        WebServer(
            cert=certs.valid,
            address=VERSIONLESS,
            host_name=HOST,
            http_port=None,
            server_header="nginx/1.14.0",
        ) as web,
    ):
        smtp_port, ftp_port, https = smtp.port, ftp.port, web.ports["https"]
        declared = Target(name=HOST, address=VERSIONLESS, ports={"smtp": smtp_port})
        outcome = outdated(declared, OutdatedParams(ports=[ftp_port, https]), ctx)
    assert outcome.status is FindingStatus.FAIL
    found = {c["port"]: c for c in outcome.evidence["components"]}
    assert (found[smtp_port]["product"], found[smtp_port]["version"]) == ("Exim", "4.92")
    assert found[smtp_port]["found_in"] == "smtp banner" and found[smtp_port]["outdated"]
    assert (found[ftp_port]["version"], found[ftp_port]["outdated"]) == ("3.0.5", False)
    assert found[ftp_port]["found_in"] == "ftp banner"
    assert (found[https]["product"], found[https]["outdated"]) == ("nginx", True)
    assert found[https]["found_in"] == "http server header"
    reads = {r["port"]: r for r in outcome.evidence["reads"]}
    assert reads[https]["tls"] is True  # not declared as https: found by trying TLS after HTTP
    assert [s["source"] for s in reads[smtp_port]["said"]] == ["smtp banner", "smtp ehlo"]
    assert "Exim 4.92 on port" in outcome.message and "nginx 1.14.0 on port" in outcome.message
    assert not [c for c in outcome.evidence["nmap"] if "-sV" in c]


def test_no_open_port_is_not_applicable(ctx: ProbeContext) -> None:
    outcome = outdated(_host(EMPTY), OutdatedParams(ports=[_closed_port(EMPTY)]), ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert outcome.message.startswith("no open port on host-127.0.41.5")


def test_a_broken_data_file_is_a_probe_error(tmp_path: Path, ctx: ProbeContext) -> None:
    bad = tmp_path / "min.yaml"
    bad.write_text("policy: x\nentries:\n  - id: a\n    name: A\n    minimum: abc\n")
    with pytest.raises(ProbeError, match="invalid minimum-versions file"):
        outdated(_host(EMPTY), OutdatedParams(data_file=str(bad)), ctx)


def test_the_data_file_has_a_date_and_source_for_every_entry() -> None:
    data = min_versions(MIN_VERSIONS_FILE)
    names = {e.name for e in data.entries}
    assert {"OpenSSH", "Apache httpd", "nginx", "Microsoft IIS", "PHP", "OpenSSL"} <= names
    for entry in data.entries:
        assert entry.checked.year >= 2026
        assert entry.source.url.startswith("https://") and entry.source.title
        assert entry.nmap_product or entry.header_token


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("7.4", "7.7"),
        ("2.4.9", "2.4.10"),
        ("2.2.15", "2.4.37"),
        ("7.4", "7.4p1"),
        ("1.0.2", "1.0.2k"),
        ("3.0.0rc1", "3.0.0"),
        ("1.3.5e", "1.3.7"),
        ("8.5", "10.0"),
        ("for_Windows_7.7", "for_Windows_8.1"),
    ],
)
def test_versions_compare_as_numbers(older: str, newer: str) -> None:
    a, b = parse_version(older), parse_version(newer)
    assert a is not None and b is not None
    assert a < b and b > a and not b < a


def test_equal_versions_are_equal() -> None:
    assert parse_version("10") == parse_version("10.0")
    assert parse_version("no digits") is None


# --- shared ------------------------------------------------------------------------------------


def test_missing_nmap_makes_every_port_probe_report_tool_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ctx: ProbeContext
) -> None:
    monkeypatch.setattr(nmapscan, "NMAP_SEARCH_PATH", (str(tmp_path / "nmap"),))
    target = Target(name="x", address=EMPTY, allowed_ports=(80,))
    runs: list[Callable[[], ProbeOutcome]] = [
        lambda: exposed_services(target, ExposedParams(), ctx),
        lambda: undeclared(target, UndeclaredParams(), ctx),
        lambda: outdated(target, OutdatedParams(), ctx),
    ]
    for run in runs:
        with pytest.raises(ToolMissing) as caught:
            run()
        assert caught.value.reason == "tool_missing"


def test_params_refuse_bad_ports() -> None:
    for bad in ([0], [70000], ["22; reboot"]):
        with pytest.raises(ValidationError):
            ExposedParams(ports=bad)
    with pytest.raises(ValidationError):
        UndeclaredParams(top_ports=0)
    with pytest.raises(ValidationError):
        OutdatedParams(version_intensity=10)
    with pytest.raises(ValidationError):
        OutdatedParams(version_budget=0)


def test_the_checks_are_in_the_catalog_with_valid_params() -> None:
    catalog, problems = load_catalog()
    assert problems == []
    for check_id in ("ports.exposed-services", "ports.undeclared", "software.outdated"):
        check = catalog.checks[check_id]
        spec = probes()[check.probe]
        spec.params.model_validate(check.params)
        assert spec.roles == ()  # every declared host is a target
        assert check.remediation.nl and check.remediation.en


# --- through the runner ------------------------------------------------------------------------


def _run_check(
    check_id: str, tmp_path: Path, host: dict[str, Any], scope: str = "127.0.41.0/24"
) -> Finding:
    catalog, _ = load_catalog()
    school = SchoolFile.model_validate(
        {
            "school": {"id": "ports-school", "name": "Ports test school"},
            "hosts": [host],
            "scope": [{"ranges": [scope], "authorized_by": "Test Director", "date": "2026-01-01"}],
        }
    )
    folder = SchoolFolder(dir=tmp_path, school=school)
    check = catalog.checks[check_id]
    planned = PlannedCheck(
        check=check,
        params=probes()[check.probe].params.model_validate(check.params),
        controls=("T7",),
    )
    declared = school.hosts[0]
    target = Target(
        name=declared.name,
        address=str(declared.address),
        roles=tuple(declared.roles),
        ports=dict(declared.ports),
    )
    item = PlanItem(check_id, planned, target)
    return run_item(
        item, context_for(folder, timeout=5.0, clock=Clock.at(dt.date(2026, 6, 1))), folder
    )


def test_the_runner_reports_exposed_services_and_tool_missing(
    lab: dict[str, TcpService], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host: dict[str, Any] = {
        "name": "exposed.school.test",
        "address": EXPOSED,
        "roles": ["server"],
        "ports": {"telnet": lab["telnet"].port},
    }
    finding = _run_check("ports.exposed-services", tmp_path, host)
    assert finding.status is FindingStatus.FAIL
    assert f"{lab['telnet'].port}/tcp Telnet" in finding.message
    assert finding.evidence["address"] == EXPOSED

    monkeypatch.setattr(nmapscan, "NMAP_SEARCH_PATH", (str(tmp_path / "nmap"),))
    missing = _run_check("ports.exposed-services", tmp_path, host)
    assert missing.status is FindingStatus.ERROR
    assert missing.error_reason is ErrorReason.TOOL_MISSING
    assert "nmap was not found" in missing.message


def test_the_runner_refuses_a_host_outside_the_authorised_scope(tmp_path: Path) -> None:
    host: dict[str, Any] = {
        "name": "elsewhere.school.test",
        "address": EXPOSED,
        "roles": ["server"],
    }
    finding = _run_check("ports.exposed-services", tmp_path, host, scope="127.0.99.0/24")
    assert finding.status is FindingStatus.ERROR
    assert finding.error_reason is ErrorReason.SCOPE
    assert "outside every authorised range" in finding.message

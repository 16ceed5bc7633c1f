"""Tests of the nmap wrapper: argument lists from validated values only, and real nmap on loopback."""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from cyberstd.errors import ProbeTimeout
from cyberstd.lab.services import (
    OUTDATED_HTTP_SERVER,
    TcpService,
    hostile_service,
    http_service,
    rdp_service,
    silent_service,
    ssh_service,
)
from cyberstd.net.nmap import (
    MAX_TEXT,
    HostResult,
    PortState,
    ScanArgumentError,
    ScanMode,
    ScanRequest,
    ScanResult,
    ToolMissing,
    _parse,
    build_argv,
    clip,
    run_scan,
    run_scans,
)

ADDRESS = "127.0.40.1"
IP = ipaddress.ip_address(ADDRESS)
# Every flag the wrapper may ever emit; values must come from the request.
KNOWN_FLAGS = {
    "-oX",
    "-n",
    "--host-timeout",
    "--max-retries",
    "--max-rate",
    "-6",
    "-sn",
    "-sT",
    "-Pn",
    "-p",
    "--top-ports",
    "--script",
    "--script-args",
    "-sV",
    "--version-intensity",
    "--version-light",
}


def _request(**kwargs: Any) -> ScanRequest:
    kwargs.setdefault("targets", (IP,))
    kwargs.setdefault("ports", (22,))
    return ScanRequest(**kwargs)


# --- argument lists ----------------------------------------------------------------------------


def test_connect_scan_argv_is_built_from_the_request_only() -> None:
    request = ScanRequest(
        targets=(IP, ipaddress.ip_network("127.0.40.64/30")),
        ports=(3389, 23, 23, 445),
        host_timeout=12.5,
        max_retries=2,
        max_rate=150.25,
    )
    assert build_argv(request) == [
        "nmap",
        "-oX",
        "-",
        "127.0.40.1",
        "127.0.40.64/30",
        "-n",
        "--host-timeout",
        "12500ms",
        "--max-retries",
        "2",
        "--max-rate",
        "150.25",
        "-sT",
        "-Pn",
        "-p",
        "23,445,3389",
    ]


@pytest.mark.parametrize("mode", list(ScanMode))
def test_every_token_is_a_known_flag_or_a_plain_value(mode: ScanMode) -> None:
    ports: tuple[int, ...] = () if mode is ScanMode.PING else (80, 443)
    request = ScanRequest(targets=(IP,), mode=mode, ports=ports, banner_timeout=0.25)
    argv = build_argv(request)
    for token in argv[1:]:
        assert token in KNOWN_FLAGS or re.fullmatch(r"[A-Za-z0-9.,:/=_-]+", token), token
        assert not token.startswith("-") or token in KNOWN_FLAGS or token == "-"
    assert "-n" in argv  # never a DNS look-up


def test_modes_map_to_their_nmap_options() -> None:
    ping = build_argv(
        ScanRequest(targets=(ipaddress.ip_network("127.0.40.0/28"),), mode=ScanMode.PING)
    )
    assert "-sn" in ping and "-sT" not in ping and "-Pn" not in ping and "-p" not in ping
    banner = build_argv(_request(mode=ScanMode.BANNER, banner_timeout=1.5))
    assert banner[-4:] == ["--script", "banner", "--script-args", "banner.timeout=1500ms"]
    version = build_argv(_request(mode=ScanMode.VERSION, version_intensity=4))
    assert version[version.index("-sV") :][:3] == ["-sV", "--version-intensity", "4"]
    light = build_argv(_request(mode=ScanMode.VERSION))  # intensity 2 is --version-light
    assert light[light.index("-sV") :][:2] == ["-sV", "--version-light"]
    top = build_argv(ScanRequest(targets=(IP,), top_ports=100, assume_up=False))
    assert top[-2:] == ["--top-ports", "100"] and "-Pn" not in top
    six = build_argv(_request(targets=(ipaddress.ip_address("::1"),)))
    assert "-6" in six and "::1" in six


@pytest.mark.parametrize("port", [0, 70000, -1, 65536])
def test_ports_outside_the_range_are_refused(port: int) -> None:
    with pytest.raises(ScanArgumentError, match="outside 1-65535"):
        _request(ports=(port,))


@pytest.mark.parametrize("port", ["80", "80;reboot", 22.0, True, None])
def test_ports_that_are_not_integers_are_refused(port: object) -> None:
    with pytest.raises(ScanArgumentError, match="not an integer"):
        _request(ports=(port,))


@pytest.mark.parametrize(
    "target",
    [
        "127.0.0.1",
        "127.0.0.1; rm -rf /",
        "127.0.0.1 -oN /tmp/x",
        "--script=evil",
        "scanme.nmap.org",
        b"127.0.0.1",
        2130706433,
    ],
)
def test_targets_must_be_ipaddress_objects(target: object) -> None:
    with pytest.raises(ScanArgumentError, match="not an ipaddress"):
        _request(targets=(target,))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"targets": ()}, "at least one target"),
        ({"targets": [IP]}, "as a tuple"),
        ({"targets": (IP, ipaddress.ip_address("::1"))}, "cannot share"),
        ({"mode": "connect"}, "not a ScanMode"),
        ({"ports": [22]}, "tuple of integers"),
        ({"ports": (22,), "top_ports": 10}, "either ports or top_ports"),
        ({"ports": ()}, "needs ports"),
        ({"mode": ScanMode.PING}, "takes no ports"),
        ({"host_timeout": 0}, "above 0"),
        ({"host_timeout": math.nan}, "above 0"),
        ({"host_timeout": math.inf}, "above 0"),
        ({"host_timeout": "10s"}, "not a number"),
        ({"max_rate": -5.0}, "above 0"),
        ({"max_retries": 11}, "outside 0-10"),
        ({"version_intensity": 10}, "outside 0-9"),
        ({"banner_timeout": "1; id"}, "not a number"),
        ({"assume_up": "yes"}, "True or False"),
    ],
)
def test_bad_values_are_refused_with_a_reason(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ScanArgumentError, match=message):
        _request(**kwargs)


def test_clip_says_how_much_was_cut() -> None:
    assert clip("short") == "short"
    cut = clip("x" * 5000, 100)
    assert cut.startswith("x" * 100) and cut.endswith("[cut: 4900 more characters]")


# --- real nmap ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, TcpService]]:
    with ExitStack() as stack:
        running = {
            "ssh": stack.enter_context(ssh_service(address=ADDRESS)),
            "http": stack.enter_context(http_service(address=ADDRESS, powered_by="PHP/5.4.16")),
            "silent": stack.enter_context(silent_service(address=ADDRESS)),
            "hostile": stack.enter_context(hostile_service(address=ADDRESS)),
            "rdp": stack.enter_context(rdp_service(address=ADDRESS, port=3389)),
        }
        yield running


def test_connect_scan_reports_open_and_closed_ports(services: dict[str, TcpService]) -> None:
    ssh = services["ssh"].port
    closed = _free_port()
    result = run_scan(_request(ports=(ssh, closed)), timeout=30)
    host = result.host(ADDRESS)
    assert host is not None and not host.timed_out
    states = {p.port: p.state for p in host.ports}
    assert states == {ssh: PortState.OPEN, closed: PortState.CLOSED}
    assert [p.port for p in host.open_ports()] == [ssh]
    assert result.argv[0].endswith("nmap") and result.argv[3] == ADDRESS


def test_banner_scan_reads_the_ssh_banner(services: dict[str, TcpService]) -> None:
    port = services["ssh"].port
    result = run_scan(_request(mode=ScanMode.BANNER, ports=(port,)), timeout=30)
    (found,) = _host(result).ports
    assert found.banner == "SSH-2.0-OpenSSH_7.4"
    assert found.evidence()["banner"] == "SSH-2.0-OpenSSH_7.4"


def test_version_detection_recognises_the_lab_ssh_http_and_rdp_servers(
    services: dict[str, TcpService],
) -> None:
    ports = (services["ssh"].port, services["http"].port, 3389)
    result = run_scan(_request(mode=ScanMode.VERSION, ports=ports), timeout=60)
    found = {p.port: p for p in _host(result).ports}
    ssh, http, rdp = found[ports[0]], found[ports[1]], found[3389]
    assert (ssh.service, ssh.product, ssh.version) == ("ssh", "OpenSSH", "7.4")
    assert (http.service, http.product, http.version) == ("http", "Apache httpd", "2.2.15")
    assert (rdp.service, rdp.product) == ("ms-wbt-server", "Microsoft Terminal Services")
    assert http.scripts["http-server-header"] == OUTDATED_HTTP_SERVER
    assert "X-Powered-By: PHP/5.4.16" in http.scripts["http-headers"]


def test_a_hostile_banner_is_kept_as_bounded_data(services: dict[str, TcpService]) -> None:
    port = services["hostile"].port
    result = run_scan(_request(mode=ScanMode.BANNER, ports=(port,)), timeout=30)
    (found,) = _host(result).ports
    record = found.evidence()
    banner = record["banner"]
    assert banner.startswith("220 <html><script>alert(")
    assert "\x1b" not in banner and "\x00" not in banner  # nmap escaped the control characters
    assert "\\x1B[2J" in banner
    assert len(banner) <= MAX_TEXT + 100
    json.dumps(record)


def test_a_silent_service_costs_only_its_own_time(services: dict[str, TcpService]) -> None:
    silent = _request(mode=ScanMode.VERSION, ports=(services["silent"].port,), host_timeout=1.5)
    ssh = _request(mode=ScanMode.BANNER, ports=(services["ssh"].port,), host_timeout=1.5)
    first, second = run_scans([silent, ssh], timeout=3)
    assert isinstance(first, ProbeTimeout) or _host(first).timed_out
    assert isinstance(second, ScanResult)
    assert _host(second).ports[0].banner == "SSH-2.0-OpenSSH_7.4"


def test_the_process_is_killed_after_its_timeout(services: dict[str, TcpService]) -> None:
    request = _request(mode=ScanMode.VERSION, ports=(services["silent"].port,), host_timeout=60)
    with pytest.raises(ProbeTimeout, match=r"nmap did not finish within 1\.5 s"):
        run_scan(request, timeout=1.5)


def test_missing_nmap_is_reported_as_tool_missing(tmp_path: Any) -> None:
    missing = str(tmp_path / "no-such-dir" / "nmap")
    with pytest.raises(ToolMissing, match="nmap was not found") as caught:
        run_scan(_request(), timeout=5, search_path=(missing,))
    assert caught.value.reason == "tool_missing"


def test_a_program_that_is_not_nmap_is_not_taken_for_it(tmp_path: Any) -> None:
    fake = tmp_path / "nmap"
    fake.write_text("#!/bin/sh\necho 'not the network mapper'\n")
    fake.chmod(0o755)
    with pytest.raises(ToolMissing):
        run_scan(_request(), timeout=5, search_path=(str(fake),))


def _host(result: ScanResult | ProbeTimeout) -> Any:
    assert isinstance(result, ScanResult)
    host = result.host(ADDRESS)
    assert host is not None
    return host


def _free_port() -> int:
    import socket

    with socket.create_server((ADDRESS, 0)) as sock:
        return int(sock.getsockname()[1])


# --- what a ping sweep reports about a host -----------------------------------------------------

# nmap's XML output of a ping sweep (nmap -sn) as root on the local network, rebuilt with our
# own values after the format nmap documents (https://nmap.org/book/output-formats-xml-output.html,
# docs/nmap.dtd: <address addrtype="mac" vendor=...>, <hostnames><hostname type="PTR">): the
# MAC address comes from the ARP reply, the name from nmap's reverse look-up when it was not
# run with -n; a host found without either has an empty <hostnames/>.
SWEEP_XML = """<?xml version="1.0" encoding="UTF-8"?>
<nmaprun scanner="nmap" args="nmap -oX - -sn 192.0.2.0/28" start="1764921600" version="7.94"
 xmloutputversion="1.05">
<verbose level="0"/>
<debugging level="0"/>
<host><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="192.0.2.7" addrtype="ipv4"/>
<address addr="02:1A:2B:3C:4D:5E" addrtype="mac" vendor="Unknown"/>
<hostnames>
<hostname name="lkr-lt-0412.school.lan" type="PTR"/>
</hostnames>
<times srtt="312" rttvar="5000" to="100000"/>
</host>
<host><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="192.0.2.9" addrtype="ipv4"/>
<address addr="3C:22:FB:10:20:30" addrtype="mac" vendor="Apple"/>
<hostnames>
</hostnames>
<times srtt="420" rttvar="5000" to="100000"/>
</host>
<runstats><finished time="1764921602" timestr="Fri Dec  5 08:00:02 2025" summary="x"
 elapsed="2.10" exit="success"/><hosts up="2" down="14" total="16"/>
</runstats>
</nmaprun>
"""


def test_a_ping_sweep_reports_mac_addresses_and_names() -> None:
    import nmap  # type: ignore[import-untyped]

    reader = nmap.PortScanner.__new__(nmap.PortScanner)  # parse only: no nmap run
    hosts = _parse(reader.analyse_nmap_xml_scan(nmap_xml_output=SWEEP_XML), set())
    assert hosts == (
        HostResult(
            address="192.0.2.7",
            state="up",
            reason="arp-response",
            mac="02:1A:2B:3C:4D:5E",
            hostnames=("lkr-lt-0412.school.lan",),
        ),
        HostResult(address="192.0.2.9", state="up", reason="arp-response", mac="3C:22:FB:10:20:30"),
    )


def test_a_connect_scan_on_loopback_reports_no_mac_and_no_name(
    services: dict[str, TcpService],
) -> None:
    result = run_scan(_request(ports=(services["ssh"].port,)), timeout=30)
    host = result.host(ADDRESS)
    assert host is not None and host.open_ports()
    assert (host.mac, host.hostnames) == ("", ())  # -n: no look-ups; loopback: no ARP

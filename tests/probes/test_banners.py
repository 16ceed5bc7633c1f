"""Tests of the service reads (cyberstd.net.banners) against real lab servers on 127.0.44.x."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from cyberstd.lab.certs import CertSet
from cyberstd.lab.mail import SmtpServer
from cyberstd.lab.server import Handler
from cyberstd.lab.services import (
    HOSTILE_BANNER,
    OUTDATED_MYSQL,
    ServiceKind,
    TcpService,
    hostile_service,
    http_service,
    mysql_service,
    silent_service,
    ssh_service,
    telnet_service,
)
from cyberstd.lab.web import HostilePeer, Misbehaviour, WebServer
from cyberstd.net.banners import (
    GREETING_WAIT,
    MAX_SAID,
    Outcome,
    Protocol,
    Said,
    read_banner,
    read_service,
)
from tests.probes.conftest import HOST

ADDRESS = "127.0.44.1"


def _free_port() -> int:
    with socket.create_server((ADDRESS, 0)) as sock:
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _custom(handler: Handler) -> Iterator[TcpService]:
    with TcpService(handler, kind=ServiceKind.HOSTILE, address=ADDRESS) as service:
        yield service


def _ftp(conn: socket.socket) -> None:
    """An FTP server whose greeting does not say FTP: every command is refused with 500."""
    conn.sendall(b"220 Service ready for new user.\r\n")
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            conn.sendall(b"500 Syntax error, command unrecognized.\r\n")


def _late_ssh(conn: socket.socket) -> None:
    """An SSH server that greets only after the read stopped waiting for a greeting."""
    time.sleep(GREETING_WAIT + 0.3)
    conn.sendall(b"SSH-2.0-OpenSSH_8.0\r\n")
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass


def test_the_ssh_banner_is_read() -> None:
    with ssh_service(address=ADDRESS) as ssh:
        read = read_service(ADDRESS, ssh.port, timeout=1.0)
    assert (read.outcome, read.protocol, read.tls) == (Outcome.IDENTIFIED, Protocol.SSH, False)
    assert read.said == (Said("ssh banner", "SSH-2.0-OpenSSH_7.4"),)


def test_smtp_is_read_with_its_answer_to_ehlo() -> None:
    with SmtpServer(
        address=ADDRESS, host_name="mail.school.test", cert=None, starttls=False
    ) as smtp:
        read = read_service(ADDRESS, smtp.port, timeout=1.0)
        commands = list(smtp.commands)
    assert read.protocol is Protocol.SMTP
    assert read.said == (
        Said("smtp banner", "220 mail.school.test ESMTP cyberstd lab"),
        Said("smtp ehlo", "mail.school.test greets cyberstd.invalid"),
    )
    assert commands[:1] == ["EHLO cyberstd.invalid"]


def test_a_220_greeting_that_names_no_protocol_is_told_apart_by_ehlo() -> None:
    banner = "220 Service ready"
    with SmtpServer(address=ADDRESS, cert=None, starttls=False, banner=banner) as smtp:
        as_smtp = read_service(ADDRESS, smtp.port, timeout=1.0)
    with _custom(_ftp) as ftp:
        as_ftp = read_service(ADDRESS, ftp.port, timeout=1.0)
    assert as_smtp.protocol is Protocol.SMTP and as_smtp.said[0] == Said("smtp banner", banner)
    assert as_ftp.protocol is Protocol.FTP
    assert as_ftp.said == (Said("ftp banner", "220 Service ready for new user."),)


def test_http_headers_are_read_with_head() -> None:
    with http_service(address=ADDRESS, powered_by="PHP/5.4.16") as web:
        read = read_service(ADDRESS, web.port, timeout=1.0, ask_first=True)
    assert (read.protocol, read.tls) == (Protocol.HTTP, False)
    assert read.said == (
        Said("http server header", "Apache/2.2.15 (CentOS)"),
        Said("http x-powered-by header", "PHP/5.4.16"),
    )


def test_https_is_found_either_way_round(certs: CertSet) -> None:
    server = WebServer(
        cert=certs.valid, address=ADDRESS, host_name=HOST, http_port=None, server_header="nginx"
    )
    with server as web:
        port = web.ports["https"]
        guessed = read_service(ADDRESS, port, timeout=1.0, host_name=HOST)
        hinted = read_service(ADDRESS, port, timeout=1.0, host_name=HOST, tls_first=True)
        requests = list(web.requests_seen)
    for read in (guessed, hinted):
        assert (read.protocol, read.tls) == (Protocol.HTTP, True)
        assert read.said == (Said("http server header", "nginx"),)
    assert {(r.method, r.host) for r in requests} == {("HEAD", HOST)}


def test_a_tls_hint_on_a_plain_port_still_reads_it() -> None:
    with ssh_service(address=ADDRESS) as ssh, http_service(address=ADDRESS) as web:
        ssh_read = read_service(ADDRESS, ssh.port, timeout=1.0, tls_first=True)
        web_read = read_service(ADDRESS, web.port, timeout=1.0, tls_first=True)
    assert (ssh_read.protocol, ssh_read.tls) == (Protocol.SSH, False)
    assert (web_read.protocol, web_read.tls) == (Protocol.HTTP, False)


def test_a_late_greeting_still_comes_first() -> None:
    with _custom(_late_ssh) as late:
        read = read_service(ADDRESS, late.port, timeout=2.0)
    assert read.protocol is Protocol.SSH
    assert read.said == (Said("ssh banner", "SSH-2.0-OpenSSH_8.0"),)


def test_silent_refused_and_unknown_services() -> None:
    closed = _free_port()
    with silent_service(address=ADDRESS) as silent, mysql_service(address=ADDRESS) as mysql:
        quiet = read_service(ADDRESS, silent.port, timeout=0.3)
        unknown = read_service(ADDRESS, mysql.port, timeout=0.3)
    refused = read_service(ADDRESS, closed, timeout=0.3)
    assert (quiet.outcome, quiet.protocol, quiet.said) == (Outcome.SILENT, None, ())
    assert (unknown.outcome, unknown.protocol) == (Outcome.UNKNOWN, None)
    assert unknown.said[0].source == "banner" and OUTDATED_MYSQL in unknown.said[0].text
    assert (refused.outcome, refused.said) == (Outcome.CLOSED, ())
    assert "refused" in refused.problem
    assert refused.evidence() == {
        "port": closed,
        "outcome": "closed",
        "problem": refused.problem,
        "seconds": refused.evidence()["seconds"],
    }


def test_hostile_answers_stay_bounded_and_escaped() -> None:
    endless = HostilePeer(
        behaviour=Misbehaviour.ENDLESS, address=ADDRESS, payload=b"HTTP/1.1 200 OK\r\n"
    )
    drip = HostilePeer(behaviour=Misbehaviour.DRIP, address=ADDRESS, payload=b"SSH-2.0-")
    with hostile_service(address=ADDRESS) as hostile, endless, drip:
        shouting = read_service(ADDRESS, hostile.port, timeout=0.5)
        flood = read_service(ADDRESS, endless.port, timeout=0.5, ask_first=True)
        slow = read_service(ADDRESS, drip.port, timeout=0.5, ask_first=True)
    text = shouting.said[0].text
    assert text.startswith('220 <html><script>alert("cyberstd")')
    assert "\x1b" not in text and "\x00" not in text and "\\x1B[2J" in text
    assert len(text) <= MAX_SAID < len(HOSTILE_BANNER)
    assert flood.protocol is Protocol.HTTP and flood.said == ()  # no Server header in 16 KB
    # One byte every 0.2 s, never a line end: the read ends with what came within its time.
    assert slow.protocol is Protocol.SSH and slow.said[0].text.startswith("SSH-2.0-")
    for read in (shouting, flood, slow):
        assert all(len(s.text) <= MAX_SAID for s in read.said)


def test_read_banner_shows_what_a_service_sends_by_itself() -> None:
    with telnet_service(address=ADDRESS) as telnet, silent_service(address=ADDRESS) as silent:
        negotiation = read_banner(ADDRESS, telnet.port, timeout=0.5)
        nothing = read_banner(ADDRESS, silent.port, timeout=0.3)
    assert negotiation == "\\xFF\\xFD\\x18\\xFF\\xFD \\xFF\\xFD#\\xFF\\xFD'"
    assert nothing is None


@pytest.mark.parametrize("tls_first", [False, True])
def test_the_evidence_of_a_read_is_plain_data(tls_first: bool) -> None:
    with ssh_service(address=ADDRESS) as ssh:
        record = read_service(ADDRESS, ssh.port, timeout=1.0, tls_first=tls_first).evidence()
    assert record["protocol"] == "ssh" and "tls" not in record
    assert record["said"] == [{"source": "ssh banner", "text": "SSH-2.0-OpenSSH_7.4"}]

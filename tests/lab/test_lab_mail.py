"""Tests of the lab SMTP and IMAP servers, spoken to with raw sockets and Python's ssl."""

from __future__ import annotations

import smtplib
import socket
import ssl
from pathlib import Path

import pytest

from cyberstd.lab.certs import CertFiles, CertificateAuthority
from cyberstd.lab.mail import ImapServer, SmtpServer, mta_sts_policy
from tests.conftest import CLOCK

ADDRESS = "127.0.51.60"
NAME = "mail.school.test"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CertFiles]:
    workdir = tmp_path_factory.mktemp("lab-mail")
    ca = CertificateAuthority.create(workdir, now=CLOCK.now)
    return ca.cert_path, ca.issue(workdir, [NAME])


def _client(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def _by_address(ca: Path) -> ssl.SSLContext:
    # smtplib sends the address it connected to as the server name; the chain is still checked.
    context = _client(ca)
    context.check_hostname = False
    return context


def _read(sock: socket.socket, end: bytes) -> bytes:
    data = b""
    while not data.endswith(end):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_smtp_starttls_with_smtplib(pki: tuple[Path, CertFiles]) -> None:
    ca, cert = pki
    with SmtpServer(address=ADDRESS, cert=cert, host_name=NAME) as server:
        with smtplib.SMTP(ADDRESS, server.port, local_hostname="client.test", timeout=2) as smtp:
            code, _ = smtp.ehlo()
            assert code == 250 and smtp.has_extn("starttls")
            smtp.starttls(context=_by_address(ca))
            smtp.ehlo()
            assert not smtp.has_extn("starttls")
            assert isinstance(smtp.sock, ssl.SSLSocket)
            assert smtp.sock.version() in ("TLSv1.2", "TLSv1.3")
            assert smtp.docmd("RCPT", "TO:<a@b.test>")[0] == 550
        assert server.connections == 1
        assert server.commands[:3] == ["ehlo client.test", "STARTTLS", "ehlo client.test"]
        assert server.commands[-1] == "QUIT"


def test_smtp_without_starttls_and_with_a_custom_banner(pki: tuple[Path, CertFiles]) -> None:
    _, cert = pki
    with SmtpServer(
        address=ADDRESS, cert=cert, starttls=False, banner="220-first\r\n220 second"
    ) as server:
        with smtplib.SMTP(ADDRESS, server.port, timeout=2) as smtp:
            assert smtp.ehlo()[0] == 250
            assert not smtp.has_extn("starttls")
            assert smtp.docmd("STARTTLS")[0] == 502
        with socket.create_connection((ADDRESS, server.port), timeout=2) as sock:
            assert _read(sock, b"second\r\n") == b"220-first\r\n220 second\r\n"


def test_smtp_implicit_tls(pki: tuple[Path, CertFiles]) -> None:
    ca, cert = pki
    with SmtpServer(address=ADDRESS, cert=cert, starttls=False, implicit_tls=True) as server:
        raw = socket.create_connection((ADDRESS, server.port), timeout=2)
        with _client(ca).wrap_socket(raw, server_hostname=NAME) as tls:
            assert _read(tls, b"\r\n").startswith(b"220 ")
            tls.sendall(b"EHLO x\r\n")
            assert b"STARTTLS" not in _read(tls, b"ENHANCEDSTATUSCODES\r\n")


def test_smtp_hostile_banner_is_still_smtp(pki: tuple[Path, CertFiles]) -> None:
    _, cert = pki
    with (
        SmtpServer(address=ADDRESS, cert=cert, hostile=True) as server,
        socket.create_connection((ADDRESS, server.port), timeout=2) as sock,
    ):
        banner = _read(sock, b"<b>ready</b>\r\n")
        assert b"<script>" in banner and b"\x1b[2J" in banner and b"\x00" in banner
        sock.sendall(b"EHLO x\r\n")
        assert b"<marquee>" in _read(sock, b"ENHANCEDSTATUSCODES\r\n")


def test_smtp_argument_checks(pki: tuple[Path, CertFiles]) -> None:
    _, cert = pki
    with pytest.raises(ValueError, match="need a certificate"):
        SmtpServer(address=ADDRESS, cert=None)
    with pytest.raises(ValueError, match="not both"):
        SmtpServer(address=ADDRESS, cert=cert, implicit_tls=True)
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8 only"):
        SmtpServer(address="192.0.2.1", cert=cert)
    with pytest.raises(ValueError, match="one non-empty line"):
        SmtpServer(address=ADDRESS, cert=cert, host_name="a\r\nb")
    # Without TLS, no certificate is needed.
    assert SmtpServer(address=ADDRESS, cert=None, starttls=False).starttls is False


def test_stop_ends_open_plain_and_tls_connections(pki: tuple[Path, CertFiles]) -> None:
    ca, cert = pki
    server = SmtpServer(address=ADDRESS, cert=cert, host_name=NAME).start()
    plain = socket.create_connection((ADDRESS, server.port), timeout=2)
    _read(plain, b"\r\n")
    raw = socket.create_connection((ADDRESS, server.port), timeout=2)
    _read(raw, b"\r\n")
    raw.sendall(b"STARTTLS\r\n")
    _read(raw, b"\r\n")
    tls = _client(ca).wrap_socket(raw, server_hostname=NAME)
    server.stop()
    assert plain.recv(10) == b""
    with pytest.raises((ssl.SSLError, OSError)):
        if tls.recv(10) == b"":
            raise OSError("closed")
    plain.close()
    tls.close()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port


def test_imap_starttls_and_logout(pki: tuple[Path, CertFiles]) -> None:
    ca, cert = pki
    with ImapServer(address=ADDRESS, cert=cert, host_name=NAME) as server:
        sock = socket.create_connection((ADDRESS, server.port), timeout=2)
        assert _read(sock, b"\r\n").startswith(b"* OK")
        sock.sendall(b"a1 CAPABILITY\r\n")
        assert b"STARTTLS" in _read(sock, b"a1 OK done\r\n")
        sock.sendall(b"a2 STARTTLS\r\n")
        assert _read(sock, b"\r\n").startswith(b"a2 OK")
        with _client(ca).wrap_socket(sock, server_hostname=NAME) as tls:
            tls.sendall(b"a3 CAPABILITY\r\n")
            assert b"STARTTLS" not in _read(tls, b"a3 OK done\r\n")
            tls.sendall(b"a4 FETCH 1\r\na5 LOGOUT\r\n")
            answer = _read(tls, b"a5 OK done\r\n")
            assert b"a4 BAD" in answer and b"* BYE" in answer
        assert server.commands == [
            "a1 CAPABILITY",
            "a2 STARTTLS",
            "a3 CAPABILITY",
            "a4 FETCH 1",
            "a5 LOGOUT",
        ]


def test_imaps_starts_with_tls(pki: tuple[Path, CertFiles]) -> None:
    ca, cert = pki
    with ImapServer(address=ADDRESS, cert=cert, host_name=NAME, implicit_tls=True) as server:
        raw = socket.create_connection((ADDRESS, server.port), timeout=2)
        with _client(ca).wrap_socket(raw, server_hostname=NAME) as tls:
            assert _read(tls, b"\r\n").startswith(b"* OK")
            tls.sendall(b"a1 CAPABILITY\r\n")
            assert b"STARTTLS" not in _read(tls, b"a1 OK done\r\n")


def test_mta_sts_policy_text() -> None:
    assert mta_sts_policy(["mail.school.test", "*.mx.school.test"], max_age=86400) == (
        b"version: STSv1\r\nmode: enforce\r\nmx: mail.school.test\r\n"
        b"mx: *.mx.school.test\r\nmax_age: 86400\r\n"
    )

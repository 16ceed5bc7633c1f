"""Tests of the lab TCP services: loopback only, realistic banners, fast clean shutdown."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable

import pytest

from cyberstd.lab.services import (
    HOSTILE_BANNER,
    OUTDATED_HTTP_SERVER,
    RDP_CONNECTION_CONFIRM,
    TELNET_GREETING,
    ServiceKind,
    TcpService,
    hostile_service,
    http_service,
    mysql_greeting,
    mysql_service,
    rdp_service,
    silent_service,
    ssh_service,
    telnet_service,
)

ADDRESS = "127.0.40.20"
# An RDP client's first packet: TPKT + X.224 Connection Request with an RDP negotiation request.
RDP_REQUEST = bytes.fromhex("030000130ee000000000000100080003000000")


def _connect(service: TcpService) -> socket.socket:
    sock = socket.create_connection((service.address, service.port), timeout=3)
    return sock


def _hung_up(sock: socket.socket) -> bool:
    """Whether the peer closed the connection (an orderly close or a reset)."""
    try:
        return sock.recv(10) == b""
    except ConnectionResetError:
        return True


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize(
    "factory",
    [
        ssh_service,
        telnet_service,
        rdp_service,
        mysql_service,
        http_service,
        hostile_service,
        silent_service,
    ],
)
@pytest.mark.parametrize("address", ["0.0.0.0", "10.0.0.1", "::1", "localhost"])
def test_services_refuse_addresses_outside_loopback(
    factory: Callable[..., TcpService], address: str
) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8|not an IP address"):
        factory(address=address)


def test_ssh_sends_its_version_line() -> None:
    with ssh_service(address=ADDRESS, version="OpenSSH_8.9p1 Ubuntu-3ubuntu0.10") as ssh:
        assert ssh.kind is ServiceKind.SSH
        with _connect(ssh) as sock:
            assert sock.recv(100) == b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n"


def test_an_ssh_version_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="one non-empty line"):
        ssh_service(address=ADDRESS, version="OpenSSH_7.4\r\nExtra")


def test_telnet_opens_option_negotiation() -> None:
    with telnet_service(address=ADDRESS) as telnet, _connect(telnet) as sock:
        assert _read(sock, len(TELNET_GREETING)) == TELNET_GREETING


def test_rdp_answers_a_connection_request_and_nothing_else() -> None:
    with rdp_service(address=ADDRESS) as rdp:
        with _connect(rdp) as sock:
            sock.sendall(RDP_REQUEST)
            assert _read(sock, len(RDP_CONNECTION_CONFIRM)) == RDP_CONNECTION_CONFIRM
        with _connect(rdp) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                sock.recv(10)


def test_mysql_greets_with_its_version() -> None:
    with mysql_service(address=ADDRESS, version="5.7.44") as mysql, _connect(mysql) as sock:
        header = _read(sock, 4)
        length = struct.unpack("<I", header[:3] + b"\x00")[0]
        body = _read(sock, length)
    assert header[3] == 0 and body[0] == 10  # sequence 0, protocol version 10
    assert body[1:].split(b"\x00", 1)[0] == b"5.7.44"
    assert mysql_greeting("5.7.44") == header + body


def test_http_names_its_software_in_the_headers() -> None:
    with http_service(address=ADDRESS, powered_by="PHP/7.4.33") as web:
        with _connect(web) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
            answer = _read(sock, 100_000)
        with _connect(web) as sock:
            sock.sendall(b"HEAD / HTTP/1.1\r\nHost: lab\r\n\r\n")
            head_only = _read(sock, 100_000)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"Server: {OUTDATED_HTTP_SERVER}".encode() in head
    assert b"X-Powered-By: PHP/7.4.33" in head
    assert body.startswith(b"<!doctype html>")
    assert head_only.endswith(b"\r\n\r\n") and b"Server: Apache" in head_only


def test_a_header_value_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="one line"):
        http_service(address=ADDRESS, server="Apache\r\nSet-Cookie: x=1")


def test_the_hostile_banner_arrives_whole() -> None:
    assert (
        b"<script>" in HOSTILE_BANNER and b"\x1b[" in HOSTILE_BANNER and b"\x00" in HOSTILE_BANNER
    )
    assert max(len(line) for line in HOSTILE_BANNER.split(b"\r\n")) == 65536
    with hostile_service(address=ADDRESS) as hostile, _connect(hostile) as sock:
        assert _read(sock, len(HOSTILE_BANNER)) == HOSTILE_BANNER


def test_the_silent_service_accepts_and_never_answers() -> None:
    with silent_service(address=ADDRESS) as silent, _connect(silent) as sock:
        sock.sendall(b"hello?\r\n")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(10)
        assert silent.connections == 1


def test_a_fixed_port_is_used_as_given() -> None:
    with socket.create_server((ADDRESS, 0)) as probe:
        port = int(probe.getsockname()[1])
    with ssh_service(address=ADDRESS, port=port) as ssh:
        assert ssh.port == port
        with _connect(ssh) as sock:
            assert sock.recv(4) == b"SSH-"


def test_stop_ends_held_connections_and_joins_every_thread() -> None:
    before = set(threading.enumerate())
    service = silent_service(address=ADDRESS).start()
    clients = [_connect(service) for _ in range(5)]
    for client in clients:
        client.sendall(b"x")
    service.stop()
    try:
        for client in clients:
            client.settimeout(2)
            assert _hung_up(client)
    finally:
        for client in clients:
            client.close()
    assert set(threading.enumerate()) <= before
    with pytest.raises(RuntimeError, match="not started"):
        _ = service.port


def test_a_service_cannot_start_twice() -> None:
    with silent_service(address=ADDRESS) as silent, pytest.raises(RuntimeError, match="already"):
        silent.start()

"""Lab TCP services on loopback with realistic banners: SSH, Telnet, RDP, MySQL, HTTP, hostile, silent."""

from __future__ import annotations

import contextlib
import socket
import struct
from enum import StrEnum

from cyberstd.lab.server import Handler, ThreadedTcpServer

# The most a lab service reads of one request before it answers or hangs up.
MAX_REQUEST = 16 * 1024

OUTDATED_SSH = "OpenSSH_7.4"
CURRENT_SSH = "OpenSSH_9.6p1 Ubuntu-3ubuntu13.5"
OUTDATED_HTTP_SERVER = "Apache/2.2.15 (CentOS)"
CURRENT_HTTP_SERVER = "Apache/2.4.62 (Debian)"
OUTDATED_MYSQL = "5.5.62"

# IAC DO TERMINAL-TYPE, IAC DO TERMINAL-SPEED, IAC DO X-DISPLAY, IAC DO NEW-ENVIRON: how a
# Linux telnetd opens a session (nmap recognises the sequence).
TELNET_GREETING = b"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"
# X.224 Connection Confirm carrying an RDP Negotiation Response that selects TLS: what a
# Windows remote-desktop service answers to a client's Connection Request.
RDP_CONNECTION_CONFIRM = bytes.fromhex("030000130ed00000123400021f080002000000")

# A banner meant to break whatever displays it: HTML and script tags, ANSI escapes, control
# characters, NUL, and one 64 KB line.
HOSTILE_BANNER = (
    b'220 <html><script>alert("cyberstd")</script><img src=x onerror=alert(1)>'
    b"\x1b[2J\x1b[31mRED\x1b[0m\x1b]0;owned\x07 \x00\x01\x08\x7f ctrl\r\n" + b"A" * 65536 + b"\r\n"
)


class ServiceKind(StrEnum):
    SSH = "ssh"
    TELNET = "telnet"
    RDP = "rdp"
    MYSQL = "mysql"
    HTTP = "http"
    HOSTILE = "hostile"
    SILENT = "silent"


def _drain(conn: socket.socket) -> None:
    """Read and discard until the client hangs up, goes idle or the service stops."""
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass


def _read_until(conn: socket.socket, marker: bytes) -> bytes:
    data = b""
    with contextlib.suppress(OSError):
        while marker not in data and len(data) < MAX_REQUEST:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    return data


class TcpService(ThreadedTcpServer):
    """A threaded TCP service on an address in 127.0.0.0/8 that runs `handler` per connection.

    Port 0 lets the system pick a free port (read it from `port` after `start()`). `stop()`
    ends every open connection at once and joins every thread, so a test ends quickly even
    while a client still holds a connection.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        kind: ServiceKind,
        address: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(handler, address=address, port=port)
        self.kind = kind

    def _describe(self) -> str:
        return f"{self.kind} service"


# --- the services ------------------------------------------------------------------------------


def _banner_then_drain(banner: bytes) -> Handler:
    def handle(conn: socket.socket) -> None:
        conn.sendall(banner)
        _drain(conn)

    return handle


def ssh_service(
    *, address: str = "127.0.0.1", port: int = 0, version: str = OUTDATED_SSH
) -> TcpService:
    """An SSH-like service: sends `SSH-2.0-<version>` and then waits (nmap -sV reads the version)."""
    if not version or any(c in version for c in "\r\n"):
        raise ValueError(f"SSH software version {version!r} must be one non-empty line")
    return TcpService(
        _banner_then_drain(f"SSH-2.0-{version}\r\n".encode()),
        kind=ServiceKind.SSH,
        address=address,
        port=port,
    )


def telnet_service(*, address: str = "127.0.0.1", port: int = 0) -> TcpService:
    """A Telnet-like service: opens option negotiation as a Linux telnetd does."""
    return TcpService(
        _banner_then_drain(TELNET_GREETING), kind=ServiceKind.TELNET, address=address, port=port
    )


def _rdp(conn: socket.socket) -> None:
    request = conn.recv(MAX_REQUEST)
    # A TPKT header (version 3) is how every RDP client starts; anything else gets nothing.
    if request[:1] == b"\x03":
        conn.sendall(RDP_CONNECTION_CONFIRM)
    _drain(conn)


def rdp_service(*, address: str = "127.0.0.1", port: int = 0) -> TcpService:
    """A remote-desktop-like listener: silent until the client speaks, then an X.224 confirm."""
    return TcpService(_rdp, kind=ServiceKind.RDP, address=address, port=port)


def mysql_greeting(version: str) -> bytes:
    """A MySQL protocol-10 handshake packet announcing `version`."""
    body = (
        b"\x0a"
        + version.encode()
        + b"\x00"
        + struct.pack("<I", 1)  # connection id
        + b"8charsal"  # auth plugin data, part 1
        + b"\x00"
        + struct.pack("<H", 0xF7FF)  # capabilities (low)
        + b"\x21"  # character set utf8
        + struct.pack("<H", 0x0002)  # status: autocommit
        + struct.pack("<H", 0x800F)  # capabilities (high)
        + b"\x15"  # length of the auth plugin data
        + b"\x00" * 10
        + b"twelvechars!\x00"  # auth plugin data, part 2
        + b"mysql_native_password\x00"
    )
    return struct.pack("<I", len(body))[:3] + b"\x00" + body


def mysql_service(
    *, address: str = "127.0.0.1", port: int = 0, version: str = OUTDATED_MYSQL
) -> TcpService:
    """A MySQL-like service: sends the server greeting with `version`, then waits."""
    return TcpService(
        _banner_then_drain(mysql_greeting(version)),
        kind=ServiceKind.MYSQL,
        address=address,
        port=port,
    )


def _http(server: str, powered_by: str | None) -> Handler:
    body = b"<!doctype html><title>lab</title><p>Een schoolserver in het cyberstd-lab.</p>\n"

    def handle(conn: socket.socket) -> None:
        request = _read_until(conn, b"\r\n\r\n")
        if not request:
            return
        head = [
            "HTTP/1.1 200 OK",
            f"Server: {server}",
            "Content-Type: text/html; charset=utf-8",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        if powered_by:
            head.append(f"X-Powered-By: {powered_by}")
        answer = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        conn.sendall(answer if request.startswith(b"HEAD ") else answer + body)

    return handle


def http_service(
    *,
    address: str = "127.0.0.1",
    port: int = 0,
    server: str = OUTDATED_HTTP_SERVER,
    powered_by: str | None = None,
) -> TcpService:
    """A web server that names its software in the Server (and X-Powered-By) header."""
    for value in (server, powered_by or ""):
        if any(c in value for c in "\r\n"):
            raise ValueError(f"header value {value!r} must be one line")
    return TcpService(_http(server, powered_by), kind=ServiceKind.HTTP, address=address, port=port)


def hostile_service(
    *, address: str = "127.0.0.1", port: int = 0, banner: bytes = HOSTILE_BANNER
) -> TcpService:
    """A service whose banner is hostile to displays and parsers (see HOSTILE_BANNER)."""
    return TcpService(
        _banner_then_drain(banner), kind=ServiceKind.HOSTILE, address=address, port=port
    )


def silent_service(*, address: str = "127.0.0.1", port: int = 0) -> TcpService:
    """A service that accepts connections and never sends a byte."""
    return TcpService(_drain, kind=ServiceKind.SILENT, address=address, port=port)

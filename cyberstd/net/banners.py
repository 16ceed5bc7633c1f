"""What a service says about itself, read cheaply: the greeting a server sends first (SSH, FTP,
SMTP, POP3, IMAP), SMTP's answer to EHLO, and the Server and X-Powered-By headers of an HTTP
HEAD request, in plain text or inside TLS.

Every read is bounded in size and time, and nothing is judged here: the probes compare what a
service said with their data.
"""

from __future__ import annotations

import contextlib
import functools
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cyberstd import __version__
from cyberstd.errors import ProbeError
from cyberstd.net.tcp import open_tcp
from cyberstd.net.tls import permissive_context

# The most read of one answer (a greeting, an EHLO reply, the head of an HTTP response).
MAX_ANSWER = 16 * 1024
# The most kept of one text a service said.
MAX_SAID = 300
# How long a server that speaks first (SSH, FTP, SMTP, POP3, IMAP) is given to do so before the
# read asks an HTTP question; a later greeting still arrives first in the answer to it.
GREETING_WAIT = 0.5
# After the first bytes of a greeting, how long the rest of it may take.
GREETING_REST = 0.5
EHLO_NAME = "cyberstd.invalid"
USER_AGENT = f"cyberstd/{__version__} (school security check)"

# Where each text came from, as the evidence names it.
SSH_BANNER = "ssh banner"
FTP_BANNER = "ftp banner"
SMTP_BANNER = "smtp banner"
SMTP_EHLO = "smtp ehlo"
POP3_BANNER = "pop3 banner"
IMAP_BANNER = "imap banner"
OTHER_BANNER = "banner"
SERVER_HEADER = "http server header"
POWERED_BY_HEADER = "http x-powered-by header"
BANNER_SOURCES = frozenset(
    {SSH_BANNER, FTP_BANNER, SMTP_BANNER, SMTP_EHLO, POP3_BANNER, IMAP_BANNER, OTHER_BANNER}
)
HEADER_SOURCES = frozenset({SERVER_HEADER, POWERED_BY_HEADER})

_REPLY = re.compile(rb"^([0-9]{3})")
_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


class Protocol(StrEnum):
    SSH = "ssh"
    FTP = "ftp"
    SMTP = "smtp"
    POP3 = "pop3"
    IMAP = "imap"
    HTTP = "http"


class Outcome(StrEnum):
    """How a read ended."""

    IDENTIFIED = "identified"  # the service said which protocol it speaks
    UNKNOWN = "unknown"  # it said something no protocol above starts with
    SILENT = "silent"  # it sent nothing: no greeting, no answer to HTTP, no TLS handshake
    CLOSED = "closed"  # it refused or ended the connection without a word


@dataclass(frozen=True)
class Said:
    """One text a service said about itself, and where in its answer it was."""

    source: str
    text: str


@dataclass(frozen=True)
class ServiceRead:
    """What one port said: its protocol (None when not recognised), whether inside TLS."""

    port: int
    outcome: Outcome
    protocol: Protocol | None = None
    tls: bool = False
    said: tuple[Said, ...] = ()
    problem: str = ""
    seconds: float = 0.0

    @property
    def identified(self) -> bool:
        return self.protocol is not None

    def evidence(self) -> dict[str, Any]:
        """A JSON-ready record; every text is bounded and its control characters escaped."""
        record: dict[str, Any] = {"port": self.port, "outcome": str(self.outcome)}
        if self.protocol is not None:
            record["protocol"] = str(self.protocol)
        if self.tls:
            record["tls"] = True
        if self.said:
            record["said"] = [{"source": s.source, "text": s.text} for s in self.said]
        if self.problem:
            record["problem"] = self.problem
        record["seconds"] = round(self.seconds, 2)
        return record


@dataclass(frozen=True)
class _Talk:
    outcome: Outcome
    protocol: Protocol | None = None
    said: tuple[Said, ...] = ()


def shown(raw: bytes) -> str:
    """Bytes as nmap's banner script shows them: white space around them off, every byte
    outside printable ASCII as \\xHH (so no peer can send a terminal or a report a control
    character)."""
    return "".join(chr(b) if 32 <= b <= 126 else f"\\x{b:02X}" for b in raw.strip())


def _text(raw: bytes) -> str:
    return shown(raw)[:MAX_SAID]


def _recv(sock: socket.socket, seconds: float) -> bytes | None:
    """What arrives within `seconds`: None when nothing did, b"" when the peer closed."""
    sock.settimeout(max(seconds, 0.001))
    try:
        return sock.recv(4096)
    except TimeoutError:
        return None
    except OSError:  # reset, or a TLS error (ssl.SSLError is an OSError)
        return b""


def _read_until(
    sock: socket.socket, data: bytes, done: Callable[[bytes], bool], seconds: float
) -> bytes:
    until = time.monotonic() + seconds
    while not done(data) and len(data) < MAX_ANSWER:
        left = until - time.monotonic()
        chunk = _recv(sock, left) if left > 0 else None
        if not chunk:
            break
        data += chunk
    return data[:MAX_ANSWER]


def _lines(data: bytes) -> list[bytes]:
    return [line.rstrip(b"\r") for line in data.split(b"\n")]


def _reply_done(data: bytes) -> bool:
    """A whole reply: at least one line, the last of them not a continuation ("220-")."""
    complete = _lines(data)[:-1]
    return bool(complete) and not re.match(rb"^[0-9]{3}-", complete[-1])


def _head_done(data: bytes) -> bool:
    if data.startswith(b"HTTP/"):
        return b"\r\n\r\n" in data or b"\n\n" in data
    return _reply_done(data)


def _looks_like_tls(data: bytes) -> bool:
    # A TLS record (an alert, most often) in answer to plain text: the port speaks TLS.
    return len(data) >= 2 and data[0] in (0x15, 0x16) and data[1] == 0x03


def _http(lines: list[bytes]) -> _Talk:
    said: list[Said] = []
    for line in lines[1:]:
        if not line.strip():
            break
        name, _, value = line.partition(b":")
        key = name.strip().lower().decode("latin-1")
        if key == "server":
            said.append(Said(SERVER_HEADER, _text(value)))
        elif key == "x-powered-by":
            said.append(Said(POWERED_BY_HEADER, _text(value)))
    return _Talk(Outcome.IDENTIFIED, Protocol.HTTP, tuple(s for s in said if s.text))


def _greeting(lines: list[bytes]) -> str:
    return " | ".join(_text(line) for line in lines if line.strip())[:MAX_SAID]


def _classify(data: bytes) -> _Talk:
    """What the first answer of a port says it is."""
    if _looks_like_tls(data):
        return _Talk(Outcome.CLOSED)
    lines = _lines(data)
    first = lines[0].strip()
    if first.startswith(b"HTTP/"):
        return _http(lines)
    ssh = next((line for line in lines if line.startswith(b"SSH-")), None)
    if ssh is not None:
        return _Talk(Outcome.IDENTIFIED, Protocol.SSH, (Said(SSH_BANNER, _text(ssh)),))
    if first.startswith(b"+OK"):
        return _Talk(Outcome.IDENTIFIED, Protocol.POP3, (Said(POP3_BANNER, _greeting(lines)),))
    if first.startswith((b"* OK", b"* PREAUTH")):
        return _Talk(Outcome.IDENTIFIED, Protocol.IMAP, (Said(IMAP_BANNER, _greeting(lines)),))
    if first.startswith(b"220"):
        upper = data.upper()
        if b"SMTP" in upper:
            return _Talk(Outcome.IDENTIFIED, Protocol.SMTP, (Said(SMTP_BANNER, _greeting(lines)),))
        if b"FTP" in upper:
            return _Talk(Outcome.IDENTIFIED, Protocol.FTP, (Said(FTP_BANNER, _greeting(lines)),))
        # SMTP or FTP: EHLO tells (see _ehlo).
        return _Talk(Outcome.UNKNOWN, None, (Said(OTHER_BANNER, _greeting(lines)),))
    return _Talk(Outcome.UNKNOWN, None, (Said(OTHER_BANNER, _text(data)),))


def _ehlo(sock: socket.socket, greeting: _Talk, timeout: float) -> _Talk:
    """SMTP's answer to EHLO after a 220 greeting. A 220 greeting that names neither SMTP nor
    FTP is SMTP when EHLO is answered with 250, FTP when it is refused with a 5xx reply."""
    text = greeting.said[0].text
    try:
        sock.settimeout(timeout)
        sock.sendall(f"EHLO {EHLO_NAME}\r\n".encode("ascii"))
    except OSError:
        return greeting
    reply = _read_until(sock, b"", _reply_done, timeout)
    with contextlib.suppress(OSError):
        sock.sendall(b"QUIT\r\n")
    first = _lines(reply)[0]
    matched = _REPLY.match(first)
    code = matched.group(1) if matched else b""
    if code == b"250":
        said = (Said(SMTP_BANNER, text), Said(SMTP_EHLO, _text(first[len(code) + 1 :])))
        return _Talk(Outcome.IDENTIFIED, Protocol.SMTP, tuple(s for s in said if s.text))
    if greeting.protocol is None and code.startswith(b"5"):
        return _Talk(Outcome.IDENTIFIED, Protocol.FTP, (Said(FTP_BANNER, text),))
    return greeting


def _head_request(host: str) -> bytes:
    return (
        f"HEAD / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def _speak(sock: socket.socket, timeout: float, host: str, ask_first: bool) -> _Talk:
    """Listen for a greeting (unless `ask_first`); without one, ask HEAD /; then say what the
    answer was."""
    first = None if ask_first else _recv(sock, min(GREETING_WAIT, timeout))
    if first == b"":
        return _Talk(Outcome.CLOSED)
    asked = first is None
    if first is None:
        try:
            sock.settimeout(timeout)
            sock.sendall(_head_request(host))
        except TimeoutError:
            return _Talk(Outcome.SILENT)
        except OSError:
            return _Talk(Outcome.CLOSED)
        answer = _recv(sock, timeout)
        if answer is None:
            return _Talk(Outcome.SILENT)
        if answer == b"":
            return _Talk(Outcome.CLOSED)
        data = _read_until(sock, answer, _head_done, timeout)
    else:
        data = _read_until(sock, first, _reply_done, min(GREETING_REST, timeout))
    talk = _classify(data)
    # EHLO only on a greeting that came unasked: after HEAD, the replies to it come first.
    if not asked and data.startswith(b"220") and talk.protocol is not Protocol.FTP:
        return _ehlo(sock, talk, timeout)
    return talk


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Old servers are the point: every version and cipher the local OpenSSL has, no verification
    # (the certificate checks are other probes' work). An SSLContext serves every thread.
    return permissive_context()


def _plain(address: str, port: int, timeout: float, host: str, ask_first: bool) -> _Talk:
    with open_tcp(address, port, timeout) as sock:
        return _speak(sock, timeout, host, ask_first)


def _inside_tls(
    address: str, port: int, timeout: float, host: str, sni: str | None, ask_first: bool
) -> _Talk:
    with open_tcp(address, port, timeout) as raw:
        tls = _tls_context().wrap_socket(raw, server_hostname=sni, do_handshake_on_connect=False)
        with tls:
            tls.settimeout(timeout)
            try:
                tls.do_handshake()
            except TimeoutError:
                return _Talk(Outcome.SILENT)
            except OSError:  # not TLS (ssl.SSLError is an OSError)
                return _Talk(Outcome.CLOSED)
            return _speak(tls, timeout, host, ask_first)


def read_service(
    address: str,
    port: int,
    *,
    timeout: float,
    host_name: str | None = None,
    tls_first: bool = False,
    ask_first: bool = False,
) -> ServiceRead:
    """Connect to `address`:`port` and read what the service says about itself.

    Plain text first (or TLS first with `tls_first`, for ports that usually speak TLS): wait
    briefly for a greeting; without one (at once with `ask_first`, for ports that usually speak
    HTTP), send `HEAD /` (Host: `host_name`, else the address); a greeting that comes late still
    comes first in the answer.
    SMTP is also asked EHLO. A port that ends the connection or answers with a TLS record is
    tried the other way; a port that stays silent to both a request and a handshake is not.
    Each wait lasts at most `timeout` seconds. Never raises for what the peer does: a refused
    connection is a read with outcome CLOSED and the reason in `problem`.
    """
    started = time.monotonic()
    named = host_name if host_name and _HOST_NAME.fullmatch(host_name) else None
    host = named or (f"[{address}]" if ":" in address else address)
    outcome, problem = Outcome.CLOSED, ""
    for tls in (True, False) if tls_first else (False, True):
        try:
            talk = (
                _inside_tls(address, port, timeout, host, named, ask_first)
                if tls
                else _plain(address, port, timeout, host, ask_first)
            )
        except ProbeError as exc:
            outcome, problem = Outcome.CLOSED, str(exc)
            break
        if talk.outcome in (Outcome.IDENTIFIED, Outcome.UNKNOWN):
            seconds = time.monotonic() - started
            return ServiceRead(port, talk.outcome, talk.protocol, tls, talk.said, "", seconds)
        outcome = talk.outcome
        # TLS servers refuse plain text at once, so a port silent to it is no TLS port either;
        # a plain server may still be waiting for the end of a line that a TLS hello lacks.
        if outcome is Outcome.SILENT and not tls:
            break
    return ServiceRead(port, outcome, problem=problem, seconds=time.monotonic() - started)


def read_banner(address: str, port: int, *, timeout: float) -> str | None:
    """What a service sends by itself within `timeout` seconds of the connection, as nmap's
    banner script shows it (surrounding white space off, every other byte outside printable
    ASCII as \\xHH); None when it sent nothing. Raises ProbeError when it cannot be reached."""
    with open_tcp(address, port, timeout) as sock:
        first = _recv(sock, timeout)
        if not first:
            return None
        data = _read_until(sock, first, _reply_done, min(GREETING_REST, timeout))
    return shown(data) or None

"""Offering one protocol version or one class of cipher suites: by a full handshake, or by a
hand-built ClientHello for what the local OpenSSL can no longer offer."""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.messages import msg
from cyberstd.net.endpoints import ConnectOptions, Endpoint, Peer, connect, where
from cyberstd.net.tcp import Place
from cyberstd.net.tls import HandshakeClosed, HandshakeRefused, handshake, handshake_closed

# --- hand-built ClientHellos ------------------------------------------------------------------

# Record and handshake numbers of RFC 5246.
_RECORD_ALERT = 21
_RECORD_HANDSHAKE = 22
_CLIENT_HELLO = 1
_SERVER_HELLO = 2
# The largest record a peer may send (2^14 plus expansion): anything longer is not TLS.
_MAX_RECORD = 18432
# A ServerHello split over more records than this is not worth waiting for.
_MAX_HELLO_RECORDS = 4
_WIRE_VERSIONS = {"SSLv3": 0x0300, "TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303}
# TLS_EMPTY_RENEGOTIATION_INFO_SCSV: what clients of every era send; some servers expect it.
_RENEGOTIATION_SCSV = 0x00FF
# x25519, P-256, P-384, P-521, ffdhe2048: without them a server cannot pick an ECDHE suite.
_GROUPS = (0x001D, 0x0017, 0x0018, 0x0019, 0x0100)
# ECDSA, RSA-PSS and RSA PKCS#1 with SHA-256/384/512, then SHA-1: old servers only sign SHA-1.
_SIGNATURE_ALGORITHMS = (
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201,
)  # fmt: skip
_ALERTS = {
    10: "unexpected_message",
    40: "handshake_failure",
    47: "illegal_parameter",
    50: "decode_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    112: "unrecognized_name",
}


def wire_version(name: str) -> int:
    """The two-byte protocol version of a version name ("SSLv3" .. "TLSv1.2")."""
    return _WIRE_VERSIONS[name]


def version_name(wire: int) -> str:
    names = {v: k for k, v in _WIRE_VERSIONS.items()} | {0x0304: "TLSv1.3"}
    return names.get(wire, f"0x{wire:04x}")


def _vector(data: bytes, length_bytes: int) -> bytes:
    return len(data).to_bytes(length_bytes, "big") + data


def _u16s(values: Sequence[int]) -> bytes:
    return b"".join(struct.pack("!H", v) for v in values)


def _extension(kind: int, data: bytes) -> bytes:
    return struct.pack("!H", kind) + _vector(data, 2)


def _is_dns_name(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return bool(name) and name.isascii() and len(name) <= 253
    return False


def _extensions(server_name: str, wire: int) -> bytes:
    parts = []
    if _is_dns_name(server_name):
        host = server_name.encode("ascii")
        parts.append(_extension(0, _vector(b"\x00" + _vector(host, 2), 2)))
    parts.append(_extension(10, _vector(_u16s(_GROUPS), 2)))
    parts.append(_extension(11, _vector(b"\x00", 1)))
    if wire >= _WIRE_VERSIONS["TLSv1.2"]:
        parts.append(_extension(13, _vector(_u16s(_SIGNATURE_ALGORITHMS), 2)))
    return b"".join(parts)


def client_hello(version: str, suites: Sequence[int], server_name: str) -> bytes:
    """A ClientHello record offering `suites` at `version` ("SSLv3" .. "TLSv1.2"), with SNI.

    SSLv3 hellos carry no extensions, as SSLv3 clients did.
    """
    wire = wire_version(version)
    body = (
        struct.pack("!H", wire)
        + os.urandom(32)
        + _vector(b"", 1)
        + _vector(_u16s([*suites, _RENEGOTIATION_SCSV]), 2)
        + _vector(b"\x00", 1)
    )
    if wire > _WIRE_VERSIONS["SSLv3"]:
        body += _vector(_extensions(server_name, wire), 2)
    message = bytes([_CLIENT_HELLO]) + _vector(body, 3)
    record_version = min(wire, _WIRE_VERSIONS["TLSv1"])
    return struct.pack("!BH", _RECORD_HANDSHAKE, record_version) + _vector(message, 2)


@dataclass(frozen=True)
class Alert:
    """A TLS alert record: the server's refusal."""

    level: int
    description: int

    @property
    def name(self) -> str:
        return _ALERTS.get(self.description, str(self.description))


@dataclass(frozen=True)
class ServerHello:
    """The server's choice: protocol version and cipher suite (two-byte codes)."""

    version: int
    suite: int


def _recv_exact(sock: socket.socket, size: int, place: Place, deadline: float) -> bytes:
    data = bytearray()
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ProbeTimeout(msg("tls.handshake.timeout", place=place))
        sock.settimeout(left)
        try:
            chunk = sock.recv(size - len(data))
        except TimeoutError as exc:
            raise ProbeTimeout(msg("tls.handshake.timeout", place=place)) from exc
        except ConnectionResetError as exc:
            raise handshake_closed(place) from exc
        if not chunk:
            raise handshake_closed(place)
        data += chunk
    return bytes(data)


def _record(sock: socket.socket, place: Place, deadline: float) -> tuple[int, bytes]:
    header = _recv_exact(sock, 5, place, deadline)
    kind, major, length = header[0], header[1], int.from_bytes(header[3:5], "big")
    if (
        kind not in (_RECORD_ALERT, _RECORD_HANDSHAKE)
        or major != 3
        or not 0 < length <= _MAX_RECORD
    ):
        raise ProtocolError(msg("tls.hello.not-tls", place=place, bytes=header.hex()))
    return kind, _recv_exact(sock, length, place, deadline)


def _hello_size(data: bytes) -> int:
    # Handshake header (4), version (2), random (32), session id (1 + n), suite (2).
    return 41 + (data[38] if len(data) > 38 else 0)


def read_answer(sock: socket.socket, place: Place, timeout: float) -> Alert | ServerHello:
    """The server's answer to a ClientHello, read within `timeout` and at most a few records."""
    deadline = time.monotonic() + timeout
    kind, data = _record(sock, place, deadline)
    if kind == _RECORD_ALERT:
        if len(data) < 2:
            raise ProtocolError(msg("tls.hello.truncated-alert", place=place))
        return Alert(level=data[0], description=data[1])
    for _ in range(_MAX_HELLO_RECORDS):
        if len(data) >= _hello_size(data):
            break
        kind, more = _record(sock, place, deadline)
        if kind != _RECORD_HANDSHAKE:
            raise ProtocolError(msg("tls.hello.interrupted", place=place))
        data += more
    if data[0] != _SERVER_HELLO or len(data) < _hello_size(data):
        raise ProtocolError(msg("tls.hello.no-server-hello", place=place))
    at = 39 + data[38]
    return ServerHello(
        version=int.from_bytes(data[4:6], "big"), suite=int.from_bytes(data[at : at + 2], "big")
    )


# --- offering one version or one class of suites -------------------------------------------------


class Offer(StrEnum):
    """What became of one offer (a protocol version, a class of cipher suites)."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    NO_ANSWER = "no answer"
    NOT_TESTABLE = "not testable here"


class Method(StrEnum):
    """How an offer was made: a full handshake by the local OpenSSL, or a hand-built ClientHello
    for what the local OpenSSL can no longer offer (the ServerHello's choice decides)."""

    HANDSHAKE = "handshake"
    CLIENT_HELLO = "client_hello"


@dataclass(frozen=True)
class Attempt:
    """The result of one offer.

    `error` is set when the server gave no TLS answer (a handshake, a ServerHello or an alert):
    NO_ANSWER for a timeout, a failed connection or bytes that are not TLS; REFUSED when it
    hung up, which only counts as a refusal if the same server answers other offers in TLS.
    """

    offer: Offer
    method: Method
    detail: str
    version: str = ""
    suite: str = ""
    error: ProbeError | None = None

    @property
    def tls_answer(self) -> bool:
        return self.error is None and self.offer is not Offer.NOT_TESTABLE

    def evidence(self) -> dict[str, Any]:
        record: dict[str, Any] = {"result": self.offer, "method": self.method}
        if self.version:
            record["version"] = self.version
        if self.suite:
            record["suite"] = self.suite
        record["detail"] = self.detail
        return record


def offer_handshake(
    host: Peer, endpoint: Endpoint, ctx: ConnectOptions, ssl_ctx: ssl.SSLContext
) -> Attempt:
    """Offer what `ssl_ctx` allows in a full handshake; accepted when the handshake completes."""
    try:
        session = handshake(host, endpoint, ctx, ssl_ctx)
    except HandshakeRefused as exc:
        return Attempt(Offer.REFUSED, Method.HANDSHAKE, exc.detail)
    except HandshakeClosed as exc:
        return Attempt(Offer.REFUSED, Method.HANDSHAKE, "closed the connection", error=exc)
    except ProbeError as exc:
        return Attempt(Offer.NO_ANSWER, Method.HANDSHAKE, _short(exc), error=exc)
    return Attempt(
        Offer.ACCEPTED,
        Method.HANDSHAKE,
        f"negotiated {session.version} with {session.cipher}",
        version=session.version,
        suite=session.cipher,
    )


def offer_client_hello(
    host: Peer,
    endpoint: Endpoint,
    ctx: ConnectOptions,
    version: str,
    suites: dict[int, str],
    *,
    or_older: bool = False,
) -> Attempt:
    """Offer `suites` at `version` (`or_older`: down to SSLv3) in a hand-built ClientHello;
    accepted when the ServerHello picks such a version and one of those suites. No handshake
    is completed: what the local OpenSSL cannot offer can still be tested this way."""
    place = where(host, endpoint)
    try:
        sock, _ = connect(host, endpoint, ctx)
        with sock:
            sock.sendall(client_hello(version, list(suites), host.name))
            answer = read_answer(sock, place, ctx.timeout)
    except (ConnectionResetError, BrokenPipeError):
        closed = handshake_closed(place)
        return Attempt(Offer.REFUSED, Method.CLIENT_HELLO, "closed the connection", error=closed)
    except HandshakeClosed as exc:
        return Attempt(Offer.REFUSED, Method.CLIENT_HELLO, "closed the connection", error=exc)
    except OSError as exc:
        error = ConnectivityError(
            msg("tls.connection.failed", place=place, detail=exc.strerror or exc)
        )
        return Attempt(Offer.NO_ANSWER, Method.CLIENT_HELLO, str(error), error=error)
    except ProbeError as exc:
        return Attempt(Offer.NO_ANSWER, Method.CLIENT_HELLO, _short(exc), error=exc)
    if isinstance(answer, Alert):
        return Attempt(Offer.REFUSED, Method.CLIENT_HELLO, f"alert {answer.name}")
    chosen = version_name(answer.version)
    wanted = wire_version(version)
    lowest = wire_version("SSLv3") if or_older else wanted
    if not lowest <= answer.version <= wanted:
        return Attempt(Offer.REFUSED, Method.CLIENT_HELLO, f"the server chose {chosen} instead")
    if answer.suite not in suites:
        return Attempt(
            Offer.REFUSED,
            Method.CLIENT_HELLO,
            f"the server chose suite 0x{answer.suite:04x}, which was not offered",
        )
    name = suites[answer.suite]
    return Attempt(
        Offer.ACCEPTED,
        Method.CLIENT_HELLO,
        f"ServerHello chose {chosen} with {name}",
        version=chosen,
        suite=name,
    )


def _short(exc: ProbeError) -> str:
    return str(exc)[:300]


def no_tls_answer(attempts: Sequence[Attempt], place: Place) -> ProbeError | None:
    """The error to raise when no attempt got a TLS answer at all (not a TLS server, silent,
    closed), else None: then every attempt without an answer is only noted in evidence."""
    if any(a.tls_answer for a in attempts):
        return None
    return next(
        (a.error for a in attempts if a.error is not None),
        ProtocolError(msg("tls.no-tls-answer", place=place)),
    )

"""TLS connections to a host's endpoints (TCP, STARTTLS, handshakes, ClientHellos) and certificates."""

from __future__ import annotations

import _ssl
import datetime as dt
import functools
import ipaddress
import os
import re
import socket
import ssl
import struct
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.registry import ProbeContext, Target

# Protocol versions as ssl.SSLSocket.version() names them, oldest first.
VERSION_ORDER = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")

# OpenSSL 3 only negotiates TLS 1.0/1.1 (SHA-1 signatures) at security level 0; a probe must be
# able to talk to the outdated servers it is meant to flag.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"

# Handshake failures that mean the port does not speak TLS at all.
_NOT_TLS_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"}
)
# Handshake failures that are the server's (or our own context's) way of saying "not this
# version" or "not these suites": an answer, not a broken peer.
_REFUSAL_REASONS = frozenset(
    {
        "UNSUPPORTED_PROTOCOL",
        "NO_PROTOCOLS_AVAILABLE",
        "NO_SHARED_CIPHER",
        "NO_CIPHERS_AVAILABLE",
        "WRONG_SSL_VERSION",
        "VERSION_TOO_LOW",
        "VERSION_TOO_HIGH",
        "WRONG_CIPHER_RETURNED",
        "UNKNOWN_CIPHER_RETURNED",
        "NO_SUITABLE_SIGNATURE_ALGORITHM",
    }
)
# OpenSSL X509_V_ERR_* codes that the certificate check explains in its own words.
_X509_NOT_YET_VALID = 9
_X509_EXPIRED = 10
_X509_SELF_SIGNED = 18
_X509_SELF_SIGNED_IN_CHAIN = 19
_X509_NO_LOCAL_ISSUER = 20
_X509_NO_ISSUER = 2
_X509_LEAF_SIGNATURE = 21
_X509_HOSTNAME_MISMATCH = 62
# Our own code (X509_V_OK, never a failure of OpenSSL's) for a certificate we cannot read.
_X509_UNREADABLE = 0
_UNREADABLE = "a certificate the server sent cannot be read"
# X509_V_FLAG_NO_CHECK_TIME: OpenSSL leaves the dates to us, who judge them by the run's clock.
_NO_CHECK_TIME = 0x200000


class CertProblem(StrEnum):
    """Why a certificate is not valid, as `tls.cert-valid` reports it in evidence `problem`."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SELF_SIGNED = "self_signed"
    UNTRUSTED_ISSUER = "untrusted_issuer"
    HOST_NAME_MISMATCH = "host_name_mismatch"
    OTHER = "other"


# What ssl.TLSVersion each version name maps to, and whether the local OpenSSL can speak it.
_TLS_VERSIONS = {
    "TLSv1": (ssl.TLSVersion.TLSv1, ssl.HAS_TLSv1),
    "TLSv1.1": (ssl.TLSVersion.TLSv1_1, ssl.HAS_TLSv1_1),
    "TLSv1.2": (ssl.TLSVersion.TLSv1_2, ssl.HAS_TLSv1_2),
    "TLSv1.3": (ssl.TLSVersion.TLSv1_3, ssl.HAS_TLSv1_3),
}
_WORKERS = 8
_WARNINGS_LOCK = threading.Lock()
# How much of a mail server's greeting the evidence keeps.
_MAX_BANNER = 300

StartTlsProtocol = Literal["smtp", "imap"]
T = TypeVar("T")
# How messages name a place: a text, or a catalog message that names it in each language.
Place = str | Msg


@dataclass(frozen=True)
class _Number(Msg):
    def render(self, lang: str) -> str:
        text = f"{self.args['value']:g}"
        return text.replace(".", ",") if lang == "nl" else text


def number(value: float) -> Msg:
    """A number as a message value, as each language writes it: 0.3 in English, 0,3 in Dutch."""
    return _Number("number", {"value": value})


# --- endpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One TLS service of a host: its service name, port and the STARTTLS dialect (None: TLS at once)."""

    service: str
    port: int
    starttls: StartTlsProtocol | None = None

    def describe(self) -> str:
        return self.said().render("en")

    def said(self) -> Msg:
        """The endpoint as messages name it: "smtp port 25, STARTTLS" ("smtp poort 25, ...")."""
        which = "tls.endpoint.starttls" if self.starttls else "tls.endpoint"
        return msg(which, service=self.service, port=self.port)

    def evidence(self) -> dict[str, Any]:
        return {"service": self.service, "port": self.port, "starttls": self.starttls}


# Roles whose TLS lives on the HTTPS port (a VPN portal is an HTTPS site).
WEB_ROLES = frozenset({"website", "vpn"})
MAIL_ROLE = "mail"
# Mail services in the order they are reported: name, default port, STARTTLS dialect.
MAIL_SERVICES: tuple[tuple[str, int, StartTlsProtocol | None], ...] = (
    ("smtp", 25, "smtp"),
    ("submission", 587, "smtp"),
    ("smtps", 465, None),
    ("imap", 143, "imap"),
    ("imaps", 993, None),
)


def tls_endpoints(target: Target) -> list[Endpoint]:
    """The TLS endpoints of a host, from its roles and declared ports.

    website or vpn: https (443 unless `ports` says otherwise). mail: each of smtp (25) and
    submission (587) with STARTTLS, smtps (465) and imaps (993) with TLS at once, and imap (143)
    with STARTTLS, that the host lists in `ports`; a mail host that lists none of them gets
    smtp on 25. A host with none of these roles (a check aimed at it on purpose) gets https.
    """
    found: list[Endpoint] = []
    if WEB_ROLES.intersection(target.roles) or MAIL_ROLE not in target.roles:
        found.append(Endpoint("https", target.port("https", 443)))
    if MAIL_ROLE in target.roles:
        declared = [
            Endpoint(name, target.ports[name], dialect)
            for name, _, dialect in MAIL_SERVICES
            if name in target.ports
        ]
        found.extend(declared or [Endpoint("smtp", 25, "smtp")])
    unique: dict[int, Endpoint] = {}
    for endpoint in found:
        unique.setdefault(endpoint.port, endpoint)
    return list(unique.values())


def where(target: Target, endpoint: Endpoint) -> Msg:
    """How messages name an endpoint: host name, address, port (and service when not HTTPS)."""
    if endpoint.service == "https" and endpoint.starttls is None:
        return msg("tls.where", host=target.name, address=target.address, port=endpoint.port)
    return msg(
        "tls.where.service", host=target.name, address=target.address, endpoint=endpoint.said()
    )


def concurrently(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """The results of `tasks`, run in a small thread pool, in order: each offer and each
    endpoint waits on the network, so a probe takes as long as its slowest connection."""
    if len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(tasks))) as pool:
        return list(pool.map(lambda task: task(), tasks))


def run_all(tasks: Sequence[Callable[[], T]]) -> list[T | ProbeError]:
    """Like `concurrently`, but a ProbeError becomes that task's result (any other error is a
    bug and propagates)."""

    def guarded(task: Callable[[], T]) -> Callable[[], T | ProbeError]:
        def run() -> T | ProbeError:
            try:
                return task()
            except ProbeError as exc:
                return exc

        return run

    return concurrently([guarded(task) for task in tasks])


# --- connections -------------------------------------------------------------------------------


def open_tcp(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an IP address (never a name: nothing is looked up in DNS)."""
    try:
        infos = socket.getaddrinfo(
            address, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except socket.gaierror as exc:
        raise ConnectivityError(msg("tls.tcp.not-an-address", address=repr(address))) from exc
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.settimeout(timeout)
    try:
        sock.connect(sockaddr)
    except TimeoutError as exc:
        sock.close()
        raise ProbeTimeout(
            msg("tls.tcp.timeout", address=address, port=port, seconds=number(timeout))
        ) from exc
    except ConnectionRefusedError as exc:
        sock.close()
        raise ConnectivityError(msg("tls.tcp.refused", address=address, port=port)) from exc
    except OSError as exc:
        sock.close()
        raise ConnectivityError(
            msg("tls.tcp.failed", address=address, port=port, detail=exc.strerror or exc)
        ) from exc
    return sock


class NoStartTls(ProtocolError):
    """A mail endpoint that answers but does not offer STARTTLS: it has no TLS to judge."""


def connect(target: Target, endpoint: Endpoint, ctx: ProbeContext) -> tuple[socket.socket, str]:
    """A TCP connection to the endpoint, ready for the TLS handshake, and the banner the
    server sent before STARTTLS ("" when TLS starts at once)."""
    ctx.limiter.acquire()
    sock = open_tcp(target.address, endpoint.port, ctx.timeout)
    if endpoint.starttls is None:
        return sock, ""
    # Imported here, not at the top: cyberstd.net.starttls imports this module.
    from cyberstd.net.starttls import StartTlsNotOffered, upgrade

    try:
        info = upgrade(sock, endpoint.starttls, timeout=ctx.timeout)
    except StartTlsNotOffered as exc:
        sock.close()
        raise NoStartTls(exc.said or str(exc)) from exc
    except BaseException:
        sock.close()
        raise
    return sock, info.banner[:_MAX_BANNER]


class HandshakeRefused(ProtocolError):
    """The server answered the ClientHello with a refusal: no common version or cipher suite."""

    def __init__(self, message: object, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class HandshakeClosed(ProtocolError):
    """The server hung up during the handshake: a refusal from some servers, a broken peer
    from others; only other answers of the same server tell which."""


def _closed(place: Place) -> HandshakeClosed:
    return HandshakeClosed(msg("tls.handshake.closed", place=place))


def ssl_error_text(exc: ssl.SSLError) -> str:
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)


def _is_refusal(exc: ssl.SSLError) -> bool:
    reason = exc.reason or ""
    return "ALERT" in reason or reason in _REFUSAL_REASONS


def tls_handshake(
    sock: socket.socket, ssl_ctx: ssl.SSLContext, server_name: str, where: Place
) -> ssl.SSLSocket:
    """Run the TLS handshake on a connected socket, sending `server_name` as SNI.

    A certificate verification failure propagates as ssl.SSLCertVerificationError, for the
    caller to explain; a refusal (TLS alert, no common version or suite) is HandshakeRefused;
    every other failure becomes a ProbeError.
    """
    try:
        tls = ssl_ctx.wrap_socket(sock, server_hostname=server_name)
    except ssl.SSLCertVerificationError:
        raise
    except TimeoutError as exc:
        raise ProbeTimeout(msg("tls.handshake.timeout", place=where)) from exc
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError) as exc:
        raise _closed(where) from exc
    except ssl.SSLError as exc:
        text = ssl_error_text(exc)
        if _is_refusal(exc):
            refused = msg("tls.handshake.refused", place=where, detail=text)
            raise HandshakeRefused(refused, text) from exc
        hint = msg("tls.handshake.not-tls") if exc.reason in _NOT_TLS_REASONS else ""
        raise ProtocolError(
            msg("tls.handshake.failed", place=where, detail=text, hint=hint)
        ) from exc
    except OSError as exc:
        detail = exc.strerror or exc
        raise ConnectivityError(
            msg("tls.handshake.connection-failed", place=where, detail=detail)
        ) from exc
    try:
        check_dates(tls, ssl_ctx)
    except ssl.SSLCertVerificationError:
        tls.close()
        raise
    return tls


# --- client contexts ---------------------------------------------------------------------------


def _set_versions(
    ssl_ctx: ssl.SSLContext, minimum: ssl.TLSVersion, maximum: ssl.TLSVersion
) -> None:
    # catch_warnings changes process-wide state: one thread at a time.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        # Offering the deprecated versions is the point: the probes look for servers accepting them.
        warnings.simplefilter("ignore", DeprecationWarning)
        ssl_ctx.minimum_version = minimum
        ssl_ctx.maximum_version = maximum


def _allow_legacy(ssl_ctx: ssl.SSLContext) -> ssl.SSLContext:
    _set_versions(ssl_ctx, ssl.TLSVersion.MINIMUM_SUPPORTED, ssl.TLSVersion.MAXIMUM_SUPPORTED)
    ssl_ctx.set_ciphers(LEGACY_CIPHERS)
    return ssl_ctx


class ClockedContext(ssl.SSLContext):
    """A verifying client context that judges certificate dates as of the run's clock.

    OpenSSL would compare them with the system's time; a run judges as of its one clock
    (`--as-of`, the tests' clock), so OpenSSL checks chain and name and `check_dates` the dates.
    """

    verify_at: dt.datetime


def trusting_context(ca_bundle: Path | None, at: dt.datetime) -> ssl.SSLContext:
    """A default client context, trusting `ca_bundle` or else the system trust store, that
    verifies certificate dates as of `at`."""
    ssl_ctx = ClockedContext(ssl.PROTOCOL_TLS_CLIENT)
    ssl_ctx.verify_at = at
    try:
        if ca_bundle is not None:
            ssl_ctx.load_verify_locations(cafile=str(ca_bundle))
        else:
            ssl_ctx.load_default_certs()
    except (OSError, ssl.SSLError) as exc:  # a missing file, or one without a readable PEM
        raise ProbeError(msg("tls.ca-bundle", path=ca_bundle, detail=exc)) from exc
    ssl_ctx.verify_flags = ssl.VerifyFlags(ssl_ctx.verify_flags | _NO_CHECK_TIME)
    return ssl_ctx


def _date_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    err = ssl.SSLCertVerificationError(1, f"certificate verify failed: {message}")
    err.verify_code = code
    err.verify_message = message
    err.reason = "CERTIFICATE_VERIFY_FAILED"
    return err


def check_dates(tls: ssl.SSLSocket, ssl_ctx: ssl.SSLContext) -> None:
    """After a verified handshake: every certificate the server sent must be valid at the
    context's moment; raise ssl.SSLCertVerificationError as OpenSSL would have."""
    if not isinstance(ssl_ctx, ClockedContext) or ssl_ctx.verify_mode is ssl.CERT_NONE:
        return
    chain = _peer_chain(tls)
    if chain is None:
        leaf = tls.getpeercert(binary_form=True)
        chain = (leaf,) if leaf else ()
    at = ssl_ctx.verify_at
    for der in chain:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:  # dates that cannot be read are no evidence of validity
            raise _date_error(_X509_UNREADABLE, _UNREADABLE) from None
        if cert.not_valid_before_utc > at:
            raise _date_error(_X509_NOT_YET_VALID, "certificate is not yet valid")
        if cert.not_valid_after_utc < at:
            raise _date_error(_X509_EXPIRED, "certificate has expired")


def verifying_context(ca_bundle: Path | None, at: dt.datetime) -> ssl.SSLContext:
    """Verify chain, dates (as of `at`) and host name against `ca_bundle`, or the system
    store when None.

    Old protocol versions stay allowed so that trust can be judged on outdated servers too;
    `tls.protocols` and `tls.min-version` judge the version.
    """
    return _allow_legacy(trusting_context(ca_bundle, at))


def _unverified() -> ssl.SSLContext:
    ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ssl_ctx.check_hostname = False
    ssl_ctx.verify_mode = ssl.CERT_NONE
    return ssl_ctx


def permissive_context() -> ssl.SSLContext:
    """No verification and every version the local OpenSSL has: to see what the server offers."""
    return _allow_legacy(_unverified())


def local_version(version: str) -> ssl.TLSVersion | None:
    """The ssl.TLSVersion of a version name when the local OpenSSL can offer it, else None."""
    known, available = _TLS_VERSIONS.get(version, (None, False))
    return known if available else None


@functools.cache
def version_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    """Offers exactly one protocol version, with every cipher the local OpenSSL has.

    Shared (an SSLContext serves any number of connections and threads), so built once.
    """
    ssl_ctx = _unverified()
    ssl_ctx.set_ciphers(LEGACY_CIPHERS)
    _set_versions(ssl_ctx, version, version)
    return ssl_ctx


@functools.cache
def cipher_context(ciphers: str) -> ssl.SSLContext | None:
    """Offers only `ciphers` (an OpenSSL cipher string) up to TLS 1.2; None when the local
    OpenSSL has none of them. Shared, so built once."""
    ssl_ctx = _unverified()
    try:
        ssl_ctx.set_ciphers(ciphers)
    except ssl.SSLError:
        return None
    if not any(c["protocol"] != "TLSv1.3" for c in ssl_ctx.get_ciphers()):
        return None
    _set_versions(ssl_ctx, ssl.TLSVersion.MINIMUM_SUPPORTED, ssl.TLSVersion.TLSv1_2)
    return ssl_ctx


# --- handshakes --------------------------------------------------------------------------------


def _peer_chain(tls: ssl.SSLSocket) -> tuple[bytes, ...] | None:
    """The certificates the server sent, leaf first, in DER; None when this Python cannot tell."""
    # Python 3.13 has SSLSocket.get_unverified_chain(); 3.10 to 3.12 only the private one.
    getter = getattr(tls, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    if getter is None:
        return None
    try:
        chain = getter() or []
        return tuple(
            c if isinstance(c, bytes) else c.public_bytes(_ssl.ENCODING_DER) for c in chain
        )
    except (AttributeError, TypeError, ValueError, ssl.SSLError):
        return None


@dataclass(frozen=True)
class TlsSession:
    """What one completed handshake showed."""

    where: Place
    version: str
    cipher: str
    cipher_bits: int
    leaf_der: bytes | None
    chain_der: tuple[bytes, ...] | None = None
    banner: str = ""

    def evidence(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "tls_version": self.version,
            "cipher": self.cipher,
            "cipher_bits": self.cipher_bits,
        }
        if self.banner:
            found["banner"] = self.banner
        return found

    def leaf(self) -> x509.Certificate:
        """The server's certificate, parsed."""
        if not self.leaf_der:
            raise ProtocolError(msg("tls.cert.none-sent", place=self.where))
        return parse_der(self.leaf_der, self.where)


def parse_der(der: bytes, where: Place) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise ProtocolError(msg("tls.cert.unparsable", place=where, detail=exc)) from exc


def handshake(
    target: Target, endpoint: Endpoint, ctx: ProbeContext, ssl_ctx: ssl.SSLContext
) -> TlsSession:
    """One TLS handshake with an endpoint of the target, closed right after."""
    place = where(target, endpoint)
    sock, banner = connect(target, endpoint, ctx)
    with sock, tls_handshake(sock, ssl_ctx, target.name, place) as tls:
        cipher, _, bits = tls.cipher() or ("", "", 0)
        return TlsSession(
            where=place,
            version=tls.version() or "",
            cipher=cipher,
            cipher_bits=int(bits or 0),
            leaf_der=tls.getpeercert(binary_form=True),
            chain_der=_peer_chain(tls),
            banner=banner,
        )


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
            raise _closed(place) from exc
        if not chunk:
            raise _closed(place)
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
    target: Target, endpoint: Endpoint, ctx: ProbeContext, ssl_ctx: ssl.SSLContext
) -> Attempt:
    """Offer what `ssl_ctx` allows in a full handshake; accepted when the handshake completes."""
    try:
        session = handshake(target, endpoint, ctx, ssl_ctx)
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
    target: Target,
    endpoint: Endpoint,
    ctx: ProbeContext,
    version: str,
    suites: dict[int, str],
    *,
    or_older: bool = False,
) -> Attempt:
    """Offer `suites` at `version` (`or_older`: down to SSLv3) in a hand-built ClientHello;
    accepted when the ServerHello picks such a version and one of those suites. No handshake
    is completed: what the local OpenSSL cannot offer can still be tested this way."""
    place = where(target, endpoint)
    try:
        sock, _ = connect(target, endpoint, ctx)
        with sock:
            sock.sendall(client_hello(version, list(suites), target.name))
            answer = read_answer(sock, place, ctx.timeout)
    except (ConnectionResetError, BrokenPipeError):
        closed = _closed(place)
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


# --- certificates -------------------------------------------------------------------------------


def key_description(cert: x509.Certificate) -> dict[str, Any]:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return {"key_type": "unknown", "key_size": None}
    if isinstance(key, rsa.RSAPublicKey):
        return {"key_type": "RSA", "key_size": key.key_size}
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"key_type": "EC", "key_size": key.key_size, "key_curve": key.curve.name}
    if isinstance(key, ed25519.Ed25519PublicKey):
        return {"key_type": "Ed25519", "key_size": 256}
    if isinstance(key, ed448.Ed448PublicKey):
        return {"key_type": "Ed448", "key_size": 456}
    if isinstance(key, dsa.DSAPublicKey):
        return {"key_type": "DSA", "key_size": key.key_size}
    return {"key_type": type(key).__name__, "key_size": None}


def signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return "unknown"
    return algorithm.name if algorithm is not None else None


def subject_alt_names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """DNS names and IP addresses in the certificate's subjectAltName (empty when it has none)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return (
        [str(n) for n in san.get_values_for_type(x509.DNSName)],
        [str(a) for a in san.get_values_for_type(x509.IPAddress)],
    )


def describe_certificate(cert: x509.Certificate) -> dict[str, Any]:
    """The facts an auditor needs to recognise a certificate, JSON-serialisable."""
    try:
        dns_names, ip_addresses = subject_alt_names(cert)
    except ValueError as exc:
        raise ProtocolError(msg("tls.cert.bad-extensions", detail=exc)) from exc
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "san_dns": dns_names,
        "san_ip": ip_addresses,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "serial": format(cert.serial_number, "x"),
        "sha256_fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
        **key_description(cert),
        "signature_hash": signature_hash(cert),
        "self_issued": cert.issuer == cert.subject,
    }


def _names_of(cert: x509.Certificate) -> str | Msg:
    dns_names, ip_addresses = subject_alt_names(cert)
    names = dns_names + ip_addresses
    if not names:
        names = [
            str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        ]
    return ", ".join(names) or msg("tls.cert.no-name")


def explain_verification(
    err: ssl.SSLCertVerificationError, cert: x509.Certificate, host_name: str
) -> tuple[CertProblem, Msg]:
    """Turn OpenSSL's verification error into a problem class and a sentence for the user."""
    code = err.verify_code
    if code == _X509_EXPIRED:
        return CertProblem.EXPIRED, msg(
            "tls.cert.expired", date=f"{cert.not_valid_after_utc:%Y-%m-%d}"
        )
    if code == _X509_NOT_YET_VALID:
        before = f"{cert.not_valid_before_utc:%Y-%m-%d}"
        return CertProblem.NOT_YET_VALID, msg("tls.cert.not-yet-valid", date=before)
    if code == _X509_SELF_SIGNED:
        return CertProblem.SELF_SIGNED, msg("tls.cert.self-signed")
    if code in (_X509_NO_LOCAL_ISSUER, _X509_NO_ISSUER, _X509_LEAF_SIGNATURE):
        issuer = cert.issuer.rfc4514_string()
        return CertProblem.UNTRUSTED_ISSUER, msg("tls.cert.untrusted-issuer", issuer=issuer)
    if code == _X509_SELF_SIGNED_IN_CHAIN:
        return CertProblem.UNTRUSTED_ISSUER, msg("tls.cert.untrusted-root")
    if code == _X509_HOSTNAME_MISMATCH:
        names = _names_of(cert)
        return CertProblem.HOST_NAME_MISMATCH, msg(
            "tls.cert.name-mismatch", names=names, host=host_name
        )
    if code == _X509_UNREADABLE and err.verify_message == _UNREADABLE:
        return CertProblem.OTHER, msg("tls.cert.unreadable")
    # OpenSSL's own words for the rarer problems
    return CertProblem.OTHER, verbatim(err.verify_message or str(err))

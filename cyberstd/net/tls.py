"""TLS handshakes: client contexts, certificate verification as of the run's clock, and the
handshake with an endpoint of a host."""

from __future__ import annotations

import _ssl
import datetime as dt
import functools
import re
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.messages import msg
from cyberstd.net.certs import (
    UNREADABLE,
    X509_EXPIRED,
    X509_NOT_YET_VALID,
    X509_UNREADABLE,
    date_error,
)
from cyberstd.net.endpoints import ConnectOptions, Endpoint, Peer, connect, where
from cyberstd.net.tcp import Place

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
# X509_V_FLAG_NO_CHECK_TIME: OpenSSL leaves the dates to us, who judge them by the run's clock.
_NO_CHECK_TIME = 0x200000

# What ssl.TLSVersion each version name maps to, and whether the local OpenSSL can speak it.
_TLS_VERSIONS = {
    "TLSv1": (ssl.TLSVersion.TLSv1, ssl.HAS_TLSv1),
    "TLSv1.1": (ssl.TLSVersion.TLSv1_1, ssl.HAS_TLSv1_1),
    "TLSv1.2": (ssl.TLSVersion.TLSv1_2, ssl.HAS_TLSv1_2),
    "TLSv1.3": (ssl.TLSVersion.TLSv1_3, ssl.HAS_TLSv1_3),
}
_WARNINGS_LOCK = threading.Lock()


class HandshakeRefused(ProtocolError):
    """The server answered the ClientHello with a refusal: no common version or cipher suite."""

    def __init__(self, message: object, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class HandshakeClosed(ProtocolError):
    """The server hung up during the handshake: a refusal from some servers, a broken peer
    from others; only other answers of the same server tell which."""


def handshake_closed(place: Place) -> HandshakeClosed:
    """The error for a server that hung up during the handshake at `place`."""
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
        raise handshake_closed(where) from exc
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
            raise date_error(X509_UNREADABLE, UNREADABLE) from None
        if cert.not_valid_before_utc > at:
            raise date_error(X509_NOT_YET_VALID, "certificate is not yet valid")
        if cert.not_valid_after_utc < at:
            raise date_error(X509_EXPIRED, "certificate has expired")


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
    host: Peer, endpoint: Endpoint, ctx: ConnectOptions, ssl_ctx: ssl.SSLContext
) -> TlsSession:
    """One TLS handshake with an endpoint of the host, closed right after."""
    place = where(host, endpoint)
    sock, banner = connect(host, endpoint, ctx)
    with sock, tls_handshake(sock, ssl_ctx, host.name, place) as tls:
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

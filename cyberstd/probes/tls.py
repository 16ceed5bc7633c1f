"""TLS probes of a website: certificate trust, certificate expiry and the negotiated TLS version."""

from __future__ import annotations

import datetime as dt
import re
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from pydantic import Field

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome

# Protocol versions as ssl.SSLSocket.version() names them, oldest first.
VERSION_ORDER = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")

# OpenSSL 3 only negotiates TLS 1.0/1.1 (SHA-1 signatures) at security level 0; a probe must be
# able to talk to the outdated servers it is meant to flag.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"

# OpenSSL X509_V_ERR_* codes that the certificate check explains in its own words.
_X509_NOT_YET_VALID = 9
_X509_EXPIRED = 10
_X509_SELF_SIGNED = 18
_X509_SELF_SIGNED_IN_CHAIN = 19
_X509_NO_LOCAL_ISSUER = 20
_X509_NO_ISSUER = 2
_X509_LEAF_SIGNATURE = 21
_X509_HOSTNAME_MISMATCH = 62

# Handshake failures that mean the port does not speak TLS at all.
_NOT_TLS_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"}
)


class CertProblem(StrEnum):
    """Why a certificate is not valid, as `tls.cert-valid` reports it in evidence `problem`."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SELF_SIGNED = "self_signed"
    UNTRUSTED_ISSUER = "untrusted_issuer"
    HOST_NAME_MISMATCH = "host_name_mismatch"
    OTHER = "other"


# --- connections -------------------------------------------------------------------------------


def open_tcp(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an IP address (never a name: nothing is looked up in DNS)."""
    try:
        infos = socket.getaddrinfo(
            address, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except socket.gaierror as exc:
        raise ConnectivityError(f"target address {address!r} is not an IP address") from exc
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.settimeout(timeout)
    try:
        sock.connect(sockaddr)
    except TimeoutError as exc:
        sock.close()
        raise ProbeTimeout(
            f"no answer from {address} port {port} within {timeout:g} s (filtered or down)"
        ) from exc
    except ConnectionRefusedError as exc:
        sock.close()
        raise ConnectivityError(
            f"connection to {address} port {port} refused: nothing listens there"
        ) from exc
    except OSError as exc:
        sock.close()
        raise ConnectivityError(
            f"cannot connect to {address} port {port}: {exc.strerror or exc}"
        ) from exc
    return sock


def _ssl_error_text(exc: ssl.SSLError) -> str:
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)


def tls_handshake(
    sock: socket.socket, ssl_ctx: ssl.SSLContext, server_name: str, where: str
) -> ssl.SSLSocket:
    """Run the TLS handshake on a connected socket, sending `server_name` as SNI.

    A certificate verification failure propagates as ssl.SSLCertVerificationError, for the
    caller to explain; every other failure becomes a ProbeError.
    """
    try:
        return ssl_ctx.wrap_socket(sock, server_hostname=server_name)
    except ssl.SSLCertVerificationError:
        raise
    except TimeoutError as exc:
        raise ProbeTimeout(f"TLS handshake with {where} timed out") from exc
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:
        raise ProtocolError(f"{where} closed the connection during the TLS handshake") from exc
    except ssl.SSLError as exc:
        hint = " (the port does not seem to speak TLS)" if exc.reason in _NOT_TLS_REASONS else ""
        raise ProtocolError(
            f"TLS handshake with {where} failed: {_ssl_error_text(exc)}{hint}"
        ) from exc
    except OSError as exc:
        raise ConnectivityError(
            f"connection to {where} failed during the TLS handshake: {exc.strerror or exc}"
        ) from exc


def _allow_legacy(ssl_ctx: ssl.SSLContext) -> ssl.SSLContext:
    ssl_ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ssl_ctx.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    ssl_ctx.set_ciphers(LEGACY_CIPHERS)
    return ssl_ctx


def trusting_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Python's default client context, trusting `ca_bundle` or else the system trust store."""
    try:
        return ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    except OSError as exc:  # a missing file, or one without a readable PEM certificate
        raise ProbeError(f"the CA bundle {ca_bundle} cannot be loaded: {exc}") from exc


def verifying_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Verify chain, dates and host name against `ca_bundle`, or the system store when None.

    Old protocol versions stay allowed so that trust can be judged on outdated servers too;
    `tls.min-version` judges the version.
    """
    return _allow_legacy(trusting_context(ca_bundle))


def permissive_context() -> ssl.SSLContext:
    """No verification and every version the local OpenSSL has: to see what the server offers."""
    ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ssl_ctx.check_hostname = False
    ssl_ctx.verify_mode = ssl.CERT_NONE
    return _allow_legacy(ssl_ctx)


@dataclass(frozen=True)
class TlsSession:
    """What one completed handshake showed."""

    where: str
    version: str
    cipher: str
    cipher_bits: int
    leaf_der: bytes | None

    def evidence(self) -> dict[str, Any]:
        return {"tls_version": self.version, "cipher": self.cipher, "cipher_bits": self.cipher_bits}

    def leaf(self) -> x509.Certificate:
        """The server's certificate, parsed."""
        if not self.leaf_der:
            raise ProtocolError(f"{self.where} sent no certificate")
        try:
            return x509.load_der_x509_certificate(self.leaf_der)
        except ValueError as exc:
            raise ProtocolError(f"the certificate of {self.where} cannot be parsed: {exc}") from exc


def _where(target: Target, port: int) -> str:
    return f"{target.name} ({target.address} port {port})"


def handshake(target: Target, ctx: ProbeContext, ssl_ctx: ssl.SSLContext) -> TlsSession:
    """One TLS handshake with the target's HTTPS port, closed right after."""
    port = target.port("https", 443)
    where = _where(target, port)
    with (
        open_tcp(target.address, port, ctx.timeout) as sock,
        tls_handshake(sock, ssl_ctx, target.name, where) as tls,
    ):
        cipher, _, bits = tls.cipher() or ("", "", 0)
        return TlsSession(
            where=where,
            version=tls.version() or "",
            cipher=cipher,
            cipher_bits=int(bits or 0),
            leaf_der=tls.getpeercert(binary_form=True),
        )


# --- certificates ------------------------------------------------------------------------------


def _key_description(cert: x509.Certificate) -> dict[str, Any]:
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


def _signature_hash(cert: x509.Certificate) -> str | None:
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
        raise ProtocolError(f"the certificate's extensions cannot be parsed: {exc}") from exc
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "san_dns": dns_names,
        "san_ip": ip_addresses,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "serial": format(cert.serial_number, "x"),
        "sha256_fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
        **_key_description(cert),
        "signature_hash": _signature_hash(cert),
        "self_issued": cert.issuer == cert.subject,
    }


def _names_of(cert: x509.Certificate) -> str:
    dns_names, ip_addresses = subject_alt_names(cert)
    names = dns_names + ip_addresses
    if not names:
        names = [
            str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        ]
    return ", ".join(names) or "no name at all"


def explain_verification(
    err: ssl.SSLCertVerificationError, cert: x509.Certificate, host_name: str
) -> tuple[CertProblem, str]:
    """Turn OpenSSL's verification error into a problem class and a sentence for the user."""
    code = err.verify_code
    if code == _X509_EXPIRED:
        return CertProblem.EXPIRED, f"it expired on {cert.not_valid_after_utc:%Y-%m-%d}"
    if code == _X509_NOT_YET_VALID:
        return (
            CertProblem.NOT_YET_VALID,
            f"it is not valid before {cert.not_valid_before_utc:%Y-%m-%d}",
        )
    if code == _X509_SELF_SIGNED:
        return CertProblem.SELF_SIGNED, "it is self-signed, not issued by a trusted CA"
    if code in (_X509_NO_LOCAL_ISSUER, _X509_NO_ISSUER, _X509_LEAF_SIGNATURE):
        return (
            CertProblem.UNTRUSTED_ISSUER,
            f"its issuer ({cert.issuer.rfc4514_string()}) is not a trusted CA, or the server "
            "does not send the intermediate certificates",
        )
    if code == _X509_SELF_SIGNED_IN_CHAIN:
        return (
            CertProblem.UNTRUSTED_ISSUER,
            "its chain ends in a self-signed root that is not trusted",
        )
    if code == _X509_HOSTNAME_MISMATCH:
        return (
            CertProblem.HOST_NAME_MISMATCH,
            f"it is valid for {_names_of(cert)}, not for {host_name}",
        )
    return CertProblem.OTHER, err.verify_message or str(err)


def _trust_source(ctx: ProbeContext) -> str:
    return str(ctx.ca_bundle) if ctx.ca_bundle else "system default trust store"


# --- probes ------------------------------------------------------------------------------------


@probe("tls.cert-valid", params=ProbeParams, role="website")
def cert_valid(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """The website's certificate is trusted, within its validity dates and issued for its name.

    Makes a TLS handshake with the HTTPS port (default 443), sending the host name as SNI, and
    verifies the certificate as a browser would: the chain must lead to a trusted CA (the scan's
    CA bundle when one is configured, else the system trust store), today must lie between
    notBefore and notAfter, and the host name must be one of the certificate's names.

    Pass: the certificate verifies. Fail: it does not; the message gives the precise reason
    (expired, not yet valid, self-signed, untrusted issuer or missing intermediate, host name
    mismatch) and the evidence describes the certificate (subject, issuer, names, validity,
    serial, SHA-256 fingerprint, key type and size, signature hash), fetched by a second
    handshake without verification. Protocol versions are not judged here (see tls.min-version).

    No parameters.
    """
    try:
        session = handshake(target, ctx, verifying_context(ctx.ca_bundle))
    except ssl.SSLCertVerificationError as err:
        session = handshake(target, ctx, permissive_context())
        cert = session.leaf()
        problem, reason = explain_verification(err, cert, target.name)
        return ProbeOutcome(
            status=FindingStatus.FAIL,
            message=f"the certificate of {target.name} is not valid: {reason}",
            evidence={
                "verified": False,
                "problem": problem,
                "verify_code": err.verify_code,
                "verify_message": err.verify_message,
                "trust_store": _trust_source(ctx),
                **session.evidence(),
                **describe_certificate(cert),
            },
        )
    cert = session.leaf()
    return ProbeOutcome(
        status=FindingStatus.PASS,
        message=(
            f"the certificate of {target.name} is trusted, matches the host name and is valid "
            f"until {cert.not_valid_after_utc:%Y-%m-%d}"
        ),
        evidence={
            "verified": True,
            "trust_store": _trust_source(ctx),
            **session.evidence(),
            **describe_certificate(cert),
        },
    )


class CertExpiryParams(ProbeParams):
    warn_days: int = Field(
        default=30, ge=0, description="Warn when fewer days than this remain before expiry."
    )


@probe("tls.cert-expiry", params=CertExpiryParams, role="website")
def cert_expiry(target: Target, params: CertExpiryParams, ctx: ProbeContext) -> ProbeOutcome:
    """The website's certificate has not expired, with a warning well before it does.

    Fetches the certificate from the HTTPS port (default 443) without verifying it, and counts
    the whole days left until its notAfter date.

    Pass: not expired; the finding carries a warning when fewer than `warn_days` days remain,
    so that renewal can be planned (or automatic renewal checked). Fail: expired.
    Trust and host name are judged by tls.cert-valid.

    Parameters: `warn_days` (default 30, at least 0).
    Evidence: `not_after`, `days_left` (negative once expired) and the certificate's identity.
    """
    session = handshake(target, ctx, permissive_context())
    cert = session.leaf()
    not_after = cert.not_valid_after_utc
    left = not_after - dt.datetime.now(dt.UTC)
    days_left = int(left.total_seconds() // 86400)
    evidence = {
        **describe_certificate(cert),
        "days_left": days_left,
        "warn_days": params.warn_days,
    }
    date = f"{not_after:%Y-%m-%d}"
    if left.total_seconds() <= 0:
        return ProbeOutcome(
            status=FindingStatus.FAIL,
            message=f"the certificate of {target.name} expired on {date} ({-days_left} days ago)",
            evidence=evidence,
        )
    warning = None
    if days_left < params.warn_days:
        warning = (
            f"the certificate of {target.name} expires in {days_left} days, on {date}: renew it now"
        )
    return ProbeOutcome(
        status=FindingStatus.PASS,
        message=f"the certificate of {target.name} is valid until {date} ({days_left} days left)",
        evidence=evidence,
        warning=warning,
    )


class MinVersionParams(ProbeParams):
    minimum: Literal["TLSv1.2", "TLSv1.3"] = Field(
        default="TLSv1.2", description="The lowest acceptable negotiated protocol version."
    )


def version_rank(version: str) -> int:
    """Position of a protocol version name in VERSION_ORDER; -1 for an unknown name."""
    return VERSION_ORDER.index(version) if version in VERSION_ORDER else -1


@probe("tls.min-version", params=MinVersionParams, role="website")
def min_version(target: Target, params: MinVersionParams, ctx: ProbeContext) -> ProbeOutcome:
    """The website negotiates a current TLS version (TLS 1.2 or later by default).

    Offers every version the local OpenSSL has, from TLS 1.0 up to TLS 1.3 (and every cipher,
    at OpenSSL security level 0), on the HTTPS port (default 443) without verifying the
    certificate, and records the version and cipher the server picks: the best it supports.

    Pass: the negotiated version is at least `minimum`. Fail: it is older (TLS 1.0 and 1.1 are
    deprecated by RFC 8996; browsers refuse them). This check does not yet enumerate the old
    versions a modern server still accepts as well.

    Parameters: `minimum`, "TLSv1.2" (default) or "TLSv1.3".
    Evidence: `tls_version`, `cipher`, `cipher_bits`, `minimum`.
    """
    session = handshake(target, ctx, permissive_context())
    evidence = {**session.evidence(), "minimum": params.minimum}
    if version_rank(session.version) < version_rank(params.minimum):
        return ProbeOutcome(
            status=FindingStatus.FAIL,
            message=(
                f"{target.name} negotiates {session.version or 'an unknown version'} at best, "
                f"below the minimum {params.minimum}"
            ),
            evidence=evidence,
        )
    return ProbeOutcome(
        status=FindingStatus.PASS,
        message=(
            f"{target.name} negotiates {session.version} with {session.cipher} "
            f"(minimum {params.minimum})"
        ),
        evidence=evidence,
    )

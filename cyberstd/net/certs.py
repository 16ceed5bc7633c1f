"""Certificates: the facts an auditor needs, and why OpenSSL found one not valid."""

from __future__ import annotations

import ssl
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from cyberstd.errors import ProtocolError
from cyberstd.messages import Msg, msg, verbatim

# OpenSSL X509_V_ERR_* codes that the certificate check explains in its own words.
X509_NOT_YET_VALID = 9
X509_EXPIRED = 10
X509_SELF_SIGNED = 18
X509_SELF_SIGNED_IN_CHAIN = 19
X509_NO_LOCAL_ISSUER = 20
X509_NO_ISSUER = 2
X509_LEAF_SIGNATURE = 21
X509_HOSTNAME_MISMATCH = 62
# Our own code (X509_V_OK, never a failure of OpenSSL's) for a certificate we cannot read.
X509_UNREADABLE = 0
UNREADABLE = "a certificate the server sent cannot be read"


class CertProblem(StrEnum):
    """Why a certificate is not valid, as `tls.cert-valid` reports it in evidence `problem`."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SELF_SIGNED = "self_signed"
    UNTRUSTED_ISSUER = "untrusted_issuer"
    HOST_NAME_MISMATCH = "host_name_mismatch"
    OTHER = "other"


def date_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    """A verification error as OpenSSL raises it, for a certificate date judged by the run's clock."""
    err = ssl.SSLCertVerificationError(1, f"certificate verify failed: {message}")
    err.verify_code = code
    err.verify_message = message
    err.reason = "CERTIFICATE_VERIFY_FAILED"
    return err


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
    if code == X509_EXPIRED:
        return CertProblem.EXPIRED, msg(
            "tls.cert.expired", date=f"{cert.not_valid_after_utc:%Y-%m-%d}"
        )
    if code == X509_NOT_YET_VALID:
        before = f"{cert.not_valid_before_utc:%Y-%m-%d}"
        return CertProblem.NOT_YET_VALID, msg("tls.cert.not-yet-valid", date=before)
    if code == X509_SELF_SIGNED:
        return CertProblem.SELF_SIGNED, msg("tls.cert.self-signed")
    if code in (X509_NO_LOCAL_ISSUER, X509_NO_ISSUER, X509_LEAF_SIGNATURE):
        issuer = cert.issuer.rfc4514_string()
        return CertProblem.UNTRUSTED_ISSUER, msg("tls.cert.untrusted-issuer", issuer=issuer)
    if code == X509_SELF_SIGNED_IN_CHAIN:
        return CertProblem.UNTRUSTED_ISSUER, msg("tls.cert.untrusted-root")
    if code == X509_HOSTNAME_MISMATCH:
        names = _names_of(cert)
        return CertProblem.HOST_NAME_MISMATCH, msg(
            "tls.cert.name-mismatch", names=names, host=host_name
        )
    if code == X509_UNREADABLE and err.verify_message == UNREADABLE:
        return CertProblem.OTHER, msg("tls.cert.unreadable")
    # OpenSSL's own words for the rarer problems
    return CertProblem.OTHER, verbatim(err.verify_message or str(err))

"""Certificates for the local identity platform: a test CA and the server's https certificate,
app registration certificates (a key with its self-signed certificate, as `openssl req -x509`
or New-SelfSignedCertificate make them), and the check Entra makes of a client assertion."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import ipaddress
import json
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

# Certificates are valid from a fixed day for long enough; nothing depends on today.
NOT_BEFORE = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2045, 1, 1, tzinfo=dt.UTC)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@functools.cache
def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="cyberstd-m365-pki-"))


@functools.cache
def _ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("cyberstd test CA"))
        .issuer_name(_name("cyberstd test CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def ca_file() -> str:
    """The test CA's certificate as a PEM file, for a client to trust."""
    path = _folder() / "ca.pem"
    if not path.exists():
        path.write_bytes(_ca()[1].public_bytes(serialization.Encoding.PEM))
    return str(path)


@functools.cache
def _server_files() -> tuple[str, str]:
    ca_key, ca_cert = _ca()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = _folder() / "server.pem", _folder() / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def server_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_server_files())
    return context


@dataclass(frozen=True)
class AppCertificate:
    """An app registration's certificate and its private key."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def sha1(self) -> str:
        return self.cert.fingerprint(hashes.SHA1()).hex().upper()

    def key_pem(self, passphrase: str | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def write(self, folder: Path, name: str, passphrase: str | None = None) -> Path:
        """Key and certificate in one PEM file, as `CYBERSTD_M365_CERTIFICATE` names it."""
        path = folder / name
        path.write_bytes(self.key_pem(passphrase) + self.cert_pem())
        return path


@functools.cache
def app_certificate(label: str = "cyberstd", curve: bool = False) -> AppCertificate:
    """A self-signed certificate for an app registration (one per label)."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        ec.generate_private_key(ec.SECP256R1())
        if curve
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(label))
        .issuer_name(_name(label))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .sign(key, hashes.SHA256())
    )
    return AppCertificate(key, cert)


class AssertionRefused(Exception):
    """Entra's refusal of a client assertion: its AADSTS code and description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _thumb(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    return base64.urlsafe_b64encode(cert.fingerprint(algorithm)).decode().rstrip("=")


def verify_assertion(
    assertion: str, registered: list[x509.Certificate], audience: str, client_id: str
) -> dict[str, Any]:
    """The assertion's claims when it is signed by a registered certificate's key, names that
    certificate by its thumbprint, and is meant for this token endpoint and app."""
    try:
        head, body, signature = assertion.split(".")
        header = json.loads(_b64(head))
        claims = json.loads(_b64(body))
    except ValueError:
        raise AssertionRefused(700027, "Client assertion failed signature validation.") from None
    by_s256 = {_thumb(c, hashes.SHA256()): c for c in registered}
    by_sha1 = {_thumb(c, hashes.SHA1()): c for c in registered}
    # msal keeps the base64 padding of the thumbprint; Entra reads it either way.
    s256, sha1 = (str(header.get(k, "")).rstrip("=") for k in ("x5t#S256", "x5t"))
    cert = by_s256.get(s256) or by_sha1.get(sha1)
    if cert is None:
        raise AssertionRefused(
            700027,
            "The certificate with identifier used to sign the client assertion is not "
            f"registered on application. [Reason - The key was not found., Thumbprint of key "
            f"used by client: '{header.get('x5t', header.get('x5t#S256', ''))}']",
        )
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    data = f"{head}.{body}".encode()
    algorithm = header.get("alg")
    try:
        if algorithm == "PS256":
            public.verify(
                _b64(signature),
                data,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                hashes.SHA256(),
            )
        elif algorithm == "RS256":
            public.verify(_b64(signature), data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise InvalidSignature
    except InvalidSignature:
        raise AssertionRefused(700027, "Client assertion contains an invalid signature.") from None
    if claims.get("aud") != audience:
        raise AssertionRefused(700027, "Client assertion audience claim does not match.")
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise AssertionRefused(700027, "Client assertion issuer or subject is not the client.")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < time.time():
        raise AssertionRefused(700024, "Client assertion is not within its valid time range.")
    return dict(claims)

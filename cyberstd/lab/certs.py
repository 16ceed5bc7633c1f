"""Certificates for the lab: a local CA and leaf certificates, good or deliberately flawed."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyType(StrEnum):
    """Key algorithm of a generated certificate: EC P-256 is fast to generate, RSA 2048 is common."""

    EC = "ec"
    RSA = "rsa"


@dataclass(frozen=True)
class CertFiles:
    """PEM files of one certificate and its private key."""

    cert: Path
    key: Path


def generate_key(key_type: KeyType = KeyType.EC) -> PrivateKey:
    if key_type is KeyType.RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip(".") or "cert"


def _write(directory: Path, stem: str, cert: x509.Certificate, key: PrivateKey) -> CertFiles:
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / f"{stem}.pem"
    key_path = directory / f"{stem}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The key is unencrypted: only the owner may read it.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_bytes)
    return CertFiles(cert=cert_path, key=key_path)


def _leaf_builder(
    names: Sequence[str],
    key: PrivateKey,
    issuer: x509.Name,
    valid_from_days: float,
    expires_in_days: float,
    now: dt.datetime,
) -> x509.CertificateBuilder:
    if not names:
        raise ValueError("a leaf certificate needs at least one DNS name")
    not_before = now + dt.timedelta(days=valid_from_days)
    not_after = now + dt.timedelta(days=expires_in_days)
    if not_after <= not_before:
        raise ValueError("expires_in_days must lie after valid_from_days")
    usage_encipher = isinstance(key, rsa.RSAPrivateKey)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=usage_encipher,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


@dataclass(frozen=True)
class CertificateAuthority:
    """A lab CA: its key and self-signed certificate, and the PEM file to use as a trust bundle."""

    key: PrivateKey
    cert: x509.Certificate
    files: CertFiles
    now: dt.datetime

    @property
    def cert_path(self) -> Path:
        """The CA certificate in PEM, usable as `ProbeContext.ca_bundle`."""
        return self.files.cert

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        now: dt.datetime,
        common_name: str = "cyberstd lab CA",
        key_type: KeyType = KeyType.EC,
        stem: str = "ca",
    ) -> CertificateAuthority:
        """Generate a CA valid from the day before `now` (the run's clock) for ten years and
        write `<stem>.pem`/`<stem>-key.pem`; its leaf certificates are dated from `now` too."""
        key = generate_key(key_type)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cyberstd lab"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        now = now.astimezone(dt.UTC).replace(microsecond=0)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, cert=cert, files=_write(directory, _stem(stem), cert, key), now=now)

    @classmethod
    def load(cls, directory: Path, *, now: dt.datetime, stem: str = "ca") -> CertificateAuthority:
        """The CA that `create` wrote into `directory` earlier, dating new leaves from `now`;
        OSError or ValueError when its files are missing or are no CA of the lab."""
        files = CertFiles(directory / f"{_stem(stem)}.pem", directory / f"{_stem(stem)}-key.pem")
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError(f"{files.key} holds no RSA or EC key")
        if cert.public_key() != key.public_key():
            raise ValueError(f"{files.cert} and {files.key} do not belong together")
        now = now.astimezone(dt.UTC).replace(microsecond=0)
        return cls(key=key, cert=cert, files=files, now=now)

    def issue(
        self,
        directory: Path,
        names: Sequence[str],
        *,
        valid_from_days: float = -1,
        expires_in_days: float = 365,
        key_type: KeyType = KeyType.EC,
        stem: str | None = None,
    ) -> CertFiles:
        """Issue a leaf certificate for the DNS `names` (the first is also the subject CN).

        Validity is relative to the CA's `now`: `valid_from_days=-1, expires_in_days=365` is a normal
        certificate; `valid_from_days=-60, expires_in_days=-30` an expired one;
        `valid_from_days=10` one that is not yet valid; `expires_in_days=20` one that expires soon.
        A wrong host name is simply a certificate issued for other names.
        """
        key = generate_key(key_type)
        cert = (
            _leaf_builder(names, key, self.cert.subject, valid_from_days, expires_in_days, self.now)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return _write(directory, _stem(stem or names[0]), cert, key)


def self_signed(
    directory: Path,
    names: Sequence[str],
    *,
    now: dt.datetime,
    valid_from_days: float = -1,
    expires_in_days: float = 365,
    key_type: KeyType = KeyType.EC,
    stem: str | None = None,
) -> CertFiles:
    """A leaf certificate for `names` signed by its own key, as an unconfigured appliance has."""
    if not names:
        raise ValueError("a leaf certificate needs at least one DNS name")
    key = generate_key(key_type)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = _leaf_builder(names, key, subject, valid_from_days, expires_in_days, now).sign(
        key, hashes.SHA256()
    )
    return _write(directory, _stem(stem or f"{names[0]}-self-signed"), cert, key)


@dataclass(frozen=True)
class CertSet:
    """A lab CA and, for one host name, a good certificate and one with each classic flaw."""

    ca: CertificateAuthority
    valid: CertFiles
    expired: CertFiles
    not_yet_valid: CertFiles
    wrong_host: CertFiles
    self_signed: CertFiles
    expiring_soon: CertFiles


def cert_set(
    directory: Path,
    host_name: str,
    *,
    now: dt.datetime,
    soon_days: float = 10,
    key_type: KeyType = KeyType.EC,
) -> CertSet:
    """Generate a CA and certificates for `host_name`, one good and one per flaw.

    valid: one year; expired: 30 days ago; not_yet_valid: from 10 days on; wrong_host: issued
    for `other.<host_name>` only; self_signed: not from the CA; expiring_soon: in `soon_days`.
    """
    ca = CertificateAuthority.create(directory, now=now, key_type=key_type)

    def issue(stem: str, **kwargs: float) -> CertFiles:
        return ca.issue(directory, [host_name], stem=stem, key_type=key_type, **kwargs)

    return CertSet(
        ca=ca,
        valid=issue(host_name),
        expired=issue(f"{host_name}-expired", valid_from_days=-60, expires_in_days=-30),
        not_yet_valid=issue(f"{host_name}-not-yet-valid", valid_from_days=10, expires_in_days=400),
        wrong_host=ca.issue(
            directory, [f"other.{host_name}"], stem=f"{host_name}-wrong-host", key_type=key_type
        ),
        self_signed=self_signed(
            directory, [host_name], now=now, stem=f"{host_name}-self-signed", key_type=key_type
        ),
        expiring_soon=issue(f"{host_name}-soon", expires_in_days=soon_days),
    )

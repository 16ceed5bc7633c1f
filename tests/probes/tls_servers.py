"""TLS test servers on 127.0.60.0/24: any server context, hand-made ServerHellos, flawed certificates."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import ssl
import struct
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from cyberstd.lab.certs import CertFiles
from cyberstd.lab.services import ServiceKind, TcpService

ADDRESS = "127.0.60.1"
HOST = "www.school.test"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# What an intercept may answer: bytes to send (then wait for the client to hang up), SILENT
# (send nothing, ever), or None (go on with the real TLS handshake).
SILENT = b""


@dataclass(frozen=True)
class ClientHello:
    """What a test server saw of a ClientHello: the offered version and suites."""

    version: int
    suites: tuple[int, ...]


Intercept = Callable[[ClientHello], bytes | None]


def _drain(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass


def _peek_hello(conn: socket.socket) -> ClientHello | None:
    """The ClientHello waiting on `conn`, read without consuming it (None if it is none)."""
    deadline = time.monotonic() + 3
    data = b""
    while time.monotonic() < deadline:
        data = conn.recv(32768, socket.MSG_PEEK)
        if not data:
            return None
        if len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[3:5], "big"):
            break
        time.sleep(0.01)
    if len(data) < 44 or data[0] != 22 or data[5] != 1:
        return None
    version = int.from_bytes(data[9:11], "big")
    at = 43 + data[43] + 1
    count = int.from_bytes(data[at : at + 2], "big")
    raw = data[at + 2 : at + 2 + count]
    suites = tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
    return ClientHello(version, suites)


def server_hello(version: int, suite: int) -> bytes:
    """A ServerHello record choosing `version` and `suite` (nothing follows it)."""
    body = (
        struct.pack("!H", version) + os.urandom(32) + b"\x00" + struct.pack("!H", suite) + b"\x00"
    )
    message = b"\x02" + len(body).to_bytes(3, "big") + body
    return struct.pack("!BHH", 22, version, len(message)) + message


def alert(description: int, version: int = 0x0301) -> bytes:
    """A fatal alert record (40 handshake_failure, 70 protocol_version)."""
    return struct.pack("!BHHBB", 21, version, 2, 2, description)


def old_server(versions: set[int], suites: set[int]) -> Intercept:
    """Answers like an old TLS stack that speaks only `versions` and `suites` (wire codes):
    the highest common version, the client's first acceptable suite, else an alert."""

    def answer(hello: ClientHello) -> bytes:
        usable = [v for v in versions if v <= hello.version]
        if not usable:
            return alert(70)
        version = max(usable)
        chosen = next((s for s in hello.suites if s in suites), None)
        return alert(40, version) if chosen is None else server_hello(version, chosen)

    return answer


class TlsServer(TcpService):
    """A TLS server on 127.0.60.0/24 with exactly the server context given.

    `intercept` sees each ClientHello first and may answer it itself (a hand-made ServerHello,
    an alert, SILENT); with `context=None` every connection goes to `intercept`.
    """

    def __init__(
        self,
        context: ssl.SSLContext | None,
        *,
        address: str = ADDRESS,
        intercept: Intercept | None = None,
    ) -> None:
        self.seen: list[ClientHello] = []
        self._context = context
        self._intercept = intercept
        super().__init__(self._handle, kind=ServiceKind.HTTP, address=address)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        if self._intercept is not None:
            hello = _peek_hello(conn)
            if hello is not None:
                self.seen.append(hello)
                reply = self._intercept(hello)
                if reply is not None:
                    if reply:
                        conn.sendall(reply)
                    _drain(conn)
                    return
        if self._context is None:
            return
        with self._context.wrap_socket(conn, server_side=True) as tls:
            _drain(tls)


def server_context(
    cert: CertFiles,
    *,
    ciphers: str = "DEFAULT:@SECLEVEL=0",
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A server context that loads even RSA-1024 keys and SHA-1 certificates (security level
    0 is set before the certificate is loaded) and offers `ciphers` between the bounds."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if minimum is not None:
            ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    ctx.load_cert_chain(cert.cert, cert.key)
    return ctx


# --- certificates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A generated certificate with its key."""

    cert: x509.Certificate
    key: PrivateKey


def rsa_key(bits: int = 2048) -> PrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ec_key(curve: ec.EllipticCurve | None = None) -> PrivateKey:
    return ec.generate_private_key(curve or ec.SECP256R1())


# AlgorithmIdentifiers of sha256WithRSAEncryption and sha1WithRSAEncryption: same length.
_SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_SHA1_RSA = bytes.fromhex("300d06092a864886f70d0101050500")


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _resign_sha1(cert: x509.Certificate, signer: PrivateKey) -> x509.Certificate:
    """`cert` signed again with SHA-1, which cryptography no longer does itself."""
    if not isinstance(signer, rsa.RSAPrivateKey):
        raise ValueError("SHA-1 signatures are made with RSA issuers only here")
    tbs = cert.tbs_certificate_bytes.replace(_SHA256_RSA, _SHA1_RSA, 1)
    signature = signer.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    body = tbs + _SHA1_RSA + _der(0x03, b"\x00" + signature)
    return x509.load_der_x509_certificate(_der(0x30, body))


def issue(
    common_name: str,
    key: PrivateKey,
    *,
    issuer: Issued | None = None,
    names: Sequence[str] = (),
    ca: bool = False,
    sha1: bool = False,
) -> Issued:
    """A certificate for `key`, signed by `issuer` (self-signed when None) with SHA-256, or
    with SHA-1 when `sha1` (the signer must then be an RSA key)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    signer = issuer.key if issuer else key
    cert = builder.sign(signer, hashes.SHA256())
    return Issued(_resign_sha1(cert, signer) if sha1 else cert, key)


def write_chain(directory: Path, stem: str, leaf: Issued, *chain: Issued) -> CertFiles:
    """PEM files of `leaf` followed by `chain` (what the server sends), and of the leaf's key."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / f"{stem}.pem"
    key_path = directory / f"{stem}-key.pem"
    cert_path.write_bytes(
        b"".join(c.cert.public_bytes(serialization.Encoding.PEM) for c in (leaf, *chain))
    )
    key_path.write_bytes(
        leaf.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return CertFiles(cert=cert_path, key=key_path)


def write_bundle(path: Path, *cas: Issued) -> Path:
    path.write_bytes(b"".join(c.cert.public_bytes(serialization.Encoding.PEM) for c in cas))
    return path

"""Ed25519 keys and detached signatures (FILE.sig) for results.json files and evidence bundles.

A signature file is JSON. The Ed25519 signature covers a canonical form of every other field of
that file (the signed file's sha256 and size, the kind of file, the signer's key fingerprint,
the signing time and the tool version), so neither the signed file nor any field of the .sig can
change without verification failing. A bundle's signature also records the sha256 of its
manifest.json and the manifest's list of files with their sha256 and size, so that `verify` can
name a file that changed even when the manifest was recomputed to match it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cyberstd import __version__
from cyberstd.errors import CyberstdError

ALGORITHM = "ed25519"
SIGNATURE_FORMAT = "cyberstd-signature"
SIGNATURE_VERSION = 1
KINDS = ("bundle", "results")
# Domain separation: a cyberstd signature can never be mistaken for one over other data.
CONTEXT = b"cyberstd-signature-v1\n"
MAX_SMALL_FILE = 64 * 1024
# A bundle's signature lists every file of the bundle: allow as many as a manifest may hold.
MAX_SIGNATURE_FILE = 16 * 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class SigningError(CyberstdError):
    """A key or signature file that cannot be used: missing, malformed, wrong passphrase."""


def public_key_path(key_path: Path) -> Path:
    """Where the public key of a private key file lives: KEYFILE.pub."""
    return key_path.with_name(key_path.name + ".pub")


def signature_path(path: Path) -> Path:
    """The default detached signature of a file: FILE.sig."""
    return path.with_name(path.name + ".sig")


def fingerprint(key: Ed25519PublicKey) -> str:
    """sha256 (hex) of the raw 32-byte public key: how a signer is named."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def digest(path: Path) -> tuple[str, int]:
    """sha256 (hex) and size of a file, read once."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


# --- keys ------------------------------------------------------------------------------------


def private_pem(key: Ed25519PrivateKey, passphrase: bytes | None = None) -> bytes:
    """PEM PKCS8 of a private key, encrypted when a passphrase is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def public_pem(key: Ed25519PublicKey) -> bytes:
    """PEM SubjectPublicKeyInfo of a public key."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Write data to path through a temporary file that has `mode` from its creation on."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)  # the umask may have taken bits away; set exactly what we want
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SigningError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_keypair(
    path: Path, passphrase: bytes | None = None, *, force: bool = False
) -> tuple[Path, Path, str]:
    """Write a new Ed25519 private key (mode 0600) and KEYFILE.pub; return both and the fingerprint.

    Refuses to replace an existing key file or public key file unless `force`.
    """
    pub_path = public_key_path(path)
    if not force:
        existing = [str(p) for p in (path, pub_path) if p.exists() or p.is_symlink()]
        if existing:
            raise SigningError(
                f"{' and '.join(existing)} already exist(s); refusing to overwrite a key "
                "(a lost private key cannot be recovered): choose another name or use --force"
            )
    if path.is_dir():
        raise SigningError(f"{path} is a folder; give the name of the key file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SigningError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    key = Ed25519PrivateKey.generate()
    _write_file(path, private_pem(key, passphrase), 0o600)
    _write_file(pub_path, public_pem(key.public_key()), 0o644)
    return path, pub_path, fingerprint(key.public_key())


def _read_small(path: Path, what: str, limit: int = MAX_SMALL_FILE) -> bytes:
    """Read a key or signature file, refusing what is missing or far too large to be one."""
    try:
        if not path.is_file():
            raise SigningError(f"{what} {path} not found")
        if path.stat().st_size > limit:
            raise SigningError(f"{what} {path} is too large to be one")
        return path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def load_private_key(path: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """Load an Ed25519 private key (PEM PKCS8), with a clear message for every way it fails."""
    data = _read_small(path, "key file")
    if b"PRIVATE KEY" not in data and b"PUBLIC KEY" in data:
        raise SigningError(
            f"{path} is a public key; signing needs the private key (KEYFILE, not KEYFILE.pub)"
        )
    encrypted = b"ENCRYPTED PRIVATE KEY" in data
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        if passphrase is None:
            raise SigningError(
                f"{path} is encrypted: give the environment variable holding its passphrase "
                "with --passphrase-env VAR"
            ) from None
        raise SigningError(f"{path} is not encrypted: leave out --passphrase-env") from None
    except (ValueError, UnsupportedAlgorithm):
        if encrypted and passphrase is not None:
            raise SigningError(f"wrong passphrase for {path}") from None
        raise SigningError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(
            f"{path} holds a {type(key).__name__.removeprefix('_')} key; cyberstd signs with "
            "Ed25519 (make one with `cyberstd keygen`)"
        )
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Load an Ed25519 public key (PEM SubjectPublicKeyInfo)."""
    data = _read_small(path, "public key file")
    if b"PRIVATE KEY" in data:
        raise SigningError(
            f"{path} is a private key; verifying needs the public key (KEYFILE.pub), "
            "and the private key should not leave the signer"
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise SigningError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path} is not an Ed25519 public key")
    return key


# --- signatures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedFile:
    """One file of a signed bundle, as the signature records it."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Signature:
    """A detached signature: what was signed, by which key, when, and the signature bytes.

    For a bundle also the sha256 of its manifest.json and the files the manifest lists."""

    kind: str
    sha256: str
    size: int
    fingerprint: str
    signed_at: str
    tool_version: str
    signature: bytes = b""
    algorithm: str = ALGORITHM
    manifest_sha256: str | None = None
    files: tuple[SignedFile, ...] = ()

    def statement(self) -> dict[str, Any]:
        """Every field of the signature file except the signature itself."""
        out: dict[str, Any] = {
            "format": SIGNATURE_FORMAT,
            "format_version": SIGNATURE_VERSION,
            "algorithm": self.algorithm,
            "kind": self.kind,
            "sha256": self.sha256,
            "size": self.size,
            "public_key_fingerprint": self.fingerprint,
            "signed_at": self.signed_at,
            "tool": {"name": "cyberstd", "version": self.tool_version},
        }
        if self.manifest_sha256 is not None:
            out["manifest_sha256"] = self.manifest_sha256
            out["files"] = [
                {"path": f.path, "sha256": f.sha256, "size": f.size} for f in self.files
            ]
        return out

    def payload(self) -> bytes:
        """The bytes the Ed25519 signature is made over (canonical JSON after a context line)."""
        canonical = json.dumps(
            self.statement(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        )
        return CONTEXT + canonical.encode("ascii")

    def to_json(self) -> str:
        """The signature file's text."""
        body = {**self.statement(), "signature": base64.b64encode(self.signature).decode("ascii")}
        return json.dumps(body, indent=2) + "\n"


def sign_file(
    path: Path,
    key: Ed25519PrivateKey,
    kind: str,
    *,
    now: dt.datetime | None = None,
    manifest_sha256: str | None = None,
    files: tuple[SignedFile, ...] = (),
) -> Signature:
    """Sign a file's sha256 and size (and so its every byte) with an Ed25519 key.

    For a bundle, give the sha256 of its manifest.json and the manifest's files: the
    signature then covers that list too (see `bundle.signed_contents`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    if manifest_sha256 is not None and kind != "bundle":
        raise ValueError("only a bundle's signature lists files")
    sha, size = digest(path)
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    unsigned = Signature(
        kind=kind,
        sha256=sha,
        size=size,
        fingerprint=fingerprint(key.public_key()),
        signed_at=when.isoformat().replace("+00:00", "Z"),
        tool_version=__version__,
        manifest_sha256=manifest_sha256,
        files=files,
    )
    return replace(unsigned, signature=key.sign(unsigned.payload()))


def write_signature(signature: Signature, path: Path) -> Path:
    """Write a signature file (replacing an older one at once, never half)."""
    _write_file(path, signature.to_json().encode("ascii"), 0o644)
    return path


def _field(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"field {name!r} is missing or not a {kind.__name__}")
    return value


def _parse_signature(body: Any) -> Signature:
    """A signature file's JSON -> Signature; ValueError naming the first thing that is wrong."""
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    if body.get("format") != SIGNATURE_FORMAT:
        raise ValueError(f"field 'format' is not {SIGNATURE_FORMAT!r}")
    if body.get("format_version") != SIGNATURE_VERSION:
        raise ValueError(f"unsupported format_version {body.get('format_version')!r}")
    algorithm = _field(body, "algorithm", str)
    if algorithm != ALGORITHM:
        raise ValueError(f"unsupported algorithm {algorithm!r} (only {ALGORITHM!r})")
    kind = _field(body, "kind", str)
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    sha = _field(body, "sha256", str)
    fpr = _field(body, "public_key_fingerprint", str)
    for name, value in (("sha256", sha), ("public_key_fingerprint", fpr)):
        if not _HEX64.match(value):
            raise ValueError(f"field {name!r} is not 64 lowercase hex digits")
    size = _field(body, "size", int)
    if size < 0:
        raise ValueError("field 'size' is negative")
    signed_at = _field(body, "signed_at", str)
    tool = _field(body, "tool", dict)
    version = _field(tool, "version", str)
    try:
        raw = base64.b64decode(_field(body, "signature", str), validate=True)
    except binascii.Error:
        raise ValueError("field 'signature' is not base64") from None
    if len(raw) != 64:
        raise ValueError(f"field 'signature' holds {len(raw)} bytes, an Ed25519 signature 64")
    manifest_sha, files = _signed_files(body)
    return Signature(kind, sha, size, fpr, signed_at, version, raw, algorithm, manifest_sha, files)


def _signed_files(body: dict[str, Any]) -> tuple[str | None, tuple[SignedFile, ...]]:
    """The optional manifest_sha256 and files of a bundle's signature, checked (they are
    covered by the signature like every other field, whatever the kind says)."""
    if "manifest_sha256" not in body and "files" not in body:
        return None, ()
    manifest_sha = _field(body, "manifest_sha256", str)
    if not _HEX64.match(manifest_sha):
        raise ValueError("field 'manifest_sha256' is not 64 lowercase hex digits")
    entries = _field(body, "files", list)
    out: list[SignedFile] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"files[{i}] is not an object")
        path = _field(entry, "path", str)
        sha = _field(entry, "sha256", str)
        size = _field(entry, "size", int)
        if not path or path in seen or not _HEX64.match(sha) or size < 0:
            raise ValueError(f"files[{i}] is not a usable entry (path, sha256, size)")
        seen.add(path)
        out.append(SignedFile(path, sha, size))
    return manifest_sha, tuple(out)


def read_signature(path: Path) -> Signature:
    """Read a signature file; SigningError saying what is wrong when it is not a usable one."""
    data = _read_small(path, "signature file", MAX_SIGNATURE_FILE)
    try:
        body = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SigningError(f"{path} is not a signature file: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SigningError(
            f"{path} is not a valid signature file (truncated or altered?): invalid JSON at "
            f"line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    try:
        return _parse_signature(body)
    except ValueError as exc:
        raise SigningError(f"{path} is not a valid signature file: {exc}") from None


def verify_signature(path: Path, signature: Signature, key: Ed25519PublicKey) -> list[str]:
    """Check a file against its signature and a public key; return what failed (empty: valid)."""
    failures: list[str] = []
    given = fingerprint(key)
    try:
        key.verify(signature.signature, signature.payload())
        valid = True
    except InvalidSignature:
        valid = False
    if given != signature.fingerprint:
        failures.append(
            f"signature: made by key {signature.fingerprint}, but the public key given is "
            f"{given} (wrong public key, or the signature file was altered)"
        )
    elif not valid:
        failures.append(
            "signature: not valid for this public key: the signature file was altered after signing"
        )
    sha, size = digest(path)
    if sha != signature.sha256 or size != signature.size:
        failures.append(
            f"file: {path.name} changed since it was signed "
            f"(sha256 {sha}, {size} bytes; signed {signature.sha256}, {signature.size} bytes)"
        )
    return failures

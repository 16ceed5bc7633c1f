"""What every parser shares: located nodes, the typed parse error, safe reading and redaction.

A parser turns one configuration export into a tree of `Node`s: mappings (dict of str to
Node), lists (list of Node) and scalars (str, int, float, bool or None). Every node knows the
file it came from and, where the format allows, its line, so that a verdict can point at
`file:line`. Secrets are replaced by `REDACTED` while the tree is built, so nothing downstream
(rules, evidence, reports) ever holds one.
"""

from __future__ import annotations

import base64
import codecs
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyberstd.messages import Msg

MAX_BYTES = 32 * 1024 * 1024
REDACTED = "[redacted]"

Scalar = str | int | float | bool | None


class ParseError(Exception):
    """A file that its parser cannot read: names the file and, where known, the line. Raised
    with a catalog message (`Msg`), `said` says it in every language; `detail` is English."""

    def __init__(self, file: str, message: str | Msg, line: int | None = None) -> None:
        self.file = file
        self.line = line
        self.said = message if isinstance(message, Msg) else None
        self.detail = str(message)
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


@dataclass(slots=True)
class Node:
    """One value of a parsed export, with where it came from."""

    value: Any
    file: str
    line: int | None = None
    _folded: dict[str, str] | None = field(default=None, repr=False, compare=False)

    def plain(self) -> Any:
        """The value without positions: dicts, lists and scalars."""
        v = self.value
        if isinstance(v, dict):
            return {k: n.plain() for k, n in v.items()}
        if isinstance(v, list):
            return [n.plain() for n in v]
        return v

    def get(self, key: str) -> Node | None:
        """A child of a mapping by key (exact, else case-insensitive), or None."""
        v = self.value
        if not isinstance(v, dict):
            return None
        found: Node | None = v.get(key)
        if found is not None:
            return found
        if self._folded is None or len(self._folded) != len(v):
            self._folded = {k.casefold(): k for k in v}
        real = self._folded.get(key.casefold())
        child: Node | None = v.get(real) if real is not None else None
        return child

    def walk(self) -> Iterator[Node]:
        yield self
        v = self.value
        children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else ()
        for child in children:
            yield from child.walk()


@dataclass(frozen=True)
class Source:
    """One export read from disk and decoded; `display` is the path shown to people."""

    path: Path
    display: str
    text: str
    data: bytes = field(repr=False)
    # CSV: a regular expression that the header line matches, from the export's kind. Lines
    # before it are titles (DSM's Log Center writes the log's category first).
    header: str | None = None

    def related(self, relative: str, max_bytes: int = MAX_BYTES) -> Source:
        """Another file next to this one (an Include), refused when it leaves the folder."""
        try:
            base = self.path.parent.resolve()
            target = (base / relative).resolve()
        except (OSError, RuntimeError):
            raise ParseError(
                self.display, f"{relative!r} cannot be resolved (a link loop?)"
            ) from None
        if not target.is_relative_to(base):
            raise ParseError(self.display, f"{relative!r} lies outside the export's folder")
        shown = str(Path(self.display).parent / relative)
        return read_source(target, shown, max_bytes)


def decode(data: bytes, display: str) -> str:
    """Text from bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(display, f"invalid UTF-16 text at byte {exc.start}") from None
    if b"\x00" in data[:8192]:
        raise ParseError(display, "binary data, not a text export")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(display, "not UTF-8 text (save the export as UTF-8)", line) from None
    if "\x00" in text:
        raise ParseError(
            display, "binary data, not a text export", text[: text.index("\x00")].count("\n") + 1
        )
    return text


def read_source(path: Path, display: str | None = None, max_bytes: int = MAX_BYTES) -> Source:
    """Read and decode one export, refusing missing, oversized, binary and non-UTF text files."""
    shown = display or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ParseError(shown, f"file is {size} bytes, more than the limit of {max_bytes}")
        data = path.read_bytes()
    except IsADirectoryError:
        raise ParseError(shown, "is a folder, not a file") from None
    except FileNotFoundError:
        raise ParseError(shown, "file not found") from None
    except OSError as exc:
        raise ParseError(shown, f"cannot be read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise ParseError(shown, f"file is more than the limit of {max_bytes} bytes")
    return Source(path=path, display=shown, text=decode(data, shown), data=data)


def source_from_text(text: str, display: str = "<text>") -> Source:
    """A Source for text held in memory (tests, stdin)."""
    return Source(path=Path(display), display=display, text=text, data=text.encode())


# --- redaction --------------------------------------------------------------------------------

_SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|psk|pre-?shared|token|private[-_]?key|prv|privkey"
    r"|api[-_]?key|bcrypt|hash|credential|community|auth[-_]?key|enc[-_]?key|wpa[-_]?key"
    r"|x_passphrase|radius[-_]?secret|shared[-_]?key|key[-_]?data"
    # a key by itself or as the last word: FortiGate `set key`, `md5-keys`, `ddns-key`,
    # `key-string`; UniFi `security_key`; CSV columns "Encryption key", "BitLocker recovery key"
    r"|(^|[-_ .])keys?\d*$|[a-z]Keys?\d*$|^key[-_ ]?string$|recovery[-_ ]?key|authorization|bearer"
    # Dutch column names of the inventories schools keep in Excel: "Wachtwoord", "Paswoord"
    # (Flemish), "Pincode", "Toegangscode", "Herstelsleutel", "Wifi-sleutel"
    r"|wachtwoord|paswoord|wachtzin|pincode|toegangscode|herstel[-_ ]?sleutel|(^|[-_ .])sleutels?\d*$"
    r"|^x_)",  # UniFi marks every secret field with an x_ prefix (x_passphrase, x_wep, ...)
    re.IGNORECASE,
)
# Keys that look like secrets by name but hold none: settings about secrets, not secrets.
_NOT_SECRET_KEY = re.compile(
    r"(^|[-_.])(policy|complexity|length|age|history|expir\w*|required|enabled|enable|type"
    r"|mode|status|reset|lockout\w*|change\w*|last\w*|count|min\w*|max\w*|strength|reuse"
    r"|authentication|profiles?|methods?)$"
    r"|^(password(complexity|historysize)|(min|max)imumpasswordage|minimumpasswordlength"
    r"|clearTextPassword|requirelogontochangepassword|forcelogoffwhenhourexpire"
    r"|passwordauthentication|permitemptypasswords|passwordpolicies|passwordprofile"
    r"|pubkeyauthentication|kbdinteractiveauthentication|challengeresponseauthentication"
    r"|hostbasedauthentication|x_passphrase_mode|gssapicleanupcredentials|kerberosorlocalpasswd"
    r"|kerberosgetafstoken|fingerprinthash|gssapistorecredentialsonrekey|fortitoken"
    r"|reuse-password|usesecretsasrandomseed|passwordauth|tlsauth_keydir"
    # Meraki's SSID setting "NAT mode" / "Bridge mode": an IP assignment, no password
    r"|ipassignmentmode"
    # Active Directory's account properties (Get-ADUser, Get-ADDefaultDomainPasswordPolicy)
    r"|passwordneverexpires|passwordlastset|passwordexpired|passwordnotrequired"
    r"|passwordhistorycount|cannotchangepassword|allowreversiblepasswordencryption)$"
    r"|(^|[-_])(algorithm|keydir)$|^(bypass|passthru)"
    # keys that are public or name a key rather than hold one
    r"|public[-_ ]?keys?\d*$|pubkey|^hostkey$|^(ssh[-_])?host[-_]?key$|^primary[-_ ]key$"
    r"|(^|[-_ ])key[-_ ]?(id|type|size|length|usage|mgmt|management|algorithm|name|index)$"
    r"|^(trusted|authorized)[-_]?keys?$|^trusteduser\w*keys$|^revokedkeys$|^sort[-_ ]?key$"
    r"|^foreign[-_ ]?key$"
    # Dutch words holding "pass" that name no secret: "Toepassing" (application), "Aanpassing"
    r"|toepassing|aanpassing"
    r"|(^|\\)(nolmhash|limitblankpassworduse|enableplaintextpassword|disablepasswordchange"
    r"|maximumpasswordage|passwordexpirywarning|filteradministratortoken)$",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|^(Bearer|Basic)\s+\S{8,}"
    r"|^ENC [A-Za-z0-9+/=]{8,}"
    r"|^\$(1|2[abxy]?|5|6|y|argon2\w*)\$[^\s]{8,}"
    r"|^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."
    r"|^(ghp|gho|github_pat|glpat|xox[abp])[-_][A-Za-z0-9_-]{10,}",
)


_SECRET_STARTS = ("ENC ", "$", "eyJ", "ghp", "gho", "github_pat", "glpat", "xox", "Bearer", "Basic")
# A BitLocker recovery password: eight groups of six digits.
_RECOVERY_PASSWORD = re.compile(r"\d{6}(-\d{6}){7}")
# Base64 of 32 characters or more with both cases, a digit and a + / or = : a key or secret,
# whatever its field is called (hex digests, GUIDs and words do not look like this).
_LONG_BASE64 = re.compile(r"[A-Za-z0-9+/]{32,}={0,2}")


@functools.lru_cache(maxsize=8192)
def is_secret_key(key: str) -> bool:
    """Whether a setting of this name holds a secret (a password, key, token or hash)."""
    return bool(_SECRET_KEY.search(key)) and not _NOT_SECRET_KEY.search(key)


def is_secret_value(value: str) -> bool:
    """Whether a value is a secret whatever its key (a private key, an encrypted password, a JWT)."""
    if _looks_like_key(value) or _RECOVERY_PASSWORD.fullmatch(value):
        return True
    if not value.startswith(_SECRET_STARTS) and "PRIVATE KEY-----" not in value:
        return False
    return bool(_SECRET_VALUE.search(value))


def _looks_like_key(value: str) -> bool:
    if len(value) < 32 or not _LONG_BASE64.fullmatch(value):
        return False
    return (
        any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
        and any(c in "+/=" for c in value)
        and not _public_certificate(value)
    )


def _public_certificate(value: str) -> bool:
    """Base64 of a certificate or public key (PEM or DER): public, and evidence worth keeping."""
    try:
        data = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except ValueError:
        return False
    if data.startswith((b"-----BEGIN CERTIFICATE", b"-----BEGIN PUBLIC KEY")):
        return True
    if not data.startswith(b"\x30\x82"):  # a DER SEQUENCE: a certificate, or a private key
        return False
    from cryptography import x509

    try:
        x509.load_der_x509_certificate(data)
    except ValueError:
        return False
    return True


def scrub(key: str, value: Scalar) -> Scalar:
    """The value to keep for `key`: REDACTED when it is a secret, else the value itself."""
    if value is None or isinstance(value, bool):
        return value
    if is_secret_key(key) and value != "":
        return REDACTED
    if isinstance(value, str) and is_secret_value(value):
        return REDACTED
    return value


_URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@")


def _flat(node: Node) -> bool:
    """A scalar, a list of scalars, or a mapping of those: the shape a secret's value takes."""
    v = node.value
    if isinstance(v, dict):
        return all(_flat(c) and not isinstance(c.value, dict) for c in v.values())
    if isinstance(v, list):
        return all(not isinstance(c.value, (dict, list)) for c in v)
    return True


def _blank(node: Node) -> None:
    """Every value under a secret's key ({"adminPassword": {"value": ...}}); XML attributes
    (@enc="b64") say how the secret is stored and stay."""
    v = node.value
    if isinstance(v, dict):
        for k, child in v.items():
            if not k.startswith("@"):
                _blank(child)
    elif isinstance(v, list):
        for child in v:
            _blank(child)
    elif v not in (None, "") and not isinstance(v, bool):
        node.value = REDACTED


def redact(node: Node, key: str = "") -> Node:
    """Replace every secret in a tree in place (by its key or by its look); returns the node.

    Under a secret's key everything goes (a scalar, a list, a whole mapping); elsewhere a value
    that looks like a secret (a private key, an encrypted password, a token) goes, and a
    password inside a URL (scheme://user:password@host) is cut out of it."""
    v = node.value
    if isinstance(v, dict):
        for k, child in v.items():
            if is_secret_key(k) and _flat(child):
                _blank(child)
            else:
                redact(child, k)  # a whole block under a secret-sounding name: look inside
    elif isinstance(v, list):
        for child in v:
            redact(child, key)
    elif isinstance(v, str):
        if is_secret_value(v):
            node.value = REDACTED
        elif "://" in v and "@" in v:
            node.value = _URL_CREDENTIALS.sub(r"\1" + REDACTED + "@", v)
    return node

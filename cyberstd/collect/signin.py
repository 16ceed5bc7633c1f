"""Signing in to Microsoft Entra ID as an app registration, through msal.

The credential comes from the environment: a certificate (recommended: a PEM file holding the
private key and the certificate, or a PFX file; msal signs a client assertion with the key and
sends the certificate's thumbprint) or a client secret. msal talks to its authority through an
HTTP client given here, so that every request it makes goes through the Graph client's own
sending (timeouts, retries on 429/5xx after Retry-After, the run's waiting limit, no
redirects). Entra's refusals (`invalid_client`, AADSTS codes) are said as what to fix, naming
the environment variable; the key, the secret and the signed assertion never appear in them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from cyberstd.errors import UsageError
from cyberstd.messages import Msg, msg

ENV_TENANT = "CYBERSTD_M365_TENANT_ID"
ENV_CLIENT = "CYBERSTD_M365_CLIENT_ID"
ENV_SECRET = "CYBERSTD_M365_CLIENT_SECRET"
ENV_CERTIFICATE = "CYBERSTD_M365_CERTIFICATE"
ENV_PASSPHRASE = "CYBERSTD_M365_CERTIFICATE_PASSPHRASE"
ENV_GRAPH = "CYBERSTD_M365_GRAPH_URL"

# What the POST bodies msal sends may hold that must never be shown.
SECRET_FIELDS = ("client_secret", "client_assertion")
MAX_CERTIFICATE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Certificate:
    """An app registration's certificate with its private key, as msal needs them."""

    path: Path
    key: rsa.RSAPrivateKey = field(repr=False)
    certificate_pem: str
    thumbprint: str  # SHA-1, upper-case hex: what the Entra admin center shows
    not_after: dt.datetime

    def credential(self) -> dict[str, Any]:
        """msal's client credential: the key and the certificate, from which msal takes the
        SHA-256 thumbprint (`x5t#S256`) and signs with PS256."""
        return {"private_key": self.key, "public_certificate": self.certificate_pem}


def _key_and_certificate(
    path: Path, data: bytes, passphrase: bytes | None
) -> tuple[Any, x509.Certificate | None]:
    """The private key and the first certificate of a PEM or PFX file."""
    shown = str(path)
    if b"-----BEGIN" not in data:
        try:
            key, cert, _ = pkcs12.load_key_and_certificates(data, passphrase)
        except ValueError:
            raise UsageError(
                msg("m365.cert.unreadable_pfx", path=shown, env=ENV_PASSPHRASE)
            ) from None
        return key, cert
    certs = x509.load_pem_x509_certificates(data) if b"-----BEGIN CERTIFICATE" in data else []
    key_blocks = [
        block
        for block in data.split(b"-----BEGIN ")[1:]
        if block.split(b"-----", 1)[0].endswith(b"PRIVATE KEY")
    ]
    if not key_blocks:
        raise UsageError(msg("m365.cert.no_key", path=shown))
    try:
        key = serialization.load_pem_private_key(b"-----BEGIN " + key_blocks[0], passphrase)
    except TypeError:
        # Encrypted without a passphrase, or a passphrase for a key that has none.
        raise UsageError(msg("m365.cert.passphrase", path=shown, env=ENV_PASSPHRASE)) from None
    except ValueError:
        raise UsageError(msg("m365.cert.bad_key", path=shown, env=ENV_PASSPHRASE)) from None
    return key, certs[0] if certs else None


def load_certificate(path_text: str, passphrase: str | None) -> Certificate:
    """Read and check the certificate file: key and certificate present and matching, RSA."""
    path = Path(path_text).expanduser()
    try:
        if path.stat().st_size > MAX_CERTIFICATE_BYTES:
            raise UsageError(msg("m365.cert.too_large", path=str(path)))
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(
            msg("m365.cert.unreadable", path=str(path), env=ENV_CERTIFICATE, reason=exc.strerror)
        ) from None
    key, cert = _key_and_certificate(path, data, passphrase.encode() if passphrase else None)
    if cert is None:
        raise UsageError(msg("m365.cert.no_certificate", path=str(path)))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UsageError(msg("m365.cert.not_rsa", path=str(path)))
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or public.public_numbers() != (
        key.public_key().public_numbers()
    ):
        raise UsageError(msg("m365.cert.mismatch", path=str(path)))
    der = cert.public_bytes(serialization.Encoding.DER)
    return Certificate(
        path=path,
        key=key,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        thumbprint=hashlib.sha1(der, usedforsecurity=False).hexdigest().upper(),
        not_after=cert.not_valid_after_utc,
    )


# --- msal's HTTP client -----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as msal reads it (status_code, text, headers, raise_for_status)."""

    status_code: int
    text: str
    headers: Mapping[str, str]

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise SignInFailed(self)


class SignInFailed(Exception):
    """msal asked its HTTP client to fail on an answer (a server error during discovery)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"HTTP {answer.status_code}")
        self.answer = answer


class Send(Protocol):
    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], data: Mapping[str, str] | None
    ) -> tuple[int, Mapping[str, str], bytes]: ...


class MsalHttp:
    """The HTTP client msal is given: it sends through `send` and keeps what must be hidden.

    `secrets` collects every client secret and signed assertion msal posts, so that a message
    can leave them out; `last` is the latest answer, for saying why discovery failed."""

    def __init__(self, send: Send, remember: Callable[[str], None]) -> None:
        self._send = send
        self._remember = remember
        self.last: Answer | None = None

    def _answer(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        data: Any = None,
    ) -> Answer:
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        if isinstance(data, Mapping):
            for name in SECRET_FIELDS:
                value = data.get(name)
                if isinstance(value, bytes):
                    value = value.decode("ascii", "replace")
                if isinstance(value, str) and value:
                    self._remember(value)
            data = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in data.items()}
        status, reply_headers, body = self._send(method, url, dict(headers or {}), data)
        self.last = Answer(status, body.decode("utf-8", "replace"), dict(reply_headers))
        return self.last

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Answer:
        return self._answer("GET", url, params, headers)

    def post(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Answer:
        return self._answer("POST", url, params, headers, data)

    def close(self) -> None:
        """Nothing to close: the Graph client owns the session."""


def application(
    authority: str, client_id: str, credential: Certificate | str, http: MsalHttp
) -> Any:
    """msal's confidential client for `authority` (`<login URL>/<tenant>`).

    msal reads the tenant's OpenID configuration first (`<authority>/v2.0/.well-known/
    openid-configuration`); instance discovery is off, since the login URL is given (public
    cloud, national cloud, or a test server), and msal accepts only https for it."""
    import msal  # type: ignore[import-untyped]

    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=(
            credential.credential() if isinstance(credential, Certificate) else credential
        ),
        authority=authority,
        http_client=http,
        instance_discovery=False,
        validate_authority=False,
    )


# --- refusals ---------------------------------------------------------------------------------

# AADSTS codes (Entra's `error_codes`) and what to fix for each.
_CODES: dict[int, str] = {
    7000215: "m365.fix.secret_wrong",
    7000222: "m365.fix.secret_expired",
    700027: "m365.fix.certificate_unknown",
    700016: "m365.fix.client_unknown",
    90002: "m365.fix.tenant_unknown",
    900023: "m365.fix.tenant_unknown",
    90033: "m365.fix.tenant_unknown",
    700024: "m365.fix.clock",
    7000112: "m365.fix.client_disabled",
    70011: "m365.fix.scope",
    1002012: "m365.fix.scope",
}


def first_line(text: object, limit: int = 300) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= limit else line[:limit] + "..."


def error_codes(answer: Mapping[str, Any]) -> list[int]:
    """Entra's AADSTS codes: `error_codes`, else the one the description begins with."""
    codes = answer.get("error_codes")
    if isinstance(codes, list) and all(isinstance(c, int) for c in codes) and codes:
        return list(codes)
    description = str(answer.get("error_description", ""))
    if description.startswith("AADSTS"):
        number = description[6:].split(":", 1)[0]
        if number.isdigit():
            return [int(number)]
    return []


def fix(answer: Mapping[str, Any], credential: Certificate | str) -> Msg:
    """What to change, for an Entra error answer."""
    values = {
        "tenant_env": ENV_TENANT,
        "client_env": ENV_CLIENT,
        "secret_env": ENV_SECRET,
        "cert_env": ENV_CERTIFICATE,
        "graph_env": ENV_GRAPH,
        "thumbprint": credential.thumbprint if isinstance(credential, Certificate) else "",
    }
    for code in error_codes(answer):
        if code in _CODES:
            key = _CODES[code]
            if key == "m365.fix.certificate_unknown" and not isinstance(credential, Certificate):
                key = "m365.fix.secret_wrong"
            return msg(key, **values)
    error = answer.get("error")
    if error == "invalid_client":
        key = "m365.fix.certificate" if isinstance(credential, Certificate) else "m365.fix.secret"
        return msg(key, **values)
    if error in ("unauthorized_client", "invalid_request"):
        return msg("m365.fix.ids", **values)
    if error == "invalid_scope":
        return msg("m365.fix.scope", **values)
    return msg("m365.fix.any", **values)


def json_object(text: str | bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None

"""Web probes of a website: the HTTP-to-HTTPS redirect and the HSTS policy."""

from __future__ import annotations

import http.client
import ipaddress
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from pydantic import Field
from requests.adapters import HTTPAdapter

from cyberstd import __version__
from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.probes.tls import trusting_context
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome

REDIRECT_STATUSES = frozenset({301, 302, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = f"cyberstd/{__version__} (school security check)"
SECONDS_PER_DAY = 86400

E = TypeVar("E", bound=BaseException)

# Handshake failures that mean client and server share no protocol version.
_VERSION_REASONS = frozenset(
    {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE"}
)


# --- HTTP client -------------------------------------------------------------------------------


class _PinnedAdapter(HTTPAdapter):
    """Connects to the address in the URL but presents `server_name` for SNI and name checks.

    Trust comes only from `ssl_context` (the scan's CA bundle or the system store): requests'
    own bundle and the environment's are never consulted.
    """

    def __init__(self, server_name: str, ssl_context: ssl.SSLContext | None) -> None:
        self._server_name = server_name
        self._ssl_context = ssl_context
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["server_hostname"] = self._server_name
        if self._ssl_context is not None:
            pool_kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        if url.lower().startswith("https"):
            conn.cert_reqs = "CERT_REQUIRED"
            conn.ca_certs = None
            conn.ca_cert_dir = None


@dataclass(frozen=True)
class HttpAnswer:
    """The status line and headers of one response (the body is never read)."""

    url: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def first(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[0] if values else None


def _authority(host: str, port: int, scheme: str) -> str:
    return host if DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"


def _url_host(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ConnectivityError(f"target address {address!r} is not an IP address") from None
    return f"[{ip}]" if ip.version == 6 else str(ip)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    # requests wraps urllib3 errors that wrap the socket or ssl error: walk every link.
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        links = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        links.extend(current.args)
        todo.extend(link for link in links if isinstance(link, BaseException))


def _find(exc: BaseException, kind: type[E]) -> E | None:
    return next((c for c in _causes(exc) if isinstance(c, kind)), None)


def _ssl_text(exc: ssl.SSLError) -> str:
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)


def _translate(
    exc: requests.RequestException, target: Target, where: str, timeout: float
) -> ProbeError:
    """The ProbeError that says why a request got no usable answer."""
    if isinstance(exc, requests.Timeout) or (
        _find(exc, TimeoutError) is not None and _find(exc, ConnectionRefusedError) is None
    ):
        return ProbeTimeout(f"{where} did not answer within {timeout:g} s")
    verification = _find(exc, ssl.SSLCertVerificationError)
    if verification is not None:
        detail = (verification.verify_message or "verification failed").rstrip(".")
        return ConnectivityError(
            f"the certificate of {target.name} could not be verified ({detail}); "
            "the TLS checks (tls.cert-valid) report why"
        )
    tls_error = _find(exc, ssl.SSLError)
    if tls_error is not None:
        hint = ""
        if tls_error.reason in _VERSION_REASONS:
            hint = " (no TLS version in common: see tls.min-version)"
        return ProtocolError(f"TLS handshake with {where} failed: {_ssl_text(tls_error)}{hint}")
    if _find(exc, ConnectionRefusedError) is not None:
        return ConnectivityError(f"connection to {where} refused: nothing listens there")
    if _find(exc, http.client.RemoteDisconnected) is not None:
        return ConnectivityError(f"{where} closed the connection without answering")
    reset = _find(exc, ConnectionResetError) or _find(exc, ConnectionAbortedError)
    if reset is not None:
        return ConnectivityError(
            f"{where} closed the connection without answering ({reset.strerror or reset})"
        )
    bad_http = _find(exc, http.client.HTTPException)
    if bad_http is not None:
        detail = str(bad_http) or type(bad_http).__name__
        return ProtocolError(f"{where} did not answer with valid HTTP: {detail[:200]}")
    # requests' own exceptions are OSErrors too; the system's error is the one with an errno.
    os_error = next(
        (c for c in _causes(exc) if isinstance(c, OSError) and c.errno is not None), None
    )
    if os_error is not None:
        return ConnectivityError(f"cannot reach {where}: {os_error.strerror or os_error}")
    return ConnectivityError(f"cannot reach {where}: {exc}")


def fetch(
    target: Target, ctx: ProbeContext, scheme: str, ssl_context: ssl.SSLContext | None = None
) -> HttpAnswer:
    """GET `scheme://name:port/` from the target's address, without following redirects.

    Host header, SNI and certificate name are the target's name; the body is not read, and
    every connect and read waits at most `ctx.timeout`.
    """
    port = target.port(scheme, DEFAULT_PORTS[scheme])
    host = _url_host(target.address)
    shown = f"{scheme}://{_authority(target.name, port, scheme)}/"
    where = f"{shown} (at {target.address})"
    session = requests.Session()
    session.trust_env = False  # no proxies, .netrc or CA bundle from the environment
    adapter = _PinnedAdapter(target.name, ssl_context)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    with session:
        try:
            response = session.get(
                f"{scheme}://{host}:{port}/",
                headers={
                    "Host": _authority(target.name, port, scheme),
                    "User-Agent": USER_AGENT,
                    "Accept-Encoding": "identity",
                },
                allow_redirects=False,
                stream=True,
                timeout=(ctx.timeout, ctx.timeout),
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise _translate(exc, target, where, ctx.timeout) from exc
        with response:
            return HttpAnswer(
                url=shown,
                status=response.status_code,
                reason=response.reason or "",
                headers=tuple((str(k), str(v)) for k, v in response.raw.headers.items()),
            )


# --- web.https-redirect ------------------------------------------------------------------------


def _same_host(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


@probe("web.https-redirect", params=ProbeParams, role="website")
def https_redirect(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """Plain-HTTP visitors are sent straight to HTTPS on the same host name.

    Requests http://<host>/ (the HTTP port, default 80) and looks at the first answer only;
    redirects are not followed.

    Pass: a 301, 302, 307 or 308 redirect whose Location is an https:// URL on the same host
    name (any port or path); a temporary redirect (302/307) passes with a warning, because
    browsers remember only permanent ones (301/308).
    Fail: the site answers over plain HTTP (e.g. 200), redirects to another http:// URL, to
    another host name, with another status, or without a Location header.
    When nothing listens on the HTTP port the probe reports a connectivity error.

    No parameters. Evidence: `url`, `status`, `location` and the resolved `redirect_to`.
    """
    answer = fetch(target, ctx, "http")
    location = answer.first("Location")
    evidence: dict[str, Any] = {"url": answer.url, "status": answer.status, "location": location}

    def fail(message: str) -> ProbeOutcome:
        return ProbeOutcome(status=FindingStatus.FAIL, message=message, evidence=evidence)

    if answer.status not in REDIRECT_STATUSES:
        if 300 <= answer.status < 400:
            return fail(
                f"{answer.url} answers {answer.status}, not a 301/302/307/308 redirect to HTTPS"
            )
        return fail(
            f"{answer.url} answers {answer.status} {answer.reason} over plain HTTP "
            "instead of redirecting to HTTPS"
        )
    if not location:
        return fail(f"{answer.url} answers {answer.status} without a Location header")
    try:
        redirect_to = urljoin(answer.url, location.strip())
        parts = urlsplit(redirect_to)
    except ValueError:
        return fail(f"{answer.url} redirects to an unreadable Location: {location!r}")
    evidence["redirect_to"] = redirect_to
    if parts.scheme.lower() != "https":
        return fail(f"{answer.url} redirects to {redirect_to}, which is not HTTPS")
    if not _same_host(parts.hostname or "", target.name):
        return fail(
            f"{answer.url} redirects to another host ({parts.hostname or 'none'}) "
            f"instead of https://{target.name}/"
        )
    warning = None
    if answer.status not in PERMANENT_REDIRECTS:
        warning = (
            f"the redirect is temporary ({answer.status}); a permanent one (301 or 308) "
            "is remembered by browsers"
        )
    return ProbeOutcome(
        status=FindingStatus.PASS,
        message=f"{answer.url} redirects ({answer.status}) to {redirect_to}",
        evidence=evidence,
        warning=warning,
    )


# --- web.hsts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HstsPolicy:
    max_age: int
    include_subdomains: bool
    preload: bool


_DIGITS = re.compile(r"[0-9]+")


def parse_hsts(value: str) -> HstsPolicy:
    """Parse a Strict-Transport-Security value as RFC 6797 section 6.1 defines it.

    Raises ValueError with the reason when a browser would ignore the header.
    """
    directives: dict[str, str | None] = {}
    for part in value.split(";"):
        name, sep, raw = part.strip().partition("=")
        name = name.strip().lower()
        if not name:
            continue
        if name in directives:
            raise ValueError(f"directive {name!r} appears more than once")
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        directives[name] = raw if sep else None
    if "max-age" not in directives:
        raise ValueError("it has no max-age directive")
    max_age = directives["max-age"]
    if max_age is None or not _DIGITS.fullmatch(max_age):
        raise ValueError(f"max-age {max_age!r} is not a number of seconds")
    return HstsPolicy(
        max_age=int(max_age),
        include_subdomains="includesubdomains" in directives,
        preload="preload" in directives,
    )


class HstsParams(ProbeParams):
    min_max_age_days: int = Field(
        default=180, ge=0, description="The shortest acceptable HSTS max-age, in days."
    )


def _days(seconds: int) -> str:
    days = seconds / SECONDS_PER_DAY
    return f"{days:.0f} days" if days >= 1 else f"{seconds} seconds"


@probe("web.hsts", params=HstsParams, role="website")
def hsts(target: Target, params: HstsParams, ctx: ProbeContext) -> ProbeOutcome:
    """The website tells browsers to use only HTTPS from now on (HTTP Strict Transport Security).

    Requests https://<host>/ (the HTTPS port, default 443) without following redirects and
    reads the Strict-Transport-Security header of that answer; when a server sends several,
    browsers use the first one only, and so does this check.

    Pass: the header is present, valid, and its max-age is at least `min_max_age_days`.
    Fail: the header is missing, cannot be parsed (no or a non-numeric max-age, a repeated
    directive), has max-age=0 (which tells browsers to forget the policy), or is shorter than
    required; the message quotes the value found.
    Browsers ignore HSTS from a site whose certificate they cannot verify, so the certificate
    is verified (with the scan's CA bundle or the system trust store); when that fails the
    probe reports a connectivity error and tls.cert-valid explains the certificate problem.

    Parameters: `min_max_age_days` (default 180, at least 0).
    Evidence: `url`, `status`, `hsts` (the raw header), `max_age`, `include_subdomains`,
    `preload`, and `hsts_all` when there are several headers.
    """
    answer = fetch(target, ctx, "https", trusting_context(ctx.ca_bundle))
    headers = answer.get_all("Strict-Transport-Security")
    evidence: dict[str, Any] = {
        "url": answer.url,
        "status": answer.status,
        "hsts": headers[0] if headers else None,
        "min_max_age_days": params.min_max_age_days,
    }
    if len(headers) > 1:
        evidence["hsts_all"] = headers

    def fail(message: str) -> ProbeOutcome:
        return ProbeOutcome(status=FindingStatus.FAIL, message=message, evidence=evidence)

    if not headers:
        return fail(f"{answer.url} sends no Strict-Transport-Security header")
    try:
        policy = parse_hsts(headers[0])
    except ValueError as exc:
        return fail(f"the Strict-Transport-Security header {headers[0]!r} is not valid: {exc}")
    evidence.update(
        max_age=policy.max_age,
        include_subdomains=policy.include_subdomains,
        preload=policy.preload,
    )
    required = params.min_max_age_days * SECONDS_PER_DAY
    if policy.max_age == 0:
        return fail(f"{answer.url} sends HSTS max-age=0, which tells browsers to forget the policy")
    if policy.max_age < required:
        return fail(
            f"{answer.url} sends HSTS max-age={policy.max_age} ({_days(policy.max_age)}), "
            f"shorter than the required {params.min_max_age_days} days"
        )
    return ProbeOutcome(
        status=FindingStatus.PASS,
        message=f"{answer.url} sends HSTS max-age={policy.max_age} ({_days(policy.max_age)})",
        evidence=evidence,
    )

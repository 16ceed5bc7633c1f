"""A small, read-only Microsoft Graph client: sign-in through msal, paging and retries.

Signs in as an app registration (client credentials: a certificate or a client secret, see
`signin`), then only sends GET requests. Every request, msal's included, has a timeout; 429,
502, 503 and 504 answers are retried after their Retry-After (seconds) and dropped connections
are retried, each a bounded number of times and within a bounded total wait. Paging follows
`@odata.nextLink` only to the Graph host itself, so the access token is never sent anywhere
else. Neither the secret, the certificate's key or passphrase, the signed assertion nor the
access token ever appears in a message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from cyberstd.collect.keys import exposed
from cyberstd.collect.patience import Patience
from cyberstd.collect.signin import (
    ENV_CERTIFICATE,
    ENV_CLIENT,
    ENV_GRAPH,
    ENV_PASSPHRASE,
    ENV_SECRET,
    ENV_TENANT,
    Certificate,
    MsalHttp,
    SignInFailed,
    application,
    first_line,
    fix,
    json_object,
    load_certificate,
)
from cyberstd.collect.transport import connection_reason, is_loopback, retry_after
from cyberstd.errors import CyberstdError, ExitCode, UsageError
from cyberstd.messages import Msg, msg

__all__ = [
    "ENV_CERTIFICATE",
    "ENV_CLIENT",
    "ENV_GRAPH",
    "ENV_LOGIN",
    "ENV_PASSPHRASE",
    "ENV_SECRET",
    "ENV_TENANT",
    "GraphAccessError",
    "GraphAnswerError",
    "GraphClient",
    "GraphError",
    "GraphSettings",
    "Limits",
    "retry_after",
    "settings_from_env",
]

ENV_LOGIN = "CYBERSTD_M365_LOGIN_URL"
DEFAULT_LOGIN = "https://login.microsoftonline.com"
DEFAULT_GRAPH = "https://graph.microsoft.com/v1.0"
DOCS = "docs/collect-m365.md"
REDACTED = "[redacted]"

RETRY_STATUSES = frozenset({429, 502, 503, 504})
_TENANT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$")
_TRANSIENT = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class GraphError(CyberstdError):
    """The tenant could not be read: network trouble, throttling beyond the limits, a bad answer."""

    exit_code = ExitCode.INCOMPLETE


class GraphAnswerError(GraphError):
    """Graph answered a read with an error that is no refusal (HTTP 400, 404, 500 ...)."""

    def __init__(self, message: Msg, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class GraphAccessError(CyberstdError):
    """Microsoft refused the app registration: wrong credentials or a missing permission."""

    exit_code = ExitCode.INVALID

    def __init__(self, message: Msg, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class GraphSettings:
    """Who signs in where: the tenant, the app registration, its credential, the endpoints."""

    tenant_id: str
    client_id: str
    credential: Certificate | str = field(repr=False)
    login_url: str = DEFAULT_LOGIN
    graph_url: str = DEFAULT_GRAPH
    hidden: tuple[str, ...] = field(default=(), repr=False)  # more values never to show

    @property
    def authority(self) -> str:
        return f"{self.login_url}/{self.tenant_id}"

    @property
    def token_url(self) -> str:
        return f"{self.authority}/oauth2/v2.0/token"

    @property
    def scope(self) -> str:
        """The client-credentials scope: the Graph host's `/.default` (the version is no part)."""
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}/.default"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values no message may hold."""
        own = (self.credential,) if isinstance(self.credential, str) else ()
        return tuple(s for s in (*own, *self.hidden) if s)


@dataclass(frozen=True)
class Limits:
    """How long to wait and how often to try again before giving up on the tenant."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 5  # per request, for 429/502/503/504
    max_connection_retries: int = 3  # per request, for dropped or refused connections
    max_total_wait: float = 300.0  # seconds of waiting (Retry-After, back-off) per run
    max_pages: int = 5000
    max_body_bytes: int = 64 * 1024 * 1024


def _endpoint(name: str, value: str, https_only: bool = False) -> str:
    """A base URL from the environment: https (plain http only to this machine), no query."""
    parts = urlsplit(value.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(msg("m365.env.not_url", name=name, value=value))
    if parts.scheme == "http" and https_only:
        raise UsageError(msg("m365.env.login_https", name=name, value=value))
    if parts.scheme == "http" and not is_loopback(host):
        raise UsageError(msg("m365.env.http_remote", name=name, value=value))
    if parts.username is not None or parts.query or parts.fragment:
        raise UsageError(msg("m365.env.url_extra", name=name, value=value))
    return value.strip().rstrip("/")


def settings_from_env(env: Mapping[str, str]) -> GraphSettings:
    """The settings from CYBERSTD_M365_* variables; a UsageError names every missing one.

    A certificate (CYBERSTD_M365_CERTIFICATE, a file) is used when given, else the client
    secret; the certificate file is read and checked here, before anything is sent."""
    missing = [name for name in (ENV_TENANT, ENV_CLIENT) if not env.get(name, "").strip()]
    certificate_path = env.get(ENV_CERTIFICATE, "").strip()
    secret = env.get(ENV_SECRET, "").strip()
    if not certificate_path and not secret:
        missing.append(f"{ENV_CERTIFICATE} / {ENV_SECRET}")
    if missing:
        raise UsageError(msg("m365.env.missing", names=", ".join(missing), docs=DOCS))
    tenant = env[ENV_TENANT].strip()
    if not _TENANT.match(tenant):
        raise UsageError(msg("m365.env.tenant", name=ENV_TENANT, value=tenant))
    login_url = _endpoint(ENV_LOGIN, env.get(ENV_LOGIN) or DEFAULT_LOGIN, https_only=True)
    graph_url = _endpoint(ENV_GRAPH, env.get(ENV_GRAPH) or DEFAULT_GRAPH)
    passphrase = env.get(ENV_PASSPHRASE, "")
    credential: Certificate | str = (
        load_certificate(certificate_path, passphrase or None) if certificate_path else secret
    )
    hidden = tuple(v for v in (passphrase, secret) if v)
    return GraphSettings(tenant, env[ENV_CLIENT].strip(), credential, login_url, graph_url, hidden)


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


def _quiet(message: Msg) -> None:
    """Progress that goes nowhere."""


class GraphClient:
    """Signs in once (again when the token nears its end) and reads Graph, politely."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[Msg], None] = _quiet,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.limits = limits or Limits()
        self._own_session = session is None
        self._session = session or requests.Session()
        self._progress = progress
        self.patience = Patience(self.limits.max_total_wait, sleep, progress)
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._hidden: set[str] = set(settings.secrets)
        self._http = MsalHttp(self._exchange, self._hide)
        self._app: Any = None

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session when this client opened it."""
        if self._own_session:
            self._session.close()

    # --- paths and messages -------------------------------------------------------------------

    def url(self, path: str) -> str:
        """The full URL of a path under the Graph root (`/users` -> `.../v1.0/users`)."""
        return self.settings.graph_url + path

    def request_path(self, url_or_path: str) -> str:
        """What a request asked for without host or credentials: `/v1.0/users?$select=...`."""
        url = url_or_path if "://" in url_or_path else self.url(url_or_path)
        parts = urlsplit(url)
        shown = unquote(parts.path) + (f"?{unquote(parts.query)}" if parts.query else "")
        return self.scrub(shown)

    def _hide(self, value: str) -> None:
        """Keep a credential (and each long part of a signed assertion) out of every message."""
        if value:
            self._hidden.add(value)
            self._hidden.update(part for part in value.split(".") if len(part) >= 16)

    def scrub(self, text: str) -> str:
        """The text without a secret, a signed assertion or the access token in it."""
        hidden = {*self._hidden, *([self._token] if self._token else [])}
        for secret in sorted(hidden, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def _same_host(self, link: str) -> bool:
        """Whether a next-page link points at the Graph host itself (scheme, host and port)."""
        try:
            root, other = urlsplit(self.settings.graph_url), urlsplit(link)
            ports = {"https": 443, "http": 80}
            return (
                other.scheme == root.scheme
                and other.hostname is not None
                and other.hostname == root.hostname
                and (other.port or ports[other.scheme]) == (root.port or ports[root.scheme])
                and other.username is None
            )
        except (ValueError, KeyError):
            return False

    # --- sending ------------------------------------------------------------------------------

    def _request(
        self, method: str, url: str, data: Mapping[str, str] | None, headers: Mapping[str, str]
    ) -> _Reply:
        """One HTTP exchange, its body read in full (up to the size limit)."""
        with self._session.request(
            method,
            url,
            data=data,
            headers=dict(headers),
            timeout=(self.limits.connect_timeout, self.limits.read_timeout),
            allow_redirects=False,
            stream=True,
        ) as response:
            body = bytearray()
            for chunk in response.iter_content(1 << 16):
                body += chunk
                if len(body) > self.limits.max_body_bytes:
                    raise GraphError(
                        msg(
                            "m365.send.too_large",
                            what=f"{method} {self.request_path(url)}",
                            n=self.limits.max_body_bytes,
                        )
                    )
            return _Reply(response.status_code, dict(response.headers), bytes(body))

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: Mapping[str, str] | None = None,
    ) -> _Reply:
        """Send with retries: dropped connections, and 429/502/503/504 after Retry-After."""
        what = f"{method} {self.request_path(url)}"
        busy = failures = 0
        while True:
            try:
                reply = self._request(method, url, data, headers)
            except requests.exceptions.SSLError as exc:
                raise GraphError(
                    msg("m365.send.tls", what=what, reason=connection_reason(exc))
                ) from None
            except _TRANSIENT as exc:
                failures += 1
                if failures > self.limits.max_connection_retries:
                    raise GraphError(
                        msg(
                            "m365.send.unreachable",
                            what=what,
                            host=urlsplit(url).hostname or "?",
                            reason=connection_reason(exc),
                            n=failures,
                        )
                    ) from None
                why = msg(
                    "m365.send.retry_connection",
                    reason=connection_reason(exc),
                    n=failures,
                    limit=self.limits.max_connection_retries,
                )
                self.patience.pause(min(2.0 ** (failures - 1), 30.0), why, what, GraphError)
                continue
            except requests.exceptions.RequestException as exc:
                raise GraphError(
                    msg("m365.send.failed", what=what, reason=connection_reason(exc))
                ) from None
            if reply.status not in RETRY_STATUSES:
                return reply
            busy += 1
            label = msg("m365.send.throttled" if reply.status == 429 else "m365.send.unavailable")
            if busy > self.limits.max_retries:
                raise GraphError(
                    msg(
                        "m365.send.still_busy",
                        what=what,
                        status=reply.status,
                        label=label,
                        n=self.limits.max_retries,
                    )
                )
            delay = retry_after(reply.headers.get("Retry-After"))
            delay = min(2.0**busy, 60.0) if delay is None else delay
            why = msg(
                "m365.send.retry_busy",
                status=reply.status,
                label=label,
                n=busy,
                limit=self.limits.max_retries,
            )
            self.patience.pause(delay, why, what, GraphError)

    def _exchange(
        self, method: str, url: str, headers: Mapping[str, str], data: Mapping[str, str] | None
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One of msal's requests, sent like every other (retries, limits, no redirects)."""
        reply = self._send(method, url, headers, data)
        return reply.status, reply.headers, reply.body

    # --- signing in ---------------------------------------------------------------------------

    def _refused(self, answer: Mapping[str, Any], status: int | None) -> GraphAccessError:
        s = self.settings
        error = first_line(self.scrub(str(answer.get("error", ""))), 100)
        description = first_line(self.scrub(str(answer.get("error_description", ""))))
        return GraphAccessError(
            msg(
                "m365.signin.refused",
                tenant=s.tenant_id,
                detail=": ".join(p for p in (error, description) if p),
                fix=fix(answer, s.credential),
            ),
            status,
            error or None,
        )

    def _application(self) -> Any:
        """msal's application, made once: it reads the tenant's OpenID configuration."""
        s = self.settings
        if isinstance(s.credential, Certificate):
            warning = exposed(s.credential.path, ENV_CERTIFICATE)
            if warning is not None:
                self._progress(warning)
            how = msg(
                "m365.signin.certificate",
                path=str(s.credential.path),
                thumbprint=s.credential.thumbprint,
            )
        else:
            how = msg("m365.signin.secret")
        self._progress(msg("m365.signin.start", tenant=s.tenant_id, client=s.client_id, how=how))
        try:
            return application(s.authority, s.client_id, s.credential, self._http)
        except (ValueError, SignInFailed):
            last = self._http.last
            answer = json_object(last.text) if last is not None else None
            if last is not None and answer is not None and 400 <= last.status_code < 500:
                raise self._refused(answer, last.status_code) from None
            status = last.status_code if last is not None else 0
            raise GraphError(
                msg("m365.signin.discovery", tenant=s.tenant_id, status=status)
            ) from None

    def sign_in(self) -> None:
        """Get an access token with the client-credentials grant (msal's, or from its cache)."""
        if self._app is None:
            self._app = self._application()
        try:
            answer = self._app.acquire_token_for_client(scopes=[self.settings.scope])
        except SignInFailed as exc:
            answer = json_object(exc.answer.text) or {}
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if isinstance(token, str) and token:
            self._token = token
            try:
                lifetime = float(answer.get("expires_in", 3600))
            except (TypeError, ValueError):
                lifetime = 3600.0
            self._expires = self._clock() + max(lifetime, 60.0)
            return
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            last = self._http.last
            raise self._refused(answer, last.status_code if last is not None else None)
        raise GraphError(msg("m365.signin.no_token", tenant=self.settings.tenant_id))

    def _auth_headers(self) -> dict[str, str]:
        if self._token is None or self._clock() > self._expires - 300:
            self.sign_in()
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    # --- reading ------------------------------------------------------------------------------

    def _get_json(
        self, url: str, permissions: Sequence[str], missing_ok: bool = False
    ) -> dict[str, Any] | None:
        """GET one URL and return its JSON object; refusals name the permissions needed.
        With `missing_ok`, a 404 answer is None."""
        reply = self._send("GET", url, self._auth_headers())
        what = f"GET {self.request_path(url)}"
        answer = json_object(reply.body)
        if reply.status == 200:
            if answer is None:
                raise GraphError(msg("m365.read.not_json", what=what))
            return answer
        if reply.status == 404 and missing_ok:
            return None
        error = (answer or {}).get("error")
        code = message = ""
        if isinstance(error, dict):
            code = first_line(self.scrub(str(error.get("code", ""))), 100)
            message = first_line(self.scrub(str(error.get("message", ""))))
        detail = ": ".join(p for p in (code, message) if p)
        detail = f" ({detail})" if detail else ""
        if reply.status in (401, 403):
            raise GraphAccessError(
                msg(
                    "m365.read.refused",
                    what=what,
                    status=reply.status,
                    detail=detail,
                    permissions=" + ".join(permissions),
                    docs=DOCS,
                ),
                reply.status,
                code or None,
            )
        raise GraphAnswerError(
            msg("m365.read.failed", what=what, status=reply.status, detail=detail),
            reply.status,
            detail,
        )

    def get(self, path: str, permissions: Sequence[str]) -> dict[str, Any]:
        """One object, as Graph returns it (`/policies/identitySecurityDefaultsEnforcementPolicy`)."""
        answer = self._get_json(self.url(path), permissions)
        if answer is None:  # only when a 404 is allowed, which it is not here
            raise GraphError(msg("m365.read.not_json", what=f"GET {self.request_path(path)}"))
        return answer

    def get_optional(self, path: str, permissions: Sequence[str]) -> dict[str, Any] | None:
        """One object, or None when Graph answers 404 (it has none)."""
        return self._get_json(self.url(path), permissions, missing_ok=True)

    def get_all(self, path: str, permissions: Sequence[str]) -> dict[str, Any]:
        """A collection with every page merged into "value" (the first page's other keys kept)."""
        url = self.url(path)
        first = self.get(path, permissions)
        items = self._items(first, url)
        seen = {url}
        link = first.get("@odata.nextLink")
        while link is not None:
            if not isinstance(link, str) or not self._same_host(link):
                host = urlsplit(link).netloc.rpartition("@")[2] if isinstance(link, str) else "?"
                raise GraphError(
                    msg(
                        "m365.read.foreign_link",
                        what=f"GET {self.request_path(url)}",
                        host=repr(host),
                        graph=repr(urlsplit(self.settings.graph_url).netloc),
                    )
                )
            if link in seen or len(seen) >= self.limits.max_pages:
                raise GraphError(
                    msg(
                        "m365.read.endless",
                        what=f"GET {self.request_path(url)}",
                        page=len(seen) + 1,
                    )
                )
            seen.add(link)
            page = self._get_json(link, permissions)
            if page is None:
                raise GraphError(msg("m365.read.not_json", what=f"GET {self.request_path(link)}"))
            items.extend(self._items(page, link))
            self._progress(msg("m365.read.page", page=len(seen), n=len(items)))
            link = page.get("@odata.nextLink")
        merged = {k: v for k, v in first.items() if k != "@odata.nextLink"}
        merged["value"] = items
        return merged

    def _items(self, page: Mapping[str, Any], url: str) -> list[Any]:
        value = page.get("value")
        if not isinstance(value, list):
            raise GraphError(msg("m365.read.no_value", what=f"GET {self.request_path(url)}"))
        return list(value)

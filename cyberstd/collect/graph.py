"""A small, read-only Microsoft Graph client: client-credentials sign-in, paging and retries.

Signs in with OAuth2 client credentials (an app registration's id and secret), then only
sends GET requests. Every request has a timeout; 429, 502, 503 and 504 answers are retried
after their Retry-After (seconds) and dropped connections are retried, each a bounded number
of times and within a bounded total wait. Paging follows `@odata.nextLink` only to the Graph
host itself, so the access token is never sent anywhere else. Neither the client secret nor
the access token ever appears in a message.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from cyberstd.errors import CyberstdError, ExitCode, UsageError

ENV_TENANT = "CYBERSTD_M365_TENANT_ID"
ENV_CLIENT = "CYBERSTD_M365_CLIENT_ID"
ENV_SECRET = "CYBERSTD_M365_CLIENT_SECRET"
ENV_LOGIN = "CYBERSTD_M365_LOGIN_URL"
ENV_GRAPH = "CYBERSTD_M365_GRAPH_URL"
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
_SIGN_IN_HINTS = {
    "invalid_client": f"check {ENV_CLIENT} and {ENV_SECRET} (give the secret's value, not its "
    "ID; client secrets expire)",
    "unauthorized_client": f"check {ENV_CLIENT}: no such app registration in this tenant",
    "invalid_request": f"check {ENV_TENANT} and {ENV_CLIENT}",
    "invalid_scope": f"check {ENV_GRAPH}",
}


class GraphError(CyberstdError):
    """The tenant could not be read: network trouble, throttling beyond the limits, a bad answer."""

    exit_code = ExitCode.INCOMPLETE


class GraphAccessError(CyberstdError):
    """Microsoft refused the app registration: wrong credentials or a missing permission."""

    exit_code = ExitCode.INVALID

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class GraphSettings:
    """Who signs in where: the tenant, the app registration and the two endpoints."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    login_url: str = DEFAULT_LOGIN
    graph_url: str = DEFAULT_GRAPH

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def scope(self) -> str:
        """The client-credentials scope: the Graph host's `/.default` (the version is no part)."""
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}/.default"


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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint(name: str, value: str) -> str:
    """A base URL from the environment: https (plain http only to this machine), no query."""
    parts = urlsplit(value.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(f"{name}={value!r} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(host):
        raise UsageError(f"{name}={value!r}: plain http is only allowed to this machine; use https")
    if parts.username is not None or parts.query or parts.fragment:
        raise UsageError(f"{name}={value!r}: give a URL without user name, query or fragment")
    return value.strip().rstrip("/")


def settings_from_env(env: Mapping[str, str]) -> GraphSettings:
    """The settings from CYBERSTD_M365_* variables; a UsageError names every missing one."""
    needed = (ENV_TENANT, ENV_CLIENT, ENV_SECRET)
    missing = [name for name in needed if not env.get(name, "").strip()]
    if missing:
        raise UsageError(
            f"missing environment variable(s): {', '.join(missing)}; set the tenant id, the app "
            f"registration's client id and a client secret (see {DOCS})"
        )
    tenant = env[ENV_TENANT].strip()
    if not _TENANT.match(tenant):
        raise UsageError(
            f"{ENV_TENANT}={tenant!r} is not a tenant id (a GUID or a domain such as "
            "school.onmicrosoft.com)"
        )
    return GraphSettings(
        tenant_id=tenant,
        client_id=env[ENV_CLIENT].strip(),
        client_secret=env[ENV_SECRET].strip(),
        login_url=_endpoint(ENV_LOGIN, env.get(ENV_LOGIN) or DEFAULT_LOGIN),
        graph_url=_endpoint(ENV_GRAPH, env.get(ENV_GRAPH) or DEFAULT_GRAPH),
    )


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds; None when absent or unusable."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _reason(exc: Exception) -> str:
    """A short, secret-free reason for a failed connection."""
    text = str(exc)
    for needle, short in (
        ("Connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("Failed to resolve", "host name not found"),
        ("Name or service not known", "host name not found"),
        ("RemoteDisconnected", "the server closed the connection"),
        ("Connection aborted", "the server closed the connection"),
        ("Connection reset", "connection reset"),
        ("CERTIFICATE_VERIFY_FAILED", "certificate not trusted"),
    ):
        if needle in text:
            return short
    return type(exc).__name__


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _first_line(text: object, limit: int = 300) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= limit else line[:limit] + "..."


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


def _quiet(message: str) -> None:
    """Progress that goes nowhere."""


class GraphClient:
    """Signs in once (again when the token nears its end) and reads Graph, politely."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[str], None] = _quiet,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.limits = limits or Limits()
        self.waited = 0.0
        self._own_session = session is None
        self._session = session or requests.Session()
        self._sleep = sleep
        self._progress = progress
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0

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

    def scrub(self, text: str) -> str:
        """The text without the client secret or the access token in it."""
        for secret in (self.settings.client_secret, self._token):
            if secret:
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
                        f"{method} {self.request_path(url)}: answer larger than "
                        f"{self.limits.max_body_bytes} bytes; refused"
                    )
            return _Reply(response.status_code, dict(response.headers), bytes(body))

    def _pause(self, delay: float, why: str, what: str) -> None:
        """Wait before trying again, unless that would pass the run's total waiting limit."""
        if self.waited + delay > self.limits.max_total_wait:
            raise GraphError(
                f"{what}: {why}; waiting {delay:g} s more would pass the {self.limits.max_total_wait:g} s "
                f"this run may wait (already waited {self.waited:g} s); try again later"
            )
        self._progress(f"{what}: {why}; waiting {delay:g} s")
        self._sleep(delay)
        self.waited += delay

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
                raise GraphError(f"{what}: TLS failed ({_reason(exc)})") from None
            except _TRANSIENT as exc:
                failures += 1
                if failures > self.limits.max_connection_retries:
                    raise GraphError(
                        f"{what}: could not reach {urlsplit(url).hostname} ({_reason(exc)}, "
                        f"{failures} attempts)"
                    ) from None
                retry = f"retry {failures} of {self.limits.max_connection_retries}"
                self._pause(min(2.0 ** (failures - 1), 30.0), f"{_reason(exc)} ({retry})", what)
                continue
            except requests.exceptions.RequestException as exc:
                raise GraphError(f"{what}: {_reason(exc)}") from None
            if reply.status not in RETRY_STATUSES:
                return reply
            busy += 1
            label = "throttled" if reply.status == 429 else "service unavailable"
            if busy > self.limits.max_retries:
                raise GraphError(
                    f"{what}: still HTTP {reply.status} ({label}) after "
                    f"{self.limits.max_retries} retries; try again later"
                )
            delay = retry_after(reply.headers.get("Retry-After"))
            delay = min(2.0**busy, 60.0) if delay is None else delay
            why = f"HTTP {reply.status} ({label}), retry {busy} of {self.limits.max_retries}"
            self._pause(delay, why, what)

    # --- signing in ---------------------------------------------------------------------------

    def sign_in(self) -> None:
        """Get an access token with the client-credentials grant."""
        s = self.settings
        self._progress(f"signing in to tenant {s.tenant_id} as app {s.client_id}")
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": s.client_secret,
            "scope": s.scope,
        }
        reply = self._send("POST", s.token_url, {"Accept": "application/json"}, form)
        answer = _json_object(reply.body) or {}
        token = answer.get("access_token")
        if reply.status == 200 and isinstance(token, str) and token:
            self._token = token
            try:
                lifetime = float(answer.get("expires_in", 3600))
            except (TypeError, ValueError):
                lifetime = 3600.0
            self._expires = self._clock() + max(lifetime, 60.0)
            return
        error = answer.get("error")
        if reply.status in (400, 401) and isinstance(error, str):
            description = _first_line(answer.get("error_description", ""))
            hint = _SIGN_IN_HINTS.get(
                error, f"check the {ENV_TENANT}, {ENV_CLIENT} and {ENV_SECRET}"
            )
            raise GraphAccessError(
                self.scrub(
                    f"sign-in to tenant {s.tenant_id} refused: {error}: {description}; {hint}"
                ),
                reply.status,
                error,
            )
        raise GraphError(
            f"sign-in to tenant {s.tenant_id}: the sign-in endpoint answered HTTP {reply.status} "
            "without an access token"
        )

    def _auth_headers(self) -> dict[str, str]:
        if self._token is None or self._clock() > self._expires - 300:
            self.sign_in()
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    # --- reading ------------------------------------------------------------------------------

    def _get_json(self, url: str, permissions: Sequence[str]) -> dict[str, Any]:
        """GET one URL and return its JSON object; refusals name the permissions needed."""
        reply = self._send("GET", url, self._auth_headers())
        what = f"GET {self.request_path(url)}"
        answer = _json_object(reply.body)
        if reply.status == 200:
            if answer is None:
                raise GraphError(f"{what}: the answer is not a JSON object")
            return answer
        error = (answer or {}).get("error")
        code = message = ""
        if isinstance(error, dict):
            code = _first_line(error.get("code", ""), 100)
            message = _first_line(error.get("message", ""))
        detail = self.scrub(": ".join(p for p in (code, message) if p))
        detail = f" ({detail})" if detail else ""
        if reply.status in (401, 403):
            raise GraphAccessError(
                f"Graph refused {what}: HTTP {reply.status}{detail}; the app registration needs "
                f"the application permission {' and '.join(permissions)}, with admin consent "
                f"(see {DOCS})",
                reply.status,
                code or None,
            )
        raise GraphError(f"{what}: HTTP {reply.status}{detail}")

    def get(self, path: str, permissions: Sequence[str]) -> dict[str, Any]:
        """One object, as Graph returns it (`/policies/identitySecurityDefaultsEnforcementPolicy`)."""
        return self._get_json(self.url(path), permissions)

    def get_all(self, path: str, permissions: Sequence[str]) -> dict[str, Any]:
        """A collection with every page merged into "value" (the first page's other keys kept)."""
        url = self.url(path)
        first = self._get_json(url, permissions)
        items = self._items(first, url)
        seen = {url}
        link = first.get("@odata.nextLink")
        while link is not None:
            if not isinstance(link, str) or not self._same_host(link):
                host = urlsplit(link).netloc.rpartition("@")[2] if isinstance(link, str) else "?"
                raise GraphError(
                    f"GET {self.request_path(url)}: the next page points at another host "
                    f"({host!r}, not {urlsplit(self.settings.graph_url).netloc!r}); refused"
                )
            if link in seen or len(seen) >= self.limits.max_pages:
                raise GraphError(
                    f"GET {self.request_path(url)}: paging does not end (page {len(seen) + 1}); refused"
                )
            seen.add(link)
            page = self._get_json(link, permissions)
            items.extend(self._items(page, link))
            self._progress(f"  page {len(seen)}: {len(items)} items so far")
            link = page.get("@odata.nextLink")
        merged = {k: v for k, v in first.items() if k != "@odata.nextLink"}
        merged["value"] = items
        return merged

    def _items(self, page: Mapping[str, Any], url: str) -> list[Any]:
        value = page.get("value")
        if not isinstance(value, list):
            raise GraphError(f"GET {self.request_path(url)}: the answer has no 'value' list")
        return list(value)

"""A small, read-only client of Google's Admin SDK Directory API for `cyberstd collect google`.

Signs in as a service account with domain-wide delegation (google-auth: a JWT signed with the
account's key, exchanged at the key file's `token_uri` for a token on behalf of an
administrator), asking only the read-only scope it needs, and reads through
google-api-python-client with the discovery document it ships (no discovery request). Every
request has a timeout; 429 and 5xx answers are retried after their Retry-After and dropped
connections are retried, each a bounded number of times and within a bounded total wait. The
key file is read, never written or shown: messages name its path, never its content.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cyberstd.collect.keys import exposed
from cyberstd.collect.patience import Patience
from cyberstd.collect.transport import connection_reason, is_loopback, retry_after
from cyberstd.errors import CyberstdError, ExitCode, UsageError
from cyberstd.messages import Msg, msg

ENV_KEY = "CYBERSTD_GOOGLE_KEY_FILE"
ENV_ADMIN = "CYBERSTD_GOOGLE_ADMIN"
ENV_CUSTOMER = "CYBERSTD_GOOGLE_CUSTOMER"
ENV_API = "CYBERSTD_GOOGLE_API_URL"
DEFAULT_API = "https://admin.googleapis.com/"
DEFAULT_CUSTOMER = "my_customer"
DOCS = "docs/collect-google.md"
# Users with their 2SV state, admin flags and logins; read-only, nothing else.
SCOPE_USERS = "https://www.googleapis.com/auth/admin.directory.user.readonly"
MAX_KEY_BYTES = 64 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_ADMIN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KEY_FIELDS = ("client_email", "private_key", "token_uri")
# Token answers that mean the delegation (client ID and scopes in the Admin console) is missing.
_DELEGATION = frozenset({"unauthorized_client", "access_denied", "invalid_scope"})

Progress = Callable[[Msg], None]


class GoogleError(CyberstdError):
    """The domain could not be read: network trouble, throttling beyond the limits, a bad answer."""

    exit_code = ExitCode.INCOMPLETE


class GoogleAccessError(CyberstdError):
    """Google refused: an unusable key, a delegation not granted, an administrator who may not read."""

    exit_code = ExitCode.INVALID


@dataclass(frozen=True)
class GoogleSettings:
    """Which key signs in, on behalf of whom, for which customer, and where the API is."""

    key_file: Path
    admin: str
    customer: str = DEFAULT_CUSTOMER
    api_url: str = DEFAULT_API


@dataclass(frozen=True)
class Limits:
    """How long to wait and how often to try again before giving up on the domain."""

    timeout: float = 60.0
    max_retries: int = 5  # per request, for 429 and 5xx
    max_connection_retries: int = 3  # per request, for dropped or refused connections
    max_total_wait: float = 300.0  # seconds of waiting (Retry-After, back-off) per run
    max_pages: int = 5000


def safe_url(value: str) -> bool:
    """https, or plain http to this machine; no user name, query or fragment."""
    parts = urlsplit(value.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        return False
    if parts.scheme == "http" and not is_loopback(host):
        return False
    return parts.username is None and not parts.query and not parts.fragment


def settings_from_env(env: Mapping[str, str]) -> GoogleSettings:
    """The settings from CYBERSTD_GOOGLE_* variables; a UsageError names every missing one."""
    missing = [n for n in (ENV_KEY, ENV_ADMIN) if not env.get(n, "").strip()]
    if missing:
        raise UsageError(msg("collect.google.missing_env", names=", ".join(missing), docs=DOCS))
    admin = env[ENV_ADMIN].strip()
    if not _ADMIN.match(admin):
        raise UsageError(msg("collect.google.bad_admin", name=ENV_ADMIN, value=admin))
    api = (env.get(ENV_API) or DEFAULT_API).strip()
    if not safe_url(api):
        raise UsageError(msg("collect.google.bad_url", name=ENV_API, value=api))
    return GoogleSettings(
        key_file=Path(env[ENV_KEY].strip()).expanduser(),
        admin=admin,
        customer=(env.get(ENV_CUSTOMER) or DEFAULT_CUSTOMER).strip(),
        api_url=api.rstrip("/") + "/",
    )


def _refused_key(path: Path, reason: Msg) -> GoogleAccessError:
    return GoogleAccessError(msg("collect.google.key_invalid", path=path, reason=reason, docs=DOCS))


def read_key(path: Path) -> dict[str, Any]:
    """The service account key's fields, checked; its content never appears in a message."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_KEY_BYTES + 1)
    except OSError:
        raise GoogleAccessError(
            msg("collect.google.key_missing", path=path, name=ENV_KEY)
        ) from None
    if len(raw) > MAX_KEY_BYTES:
        raise _refused_key(path, msg("collect.google.key_reason.large"))
    try:
        info = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        info = None
    if not isinstance(info, dict):
        raise _refused_key(path, msg("collect.google.key_reason.json"))
    if info.get("type") != "service_account":
        raise _refused_key(path, msg("collect.google.key_reason.type"))
    for name in _KEY_FIELDS:
        if not isinstance(info.get(name), str) or not info[name].strip():
            raise _refused_key(path, msg("collect.google.key_reason.field", field=name))
    if not safe_url(info["token_uri"]):
        raise _refused_key(path, msg("collect.google.key_reason.token_uri"))
    return info


def _first_line(text: object, limit: int = 300) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= limit else line[:limit] + "..."


def _api_detail(content: str) -> str:
    """` (reason: message)` from the API's error JSON, or nothing."""
    try:
        error = json.loads(content).get("error")
    except (ValueError, UnicodeDecodeError, AttributeError, RecursionError):
        return ""
    if not isinstance(error, dict):
        return ""
    reasons = [
        str(e.get("reason"))
        for e in error.get("errors") or []
        if isinstance(e, dict) and e.get("reason")
    ]
    parts = [", ".join(reasons) or _first_line(error.get("status", ""), 100)]
    parts.append(_first_line(error.get("message", "")))
    detail = ": ".join(p for p in parts if p)
    return f" ({detail})" if detail else ""


def _quiet(message: Msg) -> None:
    """Progress that goes nowhere."""


REDACTED = "[redacted]"


class _Recording:
    """The HTTP client under google-auth and the API client: it keeps the signed assertion
    google-auth posts and the token it sends, so that no message shows them, and passes
    everything else to the httplib2 client it wraps."""

    def __init__(self, http: Any, remember: Callable[[str], None]) -> None:
        self._http = http
        self._remember = remember

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if isinstance(body, bytes | str):
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            for value in parse_qs(text).get("assertion", []):
                self._remember(value)
        for name, value in (headers or {}).items():
            if name.lower() == "authorization" and isinstance(value, str):
                self._remember(value.partition(" ")[2])
        return self._http.request(uri, method, body, headers, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._http, name)


def client_libraries() -> tuple[Any, Any, Any, Any]:
    """The Google client libraries, loaded only by `collect google`. Their own warning that the
    Python version is past Google's support dates (a FutureWarning, in English, printed at
    import) is not for the school's coordinator and is not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import google_auth_httplib2
        import httplib2
        from google.oauth2 import service_account
        from googleapiclient.discovery import build
    return google_auth_httplib2, httplib2, service_account, build


class DirectoryClient:
    """Signs in (on the first request) and reads the Directory API, politely."""

    def __init__(
        self,
        settings: GoogleSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        progress: Progress = _quiet,
        limits: Limits | None = None,
    ) -> None:
        google_auth_httplib2, httplib2, service_account, build = client_libraries()

        self.settings = settings
        self.limits = limits or Limits()
        self._progress = progress
        self.patience = Patience(self.limits.max_total_wait, sleep, progress)
        info = read_key(settings.key_file)
        self.account = str(info["client_email"])
        try:
            credentials = service_account.Credentials.from_service_account_info(
                info, scopes=[SCOPE_USERS], subject=settings.admin
            )
        except (ValueError, TypeError, KeyError):
            raise _refused_key(
                settings.key_file, msg("collect.google.key_reason.private_key")
            ) from None
        del info
        self._hidden: set[str] = set()
        self._http = httplib2.Http(timeout=self.limits.timeout)
        # A redirect is an answer, never a request to another host.
        self._http.follow_redirects = False
        recording = _Recording(self._http, self._hide)
        authorized = google_auth_httplib2.AuthorizedHttp(credentials, http=recording)
        self._service = build(
            "admin",
            "directory_v1",
            http=authorized,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": settings.api_url},
        )
        warning = exposed(settings.key_file, ENV_KEY)
        if warning is not None:
            self._progress(warning)
        self._progress(
            msg(
                "collect.google.signing_in",
                account=self.account,
                admin=settings.admin,
                scope=SCOPE_USERS,
            )
        )

    def __enter__(self) -> DirectoryClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the API client's connections."""
        self._service.close()

    def _hide(self, value: str) -> None:
        """Keep a credential (and each long part of a signed one) out of every message."""
        if value:
            self._hidden.add(value)
            self._hidden.update(part for part in value.split(".") if len(part) >= 16)

    def scrub(self, text: str) -> str:
        """The text without the signed assertion or the access token in it."""
        for secret in sorted(self._hidden, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    @staticmethod
    def request_path(uri: str) -> str:
        """What a request asked for, without host: `/admin/directory/v1/users?customer=...`."""
        parts = urlsplit(uri)
        return unquote(parts.path) + (f"?{unquote(parts.query)}" if parts.query else "")

    # --- sending ------------------------------------------------------------------------------

    def execute(self, request: Any) -> dict[str, Any]:
        """Send one API request with retries and return its JSON object."""
        import httplib2
        from google.auth import exceptions as auth_errors
        from googleapiclient.errors import HttpError

        what = f"GET {self.request_path(str(request.uri))}"
        busy = failures = 0
        while True:
            try:
                answer = request.execute(num_retries=0)
            except HttpError as exc:
                status = int(exc.resp.status)
                content = (exc.content or b"").decode("utf-8", "replace")
                detail = _api_detail(self.scrub(content))
                if status in (401, 403):
                    raise GoogleAccessError(
                        msg(
                            "collect.google.api_refused",
                            what=what,
                            status=status,
                            detail=detail,
                            admin=self.settings.admin,
                            docs=DOCS,
                        )
                    ) from None
                if status not in RETRY_STATUSES:
                    raise GoogleError(
                        msg("collect.google.http_error", what=what, status=status, detail=detail)
                    ) from None
                busy += 1
                if busy > self.limits.max_retries:
                    raise GoogleError(
                        msg(
                            "collect.google.still_busy",
                            what=what,
                            status=status,
                            limit=self.limits.max_retries,
                        )
                    ) from None
                delay = retry_after(exc.resp.get("retry-after"))
                delay = min(2.0**busy, 60.0) if delay is None else delay
                label = "throttled" if status == 429 else "unavailable"
                why = msg(
                    f"collect.google.{label}",
                    status=status,
                    attempt=busy,
                    limit=self.limits.max_retries,
                )
                self.patience.pause(delay, why, what, GoogleError)
                continue
            except auth_errors.RefreshError as exc:
                raise self._refused_token(exc) from None
            except auth_errors.TransportError as exc:
                raise GoogleError(
                    msg(
                        "collect.google.token_failed",
                        account=self.account,
                        reason=connection_reason(exc),
                    )
                ) from None
            except RecursionError:  # JSON nested deeper than Python reads
                raise GoogleError(msg("collect.google.bad_answer", what=what)) from None
            except (OSError, httplib2.HttpLib2Error) as exc:
                failures += 1
                host = urlsplit(str(request.uri)).hostname
                if failures > self.limits.max_connection_retries:
                    raise GoogleError(
                        msg(
                            "collect.google.unreachable",
                            what=what,
                            host=host,
                            reason=connection_reason(exc),
                            attempts=failures,
                        )
                    ) from None
                why = msg(
                    "collect.google.connection",
                    reason=connection_reason(exc),
                    attempt=failures,
                    limit=self.limits.max_connection_retries,
                )
                self.patience.pause(min(2.0 ** (failures - 1), 30.0), why, what, GoogleError)
                continue
            if not isinstance(answer, dict):
                raise GoogleError(msg("collect.google.bad_answer", what=what))
            return answer

    def _refused_token(self, exc: Exception) -> GoogleAccessError:
        """The token endpoint's refusal, said with its error and what to change."""
        details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
        code = self.scrub(str(details.get("error") or ""))
        text = _first_line(self.scrub(str(details.get("error_description") or "")))
        error = ": ".join(p for p in (code, text) if p) or _first_line(
            self.scrub(str(exc.args[0]) if exc.args else "")
        )
        hint = (
            msg("collect.google.hint.delegation", scope=SCOPE_USERS, docs=DOCS)
            if code in _DELEGATION
            else msg("collect.google.hint.grant", admin_env=ENV_ADMIN)
        )
        return GoogleAccessError(
            msg(
                "collect.google.token_refused",
                account=self.account,
                admin=self.settings.admin,
                error=error,
                hint=hint,
            )
        )

    # --- reading ------------------------------------------------------------------------------

    def users_request(self, fields: str, page_token: str | None = None) -> Any:
        """The users.list request for one page (up to 500 users, by e-mail address)."""
        return self._service.users().list(
            customer=self.settings.customer,
            maxResults=500,
            orderBy="email",
            projection="basic",
            fields=fields,
            pageToken=page_token,
        )

    def all_users(self, fields: str) -> tuple[dict[str, Any], str]:
        """Every user, every page joined into one users.list answer without nextPageToken;
        and the first request, as asked."""
        first = self.users_request(fields)
        asked = self.request_path(str(first.uri))
        what = f"GET {asked}"
        self._progress(msg("collect.google.reading_users", request=asked))
        page = self.execute(first)
        merged = {k: v for k, v in page.items() if k not in ("users", "nextPageToken")}
        if merged.get("kind") != "admin#directory#users":
            raise GoogleError(msg("collect.google.bad_answer", what=what))
        users = self._users(page, what)
        seen: set[str] = set()
        token = page.get("nextPageToken")
        while token:
            if not isinstance(token, str) or token in seen or len(seen) >= self.limits.max_pages:
                raise GoogleError(msg("collect.google.endless", what=what, page=len(seen) + 2))
            seen.add(token)
            page = self.execute(self.users_request(fields, token))
            users.extend(self._users(page, what))
            self._progress(msg("collect.google.page", page=len(seen) + 1, n=len(users)))
            token = page.get("nextPageToken")
        merged["users"] = users
        return merged, asked

    @staticmethod
    def _users(page: Mapping[str, Any], what: str) -> list[Any]:
        users = page.get("users", [])  # a page (or a domain) without users has no key
        if not isinstance(users, list):
            raise GoogleError(msg("collect.google.bad_answer", what=what))
        return list(users)

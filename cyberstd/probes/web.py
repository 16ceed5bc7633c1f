"""Web probes of a school website: HTTPS, HSTS, security headers, versions, privacy, security.txt."""

from __future__ import annotations

import datetime as dt
import http.client
import io
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any, TypeVar, cast
from urllib.parse import quote, unquote, urldefrag, urljoin, urlsplit

import requests
from pydantic import Field, field_validator
from requests.adapters import HTTPAdapter

from cyberstd import __version__
from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.tlsconn import check_dates, trusting_context

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTTPS_REDIRECTS = frozenset({301, 302, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = f"cyberstd/{__version__} (school security check)"
SECONDS_PER_DAY = 86400
KB = 1024

# More header bytes than any real site sends (big cookies and CSPs stay far below): past this,
# the peer is hostile or broken and reading stops.
MAX_HEAD_BYTES = 256 * KB
# Chunked framing and trailers around a body of at most `body_limit` bytes.
_FRAMING_BYTES = 64 * KB
_READ_CHUNK = 16 * KB
# Evidence is bounded: each value is cut to this many characters, and this many headers kept.
MAX_VALUE_CHARS = 2048
MAX_EVIDENCE_HEADERS = 60

# Handshake failures that mean client and server share no protocol version.
_VERSION_REASONS = frozenset(
    {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE"}
)
_HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?")
# Characters kept as they are in a request target; everything else is percent-encoded.
_SAFE_IN_PATH = "/%:@!$&'()*+,;=~-._"


# --- inert text --------------------------------------------------------------------------------

# C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text
# (bidi overrides, zero-width characters, line and paragraph separators, the BOM).
_UNSAFE_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """Text from the network as inert data: control and invisible characters shown as escapes
    (\\x1b, \\u202e), so that nothing can move a terminal cursor or reorder a report line, and
    the length cut to `limit` characters with a note saying so. Markup such as <script> is kept
    as the plain text it is; every renderer escapes it for its own format.
    """
    shown = _UNSAFE_CHARS.sub(_escape_char, text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]} ... [cut: {len(text)} characters in all]"


def _quoted(text: str, limit: int = 200) -> str:
    """A value for a one-line message: inert, short and in quotes."""
    return f"'{inert(text, limit)}'"


def _number(value: float) -> Msg:
    """A number as each language writes it: "0,3" in Dutch, "0.3" in English."""
    text = f"{value:g}"
    whole, dot, fraction = text.partition(".")
    if not dot or "e" in text:
        return verbatim(text)
    return msg("web.decimal", whole=whole, fraction=fraction)


def _reason(exc: BaseException) -> Msg:
    """What a lower layer said went wrong: its catalog message, else its own (English) text."""
    if isinstance(exc, ProbeError) and exc.said is not None:
        return exc.said
    return verbatim(str(exc))


# --- HTTP client -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpAnswer:
    """One response: status line, headers and, when asked for, the start of its body."""

    url: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    body_truncated: bool = False

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def first(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[0] if values else None

    def combined(self, name: str) -> str | None:
        """All values of a header joined with ", ", as HTTP defines repeated headers to mean."""
        values = self.get_all(name)
        return ", ".join(values) if values else None

    @property
    def content_type(self) -> str:
        """The media type, lower case and without parameters ("" when there is none)."""
        return (self.first("Content-Type") or "").partition(";")[0].strip().lower()

    def text(self) -> str:
        """The body decoded with the charset of its Content-Type, else UTF-8; bad bytes replaced."""
        message = Message()
        message["Content-Type"] = inert(self.first("Content-Type") or "text/plain", 200)
        charset = message.get_content_charset() or "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class _DeadlinePassed(Exception):
    pass


class _TooLarge(Exception):
    pass


class _BoundedStream(io.RawIOBase):
    """The bytes of one connection, read under an overall deadline and a size limit.

    requests, urllib3 and http.client apply their timeout to each read, so a server that
    drips one byte per second never trips it and can hold a probe for hours. Here every read
    waits only for what is left of the request's deadline, so the whole request (connect,
    TLS handshake, headers, body) ends within the scan's timeout, and reading stops after
    `limit` bytes, so endless headers cannot fill the memory.
    """

    def __init__(self, sock: socket.socket, deadline: float, limit: int) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self.limit = limit
        self.received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        room = self.limit - self.received
        if room <= 0:
            raise _TooLarge
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlinePassed
        self._sock.settimeout(remaining)
        with memoryview(buffer) as view:
            try:
                count = self._sock.recv_into(view[:room])
            except TimeoutError:
                raise _DeadlinePassed from None
        self.received += count
        return count


class _StreamSource:
    """What http.client.HTTPResponse reads from: it only ever calls makefile("rb")."""

    def __init__(self, stream: _BoundedStream) -> None:
        self._stream = stream

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self._stream, _READ_CHUNK)


def _authority(host: str, port: int, scheme: str) -> str:
    if ":" in host:  # an IPv6 literal as host name
        host = f"[{host}]"
    return host if DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"


def _ssl_text(exc: ssl.SSLError) -> str:
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)


@dataclass(frozen=True)
class _Request:
    url: str  # as shown in messages and evidence
    scheme: str
    host: str
    port: int
    target: str  # the request target: path and query, percent-encoded
    authority: str  # the Host header


def _parse_url(url: str) -> _Request:
    """Split an http(s) URL into what a request needs; ValueError when it is not usable."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"not an http or https URL: {url!r}")
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS[scheme]
    if not _HOST_NAME.fullmatch(host):
        try:
            host = str(ipaddress.ip_address(host))
        except ValueError:
            raise ValueError(f"no usable host name in {url!r}") from None
    target = quote(parts.path or "/", safe=_SAFE_IN_PATH)
    if not target.startswith("/"):
        target = "/" + target
    if parts.query:
        target += "?" + quote(parts.query, safe=_SAFE_IN_PATH + "?")
    authority = _authority(host, port, scheme)
    return _Request(f"{scheme}://{authority}{target}", scheme, host, port, target, authority)


def _not_an_address(address: str) -> ConnectivityError:
    return ConnectivityError(msg("web.error.not-an-ip", address=address))


def _unreachable(where: Msg, exc: OSError) -> ConnectivityError:
    return ConnectivityError(
        msg("web.error.unreachable", where=where, reason=str(exc.strerror or exc))
    )


def _no_answer_in_time(where: Msg, timeout: float) -> ProbeTimeout:
    return ProbeTimeout(msg("web.error.timeout", where=where, seconds=_number(timeout)))


def _not_verified(server_name: str, detail: str) -> CertificateNotVerified:
    return CertificateNotVerified(
        msg("web.error.cert-not-verified", host=server_name, detail=detail), detail
    )


def _handshake_failed(where: Msg, exc: ssl.SSLError) -> ProtocolError:
    which = (
        "web.error.tls-failed-version" if exc.reason in _VERSION_REASONS else "web.error.tls-failed"
    )
    return ProtocolError(msg(which, where=where, reason=_ssl_text(exc)))


def _invalid_http(where: Msg, exc: http.client.HTTPException) -> ProtocolError:
    detail = str(exc) or type(exc).__name__
    return ProtocolError(
        msg("web.error.invalid-http", where=where, reason=verbatim(inert(detail, 200)))
    )


def _closed(where: Msg, exc: OSError | None = None) -> ConnectivityError:
    if exc is None:
        return ConnectivityError(msg("web.error.closed", where=where))
    return ConnectivityError(
        msg("web.error.closed-reason", where=where, reason=str(exc.strerror or exc))
    )


def _connect(address: str, port: int, deadline: float, where: Msg, timeout: float) -> socket.socket:
    try:
        infos = socket.getaddrinfo(
            address, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except socket.gaierror:
        raise _not_an_address(address) from None
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        sock.connect(sockaddr)
    except TimeoutError:
        sock.close()
        raise _no_answer_in_time(where, timeout) from None
    except ConnectionRefusedError:
        sock.close()
        raise ConnectivityError(msg("web.error.refused", where=where)) from None
    except OSError as exc:
        sock.close()
        raise _unreachable(where, exc) from None
    return sock


class CertificateNotVerified(ConnectivityError):
    """The HTTPS server's certificate failed verification; `verify_message` says why."""

    def __init__(self, message: Msg | str, verify_message: str) -> None:
        super().__init__(message)
        self.verify_message = verify_message


def _tls(
    sock: socket.socket,
    ssl_context: ssl.SSLContext,
    server_name: str,
    deadline: float,
    where: Msg,
    timeout: float,
) -> ssl.SSLSocket:
    try:
        tls = ssl_context.wrap_socket(
            sock, server_hostname=server_name, do_handshake_on_connect=False
        )
    except (ssl.SSLError, ValueError) as exc:
        sock.close()
        raise ProtocolError(msg("web.error.tls-start", where=where, reason=str(exc))) from None
    try:
        # Python bounds the whole handshake by the socket timeout, not each of its reads.
        tls.settimeout(max(deadline - time.monotonic(), 0.001))
        tls.do_handshake()
        check_dates(tls, ssl_context)
    except ssl.SSLCertVerificationError as exc:
        tls.close()
        detail = (exc.verify_message or "verification failed").rstrip(".")
        raise _not_verified(server_name, detail) from None
    except TimeoutError:
        tls.close()
        raise ProbeTimeout(
            msg("web.error.timeout-handshake", where=where, seconds=_number(timeout))
        ) from None
    except ssl.SSLError as exc:
        tls.close()
        raise _handshake_failed(where, exc) from None
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
        tls.close()
        raise ConnectivityError(
            msg("web.error.closed-handshake", where=where, reason=str(exc.strerror or exc))
        ) from None
    except OSError as exc:
        tls.close()
        raise _unreachable(where, exc) from None
    return tls


def http_get(
    url: str,
    address: str,
    ctx: ProbeContext,
    *,
    ssl_context: ssl.SSLContext | None = None,
    body_limit: int = 0,
) -> HttpAnswer:
    """GET an http(s) URL from `address`, with an overall deadline and bounded reads.

    The host name of the URL goes into the Host header, SNI and the certificate check; the
    connection goes to `address` (an IP address: nothing is looked up here). The caller has
    put `address` in scope (`ctx.guard`) when it was found at run time. HTTPS is verified with
    `ssl_context`, else with the scan's CA bundle or the system trust store. Redirects are
    not followed. At most `body_limit` bytes of the body are read (none by default).

    The whole request, from connect to the last body byte, ends within `ctx.timeout`
    (ProbeTimeout); headers over 256 KB, more than 100 header lines or a header line over
    64 KB are a ProtocolError; refusal or a hang-up without answer a ConnectivityError, and a
    certificate that fails verification its subclass CertificateNotVerified.
    """
    req = _parse_url(url)
    where = msg("web.where", url=req.url, address=address)
    if req.scheme == "https" and ssl_context is None:
        ssl_context = trusting_context(ctx.ca_bundle, ctx.clock.now)
    ctx.limiter.acquire()
    deadline = time.monotonic() + ctx.timeout
    sock = _connect(address, req.port, deadline, where, ctx.timeout)
    if req.scheme == "https":
        assert ssl_context is not None
        sock = _tls(sock, ssl_context, req.host, deadline, where, ctx.timeout)
    with sock:
        request = (
            f"GET {req.target} HTTP/1.1\r\n"
            f"Host: {req.authority}\r\n"
            f"User-Agent: {USER_AGENT}\r\n"
            "Accept: text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.8\r\n"
            "Accept-Encoding: identity\r\n"
            "Connection: close\r\n\r\n"
        ).encode("ascii")
        stream = _BoundedStream(sock, deadline, MAX_HEAD_BYTES)
        reading = "headers"
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.sendall(request)
            response = http.client.HTTPResponse(
                cast(socket.socket, _StreamSource(stream)), method="GET"
            )
            response.begin()
            reading = "body"
            stream.limit = stream.received + body_limit + _FRAMING_BYTES
            body = response.read(body_limit + 1) if body_limit > 0 else b""
        except (_DeadlinePassed, TimeoutError):
            if stream.received == 0:
                raise _no_answer_in_time(where, ctx.timeout) from None
            raise ProbeTimeout(
                msg(
                    "web.error.timeout-headers"
                    if reading == "headers"
                    else "web.error.timeout-body",
                    where=where,
                    seconds=_number(ctx.timeout),
                    n=stream.received,
                )
            ) from None
        except _TooLarge:
            if reading == "headers":
                too_much = msg("web.error.headers-too-large", kb=MAX_HEAD_BYTES // KB)
                raise ProtocolError(
                    msg("web.error.invalid-http", where=where, reason=too_much)
                ) from None
            raise ProtocolError(msg("web.error.framing-too-large", where=where)) from None
        except http.client.RemoteDisconnected:
            raise _closed(where) from None
        except http.client.HTTPException as exc:
            raise _invalid_http(where, exc) from None
        except ssl.SSLError as exc:
            raise ProtocolError(
                msg("web.error.tls-read", where=where, reason=_ssl_text(exc))
            ) from None
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
            raise _closed(where, exc) from None
        except OSError as exc:
            raise _unreachable(where, exc) from None
    return HttpAnswer(
        url=req.url,
        status=response.status,
        reason=response.reason or "",
        headers=tuple((str(k), str(v)) for k, v in response.msg.items()),
        body=body[:body_limit],
        body_truncated=len(body) > body_limit,
    )


def page_url(target: Target, scheme: str, path: str = "/") -> str:
    """The URL of `path` on the target's host name and its port for `scheme`."""
    port = target.port(scheme, DEFAULT_PORTS[scheme])
    return f"{scheme}://{_authority(target.name, port, scheme)}{path}"


def fetch(
    target: Target,
    ctx: ProbeContext,
    scheme: str,
    ssl_context: ssl.SSLContext | None = None,
    *,
    path: str = "/",
    body_limit: int = 0,
) -> HttpAnswer:
    """GET `scheme://name:port/path` from the target's address, without following redirects.

    Host header, SNI and certificate name are the target's name; see `http_get`.
    """
    return http_get(
        page_url(target, scheme, path),
        target.address,
        ctx,
        ssl_context=ssl_context,
        body_limit=body_limit,
    )


def _same_host(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


@dataclass(frozen=True)
class NotFollowed:
    """A redirect that `visit` left alone: where it pointed (inert; None when the answer had
    no Location) and why."""

    where: str | None
    why: Msg

    @property
    def location(self) -> str:
        """Where it pointed, as evidence shows it."""
        return "no Location" if self.where is None else self.where

    @property
    def reason(self) -> str:
        """Why it was not followed, as evidence shows it (English)."""
        return self.why.render("en")

    @property
    def said(self) -> Msg:
        """Where it pointed and why it was not followed, for a message."""
        where = msg("web.redirect.no-location-value") if self.where is None else self.where
        return msg("web.redirect.not-followed", location=where, reason=self.why)

    def __str__(self) -> str:
        return self.said.render("en")


@dataclass(frozen=True)
class Visit:
    """The answer to one GET and, when it redirected on the same host, the answer after it."""

    answers: tuple[HttpAnswer, ...]
    not_followed: NotFollowed | None = None

    @property
    def first(self) -> HttpAnswer:
        return self.answers[0]

    @property
    def final(self) -> HttpAnswer:
        return self.answers[-1]

    @property
    def ends_in_redirect(self) -> bool:
        """The last answer is a redirect that was not followed: there is no page to judge."""
        return self.not_followed is not None and self.final.status in REDIRECT_STATUSES

    def evidence(self) -> dict[str, Any]:
        found: dict[str, Any] = {"url": self.first.url, "status": self.first.status}
        if len(self.answers) > 1:
            found.update(redirected_to=self.final.url, final_status=self.final.status)
        if self.not_followed is not None:
            found["redirect_not_followed"] = {
                "location": self.not_followed.location,
                "reason": self.not_followed.reason,
            }
        return found


def visit(
    target: Target,
    ctx: ProbeContext,
    url: str,
    *,
    body_limit: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> Visit:
    """GET `url` on the target's address and follow at most the first redirect, if it stays
    on the target's host name and does not go from HTTPS to plain HTTP.

    Other hosts are not followed (they may lie outside the authorised scope), and neither is
    a second redirect; `Visit.not_followed` says which and why.
    """
    if ssl_context is None and url.lower().startswith("https:"):
        ssl_context = trusting_context(ctx.ca_bundle, ctx.clock.now)
    first = http_get(url, target.address, ctx, ssl_context=ssl_context, body_limit=body_limit)
    location = first.first("Location")
    if first.status not in REDIRECT_STATUSES or not location:
        return Visit((first,))
    try:
        req = _parse_url(urljoin(first.url, location.strip()))
    except ValueError:
        why = msg("web.redirect.unreadable-location")
        return Visit((first,), NotFollowed(inert(location, 300), why))
    if not _same_host(req.host, target.name):
        return Visit((first,), NotFollowed(req.url, msg("web.redirect.other-host-reason")))
    if first.url.startswith("https:") and req.scheme == "http":
        return Visit((first,), NotFollowed(req.url, msg("web.redirect.downgrade")))
    if req.scheme == "https" and ssl_context is None:
        ssl_context = trusting_context(ctx.ca_bundle, ctx.clock.now)
    second = http_get(req.url, target.address, ctx, ssl_context=ssl_context, body_limit=body_limit)
    not_followed = None
    if second.status in REDIRECT_STATUSES:
        location = second.first("Location")
        not_followed = NotFollowed(
            None if not location else inert(location, 300), msg("web.redirect.second")
        )
    return Visit((first, second), not_followed)


def header_evidence(answer: HttpAnswer, names: Iterable[str] | None = None) -> dict[str, Any]:
    """Headers as evidence, inert and bounded: one value, or a list when a header repeats.

    With `names`, only those headers, and None for each that is absent.
    """
    found: dict[str, Any] = {}
    if names is not None:
        for name in names:
            values = [inert(v) for v in answer.get_all(name)]
            found[name] = values[0] if len(values) == 1 else (values or None)
        return found
    for key, value in answer.headers[:MAX_EVIDENCE_HEADERS]:
        shown = inert(key, 100)
        current = found.get(shown)
        if current is None:
            found[shown] = inert(value)
        elif isinstance(current, list):
            current.append(inert(value))
        else:
            found[shown] = [current, inert(value)]
    if len(answer.headers) > MAX_EVIDENCE_HEADERS:
        found["(cut)"] = f"{len(answer.headers) - MAX_EVIDENCE_HEADERS} more headers not shown"
    return found


# --- requests helpers --------------------------------------------------------------------------
# Kept for modules that build on requests. requests' read timeout applies to each read, so a
# peer that drips its headers can outlast it: new code should use `http_get`, which bounds the
# whole request.

E = TypeVar("E", bound=BaseException)


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


def _url_host(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise _not_an_address(address) from None
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


def _translate(
    exc: requests.RequestException, target: Target, where: Msg, timeout: float
) -> ProbeError:
    """The ProbeError that says why a request made with requests got no usable answer."""
    if isinstance(exc, requests.Timeout) or (
        _find(exc, TimeoutError) is not None and _find(exc, ConnectionRefusedError) is None
    ):
        return _no_answer_in_time(where, timeout)
    verification = _find(exc, ssl.SSLCertVerificationError)
    if verification is not None:
        detail = (verification.verify_message or "verification failed").rstrip(".")
        return _not_verified(target.name, detail)
    tls_error = _find(exc, ssl.SSLError)
    if tls_error is not None:
        return _handshake_failed(where, tls_error)
    if _find(exc, ConnectionRefusedError) is not None:
        return ConnectivityError(msg("web.error.refused", where=where))
    if _find(exc, http.client.RemoteDisconnected) is not None:
        return _closed(where)
    reset = _find(exc, ConnectionResetError) or _find(exc, ConnectionAbortedError)
    if reset is not None:
        return _closed(where, reset)
    bad_http = _find(exc, http.client.HTTPException)
    if bad_http is not None:
        return _invalid_http(where, bad_http)
    # requests' own exceptions are OSErrors too; the system's error is the one with an errno.
    os_error = next(
        (c for c in _causes(exc) if isinstance(c, OSError) and c.errno is not None), None
    )
    if os_error is not None:
        return _unreachable(where, os_error)
    return ConnectivityError(msg("web.error.unreachable", where=where, reason=str(exc)))


# --- web.https-redirect ------------------------------------------------------------------------


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
    evidence: dict[str, Any] = {
        "url": answer.url,
        "status": answer.status,
        "location": None if location is None else inert(location),
    }

    def fail(message: Msg) -> ProbeOutcome:
        return ProbeOutcome.said(FindingStatus.FAIL, message, evidence)

    url, status = answer.url, answer.status
    if status not in HTTPS_REDIRECTS:
        if 300 <= status < 400:
            return fail(msg("web.https-redirect.wrong-status", url=url, status=status))
        return fail(
            msg(
                "web.https-redirect.plain-http",
                url=url,
                status=status,
                reason=inert(answer.reason, 100),
            )
        )
    if not location:
        return fail(msg("web.https-redirect.no-location", url=url, status=status))
    try:
        redirect_to = urljoin(url, location.strip())
        parts = urlsplit(redirect_to)
    except ValueError:
        return fail(
            msg("web.https-redirect.unreadable-location", url=url, location=_quoted(location))
        )
    evidence["redirect_to"] = inert(redirect_to)
    if parts.scheme.lower() != "https":
        return fail(msg("web.https-redirect.not-https", url=url, to=inert(redirect_to, 300)))
    if not _same_host(parts.hostname or "", target.name):
        other = (
            verbatim(inert(parts.hostname, 200))
            if parts.hostname
            else msg("web.https-redirect.no-host")
        )
        return fail(msg("web.https-redirect.other-host", url=url, host=other, name=target.name))
    warnings = []
    if status not in PERMANENT_REDIRECTS:
        warnings.append(msg("web.https-redirect.temporary", status=status))
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg("web.https-redirect.ok", url=url, status=status, to=inert(redirect_to, 300)),
        evidence,
        warnings=warnings,
    )


# --- web.hsts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HstsPolicy:
    max_age: int
    include_subdomains: bool
    preload: bool


_DIGITS = re.compile(r"[0-9]+")


class InvalidHsts(ValueError):
    """A Strict-Transport-Security value that browsers ignore; `said` says why."""

    def __init__(self, said: Msg) -> None:
        super().__init__(said.render("en"))
        self.said = said


def parse_hsts(value: str) -> HstsPolicy:
    """Parse a Strict-Transport-Security value as RFC 6797 section 6.1 defines it.

    Raises InvalidHsts (a ValueError) with the reason when a browser would ignore the header.
    """
    directives: dict[str, str | None] = {}
    for part in value.split(";"):
        name, sep, raw = part.strip().partition("=")
        name = name.strip().lower()
        if not name:
            continue
        if name in directives:
            raise InvalidHsts(msg("web.hsts.repeated-directive", name=inert(repr(name), 250)))
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        directives[name] = raw if sep else None
    if "max-age" not in directives:
        raise InvalidHsts(msg("web.hsts.no-max-age"))
    max_age = directives["max-age"]
    if max_age is None or not _DIGITS.fullmatch(max_age):
        raise InvalidHsts(msg("web.hsts.bad-max-age", value=inert(repr(max_age), 250)))
    return HstsPolicy(
        max_age=int(max_age),
        include_subdomains="includesubdomains" in directives,
        preload="preload" in directives,
    )


class HstsParams(ProbeParams):
    min_max_age_days: int = Field(
        default=180, ge=0, description="The shortest acceptable HSTS max-age, in days."
    )


def _days(seconds: int) -> Msg:
    days = seconds / SECONDS_PER_DAY
    if days >= 1:
        return msg("web.duration.days", n=int(f"{days:.0f}"))
    return msg("web.duration.seconds", n=seconds)


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
    answer = fetch(target, ctx, "https", trusting_context(ctx.ca_bundle, ctx.clock.now))
    headers = answer.get_all("Strict-Transport-Security")
    evidence: dict[str, Any] = {
        "url": answer.url,
        "status": answer.status,
        "hsts": inert(headers[0]) if headers else None,
        "min_max_age_days": params.min_max_age_days,
    }
    if len(headers) > 1:
        evidence["hsts_all"] = [inert(h) for h in headers]

    def fail(message: Msg) -> ProbeOutcome:
        return ProbeOutcome.said(FindingStatus.FAIL, message, evidence)

    if not headers:
        return fail(msg("web.hsts.missing", url=answer.url))
    try:
        policy = parse_hsts(headers[0])
    except InvalidHsts as exc:
        return fail(msg("web.hsts.invalid", value=_quoted(headers[0]), reason=exc.said))
    evidence.update(
        max_age=policy.max_age,
        include_subdomains=policy.include_subdomains,
        preload=policy.preload,
    )
    required = params.min_max_age_days * SECONDS_PER_DAY
    if policy.max_age == 0:
        return fail(msg("web.hsts.zero", url=answer.url))
    if policy.max_age < required:
        return fail(
            msg(
                "web.hsts.too-short",
                url=answer.url,
                max_age=policy.max_age,
                duration=_days(policy.max_age),
                n=params.min_max_age_days,
            )
        )
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg(
            "web.hsts.ok",
            url=answer.url,
            max_age=policy.max_age,
            duration=_days(policy.max_age),
        ),
        evidence,
    )


# --- the HTTPS home page -----------------------------------------------------------------------


def _home_page(target: Target, ctx: ProbeContext, body_limit: int = 0) -> Visit:
    return visit(target, ctx, page_url(target, "https"), body_limit=body_limit)


def _judged_on(home: Visit) -> list[Msg]:
    """A warning when the page judged is a redirect that was not followed."""
    if home.not_followed is None or not home.ends_in_redirect:
        return []
    return [msg("web.judged-on-redirect", url=home.final.url, page=home.not_followed.said)]


# --- web.security-headers ----------------------------------------------------------------------


class SecurityHeader(StrEnum):
    """A protection that `web.security-headers` can require."""

    X_CONTENT_TYPE_OPTIONS = "x-content-type-options"
    FRAME_PROTECTION = "frame-protection"
    REFERRER_POLICY = "referrer-policy"


# Every policy token the Referrer Policy specification defines.
REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "same-origin",
        "origin",
        "strict-origin",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
# Policies that never send a page's full address to another site.
SAFE_REFERRER_POLICIES = (
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
)
# frame-ancestors sources that let any site frame the page.
_ANY_FRAMER = frozenset({"*", "http:", "https:", "http://*", "https://*"})


class SecurityHeadersParams(ProbeParams):
    required: tuple[SecurityHeader, ...] = Field(
        default=tuple(SecurityHeader),
        min_length=1,
        description="The protections the home page must have: "
        + ", ".join(h.value for h in SecurityHeader)
        + ".",
    )
    safe_referrer_policies: tuple[str, ...] = Field(
        default=SAFE_REFERRER_POLICIES,
        min_length=1,
        description="Referrer-Policy values that count as safe.",
    )

    @field_validator("safe_referrer_policies")
    @classmethod
    def _known_policies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        policies = tuple(v.strip().lower() for v in value)
        unknown = sorted(set(policies) - REFERRER_POLICIES)
        if unknown:
            raise ValueError(
                f"unknown referrer policies {unknown}; known: {sorted(REFERRER_POLICIES)}"
            )
        return policies


def csp_directives(policy: str) -> dict[str, list[str]]:
    """The directives of one serialised Content-Security-Policy: name -> source list.

    As CSP 3 parses it: names are case-insensitive and the first of a repeated directive wins.
    """
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), tokens[1:])
    return directives


def _policies(answer: HttpAnswer, name: str) -> list[str]:
    # Several headers, or one header with comma-separated policies: each policy applies.
    return [p for value in answer.get_all(name) for p in value.split(",") if p.strip()]


@dataclass(frozen=True)
class _Verdict:
    ok: bool
    found: str | None
    missing: Msg  # how the message names what is missing


def _nosniff(answer: HttpAnswer) -> _Verdict:
    value = answer.combined("X-Content-Type-Options")
    # Browsers look at the first value only (Fetch standard, "determine nosniff").
    ok = value is not None and value.split(",")[0].strip().lower() == "nosniff"
    return _Verdict(ok, value, verbatim("X-Content-Type-Options: nosniff"))


def _frame_protection(answer: HttpAnswer) -> _Verdict:
    ancestors = [
        csp_directives(p)["frame-ancestors"]
        for p in _policies(answer, "Content-Security-Policy")
        if "frame-ancestors" in csp_directives(p)
    ]
    missing = msg("web.security-headers.frame-protection")
    if ancestors:
        # With frame-ancestors present browsers ignore X-Frame-Options; every policy applies.
        # An empty source list allows no framing at all, like 'none'.
        ok = any(not _ANY_FRAMER & {s.lower() for s in sources} for sources in ancestors)
        shown = "; ".join("frame-ancestors " + " ".join(s) for s in ancestors)
        return _Verdict(ok, shown, missing)
    value = answer.combined("X-Frame-Options")
    tokens = {t.strip().lower() for t in (value or "").split(",")} - {""}
    # Conflicting values make browsers ignore the header (HTML standard).
    ok = len(tokens) == 1 and tokens <= {"deny", "sameorigin"}
    return _Verdict(ok, None if value is None else f"X-Frame-Options: {value}", missing)


def _referrer(answer: HttpAnswer, safe: Sequence[str]) -> _Verdict:
    value = answer.combined("Referrer-Policy")
    tokens = [t.strip().lower() for t in (value or "").split(",")]
    # The last token that browsers know is the policy; unknown ones are skipped.
    known = [t for t in tokens if t in REFERRER_POLICIES]
    ok = bool(known) and known[-1] in safe
    return _Verdict(ok, value, msg("web.security-headers.safe-referrer"))


def _csp_summary(answer: HttpAnswer) -> dict[str, Any]:
    enforced = answer.combined("Content-Security-Policy")
    report_only = answer.combined("Content-Security-Policy-Report-Only")
    summary: dict[str, Any] = {
        "present": enforced is not None,
        "policy": None if enforced is None else inert(enforced),
        "report_only": None if report_only is None else inert(report_only),
    }
    if enforced is not None:
        parsed = [csp_directives(p) for p in _policies(answer, "Content-Security-Policy")]
        names = sorted({name for directives in parsed for name in directives})
        summary["directives"] = [inert(n, 100) for n in names[:50]]
        # Information only: a script source list without 'unsafe-inline' blocks injected scripts.
        summary["restricts_scripts"] = any(
            (sources := d.get("script-src", d.get("default-src"))) is not None
            and "'unsafe-inline'" not in sources
            for d in parsed
        )
    return summary


SECURITY_HEADER_NAMES = (
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
)


@probe("web.security-headers", params=SecurityHeadersParams, role="website")
def security_headers(
    target: Target, params: SecurityHeadersParams, ctx: ProbeContext
) -> ProbeOutcome:
    """The home page tells browsers to apply the basic protections of a website.

    Requests https://<host>/ (the HTTPS port, default 443) and follows at most one redirect on
    the same host name; the certificate is verified as a browser would (tls.cert-valid
    explains a failure). Looks at the headers of the final answer:
    - `x-content-type-options`: X-Content-Type-Options: nosniff, so that browsers do not
      guess a file's type (a picture or upload run as a script);
    - `frame-protection`: X-Frame-Options DENY or SAMEORIGIN, or a Content-Security-Policy
      with frame-ancestors that does not allow every site, so that another site cannot show
      the page in a frame and trick visitors into clicking (clickjacking);
    - `referrer-policy`: a Referrer-Policy from `safe_referrer_policies`, so that addresses of
      pages (which can hold names or tokens) do not leak to other sites.
    Content-Security-Policy is reported as information only (in evidence `csp`): a good one
    needs work per site, and its absence never fails the check.

    Pass: every protection in `required` is present.
    Fail: the message lists each required protection that is missing or too weak, and the
    value found. A redirect to another host is not followed; the check then judges the
    redirect answer and says so in a warning. A <meta> tag in the HTML does not count.

    Parameters: `required` (default all three), `safe_referrer_policies` (default
    no-referrer, same-origin, strict-origin, strict-origin-when-cross-origin).
    Evidence: `url`, `status` (and `redirected_to`, `final_status`), `headers` (the five
    security headers as sent), `checks` (per protection: ok and the value found),
    `missing`, and `csp`.
    """
    home = _home_page(target, ctx)
    answer = home.final
    verdicts = {
        SecurityHeader.X_CONTENT_TYPE_OPTIONS: _nosniff(answer),
        SecurityHeader.FRAME_PROTECTION: _frame_protection(answer),
        SecurityHeader.REFERRER_POLICY: _referrer(answer, params.safe_referrer_policies),
    }
    missing = [h for h in params.required if not verdicts[h].ok]
    evidence = home.evidence()
    evidence.update(
        headers=header_evidence(answer, SECURITY_HEADER_NAMES),
        checks={
            h.value: {
                "ok": v.ok,
                "required": h in params.required,
                "found": None if v.found is None else inert(v.found),
            }
            for h, v in verdicts.items()
        },
        missing=[h.value for h in missing],
        csp=_csp_summary(answer),
    )
    warnings = _judged_on(home)
    if missing:
        parts = []
        for h in missing:
            found = verdicts[h].found
            what = verdicts[h].missing
            parts.append(
                msg("web.security-headers.absent", what=what)
                if found is None
                else msg("web.security-headers.weak", what=what, found=_quoted(found, 120))
            )
        return ProbeOutcome.said(
            FindingStatus.FAIL,
            msg("web.security-headers.lacks", url=answer.url, parts=parts),
            evidence,
            warnings=warnings,
        )
    names = ", ".join(h.value for h in params.required)
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg("web.security-headers.ok", url=answer.url, names=names),
        evidence,
        warnings=warnings,
    )


# --- web.server-disclosure ---------------------------------------------------------------------

# A version number: a product token followed by "/" or a space and digits ("Apache/2.4.41",
# "PHP/7.4.3", "WordPress 6.4", "Apache/2"), or a dotted number on its own ("4.0.30319").
# Opaque codes such as "ECS (dab/4BCE)" are no version: the digits must end the token.
VERSION_PATTERN = re.compile(
    r"[A-Za-z][\w.+-]*(?:/|\s)v?\d+(?:\.\d+)*(?![\w])|(?<![\w.])\d+(?:\.\d+)+(?![\w])"
)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class ServerDisclosureParams(ProbeParams):
    headers: tuple[str, ...] = Field(
        default=(
            "Server",
            "X-Powered-By",
            "X-AspNet-Version",
            "X-AspNetMvc-Version",
            "X-Generator",
        ),
        min_length=1,
        description="The response headers in which a version number is a finding.",
    )

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if not _TOKEN.fullmatch(v)]
        if bad:
            raise ValueError(f"not header names: {bad}")
        return value


def disclosed_version(value: str) -> str | None:
    """The first version number in a header value, or None when it names no version."""
    match = VERSION_PATTERN.search(value)
    return match.group() if match else None


@probe("web.server-disclosure", params=ServerDisclosureParams, role="website")
def server_disclosure(
    target: Target, params: ServerDisclosureParams, ctx: ProbeContext
) -> ProbeOutcome:
    """The website does not tell visitors which software versions it runs.

    Requests https://<host>/ (the HTTPS port, default 443), follows at most one redirect on
    the same host name, and reads the headers in `headers` of every answer. A version number
    (`Apache/2.4.41 (Ubuntu)`, `PHP/7.4.3`, `Microsoft-IIS/10.0`, `WordPress 6.4`, an
    X-AspNet-Version such as `4.0.30319`) tells an attacker which known weaknesses to try
    first; a bare product name (`Apache`, `nginx`, `Microsoft-IIS`) is fine.

    Pass: no listed header carries a version number (or none of them is sent).
    Fail: at least one does; the message quotes each header and value.
    A certificate that cannot be verified is a connectivity error (see tls.cert-valid).

    Parameters: `headers` (default Server, X-Powered-By, X-AspNet-Version,
    X-AspNetMvc-Version, X-Generator).
    Evidence: `url`, `status` (and `redirected_to`, `final_status`), `headers` (the listed
    headers of each answer, by URL) and `disclosed` (header, value, version, url).
    """
    home = _home_page(target, ctx)
    seen: dict[str, dict[str, Any]] = {}
    disclosed: list[dict[str, str]] = []
    for answer in home.answers:
        seen[answer.url] = header_evidence(answer, params.headers)
        for name in params.headers:
            for value in answer.get_all(name):
                version = disclosed_version(value)
                if version is not None:
                    disclosed.append(
                        {
                            "header": name,
                            "value": inert(value, 300),
                            "version": inert(version, 100),
                            "url": answer.url,
                        }
                    )
    evidence = home.evidence()
    evidence.update(headers=seen, disclosed=disclosed)
    if disclosed:
        unique = dict.fromkeys(f"{d['header']}: {d['value']}" for d in disclosed)
        return ProbeOutcome.said(
            FindingStatus.FAIL,
            msg("web.server-disclosure.found", url=home.first.url, found="; ".join(unique)),
            evidence,
        )
    named = [
        f"{name}: {inert(value, 100)}"
        for name in params.headers
        for value in dict.fromkeys(v for a in home.answers for v in a.get_all(name))
    ]
    detail: Msg | str
    if named:
        detail = "; ".join(named)
    elif len(params.headers) == 1:
        detail = msg("web.server-disclosure.no-header", name=params.headers[0])
    else:
        first, second = params.headers[:2]
        detail = msg("web.server-disclosure.no-headers", first=first, second=second)
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg("web.server-disclosure.ok", url=home.first.url, detail=detail),
        evidence,
    )


# --- web.privacy-statement ---------------------------------------------------------------------

PRIVACY_WORDS = (
    "privacy",
    "privacyverklaring",
    "privacybeleid",
    "privacyreglement",
    "privacy statement",
    "privacy policy",
    "gegevensbescherming",
    "persoonsgegevens",
    "data protection",
    "avg",
    "gdpr",
)
# Links collected from one page at most, and characters of link text kept per link.
MAX_LINKS = 5000
MAX_LINK_TEXT = 300
MAX_EVIDENCE_LINKS = 10
_NON_WORD = re.compile(r"[^0-9a-zà-ÿ]+")


def _normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


@dataclass
class PageLink:
    """One link of a page: its href as written, its text, and how it was marked up."""

    href: str
    text: str
    rel_privacy_policy: bool = False


class LinkCollector(HTMLParser):
    """Collects the links of an HTML page (<a href> with their text, <link rel=privacy-policy>,
    <base href>) with the standard library's tolerant parser: script and style content never
    counts as link text, and the number of links and the text per link are bounded.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[PageLink] = []
        self.base_href: str | None = None
        self._open: PageLink | None = None
        self._text: list[str] = []
        self._text_size = 0
        self._in_raw = 0

    def _finish(self) -> None:
        if self._open is not None and len(self.links) < MAX_LINKS:
            self._open.text = " ".join(" ".join(self._text).split())[:MAX_LINK_TEXT]
            self.links.append(self._open)
        self._open = None
        self._text = []
        self._text_size = 0

    def _add_text(self, text: str) -> None:
        if self._open is not None and self._text_size < MAX_LINK_TEXT:
            self._text.append(text[:MAX_LINK_TEXT])
            self._text_size += len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values: dict[str, str] = {}
        for name, value in attrs:
            values.setdefault(name, value or "")
        if tag in ("script", "style", "template"):
            self._in_raw += 1
        elif tag == "a":
            self._finish()  # an <a> inside an <a> ends the first one, as browsers do
            if "href" in values:
                self._open = PageLink(href=values["href"], text="")
                self._add_text(values.get("aria-label", ""))
                self._add_text(values.get("title", ""))
        elif tag == "img":
            self._add_text(values.get("alt", ""))
        elif tag == "base" and self.base_href is None and "href" in values:
            self.base_href = values["href"]
        elif (
            tag == "link"
            and "href" in values
            and "privacy-policy" in values.get("rel", "").lower().split()
            and len(self.links) < MAX_LINKS
        ):
            self.links.append(PageLink(values["href"], "", rel_privacy_policy=True))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._in_raw = max(self._in_raw - 1, 0)
        elif tag == "a":
            self._finish()

    def handle_data(self, data: str) -> None:
        if not self._in_raw:
            self._add_text(data)

    def close(self) -> None:
        super().close()
        self._finish()


def page_links(html: str) -> tuple[list[PageLink], str | None]:
    """The links of an HTML page and its <base href>, if any."""
    collector = LinkCollector()
    collector.feed(html)
    collector.close()
    return collector.links, collector.base_href


def _word_in(words: Sequence[str], text: str) -> str | None:
    """The longest of `words` found in `text`: short words (4 letters or fewer, such as AVG)
    only as a whole word, longer ones anywhere (so "privacy" also finds "privacyverklaring")."""
    normal = f" {_normalise(text)} "
    for word in sorted(words, key=len, reverse=True):
        wanted = _normalise(word)
        if not wanted:
            continue
        if (f" {wanted} " in normal) if len(wanted) <= 4 else (wanted in normal):
            return word
    return None


# How a privacy link was recognised, most telling first.
_RANK = {"rel": 0, "text": 1, "href": 2}


@dataclass(frozen=True)
class _Candidate:
    url: str
    text: str
    href: str
    matched: str
    by: str  # "text", "href" or "rel"
    same_host: bool

    def evidence(self) -> dict[str, Any]:
        return {
            "text": inert(self.text, 200),
            "href": inert(self.href, 300),
            "url": inert(self.url, 300),
            "matched": self.matched,
            "by": self.by,
            "same_host": self.same_host,
        }


def privacy_links(
    links: Sequence[PageLink], base_url: str, host_name: str, words: Sequence[str]
) -> list[_Candidate]:
    """Links that look like a privacy statement, best first: found by rel, then by text, then
    by address; each URL once. Only http(s) links count (not mailto:, javascript: ...)."""
    found: dict[str, _Candidate] = {}
    for link in links:
        try:
            url = urldefrag(urljoin(base_url, link.href.strip())).url
            parts = urlsplit(url)
            if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
                continue
        except ValueError:
            continue
        if link.rel_privacy_policy:
            matched, by = "privacy-policy", "rel"
        elif (word := _word_in(words, link.text)) is not None:
            matched, by = word, "text"
        elif (word := _word_in(words, unquote(f"{parts.path} {parts.query}"))) is not None:
            matched, by = word, "href"
        else:
            continue
        candidate = _Candidate(
            url, link.text, link.href, matched, by, _same_host(parts.hostname, host_name)
        )
        current = found.get(url)
        if current is None or _RANK[by] < _RANK[current.by]:
            found[url] = candidate
    return sorted(found.values(), key=lambda c: _RANK[c.by])


class PrivacyStatementParams(ProbeParams):
    link_words: tuple[str, ...] = Field(
        default=PRIVACY_WORDS,
        min_length=1,
        description="Words that mark a link to the privacy statement, in its text or address "
        "(case-insensitive; words of 4 letters or fewer only as whole words).",
    )
    max_page_kb: int = Field(
        default=1024, ge=16, le=8192, description="Read at most this much of the home page."
    )

    @field_validator("link_words")
    @classmethod
    def _words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not _normalise(word) for word in value):
            raise ValueError("every link word needs at least one letter or digit")
        return value


@probe("web.privacy-statement", params=PrivacyStatementParams, role="website", budget=5.0)
def privacy_statement(
    target: Target, params: PrivacyStatementParams, ctx: ProbeContext
) -> ProbeOutcome:
    """The home page links to a privacy statement that can be opened (GDPR/AVG transparency).

    Requests https://<host>/ (the HTTPS port, default 443), follows at most one redirect on
    the same host name, reads at most `max_page_kb` of the page and parses its HTML. A link
    counts when its text (with its title, aria-label or image alt text) or its address
    contains one of `link_words` (Dutch and English: privacy, privacyverklaring,
    privacybeleid, gegevensbescherming, persoonsgegevens, privacy statement, privacy policy,
    AVG, GDPR ...), or when it is a <link rel="privacy-policy">. The best link on the same
    host name is then requested (one redirect on that host followed) and must answer 200.
    Links to another host, such as the privacy statement of the school board, are listed in
    evidence but not requested: they may lie outside the authorised scope.

    Pass: a link on the same host answers 200, or the only privacy links go to other hosts
    (with a warning that they were not checked).
    Fail: the home page has no such link, or the link answers anything but 200 (a dead link).
    When the home page itself does not answer 200, or redirects to another host, the check
    cannot judge and reports an error.

    Parameters: `link_words` (default above), `max_page_kb` (default 1024).
    Evidence: `url`, `status` (and `redirected_to`, `final_status`), `page_bytes_read`,
    `page_truncated`, `links_on_page`, `candidates` (text, href, url, matched word, how, same
    host), `checked` (the link requested and its answer), `other_hosts`.
    """
    home = _home_page(target, ctx, body_limit=params.max_page_kb * KB)
    page = home.final
    if home.not_followed is not None and home.ends_in_redirect:
        raise ProbeError(
            msg(
                "web.privacy-statement.home-redirects",
                url=home.first.url,
                to=home.not_followed.said,
            )
        )
    if page.status != 200:
        raise ProbeError(
            msg(
                "web.privacy-statement.home-status",
                url=page.url,
                status=page.status,
                reason=inert(page.reason, 100),
            )
        )
    links, base_href = page_links(page.text())
    base_url = page.url
    if base_href:
        try:
            base_url = urljoin(page.url, base_href.strip())
        except ValueError:
            base_url = page.url
    candidates = privacy_links(links, base_url, target.name, params.link_words)
    evidence = home.evidence()
    evidence.update(
        page_bytes_read=len(page.body),
        page_truncated=page.body_truncated,
        links_on_page=len(links),
        candidates=[c.evidence() for c in candidates[:MAX_EVIDENCE_LINKS]],
    )
    others = [c for c in candidates if not c.same_host]
    evidence["other_hosts"] = [inert(c.url, 300) for c in others[:MAX_EVIDENCE_LINKS]]
    own = [c for c in candidates if c.same_host]
    if not candidates:
        if page.body_truncated:
            none = msg(
                "web.privacy-statement.no-link-truncated", url=page.url, kb=params.max_page_kb
            )
        else:
            none = msg("web.privacy-statement.no-link", url=page.url)
        return ProbeOutcome.said(FindingStatus.FAIL, none, evidence)
    if not own:
        return ProbeOutcome.said(
            FindingStatus.PASS,
            msg("web.privacy-statement.other-host", url=inert(others[0].url, 300)),
            evidence,
            warnings=[msg("web.privacy-statement.other-host-not-requested")],
        )
    chosen = own[0]
    if urldefrag(chosen.url).url == page.url:
        checked = Visit((page,))  # a link to a part of the home page itself
    else:
        checked = visit(target, ctx, chosen.url)
    evidence["checked"] = {"link": chosen.evidence(), **checked.evidence()}
    label = f"{_quoted(chosen.text or chosen.href, 80)} ({inert(chosen.url, 300)})"
    final = checked.final
    if final.status == 200:
        return ProbeOutcome.said(
            FindingStatus.PASS, msg("web.privacy-statement.ok", link=label), evidence
        )
    if checked.not_followed is not None and checked.ends_in_redirect:
        return ProbeOutcome.said(
            FindingStatus.PASS,
            msg("web.privacy-statement.redirects", link=label),
            evidence,
            warnings=[msg("web.privacy-statement.link-redirects", to=checked.not_followed.said)],
        )
    return ProbeOutcome.said(
        FindingStatus.FAIL,
        msg(
            "web.privacy-statement.dead",
            link=label,
            status=final.status,
            reason=inert(final.reason, 100),
        ),
        evidence,
    )


# --- web.security-txt --------------------------------------------------------------------------

SECURITY_TXT_PATH = "/.well-known/security.txt"
MAX_SECURITY_TXT = 64 * KB
_FIELD_NAME = re.compile(r"[A-Za-z0-9-]+")
_CONTACT_SCHEMES = ("mailto:", "https://", "tel:")
MAX_FIELD_VALUES = 20


@dataclass(frozen=True)
class SecurityTxt:
    """The fields of a security.txt file (RFC 9116), by lower-case name, in order."""

    fields: dict[str, list[str]]
    signed: bool
    invalid_lines: int


def parse_security_txt(text: str) -> SecurityTxt:
    """Parse security.txt as RFC 9116 section 2.4 defines it: `Name: value` lines, comments
    starting with "#"; an OpenPGP cleartext signature around it is taken off (not verified).
    """
    lines = text.lstrip("\ufeff").splitlines()
    signed = bool(lines) and lines[0].strip() == "-----BEGIN PGP SIGNED MESSAGE-----"
    if signed:
        body_start = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
        end = next(
            (i for i, line in enumerate(lines) if line.strip() == "-----BEGIN PGP SIGNATURE-----"),
            len(lines),
        )
        lines = [
            line[2:] if line.startswith("- ") else line for line in lines[body_start + 1 : end]
        ]
    fields: dict[str, list[str]] = {}
    invalid = 0
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition(":")
        if not sep or not _FIELD_NAME.fullmatch(name.strip()):
            invalid += 1
            continue
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return SecurityTxt(fields=fields, signed=signed, invalid_lines=invalid)


def parse_expires(value: str) -> dt.datetime:
    """An RFC 3339 date-time with its offset; ValueError when it is not one."""
    moment = dt.datetime.fromisoformat(value.strip().upper())
    if moment.tzinfo is None or "T" not in value.strip().upper():
        raise ValueError("not an RFC 3339 date and time with a time zone")
    return moment


class SecurityTxtParams(ProbeParams):
    warn_days: int = Field(
        default=30, ge=0, description="Warn when Expires is fewer than this many days away."
    )


@probe("web.security-txt", params=SecurityTxtParams, role="website")
def security_txt(target: Target, params: SecurityTxtParams, ctx: ProbeContext) -> ProbeOutcome:
    """The website tells security researchers how to report a vulnerability (security.txt).

    Requests https://<host>/.well-known/security.txt (the HTTPS port, default 443), follows
    at most one redirect on the same host name, reads at most 64 KB, and parses it as
    RFC 9116 defines (an OpenPGP signature around it is allowed; it is not verified).

    Pass: the file answers 200 with at least one Contact field holding a URI (mailto:,
    https:// or tel:) and exactly one Expires field with an RFC 3339 date in the future.
    It warns when Expires is less than `warn_days` away, more than a year away (RFC 9116
    advises less), or the content type is not text/plain.
    Fail: the file is missing (404 or any answer but 200), has no Contact or Expires field,
    a Contact that is not a URI, several or an unreadable Expires, or has expired.
    A redirect to another host is not followed (it may lie outside the authorised scope):
    the check then cannot judge and reports an error.

    Parameters: `warn_days` (default 30).
    Evidence: `url`, `status` (and `redirected_to`, `final_status`), `content_type`,
    `fields` (every field and its values), `signed`, `invalid_lines`, `expires`, `days_left`.
    """
    found = visit(
        target, ctx, page_url(target, "https", SECURITY_TXT_PATH), body_limit=MAX_SECURITY_TXT
    )
    answer = found.final
    if found.not_followed is not None and found.ends_in_redirect:
        raise ProbeError(
            msg("web.security-txt.redirects", url=found.first.url, to=found.not_followed.said)
        )
    evidence = found.evidence()
    evidence["content_type"] = inert(answer.first("Content-Type") or "", 200) or None

    def fail(message: Msg) -> ProbeOutcome:
        return ProbeOutcome.said(FindingStatus.FAIL, message, evidence)

    url = answer.url
    if answer.status != 200:
        return fail(
            msg(
                "web.security-txt.status",
                url=url,
                status=answer.status,
                reason=inert(answer.reason, 100),
            )
        )
    parsed = parse_security_txt(answer.text())
    evidence.update(
        fields={
            inert(name, 100): [inert(v, 300) for v in values[:MAX_FIELD_VALUES]]
            for name, values in list(parsed.fields.items())[:50]
        },
        signed=parsed.signed,
        invalid_lines=parsed.invalid_lines,
    )
    warnings: list[Msg] = []
    if answer.body_truncated:
        warnings.append(msg("web.security-txt.truncated", kb=MAX_SECURITY_TXT // KB))
    content_type = verbatim(inert(answer.content_type, 100))
    if not parsed.fields:
        if not answer.content_type:
            content_type = msg("web.security-txt.none")
        return fail(msg("web.security-txt.no-fields", url=url, content_type=content_type))
    if answer.content_type != "text/plain":
        if not answer.content_type:
            content_type = msg("web.security-txt.no-content-type")
        warnings.append(msg("web.security-txt.not-plain-text", content_type=content_type))
    contacts = parsed.fields.get("contact", [])
    if not contacts:
        return fail(msg("web.security-txt.no-contact", url=url))
    bad = [c for c in contacts if not c.lower().startswith(_CONTACT_SCHEMES)]
    if bad:
        return fail(msg("web.security-txt.bad-contact", url=url, value=_quoted(bad[0], 120)))
    expires_all = parsed.fields.get("expires", [])
    if not expires_all:
        return fail(msg("web.security-txt.no-expires", url=url))
    if len(expires_all) > 1:
        return fail(msg("web.security-txt.several-expires", url=url, n=len(expires_all)))
    try:
        expires = parse_expires(expires_all[0])
    except ValueError:
        return fail(msg("web.security-txt.bad-expires", url=url, value=_quoted(expires_all[0], 80)))
    now = ctx.clock.now
    days_left = (expires - now).total_seconds() / SECONDS_PER_DAY
    evidence.update(expires=expires.isoformat(), days_left=int(days_left // 1))
    date = expires.date().isoformat()
    if expires <= now:
        return fail(msg("web.security-txt.expired", url=url, date=date))
    if days_left < params.warn_days:
        warnings.append(msg("web.security-txt.expires-soon", n=int(days_left), date=date))
    elif days_left > 366:
        warnings.append(msg("web.security-txt.expires-far"))
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg("web.security-txt.ok", url=url, n=len(contacts), date=date),
        evidence,
        warnings=warnings,
    )

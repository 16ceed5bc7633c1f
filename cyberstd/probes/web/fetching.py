"""The HTTP client of the web probes: GET over a pinned address with an overall deadline and
bounded reads, at most one redirect followed on the same host, headers as evidence."""

from __future__ import annotations

import http.client
import io
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from typing import Any, cast
from urllib.parse import quote, urljoin, urlsplit

from cyberstd import __version__
from cyberstd.errors import ConnectivityError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg
from cyberstd.net.tls import check_dates, trusting_context
from cyberstd.probes.web.common import KB, inert, number, same_host
from cyberstd.probes.web.errors import (
    closed,
    handshake_failed,
    invalid_http,
    no_answer_in_time,
    not_an_address,
    not_verified,
    ssl_text,
    unreachable,
)
from cyberstd.registry import ProbeContext, Target

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTTPS_REDIRECTS = frozenset({301, 302, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = f"cyberstd/{__version__} (school security check)"

# More header bytes than any real site sends (big cookies and CSPs stay far below): past this,
# the peer is hostile or broken and reading stops.
MAX_HEAD_BYTES = 256 * KB
# Chunked framing and trailers around a body of at most `body_limit` bytes.
_FRAMING_BYTES = 64 * KB
_READ_CHUNK = 16 * KB
# Evidence is bounded: at most this many headers are kept.
MAX_EVIDENCE_HEADERS = 60

_HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?")
# Characters kept as they are in a request target; everything else is percent-encoded.
_SAFE_IN_PATH = "/%:@!$&'()*+,;=~-._"


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


def _connect(address: str, port: int, deadline: float, where: Msg, timeout: float) -> socket.socket:
    try:
        infos = socket.getaddrinfo(
            address, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except socket.gaierror:
        raise not_an_address(address) from None
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        sock.connect(sockaddr)
    except TimeoutError:
        sock.close()
        raise no_answer_in_time(where, timeout) from None
    except ConnectionRefusedError:
        sock.close()
        raise ConnectivityError(msg("web.error.refused", where=where)) from None
    except OSError as exc:
        sock.close()
        raise unreachable(where, exc) from None
    return sock


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
        raise not_verified(server_name, detail) from None
    except TimeoutError:
        tls.close()
        raise ProbeTimeout(
            msg("web.error.timeout-handshake", where=where, seconds=number(timeout))
        ) from None
    except ssl.SSLError as exc:
        tls.close()
        raise handshake_failed(where, exc) from None
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
        tls.close()
        raise ConnectivityError(
            msg("web.error.closed-handshake", where=where, reason=str(exc.strerror or exc))
        ) from None
    except OSError as exc:
        tls.close()
        raise unreachable(where, exc) from None
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
    ctx.limiter.acquire(address)
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
                raise no_answer_in_time(where, ctx.timeout) from None
            raise ProbeTimeout(
                msg(
                    "web.error.timeout-headers"
                    if reading == "headers"
                    else "web.error.timeout-body",
                    where=where,
                    seconds=number(ctx.timeout),
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
            raise closed(where) from None
        except http.client.HTTPException as exc:
            raise invalid_http(where, exc) from None
        except ssl.SSLError as exc:
            raise ProtocolError(
                msg("web.error.tls-read", where=where, reason=ssl_text(exc))
            ) from None
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
            raise closed(where, exc) from None
        except OSError as exc:
            raise unreachable(where, exc) from None
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
    if not same_host(req.host, target.name):
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


# --- the HTTPS home page -----------------------------------------------------------------------


def home_page(target: Target, ctx: ProbeContext, body_limit: int = 0) -> Visit:
    """The home page over HTTPS, with at most one redirect on the same host followed."""
    return visit(target, ctx, page_url(target, "https"), body_limit=body_limit)

"""Real web servers on loopback for the lab: plain HTTP, HTTPS with a chosen certificate, raw TCP."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler
from typing import Any, Self, cast
from urllib.parse import urlsplit

from cyberstd.lab.certs import CertFiles
from cyberstd.lab.server import HANDLER_TIMEOUT, Running, ThreadedTcpServer, check_loopback

# How long a raw or hostile peer waits on a client (and a hostile peer reads the request).
PEER_TIMEOUT = 1.0

DEFAULT_HOME_PAGE = """<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><title>{name}</title></head>
<body><h1>Welkom op {name}</h1><p>Een schoolwebsite in het cyberstd-lab.</p></body>
</html>
"""

NOT_FOUND_PAGE = b"<!doctype html><title>404</title><p>Not found.</p>\n"
DEFAULT_SERVER_HEADER = "cyberstd-lab"


def _url_path(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"a lab URL path starts with '/', not {path!r}")
    return path


def _check_header(name: str, value: str) -> None:
    # A line break would end the header early and let the rest pose as another header or body.
    if any(ch in f"{name}{value}" for ch in "\r\n") or not name or ":" in name:
        raise ValueError(f"header {name!r}: {value!r} cannot be sent as one header line")


@dataclass(frozen=True)
class RequestRecord:
    """One request a lab server answered: what a probe sent, for tests to assert on."""

    scheme: str
    method: str
    path: str
    host: str | None


class _SchemeServer(ThreadedTcpServer):
    """The HTTP or the HTTPS listener of a WebServer; TLS is negotiated in the connection's thread."""

    # Clients that abort the handshake or hang up are part of what the lab is for.
    quiet_errors = (OSError, ValueError)

    def __init__(self, owner: WebServer, port: int, tls: ssl.SSLContext | None) -> None:
        super().__init__(address=owner.address, port=port, tls=tls)
        self.kind = self.scheme = "https" if tls is not None else "http"
        self.owner = owner
        self.errors = owner.errors

    def handle(self, conn: socket.socket) -> None:
        # The handler reads the lab's own fields from its server, none of socketserver's.
        SiteHandler(conn, conn.getpeername(), cast(Any, self))


class SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    timeout = HANDLER_TIMEOUT
    server_version = DEFAULT_SERVER_HEADER
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def site(self) -> WebServer:
        """The website this request is for: the server's own (a server of many picks by Host)."""
        return cast(_SchemeServer, self.server).owner

    def scheme(self) -> str:
        return cast(_SchemeServer, self.server).scheme

    def send_response(self, code: int, message: str | None = None) -> None:
        # The standard handler always sends its own Server header; the lab's is a switch.
        self.log_request(code)
        self.send_response_only(code, message)
        lab = self.site()
        if lab.server_header is not None:
            self.send_header("Server", lab.server_header)
        self.send_header("Date", self.date_time_string())
        for name, value in lab.extra_headers:
            self.send_header(name, value)

    def _answer(self, *, body: bool) -> None:
        lab = self.site()
        scheme = self.scheme()
        if lab.keep_requests:
            lab.requests_seen.append(
                RequestRecord(scheme, self.command, self.path, self.headers.get("Host"))
            )
        if scheme == "http" and lab.redirect:
            self._redirect(lab.redirect_status, lab.redirect_location_for(self.path))
            return
        path = urlsplit(self.path).path or "/"
        if path in lab.redirects:
            status, location = lab.redirects[path]
            self._redirect(status, location)
            return
        if path in lab.files:
            content_type, page = lab.files[path]
        elif path == "/":
            content_type, page = "text/html; charset=utf-8", lab.home_page.encode("utf-8")
        else:
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(NOT_FOUND_PAGE)))
            self.end_headers()
            if body:
                self.wfile.write(NOT_FOUND_PAGE)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(page)))
        if scheme == "https":
            if lab.hsts_max_age is not None:
                self.send_header("Strict-Transport-Security", f"max-age={lab.hsts_max_age}")
            for name, value in lab.https_headers.items():
                self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(page)

    def _redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


def server_tls_context(
    cert: CertFiles,
    *,
    min_version: ssl.TLSVersion | None = None,
    max_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A server-side TLS context; TLS 1.0/1.1 are enabled (at SECLEVEL=0) when a bound asks."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.cert, cert.key)
    legacy = {ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1}
    with warnings.catch_warnings():
        # The lab deliberately serves the deprecated versions that probes must flag.
        warnings.simplefilter("ignore", DeprecationWarning)
        if min_version in legacy or max_version in legacy:
            # OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) above security level 0.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = min_version or ssl.TLSVersion.TLSv1
        elif min_version is not None:
            ctx.minimum_version = min_version
        if max_version is not None:
            ctx.maximum_version = max_version
    return ctx


class WebServer(Running):
    """A school website on loopback: HTTP (redirecting or not) and HTTPS, in background threads.

    Use it as a context manager; `http_port`/`https_port` are the bound ports (give 0 to let the
    system pick a free one, None to not serve that scheme). The flaws are switches:
    `redirect=False` serves the site over plain HTTP, `redirect_location` sends the redirect
    elsewhere (another host, or http://), `hsts_max_age=None` omits HSTS, `tls_max_version`
    caps the TLS version (e.g. `ssl.TLSVersion.TLSv1_1` for an outdated server).

    Content: `home_page` is the HTML served at "/"; `files` maps more URL paths (e.g.
    "/.well-known/security.txt") to (content type, body); `redirects` maps URL paths to
    (status, Location). Every other path answers 404. Paths are matched without the query
    string; `files` and `redirects` may also take "/" over from the home page. All of this is
    served over HTTPS, and over HTTP when it does not redirect to HTTPS.

    Headers: `server_header` is the Server header of every answer (None sends none; the default
    names the lab without a version); `extra_headers` are (name, value) pairs sent, in order and
    repeats allowed, on every answer of both schemes, redirects and 404s included (e.g.
    ("X-Powered-By", "PHP/7.4.3")); `https_headers` are added to the 200 answers over HTTPS only.
    `requests_seen` lists every request answered (`keep_requests=False` keeps none).
    """

    def __init__(
        self,
        *,
        cert: CertFiles | None,
        address: str = "127.0.0.1",
        host_name: str = "localhost",
        http_port: int | None = 0,
        https_port: int | None = 0,
        redirect: bool = True,
        redirect_status: int = 301,
        redirect_location: str | None = None,
        hsts_max_age: int | None = None,
        https_headers: Mapping[str, str] | None = None,
        tls_min_version: ssl.TLSVersion | None = None,
        tls_max_version: ssl.TLSVersion | None = None,
        home_page: str | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
        redirects: Mapping[str, tuple[int, str]] | None = None,
        server_header: str | None = DEFAULT_SERVER_HEADER,
        extra_headers: Sequence[tuple[str, str]] = (),
        keep_requests: bool = True,
    ) -> None:
        self.address = check_loopback(address)
        if https_port is not None and cert is None:
            raise ValueError("serving HTTPS needs a certificate")
        if http_port is None and https_port is None:
            raise ValueError("serve at least one of HTTP and HTTPS")
        self.cert = cert
        self.host_name = host_name
        self.redirect = redirect
        self.redirect_status = redirect_status
        self.redirect_location = redirect_location
        self.hsts_max_age = hsts_max_age
        self.https_headers = dict(https_headers or {})
        self.tls_min_version = tls_min_version
        self.tls_max_version = tls_max_version
        self.home_page = home_page or DEFAULT_HOME_PAGE.format(name=host_name)
        self.files = {
            _url_path(path): (kind, bytes(data)) for path, (kind, data) in (files or {}).items()
        }
        self.redirects = {_url_path(path): where for path, where in (redirects or {}).items()}
        self.server_header = server_header
        self.extra_headers = tuple((str(name), str(value)) for name, value in extra_headers)
        for name, value in [*self.extra_headers, *self.https_headers.items()]:
            _check_header(name, value)
        if server_header is not None:
            _check_header("Server", server_header)
        self.keep_requests = keep_requests
        self.requests_seen: list[RequestRecord] = []
        self.sni_seen: list[str | None] = []
        self.errors: list[BaseException] = []
        self._want_http = http_port
        self._want_https = https_port
        self._http: _SchemeServer | None = None
        self._https: _SchemeServer | None = None

    # --- ports ---------------------------------------------------------------------------------

    @property
    def http_port(self) -> int:
        return self._port(self._http, "HTTP")

    @property
    def https_port(self) -> int:
        return self._port(self._https, "HTTPS")

    @property
    def ports(self) -> dict[str, int]:
        """The bound ports by service name, as `Target.ports` expects them."""
        found = {"http": self._http, "https": self._https}
        return {name: srv.port for name, srv in found.items() if srv is not None}

    @staticmethod
    def _port(server: _SchemeServer | None, what: str) -> int:
        if server is None:
            raise RuntimeError(f"this lab server does not serve {what} (or is not started)")
        return server.port

    def redirect_location_for(self, path: str) -> str:
        if self.redirect_location is not None:
            return self.redirect_location
        if self._https is None:
            return f"https://{self.host_name}{path}"
        port = self.https_port
        authority = self.host_name if port == 443 else f"{self.host_name}:{port}"
        return f"https://{authority}{path}"

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._http is not None or self._https is not None:
            raise RuntimeError("lab server already started")
        if self._want_https is not None:
            assert self.cert is not None
            tls = server_tls_context(
                self.cert, min_version=self.tls_min_version, max_version=self.tls_max_version
            )
            tls.sni_callback = self._record_sni
            self._https = _SchemeServer(self, self._want_https, tls)
        if self._want_http is not None:
            self._http = _SchemeServer(self, self._want_http, None)
        try:
            for server in (self._https, self._http):
                if server is not None:
                    server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and join every thread."""
        for server in (self._http, self._https):
            if server is not None:
                server.stop()
        self._http = self._https = None

    def _record_sni(self, sock: Any, name: str | None, ctx: ssl.SSLContext) -> None:
        self.sni_seen.append(name)


class RawServer(ThreadedTcpServer):
    """A TCP service that accepts, sends `payload` (maybe nothing) and then keeps silent.

    With no payload it is a service that hangs; with bytes that are not TLS it is a port where a
    TLS server was expected; with a malformed HTTP answer it is a hostile web server. With
    `close_after_payload` it hangs up right after sending.
    """

    kind = "raw"
    # A client that never reads does not hold the payload's thread for long.
    handler_timeout = PEER_TIMEOUT

    def __init__(
        self,
        *,
        address: str = "127.0.0.1",
        port: int = 0,
        payload: bytes = b"",
        close_after_payload: bool = False,
    ) -> None:
        super().__init__(address=address, port=port)
        self.payload = payload
        self.close_after_payload = close_after_payload

    def _describe(self) -> str:
        return "raw server"

    def handle(self, conn: socket.socket) -> None:
        if self.payload:
            conn.sendall(self.payload)
        if not self.close_after_payload:
            self._stopping.wait()  # silent, the connection open, until stop()


class Misbehaviour(StrEnum):
    """How a `HostilePeer` mistreats the clients that connect to it."""

    SILENT = "silent"  # reads the request, then never answers
    DRIP = "drip"  # sends its payload, then `filler` one byte every `interval` seconds, forever
    ENDLESS = "endless"  # sends its payload, then `filler` over and over as fast as it can


class HostilePeer(ThreadedTcpServer):
    """A TCP (or TLS) peer that misbehaves on purpose, to show that probes stay bounded.

    For each connection it completes the TLS handshake when `cert` is given, reads the request
    head (at most 64 KB, for at most a second; skipped with `read_request=False`, e.g. to
    drip bytes into a client's TLS handshake), then misbehaves as `behaviour` says until the
    client hangs up or `stop()` is called. `sent` counts the bytes it managed to send after the
    handshake, over all connections: a client that gives up early leaves it far below the size
    of the whole answer. Binds to 127.0.0.0/8 only, like every lab server.
    """

    kind = "hostile"
    handler_timeout = PEER_TIMEOUT

    def __init__(
        self,
        *,
        behaviour: Misbehaviour,
        address: str = "127.0.0.1",
        port: int = 0,
        payload: bytes = b"",
        filler: bytes = b"X-Filler: " + b"a" * 60 + b"\r\n",
        interval: float = 0.2,
        cert: CertFiles | None = None,
        read_request: bool = True,
    ) -> None:
        if not filler:
            raise ValueError("a hostile peer needs filler bytes to repeat")
        tls = server_tls_context(cert) if cert is not None else None
        super().__init__(address=address, port=port, tls=tls)
        self.behaviour = behaviour
        self.payload = payload
        self.filler = filler
        self.interval = interval
        self.read_request = read_request
        self._sent = 0

    def _describe(self) -> str:
        return "hostile peer"

    @property
    def sent(self) -> int:
        with self._lock:
            return self._sent

    def handle(self, conn: socket.socket) -> None:
        if self.read_request:
            self._read_request(conn)
        if self.behaviour is Misbehaviour.SILENT:
            self._stopping.wait()
        elif self.behaviour is Misbehaviour.DRIP:
            self._send(conn, self.payload)
            position = 0
            while not self._stopping.wait(self.interval):
                self._send(conn, self.filler[position : position + 1])
                position = (position + 1) % len(self.filler)
        else:
            self._send(conn, self.payload)
            while not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):  # the client is not reading just now
                    self._send(conn, self.filler)

    def _read_request(self, peer: socket.socket) -> None:
        data = b""
        deadline = time.monotonic() + PEER_TIMEOUT
        while b"\r\n\r\n" not in data and len(data) < 65536 and time.monotonic() < deadline:
            try:
                chunk = peer.recv(4096)
            except TimeoutError:
                return
            if not chunk:
                return
            data += chunk

    def _send(self, peer: socket.socket, data: bytes) -> None:
        peer.sendall(data)
        with self._lock:
            self._sent += len(data)

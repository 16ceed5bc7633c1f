"""Shared hosting for the lab fleet: HTTPS, HTTP and SMTP listeners serving every school.

One listener per hosting address and service serves every school on that address, as a
hosting provider does: HTTPS picks the school's certificate and TLS settings from the server
name the client asks for (read from its ClientHello before the handshake, so that even the
TLS versions and cipher suites differ per school), HTTP and HTTPS pick the website by the
Host header, SMTP picks the certificate by SNI in its STARTTLS handshake. A school's
certificate is issued by the fleet's CA the first time a client asks for it, kept as PEM files
(reused when the fleet starts again with the same CA) and its TLS context kept in memory for
the schools asked for most recently.
"""

from __future__ import annotations

import datetime as dt
import html
import socket
import ssl
import struct
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, cast

from cyberstd.clock import Clock
from cyberstd.lab.certs import CertFiles, CertificateAuthority
from cyberstd.lab.fleetplan import FleetFlaw, FleetSchool
from cyberstd.lab.mail import SmtpServer, mta_sts_policy
from cyberstd.lab.server import ThreadedTcpServer
from cyberstd.lab.web import SiteHandler, WebServer, server_tls_context

# How long a listener waits for a client's ClientHello before answering with its default.
HELLO_TIMEOUT = 5.0
# TLS contexts kept in memory: a context costs some 25 KB, a new one a millisecond or two.
CONTEXTS_KEPT = 1024
_HANDSHAKE = 0x16
_CLIENT_HELLO = 1
_SERVER_NAME = 0
_SECURE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
DEFAULT_HOST = "hosting.fleet.test"


# --- the server name in a ClientHello ----------------------------------------------------------


def server_name(hello: bytes) -> str | None:
    """The host name of the server_name extension of a ClientHello handshake message."""
    try:
        if hello[0] != _CLIENT_HELLO:
            return None
        pos = 4 + 2 + 32  # handshake header, client version, random
        pos += 1 + hello[pos]  # session id
        pos += 2 + struct.unpack_from("!H", hello, pos)[0]  # cipher suites
        pos += 1 + hello[pos]  # compression methods
        end = pos + 2 + struct.unpack_from("!H", hello, pos)[0]
        pos += 2
        while pos + 4 <= end:
            kind, size = struct.unpack_from("!HH", hello, pos)
            pos += 4
            if kind == _SERVER_NAME:
                entry = pos + 2  # the list's length, then the first entry
                if hello[entry] != 0:  # host_name
                    return None
                length = struct.unpack_from("!H", hello, entry + 1)[0]
                name = hello[entry + 3 : entry + 3 + length].decode("ascii")
                return name.lower().rstrip(".") or None
            pos += size
    except (IndexError, struct.error, UnicodeDecodeError):
        return None
    return None


def peek_server_name(conn: socket.socket, timeout: float = HELLO_TIMEOUT) -> str | None:
    """The server name the client's ClientHello on `conn` asks for, read without consuming
    it (the TLS handshake then reads it again); None without one or when it is no TLS."""
    conn.settimeout(timeout)
    head = conn.recv(5, socket.MSG_PEEK | socket.MSG_WAITALL)
    if len(head) < 5 or head[0] != _HANDSHAKE:
        return None
    size = 5 + struct.unpack_from("!H", head, 3)[0]
    record = conn.recv(size, socket.MSG_PEEK | socket.MSG_WAITALL)
    return server_name(record[5:]) if len(record) == size else None


# --- the websites and certificates of the schools ---------------------------------------------


def _home_page(school: FleetSchool) -> str:
    name = html.escape(school.name)
    link = (
        "<span>Contact</span>"
        if FleetFlaw.NO_PRIVACY_LINK in school.flaws
        else '<a href="/privacy">Privacyverklaring</a>'
    )
    return (
        f"<!doctype html><html lang=nl><head><meta charset=utf-8><title>{name}</title></head>"
        f"<body><h1>Welkom bij {name}</h1><footer>{link}</footer></body></html>"
    )


def _security_txt(school: FleetSchool, clock: Clock) -> bytes:
    expires = (clock.now + dt.timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"Contact: mailto:security@{school.domain}\nExpires: {expires}\n"
        "Preferred-Languages: nl, en\n"
    ).encode()


def website(school: FleetSchool, clock: Clock) -> WebServer:
    """The school's website as its host serves it (a description: never started itself)."""
    flaws = school.flaws
    files = {
        "/privacy": (
            "text/html; charset=utf-8",
            b"<!doctype html><title>Privacy</title><p>Privacyverklaring</p>",
        )
    }
    if FleetFlaw.NO_SECURITY_TXT not in flaws:
        files["/.well-known/security.txt"] = (
            "text/plain; charset=utf-8",
            _security_txt(school, clock),
        )
    hsts: int | None = 31536000
    if FleetFlaw.NO_HSTS in flaws:
        hsts = None
    elif FleetFlaw.SHORT_HSTS in flaws:
        hsts = 300
    return WebServer(
        cert=None,
        address=school.address,
        host_name=school.www,
        http_port=0,
        https_port=None,
        redirect=FleetFlaw.NO_HTTPS_REDIRECT not in flaws,
        hsts_max_age=hsts,
        https_headers=None if FleetFlaw.NO_SECURITY_HEADERS in flaws else _SECURE_HEADERS,
        home_page=_home_page(school),
        files=files,
        server_header="Apache/2.4.29 (Ubuntu)" if FleetFlaw.SERVER_VERSION in flaws else "Apache",
        keep_requests=False,
    )


def policy_site(school: FleetSchool) -> WebServer:
    """The school's MTA-STS policy host."""
    policy = mta_sts_policy([f"mail.{school.domain}"])
    return WebServer(
        cert=None,
        address=school.address,
        host_name=f"mta-sts.{school.domain}",
        http_port=0,
        https_port=None,
        files={"/.well-known/mta-sts.txt": ("text/plain; charset=utf-8", policy)},
        keep_requests=False,
    )


class Hosting:
    """What the shared listeners serve: each school's websites, certificates and TLS settings.

    `schools` by domain; certificates from `ca`, kept in `cert_dir`. Every school has one
    certificate for www, mta-sts and mail of its domain, except one whose website certificate
    is flawed: that one gets a certificate of its own for www and another for the rest.
    """

    def __init__(
        self,
        schools: dict[str, FleetSchool],
        ca: CertificateAuthority,
        cert_dir: Path,
        clock: Clock,
    ) -> None:
        self.schools = schools
        self.ca = ca
        self.cert_dir = cert_dir
        self.clock = clock
        self.default_site = WebServer(
            cert=None,
            host_name=DEFAULT_HOST,
            http_port=0,
            https_port=None,
            redirect=False,
            keep_requests=False,
        )
        self._sites: dict[str, WebServer] = {}
        self._contexts: OrderedDict[tuple[str, str], ssl.SSLContext] = OrderedDict()
        self._lock = threading.Lock()
        self._issuing = threading.Lock()
        self.default_cert = self._issue(DEFAULT_HOST, [DEFAULT_HOST], 365)
        self.default_context = server_tls_context(self.default_cert)

    def school_of(self, host: str | None) -> tuple[FleetSchool, str] | None:
        """The school a host name belongs to and its first label (www, mta-sts, mail)."""
        if not host:
            return None
        label, _, domain = host.lower().rstrip(".").partition(".")
        school = self.schools.get(domain)
        return (school, label) if school is not None else None

    def site(self, host: str | None) -> WebServer:
        """The website that answers for a Host header (the default site for an unknown one)."""
        if host and not host.startswith("["):
            host = host.rsplit(":", 1)[0]
        found = self.school_of(host)
        if found is None:
            return self.default_site
        school, label = found
        policy = label == "mta-sts" and FleetFlaw.NO_MTA_STS not in school.flaws
        if not policy and label != "www":
            return self.default_site
        key = f"{label}.{school.domain}"
        site = self._sites.get(key)
        if site is None:
            built = policy_site(school) if policy else website(school, self.clock)
            site = self._sites.setdefault(key, built)
        return site

    # --- certificates and TLS contexts ---------------------------------------------------------

    def _issue(self, stem: str, names: list[str], days: float, since: float = -1) -> CertFiles:
        files = CertFiles(self.cert_dir / f"{stem}.pem", self.cert_dir / f"{stem}-key.pem")
        with self._issuing:
            if files.cert.is_file() and files.key.is_file():
                return files
            return self.ca.issue(
                self.cert_dir, names, valid_from_days=since, expires_in_days=days, stem=stem
            )

    def _certificate(self, school: FleetSchool, website: bool) -> CertFiles:
        domain = school.domain
        names = [f"www.{domain}", f"mta-sts.{domain}", f"mail.{domain}"]
        if website and FleetFlaw.CERT_EXPIRED in school.flaws:
            return self._issue(f"www.{domain}-expired", names[:1], -30, since=-60)
        if website and FleetFlaw.CERT_EXPIRING in school.flaws:
            return self._issue(f"www.{domain}-expiring", names[:1], 20)
        return self._issue(domain, names, 365)

    def context(self, host: str | None, *, website_settings: bool = True) -> ssl.SSLContext:
        """The TLS context for a server name: the school's certificate and, for its website
        over HTTPS, its TLS versions and cipher suites; the default for an unknown name."""
        found = self.school_of(host)
        if found is None:
            return self.default_context
        school, label = found
        website = label == "www"
        kind = "site" if website and website_settings else "service"
        key = (school.domain, kind)
        with self._lock:
            context = self._contexts.get(key)
            if context is not None:
                self._contexts.move_to_end(key)
                return context
        context = self._new_context(school, kind)
        with self._lock:
            self._contexts[key] = context
            while len(self._contexts) > CONTEXTS_KEPT:
                self._contexts.popitem(last=False)
        return context

    def _new_context(self, school: FleetSchool, kind: str) -> ssl.SSLContext:
        files = self._certificate(school, website=kind == "site")
        if kind != "site":
            return server_tls_context(files)
        old = FleetFlaw.OLD_TLS in school.flaws
        context = server_tls_context(files, min_version=ssl.TLSVersion.TLSv1 if old else None)
        if FleetFlaw.WEAK_CIPHERS in school.flaws:
            # NULL suites (no encryption at all) besides the usual ones, TLS 1.2 and up.
            context.set_ciphers("ECDHE+AES:ECDHE+CHACHA20:eNULL:@SECLEVEL=0")
            if not old:
                context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def prepare(self, school: FleetSchool) -> None:
        """Issue the school's certificates and build its websites now (TLS contexts are
        still made when first asked for: only the most recent ones are kept)."""
        self._certificate(school, website=True)
        self._certificate(school, website=False)
        self.site(school.www)
        self.site(f"mta-sts.{school.domain}")

    def switch_for_mail(self, sock: Any, name: str | None, _: ssl.SSLContext) -> None:
        """SNI callback of the SMTP listeners: the school's certificate for its mail name."""
        if name:
            sock.context = self.context(name, website_settings=False)


# --- the listeners -----------------------------------------------------------------------------


class _HostHandler(SiteHandler):
    """A request to a shared listener: the website is the one its Host header names."""

    def site(self) -> WebServer:
        listener = cast(SharedWeb, self.server)
        headers = getattr(self, "headers", None)
        return listener.hosting.site(headers.get("Host") if headers is not None else None)

    def scheme(self) -> str:
        return cast(SharedWeb, self.server).scheme


class SharedWeb(ThreadedTcpServer):
    """HTTP or HTTPS on one hosting address for every school hosted there."""

    quiet_errors = (OSError, ValueError)

    def __init__(self, hosting: Hosting, *, address: str, port: int, https: bool) -> None:
        super().__init__(address=address, port=port)
        self.hosting = hosting
        self.kind = self.scheme = "https" if https else "http"

    def _describe(self) -> str:
        return f"lab fleet {self.scheme} listener"

    def handle(self, conn: socket.socket) -> None:
        if self.scheme == "http":
            _HostHandler(conn, conn.getpeername(), cast(Any, self))
            return
        context = self.hosting.context(peek_server_name(conn))
        conn.settimeout(self.handler_timeout)
        with context.wrap_socket(conn, server_side=True) as tls:
            _HostHandler(tls, tls.getpeername(), cast(Any, self))


class SharedSmtp(SmtpServer):
    """SMTP on one address for every school whose MX points there; with `starttls`, the
    STARTTLS handshake presents the certificate of the mail name the client asks for."""

    def __init__(self, hosting: Hosting, *, address: str, port: int, starttls: bool) -> None:
        host = f"mx-{address.replace('.', '-')}.{DEFAULT_HOST}"
        super().__init__(
            address=address, port=port, host_name=host, cert=hosting.default_cert, starttls=starttls
        )
        if self._tls is not None:
            self._tls.sni_callback = hosting.switch_for_mail

"""The TLS endpoints of a host, and a connection to one, through STARTTLS where it needs it."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from cyberstd.errors import ProtocolError
from cyberstd.messages import Msg, msg
from cyberstd.net.ratelimit import RateLimiter
from cyberstd.net.starttls import StartTlsNotOffered, upgrade
from cyberstd.net.tcp import open_tcp

# How much of a mail server's greeting the evidence keeps.
_MAX_BANNER = 300

StartTlsProtocol = Literal["smtp", "imap"]


class Peer(Protocol):
    """The host a connection goes to: its name (for SNI and messages) and its IP address."""

    @property
    def name(self) -> str: ...

    @property
    def address(self) -> str: ...


class Host(Peer, Protocol):
    """A host with its roles and service ports (service name -> port), as the school declares it."""

    @property
    def roles(self) -> tuple[str, ...]: ...

    @property
    def ports(self) -> Mapping[str, int]: ...


class ConnectOptions(Protocol):
    """How connections are made: the seconds each step may take and the rate limit they share.

    The probes' context is one.
    """

    @property
    def timeout(self) -> float: ...

    @property
    def limiter(self) -> RateLimiter: ...


@dataclass(frozen=True)
class Endpoint:
    """One TLS service of a host: its service name, port and the STARTTLS dialect (None: TLS at once)."""

    service: str
    port: int
    starttls: StartTlsProtocol | None = None

    def describe(self) -> str:
        return self.said().render("en")

    def said(self) -> Msg:
        """The endpoint as messages name it: "smtp port 25, STARTTLS" ("smtp poort 25, ...")."""
        which = "tls.endpoint.starttls" if self.starttls else "tls.endpoint"
        return msg(which, service=self.service, port=self.port)

    def evidence(self) -> dict[str, Any]:
        return {"service": self.service, "port": self.port, "starttls": self.starttls}


# Roles whose TLS lives on the HTTPS port (a VPN portal is an HTTPS site).
WEB_ROLES = frozenset({"website", "vpn"})
MAIL_ROLE = "mail"
# Mail services in the order they are reported: name, default port, STARTTLS dialect.
MAIL_SERVICES: tuple[tuple[str, int, StartTlsProtocol | None], ...] = (
    ("smtp", 25, "smtp"),
    ("submission", 587, "smtp"),
    ("smtps", 465, None),
    ("imap", 143, "imap"),
    ("imaps", 993, None),
)


def tls_endpoints(host: Host) -> list[Endpoint]:
    """The TLS endpoints of a host, from its roles and declared ports.

    website or vpn: https (443 unless `ports` says otherwise). mail: each of smtp (25) and
    submission (587) with STARTTLS, smtps (465) and imaps (993) with TLS at once, and imap (143)
    with STARTTLS, that the host lists in `ports`; a mail host that lists none of them gets
    smtp on 25. A host with none of these roles (a check aimed at it on purpose) gets https.
    """
    found: list[Endpoint] = []
    if WEB_ROLES.intersection(host.roles) or MAIL_ROLE not in host.roles:
        found.append(Endpoint("https", host.ports.get("https", 443)))
    if MAIL_ROLE in host.roles:
        declared = [
            Endpoint(name, host.ports[name], dialect)
            for name, _, dialect in MAIL_SERVICES
            if name in host.ports
        ]
        found.extend(declared or [Endpoint("smtp", 25, "smtp")])
    unique: dict[int, Endpoint] = {}
    for endpoint in found:
        unique.setdefault(endpoint.port, endpoint)
    return list(unique.values())


def where(host: Peer, endpoint: Endpoint) -> Msg:
    """How messages name an endpoint: host name, address, port (and service when not HTTPS)."""
    if endpoint.service == "https" and endpoint.starttls is None:
        return msg("tls.where", host=host.name, address=host.address, port=endpoint.port)
    return msg("tls.where.service", host=host.name, address=host.address, endpoint=endpoint.said())


class NoStartTls(ProtocolError):
    """A mail endpoint that answers but does not offer STARTTLS: it has no TLS to judge."""


def connect(host: Peer, endpoint: Endpoint, ctx: ConnectOptions) -> tuple[socket.socket, str]:
    """A TCP connection to the endpoint, ready for the TLS handshake, and the banner the
    server sent before STARTTLS ("" when TLS starts at once)."""
    ctx.limiter.acquire(host.address)
    sock = open_tcp(host.address, endpoint.port, ctx.timeout)
    if endpoint.starttls is None:
        return sock, ""
    try:
        info = upgrade(sock, endpoint.starttls, timeout=ctx.timeout)
    except StartTlsNotOffered as exc:
        sock.close()
        raise NoStartTls(exc.said or str(exc)) from exc
    except BaseException:
        sock.close()
        raise
    return sock, info.banner[:_MAX_BANNER]

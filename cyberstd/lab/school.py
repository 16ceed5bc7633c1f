"""The lab school: the demo school's hosts, zones and DNS as real servers on loopback, flaws switchable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cyberstd.clock import Clock
from cyberstd.lab.certs import CertificateAuthority, KeyType
from cyberstd.lab.dns import LAB_SCHOOL_FLAWS, DnsServer, lab_school_zone
from cyberstd.lab.mail import SmtpServer, mta_sts_policy
from cyberstd.lab.services import (
    CURRENT_SSH,
    OUTDATED_SSH,
    TcpService,
    http_service,
    rdp_service,
    silent_service,
    ssh_service,
)
from cyberstd.lab.web import WebServer

DOMAIN = "demo-school.test"


class Flaw(StrEnum):
    """What can be wrong with the lab school; DNS and mail flaws are those of the lab zone."""

    CERT_EXPIRING = "cert-expiring"
    SHORT_HSTS = "short-hsts"
    SERVER_VERSION = "server-version"
    NO_SECURITY_HEADERS = "no-security-headers"
    NO_SECURITY_TXT = "no-security-txt"
    NO_PRIVACY_LINK = "no-privacy-link"
    NO_STARTTLS = "no-starttls"
    FORGOTTEN_RDP = "forgotten-rdp"
    OUTDATED_SSH = "outdated-ssh"
    ADMIN_REACHABLE = "admin-reachable"
    UNKNOWN_DEVICE = "unknown-device"
    SINGLE_NS = "single-ns"
    NO_DNSSEC = "no-dnssec"
    NO_CAA = "no-caa"
    SPF_PLUS_ALL = "spf-plus-all"
    SPF_TOO_MANY_LOOKUPS = "spf-too-many-lookups"
    DMARC_NONE = "dmarc-none"
    DMARC_NO_RUA = "dmarc-no-rua"
    DMARC_PCT = "dmarc-pct"
    DMARC_SP_NONE = "dmarc-sp-none"
    DMARC_INVALID = "dmarc-invalid"
    NO_DMARC = "no-dmarc"
    NO_DKIM = "no-dkim"
    DKIM_REVOKED = "dkim-revoked"
    NO_MTA_STS = "no-mta-sts"
    NO_TLS_RPT = "no-tls-rpt"


# What `cyberstd demo` switches on: a school that did a fair part of the work, not all of it.
DEMO_FLAWS = frozenset(
    {
        Flaw.CERT_EXPIRING,
        Flaw.SHORT_HSTS,
        Flaw.SERVER_VERSION,
        Flaw.NO_SECURITY_TXT,
        Flaw.FORGOTTEN_RDP,
        Flaw.OUTDATED_SSH,
        Flaw.ADMIN_REACHABLE,
        Flaw.UNKNOWN_DEVICE,
        Flaw.DMARC_NONE,
        Flaw.NO_MTA_STS,
        Flaw.NO_TLS_RPT,
    }
)


@dataclass(frozen=True)
class Addresses:
    """One loopback address per simulated host, in the zones of the demo school.yaml."""

    web: str = "127.0.10.1"
    mail: str = "127.0.10.2"
    old_server: str = "127.0.10.3"
    dns: str = "127.0.10.53"
    admin: str = "127.0.30.10"
    unknown: str = "127.0.30.77"


@dataclass(frozen=True)
class Ports:
    """The lab's ports. Well-known ones on their own loopback addresses need root (or
    CAP_NET_BIND_SERVICE); the demo school.yaml declares exactly these."""

    http: int = 18080
    https: int = 18443
    mta_sts: int = 443
    smtp: int = 25
    dns: int = 10053
    rdp: int = 3389
    ssh: int = 2222
    smb: int = 445
    unknown_http: int = 8080


@dataclass(frozen=True)
class LabHost:
    """A running lab host, described the way school.yaml declares a host."""

    name: str
    address: str
    roles: tuple[str, ...]
    ports: dict[str, int]


@dataclass(frozen=True)
class Lab:
    """A running lab: where its files are, which CA to trust, its hosts and its DNS server."""

    workdir: Path
    ca_bundle: Path
    hosts: tuple[LabHost, ...]
    resolver: tuple[str, int] | None = None

    @property
    def website(self) -> LabHost:
        return next(h for h in self.hosts if "website" in h.roles)


def _home_page(privacy_link: bool) -> str:
    link = '<a href="/privacy">Privacyverklaring</a>' if privacy_link else "<span>Contact</span>"
    return (
        "<!doctype html><html lang=nl><head><title>Sint-Voorbeeldinstituut</title></head>"
        f"<body><h1>Welkom</h1><footer>{link}</footer></body></html>"
    )


def _security_txt(clock: Clock) -> bytes:
    expires = (clock.now + dt.timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"Contact: mailto:security@{DOMAIN}\nExpires: {expires}\nPreferred-Languages: nl, en\n"
    ).encode()


@contextmanager
def lab_school(
    workdir: Path,
    *,
    clock: Clock,
    flaws: frozenset[Flaw] = DEMO_FLAWS,
    addresses: Addresses = Addresses(),
    ports: Ports = Ports(),
    key_type: KeyType = KeyType.EC,
) -> Iterator[Lab]:
    """Run the lab school until the `with` block ends.

    Hosts: the website (HTTP and HTTPS, and the MTA-STS policy host on 443), the mail server
    (SMTP with STARTTLS), an old server
    (SSH, and a forgotten remote-desktop listener), the school's DNS server answering its zone,
    an administration server, and an unknown device in the administration zone. Each flaw in
    `flaws` is switched on; everything else is as a careful school would have it. Certificates,
    DNSSEC signatures and security.txt are dated from `clock`, the run's clock.
    """
    unknown = set(flaws) - set(Flaw)
    if unknown:
        raise ValueError(f"unknown flaws: {sorted(unknown)}")
    ca = CertificateAuthority.create(
        workdir, now=clock.now, common_name="Demo school lab CA", key_type=key_type
    )
    web_cert = ca.issue(
        workdir,
        [f"www.{DOMAIN}", f"mta-sts.{DOMAIN}"],
        expires_in_days=20 if Flaw.CERT_EXPIRING in flaws else 365,
        key_type=key_type,
    )
    mail_cert = ca.issue(workdir, [f"mail.{DOMAIN}"], expires_in_days=365, key_type=key_type)
    secure_headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    files: dict[str, tuple[str, bytes]] = {
        "/privacy": (
            "text/html; charset=utf-8",
            b"<!doctype html><title>Privacy</title><p>Privacyverklaring</p>",
        ),
    }
    if Flaw.NO_SECURITY_TXT not in flaws:
        files["/.well-known/security.txt"] = ("text/plain; charset=utf-8", _security_txt(clock))
    zone_flaws = {str(f) for f in flaws if str(f) in LAB_SCHOOL_FLAWS}
    zone = lab_school_zone(
        DOMAIN,
        mail_address=addresses.mail,
        web_address=addresses.web,
        flaws=zone_flaws,
        now=clock.timestamp,
        ns_address=addresses.dns,
    )
    zone += f"oud A {addresses.old_server}\nadmin A {addresses.admin}\n"
    with ExitStack() as stack:
        web = stack.enter_context(
            WebServer(
                cert=web_cert,
                address=addresses.web,
                host_name=f"www.{DOMAIN}",
                http_port=ports.http,
                https_port=ports.https,
                hsts_max_age=300 if Flaw.SHORT_HSTS in flaws else 31536000,
                https_headers=None if Flaw.NO_SECURITY_HEADERS in flaws else secure_headers,
                home_page=_home_page(Flaw.NO_PRIVACY_LINK not in flaws),
                files=files,
                server_header="Apache/2.4.29 (Ubuntu)"
                if Flaw.SERVER_VERSION in flaws
                else "Apache",
            )
        )
        if Flaw.NO_MTA_STS not in flaws:
            # The policy host answers on 443, where MTA-STS senders look (RFC 8461).
            stack.enter_context(
                WebServer(
                    cert=web_cert,
                    address=addresses.web,
                    host_name=f"mta-sts.{DOMAIN}",
                    http_port=None,
                    https_port=ports.mta_sts,
                    files={
                        "/.well-known/mta-sts.txt": (
                            "text/plain; charset=utf-8",
                            mta_sts_policy([f"mail.{DOMAIN}"]),
                        )
                    },
                )
            )
        smtp = stack.enter_context(
            SmtpServer(
                address=addresses.mail,
                port=ports.smtp,
                host_name=f"mail.{DOMAIN}",
                cert=mail_cert,
                starttls=Flaw.NO_STARTTLS not in flaws,
            )
        )
        dns_server = stack.enter_context(DnsServer(zone, address=addresses.dns, port=ports.dns))
        services: list[TcpService] = [
            ssh_service(
                address=addresses.old_server,
                port=ports.ssh,
                version=OUTDATED_SSH if Flaw.OUTDATED_SSH in flaws else CURRENT_SSH,
            )
        ]
        if Flaw.FORGOTTEN_RDP in flaws:
            services.append(rdp_service(address=addresses.old_server, port=ports.rdp))
        if Flaw.ADMIN_REACHABLE in flaws:
            services.append(silent_service(address=addresses.admin, port=ports.smb))
        if Flaw.UNKNOWN_DEVICE in flaws:
            services.append(http_service(address=addresses.unknown, port=ports.unknown_http))
        for service in services:
            stack.enter_context(service)
        old_ports = {"ssh": ports.ssh} | ({"rdp": ports.rdp} if Flaw.FORGOTTEN_RDP in flaws else {})
        hosts = (
            LabHost(f"www.{DOMAIN}", addresses.web, ("website",), web.ports),
            LabHost(f"mail.{DOMAIN}", addresses.mail, ("mail",), {"smtp": smtp.port}),
            LabHost(f"oud.{DOMAIN}", addresses.old_server, ("server",), old_ports),
            LabHost(f"ns1.{DOMAIN}", addresses.dns, ("dns",), {"dns": dns_server.port}),
            LabHost(f"admin.{DOMAIN}", addresses.admin, ("server",), {"smb": ports.smb}),
        )
        yield Lab(workdir, ca.cert_path, hosts, (addresses.dns, dns_server.port))

"""The design of a lab fleet: its schools, their addresses and flaws, and what a scan must find.

A fleet is many schools hosted the way small providers host them: every website on one of a
few shared addresses (told apart by SNI and Host), every school's mail on the same shared
servers, every zone on one authoritative DNS server. `design_fleet` draws the schools from a
seed: names, institution numbers, which address hosts each, and which flaws it has, so that
the same seed gives the same fleet and a fleet of 100 is the first 100 of a fleet of 3,000
(the flawed share is exact, so only which schools carry flaws may differ). `expected`
says, for every check of the perimeter profile, the status a scan must give each school.

Nothing here starts a server; `cyberstd.lab.fleet` runs what this designs.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cyberstd.lab.dns import LAB_SCHOOL_FLAWS

# Addresses in 127.16.0.0/16 (no other lab uses it): the DNS server, the shared hosting
# addresses (web, mail) and the provider's old mail server, which offers no STARTTLS.
FLEET_RANGE = "127.16.0.0/16"
DNS_ADDRESS = "127.16.0.53"
HOSTING_ADDRESSES = tuple(f"127.16.1.{i}" for i in range(1, 17))
OLD_MAIL_ADDRESS = "127.16.2.25"
DNS_PORT = 53
MAX_SCHOOLS = 20_000
PROFILE = "perimeter"


class FleetFlaw(StrEnum):
    """What can be wrong with a school of the fleet: what shared servers can vary per school
    (by SNI and Host, by the address its zone points to) and what its zone says."""

    CERT_EXPIRING = "cert-expiring"
    CERT_EXPIRED = "cert-expired"
    NO_HSTS = "no-hsts"
    SHORT_HSTS = "short-hsts"
    NO_HTTPS_REDIRECT = "no-https-redirect"
    NO_SECURITY_HEADERS = "no-security-headers"
    SERVER_VERSION = "server-version"
    NO_SECURITY_TXT = "no-security-txt"
    NO_PRIVACY_LINK = "no-privacy-link"
    OLD_TLS = "old-tls"
    WEAK_CIPHERS = "weak-ciphers"
    NO_STARTTLS = "no-starttls"
    SINGLE_NS = "single-ns"
    NO_DNSSEC = "no-dnssec"
    DNSSEC_EXPIRED = "dnssec-expired"
    NO_CAA = "no-caa"
    SPF_PLUS_ALL = "spf-plus-all"
    SPF_TOO_MANY_LOOKUPS = "spf-too-many-lookups"
    DMARC_NONE = "dmarc-none"
    DMARC_PCT = "dmarc-pct"
    DMARC_SP_NONE = "dmarc-sp-none"
    DMARC_INVALID = "dmarc-invalid"
    NO_DMARC = "no-dmarc"
    DKIM_REVOKED = "dkim-revoked"
    NO_MTA_STS = "no-mta-sts"
    NO_TLS_RPT = "no-tls-rpt"


ZONE_FLAWS = frozenset(f for f in FleetFlaw if f.value in LAB_SCHOOL_FLAWS)
# Flaws of the website that nobody can see behind a certificate a client cannot verify.
_BEHIND_THE_CERTIFICATE = frozenset(
    {
        FleetFlaw.NO_HSTS,
        FleetFlaw.SHORT_HSTS,
        FleetFlaw.NO_HTTPS_REDIRECT,
        FleetFlaw.NO_SECURITY_HEADERS,
        FleetFlaw.SERVER_VERSION,
        FleetFlaw.NO_SECURITY_TXT,
        FleetFlaw.NO_PRIVACY_LINK,
    }
)
# At most one flaw of each of these sets per school: they are variants of one setting.
EXCLUSIVE: tuple[frozenset[FleetFlaw], ...] = (
    frozenset({FleetFlaw.CERT_EXPIRING, FleetFlaw.CERT_EXPIRED}),
    frozenset({FleetFlaw.NO_HSTS, FleetFlaw.SHORT_HSTS}),
    frozenset({FleetFlaw.NO_DNSSEC, FleetFlaw.DNSSEC_EXPIRED}),
    frozenset({FleetFlaw.SPF_PLUS_ALL, FleetFlaw.SPF_TOO_MANY_LOOKUPS}),
    frozenset(
        {
            FleetFlaw.DMARC_NONE,
            FleetFlaw.DMARC_PCT,
            FleetFlaw.DMARC_SP_NONE,
            FleetFlaw.DMARC_INVALID,
            FleetFlaw.NO_DMARC,
        }
    ),
    frozenset({FleetFlaw.CERT_EXPIRED, *_BEHIND_THE_CERTIFICATE}),
)

# Every check the perimeter profile runs on a school of the fleet.
PERIMETER_CHECKS = (
    "dns.soa-ns",
    "dns.dnssec",
    "dns.caa",
    "mail.mx",
    "mail.spf",
    "mail.dmarc",
    "mail.dmarc-enforced",
    "mail.dkim",
    "mail.starttls",
    "mail.mta-sts",
    "mail.tls-rpt",
    "tls.cert-valid",
    "tls.cert-expiry",
    "tls.min-version",
    "tls.protocols",
    "tls.weak-ciphers",
    "tls.cert-key",
    "web.https-redirect",
    "web.hsts",
    "web.security-headers",
    "web.server-disclosure",
    "web.security-txt",
    "web.privacy-statement",
)
_WEB_BEHIND_TLS = (
    "web.hsts",
    "web.security-headers",
    "web.server-disclosure",
    "web.security-txt",
    "web.privacy-statement",
)

# What each flaw does to the checks: their status when only that flaw is on.
EFFECTS: dict[FleetFlaw, dict[str, str]] = {
    FleetFlaw.CERT_EXPIRING: {},
    FleetFlaw.CERT_EXPIRED: {
        "tls.cert-valid": "fail",
        "tls.cert-expiry": "fail",
        **dict.fromkeys(_WEB_BEHIND_TLS, "error"),
    },
    FleetFlaw.NO_HSTS: {"web.hsts": "fail"},
    FleetFlaw.SHORT_HSTS: {"web.hsts": "fail"},
    FleetFlaw.NO_HTTPS_REDIRECT: {"web.https-redirect": "fail"},
    FleetFlaw.NO_SECURITY_HEADERS: {"web.security-headers": "fail"},
    FleetFlaw.SERVER_VERSION: {"web.server-disclosure": "fail"},
    FleetFlaw.NO_SECURITY_TXT: {"web.security-txt": "fail"},
    FleetFlaw.NO_PRIVACY_LINK: {"web.privacy-statement": "fail"},
    FleetFlaw.OLD_TLS: {"tls.protocols": "fail"},
    FleetFlaw.WEAK_CIPHERS: {"tls.weak-ciphers": "fail"},
    FleetFlaw.NO_STARTTLS: {"mail.starttls": "fail"},
    FleetFlaw.SINGLE_NS: {"dns.soa-ns": "fail"},
    FleetFlaw.NO_DNSSEC: {"dns.dnssec": "fail"},
    FleetFlaw.DNSSEC_EXPIRED: {"dns.dnssec": "fail"},
    FleetFlaw.NO_CAA: {"dns.caa": "fail"},
    FleetFlaw.SPF_PLUS_ALL: {"mail.spf": "fail"},
    FleetFlaw.SPF_TOO_MANY_LOOKUPS: {"mail.spf": "fail"},
    FleetFlaw.DMARC_NONE: {"mail.dmarc-enforced": "fail"},
    FleetFlaw.DMARC_PCT: {"mail.dmarc-enforced": "fail"},
    FleetFlaw.DMARC_SP_NONE: {"mail.dmarc-enforced": "fail"},
    FleetFlaw.DMARC_INVALID: {"mail.dmarc": "fail"},
    FleetFlaw.NO_DMARC: {"mail.dmarc": "fail", "mail.dmarc-enforced": "fail"},
    FleetFlaw.DKIM_REVOKED: {"mail.dkim": "fail"},
    FleetFlaw.NO_MTA_STS: {"mail.mta-sts": "fail"},
    FleetFlaw.NO_TLS_RPT: {"mail.tls-rpt": "fail"},
}
# Checks that pass with a warning when the flaw is on.
WARNINGS: dict[FleetFlaw, tuple[str, ...]] = {
    FleetFlaw.CERT_EXPIRING: ("tls.cert-expiry",),
    FleetFlaw.DMARC_NONE: ("mail.dmarc",),
    FleetFlaw.DMARC_PCT: ("mail.dmarc",),
}
# A worse status wins when two flaws touch one check.
_RANK = {"pass": 0, "error": 1, "fail": 2}

_KINDS = (
    "Basisschool De Regenboog",
    "Vrije Basisschool Sint-Jozef",
    "Sint-Jozefscollege",
    "Koninklijk Atheneum",
    "GO! Basisschool De Vlieger",
    "Sint-Ursula-Instituut",
    "Heilig-Hartcollege",
    "Technisch Instituut Sint-Vincentius",
    "Gemeentelijke Basisschool",
    "Sint-Lutgardisschool",
    "Stedelijk Lyceum",
    "Buitengewoon Onderwijs De Zonnebloem",
    "Centrum voor Volwassenenonderwijs",
    "Kunsthumaniora",
    "Middenschool Het Spoor",
)
_TOWNS = (
    "Aalst",
    "Brugge",
    "Dendermonde",
    "Diest",
    "Geel",
    "Genk",
    "Gent",
    "Hasselt",
    "Ieper",
    "Kortrijk",
    "Leuven",
    "Lier",
    "Lokeren",
    "Mechelen",
    "Ninove",
    "Oostende",
    "Roeselare",
    "Sint-Niklaas",
    "Tienen",
    "Tongeren",
    "Turnhout",
    "Vilvoorde",
    "Waregem",
    "Zottegem",
)


@dataclass(frozen=True)
class FleetSchool:
    """One school of the fleet: where it lives and what is wrong with it."""

    index: int
    institution_number: str
    name: str
    address: str
    flaws: frozenset[FleetFlaw]

    @property
    def id(self) -> str:
        return f"school-{self.institution_number}"

    @property
    def domain(self) -> str:
        return f"school-{self.index:04d}.test"

    @property
    def www(self) -> str:
        return f"www.{self.domain}"

    @property
    def mail_address(self) -> str:
        return OLD_MAIL_ADDRESS if FleetFlaw.NO_STARTTLS in self.flaws else self.address

    @property
    def zone_flaws(self) -> set[str]:
        return {f.value for f in self.flaws if f in ZONE_FLAWS}

    def expected(self) -> dict[str, str]:
        """The status a perimeter scan must give each check of this school."""
        statuses = dict.fromkeys(PERIMETER_CHECKS, "pass")
        for flaw in sorted(self.flaws):
            for check, status in EFFECTS[flaw].items():
                if _RANK[status] > _RANK[statuses[check]]:
                    statuses[check] = status
        return statuses

    def warnings(self) -> list[str]:
        """The checks that pass with a warning, by the flaws of this school."""
        return sorted({c for f in self.flaws for c in WARNINGS.get(f, ())})


def _draw(seed: int, index: int, what: str) -> random.Random:
    """A generator for one school and one property, the same whatever the size of the fleet."""
    digest = hashlib.sha256(f"{seed}:{index}:{what}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _pick_flaws(rng: random.Random) -> frozenset[FleetFlaw]:
    wanted = rng.choice((1, 1, 1, 2, 2, 3))
    chosen: set[FleetFlaw] = set()
    candidates = list(FleetFlaw)
    while len(chosen) < wanted:
        allowed = [f for f in candidates if f not in chosen and _compatible(chosen, f)]
        if not allowed:
            break
        chosen.add(rng.choice(allowed))
    return frozenset(chosen)


def _compatible(chosen: Iterable[FleetFlaw], flaw: FleetFlaw) -> bool:
    return not any(flaw in group and group & set(chosen) for group in EXCLUSIVE)


def design_fleet(n: int, seed: int, flawed: float) -> tuple[FleetSchool, ...]:
    """`n` schools drawn from `seed`, `round(n * flawed)` of them with one to three flaws."""
    if not 1 <= n <= MAX_SCHOOLS:
        raise ValueError(f"a fleet has 1 to {MAX_SCHOOLS} schools, not {n}")
    if not 0.0 <= flawed <= 1.0:
        raise ValueError(f"the flawed share lies between 0 and 1, not {flawed}")
    numbers: set[str] = set()
    drawn: list[tuple[int, str, str, str, float]] = []
    for index in range(1, n + 1):
        rng = _draw(seed, index, "school")
        number = f"{rng.randrange(100000, 1000000)}"
        while number in numbers:
            number = f"{int(number) % 899999 + 100001}"
        numbers.add(number)
        name = f"{rng.choice(_KINDS)} {rng.choice(_TOWNS)}"
        address = rng.choice(HOSTING_ADDRESSES)
        drawn.append((index, number, name, address, rng.random()))
    order = sorted(drawn, key=lambda row: row[4])
    flawed_ones = {row[0] for row in order[: round(n * flawed)]}
    return tuple(
        FleetSchool(
            index=index,
            institution_number=number,
            name=name,
            address=address,
            flaws=_pick_flaws(_draw(seed, index, "flaws")) if index in flawed_ones else frozenset(),
        )
        for index, number, name, address, _ in drawn
    )

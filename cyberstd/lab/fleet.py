"""The lab fleet: thousands of schools on loopback, for the group scan's tests and benchmarks.

`fleet_lab(workdir, n, seed, clock)` designs `n` schools from `seed` (`fleetplan`), writes
what a group scan needs into `workdir` (`fleetfiles`) and runs, until the `with` block ends:

- one authoritative DNS server (127.16.0.53, port 53) for every school's zone, each zone the
  lab school's (SOA, NS, www, MX, SPF, DMARC, DKIM, MTA-STS, TLS-RPT, CAA, DNSSEC) with the
  school's flaws; a zone is built and signed when first asked for, and answers to repeated
  questions come from a cache of wire answers;
- on each of 16 hosting addresses (127.16.1.1-16) HTTPS (443), HTTP (80) and SMTP with
  STARTTLS (25) for every school hosted there (`fleetweb`), and the provider's old mail
  server without STARTTLS (127.16.2.25) for the schools whose MX points there.

Ports below 1024 need root (or CAP_NET_BIND_SERVICE), like the demo's lab. Certificates come
from the fleet's CA (`workdir/ca.pem`), issued per school on first use and kept in
`workdir/lab/certs`; a fleet started again on the same day in the same folder reuses them.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype

from cyberstd.clock import Clock
from cyberstd.lab.certs import CertificateAuthority
from cyberstd.lab.dns import DnsServer, RecordTable, lab_school_table
from cyberstd.lab.fleetfiles import (
    LAB_DIR,
    claim,
    write_fleet_files,
    write_manifest,
)
from cyberstd.lab.fleetplan import (
    DNS_ADDRESS,
    DNS_PORT,
    HOSTING_ADDRESSES,
    OLD_MAIL_ADDRESS,
    FleetSchool,
    design_fleet,
)
from cyberstd.lab.fleetweb import Hosting, SharedSmtp, SharedWeb
from cyberstd.lab.server import ThreadedTcpServer

__all__ = ["Fleet", "FleetDnsServer", "FleetSchool", "fleet_lab"]

# Wire answers the DNS server keeps: some 40 questions per school for a few thousand schools.
ANSWERS_KEPT = 200_000
MANIFEST_VERSION = 1
# Zones a validating resolver cannot validate: answers from them carry no AD flag.
_NOT_VALIDATED = frozenset({"no-dnssec", "dnssec-expired"})


class FleetDnsServer(DnsServer):
    """One authoritative DNS server for the zones of every school of a fleet.

    A zone's records are built and signed the first time a name in it is asked for (some
    milliseconds), so that a fleet of thousands starts at once; `warm()` builds them all.
    Names outside every zone get NXDOMAIN. It is the scans' resolver as well, and a
    validating one: answers from a zone with valid signatures carry the AD flag.
    """

    def __init__(
        self,
        schools: tuple[FleetSchool, ...],
        *,
        clock: Clock,
        address: str = DNS_ADDRESS,
        port: int = DNS_PORT,
        answer_cache: int = ANSWERS_KEPT,
    ) -> None:
        super().__init__(
            {}, address=address, port=port, record_queries=False, answer_cache=answer_cache
        )
        self._clock = clock
        self._schools = {dns.name.from_text(s.domain): s for s in schools}
        self._zones: dict[dns.name.Name, RecordTable] = {}
        self._building = threading.Lock()

    def _describe(self) -> str:
        return "lab fleet DNS server"

    @property
    def zones_built(self) -> int:
        return len(self._zones)

    def _school_of(self, name: dns.name.Name) -> FleetSchool | None:
        while name not in self._schools:
            if len(name) <= 1:
                return None
            name = name.parent()
        return self._schools[name]

    def table_for(self, name: dns.name.Name) -> RecordTable:
        school = self._school_of(name)
        if school is None:
            return self._table
        apex = dns.name.from_text(school.domain)
        table = self._zones.get(apex)
        if table is None:
            with self._building:
                table = self._zones.get(apex)
                if table is None:
                    table = self._zones[apex] = self._build(school)
        return table

    def _answer(
        self,
        query: dns.message.Message,
        qname: dns.name.Name,
        qtype: dns.rdatatype.RdataType,
        qclass: dns.rdataclass.RdataClass,
    ) -> dns.message.Message:
        # The server is the scan's resolver too: like a validating resolver, it marks the
        # answers from a zone whose signatures are valid as authenticated (AD).
        response = super()._answer(query, qname, qtype, qclass)
        school = self._school_of(qname)
        if school is not None and not school.zone_flaws & _NOT_VALIDATED:
            response.flags |= dns.flags.AD
        return response

    def _build(self, school: FleetSchool) -> RecordTable:
        return lab_school_table(
            school.domain,
            mail_address=school.mail_address,
            web_address=school.address,
            flaws=school.zone_flaws,
            now=self._clock.timestamp,
            ns_address=self.address,
        )

    def warm(self) -> None:
        """Build every zone now."""
        for apex in self._schools:
            self.table_for(apex)


@dataclass(frozen=True)
class Fleet:
    """A running fleet: its folder and files, its schools, and the servers serving them."""

    workdir: Path
    seed: int
    schools: tuple[FleetSchool, ...]
    group_file: Path
    expected_file: Path
    ca_bundle: Path
    school_list: Path | None
    folders: bool
    dns: FleetDnsServer
    hosting: Hosting

    @property
    def resolver(self) -> tuple[str, int]:
        return (self.dns.address, self.dns.port)

    def school(self, key: str) -> FleetSchool:
        """A school by its id (school-<institution number>) or its domain."""
        for school in self.schools:
            if key in (school.id, school.domain):
                return school
        raise KeyError(key)

    def folder_of(self, school: FleetSchool) -> Path:
        """The school's folder (a fleet written with `folders=True`)."""
        if not self.folders:
            raise ValueError("this fleet wrote a list of schools, not a folder per school")
        return self.workdir / school.id

    def warm(self) -> None:
        """Build every zone, certificate and website now instead of on first use."""
        self.dns.warm()
        for school in self.schools:
            self.hosting.prepare(school)


def _authority(lab: Path, clock: Clock, earlier: dict[str, object] | None) -> CertificateAuthority:
    """The CA of an earlier fleet of the same day in this folder, or a new one."""
    if earlier is not None and earlier.get("day") == clock.today.isoformat():
        try:
            return CertificateAuthority.load(lab, now=clock.now)
        except (OSError, ValueError):
            pass
    shutil.rmtree(lab / "certs", ignore_errors=True)
    return CertificateAuthority.create(lab, now=clock.now, common_name="cyberstd lab fleet CA")


@contextmanager
def fleet_lab(
    workdir: Path,
    n: int,
    seed: int,
    clock: Clock,
    *,
    flawed: float = 0.4,
    folders: bool = False,
) -> Iterator[Fleet]:
    """Design a fleet of `n` schools from `seed`, write its files into `workdir` and run it
    until the `with` block ends (see the module's docstring).

    `flawed` is the share of schools with at least one flaw; `folders` writes a school folder
    per school instead of scholen.csv. ValueError for a size or share out of range,
    FleetRefused for a folder that holds something else, OSError (with the errno) when a
    port cannot be bound.
    """
    schools = design_fleet(n, seed, flawed)
    earlier = claim(workdir)
    lab = workdir / LAB_DIR
    lab.mkdir(exist_ok=True)
    ca = _authority(lab, clock, earlier)
    files = write_fleet_files(
        workdir,
        schools,
        ca_pem=ca.cert_path.read_bytes(),
        seed=seed,
        flawed=flawed,
        now=clock.now,
        day=clock.today,
        folders=folders,
    )
    write_manifest(
        workdir,
        {
            "version": MANIFEST_VERSION,
            "seed": seed,
            "schools": n,
            "flawed": flawed,
            "day": clock.today.isoformat(),
            "written": list(files.written),
        },
    )
    hosting = Hosting({s.domain: s for s in schools}, ca, lab / "certs", clock)
    with ExitStack() as stack:
        dns_server = stack.enter_context(FleetDnsServer(schools, clock=clock))
        servers: list[ThreadedTcpServer] = []
        for address in HOSTING_ADDRESSES:
            servers += [
                SharedWeb(hosting, address=address, port=443, https=True),
                SharedWeb(hosting, address=address, port=80, https=False),
                SharedSmtp(hosting, address=address, port=25, starttls=True),
            ]
        servers.append(SharedSmtp(hosting, address=OLD_MAIL_ADDRESS, port=25, starttls=False))
        for server in servers:
            stack.enter_context(server)
        yield Fleet(
            workdir=workdir,
            seed=seed,
            schools=schools,
            group_file=files.group_file,
            expected_file=files.expected,
            ca_bundle=files.ca_bundle,
            school_list=files.school_list,
            folders=folders,
            dns=dns_server,
            hosting=hosting,
        )

"""A lab DNS server on loopback: authoritative over UDP and TCP for a zone, hostile when asked."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Mapping, Sequence

import dns.dnssec
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cyberstd.lab.dnswire import AnswerCache, PlainQuery, plain_query
from cyberstd.lab.server import ThreadedTcpServer, check_loopback

# Names and record lists as a mapping: {"demo-school.test": [("MX", "10 mail.demo-school.test")]}.
ZoneRecords = Mapping[str, Sequence[tuple[str, str]]]

DEFAULT_TTL = 300
# The most CNAMEs one answer follows, so that a CNAME loop in a zone cannot hang the server.
MAX_CNAME_CHAIN = 8
# A TXT string holds at most 255 bytes (RFC 1035 section 3.3).
TXT_STRING = 255
UDP_PLAIN_LIMIT = 512

DAY = 86400.0

# A 2048-bit RSA public key (its private half was thrown away): the lab school's DKIM key.
LAB_DKIM_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArdLKOdVLFyA1fXGhSMZXnHlmkevfqSeJH76k2NaZ6mWypMiZ"
    "SRTKlbSpaLaUv2/ibnagD3m5CS4HI0DLYLh7n/7jmJ6sreT9RIgYTK4xnppWLl6DKOCFTHPmYO7I9J1Ki2g4/SciMvl9"
    "PhK70Lea1MTQnFD9PawM/3i9aTqbAmhe8EohAbDH5gmKS6bSDgsFkUvfigDCrqohjHk6b7WzHnj5ZOI/OHeKaI1Opu20"
    "tnMBeoPglGfHQerGThtkxQokXI0rTqmcMBO/jVHIoj85bJBEFYdjj3LE6By6vTS3tMoI4JmTEZjowWmLbqJZ4ouhitld"
    "bVfUPDCf0Y/0e+F6rQIDAQAB"
)
# An ECDSA P-256 public key in DNSKEY form (algorithm 13), for zones that need DNSSEC records
# without signatures (its private half was thrown away too).
LAB_DNSKEY = "257 3 13 +yvfzavs1SOCNVZMsggKmreSm5KMXgAXH7oZOqSYNRR9ZajvI8V90cwzkO5OR8e0FuOgdGKU18XDhZS6BsjXPw=="

# Every flaw `lab_school_zone` can switch on, with what it does.
LAB_SCHOOL_FLAWS: dict[str, str] = {
    "single-ns": "only one name server (NS) instead of two",
    "no-dnssec": "no DNSKEY and no DS: the zone is not signed",
    "dnssec-expired": "the DNSSEC signatures expired ten days ago: validating resolvers fail",
    "no-caa": "no CAA record: any certificate authority may issue certificates",
    "spf-plus-all": "SPF ends in +all: anyone may send mail as the school",
    "spf-too-many-lookups": "SPF needs more than 10 DNS look-ups (nested includes)",
    "dmarc-none": "DMARC policy p=none: forged mail is delivered anyway",
    "dmarc-no-rua": "DMARC without rua: nobody receives the aggregate reports",
    "dmarc-pct": "DMARC pct=50: the policy applies to half of the failing mail only",
    "dmarc-sp-none": "DMARC sp=none: forged mail from made-up subdomains is delivered",
    "dmarc-invalid": "DMARC rua without mailto: (a syntax error receivers skip)",
    "no-dmarc": "no DMARC record of its own (a school group's record may cover it)",
    "no-dkim": "no DKIM key at selector1 and selector2 (nothing to judge unless declared)",
    "dkim-revoked": "the DKIM keys at selector1 and selector2 are revoked (empty p=)",
    "no-mta-sts": "no MTA-STS record and no policy host",
    "no-tls-rpt": "no TLS-RPT record",
}


def _txt(strings: str) -> dns.rdata.Rdata:
    """A TXT rdata: zone syntax when it starts with a quote, else one text cut into 255-byte strings."""
    data = strings.encode("utf-8")
    chunks = [data[i : i + TXT_STRING] for i in range(0, len(data), TXT_STRING)] or [b""]
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)


def _rdata(rdtype: dns.rdatatype.RdataType, text: str) -> dns.rdata.Rdata:
    if rdtype == dns.rdatatype.TXT and not text.lstrip().startswith('"'):
        return _txt(text)
    return dns.rdata.from_text(
        dns.rdataclass.IN, rdtype, text, origin=dns.name.root, relativize=False
    )


class RecordTable:
    """The records a server answers from, by owner name and type."""

    def __init__(self) -> None:
        self.records: dict[dns.name.Name, dict[dns.rdatatype.RdataType, dns.rrset.RRset]] = {}
        # RRSIG records by owner and by the type they cover: sent along when a query sets DO.
        self.signatures: dict[dns.name.Name, dict[dns.rdatatype.RdataType, dns.rrset.RRset]] = {}
        self.interior: set[dns.name.Name] = set()

    def add(self, name: dns.name.Name, ttl: int, rdata: dns.rdata.Rdata) -> None:
        covers = rdata.covers()
        if rdata.rdtype == dns.rdatatype.RRSIG:
            node = self.signatures.setdefault(name, {})
            key = covers
        else:
            node = self.records.setdefault(name, {})
            key = rdata.rdtype
        rrset = node.get(key)
        if rrset is None:
            rrset = node[key] = dns.rrset.RRset(name, dns.rdataclass.IN, rdata.rdtype, covers)
        rrset.add(rdata, ttl)
        parent = name
        while parent != dns.name.root:
            parent = parent.parent()
            self.interior.add(parent)

    def exists(self, name: dns.name.Name) -> bool:
        # A name with records, or an empty non-terminal (a name with descendants, such as
        # _domainkey.<domain> when only selectors have records), exists: NODATA, not NXDOMAIN.
        return name in self.records or name in self.interior

    def soa_for(self, name: dns.name.Name) -> dns.rrset.RRset | None:
        while True:
            soa = self.records.get(name, {}).get(dns.rdatatype.SOA)
            if soa is not None or name == dns.name.root:
                return soa
            name = name.parent()

    def wildcard(self, name: dns.name.Name) -> dict[dns.rdatatype.RdataType, dns.rrset.RRset]:
        # RFC 4592: the wildcard at the closest existing ancestor answers for a missing name.
        encloser = name
        while encloser != dns.name.root:
            encloser = encloser.parent()
            if self.exists(encloser):
                break
        star = self.records.get(dns.name.Name((b"*", *encloser.labels)), {})
        synthesised: dict[dns.rdatatype.RdataType, dns.rrset.RRset] = {}
        for rdtype, rrset in star.items():
            copy = dns.rrset.RRset(name, dns.rdataclass.IN, rdtype)
            for rdata in rrset:
                copy.add(rdata, rrset.ttl)
            synthesised[rdtype] = copy
        return synthesised


def _absolute(name: str) -> dns.name.Name:
    return dns.name.from_text(name, origin=dns.name.root)


def _table_from_mapping(records: ZoneRecords, ttl: int) -> RecordTable:
    table = RecordTable()
    for owner, entries in records.items():
        name = _absolute(owner)
        for type_text, value in entries:
            rdtype = dns.rdatatype.from_text(type_text)
            table.add(name, ttl, _rdata(rdtype, value))
    return table


def _table_from_text(text: str, origin: str | None) -> RecordTable:
    zone = dns.zone.from_text(
        text,
        origin=_absolute(origin) if origin else None,
        relativize=False,
        check_origin=False,
    )
    table = RecordTable()
    for name, rdataset in zone.iterate_rdatasets():
        for rdata in rdataset:
            table.add(name, rdataset.ttl, rdata)
    return table


def zone_records(text: str, origin: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """The records of master-file `text` as the mapping DnsServer takes, to merge several zones."""
    records: dict[str, list[tuple[str, str]]] = {}
    table = _table_from_text(text, origin)
    for nodes in (table.records, table.signatures):
        for name, node in nodes.items():
            entries = records.setdefault(name.to_text(), [])
            for rrset in node.values():
                kind = dns.rdatatype.to_text(rrset.rdtype)
                entries.extend((kind, rdata.to_text()) for rdata in rrset)
    return records


def _under(name: dns.name.Name, roots: Iterable[dns.name.Name]) -> bool:
    return any(name.is_subdomain(root) for root in roots)


class DnsServer(ThreadedTcpServer):
    """An authoritative DNS server on loopback, over UDP and TCP on the same port.

    `zone` is master-file text (with `$ORIGIN`, or give `origin`) or a mapping from absolute
    names to (type, value) pairs; a TXT value that does not start with a quote is one text,
    cut into 255-byte strings. Any record type dnspython knows is served (A, AAAA, NS, SOA,
    MX, TXT, CAA, CNAME, DNSKEY and DS as plain records: nothing is signed). Unknown names get
    NXDOMAIN, names that only have descendants NODATA, CNAMEs are followed within the data,
    `*` wildcards answer for missing names. A UDP answer larger than 512 bytes (or the
    client's EDNS size) is sent truncated, so that the client retries over TCP; an answer
    larger than a TCP message gets SERVFAIL.

    Hostile modes: `black_hole=True` reads every query and never answers (UDP and TCP);
    `drop` does the same for the names under the listed domains only; `servfail` answers
    SERVFAIL for the names under the listed domains. `authenticated=True` sets the AD flag
    on every answer, as a validating resolver does for signed data. Hostile data (hundreds of TXT strings,
    SPF include loops, huge answers) is simply zone content.

    Use it as a context manager; `port` is the bound port (0 picks a free one, the same for
    UDP and TCP). `queries` lists (name, type, "udp"|"tcp") of every query received
    (`record_queries=False` keeps none, for a server that runs long). `answer_cache=N` keeps
    up to N wire answers to plain queries and serves repeats from them (see `dnswire`), with
    `record_queries=False` only: for data and modes that do not change while it runs.
    """

    kind = "dns"
    udp = True

    def __init__(
        self,
        zone: ZoneRecords | str,
        *,
        address: str = "127.0.0.1",
        port: int = 0,
        origin: str | None = None,
        ttl: int = DEFAULT_TTL,
        black_hole: bool = False,
        drop: Iterable[str] = (),
        servfail: Iterable[str] = (),
        authenticated: bool = False,
        record_queries: bool = True,
        answer_cache: int = 0,
    ) -> None:
        super().__init__(address=address, port=port)
        self.authenticated = authenticated
        if answer_cache > 0 and record_queries:
            raise ValueError("a DNS server that caches answers cannot list every query")
        self.record_queries = record_queries
        self.answers = AnswerCache(answer_cache) if answer_cache > 0 else None
        self._table = (
            _table_from_text(zone, origin)
            if isinstance(zone, str)
            else _table_from_mapping(zone, ttl)
        )
        self.black_hole = black_hole
        self._drop = [_absolute(d) for d in drop]
        self._servfail = [_absolute(d) for d in servfail]
        self.queries: list[tuple[str, str, str]] = []

    def _describe(self) -> str:
        return "lab DNS server"

    # --- transport -----------------------------------------------------------------------------

    def handle_datagram(self, data: bytes) -> bytes | None:
        return self._safe_reply(data, "udp")

    @staticmethod
    def _read_exactly(conn: socket.socket, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def handle(self, conn: socket.socket) -> None:
        # Messages over TCP, each after its 2-byte length, until the client hangs up or goes idle.
        while not self._stopping.is_set():
            head = self._read_exactly(conn, 2)
            if head is None:
                return
            wire = self._read_exactly(conn, struct.unpack("!H", head)[0])
            if wire is None:
                return
            reply = self._safe_reply(wire, "tcp")
            if reply is not None:
                conn.sendall(struct.pack("!H", len(reply)) + reply)

    # --- answers -------------------------------------------------------------------------------

    def _safe_reply(self, wire: bytes, transport: str) -> bytes | None:
        try:
            return self._reply(wire, transport)
        except Exception as exc:  # a lab bug: keep it for whoever runs the lab, keep serving
            self.errors.append(exc)
            return None

    def _reply(self, wire: bytes, transport: str) -> bytes | None:
        """The wire answer to one query, or None to stay silent."""
        plain = plain_query(wire) if self.answers is not None else None
        if plain is not None and self.answers is not None:
            cached = self.answers.answer(plain, wire, transport)
            if cached is not None:
                return cached
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None  # not DNS: a real server drops it too
        if not query.question:
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        if self.record_queries:
            with self._lock:
                self.queries.append(
                    (
                        question.name.to_text(omit_final_dot=True),
                        dns.rdatatype.to_text(question.rdtype),
                        transport,
                    )
                )
        if self.black_hole or _under(question.name, self._drop):
            return None
        response = self._answer(query, question.name, question.rdtype, question.rdclass)
        limit = 65535
        if transport == "udp":
            limit = max(UDP_PLAIN_LIMIT, query.payload) if query.edns >= 0 else UDP_PLAIN_LIMIT
        try:
            full = response.to_wire(max_size=65535)
        except dns.exception.TooBig:
            full = None
        if full is not None:
            self._keep(plain, full)
            if len(full) <= limit:
                return full
        short = dns.message.make_response(query)
        short.flags |= dns.flags.AA
        if transport == "udp":
            short.flags |= dns.flags.TC
        else:
            short.set_rcode(dns.rcode.SERVFAIL)
        return short.to_wire()

    def _keep(self, plain: PlainQuery | None, full: bytes) -> None:
        if plain is not None and self.answers is not None:
            self.answers.keep(plain, full)

    def table_for(self, name: dns.name.Name) -> RecordTable:
        """The records that answer for `name` (a server of many zones picks the zone's)."""
        return self._table

    def _answer(
        self,
        query: dns.message.Message,
        qname: dns.name.Name,
        qtype: dns.rdatatype.RdataType,
        qclass: dns.rdataclass.RdataClass,
    ) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if self.authenticated:
            response.flags |= dns.flags.AD
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if qclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        if _under(qname, self._servfail):
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        dnssec_ok = bool(query.ednsflags & dns.flags.DO)
        table = self.table_for(qname)
        name = qname
        for _ in range(MAX_CNAME_CHAIN):
            node = table.records.get(name)
            if node is None and not table.exists(name):
                node = table.wildcard(name) or None
            if node is None:
                if not table.exists(name):
                    response.set_rcode(dns.rcode.NXDOMAIN)
                break
            signatures = table.signatures.get(name, {}) if dnssec_ok else {}
            if qtype == dns.rdatatype.ANY:
                response.answer.extend(node.values())
                return response
            if qtype == dns.rdatatype.RRSIG:
                response.answer.extend(table.signatures.get(name, {}).values())
                return response
            if qtype in node:
                response.answer.append(node[qtype])
                if qtype in signatures:
                    response.answer.append(signatures[qtype])
                return response
            cname = node.get(dns.rdatatype.CNAME)
            if cname is None:
                break
            response.answer.append(cname)
            if dns.rdatatype.CNAME in signatures:
                response.answer.append(signatures[dns.rdatatype.CNAME])
            name = next(iter(cname)).target
        else:
            return response
        soa = table.soa_for(name)
        if soa is not None:
            response.authority.append(soa)
        return response


# --- the lab school's zone ---------------------------------------------------------------------


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lab_school_zone(
    domain: str,
    *,
    mail_address: str,
    web_address: str,
    flaws: set[str],
    now: float,
    ns_address: str | None = None,
) -> str:
    """Master-file text of a school's zone with the mail and DNS flaws in `flaws` switched on.

    Without flaws the zone is what a careful school publishes: SOA, two NS, A records for
    the web site (`www`, also `mta-sts`) and the mail server (`mail`, the MX), SPF
    `v=spf1 mx -all`, DMARC p=reject with rua, DKIM keys at selector1 and selector2 (the
    selectors Microsoft 365 uses), MTA-STS and TLS-RPT records, CAA for Let's Encrypt, and
    DNSSEC: a new key at each call, its DS, and an RRSIG over every record set. The MTA-STS policy itself
    must be served at https://mta-sts.<domain>/.well-known/mta-sts.txt from `web_address`
    (see `cyberstd.lab.mail.mta_sts_policy`). The flaw names are the keys of
    LAB_SCHOOL_FLAWS; an unknown one raises ValueError.
    """
    origin, lines = _zone_lines(domain, mail_address, web_address, flaws, ns_address)
    if "no-dnssec" not in flaws:
        zone, signatures = _signed(origin, lines, expired="dnssec-expired" in flaws, now=now)
        lines += [f"@ {kind} {zone.find_rdataset(origin, kind)[0].to_text()}" for kind in _KEYS]
        lines += [f"{name.to_text()} RRSIG {rrsig.to_text()}" for name, rrsig in signatures]
    return "\n".join(lines) + "\n"


def lab_school_table(
    domain: str,
    *,
    mail_address: str,
    web_address: str,
    flaws: set[str],
    now: float,
    ns_address: str | None = None,
) -> RecordTable:
    """The records of `lab_school_zone`, ready to serve, without going through zone text: for
    a server of thousands of such zones, each built when first asked for."""
    origin, lines = _zone_lines(domain, mail_address, web_address, flaws, ns_address)
    if "no-dnssec" in flaws:
        return _table_from_text("\n".join(lines), None)
    zone, signatures = _signed(origin, lines, expired="dnssec-expired" in flaws, now=now)
    table = RecordTable()
    for name, rdataset in zone.iterate_rdatasets():
        for rdata in rdataset:
            table.add(name, rdataset.ttl, rdata)
    for name, rrsig in signatures:
        table.add(name, DEFAULT_TTL, rrsig)
    return table


def _zone_lines(
    domain: str,
    mail_address: str,
    web_address: str,
    flaws: set[str],
    ns_address: str | None,
) -> tuple[dns.name.Name, list[str]]:
    """The origin and the unsigned master-file lines of a lab school's zone."""
    unknown = sorted(set(flaws) - set(LAB_SCHOOL_FLAWS))
    if unknown:
        raise ValueError(
            f"unknown lab school flaw(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(LAB_SCHOOL_FLAWS))}"
        )
    for address in (mail_address, web_address, ns_address or web_address):
        check_loopback(address)
    origin = _absolute(domain)
    apex = origin.to_text()
    ns_ip = ns_address or web_address
    lines = [
        f"$ORIGIN {apex}",
        f"$TTL {DEFAULT_TTL}",
        "@ SOA ns1 hostmaster 2026010101 3600 600 1209600 300",
        "@ NS ns1",
        f"ns1 A {ns_ip}",
    ]
    if "single-ns" not in flaws:
        lines += ["@ NS ns2", f"ns2 A {ns_ip}"]
    lines += [
        f"@ A {web_address}",
        f"www A {web_address}",
        f"mail A {mail_address}",
        "@ MX 10 mail",
    ]
    spf_all = "+all" if "spf-plus-all" in flaws else "-all"
    if "spf-too-many-lookups" in flaws:
        # A chain of includes, each with an `a` and an `mx` term that do resolve:
        # 1 + 3 + 3 + 3 + 2 = 12 look-ups in all, two over the limit, and no void look-up.
        lines.append(f"@ TXT {_quoted(f'v=spf1 include:_spf1.{domain} {spf_all}')}")
        for i in range(1, 5):
            nested = f" include:_spf{i + 1}.{domain}" if i < 4 else ""
            term = f"v=spf1 a:mail.{domain} mx:{domain}{nested} ?all"
            lines.append(f"_spf{i} TXT {_quoted(term)}")
    else:
        lines.append(f"@ TXT {_quoted(f'v=spf1 mx {spf_all}')}")
    dmarc = ["v=DMARC1", "p=none" if "dmarc-none" in flaws else "p=reject"]
    if "dmarc-sp-none" in flaws:
        dmarc.append("sp=none")
    if "dmarc-no-rua" not in flaws:
        scheme = "" if "dmarc-invalid" in flaws else "mailto:"
        dmarc.append(f"rua={scheme}dmarc-reports@{domain}")
    if "dmarc-pct" in flaws:
        dmarc.append("pct=50")
    if "no-dmarc" not in flaws:
        lines.append(f"_dmarc TXT {_quoted('; '.join(dmarc))}")
    if "no-dkim" not in flaws:
        revoked = "dkim-revoked" in flaws
        key = f"v=DKIM1; k=rsa; p={'' if revoked else LAB_DKIM_KEY}"
        strings = " ".join(_quoted(key[i : i + TXT_STRING]) for i in range(0, len(key), TXT_STRING))
        lines += [f"selector1._domainkey TXT {strings}", f"selector2._domainkey TXT {strings}"]
    if "no-mta-sts" not in flaws:
        lines += [
            f"_mta-sts TXT {_quoted('v=STSv1; id=20260101T000000')}",
            f"mta-sts A {web_address}",
        ]
    if "no-tls-rpt" not in flaws:
        lines.append(f"_smtp._tls TXT {_quoted(f'v=TLSRPTv1; rua=mailto:tls-reports@{domain}')}")
    if "no-caa" not in flaws:
        lines += [
            '@ CAA 0 issue "letsencrypt.org"',
            f'@ CAA 0 iodef "mailto:security@{domain}"',
        ]
    return origin, lines


# --- DNSSEC signing ----------------------------------------------------------------------------

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
# DNSSEC algorithm numbers the lab signs with: ECDSA P-256/SHA-256, RSA/SHA-256, RSA/SHA-1.
_RSA_ALGORITHMS = frozenset({8, 5})
ECDSAP256SHA256 = 13


def make_dnskey(key: SigningKey, algorithm: int = ECDSAP256SHA256) -> dns.rdata.Rdata:
    """The DNSKEY record (flags 257: a key-signing key) of a P-256 or RSA private key."""
    public = key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        if algorithm != ECDSAP256SHA256 or public.curve.name != "secp256r1":
            raise ValueError("the lab signs with EC keys on P-256 only (algorithm 13)")
    elif algorithm not in _RSA_ALGORITHMS:
        raise ValueError("the lab signs with RSA keys as algorithm 8 or 5 only")
    return dns.dnssec.make_dnskey(public, algorithm, flags=257)


def sign_rrset(
    owner: dns.name.Name,
    rdatas: Sequence[dns.rdata.Rdata],
    *,
    ttl: int,
    key: SigningKey,
    dnskey: dns.rdata.Rdata,
    signer: dns.name.Name,
    inception: float,
    expiration: float,
) -> dns.rdata.Rdata:
    """An RRSIG over the record set `rdatas` of `owner`, made with `key` (whose DNSKEY is given).

    The lab signs with deprecated algorithms too (RSA/SHA-1), so dnspython's policy allows all.
    """
    return dns.dnssec.sign(
        (owner, dns.rdataset.from_rdata_list(ttl, rdatas)),
        key,
        signer,
        dnskey,  # type: ignore[arg-type]
        inception=int(inception),
        expiration=int(expiration),
        policy=dns.dnssec.allow_all_policy,
    )


_KEYS = ("DNSKEY", "DS")


def _signed(
    origin: dns.name.Name, lines: list[str], *, expired: bool, now: float
) -> tuple[dns.zone.Zone, list[tuple[dns.name.Name, dns.rdata.Rdata]]]:
    """The zone in `lines` with a new key's DNSKEY and DS, and an RRSIG over every record set
    but the DS, valid around `now` (the run's clock, seconds since the epoch)."""
    key = ec.generate_private_key(ec.SECP256R1())
    dnskey = make_dnskey(key)
    ds = dns.dnssec.make_ds(origin, dnskey, "SHA256")
    added = [f"@ DNSKEY {dnskey.to_text()}", f"@ DS {ds.to_text()}"]
    zone = dns.zone.from_text("\n".join([*lines, *added]), relativize=False, check_origin=False)
    inception, expiration = (
        (now - 40 * DAY, now - 10 * DAY) if expired else (now - DAY, now + 30 * DAY)
    )
    signatures: list[tuple[dns.name.Name, dns.rdata.Rdata]] = []
    for name, rdataset in zone.iterate_rdatasets():
        if rdataset.rdtype == dns.rdatatype.DS:
            continue  # the parent zone signs the DS, not this one
        rrsig = sign_rrset(
            name,
            list(rdataset),
            ttl=rdataset.ttl,
            key=key,
            dnskey=dnskey,
            signer=origin,
            inception=inception,
            expiration=expiration,
        )
        signatures.append((name, rrsig))
    return zone, signatures

"""Tests of the lab DNS server and the lab school's zone, with dnspython as the client."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator

import dns.dnssec
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from cyberstd.lab.dns import (
    LAB_DKIM_KEY,
    LAB_SCHOOL_FLAWS,
    DnsServer,
    lab_school_zone,
    zone_records,
)
from cyberstd.net.resolver import Resolver
from cyberstd.probes.dns.dnssec import DnssecParams, dnssec
from cyberstd.registry import ProbeContext, Target, TargetKind
from cyberstd.results import FindingStatus
from tests.conftest import CLOCK

ADDRESS = "127.0.50.60"
HOLE = "127.0.50.61"
SCHOOL = "demo-school.test"

TEXT_ZONE = """\
$ORIGIN lab.test.
$TTL 60
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 127.0.50.1
www A 127.0.50.2
www AAAA ::1
alias CNAME www
loop1 CNAME loop2
loop2 CNAME loop1
selector1._domainkey TXT "v=DKIM1; p=abc"
*.wild TXT "wildcard"
big TXT {big}
"""


def _big_txt() -> str:
    return " ".join(f'"string-{i:03d}-{"x" * 20}"' for i in range(300))


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    zone = TEXT_ZONE.format(big=_big_txt())
    with DnsServer(
        zone, address=ADDRESS, drop=["quiet.lab.test"], servfail=["fail.lab.test"]
    ) as srv:
        yield srv


def ask(server: DnsServer, name: str, rdtype: str, *, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(query, ADDRESS, timeout=2, port=server.port)
    return dns.query.udp(query, ADDRESS, timeout=2, port=server.port)


def resolver(server: DnsServer, lifetime: float = 2.0) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [server.address]
    res.port = server.port
    res.lifetime = res.timeout = lifetime
    return res


def test_answers_records_with_the_authoritative_flag(server: DnsServer) -> None:
    answer = ask(server, "www.lab.test", "A")
    assert answer.rcode() == dns.rcode.NOERROR
    assert answer.flags & dns.flags.AA
    assert [r.to_text() for r in answer.answer[0]] == ["127.0.50.2"]
    assert answer.answer[0].ttl == 60


def test_unknown_names_get_nxdomain_with_the_soa(server: DnsServer) -> None:
    answer = ask(server, "nope.lab.test", "A")
    assert answer.rcode() == dns.rcode.NXDOMAIN
    assert answer.authority[0].rdtype == dns.rdatatype.SOA


def test_an_empty_non_terminal_exists(server: DnsServer) -> None:
    answer = ask(server, "_domainkey.lab.test", "TXT")
    assert answer.rcode() == dns.rcode.NOERROR
    assert answer.answer == []


def test_cnames_are_followed_and_loops_end(server: DnsServer) -> None:
    answer = resolver(server).resolve("alias.lab.test", "AAAA")
    assert answer.canonical_name.to_text() == "www.lab.test."
    assert [r.to_text() for r in answer] == ["::1"]
    # A CNAME loop ends after a few steps instead of hanging the server.
    looped = ask(server, "loop1.lab.test", "A")
    assert looped.rcode() == dns.rcode.NOERROR
    assert {rrset.rdtype for rrset in looped.answer} == {dns.rdatatype.CNAME}


def test_wildcards_answer_for_missing_names(server: DnsServer) -> None:
    answer = ask(server, "anything.wild.lab.test", "TXT")
    assert answer.answer[0].name.to_text() == "anything.wild.lab.test."
    assert ask(server, "wild.lab.test", "TXT").rcode() == dns.rcode.NOERROR


def test_a_large_answer_is_truncated_over_udp_and_complete_over_tcp(server: DnsServer) -> None:
    udp = ask(server, "big.lab.test", "TXT")
    assert udp.flags & dns.flags.TC
    assert udp.answer == []
    answer = resolver(server).resolve("big.lab.test", "TXT")
    assert len(answer[0].strings) == 300
    assert ("big.lab.test", "TXT", "tcp") in server.queries


def test_edns_raises_the_udp_limit(server: DnsServer) -> None:
    query = dns.message.make_query("big.lab.test", "TXT", use_edns=0, payload=65000)
    answer = dns.query.udp(query, ADDRESS, timeout=2, port=server.port)
    assert not answer.flags & dns.flags.TC
    assert len(answer.answer[0][0].strings) == 300


def test_servfail_and_dropped_names(server: DnsServer) -> None:
    assert ask(server, "x.fail.lab.test", "A").rcode() == dns.rcode.SERVFAIL
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(
            dns.message.make_query("quiet.lab.test", "A"), ADDRESS, timeout=0.3, port=server.port
        )
    # Other names still answer.
    assert ask(server, "www.lab.test", "A").rcode() == dns.rcode.NOERROR


def test_garbage_is_ignored_and_the_server_keeps_serving(server: DnsServer) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x00\x01garbage", (ADDRESS, server.port))
    with socket.create_connection((ADDRESS, server.port), timeout=2) as sock:
        sock.sendall(struct.pack("!H", 5) + b"trash")
    assert ask(server, "www.lab.test", "A", tcp=True).rcode() == dns.rcode.NOERROR
    assert server.errors == []


def test_a_mapping_zone_with_long_txt_values() -> None:
    text = "v=DKIM1; k=rsa; p=" + LAB_DKIM_KEY
    with DnsServer(
        {"x.test": [("TXT", text), ("MX", "10 mail.x.test")], "mail.x.test": [("A", "127.0.0.9")]},
        address=ADDRESS,
    ) as srv:
        answer = resolver(srv).resolve("x.test", "TXT")
        strings = answer[0].strings
        assert len(strings) == 2 and all(len(s) <= 255 for s in strings)
        assert b"".join(strings).decode() == text
        mx = resolver(srv).resolve("x.test", "MX")
        assert mx[0].exchange.to_text() == "mail.x.test."


def test_black_hole_never_answers_and_stops_cleanly() -> None:
    with DnsServer({"x.test": [("A", "127.0.0.9")]}, address=HOLE, black_hole=True) as srv:
        with pytest.raises(dns.exception.Timeout):
            dns.query.udp(dns.message.make_query("x.test", "A"), HOLE, timeout=0.3, port=srv.port)
        # A TCP client that waits forever does not keep the server from stopping.
        sock = socket.create_connection((HOLE, srv.port), timeout=2)
        query = dns.message.make_query("x.test", "A").to_wire()
        sock.sendall(struct.pack("!H", len(query)) + query)
        deadline = time.monotonic() + 2
        while len(srv.queries) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    sock.settimeout(2)
    try:
        assert sock.recv(10) == b""
    except ConnectionResetError:
        pass  # ended either way
    finally:
        sock.close()
    assert srv.queries == [("x.test", "A", "udp"), ("x.test", "A", "tcp")]


def test_lab_servers_bind_to_loopback_only() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8 only"):
        DnsServer({}, address="0.0.0.0")
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8 only"):
        lab_school_zone(
            SCHOOL,
            mail_address="10.0.0.1",
            web_address="127.0.0.1",
            flaws=set(),
            now=CLOCK.timestamp,
        )


# --- the lab school's zone ---------------------------------------------------------------------


def _records(flaws: set[str]) -> dict[str, list[tuple[str, str]]]:
    return zone_records(
        lab_school_zone(
            SCHOOL,
            mail_address="127.0.50.25",
            web_address="127.0.50.80",
            flaws=flaws,
            now=CLOCK.timestamp,
        )
    )


def _txt(records: dict[str, list[tuple[str, str]]], owner: str) -> list[str]:
    return [value for kind, value in records.get(f"{owner}.", []) if kind == "TXT"]


def test_the_clean_lab_school_has_every_record() -> None:
    records = _records(set())
    apex = {kind for kind, _ in records[f"{SCHOOL}."]}
    assert apex == {"SOA", "NS", "A", "MX", "TXT", "CAA", "DNSKEY", "DS", "RRSIG"}
    assert _txt(records, SCHOOL) == ['"v=spf1 mx -all"']
    assert "p=reject" in _txt(records, f"_dmarc.{SCHOOL}")[0]
    assert _txt(records, f"selector1._domainkey.{SCHOOL}")
    assert records[f"mail.{SCHOOL}."][0] == ("A", "127.0.50.25")
    assert records[f"mta-sts.{SCHOOL}."][0] == ("A", "127.0.50.80")


@pytest.mark.parametrize(
    ("flaw", "owner", "check"),
    [
        ("spf-plus-all", SCHOOL, lambda t: "+all" in t[0]),
        ("dmarc-none", f"_dmarc.{SCHOOL}", lambda t: "p=none" in t[0]),
        ("dmarc-no-rua", f"_dmarc.{SCHOOL}", lambda t: "rua" not in t[0]),
        ("dmarc-pct", f"_dmarc.{SCHOOL}", lambda t: "pct=50" in t[0]),
        ("dmarc-sp-none", f"_dmarc.{SCHOOL}", lambda t: "p=reject; sp=none" in t[0]),
        ("dmarc-invalid", f"_dmarc.{SCHOOL}", lambda t: f"rua=dmarc-reports@{SCHOOL}" in t[0]),
        ("no-dmarc", f"_dmarc.{SCHOOL}", lambda t: t == []),
        ("no-dkim", f"selector1._domainkey.{SCHOOL}", lambda t: t == []),
        ("dkim-revoked", f"selector2._domainkey.{SCHOOL}", lambda t: t == ['"v=DKIM1; k=rsa; p="']),
        ("no-mta-sts", f"_mta-sts.{SCHOOL}", lambda t: t == []),
        ("no-tls-rpt", f"_smtp._tls.{SCHOOL}", lambda t: t == []),
        ("spf-too-many-lookups", f"_spf4.{SCHOOL}", lambda t: "a:mail" in t[0]),
    ],
)
def test_each_flaw_changes_its_records(flaw: str, owner: str, check: object) -> None:
    assert check(_txt(_records({flaw}), owner))  # type: ignore[operator]


def test_record_flaws() -> None:
    assert not any(k == "CAA" for k, _ in _records({"no-caa"})[f"{SCHOOL}."])
    assert not any(k in ("DNSKEY", "DS") for k, _ in _records({"no-dnssec"})[f"{SCHOOL}."])
    assert [v for k, v in _records({"single-ns"})[f"{SCHOOL}."] if k == "NS"] == [f"ns1.{SCHOOL}."]
    assert f"mta-sts.{SCHOOL}." not in _records({"no-mta-sts"})


def test_every_flaw_at_once_still_parses() -> None:
    assert _records(set(LAB_SCHOOL_FLAWS))


def test_an_unknown_flaw_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"unknown lab school flaw.*spf-typo.*known: dkim-revoked, dmarc-invalid"
    ):
        lab_school_zone(
            SCHOOL,
            mail_address="127.0.0.1",
            web_address="127.0.0.1",
            flaws={"spf-typo"},
            now=CLOCK.timestamp,
        )


def test_the_lab_school_zone_is_served_from_text() -> None:
    zone = lab_school_zone(
        SCHOOL,
        mail_address="127.0.50.25",
        web_address="127.0.50.80",
        flaws=set(),
        now=CLOCK.timestamp,
    )
    with DnsServer(zone, address=ADDRESS) as srv:
        answer = resolver(srv).resolve(SCHOOL, "MX")
        assert answer[0].exchange.to_text() == f"mail.{SCHOOL}."
        ds = resolver(srv).resolve(SCHOOL, "DS")
        dnskey = resolver(srv).resolve(SCHOOL, "DNSKEY")
        assert ds[0].key_tag == dns.dnssec.key_id(dnskey[0])


@pytest.mark.parametrize(
    ("flaws", "status", "words"),
    [
        (set(), FindingStatus.PASS, "which signed the key set"),
        ({"dnssec-expired"}, FindingStatus.FAIL, "expired on"),
        ({"no-dnssec"}, FindingStatus.FAIL, "not signed"),
    ],
)
def test_the_lab_school_zone_is_signed(flaws: set[str], status: FindingStatus, words: str) -> None:
    zone = lab_school_zone(
        SCHOOL,
        mail_address="127.0.50.25",
        web_address="127.0.50.80",
        flaws=flaws,
        now=CLOCK.timestamp,
    )
    with DnsServer(zone, address=ADDRESS) as srv:
        ctx = ProbeContext(clock=CLOCK, resolver=Resolver(ADDRESS, srv.port, 2.0), timeout=2.0)
        outcome = dnssec(Target(name=SCHOOL, kind=TargetKind.DOMAIN), DnssecParams(), ctx)
    assert outcome.status is status
    assert words in outcome.message


def test_signatures_come_with_the_dnssec_ok_bit() -> None:
    zone = lab_school_zone(
        SCHOOL,
        mail_address="127.0.50.25",
        web_address="127.0.50.80",
        flaws=set(),
        now=CLOCK.timestamp,
    )
    with DnsServer(zone, address=ADDRESS) as srv:
        plain = dns.message.make_query(f"mail.{SCHOOL}", "A")
        assert len(dns.query.udp(plain, ADDRESS, timeout=2, port=srv.port).answer) == 1
        secure = dns.message.make_query(f"mail.{SCHOOL}", "A", want_dnssec=True)
        answer = dns.query.udp(secure, ADDRESS, timeout=2, port=srv.port)
        kinds = [rrset.rdtype for rrset in answer.answer]
        assert kinds == [dns.rdatatype.A, dns.rdatatype.RRSIG]

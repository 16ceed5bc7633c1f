"""Tests of the DNS probes (SOA/NS, DNSSEC, CAA, MX) against a lab DNS server on 127.0.50.0/24."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cyberstd.errors import ConnectivityError, ProbeTimeout
from cyberstd.lab.dns import LAB_DNSKEY, DnsServer, SigningKey, make_dnskey, sign_rrset
from cyberstd.net.resolver import Resolver
from cyberstd.probes import probes
from cyberstd.probes.dns.caa import caa
from cyberstd.probes.dns.dnssec import DnssecParams, dnssec
from cyberstd.probes.dns.lookup import Lookup
from cyberstd.probes.dns.mx import mx
from cyberstd.probes.dns.soa_ns import SoaNsParams, soa_ns
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind
from cyberstd.results import FindingStatus, ProbeOutcome
from tests.conftest import CLOCK

DNS_ADDRESS = "127.0.50.53"
BLACK_HOLE_ADDRESS = "127.0.50.54"
AD_ADDRESS = "127.0.50.57"
TIMEOUT = 2.0
NO_PARAMS = ProbeParams()

SOA = "ns1.{d} hostmaster.{d} 2026010101 3600 600 1209600 300"
# An RSA/SHA-1 key (algorithm 5): the bytes are arbitrary, only the digest of the record counts.
DAY = 86400.0
NOW = time.time()


def _ds(domain: str, dnskey: str, digest: str = "SHA256") -> str:
    key = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, dnskey)
    return dns.dnssec.make_ds(
        dns.name.from_text(domain), key, digest, policy=dns.dnssec.allow_all_policy
    ).to_text()


def _signed(
    domain: str,
    key: SigningKey,
    *,
    algorithm: int = 13,
    digest: str = "SHA256",
    expired: bool = False,
    signer: SigningKey | None = None,
    tamper: bool = False,
) -> list[tuple[str, str]]:
    """DNSKEY, DS and an RRSIG over the DNSKEY set; the RRSIG may be made with `signer`."""
    dnskey = make_dnskey(key, algorithm)
    owner = dns.name.from_text(domain)
    by = signer or key
    by_dnskey = make_dnskey(by, algorithm)
    keys = [dnskey] if signer is None else [dnskey, by_dnskey]
    inception, expiration = (NOW - 40 * DAY, NOW - 10 * DAY) if expired else (NOW - DAY, NOW + DAY)
    rrsig: Any = sign_rrset(
        owner,
        keys,
        ttl=300,
        key=by,
        dnskey=by_dnskey,
        signer=owner,
        inception=inception,
        expiration=expiration,
    )
    if tamper:
        rrsig = rrsig.replace(signature=bytes(b ^ 1 for b in rrsig.signature))
    return [
        *(("DNSKEY", k.to_text()) for k in keys),
        ("DS", _ds(domain, dnskey.to_text(), digest)),
        ("RRSIG", rrsig.to_text()),
    ]


def _zone(domain: str, *, ns: tuple[str, ...] = ("ns1", "ns2")) -> dict[str, list[tuple[str, str]]]:
    records: dict[str, list[tuple[str, str]]] = {
        domain: [("SOA", SOA.format(d=domain))] + [("NS", f"{n}.{domain}") for n in ns]
    }
    for n in ns:
        records[f"{n}.{domain}"] = [("A", "127.0.50.1")]
    return records


def _build() -> dict[str, list[tuple[str, str]]]:
    zone: dict[str, list[tuple[str, str]]] = {}
    zone.update(_zone("good.test"))
    zone["good.test"] += [
        ("MX", "10 mx1.good.test"),
        ("MX", "20 mx2.good.test"),
        ("CAA", '0 issue "letsencrypt.org"'),
        ("CAA", '0 issuewild "sectigo.com; validationmethods=dns-01"'),
        ("CAA", '0 iodef "mailto:security@good.test"'),
        *_signed("good.test", ec.generate_private_key(ec.SECP256R1())),
    ]
    zone["mx1.good.test"] = [("A", "127.0.51.1")]
    zone["mx2.good.test"] = [("A", "127.0.51.2"), ("AAAA", "::1")]
    zone["www.good.test"] = [("A", "127.0.50.2")]
    # SOA and NS
    zone.update(_zone("single-ns.test", ns=("ns1",)))
    zone.update(_zone("lame-ns.test", ns=("ns1",)))
    zone["lame-ns.test"].append(("NS", "ns.gone.test"))
    zone["no-ns.test"] = [("SOA", SOA.format(d="no-ns.test"))]
    # DNSSEC
    zone.update(_zone("unsigned.test"))
    zone.update(_zone("no-ds.test"))
    zone["no-ds.test"].append(("DNSKEY", LAB_DNSKEY))
    zone.update(_zone("bad-ds.test"))
    zone["bad-ds.test"] += [("DNSKEY", LAB_DNSKEY), ("DS", _ds("other.test", LAB_DNSKEY))]
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    zone.update(_zone("weak-dnssec.test"))
    zone["weak-dnssec.test"] += _signed("weak-dnssec.test", rsa_key, algorithm=5, digest="SHA1")
    zone.update(_zone("rsa-dnssec.test"))
    zone["rsa-dnssec.test"] += _signed("rsa-dnssec.test", rsa_key, algorithm=8)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    variants: dict[str, dict[str, Any]] = {
        "expired.test": {"expired": True},
        "tampered.test": {"tamper": True},
        "other-signer.test": {"signer": ec.generate_private_key(ec.SECP256R1())},
    }
    for name, options in variants.items():
        zone.update(_zone(name))
        zone[name] += _signed(name, ec_key, **options)
    zone.update(_zone("no-sig.test"))
    zone["no-sig.test"] += [("DNSKEY", LAB_DNSKEY), ("DS", _ds("no-sig.test", LAB_DNSKEY))]
    # CAA
    zone.update(_zone("caa-parent.test"))
    zone["caa-parent.test"].append(("CAA", '0 issue "digicert.com"'))
    zone["www.caa-parent.test"] = [("A", "127.0.50.3")]
    zone.update(_zone("caa-iodef.test"))
    zone["caa-iodef.test"].append(("CAA", '0 iodef "mailto:x@caa-iodef.test"'))
    zone.update(_zone("caa-none-allowed.test"))
    zone["caa-none-allowed.test"].append(("CAA", '0 issue ";"'))
    zone.update(_zone("caa-critical.test"))
    zone["caa-critical.test"] += [
        ("CAA", '0 issue "letsencrypt.org"'),
        ("CAA", '128 tbs "unknown"'),
    ]
    # MX
    zone.update(_zone("no-mx.test"))
    zone.update(_zone("null-mx.test"))
    zone["null-mx.test"].append(("MX", "0 ."))
    zone.update(_zone("dangling-mx.test"))
    zone["dangling-mx.test"] += [("MX", "10 mx.dangling-mx.test"), ("MX", "20 mx1.good.test")]
    zone.update(_zone("alias-mx.test"))
    zone["alias-mx.test"].append(("MX", "10 mail.alias-mx.test"))
    zone["mail.alias-mx.test"] = [("CNAME", "mx1.good.test")]
    zone.update(_zone("m365.test"))
    zone["m365.test"].append(("MX", "0 m365-test.mail.protection.outlook.com"))
    zone["m365-test.mail.protection.outlook.com"] = [("A", "127.0.51.3")]
    # Hostile: an answer too large even for TCP, and a name whose server fails.
    zone.update(_zone("huge.test"))
    zone["huge.test"] += [
        ("MX", f"{i} {i:04d}{'x' * 58}.{i:04d}{'y' * 58}.test") for i in range(1200)
    ]
    zone.update(_zone("broken.test"))
    return zone


ZONE = _build()


def domain(name: str) -> Target:
    return Target(name=name, kind=TargetKind.DOMAIN)


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    with DnsServer(ZONE, address=DNS_ADDRESS, servfail=["broken.test"]) as srv:
        yield srv


@pytest.fixture
def ctx(server: DnsServer) -> ProbeContext:
    return ProbeContext(
        clock=CLOCK, resolver=Resolver(DNS_ADDRESS, server.port, TIMEOUT), timeout=TIMEOUT
    )


@pytest.fixture(scope="module")
def black_hole() -> Iterator[DnsServer]:
    with DnsServer(ZONE, address=BLACK_HOLE_ADDRESS, black_hole=True) as srv:
        yield srv


def test_the_probes_are_registered_for_domains() -> None:
    registered = probes()
    for probe_id in ("dns.soa-ns", "dns.dnssec", "dns.caa", "mail.mx"):
        assert registered[probe_id].target is TargetKind.DOMAIN
        assert registered[probe_id].doc.startswith("The") or registered[probe_id].doc


# --- dns.soa-ns --------------------------------------------------------------------------------


def test_soa_ns_passes_with_two_resolvable_name_servers(ctx: ProbeContext) -> None:
    outcome = soa_ns(domain("good.test"), SoaNsParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is None
    assert outcome.evidence["ns"] == ["ns1.good.test", "ns2.good.test"]
    assert outcome.evidence["ns_addresses"]["ns1.good.test"] == ["127.0.50.1"]
    assert outcome.evidence["soa"][0].startswith("ns1.good.test. hostmaster.good.test.")


def test_soa_ns_warns_about_a_single_name_server(ctx: ProbeContext) -> None:
    outcome = soa_ns(domain("single-ns.test"), SoaNsParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is not None and "only one working name server" in outcome.warning


def test_soa_ns_fails_a_single_name_server_when_two_are_required(ctx: ProbeContext) -> None:
    outcome = soa_ns(domain("single-ns.test"), SoaNsParams(min_ns=2), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "1 working name server(s), fewer than 2" in outcome.message


def test_soa_ns_does_not_count_a_name_server_without_address(ctx: ProbeContext) -> None:
    outcome = soa_ns(domain("lame-ns.test"), SoaNsParams(min_ns=2), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["ns_unresolvable"] == ["ns.gone.test"]
    assert outcome.warning is not None and "ns.gone.test" in outcome.warning


def test_soa_ns_fails_without_ns_records(ctx: ProbeContext) -> None:
    outcome = soa_ns(domain("no-ns.test"), SoaNsParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.message == "no-ns.test has no NS records"


def test_soa_ns_fails_for_a_name_that_is_not_a_zone(ctx: ProbeContext) -> None:
    outcome = soa_ns(domain("www.good.test"), SoaNsParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "not a DNS zone of its own" in outcome.message


def test_soa_ns_fails_for_a_domain_that_does_not_exist(ctx: ProbeContext) -> None:
    outcome = soa_ns(domain("missing.test"), SoaNsParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "NXDOMAIN" in outcome.message


# --- dns.dnssec --------------------------------------------------------------------------------


def test_dnssec_passes_a_signed_and_linked_zone(ctx: ProbeContext) -> None:
    outcome = dnssec(domain("good.test"), DnssecParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert "which signed the key set" in outcome.message
    [facts] = outcome.evidence["matching_ds"]
    assert (facts["algorithm"], facts["digest_type"]) == (13, 2)
    assert outcome.evidence["signature_valid"] is True
    assert outcome.evidence["validated_by_resolver"] is False
    assert outcome.warning is not None and "did not validate" in outcome.warning


def test_dnssec_verifies_rsa_signatures(ctx: ProbeContext) -> None:
    outcome = dnssec(domain("rsa-dnssec.test"), DnssecParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["signature_valid"] is True


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("expired.test", "is not valid (expired on "),
        ("tampered.test", "is not valid (the signature does not match the records)"),
        ("other-signer.test", "no signature was made with the key the DS points to"),
        ("no-sig.test", "carry no signature (RRSIG)"),
    ],
)
def test_dnssec_fails_bad_signatures(ctx: ProbeContext, name: str, words: str) -> None:
    outcome = dnssec(domain(name), DnssecParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message


def test_dnssec_needs_the_ad_flag_when_validation_is_required(ctx: ProbeContext) -> None:
    outcome = dnssec(domain("good.test"), DnssecParams(require_validation=True), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "no AD flag" in outcome.message


def test_dnssec_trusts_a_validating_resolver() -> None:
    with DnsServer(ZONE, address=AD_ADDRESS, authenticated=True) as srv:
        ctx = ProbeContext(
            clock=CLOCK, resolver=Resolver(AD_ADDRESS, srv.port, TIMEOUT), timeout=TIMEOUT
        )
        outcome = dnssec(domain("good.test"), DnssecParams(require_validation=True), ctx)
    assert outcome.status is FindingStatus.PASS
    assert "validated by the resolver" in outcome.message
    assert outcome.warning is None


def test_dnssec_fails_an_unsigned_zone(ctx: ProbeContext) -> None:
    outcome = dnssec(domain("unsigned.test"), DnssecParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "not signed" in outcome.message


def test_dnssec_fails_keys_without_ds(ctx: ProbeContext) -> None:
    outcome = dnssec(domain("no-ds.test"), DnssecParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "no DS record" in outcome.message
    assert outcome.evidence["dnskey"]


def test_dnssec_fails_a_ds_that_matches_no_key(ctx: ProbeContext) -> None:
    outcome = dnssec(domain("bad-ds.test"), DnssecParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "match none of its DNSKEY" in outcome.message
    assert outcome.evidence["matching_ds"] == []


def test_dnssec_warns_about_sha1(ctx: ProbeContext) -> None:
    outcome = dnssec(domain("weak-dnssec.test"), DnssecParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is not None
    assert "deprecated DNSSEC algorithm(s) [5]" in outcome.warning
    assert "SHA-1 digest" in outcome.warning


# --- dns.caa -----------------------------------------------------------------------------------


def test_caa_lists_the_allowed_issuers(ctx: ProbeContext) -> None:
    outcome = caa(domain("good.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["issuers"] == ["letsencrypt.org"]
    assert outcome.evidence["wildcard_issuers"] == ["sectigo.com"]
    assert outcome.evidence["iodef"] == ["mailto:security@good.test"]
    assert "letsencrypt.org, sectigo.com" in outcome.message


def test_caa_is_inherited_from_the_parent_domain(ctx: ProbeContext) -> None:
    outcome = caa(domain("www.caa-parent.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["found_at"] == "caa-parent.test"
    assert "inherited from caa-parent.test" in outcome.message


def test_caa_fails_without_records(ctx: ProbeContext) -> None:
    outcome = caa(domain("unsigned.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "any certificate authority may issue" in outcome.message


def test_caa_fails_when_nothing_is_restricted(ctx: ProbeContext) -> None:
    outcome = caa(domain("caa-iodef.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "no issue property" in outcome.message


def test_caa_may_forbid_every_issuer(ctx: ProbeContext) -> None:
    outcome = caa(domain("caa-none-allowed.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert "allow no certificate authority" in outcome.message


def test_caa_warns_about_an_unknown_critical_property(ctx: ProbeContext) -> None:
    outcome = caa(domain("caa-critical.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is not None and "tbs" in outcome.warning


# --- mail.mx -----------------------------------------------------------------------------------


def test_mx_passes_when_every_host_resolves(ctx: ProbeContext) -> None:
    outcome = mx(domain("good.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.message == "good.test receives mail at mx1.good.test (10), mx2.good.test (20)"
    rows = outcome.evidence["mx"]
    assert [r["host"] for r in rows] == ["mx1.good.test", "mx2.good.test"]
    assert rows[1]["addresses"] == ["127.0.51.2", "::1"]


def test_mx_fails_without_mx_records(ctx: ProbeContext) -> None:
    outcome = mx(domain("no-mx.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "no MX records" in outcome.message


def test_mx_fails_a_null_mx(ctx: ProbeContext) -> None:
    outcome = mx(domain("null-mx.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "null MX" in outcome.message


def test_mx_fails_a_host_without_address(ctx: ProbeContext) -> None:
    outcome = mx(domain("dangling-mx.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.message.endswith("without an address: mx.dangling-mx.test")


def test_mx_warns_about_an_alias(ctx: ProbeContext) -> None:
    outcome = mx(domain("alias-mx.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["mx"][0]["alias_of"] == "mx1.good.test"
    assert outcome.warning is not None and "CNAME" in outcome.warning


def test_mx_recognises_microsoft_365(ctx: ProbeContext) -> None:
    outcome = mx(domain("m365.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["mx"][0]["provider"] == "Microsoft 365"


# --- hostile DNS -------------------------------------------------------------------------------


def test_an_answer_too_large_for_dns_is_a_connectivity_error(
    server: DnsServer, ctx: ProbeContext
) -> None:
    # 1200 MX records do not fit in one DNS message at all: the server fails, the probe says so.
    with pytest.raises(ConnectivityError, match=r"could not answer huge\.test MX"):
        mx(domain("huge.test"), NO_PARAMS, ctx)
    assert ("huge.test", "MX", "tcp") in server.queries


def test_a_failing_server_is_a_connectivity_error(ctx: ProbeContext) -> None:
    with pytest.raises(ConnectivityError, match="SERVFAIL"):
        soa_ns(domain("broken.test"), SoaNsParams(), ctx)


@pytest.mark.parametrize(
    ("func", "params"),
    [
        (soa_ns, SoaNsParams()),
        (dnssec, DnssecParams()),
        (caa, NO_PARAMS),
        (mx, NO_PARAMS),
    ],
)
def test_a_black_hole_resolver_is_a_timeout(
    black_hole: DnsServer, func: Callable[..., ProbeOutcome], params: ProbeParams
) -> None:
    ctx = ProbeContext(
        clock=CLOCK, resolver=Resolver(BLACK_HOLE_ADDRESS, black_hole.port, 0.3), timeout=0.3
    )
    with pytest.raises(ProbeTimeout, match=r"got no answer within 0\.3 s"):
        func(domain("good.test"), params, ctx)


def test_look_ups_share_one_deadline(black_hole: DnsServer) -> None:
    ctx = ProbeContext(
        clock=CLOCK, resolver=Resolver(BLACK_HOLE_ADDRESS, black_hole.port, 0.2), timeout=0.2
    )
    lookup = Lookup(ctx, budget=1.0)
    with pytest.raises(ProbeTimeout):
        lookup.query("good.test", "A")
    with pytest.raises(ProbeTimeout, match="took more than"):
        lookup.query("good.test", "AAAA")

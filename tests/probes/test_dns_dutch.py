"""The DNS probes (dns.soa-ns, dns.dnssec, dns.caa, mail.mx) say their verdicts, warnings and
errors in Dutch too, against the lab DNS server of test_dns on 127.0.50.0/24; the remediation of
the DNS and TLS checks names the school's own domain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ruamel.yaml import YAML

from cyberstd.catalog import load_catalog
from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout
from cyberstd.lab.dns import DnsServer
from cyberstd.net.resolver import Resolver
from cyberstd.probes.dns.caa import caa
from cyberstd.probes.dns.dnssec import DnssecParams, dnssec
from cyberstd.probes.dns.lookup import Lookup
from cyberstd.probes.dns.mx import mx
from cyberstd.probes.dns.soa_ns import SoaNsParams, soa_ns
from cyberstd.profiles import PlannedCheck, remediation_for
from cyberstd.registry import ProbeContext, ProbeParams
from cyberstd.results import FindingStatus, ProbeOutcome
from tests.conftest import CLOCK, REPO
from tests.probes.test_dns import ZONE, domain

DNS_ADDRESS = "127.0.50.63"
BLACK_HOLE_ADDRESS = "127.0.50.64"
TIMEOUT = 2.0
NO_PARAMS = ProbeParams()
# Words of English sentences that Dutch text never contains (outside data it quotes).
ENGLISH = (
    " the ",
    " is not ",
    " has no ",
    " does not ",
    " could not ",
    " with ",
    " which ",
    " and ",
    " no ",
    " not ",
    " are ",
    " its ",
    " for ",
)


def assert_dutch(nl: str | None, en: str | None, *data: str) -> str:
    """`nl` is there, differs from `en` and has no English words outside the `data` it quotes."""
    assert nl and en and nl != en
    shown = nl
    for value in data:
        shown = shown.replace(value, " ")
    assert [w for w in ENGLISH if w in f" {shown} "] == [], nl
    return nl


def said(outcome: ProbeOutcome) -> str:
    return assert_dutch(outcome.messages.get("nl"), outcome.message)


def warned(outcome: ProbeOutcome) -> str:
    return assert_dutch(outcome.warning_messages.get("nl"), outcome.warning)


def error_said(error: ProbeError, *data: str) -> str:
    english, others = error.texts()
    return assert_dutch(others.get("nl"), english, *data)


@pytest.fixture(scope="module")
def server() -> Iterator[DnsServer]:
    with DnsServer(ZONE, address=DNS_ADDRESS, servfail=["broken.test"]) as srv:
        yield srv


@pytest.fixture
def ctx(server: DnsServer) -> ProbeContext:
    return ProbeContext(
        clock=CLOCK, resolver=Resolver(DNS_ADDRESS, server.port, TIMEOUT), timeout=TIMEOUT
    )


# --- dns.soa-ns --------------------------------------------------------------------------------


def test_soa_ns_verdicts_in_dutch(ctx: ProbeContext) -> None:
    good = soa_ns(domain("good.test"), SoaNsParams(), ctx)
    assert good.status is FindingStatus.PASS and good.warning_messages == {}
    assert said(good) == (
        "good.test heeft een SOA-record en 2 werkende naamservers: ns1.good.test, ns2.good.test"
    )

    single = soa_ns(domain("single-ns.test"), SoaNsParams(), ctx)
    assert said(single).endswith("1 werkende naamserver: ns1.single-ns.test")
    assert warned(single).startswith("maar één werkende naamserver")

    few = soa_ns(domain("lame-ns.test"), SoaNsParams(min_ns=2), ctx)
    assert few.status is FindingStatus.FAIL
    assert said(few) == "lame-ns.test heeft 1 werkende naamserver, minder dan 2"
    assert "naamserver zonder adres: ns.gone.test" in warned(few)

    assert said(soa_ns(domain("no-ns.test"), SoaNsParams(), ctx)) == (
        "no-ns.test heeft geen NS-records"
    )
    assert "geen eigen DNS-zone" in said(soa_ns(domain("www.good.test"), SoaNsParams(), ctx))
    assert said(soa_ns(domain("missing.test"), SoaNsParams(), ctx)) == (
        "missing.test bestaat niet in DNS (NXDOMAIN)"
    )


# --- dns.dnssec --------------------------------------------------------------------------------


def test_dnssec_pass_and_warnings_in_dutch(ctx: ProbeContext) -> None:
    good = dnssec(domain("good.test"), DnssecParams(), ctx)
    assert good.status is FindingStatus.PASS
    assert "die de sleutelset ondertekend heeft" in said(good)
    assert "niet gevalideerd (geen AD-vlag)" in warned(good)

    weak = dnssec(domain("weak-dnssec.test"), DnssecParams(), ctx)
    assert weak.status is FindingStatus.PASS
    warning = warned(weak)
    assert "verouderd DNSSEC-algoritme [5]" in warning
    assert "SHA-1-digest" in warning


@pytest.mark.parametrize(
    ("name", "params", "words"),
    [
        ("unsigned.test", DnssecParams(), "is niet ondertekend met DNSSEC"),
        ("no-ds.test", DnssecParams(), "geen DS-record"),
        ("bad-ds.test", DnssecParams(), "het DS-record van bad-ds.test past bij geen enkel"),
        ("expired.test", DnssecParams(), "is ongeldig (verlopen op "),
        ("tampered.test", DnssecParams(), "(de handtekening klopt niet met de records)"),
        ("other-signer.test", DnssecParams(), "geen enkele handtekening is gemaakt met de sleutel"),
        ("no-sig.test", DnssecParams(), "hebben geen handtekening (RRSIG)"),
        ("good.test", DnssecParams(require_validation=True), "niet gevalideerd (geen AD-vlag)"),
    ],
)
def test_dnssec_failures_in_dutch(
    ctx: ProbeContext, name: str, params: DnssecParams, words: str
) -> None:
    outcome = dnssec(domain(name), params, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert words in said(outcome)


# --- dns.caa -----------------------------------------------------------------------------------


def test_caa_verdicts_in_dutch(ctx: ProbeContext) -> None:
    good = caa(domain("good.test"), NO_PARAMS, ctx)
    assert said(good) == (
        "de CAA-records van good.test laten alleen letsencrypt.org, sectigo.com toe om "
        "certificaten uit te geven"
    )
    inherited = caa(domain("www.caa-parent.test"), NO_PARAMS, ctx)
    assert "(overgenomen van caa-parent.test)" in said(inherited)
    assert "geen enkele certificaatautoriteit" in said(
        caa(domain("caa-none-allowed.test"), NO_PARAMS, ctx)
    )
    assert "elke certificaatautoriteit mag" in said(caa(domain("unsigned.test"), NO_PARAMS, ctx))
    assert "geen issue-eigenschap" in said(caa(domain("caa-iodef.test"), NO_PARAMS, ctx))
    critical = caa(domain("caa-critical.test"), NO_PARAMS, ctx)
    assert critical.status is FindingStatus.PASS
    assert warned(critical).startswith("onbekende kritieke CAA-eigenschap tbs:")


# --- mail.mx -----------------------------------------------------------------------------------


def test_mx_verdicts_in_dutch(ctx: ProbeContext) -> None:
    assert said(mx(domain("good.test"), NO_PARAMS, ctx)) == (
        "good.test ontvangt mail op mx1.good.test (10), mx2.good.test (20)"
    )
    assert "geen MX-records" in said(mx(domain("no-mx.test"), NO_PARAMS, ctx))
    assert "aanvaardt helemaal geen mail" in said(mx(domain("null-mx.test"), NO_PARAMS, ctx))
    assert said(mx(domain("dangling-mx.test"), NO_PARAMS, ctx)) == (
        "MX-host van dangling-mx.test zonder adres: mx.dangling-mx.test"
    )
    alias = mx(domain("alias-mx.test"), NO_PARAMS, ctx)
    assert alias.status is FindingStatus.PASS
    assert warned(alias) == "MX-host mail.alias-mx.test is een alias (CNAME), wat RFC 2181 verbiedt"


# --- errors ------------------------------------------------------------------------------------


def test_a_failing_server_is_an_error_in_dutch(ctx: ProbeContext) -> None:
    with pytest.raises(ConnectivityError) as caught:
        soa_ns(domain("broken.test"), SoaNsParams(), ctx)
    detail = str(caught.value).split(": ", 1)[1]  # what the resolver library said
    assert error_said(caught.value, detail).startswith(
        "de DNS-server kon broken.test SOA niet beantwoorden: "
    )


def test_timeouts_are_errors_in_dutch_with_a_decimal_comma() -> None:
    with DnsServer(ZONE, address=BLACK_HOLE_ADDRESS, black_hole=True) as hole:
        ctx = ProbeContext(
            clock=CLOCK, resolver=Resolver(BLACK_HOLE_ADDRESS, hole.port, 0.3), timeout=0.3
        )
        with pytest.raises(ProbeTimeout) as caught:
            mx(domain("good.test"), NO_PARAMS, ctx)
        assert str(caught.value) == "DNS look-up of good.test MX got no answer within 0.3 s"
        assert error_said(caught.value) == (
            "DNS-opzoeking van good.test MX kreeg geen antwoord binnen 0,3 s"
        )
        lookup = Lookup(ctx, budget=1.0)
        with pytest.raises(ProbeTimeout):
            lookup.query("good.test", "A")
        with pytest.raises(ProbeTimeout) as late:
            lookup.query("good.test", "AAAA")
    assert error_said(late.value).startswith("de DNS-opzoekingen van deze controle duurden")


# --- remediation names the school's own domain -------------------------------------------------


def test_dns_and_tls_remediation_name_the_schools_domain() -> None:
    catalog, problems = load_catalog(REPO)
    assert problems == []
    yaml = YAML(typ="safe")
    ids = [
        check["id"]
        for name in ("dns.yaml", "tls.yaml")
        for check in yaml.load((REPO / "checks" / name).read_text(encoding="utf-8"))["checks"]
    ]
    assert "dns.caa" in ids and "tls.cert-key" in ids
    for check_id in ids:
        remediation = catalog.checks[check_id].remediation
        for lang in ("nl", "en"):
            # an example domain is written as {domain}, so that a finding shows the school's own
            assert "school.be" not in remediation.get(lang), check_id
    caa_check = catalog.checks["dns.caa"]
    planned = PlannedCheck(check=caa_check, params=NO_PARAMS, controls=())
    finding = planned.finding("f", "dns.caa", "sintjan.be", FindingStatus.FAIL, "m")
    for lang in ("nl", "en"):
        assert "{domain}" not in finding.remediation[lang]
        assert """'0 iodef "mailto:ict@sintjan.be"'""" in finding.remediation[lang]
    example = remediation_for(caa_check.remediation, None)
    assert "mailto:ict@uwschool.be" in example["nl"]
    assert "mailto:ict@yourschool.be" in example["en"]

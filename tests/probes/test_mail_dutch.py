"""The mail probes speak Dutch: every verdict, warning and error of mail.spf, mail.dmarc,
mail.dmarc-enforced, mail.dkim, mail.mta-sts, mail.tls-rpt, mail.starttls and of the SMTP and IMAP
sessions before STARTTLS comes from the message catalog in Dutch as well as in English.

The probes run against the lab servers of test_mail.py and test_mail_auth.py (DNS, SMTP and the
MTA-STS policy hosts, all on loopback).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cyberstd.errors import ProbeError, ProbeTimeout, ProtocolError
from cyberstd.lab.dns import DnsServer
from cyberstd.net.resolver import Resolver
from cyberstd.net.starttls import upgrade
from cyberstd.net.tcp import open_tcp
from cyberstd.probes.mail.dkim import DkimParams, dkim
from cyberstd.probes.mail.dmarc import EnforcedParams, dmarc, dmarc_enforced
from cyberstd.probes.mail.mtasts import MtaStsParams, mta_sts, parse_mta_sts_policy, tls_rpt
from cyberstd.probes.mail.records import RecordError
from cyberstd.probes.mail.spf import SpfParams, spf
from cyberstd.probes.mail.spfrecord import parse_spf
from cyberstd.probes.mail.starttls import StartTlsParams, starttls
from cyberstd.registry import ProbeContext, ProbeParams
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.schema import SchoolFile
from tests.conftest import CLOCK
from tests.probes import test_mail as mail_lab
from tests.probes import test_mail_auth as auth_lab
from tests.probes.test_mail import (
    DNS_ADDRESS,
    MailServers,
    PolicyHosts,
    _closing,
    _outside_guard,
    _script,
    domain,
)

# The lab servers of test_mail.py, as fixtures of this module too.
dns_server = mail_lab.dns_server
ctx = mail_lab.ctx
policy_hosts = mail_lab.policy_hosts
sts_ctx = mail_lab.sts_ctx
mail_cert = mail_lab.mail_cert
mail_servers = mail_lab.mail_servers
smtp_ctx = mail_lab.smtp_ctx
scripted = mail_lab.scripted

NO_PARAMS = ProbeParams()
# Words that only English has; a Dutch text holds none of them outside quoted data.
ENGLISH = (
    " the ",
    " is not ",
    " has ",
    " have ",
    " does ",
    " could not ",
    " cannot ",
    " with ",
    " which ",
    " and ",
    " or ",
    " not ",
    " no ",
    " are ",
    " at ",
    " its ",
    " more ",
)


def assert_dutch(nl: str | None, en: str) -> None:
    """`nl` is there, is not the English, and has no English sentence outside quoted data."""
    assert nl, f"no Dutch for: {en}"
    assert nl != en
    bare = re.sub(r"'[^']*'", "'...'", nl)
    found = [word for word in ENGLISH if word in f" {bare} "]
    assert found == [], f"English in the Dutch text {nl!r}"


def assert_speaks_dutch(outcome: ProbeOutcome) -> None:
    assert_dutch(outcome.messages.get("nl"), outcome.message)
    if outcome.warning is not None:
        assert_dutch(outcome.warning_messages.get("nl"), outcome.warning)


def assert_error_in_dutch(error: ProbeError) -> str:
    assert error.said is not None, f"an error without a catalog message: {error}"
    en, others = error.texts()
    assert en == str(error)
    assert_dutch(others.get("nl"), en)
    return others["nl"]


@pytest.fixture(scope="module")
def auth_dns() -> Iterator[DnsServer]:
    with DnsServer(auth_lab.ZONE, address=auth_lab.DNS_ADDRESS) as srv:
        yield srv


@pytest.fixture
def auth_ctx(auth_dns: DnsServer) -> ProbeContext:
    return ProbeContext(
        clock=CLOCK,
        resolver=Resolver(auth_lab.DNS_ADDRESS, auth_dns.port, auth_lab.TIMEOUT),
        timeout=auth_lab.TIMEOUT,
    )


# --- mail.spf ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "params"),
    [
        ("spf-ok.test", FindingStatus.PASS, {}),
        ("spf-macro.test", FindingStatus.PASS, {}),  # a warning: macros not followed
        ("spf-after-all.test", FindingStatus.PASS, {}),  # a warning: terms after all
        ("spf-plus.test", FindingStatus.FAIL, {}),
        ("spf-noall.test", FindingStatus.FAIL, {}),
        ("spf-soft.test", FindingStatus.FAIL, {"allowed_all": ["-all"]}),
        ("spf-none.test", FindingStatus.FAIL, {}),
        ("spf-two.test", FindingStatus.FAIL, {}),
        ("spf-badip.test", FindingStatus.FAIL, {}),
        ("spf-unknown.test", FindingStatus.FAIL, {}),
        ("spf-huge.test", FindingStatus.FAIL, {}),
        ("lookups.test", FindingStatus.FAIL, {}),
        ("spf-voids.test", FindingStatus.FAIL, {}),
        ("spf-loop.test", FindingStatus.FAIL, {}),
        ("spf-missing-include.test", FindingStatus.FAIL, {}),
        ("spf-open-include.test", FindingStatus.FAIL, {}),
    ],
)
def test_spf_speaks_dutch(
    ctx: ProbeContext, name: str, status: FindingStatus, params: dict[str, Any]
) -> None:
    outcome = spf(domain(name), SpfParams(**params), ctx)
    assert outcome.status is status, outcome.message
    assert_speaks_dutch(outcome)


def test_spf_in_dutch_reads_as_written(ctx: ProbeContext) -> None:
    passed = spf(domain("spf-ok.test"), SpfParams(), ctx)
    assert passed.messages["nl"] == (
        "spf-ok.test heeft één geldig SPF-record dat eindigt op -all, met 3 van de 10 "
        "toegelaten DNS-opzoekingen"
    )
    soft = spf(domain("spf-soft.test"), SpfParams(allowed_all=["-all"]), ctx)
    assert soft.messages["nl"] == "het SPF-record van spf-soft.test eindigt op ~all, niet op -all"
    plus = spf(domain("spf-neutral.test"), SpfParams(), ctx)
    assert plus.messages["nl"].endswith("eindigt op ?all, niet op -all of ~all")
    loop = spf(domain("spf-loop.test"), SpfParams(max_lookups=2), ctx)
    assert loop.messages["nl"].endswith("(en nog 1 probleem)")
    assert loop.message.endswith("(and 1 more problem)")


def test_spf_syntax_errors_speak_dutch() -> None:
    for record in ("x", "v=spf1 ip6:192.0.2.1 -all", "v=spf1 foo:bar", "v=spf1 include: -all"):
        with pytest.raises(RecordError) as caught:
            parse_spf(record)
        assert_dutch(caught.value.said.render("nl"), str(caught.value))


# --- mail.dmarc and mail.dmarc-enforced --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("reject.test", FindingStatus.PASS),
        ("norua.test", FindingStatus.PASS),  # advice as a warning
        ("none.test", FindingStatus.PASS),
        ("pct.test", FindingStatus.PASS),
        ("porder.test", FindingStatus.PASS),  # a note on the order of the tags
        ("unknowntag.test", FindingStatus.PASS),
        ("sintjan.groep.test", FindingStatus.PASS),  # the group's record
        ("space.test", FindingStatus.FAIL),
        ("emptytag.test", FindingStatus.FAIL),
        ("nomailto.test", FindingStatus.FAIL),
        ("doublemailto.test", FindingStatus.FAIL),
        ("badp.test", FindingStatus.FAIL),
        ("badpct.test", FindingStatus.FAIL),
        ("lowerv.test", FindingStatus.FAIL),
        ("dup.test", FindingStatus.FAIL),
        ("two.test", FindingStatus.FAIL),
        ("missing.test", FindingStatus.FAIL),
        ("lonely.nogroup.test", FindingStatus.FAIL),
    ],
)
def test_dmarc_speaks_dutch(auth_ctx: ProbeContext, name: str, status: FindingStatus) -> None:
    outcome = dmarc(domain(name), NO_PARAMS, auth_ctx)
    assert outcome.status is status, outcome.message
    assert_speaks_dutch(outcome)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("reject.test", FindingStatus.PASS),
        ("sintjan.groep.test", FindingStatus.PASS),
        ("eigen.groep3.test", FindingStatus.PASS),  # a warning: the group's weak sp=
        ("eigen.groep4.test", FindingStatus.PASS),  # a warning: the group has no record
        ("none.test", FindingStatus.FAIL),
        ("pct.test", FindingStatus.FAIL),
        ("testing.test", FindingStatus.FAIL),
        ("spnone.test", FindingStatus.FAIL),
        ("npnone.test", FindingStatus.FAIL),
        ("nop.test", FindingStatus.FAIL),
        ("missing.test", FindingStatus.FAIL),
    ],
)
def test_dmarc_enforcement_speaks_dutch(
    auth_ctx: ProbeContext, name: str, status: FindingStatus
) -> None:
    outcome = dmarc_enforced(domain(name), EnforcedParams(), auth_ctx)
    assert outcome.status is status, outcome.message
    assert_speaks_dutch(outcome)


def test_dmarc_in_dutch_counts_the_other_problems(
    auth_ctx: ProbeContext, ctx: ProbeContext
) -> None:
    one_more = dmarc(domain("emptytag.test"), NO_PARAMS, auth_ctx)
    assert one_more.messages["nl"] == (
        "het DMARC-record op _dmarc.emptytag.test is ongeldig: '=none' is geen tag=waarde-paar "
        "(en nog 1 probleem)"
    )
    two_more = dmarc_enforced(domain("flawed.test"), EnforcedParams(), ctx)
    assert two_more.status is FindingStatus.FAIL
    assert two_more.message.endswith("(and 2 more problems)")
    assert two_more.messages["nl"].endswith("(en nog 2 problemen)")
    assert "niet quarantine of reject" in two_more.messages["nl"]
    pct = dmarc_enforced(domain("pct.test"), EnforcedParams(), auth_ctx)
    assert "geldt maar voor 50\u00a0% van de mail" in pct.messages["nl"]


# --- mail.dkim ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "params"),
    [
        ("m365.test", FindingStatus.PASS, {}),
        ("lab.test", FindingStatus.PASS, {}),
        ("weak.test", FindingStatus.PASS, {}),  # a warning: a 1024-bit key
        ("retired.test", FindingStatus.PASS, {}),  # a warning: a retired key
        ("weak.test", FindingStatus.FAIL, {"min_rsa_bits": 2048}),
        ("revoked.test", FindingStatus.FAIL, {}),
        ("lab-revoked.test", FindingStatus.FAIL, {}),
        ("broken.test", FindingStatus.FAIL, {}),
        ("service.test", FindingStatus.FAIL, {}),
        ("twokeys.test", FindingStatus.FAIL, {}),
        ("nokey.test", FindingStatus.FAIL, {"selectors": ["s2026", "not_valid-"]}),
        ("nokey.test", FindingStatus.NOT_APPLICABLE, {}),
    ],
)
def test_dkim_speaks_dutch(
    auth_ctx: ProbeContext, name: str, status: FindingStatus, params: dict[str, Any]
) -> None:
    outcome = dkim(domain(name), DkimParams(**params), auth_ctx)
    assert outcome.status is status, outcome.message
    assert_speaks_dutch(outcome)


def test_dkim_in_dutch_counts_selectors(auth_ctx: ProbeContext, auth_dns: DnsServer) -> None:
    one = dkim(domain("m365.test"), DkimParams(), auth_ctx)
    assert (
        one.messages["nl"]
        == "m365.test publiceert een bruikbare DKIM-sleutel voor selector selector1"
    )
    two = dkim(domain("lab.test"), DkimParams(), auth_ctx)
    assert two.messages["nl"] == (
        "lab.test publiceert bruikbare DKIM-sleutels voor de selectors selector1, selector2"
    )
    school = SchoolFile.model_validate(
        {
            "school": {"id": "s", "name": "S"},
            "domains": ["nokey.test"],
            "mail": {"dkim_selectors": {"nokey.test": ["s2026", "s2027"]}},
        }
    )
    declared = ProbeContext(
        clock=CLOCK,
        resolver=Resolver(auth_lab.DNS_ADDRESS, auth_dns.port, auth_lab.TIMEOUT),
        timeout=auth_lab.TIMEOUT,
        school=school,
    )
    missing = dkim(domain("nokey.test"), DkimParams(), declared)
    assert missing.messages["nl"] == (
        "nokey.test: opgegeven DKIM-selectors zonder bruikbare sleutel: "
        "s2026 (geen DKIM-sleutelrecord), s2027 (geen DKIM-sleutelrecord)"
    )
    assert missing.message == (
        "nokey.test: declared DKIM selector(s) without a sound key: "
        "s2026 (no DKIM key record), s2027 (no DKIM key record)"
    )


# --- mail.mta-sts and mail.tls-rpt -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("clean.test", "good", FindingStatus.PASS),
        ("sts-wild.test", "wild", FindingStatus.PASS),
        ("sts-testing.test", "testing", FindingStatus.FAIL),
        ("sts-uncovered.test", "uncovered", FindingStatus.FAIL),
        ("sts-short.test", "short", FindingStatus.FAIL),
        ("clean.test", "missing", FindingStatus.FAIL),
        ("clean.test", "redirect", FindingStatus.FAIL),
        ("clean.test", "self-signed", FindingStatus.FAIL),
        ("flawed.test", "good", FindingStatus.FAIL),
        ("sts-noid.test", "good", FindingStatus.FAIL),
        ("sts-nohost.test", "good", FindingStatus.FAIL),
    ],
)
def test_mta_sts_speaks_dutch(
    policy_hosts: PolicyHosts, sts_ctx: ProbeContext, name: str, kind: str, status: FindingStatus
) -> None:
    params = MtaStsParams(policy_port=policy_hosts.ports[kind])
    outcome = mta_sts(domain(name), params, sts_ctx)
    assert outcome.status is status, outcome.message
    assert_speaks_dutch(outcome)


def test_mta_sts_outside_the_scope_speaks_dutch(smtp_ctx: ProbeContext) -> None:
    outcome = mta_sts(domain("sts-outside.test"), MtaStsParams(), smtp_ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert_speaks_dutch(outcome)
    assert "buiten de toegelaten scope" in outcome.messages["nl"]


def test_an_mta_sts_policy_says_its_problems_in_dutch() -> None:
    policy = parse_mta_sts_policy("version: STSv2\nmode: x\nbad line\nmode: enforce")
    assert [p.render("nl") for p in policy.problems] == [
        "de regel 'bad line' is geen 'sleutel: waarde'",
        "mode staat er twee keer in",
        "version is STSv2, niet STSv1",
        "mode is x, niet enforce, testing of none",
        "max_age ontbreekt (een aantal seconden tot een jaar verwacht)",
    ]


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("clean.test", FindingStatus.PASS),
        ("flawed.test", FindingStatus.FAIL),
        ("rpt-norua.test", FindingStatus.FAIL),
        ("rpt-badrua.test", FindingStatus.FAIL),
    ],
)
def test_tls_rpt_speaks_dutch(ctx: ProbeContext, name: str, status: FindingStatus) -> None:
    outcome = tls_rpt(domain(name), NO_PARAMS, ctx)
    assert outcome.status is status, outcome.message
    assert_speaks_dutch(outcome)


# --- mail.starttls and the sessions before STARTTLS --------------------------------------------


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("tls-ok.test", FindingStatus.PASS),
        ("tls-partial.test", FindingStatus.PASS),  # a warning: one MX outside the scope
        ("tls-plain.test", FindingStatus.FAIL),
        ("tls-mixed.test", FindingStatus.FAIL),
        ("tls-outside.test", FindingStatus.NOT_APPLICABLE),
        ("tls-nomx.test", FindingStatus.NOT_APPLICABLE),
    ],
)
def test_starttls_speaks_dutch(
    mail_servers: MailServers, smtp_ctx: ProbeContext, name: str, status: FindingStatus
) -> None:
    outcome = starttls(domain(name), StartTlsParams(port=mail_servers.port), smtp_ctx)
    assert outcome.status is status, outcome.message
    assert_speaks_dutch(outcome)


def test_starttls_errors_speak_dutch(mail_servers: MailServers, dns_server: DnsServer) -> None:
    params = StartTlsParams(port=mail_servers.port)
    guarded = ProbeContext(
        clock=CLOCK,
        resolver=Resolver(DNS_ADDRESS, dns_server.port, 2.0),
        timeout=2.0,
        guard=_outside_guard,
    )
    with pytest.raises(ProtocolError) as garbage:
        starttls(domain("tls-garbage.test"), params, guarded)
    nl = assert_error_in_dutch(garbage.value)
    assert nl.startswith("STARTTLS op de MX-servers van tls-garbage.test is niet te beoordelen")
    assert "stuurde in de SMTP-begroeting iets dat geen SMTP-antwoord is" in nl
    quick = ProbeContext(
        clock=CLOCK, resolver=Resolver(DNS_ADDRESS, dns_server.port, 0.5), timeout=0.5
    )
    with pytest.raises(ProbeTimeout) as silent:
        starttls(domain("tls-silent.test"), params, quick)
    assert "stuurde de SMTP-begroeting niet binnen 0,5 s" in assert_error_in_dutch(silent.value)
    assert "did not send an SMTP greeting within 0.5 s" in str(silent.value)


SMTP_SESSIONS = [
    _closing(b"220 mail.test ESMTP\r\n250"),
    _closing(b"554 no service for you\r\n"),
    _closing(b"SSH-2.0-OpenSSH_9.6\r\n"),
    _closing(b"220-one\r\n250 two\r\n"),
    _closing(b"220-x\r\n" * 150),
    _closing(b"220 " + b"A" * 5000 + b"\r\n"),
    _script(b"220 hi\r\n", b"250-hi\r\n250 STARTTLS\r\n", b"454 TLS not available\r\n"),
    _script(b"220 hi\r\n", b"250-hi\r\n250 STARTTLS\r\n", b"220 go ahead\r\nINJECTED"),
    _script(b"220 hi\r\n", b"421 busy\r\n"),
    _script(b"220 hi\r\n", b"250 hi\r\n"),
    _script(b"220 hi\r\n"),
]
IMAP_SESSIONS = [
    _closing(b"* BYE too busy\r\n"),
    _closing(b"220 smtp here\r\n"),
    _script(b"* OK hi\r\n", b"a1 NO never\r\n"),
    _script(b"* OK hi\r\n", b"a1\r\n"),
    _script(b"* OK hi\r\n", b"zz\r\n"),
    _script(b"* OK hi\r\n", b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK\r\n", b"a2 BAD no\r\n"),
]


@pytest.mark.parametrize(
    ("protocol", "handler"),
    [("smtp", h) for h in SMTP_SESSIONS] + [("imap", h) for h in IMAP_SESSIONS],
)
def test_a_misbehaving_mail_server_is_reported_in_dutch(
    scripted: Callable[[Callable[[socket.socket], None]], int],
    protocol: str,
    handler: Callable[[socket.socket], None],
) -> None:
    port = scripted(handler)
    with open_tcp("127.0.51.40", port, 0.5) as sock, pytest.raises(ProbeError) as caught:
        upgrade(sock, protocol, timeout=0.5)  # type: ignore[arg-type]
    nl = assert_error_in_dutch(caught.value)
    assert nl.startswith(f"127.0.51.40 poort {port} ")

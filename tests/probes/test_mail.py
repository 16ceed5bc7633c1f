"""Tests of the mail probes and of STARTTLS against lab DNS, SMTP and HTTPS servers on loopback.

Addresses: DNS on 127.0.50.55 (black hole 127.0.50.56), mail servers on 127.0.51.x, MTA-STS
policy hosts on 127.0.51.80.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cyberstd.errors import ConnectivityError, ProbeTimeout, ProtocolError, ScopeError
from cyberstd.lab.certs import CertFiles, CertificateAuthority, self_signed
from cyberstd.lab.dns import DnsServer, lab_school_zone, zone_records
from cyberstd.lab.mail import ImapServer, SmtpServer, mta_sts_policy
from cyberstd.lab.services import HOSTILE_BANNER, ServiceKind, TcpService, hostile_service
from cyberstd.lab.web import WebServer
from cyberstd.net.resolver import Resolver
from cyberstd.net.starttls import (
    MAX_LINE,
    StartTlsNotOffered,
    probe_smtp,
    upgrade,
)
from cyberstd.net.tcp import open_tcp
from cyberstd.probes.dns.caa import caa
from cyberstd.probes.dns.dnssec import DnssecParams, dnssec
from cyberstd.probes.dns.mx import mx
from cyberstd.probes.dns.soa_ns import SoaNsParams, soa_ns
from cyberstd.probes.mail.dkim import DkimParams, dkim
from cyberstd.probes.mail.dmarc import EnforcedParams, dmarc, dmarc_enforced
from cyberstd.probes.mail.mtasts import MtaStsParams, mta_sts, tls_rpt
from cyberstd.probes.mail.spf import SpfParams, spf
from cyberstd.probes.mail.spfrecord import parse_spf
from cyberstd.probes.mail.starttls import StartTlsParams, starttls
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind
from cyberstd.results import FindingStatus
from tests.conftest import CLOCK

DNS_ADDRESS = "127.0.50.55"
BLACK_HOLE_ADDRESS = "127.0.50.56"
MX_OK = "127.0.51.25"
MX_PLAIN = "127.0.51.26"
MX_GARBAGE = "127.0.51.27"
MX_SILENT = "127.0.51.28"
MX_HOSTILE = "127.0.51.29"
MX_OUTSIDE = "127.0.51.99"
POLICY_ADDRESS = "127.0.51.80"
TIMEOUT = 2.0
NO_PARAMS = ProbeParams()
MAIL_NAME = "mail.example.test"


Records = dict[str, list[tuple[str, str]]]


def _mail_domain(name: str, records: Records | None = None) -> Records:
    """A domain with SOA and NS, plus `records` by owner relative to it ("" is the domain)."""
    zone: Records = {
        name: [("SOA", f"ns1.{name} hostmaster.{name} 1 3600 600 86400 300"), ("NS", f"ns1.{name}")]
    }
    for owner, entries in (records or {}).items():
        zone.setdefault(f"{owner}.{name}" if owner else name, []).extend(entries)
    return zone


def txt(text: str) -> tuple[str, str]:
    return ("TXT", text)


def _build_zone() -> dict[str, list[tuple[str, str]]]:
    zone: dict[str, list[tuple[str, str]]] = {}
    for name, flaws in {
        "clean.test": set(),
        "flawed.test": {
            "spf-plus-all",
            "dmarc-none",
            "dmarc-no-rua",
            "dmarc-pct",
            "no-dkim",
            "no-mta-sts",
            "no-tls-rpt",
        },
        "lookups.test": {"spf-too-many-lookups"},
    }.items():
        zone.update(
            zone_records(
                lab_school_zone(
                    name,
                    mail_address=MX_OK,
                    web_address=POLICY_ADDRESS,
                    flaws=flaws,
                    now=CLOCK.timestamp,
                )
            )
        )

    def add(name: str, owner: str, *entries: tuple[str, str]) -> None:
        zone.setdefault(f"{owner}.{name}" if owner else name, []).extend(entries)

    provider = "provider.test"
    zone.update(_mail_domain(provider))
    add(provider, "_spf", txt("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all"))
    add(provider, "_open", txt("v=spf1 +all"))
    add(provider, "", ("A", "127.0.51.5"))

    # SPF
    for name, record in {
        "spf-ok.test": "v=spf1 mx a:mail.spf-ok.test include:_spf.provider.test -all",
        "spf-soft.test": "v=spf1 mx ~all",
        "spf-plus.test": "v=spf1 mx +all",
        "spf-bare.test": "v=spf1 mx all",
        "spf-neutral.test": "v=spf1 mx ?all",
        "spf-noall.test": "v=spf1 mx",
        "spf-badip.test": "v=spf1 ip4:300.1.1.1 -all",
        "spf-unknown.test": "v=spf1 mx foo:bar -all",
        "spf-voids.test": "v=spf1 a:nx1.spf-voids.test a:nx2.spf-voids.test mx:nx3.spf-voids.test -all",
        "spf-missing-include.test": "v=spf1 include:nowhere.provider.test -all",
        "spf-open-include.test": "v=spf1 include:_open.provider.test -all",
        "spf-redirect.test": "v=spf1 redirect=_spf.provider.test",
        "spf-macro.test": "v=spf1 include:%{d}.provider.test exists:%{i}._spf.%{d} -all",
        "spf-loop.test": "v=spf1 include:_a.spf-loop.test -all",
        "spf-after-all.test": "v=spf1 mx -all ip4:192.0.2.1",
    }.items():
        zone.update(_mail_domain(name))
        add(name, "", txt(record), ("MX", f"10 mail.{name}"))
        add(name, "mail", ("A", MX_OK))
    add("spf-loop.test", "_a", txt("v=spf1 include:_b.spf-loop.test ~all"))
    add("spf-loop.test", "_b", txt("v=spf1 include:_a.spf-loop.test ~all"))
    zone.update(_mail_domain("spf-two.test", {"": [txt("v=spf1 -all"), txt("v=spf1 mx -all")]}))
    zone.update(_mail_domain("spf-none.test", {"": [txt("google-site-verification=abc")]}))
    # Hostile: hundreds of TXT records around one SPF record, and an SPF record of 250 terms
    # spread over hundreds of strings.
    junk = [txt(f"junk-{i}-" + "z" * 40) for i in range(300)]
    zone.update(_mail_domain("spf-crowd.test", {"": [*junk, txt("v=spf1 ip4:192.0.2.1 -all")]}))
    huge = "v=spf1 " + " ".join(f"ip4:10.0.{i // 250}.{i % 250}" for i in range(250)) + " -all"
    zone.update(_mail_domain("spf-huge.test", {"": [txt(huge)]}))

    # MTA-STS and TLS-RPT
    for name in ("sts-testing.test", "sts-uncovered.test", "sts-wild.test", "sts-short.test"):
        zone.update(
            _mail_domain(
                name,
                {
                    "": [("MX", f"10 mx1.{name}")],
                    "mx1": [("A", MX_OK)],
                    "_mta-sts": [txt("v=STSv1; id=2026")],
                    "mta-sts": [("A", POLICY_ADDRESS)],
                },
            )
        )
    zone.update(_mail_domain("sts-noid.test", {"_mta-sts": [txt("v=STSv1;")]}))
    zone.update(_mail_domain("sts-nohost.test", {"_mta-sts": [txt("v=STSv1; id=1")]}))
    zone.update(
        _mail_domain(
            "sts-outside.test", {"_mta-sts": [txt("v=STSv1; id=1")], "mta-sts": [("A", MX_OUTSIDE)]}
        )
    )
    zone.update(_mail_domain("rpt-norua.test", {"_smtp._tls": [txt("v=TLSRPTv1;")]}))
    zone.update(_mail_domain("rpt-badrua.test", {"_smtp._tls": [txt("v=TLSRPTv1; rua=ftp://x")]}))

    # STARTTLS: one MX per behaviour, all on the same port at different addresses.
    for name, addresses in {
        "tls-ok.test": [MX_OK],
        "tls-plain.test": [MX_PLAIN],
        "tls-mixed.test": [MX_OK, MX_PLAIN],
        "tls-garbage.test": [MX_GARBAGE],
        "tls-silent.test": [MX_SILENT],
        "tls-hostile.test": [MX_HOSTILE],
    }.items():
        zone.update(_mail_domain(name))
        for i, address in enumerate(addresses, start=1):
            add(name, "", ("MX", f"{i * 10} mx{i}.{name}"))
            add(name, f"mx{i}", ("A", address))
    zone.update(_mail_domain("tls-outside.test", {"": [("MX", "10 mx.elsewhere.test")]}))
    zone.update(
        _mail_domain(
            "tls-partial.test",
            {
                "": [("MX", "10 mx1.tls-partial.test"), ("MX", "20 mx.elsewhere.test")],
                "mx1": [("A", MX_OK)],
            },
        )
    )
    zone["mx.elsewhere.test"] = [("A", MX_OUTSIDE)]
    zone.update(_mail_domain("tls-nomx.test"))
    return zone


ZONE = _build_zone()


def domain(name: str) -> Target:
    return Target(name=name, kind=TargetKind.DOMAIN)


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    with DnsServer(ZONE, address=DNS_ADDRESS) as srv:
        yield srv


@pytest.fixture
def ctx(dns_server: DnsServer) -> ProbeContext:
    return ProbeContext(
        clock=CLOCK, resolver=Resolver(DNS_ADDRESS, dns_server.port, TIMEOUT), timeout=TIMEOUT
    )


# --- mail.spf ----------------------------------------------------------------------------------


def test_spf_passes_a_good_record(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-ok.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["lookups"] == 3
    assert outcome.evidence["void_lookups"] == 0
    assert outcome.evidence["ends_with"] == "-all"
    assert outcome.evidence["includes"][0]["domain"] == "_spf.provider.test"
    assert "3 of 10 DNS look-ups" in outcome.message


def test_spf_passes_the_lab_school(ctx: ProbeContext) -> None:
    outcome = spf(domain("clean.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["spf"] == ["v=spf1 mx -all"]


def test_spf_soft_fail_depends_on_the_parameter(ctx: ProbeContext) -> None:
    assert spf(domain("spf-soft.test"), SpfParams(), ctx).status is FindingStatus.PASS
    outcome = spf(domain("spf-soft.test"), SpfParams(allowed_all=["-all"]), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "ends in ~all, not in -all" in outcome.message


@pytest.mark.parametrize("name", ["spf-plus.test", "spf-bare.test", "flawed.test"])
def test_spf_fails_plus_all(ctx: ProbeContext, name: str) -> None:
    outcome = spf(domain(name), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "authorises every server on the internet" in outcome.message
    assert outcome.evidence["ends_with"] == "+all"


@pytest.mark.parametrize("name", ["spf-neutral.test", "spf-noall.test"])
def test_spf_fails_a_neutral_ending(ctx: ProbeContext, name: str) -> None:
    outcome = spf(domain(name), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "?all" in outcome.message or "no 'all'" in outcome.message


def test_spf_fails_two_records(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-two.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "2 SPF records" in outcome.message
    assert len(outcome.evidence["spf"]) == 2


def test_spf_fails_without_a_record(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-none.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "no SPF record" in outcome.message
    assert outcome.evidence["txt_count"] == 1


@pytest.mark.parametrize(
    ("name", "words"),
    [("spf-badip.test", "invalid address"), ("spf-unknown.test", "unknown mechanism 'foo'")],
)
def test_spf_fails_a_syntax_error(ctx: ProbeContext, name: str, words: str) -> None:
    outcome = spf(domain(name), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "is invalid" in outcome.message and words in outcome.message


def test_spf_counts_look_ups_through_nested_includes(ctx: ProbeContext) -> None:
    outcome = spf(domain("lookups.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["lookups"] == 12
    assert "needs 12 DNS look-ups, more than 10" in outcome.message
    assert [i["domain"] for i in outcome.evidence["includes"]] == [
        f"_spf{i}.lookups.test" for i in range(1, 5)
    ]


def test_spf_detects_an_include_loop(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-loop.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert (
        "include loop: spf-loop.test -> _a.spf-loop.test -> _b.spf-loop.test -> _a.spf-loop.test"
        in outcome.evidence["problems"]
    )


def test_spf_fails_too_many_void_look_ups(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-voids.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["void_lookups"] == 3
    assert "3 void look-ups, more than 2" in outcome.message


def test_spf_fails_an_include_without_record(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-missing-include.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "include:nowhere.provider.test has no SPF record" in outcome.message


def test_spf_fails_an_include_that_allows_everyone(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-open-include.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "include:_open.provider.test ends in +all" in outcome.message


def test_spf_follows_redirect_for_the_ending(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-redirect.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["ends_with"] == "~all"
    assert outcome.evidence["lookups"] == 1


def test_spf_counts_but_does_not_follow_macros(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-macro.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["lookups"] == 2
    assert outcome.warning is not None and "uses macros" in outcome.warning


def test_spf_warns_about_terms_after_all(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-after-all.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is not None and "ip4:192.0.2.1" in outcome.warning


def test_spf_finds_its_record_among_hundreds_of_txt_records(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-crowd.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["txt_count"] == 301


def test_spf_bounds_a_huge_record(ctx: ProbeContext) -> None:
    outcome = spf(domain("spf-huge.test"), SpfParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "251 terms, more than 200" in outcome.message
    shown = outcome.evidence["spf"][0]
    assert len(shown) < 2200 and "cut:" in shown


def test_spf_parser_rejects_bad_terms() -> None:
    for record in (
        "v=spf1 a/33 -all",
        "v=spf1 ip6:192.0.2.1 -all",
        "v=spf1 include: -all",
        "v=spf1 redirect=a.test redirect=b.test",
        "v=spf1 include:%{z}.x.test -all",
        "v=spf1 -all:x",
    ):
        with pytest.raises(ValueError):
            parse_spf(record)
    parsed = parse_spf("v=spf1 a:x.test/24//64 mx/24 ptr exists:%{i}.x.test unknown=1 -all")
    assert [m.name for m in parsed.mechanisms] == ["a", "mx", "ptr", "exists", "all"]


# --- mail.tls-rpt ------------------------------------------------------------------------------


def test_tls_rpt_passes(ctx: ProbeContext) -> None:
    outcome = tls_rpt(domain("clean.test"), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["rua"] == ["mailto:tls-reports@clean.test"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("flawed.test", "no TLS-RPT record"),
        ("rpt-norua.test", "no valid rua"),
        ("rpt-badrua.test", "no valid rua"),
    ],
)
def test_tls_rpt_fails(ctx: ProbeContext, name: str, words: str) -> None:
    outcome = tls_rpt(domain(name), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message


# --- mail.mta-sts ------------------------------------------------------------------------------


@dataclass
class PolicyHosts:
    """HTTPS servers on POLICY_ADDRESS, one port per kind of policy."""

    ca: Path
    ports: dict[str, int]
    servers: dict[str, WebServer]


@pytest.fixture(scope="module")
def policy_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolicyHosts]:
    workdir = tmp_path_factory.mktemp("mta-sts")
    ca = CertificateAuthority.create(workdir, now=CLOCK.now)
    names = [
        f"mta-sts.{d}"
        for d in (
            "clean.test",
            "sts-testing.test",
            "sts-uncovered.test",
            "sts-wild.test",
            "sts-short.test",
        )
    ]
    cert = ca.issue(workdir, names)
    bad_cert = self_signed(workdir, names, now=CLOCK.now)
    path = "/.well-known/mta-sts.txt"
    kinds: dict[str, dict[str, Any]] = {
        "good": {"files": {path: ("text/plain", mta_sts_policy(["mail.clean.test"]))}},
        "testing": {
            "files": {
                path: ("text/plain", mta_sts_policy(["mx1.sts-testing.test"], mode="testing"))
            }
        },
        "uncovered": {"files": {path: ("text/plain", mta_sts_policy(["mx9.elsewhere.test"]))}},
        "wild": {"files": {path: ("text/plain", mta_sts_policy(["*.sts-wild.test"]))}},
        "short": {
            "files": {path: ("text/plain", mta_sts_policy(["mx1.sts-short.test"], max_age=3600))}
        },
        "missing": {},
        "redirect": {"redirects": {path: (301, "https://elsewhere.test/policy.txt")}},
        "self-signed": {
            "files": {path: ("text/plain", mta_sts_policy(["mail.clean.test"]))},
            "cert": bad_cert,
        },
    }
    with ExitStack() as stack:
        servers = {
            kind: stack.enter_context(
                WebServer(
                    cert=options.pop("cert", cert),
                    address=POLICY_ADDRESS,
                    host_name="mta-sts.clean.test",
                    http_port=None,
                    https_port=0,
                    **options,
                )
            )
            for kind, options in kinds.items()
        }
        yield PolicyHosts(ca.cert_path, {k: s.https_port for k, s in servers.items()}, servers)


@pytest.fixture
def sts_ctx(dns_server: DnsServer, policy_hosts: PolicyHosts) -> ProbeContext:
    return ProbeContext(
        clock=CLOCK,
        resolver=Resolver(DNS_ADDRESS, dns_server.port, TIMEOUT),
        timeout=TIMEOUT,
        ca_bundle=policy_hosts.ca,
    )


def _sts(name: str, kind: str, hosts: PolicyHosts, ctx: ProbeContext, **params: Any) -> Any:
    return mta_sts(domain(name), MtaStsParams(policy_port=hosts.ports[kind], **params), ctx)


def test_mta_sts_passes_an_enforced_policy(
    policy_hosts: PolicyHosts, sts_ctx: ProbeContext
) -> None:
    outcome = _sts("clean.test", "good", policy_hosts, sts_ctx)
    assert outcome.status is FindingStatus.PASS, outcome.message
    assert outcome.evidence["mode"] == "enforce"
    assert outcome.evidence["policy_mx"] == ["mail.clean.test"]
    assert outcome.evidence["policy_address"] == POLICY_ADDRESS
    seen = policy_hosts.servers["good"].requests_seen
    assert seen[-1].path == "/.well-known/mta-sts.txt"
    assert seen[-1].host == f"mta-sts.clean.test:{policy_hosts.ports['good']}"
    assert "mta-sts.clean.test" in policy_hosts.servers["good"].sni_seen


def test_mta_sts_accepts_a_wildcard_mx_pattern(
    policy_hosts: PolicyHosts, sts_ctx: ProbeContext
) -> None:
    assert _sts("sts-wild.test", "wild", policy_hosts, sts_ctx).status is FindingStatus.PASS


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("sts-testing.test", "testing", "in mode testing, not enforce"),
        ("sts-uncovered.test", "uncovered", "do not cover MX host(s) mx1.sts-uncovered.test"),
        ("sts-short.test", "short", "max_age=3600 s is shorter than 7 days"),
        ("clean.test", "missing", "answers 404, not 200"),
        ("clean.test", "redirect", "answers 301, not 200"),
        ("clean.test", "self-signed", "the certificate of mta-sts.clean.test is not valid"),
        ("flawed.test", "good", "no MTA-STS record"),
        ("sts-noid.test", "good", "no valid id="),
        ("sts-nohost.test", "good", "mta-sts.sts-nohost.test does not resolve"),
    ],
)
def test_mta_sts_fails(
    policy_hosts: PolicyHosts, sts_ctx: ProbeContext, name: str, kind: str, words: str
) -> None:
    outcome = _sts(name, kind, policy_hosts, sts_ctx)
    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message


def test_mta_sts_testing_mode_may_be_allowed(
    policy_hosts: PolicyHosts, sts_ctx: ProbeContext
) -> None:
    outcome = _sts(
        "sts-testing.test", "testing", policy_hosts, sts_ctx, allowed_modes=["enforce", "testing"]
    )
    assert outcome.status is FindingStatus.PASS


def test_mta_sts_does_not_fetch_outside_the_scope(
    dns_server: DnsServer, policy_hosts: PolicyHosts
) -> None:
    def guard(name: str, address: str) -> None:
        raise ScopeError(f"{name} ({address}) is not in scope")

    ctx = ProbeContext(
        clock=CLOCK,
        resolver=Resolver(DNS_ADDRESS, dns_server.port, TIMEOUT),
        timeout=TIMEOUT,
        guard=guard,
    )
    before = len(policy_hosts.servers["good"].requests_seen)
    outcome = _sts("clean.test", "good", policy_hosts, ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert "outside the authorised scope" in outcome.message
    assert len(policy_hosts.servers["good"].requests_seen) == before


def test_mta_sts_reports_a_policy_host_that_does_not_answer(
    policy_hosts: PolicyHosts, sts_ctx: ProbeContext
) -> None:
    with socket.create_server((POLICY_ADDRESS, 0)) as sock:
        closed = int(sock.getsockname()[1])
    with pytest.raises(ConnectivityError, match="refused"):
        mta_sts(domain("clean.test"), MtaStsParams(policy_port=closed), sts_ctx)


# --- STARTTLS: the plain-text part -------------------------------------------------------------


@pytest.fixture(scope="module")
def mail_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CertFiles]:
    workdir = tmp_path_factory.mktemp("mail")
    ca = CertificateAuthority.create(workdir, now=CLOCK.now)
    return ca.cert_path, ca.issue(workdir, [MAIL_NAME])


def _closing(payload: bytes) -> Callable[[socket.socket], None]:
    """A handler that sends `payload`, reads one command line, and hangs up."""

    def handle(conn: socket.socket) -> None:
        conn.sendall(payload)
        conn.recv(4096)

    return handle


def _script(*replies: bytes) -> Callable[[socket.socket], None]:
    """A handler that sends the first reply, then one reply per line it receives."""

    def handle(conn: socket.socket) -> None:
        conn.sendall(replies[0])
        for reply in replies[1:]:
            if not conn.recv(4096):
                return
            conn.sendall(reply)
        while conn.recv(4096):
            pass

    return handle


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    with ExitStack() as stack:

        def start(handler: Callable[[socket.socket], None]) -> int:
            service = TcpService(handler, kind=ServiceKind.HOSTILE, address="127.0.51.40")
            return stack.enter_context(service).port

        yield start


def test_upgrade_smtp_leaves_a_socket_ready_for_tls(mail_cert: tuple[Path, CertFiles]) -> None:
    ca, cert = mail_cert
    with SmtpServer(address="127.0.51.41", cert=cert, host_name=MAIL_NAME) as server:
        sock = open_tcp("127.0.51.41", server.port, TIMEOUT)
        info = upgrade(sock, "smtp", timeout=TIMEOUT, ehlo_name="probe.test")
        context = ssl.create_default_context(cafile=str(ca))
        with context.wrap_socket(sock, server_hostname=MAIL_NAME) as tls:
            assert tls.version() in ("TLSv1.3", "TLSv1.2")
            tls.sendall(b"QUIT\r\n")
            assert tls.recv(100).startswith(b"221")
    assert info.banner == f"220 {MAIL_NAME} ESMTP cyberstd lab"
    assert "STARTTLS" in info.capabilities and info.starttls_offered
    assert server.commands[:2] == ["EHLO probe.test", "STARTTLS"]


def test_upgrade_imap_leaves_a_socket_ready_for_tls(mail_cert: tuple[Path, CertFiles]) -> None:
    ca, cert = mail_cert
    with ImapServer(address="127.0.51.41", cert=cert, host_name=MAIL_NAME) as server:
        sock = open_tcp("127.0.51.41", server.port, TIMEOUT)
        info = upgrade(sock, "imap", timeout=TIMEOUT)
        context = ssl.create_default_context(cafile=str(ca))
        with context.wrap_socket(sock, server_hostname=MAIL_NAME) as tls:
            tls.sendall(b"a3 CAPABILITY\r\n")
            assert b"STARTTLS" not in tls.recv(200)
    assert info.banner.startswith("* OK")
    assert info.capabilities == ("IMAP4rev1", "STARTTLS", "LOGINDISABLED")


@pytest.mark.parametrize("protocol", ["smtp", "imap"])
def test_upgrade_says_when_starttls_is_not_offered(
    mail_cert: tuple[Path, CertFiles], protocol: str
) -> None:
    _, cert = mail_cert
    server_class = SmtpServer if protocol == "smtp" else ImapServer
    with (
        server_class(address="127.0.51.41", cert=cert, starttls=False) as server,
        open_tcp("127.0.51.41", server.port, TIMEOUT) as sock,
        pytest.raises(StartTlsNotOffered, match="does not offer STARTTLS") as caught,
    ):
        upgrade(sock, protocol, timeout=TIMEOUT)  # type: ignore[arg-type]
    assert caught.value.banner
    assert "STARTTLS" not in caught.value.capabilities
    assert isinstance(caught.value, ProtocolError)


@pytest.mark.parametrize(
    ("handler", "error", "words"),
    [
        (_closing(b"220 mail.test ESMTP\r\n250"), ProtocolError, "closed the connection"),
        (_closing(b"554 no service for you\r\n"), ProtocolError, "refuses SMTP sessions"),
        (_closing(b"SSH-2.0-OpenSSH_9.6\r\n"), ProtocolError, "not an SMTP reply"),
        (_closing(b"220-one\r\n250 two\r\n"), ProtocolError, "mixed reply codes 220 and 250"),
        (_closing(b"220-x\r\n" * 150), ProtocolError, "more than 100 lines"),
        (_closing(b"220 " + b"A" * 5000 + b"\r\n"), ProtocolError, "longer than 4096 bytes"),
        (
            _script(b"220 hi\r\n", b"250-hi\r\n250 STARTTLS\r\n", b"454 TLS not available\r\n"),
            ProtocolError,
            "refused STARTTLS: '454 TLS not available'",
        ),
        (
            _script(b"220 hi\r\n", b"250-hi\r\n250 STARTTLS\r\n", b"220 go ahead\r\nINJECTED"),
            ProtocolError,
            "sent data after its answer to STARTTLS",
        ),
        (_script(b"220 hi\r\n", b"421 busy\r\n"), ProtocolError, "answered EHLO with '421 busy'"),
        (_script(b"220 hi"), ProbeTimeout, "did not send an SMTP greeting within 0.5 s"),
        (
            _script(b"220 hi\r\n"),
            ProbeTimeout,
            "did not send an answer to EHLO within 0.5 s",
        ),
    ],
)
def test_upgrade_refuses_misbehaving_smtp_servers(
    scripted: Callable[[Callable[[socket.socket], None]], int],
    handler: Callable[[socket.socket], None],
    error: type[Exception],
    words: str,
) -> None:
    port = scripted(handler)
    with open_tcp("127.0.51.40", port, 0.5) as sock, pytest.raises(error) as caught:
        upgrade(sock, "smtp", timeout=0.5)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("handler", "words"),
    [
        (_closing(b"* BYE too busy\r\n"), "refuses IMAP sessions"),
        (_closing(b"220 smtp here\r\n"), "sent no IMAP greeting"),
        (_script(b"* OK hi\r\n", b"a1 NO never\r\n"), "answered CAPABILITY with NO"),
        (
            _script(
                b"* OK hi\r\n", b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK\r\n", b"a2 BAD no\r\n"
            ),
            "refused STARTTLS (BAD)",
        ),
    ],
)
def test_upgrade_refuses_misbehaving_imap_servers(
    scripted: Callable[[Callable[[socket.socket], None]], int],
    handler: Callable[[socket.socket], None],
    words: str,
) -> None:
    port = scripted(handler)
    with open_tcp("127.0.51.40", port, 0.5) as sock, pytest.raises(ProtocolError) as caught:
        upgrade(sock, "imap", timeout=0.5)
    assert words in str(caught.value)


def test_probe_smtp_reads_a_multiline_banner_and_quits(
    scripted: Callable[[Callable[[socket.socket], None]], int],
) -> None:
    port = scripted(
        _script(b"220-mail.test ESMTP\r\n220 welcome\r\n", b"500 what?\r\n", b"221 bye\r\n")
    )
    info = probe_smtp("127.0.51.40", port, timeout=TIMEOUT)
    assert info.banner == "220-mail.test ESMTP\n220 welcome"
    assert info.capabilities == () and not info.starttls_offered


def test_upgrade_refuses_an_ehlo_name_that_could_inject_commands() -> None:
    with socket.socket() as sock, pytest.raises(ValueError, match="EHLO name"):
        upgrade(sock, "smtp", timeout=1, ehlo_name="x\r\nRCPT TO:<a@b>")


def test_max_line_is_4_kb() -> None:
    assert MAX_LINE == 4096


# --- mail.starttls -----------------------------------------------------------------------------


@dataclass
class MailServers:
    port: int
    ok: SmtpServer
    plain: SmtpServer
    hostile: SmtpServer
    outside: SmtpServer


@pytest.fixture(scope="module")
def mail_servers(mail_cert: tuple[Path, CertFiles]) -> Iterator[MailServers]:
    _, cert = mail_cert
    with ExitStack() as stack:
        ok = stack.enter_context(SmtpServer(address=MX_OK, cert=cert, host_name=MAIL_NAME))
        port = ok.port

        def smtp(address: str, **options: Any) -> SmtpServer:
            return stack.enter_context(SmtpServer(address=address, port=port, cert=cert, **options))

        plain = smtp(MX_PLAIN, starttls=False)
        hostile = smtp(MX_HOSTILE, hostile=True)
        outside = smtp(MX_OUTSIDE)
        stack.enter_context(
            hostile_service(address=MX_GARBAGE, port=port, banner=b"\x00\x01garbage\r\n")
        )
        stack.enter_context(
            TcpService(_wait, kind=ServiceKind.SILENT, address=MX_SILENT, port=port)
        )
        yield MailServers(port, ok, plain, hostile, outside)


def _wait(conn: socket.socket) -> None:
    """Accept, then say nothing until the client hangs up."""
    conn.recv(10)


def _outside_guard(name: str, address: str) -> None:
    if address == MX_OUTSIDE:
        raise ScopeError(f"{name} ({address}) is not in scope")


@pytest.fixture
def smtp_ctx(dns_server: DnsServer) -> ProbeContext:
    return ProbeContext(
        clock=CLOCK,
        resolver=Resolver(DNS_ADDRESS, dns_server.port, TIMEOUT),
        timeout=TIMEOUT,
        guard=_outside_guard,
    )


def test_starttls_passes_when_every_mx_offers_it(
    mail_servers: MailServers, smtp_ctx: ProbeContext
) -> None:
    outcome = starttls(domain("tls-ok.test"), StartTlsParams(port=mail_servers.port), smtp_ctx)
    assert outcome.status is FindingStatus.PASS
    row = outcome.evidence["mx"][0]
    assert row["host"] == "mx1.tls-ok.test" and row["address"] == MX_OK
    assert row["status"] == "offered"
    assert "STARTTLS" in row["capabilities"]
    assert row["banner"] == f"220 {MAIL_NAME} ESMTP cyberstd lab"
    assert "QUIT" in mail_servers.ok.commands


def test_starttls_fails_a_plain_text_mx(mail_servers: MailServers, smtp_ctx: ProbeContext) -> None:
    outcome = starttls(domain("tls-plain.test"), StartTlsParams(port=mail_servers.port), smtp_ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "without STARTTLS: mx1.tls-plain.test (127.0.51.26)" in outcome.message


def test_starttls_fails_when_one_mx_of_several_lacks_it(
    mail_servers: MailServers, smtp_ctx: ProbeContext
) -> None:
    outcome = starttls(domain("tls-mixed.test"), StartTlsParams(port=mail_servers.port), smtp_ctx)
    assert outcome.status is FindingStatus.FAIL
    assert [r["status"] for r in outcome.evidence["mx"]] == ["offered", "not offered"]


def test_starttls_does_not_connect_outside_the_scope(
    mail_servers: MailServers, smtp_ctx: ProbeContext
) -> None:
    before = mail_servers.outside.connections
    outcome = starttls(domain("tls-outside.test"), StartTlsParams(port=mail_servers.port), smtp_ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert "outside the authorised scope" in outcome.message
    assert outcome.evidence["mx"][0]["status"] == "not probed: outside scope"
    partial = starttls(domain("tls-partial.test"), StartTlsParams(port=mail_servers.port), smtp_ctx)
    assert partial.status is FindingStatus.PASS
    assert partial.warning == "not probed (outside scope): mx.elsewhere.test (127.0.51.99)"
    assert mail_servers.outside.connections == before


def test_starttls_is_not_applicable_without_mx(smtp_ctx: ProbeContext) -> None:
    outcome = starttls(domain("tls-nomx.test"), StartTlsParams(), smtp_ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert "no MX host" in outcome.message


def test_starttls_reports_a_garbage_banner(
    mail_servers: MailServers, smtp_ctx: ProbeContext
) -> None:
    with pytest.raises(ProtocolError, match=r"not an SMTP reply: '\\x00\\x01garbage'"):
        starttls(domain("tls-garbage.test"), StartTlsParams(port=mail_servers.port), smtp_ctx)


def test_starttls_gives_up_on_a_silent_server(
    mail_servers: MailServers, dns_server: DnsServer
) -> None:
    ctx = ProbeContext(
        clock=CLOCK, resolver=Resolver(DNS_ADDRESS, dns_server.port, 0.5), timeout=0.5
    )
    with pytest.raises(ProbeTimeout, match=r"did not send an SMTP greeting within 0\.5 s"):
        starttls(domain("tls-silent.test"), StartTlsParams(port=mail_servers.port), ctx)


def test_starttls_escapes_a_hostile_banner(
    mail_servers: MailServers, smtp_ctx: ProbeContext
) -> None:
    outcome = starttls(domain("tls-hostile.test"), StartTlsParams(port=mail_servers.port), smtp_ctx)
    assert outcome.status is FindingStatus.PASS
    row = outcome.evidence["mx"][0]
    assert "\x1b" not in row["banner"] and "\x00" not in row["banner"]
    assert "\\x1b[2J" in row["banner"] and "<script>" in row["banner"]
    assert all("\x00" not in cap for cap in row["capabilities"])


def test_probe_smtp_refuses_a_64_kb_banner_line() -> None:
    with (
        hostile_service(address="127.0.51.42", banner=HOSTILE_BANNER) as service,
        pytest.raises(ProtocolError, match="longer than 4096 bytes"),
    ):
        probe_smtp("127.0.51.42", service.port, timeout=TIMEOUT)


# --- the whole lab school ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def black_hole() -> Iterator[DnsServer]:
    with DnsServer(ZONE, address=BLACK_HOLE_ADDRESS, black_hole=True) as srv:
        yield srv


@pytest.mark.parametrize(
    ("func", "params"),
    [
        (spf, SpfParams()),
        (dmarc, NO_PARAMS),
        (dmarc_enforced, EnforcedParams()),
        (dkim, DkimParams()),
        (mta_sts, MtaStsParams()),
        (tls_rpt, NO_PARAMS),
        (starttls, StartTlsParams()),
    ],
)
def test_a_black_hole_resolver_is_a_timeout(
    black_hole: DnsServer, func: Callable[..., Any], params: ProbeParams
) -> None:
    ctx = ProbeContext(
        clock=CLOCK, resolver=Resolver(BLACK_HOLE_ADDRESS, black_hole.port, 0.3), timeout=0.3
    )
    with pytest.raises(ProbeTimeout, match=r"got no answer within 0\.3 s"):
        func(domain("clean.test"), params, ctx)


def test_a_silent_name_deep_in_the_spf_walk_is_a_timeout() -> None:
    with DnsServer(ZONE, address="127.0.50.58", drop=["_spf3.lookups.test"]) as srv:
        ctx = ProbeContext(
            clock=CLOCK, resolver=Resolver("127.0.50.58", srv.port, 0.3), timeout=0.3
        )
        with pytest.raises(ProbeTimeout, match=r"_spf3\.lookups\.test TXT got no answer"):
            spf(domain("lookups.test"), SpfParams(), ctx)
        # The look-ups before the silent name were answered.
        assert ("_spf2.lookups.test", "TXT", "udp") in srv.queries


def test_the_clean_lab_school_passes_every_dns_and_mail_check(
    mail_servers: MailServers, policy_hosts: PolicyHosts, sts_ctx: ProbeContext
) -> None:
    school = domain("clean.test")
    outcomes = {
        "dns.soa-ns": soa_ns(school, SoaNsParams(min_ns=2), sts_ctx),
        "dns.dnssec": dnssec(school, DnssecParams(), sts_ctx),
        "dns.caa": caa(school, NO_PARAMS, sts_ctx),
        "mail.mx": mx(school, NO_PARAMS, sts_ctx),
        "mail.spf": spf(school, SpfParams(), sts_ctx),
        "mail.dmarc": dmarc(school, NO_PARAMS, sts_ctx),
        "mail.dmarc-enforced": dmarc_enforced(school, EnforcedParams(), sts_ctx),
        "mail.dkim": dkim(school, DkimParams(), sts_ctx),
        "mail.mta-sts": mta_sts(
            school, MtaStsParams(policy_port=policy_hosts.ports["good"]), sts_ctx
        ),
        "mail.tls-rpt": tls_rpt(school, NO_PARAMS, sts_ctx),
        "mail.starttls": starttls(school, StartTlsParams(port=mail_servers.port), sts_ctx),
    }
    failed = {k: o.message for k, o in outcomes.items() if o.status is not FindingStatus.PASS}
    assert failed == {}


def test_the_flawed_lab_school_fails_each_switched_on_flaw(
    mail_servers: MailServers, policy_hosts: PolicyHosts, sts_ctx: ProbeContext
) -> None:
    school = domain("flawed.test")
    assert spf(school, SpfParams(), sts_ctx).status is FindingStatus.FAIL
    # p=none without rua is a valid record (advice only), but it enforces nothing.
    assert dmarc(school, NO_PARAMS, sts_ctx).status is FindingStatus.PASS
    assert dmarc_enforced(school, EnforcedParams(), sts_ctx).status is FindingStatus.FAIL
    # No key at the well-known selectors and none declared: nothing to judge.
    assert dkim(school, DkimParams(), sts_ctx).status is FindingStatus.NOT_APPLICABLE
    assert mta_sts(school, MtaStsParams(), sts_ctx).status is FindingStatus.FAIL
    assert tls_rpt(school, NO_PARAMS, sts_ctx).status is FindingStatus.FAIL
    # Flaws it does not have stay unreported.
    assert mx(school, NO_PARAMS, sts_ctx).status is FindingStatus.PASS
    assert dnssec(school, DnssecParams(), sts_ctx).status is FindingStatus.PASS
    assert (
        starttls(school, StartTlsParams(port=mail_servers.port), sts_ctx).status
        is FindingStatus.PASS
    )


def test_starttls_uses_the_smtp_port_school_yaml_declares(
    mail_servers: MailServers, dns_server: DnsServer
) -> None:
    """An MX host declared with `ports: {smtp: N}` is probed on N, as the TLS checks do; the
    check's own port (25) would reach nothing here and judge nothing."""
    from cyberstd.schema import SchoolFile

    school = SchoolFile.model_validate(
        {
            "school": {"id": "s", "name": "S"},
            "domains": ["tls-ok.test"],
            "hosts": [
                {
                    "name": "mx1.tls-ok.test",
                    "roles": ["mail"],
                    "ports": {"smtp": mail_servers.port},
                }
            ],
        }
    )
    ctx = ProbeContext(
        clock=CLOCK,
        resolver=Resolver(DNS_ADDRESS, dns_server.port, TIMEOUT),
        timeout=TIMEOUT,
        guard=_outside_guard,
        school=school,
    )
    outcome = starttls(domain("tls-ok.test"), StartTlsParams(), ctx)
    assert outcome.status is FindingStatus.PASS, outcome.message
    assert outcome.evidence["mx"][0]["port"] == mail_servers.port

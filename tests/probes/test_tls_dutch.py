"""The TLS probes (tls.cert-valid, tls.cert-expiry, tls.min-version, tls.protocols,
tls.weak-ciphers, tls.cert-key) and the connections under them say their verdicts, warnings and
errors in Dutch too, against real TLS, SMTP and IMAP servers on loopback."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.lab.certs import CertSet, cert_set
from cyberstd.lab.mail import ImapServer, SmtpServer
from cyberstd.lab.services import silent_service
from cyberstd.lab.web import RawServer, WebServer
from cyberstd.probes.tls.certificates import (
    CertExpiryParams,
    CertKeyParams,
    cert_expiry,
    cert_key,
    cert_valid,
)
from cyberstd.probes.tls.ciphers import WeakCiphersParams, weak_ciphers
from cyberstd.probes.tls.versions import MinVersionParams, ProtocolsParams, min_version, protocols
from cyberstd.registry import ProbeContext, ProbeParams, Target
from cyberstd.results import FindingStatus, ProbeOutcome
from tests.conftest import CLOCK
from tests.probes.test_dns_dutch import assert_dutch
from tests.probes.tls_servers import SILENT, ClientHello, TlsServer, server_context

HOST = "www.school.test"
MAIL_HOST = "mail.school.test"
MAIL_ADDRESS = "127.0.60.12"
NO_PARAMS = ProbeParams()
SSL3_WIRE = 0x0300


def said(outcome: ProbeOutcome, *data: str) -> str:
    return assert_dutch(outcome.messages.get("nl"), outcome.message, *data)


def warned(outcome: ProbeOutcome, *data: str) -> str:
    return assert_dutch(outcome.warning_messages.get("nl"), outcome.warning, *data)


def error_said(error: ProbeError, *data: str) -> str:
    english, others = error.texts()
    return assert_dutch(others.get("nl"), english, *data)


# --- verdicts on a website -----------------------------------------------------------------------


def test_passes_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    target = target_of(start_web(tls_max_version=ssl.TLSVersion.TLSv1_2))
    valid = cert_valid(target, NO_PARAMS, ctx)
    assert valid.status is FindingStatus.PASS
    assert said(valid).startswith(
        f"het certificaat van {HOST} wordt vertrouwd, past bij de hostnaam en is geldig tot "
    )
    expiry = cert_expiry(target, CertExpiryParams(), ctx)
    assert said(expiry).endswith("(nog 365 dagen)")
    version = min_version(target, MinVersionParams(), ctx)
    cipher = version.evidence["cipher"]
    assert said(version, cipher) == (f"{HOST} gebruikt TLSv1.2 met {cipher} (minimum TLSv1.2)")
    offered = protocols(target, ProtocolsParams(), ctx)
    assert offered.status is FindingStatus.PASS
    assert said(offered) == f"{HOST} biedt TLSv1.2 aan en geen enkele van SSLv3, TLSv1, TLSv1.1"
    weak = weak_ciphers(target, WeakCiphersParams(), ctx)
    assert weak.status is FindingStatus.PASS
    assert said(weak) == (
        f"{HOST} aanvaardt geen enkele zwakke cipher suite (NULL, EXPORT, anonymous, RC4, 3DES)"
    )
    key = cert_key(target, CertKeyParams(), ctx)
    assert key.status is FindingStatus.PASS
    assert said(key).startswith(f"het certificaat van {HOST} heeft een EC-sleutel van 256 bits")


@pytest.mark.parametrize(
    ("which", "words"),
    [
        ("expired", "is niet geldig: het is verlopen op "),
        ("not_yet_valid", "is niet geldig: het is pas geldig vanaf "),
        ("wrong_host", f"is niet geldig: het is geldig voor other.{HOST}, niet voor {HOST}"),
        ("self_signed", "is niet geldig: het is zelfondertekend"),
    ],
)
def test_cert_valid_failures_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
    which: str,
    words: str,
) -> None:
    outcome = cert_valid(target_of(start_web(cert=getattr(certs, which))), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert words in said(outcome)


def test_an_untrusted_issuer_in_dutch(
    start_web: Callable[..., WebServer], target_of: Callable[[WebServer], Target]
) -> None:
    ctx = ProbeContext(clock=CLOCK, timeout=2.0)
    outcome = cert_valid(target_of(start_web()), NO_PARAMS, ctx)
    issuer = outcome.message.split("its issuer (", 1)[1].split(")", 1)[0]
    assert f"de uitgever ({issuer}) is geen vertrouwde CA" in said(outcome, issuer)


def test_cert_expiry_warning_and_failure_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
) -> None:
    soon = cert_expiry(target_of(start_web(cert=certs.expiring_soon)), CertExpiryParams(), ctx)
    assert soon.status is FindingStatus.PASS
    assert f"het certificaat van {HOST} vervalt over 10 dagen, op " in warned(soon)
    expired = cert_expiry(target_of(start_web(cert=certs.expired)), CertExpiryParams(), ctx)
    assert expired.status is FindingStatus.FAIL
    assert "dagen geleden)" in said(expired)


def test_version_and_key_failures_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    target = target_of(start_web(tls_max_version=ssl.TLSVersion.TLSv1_2))
    low = min_version(target, MinVersionParams(minimum="TLSv1.3"), ctx)
    assert said(low) == f"{HOST} gebruikt op zijn best TLSv1.2, lager dan het minimum TLSv1.3"
    strict = protocols(target, ProtocolsParams(forbidden=["TLSv1.2"]), ctx)
    assert strict.status is FindingStatus.FAIL
    assert said(strict) == f"{HOST} aanvaardt TLSv1.2"
    small = cert_key(target, CertKeyParams(min_ec_bits=384), ctx)
    assert said(small) == (
        f"het certificaat van {HOST} is zwak: de EC-sleutel heeft 256 bits (minstens 384 nodig)"
    )


def test_a_version_left_unanswered_warns_in_dutch(ctx: ProbeContext, certs: CertSet) -> None:
    def silent_to_sslv3(hello: ClientHello) -> bytes | None:
        return SILENT if hello.version == SSL3_WIRE else None

    with TlsServer(server_context(certs.valid), intercept=silent_to_sslv3) as server:
        target = Target(
            name=HOST, address=server.address, roles=("website",), ports={"https": server.port}
        )
        outcome = protocols(target, ProtocolsParams(), ProbeContext(clock=CLOCK, timeout=1.0))
    assert outcome.status is FindingStatus.PASS
    assert warned(outcome) == (
        f"{HOST} gaf geen antwoord toen SSLv3 aangeboden werd (time-out bij de TLS-handshake "
        f"met {HOST} ({target.address} poort {target.ports['https']})): niet beoordeeld"
    )


# --- mail endpoints ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mail_certs(tmp_path_factory: pytest.TempPathFactory) -> CertSet:
    return cert_set(tmp_path_factory.mktemp("mailcerts"), MAIL_HOST, now=CLOCK.now)


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as servers:
        yield servers


def _mail(**ports: int) -> Target:
    return Target(name=MAIL_HOST, address=MAIL_ADDRESS, roles=("mail",), ports=ports)


def test_mail_endpoints_are_named_in_dutch(stack: ExitStack, mail_certs: CertSet) -> None:
    common: dict[str, Any] = {"address": MAIL_ADDRESS, "host_name": MAIL_HOST}
    smtp = stack.enter_context(SmtpServer(**common, cert=mail_certs.expired))
    plain = stack.enter_context(SmtpServer(**common, cert=None, starttls=False))
    ctx = ProbeContext(clock=CLOCK, timeout=2.0, ca_bundle=mail_certs.ca.cert_path)

    expired = cert_valid(_mail(submission=smtp.port), NO_PARAMS, ctx)
    assert said(expired).startswith(
        f"het certificaat van {MAIL_HOST} (submission poort {smtp.port}, STARTTLS) is niet "
        "geldig: het is verlopen op "
    )
    no_tls = protocols(_mail(smtp=plain.port), ProtocolsParams(), ctx)
    assert said(no_tls) == (
        f"{MAIL_HOST} (smtp poort {plain.port}, STARTTLS) biedt helemaal geen TLS aan: "
        "STARTTLS wordt niet aangeboden"
    )


def test_endpoints_that_cannot_be_judged_are_counted_in_dutch(
    stack: ExitStack, mail_certs: CertSet
) -> None:
    common: dict[str, Any] = {"address": MAIL_ADDRESS, "host_name": MAIL_HOST}
    good = stack.enter_context(ImapServer(**common, cert=mail_certs.valid, implicit_tls=True))
    expired = stack.enter_context(
        SmtpServer(**common, cert=mail_certs.expired, starttls=False, implicit_tls=True)
    )
    silent = stack.enter_context(silent_service(address=MAIL_ADDRESS))
    ctx = ProbeContext(clock=CLOCK, timeout=0.5, ca_bundle=mail_certs.ca.cert_path)

    with pytest.raises(ProbeTimeout) as caught:
        cert_valid(_mail(smtps=silent.port, imaps=good.port), NO_PARAMS, ctx)
    assert error_said(caught.value) == (
        f"smtps poort {silent.port}: time-out bij de TLS-handshake met {MAIL_HOST} "
        f"({MAIL_ADDRESS} smtps poort {silent.port}); 1 eindpunt slaagde"
    )
    outcome = cert_valid(_mail(smtps=expired.port, imaps=silent.port), NO_PARAMS, ctx)
    assert said(outcome).endswith("; 1 ander eindpunt kon niet beoordeeld worden")


# --- errors --------------------------------------------------------------------------------------


def test_connection_errors_in_dutch(
    target_on_port: Callable[[int], Target],
    closed_port: int,
    start_raw: Callable[..., RawServer],
    ctx: ProbeContext,
) -> None:
    with pytest.raises(ConnectivityError) as refused:
        cert_valid(target_on_port(closed_port), NO_PARAMS, ctx)
    assert error_said(refused.value) == (
        f"verbinding met 127.0.0.1 poort {closed_port} geweigerd: daar luistert niets"
    )
    silent = start_raw()
    with pytest.raises(ProbeTimeout) as timed_out:
        cert_expiry(
            target_on_port(silent.port), CertExpiryParams(), ProbeContext(clock=CLOCK, timeout=0.5)
        )
    assert error_said(timed_out.value).startswith("time-out bij de TLS-handshake met ")
    garbage = start_raw(payload=b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n" + b"\x00garbage" * 64)
    with pytest.raises(ProtocolError) as not_tls:
        cert_key(target_on_port(garbage.port), CertKeyParams(), ctx)
    detail = str(not_tls.value).split(" failed: ", 1)[1].split(" (", 1)[0]  # OpenSSL's words
    assert error_said(not_tls.value, detail).endswith("(de poort lijkt geen TLS te spreken)")


def test_setup_errors_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    tmp_path: Path,
) -> None:
    name = Target(name=HOST, address="www.school.test", ports={"https": 443})
    with pytest.raises(ConnectivityError) as not_address:
        cert_expiry(name, CertExpiryParams(), ctx)
    assert error_said(not_address.value) == "doeladres 'www.school.test' is geen IP-adres"
    missing = ProbeContext(clock=CLOCK, timeout=2.0, ca_bundle=tmp_path / "missing.pem")
    with pytest.raises(ProbeError) as unreadable:
        cert_valid(target_of(start_web()), NO_PARAMS, missing)
    detail = str(unreadable.value).split(": ", 1)[1]  # the system's words
    assert error_said(unreadable.value, detail).startswith("de CA-bundel ")

"""Tests of the TLS probes against real TLS servers on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pydantic import ValidationError

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.lab.certs import CertFiles, CertSet
from cyberstd.lab.web import RawServer, WebServer, server_tls_context
from cyberstd.probes import probes
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
from cyberstd.results import FindingStatus
from tests.conftest import CLOCK

HOST = "www.school.test"

NO_PARAMS = ProbeParams()
ALL_TLS_PROBES: list[tuple[str, Callable[..., Any], ProbeParams]] = [
    ("tls.cert-valid", cert_valid, NO_PARAMS),
    ("tls.cert-expiry", cert_expiry, CertExpiryParams()),
    ("tls.min-version", min_version, MinVersionParams()),
    ("tls.protocols", protocols, ProtocolsParams()),
    ("tls.weak-ciphers", weak_ciphers, WeakCiphersParams()),
    ("tls.cert-key", cert_key, CertKeyParams()),
]


def _load(files: CertFiles) -> x509.Certificate:
    return x509.load_pem_x509_certificate(files.cert.read_bytes())


# --- tls.cert-valid ----------------------------------------------------------------------------


def test_cert_valid_passes_for_a_trusted_matching_certificate(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
) -> None:
    server = start_web()
    outcome = cert_valid(target_of(server), NO_PARAMS, ctx)

    assert outcome.status is FindingStatus.PASS
    assert "is trusted" in outcome.message
    cert = _load(certs.valid)
    ev = outcome.evidence
    assert ev["verified"] is True
    assert ev["subject"] == f"CN={HOST}"
    assert "cyberstd lab CA" in ev["issuer"]
    assert ev["san_dns"] == [HOST]
    assert ev["sha256_fingerprint"] == cert.fingerprint(hashes.SHA256()).hex()
    assert ev["serial"] == format(cert.serial_number, "x")
    assert ev["not_after"] == cert.not_valid_after_utc.isoformat()
    assert (ev["key_type"], ev["key_size"], ev["signature_hash"]) == ("EC", 256, "sha256")
    assert ev["tls_version"] == "TLSv1.3"
    assert ctx.ca_bundle is not None  # outside the school folder: its file name only
    assert ev["trust_store"] == "outside:" + ctx.ca_bundle.name
    # SNI carried the host name although the connection went to an address.
    assert HOST in server.sni_seen


def test_cert_valid_describes_an_rsa_key(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    rsa_cert: CertFiles,
) -> None:
    outcome = cert_valid(target_of(start_web(cert=rsa_cert)), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert (outcome.evidence["key_type"], outcome.evidence["key_size"]) == ("RSA", 2048)


@pytest.mark.parametrize(
    ("which", "problem", "words"),
    [
        ("expired", "expired", "expired on"),
        ("not_yet_valid", "not_yet_valid", "not valid before"),
        ("wrong_host", "host_name_mismatch", f"valid for other.{HOST}, not for {HOST}"),
        ("self_signed", "self_signed", "self-signed"),
    ],
)
def test_cert_valid_fails_with_the_precise_reason(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
    which: str,
    problem: str,
    words: str,
) -> None:
    files: CertFiles = getattr(certs, which)
    outcome = cert_valid(target_of(start_web(cert=files)), NO_PARAMS, ctx)

    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message
    ev = outcome.evidence
    assert ev["verified"] is False
    assert ev["problem"] == problem
    assert ev["verify_message"]
    # The evidence describes the certificate that was actually served.
    assert ev["sha256_fingerprint"] == _load(files).fingerprint(hashes.SHA256()).hex()
    for key in ("subject", "issuer", "san_dns", "not_before", "not_after", "serial", "key_type"):
        assert key in ev


def test_cert_valid_reports_dates_of_an_expired_certificate(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
) -> None:
    outcome = cert_valid(target_of(start_web(cert=certs.expired)), NO_PARAMS, ctx)
    not_after = _load(certs.expired).not_valid_after_utc
    assert f"expired on {not_after:%Y-%m-%d}" in outcome.message
    assert outcome.evidence["verify_code"] == 10


def test_cert_valid_fails_when_the_issuer_is_not_trusted(
    start_web: Callable[..., WebServer], target_of: Callable[[WebServer], Target]
) -> None:
    # Without the lab CA bundle, the system store knows nothing of the lab CA.
    outcome = cert_valid(target_of(start_web()), NO_PARAMS, ProbeContext(clock=CLOCK, timeout=2.0))

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["problem"] == "untrusted_issuer"
    assert "cyberstd lab CA" in outcome.message
    assert outcome.evidence["trust_store"] == "system default trust store"


# --- tls.cert-expiry ---------------------------------------------------------------------------


def test_cert_expiry_passes_without_warning_when_far_off(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
) -> None:
    outcome = cert_expiry(target_of(start_web()), CertExpiryParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is None
    assert outcome.evidence["days_left"] == 365
    assert outcome.evidence["not_after"] == _load(certs.valid).not_valid_after_utc.isoformat()


def test_cert_expiry_warns_when_few_days_remain(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
) -> None:
    target = target_of(start_web(cert=certs.expiring_soon))
    outcome = cert_expiry(target, CertExpiryParams(warn_days=30), ctx)

    assert outcome.status is FindingStatus.PASS
    assert (
        outcome.evidence["days_left"] == 10
    )  # issued 10 days before its end, judged on the same clock
    assert outcome.warning is not None and "expires in 10 days" in outcome.warning

    quiet = cert_expiry(target, CertExpiryParams(warn_days=5), ctx)
    assert quiet.status is FindingStatus.PASS and quiet.warning is None


def test_cert_expiry_fails_when_expired_without_needing_trust(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    certs: CertSet,
) -> None:
    outcome = cert_expiry(
        target_of(start_web(cert=certs.expired)),
        CertExpiryParams(),
        ProbeContext(clock=CLOCK, timeout=2.0),
    )
    assert outcome.status is FindingStatus.FAIL
    assert "expired on" in outcome.message
    assert outcome.evidence["days_left"] <= -30


# --- tls.min-version ---------------------------------------------------------------------------


def _openssl_speaks_tls11(cert: CertFiles) -> bool:
    """Whether the local OpenSSL completes a TLS 1.1 handshake at security level 0."""
    server_ctx = server_tls_context(cert, max_version=ssl.TLSVersion.TLSv1_1)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    client_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                with server_ctx.wrap_socket(conn, server_side=True):
                    pass
            except OSError:
                pass

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with (
                socket.create_connection(listener.getsockname(), timeout=5) as raw,
                client_ctx.wrap_socket(raw) as tls,
            ):
                return tls.version() == "TLSv1.1"
        except (OSError, ssl.SSLError):
            return False
        finally:
            thread.join()


def test_min_version_fails_for_a_tls11_only_server(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
) -> None:
    if not _openssl_speaks_tls11(certs.valid):
        pytest.skip("the local OpenSSL refuses TLS 1.1 even at SECLEVEL=0")
    server = start_web(tls_max_version=ssl.TLSVersion.TLSv1_1)
    outcome = min_version(target_of(server), MinVersionParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["tls_version"] == "TLSv1.1"
    assert outcome.evidence["cipher"]
    assert "TLSv1.1" in outcome.message and "TLSv1.2" in outcome.message


def test_cert_valid_still_judges_the_certificate_of_a_tls11_server(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
) -> None:
    if not _openssl_speaks_tls11(certs.valid):
        pytest.skip("the local OpenSSL refuses TLS 1.1 even at SECLEVEL=0")
    server = start_web(tls_max_version=ssl.TLSVersion.TLSv1_1)
    outcome = cert_valid(target_of(server), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["tls_version"] == "TLSv1.1"


def test_min_version_passes_for_a_tls13_only_server(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    server = start_web(tls_min_version=ssl.TLSVersion.TLSv1_3)
    outcome = min_version(target_of(server), MinVersionParams(minimum="TLSv1.3"), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["tls_version"] == "TLSv1.3"
    assert outcome.evidence["minimum"] == "TLSv1.3"
    assert outcome.evidence["cipher"].startswith("TLS_")


def test_min_version_tls13_required_fails_for_a_tls12_server(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    server = start_web(tls_max_version=ssl.TLSVersion.TLSv1_2)
    target = target_of(server)

    assert min_version(target, MinVersionParams(), ctx).status is FindingStatus.PASS
    strict = min_version(target, MinVersionParams(minimum="TLSv1.3"), ctx)
    assert strict.status is FindingStatus.FAIL
    assert strict.evidence["tls_version"] == "TLSv1.2"


# --- cannot judge ------------------------------------------------------------------------------


@pytest.mark.parametrize(("probe_id", "func", "params"), ALL_TLS_PROBES)
def test_nothing_listening_is_a_connectivity_error(
    probe_id: str,
    func: Callable[..., Any],
    params: ProbeParams,
    target_on_port: Callable[[int], Target],
    closed_port: int,
    ctx: ProbeContext,
) -> None:
    with pytest.raises(ConnectivityError, match="refused"):
        func(target_on_port(closed_port), params, ctx)


@pytest.mark.parametrize(("probe_id", "func", "params"), ALL_TLS_PROBES)
def test_a_silent_server_is_a_timeout(
    probe_id: str,
    func: Callable[..., Any],
    params: ProbeParams,
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    certs: CertSet,
) -> None:
    server = start_raw()
    started = time.monotonic()
    with pytest.raises(ProbeTimeout, match="timed out"):
        func(
            target_on_port(server.port),
            params,
            ProbeContext(clock=CLOCK, timeout=1.0, ca_bundle=None),
        )
    # One handshake waits at most the timeout; allow generous slack for a loaded machine.
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("probe_id", "func", "params"), ALL_TLS_PROBES)
def test_garbage_instead_of_tls_is_a_protocol_error(
    probe_id: str,
    func: Callable[..., Any],
    params: ProbeParams,
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    ctx: ProbeContext,
) -> None:
    server = start_raw(payload=b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n" + b"\x00garbage" * 64)
    with pytest.raises(ProtocolError, match="does not seem to speak TLS"):
        func(target_on_port(server.port), params, ctx)


@pytest.mark.parametrize(("probe_id", "func", "params"), ALL_TLS_PROBES)
def test_a_server_that_hangs_up_is_reported(
    probe_id: str,
    func: Callable[..., Any],
    params: ProbeParams,
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    ctx: ProbeContext,
) -> None:
    server = start_raw(close_after_payload=True)
    with pytest.raises((ProtocolError, ConnectivityError)):
        func(target_on_port(server.port), params, ctx)


def test_a_name_instead_of_an_address_is_refused_without_lookup(ctx: ProbeContext) -> None:
    target = Target(name=HOST, address="www.school.test", ports={"https": 443})
    with pytest.raises(ConnectivityError, match="not an IP address"):
        cert_expiry(target, CertExpiryParams(), ctx)


# --- parameters and registration ---------------------------------------------------------------


def test_the_evidence_lists_the_https_endpoint(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    server = start_web()
    outcome = cert_expiry(target_of(server), CertExpiryParams(), ctx)
    (record,) = outcome.evidence["endpoints"]
    assert record["service"] == "https"
    assert record["port"] == server.https_port
    assert record["status"] == "pass"
    assert record["days_left"] == outcome.evidence["days_left"]


def test_params_are_validated() -> None:
    with pytest.raises(ValidationError):
        CertExpiryParams(warn_days=-1)
    with pytest.raises(ValidationError):
        MinVersionParams.model_validate({"minimum": "TLSv1.1"})
    with pytest.raises(ValidationError):
        MinVersionParams.model_validate({"minimum": "TLSv1.2", "maximum": "TLSv1.3"})
    with pytest.raises(ValidationError):
        ProbeParams.model_validate({"warn_days": 3})
    assert CertExpiryParams.model_validate({"warn_days": 0}).warn_days == 0


def test_probes_are_registered_for_websites_with_documentation() -> None:
    registry = probes()
    for probe_id, func, params in ALL_TLS_PROBES:
        spec = registry[probe_id]
        assert spec.func is func
        assert spec.params is type(params)
        assert {"website", "mail", "vpn"} <= set(spec.roles)
        assert "Pass" in spec.doc and "Fail" in spec.doc


def test_an_unreadable_ca_bundle_is_a_probe_error(
    start_web: Callable[..., WebServer], target_of: Callable[[WebServer], Target], tmp_path: Path
) -> None:
    missing = ProbeContext(clock=CLOCK, timeout=2.0, ca_bundle=tmp_path / "missing.pem")
    with pytest.raises(ProbeError, match=r"CA bundle .* cannot be loaded"):
        cert_valid(target_of(start_web()), NO_PARAMS, missing)

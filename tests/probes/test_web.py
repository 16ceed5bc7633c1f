"""Tests of the web probes against real HTTP and HTTPS servers on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.lab.certs import CertSet
from cyberstd.lab.web import RawServer, WebServer
from cyberstd.probes.web import HstsParams, HstsPolicy, hsts, https_redirect, parse_hsts
from cyberstd.registry import ProbeContext, ProbeParams, Target, probes
from cyberstd.results import FindingStatus
from cyberstd.schema import ChecksFile

HOST = "www.school.test"
NO_PARAMS = ProbeParams()
YEAR = 365 * 86400
CHECKS_FILE = Path(__file__).resolve().parents[2] / "checks" / "web.yaml"

ALL_WEB_PROBES: list[tuple[str, Callable[..., Any], ProbeParams]] = [
    ("web.https-redirect", https_redirect, NO_PARAMS),
    ("web.hsts", hsts, HstsParams()),
]


# --- web.https-redirect ------------------------------------------------------------------------


def test_redirect_to_https_on_the_same_host_passes(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    server = start_web()
    outcome = https_redirect(target_of(server), NO_PARAMS, ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is None
    expected = f"https://{HOST}:{server.https_port}/"
    assert outcome.evidence == {
        "url": f"http://{HOST}:{server.http_port}/",
        "status": 301,
        "location": expected,
        "redirect_to": expected,
    }
    # The request went to the address but named the host, and only the first hop was taken.
    assert [(r.scheme, r.host) for r in server.requests_seen] == [
        ("http", f"{HOST}:{server.http_port}")
    ]


@pytest.mark.parametrize("status", [302, 307])
def test_temporary_redirect_passes_with_a_warning(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    status: int,
) -> None:
    outcome = https_redirect(target_of(start_web(redirect_status=status)), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["status"] == status
    assert outcome.warning is not None and "temporary" in outcome.warning


def test_site_served_over_plain_http_fails(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    outcome = https_redirect(target_of(start_web(redirect=False)), NO_PARAMS, ctx)

    assert outcome.status is FindingStatus.FAIL
    assert "answers 200 OK over plain HTTP" in outcome.message
    assert outcome.evidence["status"] == 200
    assert outcome.evidence["location"] is None


@pytest.mark.parametrize(
    ("location", "words"),
    [
        (f"http://{HOST}/", "which is not HTTPS"),
        ("/login", "which is not HTTPS"),
        ("https://www.other-school.test/", "another host (www.other-school.test)"),
        (f"https://{HOST}.evil.test/", "another host"),
    ],
)
def test_redirect_elsewhere_fails(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    location: str,
    words: str,
) -> None:
    outcome = https_redirect(target_of(start_web(redirect_location=location)), NO_PARAMS, ctx)

    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message
    assert outcome.evidence["location"] == location


def test_redirect_host_comparison_ignores_case_and_final_dot(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    server = start_web(redirect_location="https://WWW.School.Test./nl/")
    outcome = https_redirect(target_of(server), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.PASS


def test_other_redirect_status_fails(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    outcome = https_redirect(target_of(start_web(redirect_status=303)), NO_PARAMS, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "answers 303" in outcome.message


def test_proxy_settings_of_the_environment_are_ignored(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    monkeypatch: pytest.MonkeyPatch,
    closed_port: int,
) -> None:
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{closed_port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    server = start_web(hsts_max_age=YEAR)
    target = target_of(server)
    assert https_redirect(target, NO_PARAMS, ctx).status is FindingStatus.PASS
    assert hsts(target, HstsParams(), ctx).status is FindingStatus.PASS


# --- web.hsts ----------------------------------------------------------------------------------


def test_long_hsts_passes(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    server = start_web(hsts_max_age=YEAR)
    outcome = hsts(target_of(server), HstsParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert "max-age=31536000 (365 days)" in outcome.message
    ev = outcome.evidence
    assert ev["hsts"] == "max-age=31536000"
    assert ev["max_age"] == YEAR
    assert ev["status"] == 200
    assert ev["url"] == f"https://{HOST}:{server.https_port}/"
    assert (ev["include_subdomains"], ev["preload"]) == (False, False)
    # SNI and Host carried the name, not the address.
    assert HOST in server.sni_seen
    assert server.requests_seen[-1].host == f"{HOST}:{server.https_port}"


def test_missing_hsts_fails(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    outcome = hsts(target_of(start_web()), HstsParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert "sends no Strict-Transport-Security header" in outcome.message
    assert outcome.evidence["hsts"] is None


def test_short_hsts_fails_and_quotes_the_value(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    target = target_of(start_web(hsts_max_age=300))
    outcome = hsts(target, HstsParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert "max-age=300 (300 seconds)" in outcome.message
    assert "required 180 days" in outcome.message
    assert outcome.evidence["max_age"] == 300

    lenient = hsts(target, HstsParams(min_max_age_days=0), ctx)
    assert lenient.status is FindingStatus.PASS


def test_hsts_max_age_zero_always_fails(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    outcome = hsts(target_of(start_web(hsts_max_age=0)), HstsParams(min_max_age_days=0), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "forget the policy" in outcome.message


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("max-age=soon", "is not a number of seconds"),
        ("includeSubDomains", "no max-age directive"),
        ("max-age=100; max-age=31536000", "appears more than once"),
    ],
)
def test_unparsable_hsts_fails(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    header: str,
    words: str,
) -> None:
    server = start_web(https_headers={"Strict-Transport-Security": header})
    outcome = hsts(target_of(server), HstsParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message
    assert header in outcome.message
    assert outcome.evidence["hsts"] == header


def test_only_the_first_of_several_hsts_headers_counts(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    server = start_web(
        hsts_max_age=60, https_headers={"Strict-Transport-Security": f"max-age={YEAR}"}
    )
    outcome = hsts(target_of(server), HstsParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["hsts_all"] == ["max-age=60", f"max-age={YEAR}"]


@pytest.mark.parametrize("which", ["expired", "self_signed", "wrong_host"])
def test_hsts_behind_an_invalid_certificate_is_a_connectivity_error(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
    which: str,
) -> None:
    server = start_web(cert=getattr(certs, which), hsts_max_age=YEAR)
    with pytest.raises(ConnectivityError, match=r"could not be verified .*tls\.cert-valid"):
        hsts(target_of(server), HstsParams(), ctx)


def test_hsts_without_the_lab_ca_is_a_connectivity_error(
    start_web: Callable[..., WebServer], target_of: Callable[[WebServer], Target]
) -> None:
    server = start_web(hsts_max_age=YEAR)
    with pytest.raises(ConnectivityError, match="could not be verified"):
        hsts(target_of(server), HstsParams(), ProbeContext(timeout=2.0))


def test_parse_hsts_follows_rfc6797() -> None:
    assert parse_hsts('Max-Age="31536000" ; includeSubDomains; PRELOAD') == HstsPolicy(
        max_age=YEAR, include_subdomains=True, preload=True
    )
    assert parse_hsts("max-age=0;").max_age == 0
    for bad in ("", "max-age=-1", "max-age=1.5", "max-age", "preload; Preload; max-age=1"):
        with pytest.raises(ValueError):
            parse_hsts(bad)


# --- cannot judge ------------------------------------------------------------------------------


@pytest.mark.parametrize(("probe_id", "func", "params"), ALL_WEB_PROBES)
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


@pytest.mark.parametrize(("probe_id", "func", "params"), ALL_WEB_PROBES)
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
    with pytest.raises(ProbeTimeout, match="did not answer within 1 s"):
        func(
            target_on_port(server.port),
            params,
            ProbeContext(timeout=1.0, ca_bundle=certs.ca.cert_path),
        )
    # A single wait of at most the timeout; generous slack for a loaded machine.
    assert time.monotonic() - started < 5


def test_garbage_instead_of_http_is_a_protocol_error(
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    ctx: ProbeContext,
) -> None:
    server = start_raw(payload=b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n\r\n")
    with pytest.raises(ProtocolError, match="did not answer with valid HTTP"):
        https_redirect(target_on_port(server.port), NO_PARAMS, ctx)


def test_garbage_instead_of_tls_is_a_protocol_error(
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    ctx: ProbeContext,
) -> None:
    server = start_raw(payload=b"HTTP/1.1 400 Bad Request\r\n\r\n" + b"\x00" * 512)
    with pytest.raises(ProtocolError, match=r"TLS handshake .* failed"):
        hsts(target_on_port(server.port), HstsParams(), ctx)


@pytest.mark.parametrize(
    "payload",
    [
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 100_000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n",
    ],
    ids=["endless-header-line", "too-many-headers"],
)
def test_hostile_headers_are_a_protocol_error(
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    ctx: ProbeContext,
    payload: bytes,
) -> None:
    server = start_raw(payload=payload)
    with pytest.raises(ProtocolError, match="did not answer with valid HTTP"):
        https_redirect(target_on_port(server.port), NO_PARAMS, ctx)


def test_a_server_that_hangs_up_is_a_connectivity_error(
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    ctx: ProbeContext,
) -> None:
    server = start_raw(close_after_payload=True)
    with pytest.raises(ConnectivityError, match="closed the connection"):
        https_redirect(target_on_port(server.port), NO_PARAMS, ctx)


def test_a_name_instead_of_an_address_is_refused_without_lookup(ctx: ProbeContext) -> None:
    target = Target(name=HOST, address=HOST, ports={"http": 80})
    with pytest.raises(ConnectivityError, match="not an IP address"):
        https_redirect(target, NO_PARAMS, ctx)


# --- parameters, registration and the checks file ----------------------------------------------


def test_hsts_params_are_validated() -> None:
    with pytest.raises(ValidationError):
        HstsParams(min_max_age_days=-1)
    with pytest.raises(ValidationError):
        HstsParams.model_validate({"min_max_age_days": "half a year"})
    with pytest.raises(ValidationError):
        HstsParams.model_validate({"max_age": 10})
    assert HstsParams().min_max_age_days == 180


def test_probes_are_registered_for_websites_with_documentation() -> None:
    registry = probes()
    for probe_id, func, params in ALL_WEB_PROBES:
        spec = registry[probe_id]
        assert spec.func is func
        assert spec.params is type(params)
        assert "website" in spec.roles
        assert "Pass" in spec.doc and "Fail" in spec.doc


def test_checks_file_matches_the_probes() -> None:
    data = YAML(typ="safe").load(CHECKS_FILE.read_text(encoding="utf-8"))
    checks = ChecksFile.model_validate(data).checks
    registry = probes()
    assert [c.id for c in checks] == [
        "web.https-redirect",
        "web.hsts",
        "tls.cert-valid",
        "tls.cert-expiry",
        "tls.min-version",
    ]
    for check in checks:
        assert check.probe == check.id
        registry[check.probe].params.model_validate(check.params)


def test_an_unreadable_ca_bundle_is_a_probe_error(
    start_web: Callable[..., WebServer], target_of: Callable[[WebServer], Target], tmp_path: Path
) -> None:
    not_pem = tmp_path / "bundle.pem"
    not_pem.write_text("not a certificate\n")
    with pytest.raises(ProbeError, match=r"CA bundle .* cannot be loaded"):
        hsts(target_of(start_web()), HstsParams(), ProbeContext(timeout=2.0, ca_bundle=not_pem))

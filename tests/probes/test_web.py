"""Tests of the web probes against real HTTP and HTTPS servers on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.lab.certs import CertSet
from cyberstd.lab.web import HostilePeer, Misbehaviour, RawServer, WebServer
from cyberstd.probes import probes
from cyberstd.probes.web.errors import CertificateNotVerified
from cyberstd.probes.web.fetching import http_get
from cyberstd.probes.web.headers import (
    HstsParams,
    HstsPolicy,
    SecurityHeadersParams,
    ServerDisclosureParams,
    hsts,
    parse_hsts,
    security_headers,
    server_disclosure,
)
from cyberstd.probes.web.privacy import PrivacyStatementParams, page_links, privacy_statement
from cyberstd.probes.web.redirect import https_redirect
from cyberstd.probes.web.securitytxt import (
    SecurityTxtParams,
    parse_expires,
    parse_security_txt,
    security_txt,
)
from cyberstd.profiles import PlannedCheck
from cyberstd.registry import ProbeContext, ProbeParams, Target
from cyberstd.results import FindingStatus
from cyberstd.schema import ChecksFile
from tests.conftest import CLOCK, real_timers

HOST = "www.school.test"
NO_PARAMS = ProbeParams()
YEAR = 365 * 86400
CHECKS_FILE = Path(__file__).resolve().parents[2] / "checks" / "web.yaml"
HTTP_CHECKS_FILE = Path(__file__).resolve().parents[2] / "checks" / "http.yaml"
# The hostile peers and the lab sites of the newer probes live on their own addresses.
ADDRESS = "127.0.70.1"

ALL_WEB_PROBES: list[tuple[str, Callable[..., Any], ProbeParams]] = [
    ("web.https-redirect", https_redirect, NO_PARAMS),
    ("web.hsts", hsts, HstsParams()),
    ("web.security-headers", security_headers, SecurityHeadersParams()),
    ("web.server-disclosure", server_disclosure, ServerDisclosureParams()),
    ("web.privacy-statement", privacy_statement, PrivacyStatementParams()),
    ("web.security-txt", security_txt, SecurityTxtParams()),
]
# The probes that read the HTTPS site (all but the HTTP redirect check).
HTTPS_PROBES = [p for p in ALL_WEB_PROBES if p[0] != "web.https-redirect"]


@pytest.fixture
def site(certs: CertSet) -> Iterator[Callable[..., tuple[WebServer, Target]]]:
    """Start a lab website on ADDRESS; returns it with the Target school.yaml would declare."""
    with ExitStack() as stack:

        def start(**kwargs: Any) -> tuple[WebServer, Target]:
            kwargs.setdefault("cert", certs.valid)
            kwargs.setdefault("host_name", HOST)
            server = stack.enter_context(WebServer(address=ADDRESS, **kwargs))
            return server, Target(
                name=HOST, address=ADDRESS, roles=("website",), ports=server.ports
            )

        yield start


@pytest.fixture
def hostile(certs: CertSet) -> Iterator[Callable[..., tuple[HostilePeer, Target]]]:
    """Start a misbehaving peer on ADDRESS (HTTPS unless cert=None) and a Target pointing at it."""
    with ExitStack() as stack:

        def start(**kwargs: Any) -> tuple[HostilePeer, Target]:
            kwargs.setdefault("cert", certs.valid)
            peer = stack.enter_context(HostilePeer(address=ADDRESS, **kwargs))
            ports = {"http": peer.port, "https": peer.port}
            return peer, Target(name=HOST, address=ADDRESS, ports=ports)

        yield start


@pytest.fixture
def quick(certs: CertSet) -> ProbeContext:
    """A short timeout for the tests that wait for one."""
    return ProbeContext(clock=CLOCK, timeout=0.3, ca_bundle=certs.ca.cert_path)


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
        hsts(target_of(server), HstsParams(), ProbeContext(clock=CLOCK, timeout=2.0))


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
    with pytest.raises(ProbeTimeout, match=r"did not answer within 0\.3 s"):
        func(
            target_on_port(server.port),
            params,
            ProbeContext(clock=CLOCK, timeout=0.3, ca_bundle=certs.ca.cert_path),
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
        hsts(
            target_of(start_web()),
            HstsParams(),
            ProbeContext(clock=CLOCK, timeout=2.0, ca_bundle=not_pem),
        )


def test_http_checks_file_matches_the_probes() -> None:
    data = YAML(typ="safe").load(HTTP_CHECKS_FILE.read_text(encoding="utf-8"))
    checks = ChecksFile.model_validate(data).checks
    registry = probes()
    assert [c.id for c in checks] == [
        "web.security-headers",
        "web.server-disclosure",
        "web.privacy-statement",
        "web.security-txt",
    ]
    defaults = {probe_id: params for probe_id, _, params in ALL_WEB_PROBES}
    for check in checks:
        assert check.probe == check.id
        spec = registry[check.probe]
        assert "website" in spec.roles
        # The file spells out the defaults, so that a school sees what it can tailor.
        assert spec.params.model_validate(check.params) == defaults[check.id]
        assert check.remediation.nl and check.remediation.en


def test_a_web_remediation_names_the_schools_own_host() -> None:
    """A remediation shows the website it is about, never the example school's address."""
    host = "www.demo-school.test"
    web_checks = [
        check
        for path in (CHECKS_FILE, HTTP_CHECKS_FILE)
        for check in ChecksFile.model_validate(
            YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        ).checks
        if check.id.startswith("web.")
    ]
    assert len(web_checks) == 6
    for check in web_checks:
        planned = PlannedCheck(check=check, params=NO_PARAMS, controls=())
        finding = planned.finding("f", check.id, host, FindingStatus.FAIL, "m")
        for lang in ("nl", "en"):
            text = finding.remediation[lang]
            assert "{domain}" not in text
            assert "uwschool" not in text and "yourschool" not in text, (check.id, lang)
    by_id = {check.id: check for check in web_checks}
    for check_id, shown in (
        ("web.https-redirect", f"'Redirect permanent / https://{host}/'"),
        ("web.security-txt", f"https://{host}/.well-known/security.txt"),
    ):
        planned = PlannedCheck(check=by_id[check_id], params=NO_PARAMS, controls=())
        finding = planned.finding("f", check_id, host, FindingStatus.FAIL, "m")
        assert shown in finding.remediation["nl"] and shown in finding.remediation["en"]
        # Nginx's own variables stay as they are.
        if check_id == "web.https-redirect":
            assert "'return 301 https://$host$request_uri;'" in finding.remediation["en"]


# --- web.privacy-statement ---------------------------------------------------------------------

PRIVACY_PAGE = ("text/html; charset=utf-8", b"<h1>Privacyverklaring</h1>")


def _home(body: str) -> str:
    return f"<!doctype html><html><body><nav>{body}</nav></body></html>"


@pytest.mark.parametrize(
    ("link", "matched", "by"),
    [
        ('<a href="/privacy">Privacyverklaring</a>', "privacyverklaring", "text"),
        ('<a href="/privacy">Privacy Policy</a>', "privacy policy", "text"),
        ('<a href="/privacy">Gegevens&shy;bescherming</a>', "privacy", "href"),
        ('<a href="/privacy"><img src="p.png" alt="Privacybeleid"></a>', "privacybeleid", "text"),
        ('<a href="/privacy" title="AVG">Lees meer</a>', "avg", "text"),
        ('<a href="/privacy">Onze &#x41;VG-verklaring</a>', "avg", "text"),
        ('<link rel="Privacy-Policy" href="/privacy">', "privacy-policy", "rel"),
        ('<a href="/privacy?taal=nl#boven">lees dit</a>', "privacy", "href"),
    ],
    ids=["nl-word", "en-words", "href", "img-alt", "title", "charref", "link-rel", "fragment"],
)
def test_a_live_privacy_link_passes(
    site: Callable[..., tuple[WebServer, Target]],
    ctx: ProbeContext,
    link: str,
    matched: str,
    by: str,
) -> None:
    server, target = site(home_page=_home(link), files={"/privacy": PRIVACY_PAGE})
    outcome = privacy_statement(target, PrivacyStatementParams(), ctx)

    assert outcome.status is FindingStatus.PASS, outcome.message
    assert "answers 200" in outcome.message
    first = outcome.evidence["candidates"][0]
    assert (first["matched"], first["by"], first["same_host"]) == (matched, by, True)
    checked = outcome.evidence["checked"]
    assert checked["url"].startswith(f"https://{HOST}:{server.https_port}/privacy")
    assert checked["status"] == 200
    assert [r.path.split("?")[0] for r in server.requests_seen] == ["/", "/privacy"]


def test_no_privacy_link_fails(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    page = _home(
        '<a href="/nieuws">Nieuws</a><a href="/navigatie">Navigatie</a>'
        '<a href="mailto:privacy@school.test">Mail ons</a>'
        "<script>document.write('<a href=\"/privacy\">Privacy</a>')</script>"
    )
    _, target = site(home_page=page)
    outcome = privacy_statement(target, PrivacyStatementParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert "has no link to a privacy statement" in outcome.message
    assert outcome.evidence["candidates"] == []
    assert outcome.evidence["links_on_page"] == 3


def test_a_dead_privacy_link_fails(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    _, target = site(home_page=_home('<a href="/oud/privacy.pdf">Privacyverklaring (pdf)</a>'))
    outcome = privacy_statement(target, PrivacyStatementParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert "is dead: it answers 404" in outcome.message
    assert "'Privacyverklaring (pdf)'" in outcome.message
    assert outcome.evidence["checked"]["status"] == 404


def test_a_privacy_link_on_another_host_is_reported_not_requested(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    link = '<a href="https://www.scholengroep.test/privacy">Privacy</a>'
    server, target = site(home_page=_home(link))
    outcome = privacy_statement(target, PrivacyStatementParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is not None and "not requested" in outcome.warning
    assert outcome.evidence["other_hosts"] == ["https://www.scholengroep.test/privacy"]
    assert "checked" not in outcome.evidence
    assert len(server.requests_seen) == 1


def test_same_host_links_are_preferred_and_base_href_is_honoured(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    page = (
        '<html><head><base href="/nl/"></head><body>'
        '<a href="https://www.scholengroep.test/privacy">Privacy</a>'
        '<a href="info/privacy">Privacy</a></body></html>'
    )
    server, target = site(home_page=page, files={"/nl/info/privacy": PRIVACY_PAGE})
    outcome = privacy_statement(target, PrivacyStatementParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["checked"]["url"] == (
        f"https://{HOST}:{server.https_port}/nl/info/privacy"
    )


def test_a_privacy_link_that_redirects_on_the_same_host_is_followed(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    server, target = site(
        home_page=_home('<a href="/privacy">Privacy</a>'),
        redirects={"/privacy": (301, "/privacy/")},
        files={"/privacy/": PRIVACY_PAGE},
    )
    outcome = privacy_statement(target, PrivacyStatementParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    checked = outcome.evidence["checked"]
    assert (checked["status"], checked["final_status"]) == (301, 200)
    assert [r.path for r in server.requests_seen] == ["/", "/privacy", "/privacy/"]


def test_the_home_page_is_read_up_to_the_limit(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    padding = "<p>" + "x" * (40 * 1024) + "</p>"
    page = _home(padding + '<a href="/privacy">Privacy</a>')
    _, target = site(home_page=page, files={"/privacy": PRIVACY_PAGE})

    small = privacy_statement(target, PrivacyStatementParams(max_page_kb=16), ctx)
    assert small.status is FindingStatus.FAIL
    assert "only the first 16 KB" in small.message
    assert small.evidence["page_bytes_read"] == 16 * 1024
    assert small.evidence["page_truncated"] is True

    full = privacy_statement(target, PrivacyStatementParams(), ctx)
    assert full.status is FindingStatus.PASS


def test_a_home_page_that_cannot_be_read_is_an_error(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    _, target = site(redirects={"/": (301, "https://www.elders.test/")})
    with pytest.raises(ProbeError, match="declare that host"):
        privacy_statement(target, PrivacyStatementParams(), ctx)
    _, target = site(files={"/": ("text/html", b"")}, redirects={"/": (302, "/weg")})
    with pytest.raises(ProbeError, match="answers 404"):
        privacy_statement(target, PrivacyStatementParams(), ctx)


def test_page_links_parses_messy_html() -> None:
    links, base = page_links(
        "<A HREF='/a'>Eén <b>privacy</b>\n verklaring<a href=/b>tweede</a>"
        '<style>a{}</style><a name="x">no href</a><base href="/x/"><base href="/y/">'
    )
    assert [(link.href, link.text) for link in links] == [
        ("/a", "Eén privacy verklaring"),
        ("/b", "tweede"),
    ]
    assert base == "/x/"


def test_privacy_params_are_validated() -> None:
    with pytest.raises(ValidationError):
        PrivacyStatementParams.model_validate({"link_words": []})
    with pytest.raises(ValidationError, match="letter or digit"):
        PrivacyStatementParams.model_validate({"link_words": ["--"]})
    with pytest.raises(ValidationError):
        PrivacyStatementParams.model_validate({"max_page_kb": 10_000})


# --- web.security-txt --------------------------------------------------------------------------


def _security_txt(*lines: str) -> dict[str, tuple[str, bytes]]:
    body = "\n".join(lines).encode("utf-8") + b"\n"
    return {"/.well-known/security.txt": ("text/plain; charset=utf-8", body)}


def _in_days(days: float) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def test_a_valid_security_txt_passes(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    expires = _in_days(200)
    server, target = site(
        files=_security_txt(
            "# Meld een lek aan het ICT-team",
            "Contact: mailto:ict@school.test",
            "Contact: https://www.school.test/melden",
            f"Expires: {expires}",
            "Preferred-Languages: nl, en",
        )
    )
    outcome = security_txt(target, SecurityTxtParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is None
    assert "names 2 contact(s)" in outcome.message
    ev = outcome.evidence
    assert ev["url"] == f"https://{HOST}:{server.https_port}/.well-known/security.txt"
    assert ev["fields"] == {
        "contact": ["mailto:ict@school.test", "https://www.school.test/melden"],
        "expires": [expires],
        "preferred-languages": ["nl, en"],
    }
    assert ev["days_left"] in (199, 200)
    assert ev["signed"] is False


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (("Contact: mailto:ict@school.test", f"Expires: {_in_days(-3)}"), "expired on"),
        ((f"Expires: {_in_days(100)}",), "has no Contact field"),
        (("Contact: mailto:ict@school.test",), "has no Expires field"),
        (
            ("Contact: ict@school.test", f"Expires: {_in_days(100)}"),
            "not a mailto:, https:// or tel: URI: 'ict@school.test'",
        ),
        (
            ("Contact: tel:+3250000000", f"Expires: {_in_days(100)}", f"Expires: {_in_days(9)}"),
            "has 2 Expires fields",
        ),
        (("Contact: mailto:a@school.test", "Expires: 31/12/2030"), "not an RFC 3339 date"),
        (("Contact: mailto:a@school.test", "Expires: 2030-12-31"), "not an RFC 3339 date"),
    ],
    ids=["expired", "no-contact", "no-expires", "contact-no-uri", "two-expires", "dmy", "date"],
)
def test_a_flawed_security_txt_fails(
    site: Callable[..., tuple[WebServer, Target]],
    ctx: ProbeContext,
    lines: tuple[str, ...],
    words: str,
) -> None:
    _, target = site(files=_security_txt(*lines))
    outcome = security_txt(target, SecurityTxtParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message


def test_a_missing_security_txt_fails(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    _, target = site()
    outcome = security_txt(target, SecurityTxtParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "answers 404" in outcome.message
    assert outcome.evidence["status"] == 404


def test_a_soft_404_page_is_no_security_txt(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    html = b"<html><body><h1>Pagina niet gevonden</h1></body></html>"
    _, target = site(files={"/.well-known/security.txt": ("text/html", html)})
    outcome = security_txt(target, SecurityTxtParams(), ctx)
    assert outcome.status is FindingStatus.FAIL
    assert "is no security.txt" in outcome.message
    assert "text/html" in outcome.message


@pytest.mark.parametrize(
    ("days", "content_type", "words"),
    [
        (10, "text/plain", "expires in 9 days"),
        (500, "text/plain", "more than a year away"),
        (100, "application/octet-stream", "not text/plain"),
    ],
)
def test_security_txt_warnings(
    site: Callable[..., tuple[WebServer, Target]],
    ctx: ProbeContext,
    days: int,
    content_type: str,
    words: str,
) -> None:
    body = f"Contact: mailto:ict@school.test\nExpires: {_in_days(days - 0.5)}\n".encode()
    _, target = site(files={"/.well-known/security.txt": (content_type, body)})
    outcome = security_txt(target, SecurityTxtParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.warning is not None and words in outcome.warning


def test_a_signed_security_txt_behind_a_same_host_redirect_passes(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    signed = (
        "-----BEGIN PGP SIGNED MESSAGE-----\n"
        "Hash: SHA256\n"
        "\n"
        "Contact: mailto:ict@school.test\n"
        f"Expires: {_in_days(90)}\n"
        "- Canonical: https://www.school.test/.well-known/security.txt\n"
        "-----BEGIN PGP SIGNATURE-----\n"
        "\n"
        "iHUEARYIAB0WIQ==\n"
        "-----END PGP SIGNATURE-----\n"
    )
    server, target = site(
        redirects={"/.well-known/security.txt": (301, "/security/security.txt")},
        files={"/security/security.txt": ("text/plain", signed.encode())},
    )
    outcome = security_txt(target, SecurityTxtParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    ev = outcome.evidence
    assert ev["signed"] is True
    assert set(ev["fields"]) == {"contact", "expires", "canonical"}
    assert ev["redirected_to"] == f"https://{HOST}:{server.https_port}/security/security.txt"


def test_security_txt_redirected_to_another_host_cannot_be_judged(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    _, target = site(
        redirects={"/.well-known/security.txt": (302, "https://www.elders.test/security.txt")}
    )
    with pytest.raises(ProbeError, match="not checked"):
        security_txt(target, SecurityTxtParams(), ctx)


def test_parse_security_txt_and_expires() -> None:
    parsed = parse_security_txt("\ufeffContact:mailto:a@b.test\r\nnot a field\n#Expires: x\n")
    assert parsed.fields == {"contact": ["mailto:a@b.test"]}
    assert parsed.invalid_lines == 1
    assert parse_expires("2030-01-01t10:00:00+02:00") == dt.datetime(
        2030, 1, 1, 8, 0, tzinfo=dt.UTC
    )
    for bad in ("2030-01-01T10:00:00", "2030-01-01", "soon"):
        with pytest.raises(ValueError):
            parse_expires(bad)


# --- an overall deadline for every request ----------------------------------------------------


@pytest.mark.parametrize(("probe_id", "func", "params"), HTTPS_PROBES)
def test_a_server_silent_after_the_handshake_is_a_timeout(
    probe_id: str,
    func: Callable[..., Any],
    params: ProbeParams,
    hostile: Callable[..., tuple[HostilePeer, Target]],
    quick: ProbeContext,
) -> None:
    _, target = hostile(behaviour=Misbehaviour.SILENT)
    with pytest.raises(ProbeTimeout, match=r"did not answer within 0\.3 s"):
        func(target, params, quick)


@pytest.mark.parametrize(("probe_id", "func", "params"), ALL_WEB_PROBES)
def test_a_server_that_drips_its_headers_is_a_timeout(
    probe_id: str,
    func: Callable[..., Any],
    params: ProbeParams,
    hostile: Callable[..., tuple[HostilePeer, Target]],
    quick: ProbeContext,
    certs: CertSet,
) -> None:
    # A header line one byte every 20 ms, forever: a per-read timeout would never trip.
    tls = None if probe_id == "web.https-redirect" else certs.valid
    _, target = hostile(
        behaviour=Misbehaviour.DRIP,
        payload=b"HTTP/1.1 200 OK\r\nX-Slow: ",
        filler=b"z",
        interval=0.02,
        cert=tls,
    )
    with pytest.raises(ProbeTimeout, match=r"did not finish its answer within 0\.3 s"):
        func(target, params, quick)


@real_timers
def test_a_server_that_drips_its_tls_handshake_is_a_timeout(
    hostile: Callable[..., tuple[HostilePeer, Target]], quick: ProbeContext
) -> None:
    # A TLS record header announcing 16 KB of handshake, then one byte at a time.
    peer, target = hostile(
        behaviour=Misbehaviour.DRIP,
        payload=b"\x16\x03\x03\x40\x00",
        filler=b"\x02",
        interval=0.02,
        cert=None,
        read_request=False,
    )
    with pytest.raises(ProbeTimeout, match="TLS handshake unfinished"):
        hsts(target, HstsParams(), quick)
    assert peer.sent > 5  # bytes kept coming, each well within any per-read timeout


def test_a_server_that_drips_its_body_is_a_timeout(
    hostile: Callable[..., tuple[HostilePeer, Target]], quick: ProbeContext
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6000\r\n\r\n"
    _, target = hostile(behaviour=Misbehaviour.DRIP, payload=head, filler=b"<p>", interval=0.02)
    with pytest.raises(ProbeTimeout, match="still reading the body"):
        privacy_statement(target, PrivacyStatementParams(), quick)


def test_an_endless_body_is_read_up_to_the_limit(
    hostile: Callable[..., tuple[HostilePeer, Target]], ctx: ProbeContext
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>"
    _, target = hostile(behaviour=Misbehaviour.ENDLESS, payload=head, filler=b"<p>bla</p>" * 100)
    outcome = privacy_statement(target, PrivacyStatementParams(max_page_kb=64), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["page_truncated"] is True
    assert outcome.evidence["page_bytes_read"] == 64 * 1024


def test_an_endless_chunked_body_is_bounded(
    hostile: Callable[..., tuple[HostilePeer, Target]], ctx: ProbeContext
) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    # Chunk framing that carries almost nothing: a body limit alone would never be reached.
    _, target = hostile(behaviour=Misbehaviour.ENDLESS, payload=head, filler=b"0001\r\na\r\n" * 64)
    with pytest.raises((ProtocolError, ProbeTimeout)):
        privacy_statement(target, PrivacyStatementParams(max_page_kb=16), ctx)


def test_http_get_sends_a_clean_request_line(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    server, _ = site(redirect=False)
    # Line breaks are dropped (as urllib does), spaces and non-ASCII percent-encoded.
    url = f"http://{HOST}:{server.http_port}/a b/\r\nX-Injected: 1?q=é"
    answer = http_get(url, ADDRESS, ctx)

    assert answer.status == 404
    assert server.requests_seen[-1].path == "/a%20b/X-Injected:%201?q=%C3%A9"
    assert answer.url == f"http://{HOST}:{server.http_port}/a%20b/X-Injected:%201?q=%C3%A9"


def test_link_text_with_markup_and_control_characters_stays_inert(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    link = '<a href="/privacy">Privacy&lt;script&gt;alert(1)&lt;/script&gt;\x1b[2J\u202e</a>'
    _, target = site(home_page=_home(link))
    outcome = privacy_statement(target, PrivacyStatementParams(), ctx)

    assert outcome.status is FindingStatus.FAIL  # /privacy is a 404 here
    text = "Privacy<script>alert(1)</script>\\x1b[2J\\u202e"
    assert outcome.evidence["candidates"][0]["text"] == text
    assert text in outcome.message
    assert "\x1b" not in outcome.message and "\u202e" not in outcome.message


def test_a_certificate_failure_says_why(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext, certs: CertSet
) -> None:
    _, target = site(cert=certs.expired)
    with pytest.raises(CertificateNotVerified) as caught:
        security_txt(target, SecurityTxtParams(), ctx)
    assert isinstance(caught.value, ConnectivityError)
    assert "expired" in caught.value.verify_message

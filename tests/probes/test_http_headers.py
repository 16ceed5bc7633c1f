"""Tests of web.security-headers and web.server-disclosure against real HTTPS servers on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from pydantic import ValidationError

from cyberstd.errors import ConnectivityError, ProtocolError
from cyberstd.lab.certs import CertSet
from cyberstd.lab.web import HostilePeer, Misbehaviour, WebServer
from cyberstd.probes.web.common import inert
from cyberstd.probes.web.headers import (
    SecurityHeader,
    SecurityHeadersParams,
    ServerDisclosureParams,
    csp_directives,
    disclosed_version,
    security_headers,
    server_disclosure,
)
from cyberstd.registry import ProbeContext, Target
from cyberstd.results import FindingStatus

HOST = "www.school.test"
ADDRESS = "127.0.70.2"
GOOD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


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
    """Start a misbehaving HTTPS peer on ADDRESS; returns it with a Target pointing at it."""
    with ExitStack() as stack:

        def start(**kwargs: Any) -> tuple[HostilePeer, Target]:
            kwargs.setdefault("cert", certs.valid)
            peer = stack.enter_context(HostilePeer(address=ADDRESS, **kwargs))
            ports = {"http": peer.port, "https": peer.port}
            return peer, Target(name=HOST, address=ADDRESS, ports=ports)

        yield start


# --- web.security-headers ----------------------------------------------------------------------


def test_all_security_headers_pass_and_csp_is_information(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    server, target = site(https_headers=GOOD_HEADERS)
    outcome = security_headers(target, SecurityHeadersParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    ev = outcome.evidence
    assert ev["url"] == f"https://{HOST}:{server.https_port}/"
    assert ev["missing"] == []
    assert ev["headers"]["X-Frame-Options"] == "SAMEORIGIN"
    assert ev["headers"]["Content-Security-Policy"] is None
    assert ev["csp"] == {"present": False, "policy": None, "report_only": None}
    assert all(check["ok"] for check in ev["checks"].values())
    assert server.sni_seen == [HOST]


def test_missing_headers_fail_and_are_listed(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    _, target = site()
    outcome = security_headers(target, SecurityHeadersParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["missing"] == [
        "x-content-type-options",
        "frame-protection",
        "referrer-policy",
    ]
    for words in ("X-Content-Type-Options: nosniff", "frame protection", "Referrer-Policy"):
        assert words in outcome.message
    assert "\n" not in outcome.message


@pytest.mark.parametrize(
    ("headers", "missing", "found"),
    [
        (
            {**GOOD_HEADERS, "X-Content-Type-Options": "sniff-away"},
            "x-content-type-options",
            "sniff-away",
        ),
        ({**GOOD_HEADERS, "Referrer-Policy": "unsafe-url"}, "referrer-policy", "unsafe-url"),
        (
            {**GOOD_HEADERS, "Referrer-Policy": "no-referrer, no-referrer-when-downgrade"},
            "referrer-policy",
            "no-referrer, no-referrer-when-downgrade",
        ),
        (
            {**GOOD_HEADERS, "X-Frame-Options": "ALLOW-FROM https://x.test/"},
            "frame-protection",
            None,
        ),
        (
            {**GOOD_HEADERS, "Content-Security-Policy": "frame-ancestors *"},
            "frame-protection",
            "frame-ancestors *",
        ),
    ],
    ids=["nosniff-wrong", "unsafe-url", "last-policy-wins", "allow-from", "csp-any-framer"],
)
def test_weak_values_fail(
    site: Callable[..., tuple[WebServer, Target]],
    ctx: ProbeContext,
    headers: dict[str, str],
    missing: str,
    found: str | None,
) -> None:
    _, target = site(https_headers=headers)
    outcome = security_headers(target, SecurityHeadersParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["missing"] == [missing]
    if found is not None:
        assert outcome.evidence["checks"][missing]["found"] == found
        assert found in outcome.message


def test_csp_frame_ancestors_protects_without_x_frame_options(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    csp = "default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    headers = {k: v for k, v in GOOD_HEADERS.items() if k != "X-Frame-Options"}
    _, target = site(https_headers={**headers, "Content-Security-Policy": csp})
    outcome = security_headers(target, SecurityHeadersParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["checks"]["frame-protection"]["found"] == "frame-ancestors 'none'"
    assert outcome.evidence["csp"] == {
        "present": True,
        "policy": csp,
        "report_only": None,
        "directives": ["default-src", "frame-ancestors", "script-src"],
        "restricts_scripts": False,
    }


def test_only_the_required_headers_count(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    _, target = site(https_headers={"X-Content-Type-Options": "nosniff"})
    params = SecurityHeadersParams(required=(SecurityHeader.X_CONTENT_TYPE_OPTIONS,))
    outcome = security_headers(target, params, ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["checks"]["referrer-policy"] == {
        "ok": False,
        "required": False,
        "found": None,
    }
    lenient = SecurityHeadersParams(safe_referrer_policies=("unsafe-url",))
    _, target = site(https_headers={**GOOD_HEADERS, "Referrer-Policy": "unsafe-url"})
    assert security_headers(target, lenient, ctx).status is FindingStatus.PASS


def test_a_same_host_redirect_is_followed_once(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    server, target = site(
        https_headers=GOOD_HEADERS,
        redirects={"/": (302, "/nl/")},
        files={"/nl/": ("text/html", b"<p>Welkom</p>")},
    )
    outcome = security_headers(target, SecurityHeadersParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["status"] == 302
    assert outcome.evidence["redirected_to"] == f"https://{HOST}:{server.https_port}/nl/"
    assert outcome.evidence["final_status"] == 200
    assert [r.path for r in server.requests_seen] == ["/", "/nl/"]


def test_a_redirect_to_another_host_is_not_followed(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    server, target = site(redirects={"/": (301, "https://www.elders.test/")})
    outcome = security_headers(target, SecurityHeadersParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["redirect_not_followed"] == {
        "location": "https://www.elders.test/",
        "reason": "another host, outside this target",
    }
    assert outcome.warning is not None and "not checked" in outcome.warning
    assert len(server.requests_seen) == 1


def test_security_headers_params_are_validated() -> None:
    with pytest.raises(ValidationError):
        SecurityHeadersParams.model_validate({"required": []})
    with pytest.raises(ValidationError):
        SecurityHeadersParams.model_validate({"required": ["x-xss-protection"]})
    with pytest.raises(ValidationError, match="unknown referrer policies"):
        SecurityHeadersParams.model_validate({"safe_referrer_policies": ["strict"]})
    params = SecurityHeadersParams.model_validate(
        {"required": ["referrer-policy"], "safe_referrer_policies": ["No-Referrer"]}
    )
    assert params.required == (SecurityHeader.REFERRER_POLICY,)
    assert params.safe_referrer_policies == ("no-referrer",)


def test_csp_directives_follow_csp3_parsing() -> None:
    assert csp_directives("Default-Src 'self' ; img-src *;; default-src 'none'") == {
        "default-src": ["'self'"],
        "img-src": ["*"],
    }
    assert csp_directives("frame-ancestors") == {"frame-ancestors": []}


# --- web.server-disclosure ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "version"),
    [
        ("Apache/2.4.41 (Ubuntu)", "Apache/2.4.41"),
        ("PHP/7.4.3", "PHP/7.4.3"),
        ("Microsoft-IIS/10.0", "Microsoft-IIS/10.0"),
        ("nginx/1.18.0", "nginx/1.18.0"),
        ("Apache/2", "Apache/2"),
        ("4.0.30319", "4.0.30319"),
        ("WordPress 6.4.2", "WordPress 6.4.2"),
        ("Drupal 10 (https://www.drupal.org)", "Drupal 10"),
        ("Apache", None),
        ("nginx", None),
        ("Microsoft-IIS", None),
        ("cloudflare", None),
        ("ECS (dab/4BCE)", None),
        ("ASP.NET", None),
    ],
)
def test_disclosed_version(value: str, version: str | None) -> None:
    assert disclosed_version(value) == version


def test_versions_in_server_and_powered_by_fail(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    server, target = site(
        server_header="Apache/2.4.41 (Ubuntu)", extra_headers=[("X-Powered-By", "PHP/7.4.3")]
    )
    outcome = server_disclosure(target, ServerDisclosureParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert "Server: Apache/2.4.41 (Ubuntu)" in outcome.message
    assert "X-Powered-By: PHP/7.4.3" in outcome.message
    url = f"https://{HOST}:{server.https_port}/"
    assert outcome.evidence["disclosed"] == [
        {
            "header": "Server",
            "value": "Apache/2.4.41 (Ubuntu)",
            "version": "Apache/2.4.41",
            "url": url,
        },
        {"header": "X-Powered-By", "value": "PHP/7.4.3", "version": "PHP/7.4.3", "url": url},
    ]
    assert outcome.evidence["headers"][url]["Server"] == "Apache/2.4.41 (Ubuntu)"


def test_bare_product_names_pass(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    _, target = site(server_header="Apache", extra_headers=[("X-Powered-By", "ASP.NET")])
    outcome = server_disclosure(target, ServerDisclosureParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert "Server: Apache" in outcome.message
    assert outcome.evidence["disclosed"] == []


def test_no_server_header_passes(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    _, target = site(server_header=None)
    outcome = server_disclosure(target, ServerDisclosureParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert "no Server or X-Powered-By header" in outcome.message


def test_a_version_on_the_redirect_answer_counts(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext
) -> None:
    server, target = site(
        server_header="nginx",
        redirects={"/": (301, "/nl/")},
        extra_headers=[("X-AspNet-Version", "4.0.30319")],
    )
    outcome = server_disclosure(target, ServerDisclosureParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    # The /nl/ page is a 404 here, from the same server: both answers carry the header.
    urls = [d["url"] for d in outcome.evidence["disclosed"]]
    assert urls == [
        f"https://{HOST}:{server.https_port}/",
        f"https://{HOST}:{server.https_port}/nl/",
    ]
    assert "X-AspNet-Version: 4.0.30319" in outcome.message
    only_server = ServerDisclosureParams(headers=("Server",))
    assert server_disclosure(target, only_server, ctx).status is FindingStatus.PASS


def test_server_disclosure_params_are_validated() -> None:
    with pytest.raises(ValidationError):
        ServerDisclosureParams.model_validate({"headers": []})
    with pytest.raises(ValidationError, match="not header names"):
        ServerDisclosureParams.model_validate({"headers": ["Server: x"]})


# --- hostile answers ---------------------------------------------------------------------------


def test_markup_and_control_characters_stay_inert_data(
    hostile: Callable[..., tuple[HostilePeer, Target]], ctx: ProbeContext
) -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\n"
        b"Server: <script>alert(1)</script>/1.0\r\n"
        b"X-Powered-By: \x1b[31mPHP/5.6\x1b[0m\x07\xe2\x80\xae\r\n"
        b"Referrer-Policy: <b>no-referrer</b>\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    _, target = hostile(behaviour=Misbehaviour.ENDLESS, payload=answer, filler=b"\r\n")
    outcome = server_disclosure(target, ServerDisclosureParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    values = {d["header"]: d["value"] for d in outcome.evidence["disclosed"]}
    # Markup is kept as the text it is: renderers escape it for their format.
    assert values["Server"] == "<script>alert(1)</script>/1.0"
    # Terminal escapes and bidi overrides become visible escapes; latin-1 decoding of the
    # header turns the UTF-8 bytes of U+202E into three characters, the C1 one escaped.
    assert values["X-Powered-By"] == "\\x1b[31mPHP/5.6\\x1b[0m\\x07â\\x80®"
    assert "\x1b" not in outcome.message and "\x07" not in outcome.message
    json.dumps(outcome.evidence)

    headers = security_headers(target, SecurityHeadersParams(), ctx)
    assert headers.evidence["checks"]["referrer-policy"]["found"] == "<b>no-referrer</b>"
    assert headers.evidence["missing"] == [
        "x-content-type-options",
        "frame-protection",
        "referrer-policy",
    ]


def test_ten_megabytes_of_headers_is_a_bounded_protocol_error(
    hostile: Callable[..., tuple[HostilePeer, Target]], ctx: ProbeContext
) -> None:
    # An endless header stream: far more than 10 MB would follow if the probe kept reading.
    peer, target = hostile(
        behaviour=Misbehaviour.ENDLESS,
        payload=b"HTTP/1.1 200 OK\r\n",
        filler=b"X-Filler-" + b"a" * 1000 + b": b\r\n",
    )
    with pytest.raises(ProtocolError, match="did not answer with valid HTTP"):
        security_headers(target, SecurityHeadersParams(), ctx)
    assert peer.sent < 10 * 1024 * 1024


def test_one_ten_megabyte_header_line_is_a_bounded_protocol_error(
    hostile: Callable[..., tuple[HostilePeer, Target]], ctx: ProbeContext
) -> None:
    peer, target = hostile(
        behaviour=Misbehaviour.ENDLESS,
        payload=b"HTTP/1.1 200 OK\r\nX-Big: ",
        filler=b"a" * 65536,
    )
    with pytest.raises(ProtocolError, match="header line"):
        server_disclosure(target, ServerDisclosureParams(), ctx)
    assert peer.sent < 10 * 1024 * 1024


def test_an_invalid_certificate_is_a_connectivity_error(
    site: Callable[..., tuple[WebServer, Target]], ctx: ProbeContext, certs: CertSet
) -> None:
    _, target = site(cert=certs.self_signed, https_headers=GOOD_HEADERS)
    with pytest.raises(ConnectivityError, match=r"tls\.cert-valid"):
        security_headers(target, SecurityHeadersParams(), ctx)


def test_inert_cuts_long_values_and_says_so() -> None:
    assert inert("plain text") == "plain text"
    assert inert("a\tb\r\nc\u202ed\x00") == "a\\x09b\\x0d\\x0ac\\u202ed\\x00"
    cut = inert("x" * 5000, 100)
    assert cut.startswith("x" * 100) and cut.endswith("[cut: 5000 characters in all]")

"""The web probes say their verdicts, warnings and errors in Dutch too (real servers on loopback)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cyberstd.errors import ProbeError
from cyberstd.lab.certs import CertSet
from cyberstd.lab.web import RawServer, WebServer
from cyberstd.messages import catalog
from cyberstd.probes import probes
from cyberstd.probes.web.headers import (
    HstsParams,
    InvalidHsts,
    SecurityHeadersParams,
    ServerDisclosureParams,
    hsts,
    parse_hsts,
    security_headers,
    server_disclosure,
)
from cyberstd.probes.web.privacy import PrivacyStatementParams, privacy_statement
from cyberstd.probes.web.redirect import https_redirect
from cyberstd.probes.web.securitytxt import SecurityTxtParams, security_txt
from cyberstd.registry import ProbeContext, ProbeParams, Target
from cyberstd.results import ProbeOutcome
from tests.conftest import CLOCK

HOST = "www.school.test"
NO_PARAMS = ProbeParams()
YEAR = 365 * 86400
WEB_PACKAGE = Path(__file__).resolve().parents[2] / "cyberstd" / "probes" / "web"

# Words of an English sentence; none may appear in a Dutch text outside a quoted data value.
ENGLISH = (
    " the ",
    " is not ",
    " has no ",
    " does not ",
    " could not ",
    " with ",
    " which ",
    " answers ",
    " sends ",
    " redirects ",
    " lacks ",
    " was not ",
    " did not ",
    " cannot ",
    " names ",
)
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
PRIVACY_PAGE = ("text/html; charset=utf-8", b"<h1>Privacyverklaring</h1>")


def assert_dutch(nl: str | None, en: str | None) -> str:
    """`nl` is a Dutch text for the English `en`; returns it."""
    assert en, "no English text"
    assert nl, f"no Dutch text for {en!r}"
    assert nl != en
    bare = re.sub(r"'[^']*'", "'...'", nl)
    found = [word for word in ENGLISH if word in f" {bare} "]
    assert not found, f"English {found} in {nl!r}"
    return nl


def said(outcome: ProbeOutcome) -> str:
    """The Dutch message of an outcome, checked; and its warning when there is one."""
    if outcome.warning is not None:
        assert_dutch(outcome.warning_messages.get("nl"), outcome.warning)
    return assert_dutch(outcome.messages.get("nl"), outcome.message)


def said_error(caught: pytest.ExceptionInfo[ProbeError]) -> str:
    english, others = caught.value.texts()
    return assert_dutch(others.get("nl"), english)


def _home(body: str) -> str:
    return f"<!doctype html><html><body><nav>{body}</nav></body></html>"


def _security_txt(*lines: str) -> dict[str, tuple[str, bytes]]:
    body = "".join(f"{line}\n" for line in lines).encode()
    return {"/.well-known/security.txt": ("text/plain", body)}


def _in_days(days: float) -> str:
    moment = CLOCK.now + dt.timedelta(days=days)
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- the catalog ------------------------------------------------------------------------------


def test_every_web_message_the_module_names_is_in_the_catalog() -> None:
    source = "".join(p.read_text(encoding="utf-8") for p in sorted(WEB_PACKAGE.glob("*.py")))
    named = set(re.findall(r'"(web\.[a-z0-9.-]+)"', source))
    messages = named - set(probes())
    assert len(messages) > 60
    assert sorted(messages - set(catalog())) == []


# --- web.https-redirect -----------------------------------------------------------------------


def test_https_redirect_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    passed = https_redirect(target_of(start_web()), NO_PARAMS, ctx)
    assert "verwijst door (301) naar https://" in said(passed)

    temporary = https_redirect(target_of(start_web(redirect_status=302)), NO_PARAMS, ctx)
    said(temporary)
    assert temporary.warning_messages["nl"].startswith("de doorverwijzing is tijdelijk (302)")

    plain = https_redirect(target_of(start_web(redirect=False)), NO_PARAMS, ctx)
    assert "over onversleutelde HTTP in plaats van door te verwijzen naar HTTPS" in said(plain)

    elsewhere = start_web(redirect_location="https://www.other-school.test/")
    other = https_redirect(target_of(elsewhere), NO_PARAMS, ctx)
    assert "naar een andere host (www.other-school.test)" in said(other)


# --- web.hsts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (f"max-age={YEAR}", f"stuurt HSTS max-age={YEAR} (365 dagen)"),
        ("max-age=300", "max-age=300 (300 seconden), korter dan de vereiste 180 dagen"),
        ("max-age=0", "daarmee vergeten browsers het beleid"),
        ("max-age=soon", "is ongeldig: max-age 'soon' is geen aantal seconden"),
        ("includeSubDomains", "is ongeldig: de directive max-age ontbreekt"),
        ("max-age=1; max-age=2", "de directive 'max-age' staat er meer dan eens in"),
    ],
)
def test_hsts_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    header: str,
    words: str,
) -> None:
    server = start_web(https_headers={"Strict-Transport-Security": header})
    outcome = hsts(target_of(server), HstsParams(), ctx)
    assert words in said(outcome)


def test_hsts_missing_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    outcome = hsts(target_of(start_web()), HstsParams(), ctx)
    assert "stuurt geen Strict-Transport-Security-header" in said(outcome)


def test_a_one_day_hsts_says_day_in_both_languages(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    server = start_web(https_headers={"Strict-Transport-Security": "max-age=86400"})
    outcome = hsts(target_of(server), HstsParams(min_max_age_days=1), ctx)
    assert "(1 day)" in outcome.message
    assert "(1 dag)" in said(outcome)


def test_an_invalid_hsts_value_carries_its_reason_in_both_languages() -> None:
    with pytest.raises(InvalidHsts, match="no max-age directive") as caught:
        parse_hsts("preload")
    assert isinstance(caught.value, ValueError)
    assert caught.value.said.render("nl") == "de directive max-age ontbreekt"


# --- web.security-headers ---------------------------------------------------------------------


def test_security_headers_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    passed = security_headers(
        target_of(start_web(https_headers=SAFE_HEADERS)), SecurityHeadersParams(), ctx
    )
    assert "stuurt de vereiste beveiligingsheaders" in said(passed)

    weak = {"X-Frame-Options": "ALLOWALL", "Referrer-Policy": "unsafe-url"}
    failed = security_headers(
        target_of(start_web(https_headers=weak)), SecurityHeadersParams(), ctx
    )
    text = said(failed)
    assert " mist X-Content-Type-Options: nosniff (ontbreekt); bescherming tegen framing" in text
    assert "(gevonden: 'X-Frame-Options: ALLOWALL')" in text
    assert "een veilige Referrer-Policy (gevonden: 'unsafe-url')" in text


def test_a_page_judged_on_its_redirect_warns_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    server = start_web(redirects={"/": (301, "https://www.elders.test/")})
    outcome = security_headers(target_of(server), SecurityHeadersParams(), ctx)
    said(outcome)
    warning = outcome.warning_messages["nl"]
    assert warning.startswith("beoordeeld op het doorverwijzende antwoord van https://")
    assert "https://www.elders.test/ (een andere host, buiten dit doel)" in warning
    # Evidence keeps its data as it was.
    assert outcome.evidence["redirect_not_followed"]["reason"] == (
        "another host, outside this target"
    )


# --- web.server-disclosure --------------------------------------------------------------------


def test_server_disclosure_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    versions = start_web(
        server_header="Apache/2.4.41 (Ubuntu)", extra_headers=[("X-Powered-By", "PHP/7.4.3")]
    )
    failed = server_disclosure(target_of(versions), ServerDisclosureParams(), ctx)
    assert "verraadt softwareversies: Server: Apache/2.4.41 (Ubuntu)" in said(failed)

    silent = start_web(server_header=None)
    passed = server_disclosure(target_of(silent), ServerDisclosureParams(), ctx)
    assert "noemt geen softwareversie (geen Server- of X-Powered-By-header)" in said(passed)

    one = server_disclosure(target_of(silent), ServerDisclosureParams(headers=("Server",)), ctx)
    assert "(geen Server-header)" in said(one)


# --- web.privacy-statement --------------------------------------------------------------------


def test_privacy_statement_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    link = '<a href="/privacy">Privacyverklaring</a>'
    live = start_web(home_page=_home(link), files={"/privacy": PRIVACY_PAGE})
    passed = privacy_statement(target_of(live), PrivacyStatementParams(), ctx)
    assert "de homepage linkt naar een privacyverklaring: 'Privacyverklaring'" in said(passed)

    dead = start_web(home_page=_home(link))
    failed = privacy_statement(target_of(dead), PrivacyStatementParams(), ctx)
    assert "werkt niet: hij antwoordt 404 Not Found" in said(failed)

    none = start_web(home_page=_home('<a href="/nieuws">Nieuws</a>'))
    missing = privacy_statement(target_of(none), PrivacyStatementParams(), ctx)
    assert "bevat geen link naar een privacyverklaring" in said(missing)

    other = start_web(home_page=_home('<a href="https://www.groep.test/privacy">Privacy</a>'))
    elsewhere = privacy_statement(target_of(other), PrivacyStatementParams(), ctx)
    assert "op een andere host: https://www.groep.test/privacy" in said(elsewhere)
    assert "is niet opgevraagd" in elsewhere.warning_messages["nl"]


def test_a_privacy_statement_that_cannot_be_judged_says_why_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    moved = start_web(redirects={"/": (301, "https://www.elders.test/")})
    with pytest.raises(ProbeError) as caught:
        privacy_statement(target_of(moved), PrivacyStatementParams(), ctx)
    assert "geef die host dan op als website in school.yaml" in said_error(caught)

    gone = start_web(files={"/": ("text/html", b"")}, redirects={"/": (302, "/weg")})
    with pytest.raises(ProbeError) as caught:
        privacy_statement(target_of(gone), PrivacyStatementParams(), ctx)
    text = said_error(caught)
    assert "antwoordt 404" in text
    assert "een tweede doorverwijzing" not in text


# --- web.security-txt -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (
            ("Contact: mailto:ict@school.test", "Contact: https://school.test/melden"),
            "noemt 2 contactadressen en is geldig tot",
        ),
        (("Contact: mailto:ict@school.test",), "noemt 1 contactadres en is geldig tot"),
    ],
)
def test_a_valid_security_txt_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    lines: tuple[str, ...],
    words: str,
) -> None:
    server = start_web(files=_security_txt(*lines, f"Expires: {_in_days(200)}"))
    outcome = security_txt(target_of(server), SecurityTxtParams(), ctx)
    assert words in said(outcome)


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ((f"Expires: {_in_days(200)}",), "heeft geen Contact-veld"),
        (("Contact: ict@school.test", f"Expires: {_in_days(200)}"), "geen mailto:-, https://-"),
        (("Contact: mailto:ict@school.test",), "heeft geen Expires-veld"),
        (
            ("Contact: mailto:a@school.test", "Expires: 2030-01-01T00:00:00Z", "Expires: soon"),
            "heeft 2 Expires-velden",
        ),
        (("Contact: mailto:a@school.test", "Expires: soon"), "geen RFC 3339-datum met tijd"),
        (("Contact: mailto:a@school.test", f"Expires: {_in_days(-2)}"), "is verlopen op"),
        (("# only a comment",), "er staan geen velden in (content type text/plain)"),
    ],
)
def test_a_failing_security_txt_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    lines: tuple[str, ...],
    words: str,
) -> None:
    server = start_web(files=_security_txt(*lines))
    outcome = security_txt(target_of(server), SecurityTxtParams(), ctx)
    assert words in said(outcome)


def test_a_missing_security_txt_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
) -> None:
    outcome = security_txt(target_of(start_web()), SecurityTxtParams(), ctx)
    assert "antwoordt 404 Not Found: geen security.txt" in said(outcome)


@pytest.mark.parametrize(
    ("days", "content_type", "words"),
    [
        (10, "text/plain", "het bestand verloopt over 9 dagen"),
        (2, "text/plain", "het bestand verloopt over 1 dag ("),
        (500, "text/plain", "Expires ligt meer dan een jaar in de toekomst"),
        (100, "application/octet-stream", "aangeboden als application/octet-stream"),
    ],
)
def test_security_txt_warnings_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    days: float,
    content_type: str,
    words: str,
) -> None:
    body = f"Contact: mailto:ict@school.test\nExpires: {_in_days(days - 0.5)}\n".encode()
    server = start_web(files={"/.well-known/security.txt": (content_type, body)})
    outcome = security_txt(target_of(server), SecurityTxtParams(), ctx)
    said(outcome)
    assert outcome.warning is not None
    assert words in outcome.warning_messages["nl"]


# --- errors -----------------------------------------------------------------------------------


def test_nothing_listening_in_dutch(
    target_on_port: Callable[[int], Target], closed_port: int, ctx: ProbeContext
) -> None:
    with pytest.raises(ProbeError) as caught:
        https_redirect(target_on_port(closed_port), NO_PARAMS, ctx)
    text = said_error(caught)
    assert text.startswith("verbinding met http://")
    assert "(op 127.0.0.1) geweigerd: daar luistert niets" in text


def test_a_timeout_in_dutch_has_a_decimal_comma(
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    certs: CertSet,
) -> None:
    server = start_raw()
    quick = ProbeContext(clock=CLOCK, timeout=0.3, ca_bundle=certs.ca.cert_path)
    with pytest.raises(ProbeError) as caught:
        https_redirect(target_on_port(server.port), NO_PARAMS, quick)
    assert "did not answer within 0.3 s" in str(caught.value)
    assert "antwoordde niet binnen 0,3 s" in said_error(caught)


def test_garbage_instead_of_http_in_dutch(
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    ctx: ProbeContext,
) -> None:
    server = start_raw(payload=b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n\r\n")
    with pytest.raises(ProbeError) as caught:
        https_redirect(target_on_port(server.port), NO_PARAMS, ctx)
    assert "antwoordde niet met geldige HTTP" in said_error(caught)


def test_garbage_instead_of_tls_in_dutch(
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    ctx: ProbeContext,
) -> None:
    server = start_raw(payload=b"HTTP/1.1 400 Bad Request\r\n\r\n" + b"\x00" * 512)
    with pytest.raises(ProbeError) as caught:
        hsts(target_on_port(server.port), HstsParams(), ctx)
    assert "TLS-handshake met https://" in said_error(caught)


def test_a_server_that_hangs_up_in_dutch(
    start_raw: Callable[..., RawServer],
    target_on_port: Callable[[int], Target],
    ctx: ProbeContext,
) -> None:
    server = start_raw(close_after_payload=True)
    with pytest.raises(ProbeError) as caught:
        https_redirect(target_on_port(server.port), NO_PARAMS, ctx)
    assert "verbrak de verbinding" in said_error(caught)


def test_an_unverified_certificate_in_dutch(
    start_web: Callable[..., WebServer],
    target_of: Callable[[WebServer], Target],
    ctx: ProbeContext,
    certs: CertSet,
) -> None:
    server = start_web(cert=certs.expired)
    with pytest.raises(ProbeError) as caught:
        security_txt(target_of(server), SecurityTxtParams(), ctx)
    text = said_error(caught)
    assert text.startswith(f"het certificaat van {HOST} kon niet geverifieerd worden (")
    assert text.endswith("de TLS-controles (tls.cert-valid) melden waarom")


def test_a_name_instead_of_an_address_in_dutch(ctx: ProbeContext) -> None:
    target = Target(name=HOST, address=HOST, ports={"http": 80})
    with pytest.raises(ProbeError) as caught:
        https_redirect(target, NO_PARAMS, ctx)
    assert said_error(caught) == f"doeladres '{HOST}' is geen IP-adres"

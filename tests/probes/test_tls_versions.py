"""Tests of tls.protocols and tls.weak-ciphers against real and hand-made TLS servers on 127.0.60.0/24."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from pydantic import ValidationError

from cyberstd.errors import ConnectivityError, ProbeTimeout, ProtocolError
from cyberstd.lab.certs import CertFiles, CertificateAuthority, KeyType
from cyberstd.net.tls import cipher_context
from cyberstd.probes.tls.ciphers import WeakCiphersParams, WeakClass, weak_ciphers
from cyberstd.probes.tls.versions import ProtocolsParams, protocols
from cyberstd.registry import ProbeContext, Target
from cyberstd.results import FindingStatus
from tests.conftest import CLOCK
from tests.probes.tls_servers import (
    ADDRESS,
    HOST,
    SILENT,
    ClientHello,
    TlsServer,
    old_server,
    server_context,
)

TLS10, TLS11, TLS12, TLS13 = (
    ssl.TLSVersion.TLSv1,
    ssl.TLSVersion.TLSv1_1,
    ssl.TLSVersion.TLSv1_2,
    ssl.TLSVersion.TLSv1_3,
)
SSL3_WIRE, TLS10_WIRE = 0x0300, 0x0301
DES_CBC3_SHA = 0x000A
RC4_SHA = 0x0005
EXPORT_DES40 = 0x0008


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"), now=CLOCK.now)


@pytest.fixture(scope="module")
def rsa_cert(ca: CertificateAuthority, tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return ca.issue(tmp_path_factory.mktemp("rsa"), [HOST], key_type=KeyType.RSA)


@pytest.fixture(scope="module")
def ec_cert(ca: CertificateAuthority, tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return ca.issue(tmp_path_factory.mktemp("ec"), [HOST], key_type=KeyType.EC)


@pytest.fixture
def ctx(ca: CertificateAuthority) -> ProbeContext:
    return ProbeContext(clock=CLOCK, timeout=2.0, ca_bundle=ca.cert_path)


@pytest.fixture
def serve() -> Iterator[Callable[..., Target]]:
    """Start a TlsServer; return the website Target that points at it."""
    with ExitStack() as stack:

        def start(context: ssl.SSLContext | None, **kwargs: Any) -> Target:
            server = stack.enter_context(TlsServer(context, **kwargs))
            return Target(
                name=HOST, address=ADDRESS, roles=("website",), ports={"https": server.port}
            )

        yield start


def _openssl_speaks(cert: CertFiles, version: ssl.TLSVersion) -> bool:
    """Whether the local OpenSSL can still serve `version` (TLS 1.0/1.1 need SECLEVEL=0)."""
    try:
        server_context(cert, minimum=version, maximum=version)
    except (ssl.SSLError, ValueError):
        return False
    return version != TLS10 or ssl.HAS_TLSv1


needs_tls10 = pytest.mark.skipif(not ssl.HAS_TLSv1, reason="the local OpenSSL lacks TLS 1.0")
needs_tls11 = pytest.mark.skipif(not ssl.HAS_TLSv1_1, reason="the local OpenSSL lacks TLS 1.1")


def _versions(outcome: Any) -> dict[str, dict[str, Any]]:
    versions: dict[str, dict[str, Any]] = outcome.evidence["versions"]
    return versions


# --- tls.protocols -----------------------------------------------------------------------------


def test_a_modern_server_passes_and_every_version_is_reported(
    serve: Callable[..., Target], ctx: ProbeContext, rsa_cert: CertFiles
) -> None:
    outcome = protocols(serve(server_context(rsa_cert)), ProtocolsParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["offered"] == ["TLSv1.2", "TLSv1.3"]
    assert outcome.evidence["forbidden"] == ["SSLv3", "TLSv1", "TLSv1.1"]
    assert "offers TLSv1.2, TLSv1.3 and none of SSLv3, TLSv1, TLSv1.1" in outcome.message
    versions = _versions(outcome)
    # OpenSSL 3 cannot speak SSLv3: the ClientHello is hand-built and the server's alert decides.
    assert versions["SSLv3"]["method"] == "client_hello"
    assert versions["SSLv3"]["result"] == "refused"
    assert versions["SSLv3"]["detail"].startswith("alert ")
    for old in ("TLSv1", "TLSv1.1"):
        assert versions[old]["result"] == "refused"
    assert versions["TLSv1.3"] == {
        "result": "accepted",
        "method": "handshake",
        "version": "TLSv1.3",
        "suite": versions["TLSv1.3"]["suite"],
        "detail": versions["TLSv1.3"]["detail"],
    }
    assert outcome.warning is None


def test_a_tls13_only_server_passes(
    serve: Callable[..., Target], ctx: ProbeContext, ec_cert: CertFiles
) -> None:
    outcome = protocols(serve(server_context(ec_cert, minimum=TLS13)), ProtocolsParams(), ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["offered"] == ["TLSv1.3"]
    assert _versions(outcome)["TLSv1.2"]["result"] == "refused"


@needs_tls10
def test_a_server_still_accepting_tls10_and_tls11_fails(
    serve: Callable[..., Target], ctx: ProbeContext, rsa_cert: CertFiles
) -> None:
    target = serve(server_context(rsa_cert, minimum=TLS10))
    outcome = protocols(target, ProtocolsParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["offered"] == ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    assert outcome.message == f"{HOST} accepts TLSv1, TLSv1.1"
    assert _versions(outcome)["TLSv1"]["method"] == "handshake"


@needs_tls11
def test_a_tls11_only_server_fails_twice_over(
    serve: Callable[..., Target], ctx: ProbeContext, rsa_cert: CertFiles
) -> None:
    target = serve(server_context(rsa_cert, minimum=TLS11, maximum=TLS11))
    outcome = protocols(target, ProtocolsParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["offered"] == ["TLSv1.1"]
    assert "accepts TLSv1.1 and offers neither TLSv1.2 nor TLSv1.3" in outcome.message


def test_forbidden_versions_are_a_parameter(
    serve: Callable[..., Target], ctx: ProbeContext, rsa_cert: CertFiles
) -> None:
    target = serve(server_context(rsa_cert))
    strict = protocols(target, ProtocolsParams(forbidden=["TLSv1", "TLSv1.1", "TLSv1.2"]), ctx)
    assert strict.status is FindingStatus.FAIL
    assert strict.message == f"{HOST} accepts TLSv1.2"
    # SSLv3 stays forbidden even when the list leaves it out.
    assert protocols(target, ProtocolsParams(forbidden=[]), ctx).evidence["forbidden"] == ["SSLv3"]


def test_an_sslv3_server_is_caught_with_a_hand_built_client_hello(
    serve: Callable[..., Target], ctx: ProbeContext
) -> None:
    # The local OpenSSL has no SSLv3: a hand-made server answers as an SSLv3-only stack would.
    target = serve(None, intercept=old_server({SSL3_WIRE}, {DES_CBC3_SHA, RC4_SHA}))
    outcome = protocols(target, ProtocolsParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["offered"] == ["SSLv3"]
    assert "accepts SSLv3 and offers neither TLSv1.2 nor TLSv1.3" in outcome.message
    ssl3 = _versions(outcome)["SSLv3"]
    assert ssl3["method"] == "client_hello"
    assert ssl3["suite"] in ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_RC4_128_SHA")
    assert _versions(outcome)["TLSv1.2"]["result"] == "refused"


def test_an_old_server_speaking_only_3des_is_not_mistaken_for_refusing_tls10(
    serve: Callable[..., Target], ctx: ProbeContext
) -> None:
    if cipher_context("3DES:DES:@SECLEVEL=0") is not None:
        pytest.skip("the local OpenSSL still offers 3DES: no second ClientHello is needed")
    target = serve(None, intercept=old_server({TLS10_WIRE}, {DES_CBC3_SHA}))
    outcome = protocols(target, ProtocolsParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    tls10 = _versions(outcome)["TLSv1"]
    assert tls10["result"] == "accepted"
    assert tls10["method"] == "client_hello"
    assert tls10["suite"] == "TLS_RSA_WITH_3DES_EDE_CBC_SHA"


def test_a_version_left_unanswered_is_a_warning_not_a_verdict(
    serve: Callable[..., Target], ctx: ProbeContext, rsa_cert: CertFiles
) -> None:
    def silent_to_sslv3(hello: ClientHello) -> bytes | None:
        return SILENT if hello.version == SSL3_WIRE else None

    target = serve(server_context(rsa_cert), intercept=silent_to_sslv3)
    outcome = protocols(target, ProtocolsParams(), ProbeContext(clock=CLOCK, timeout=1.0))

    assert outcome.status is FindingStatus.PASS
    assert _versions(outcome)["SSLv3"]["result"] == "no answer"
    assert outcome.warning is not None
    assert "did not answer when offered SSLv3" in outcome.warning


def test_protocol_params_are_validated() -> None:
    with pytest.raises(ValidationError):
        ProtocolsParams.model_validate({"forbidden": ["TLSv1.3"]})
    with pytest.raises(ValidationError):
        ProtocolsParams.model_validate({"forbidden": "TLSv1"})
    assert ProtocolsParams().forbidden == ["TLSv1", "TLSv1.1"]


# --- tls.weak-ciphers --------------------------------------------------------------------------


def test_a_modern_server_accepts_no_weak_suites(
    serve: Callable[..., Target], ctx: ProbeContext, rsa_cert: CertFiles
) -> None:
    outcome = weak_ciphers(serve(server_context(rsa_cert)), WeakCiphersParams(), ctx)

    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["accepted"] == []
    classes = outcome.evidence["classes"]
    assert set(classes) == {"NULL", "EXPORT", "anonymous", "RC4", "3DES"}
    assert all(c["result"] == "refused" for c in classes.values())
    # What the local OpenSSL lacks is still tested, with a ClientHello: never passed silently.
    for name in ("EXPORT", "RC4", "3DES"):
        expected = "handshake" if cipher_context(f"{name}:@SECLEVEL=0") else "client_hello"
        assert classes[name]["method"] == expected
    assert outcome.evidence["baseline"]["result"] == "accepted"


@pytest.mark.parametrize(
    ("ciphers", "weak", "cert_kind"),
    [
        ("ECDHE+AESGCM:aNULL:@SECLEVEL=0", "anonymous", "rsa"),
        ("ECDHE+AESGCM:eNULL:@SECLEVEL=0", "NULL", "ec"),
    ],
)
def test_weak_suites_that_openssl_can_offer_are_caught_in_a_handshake(
    serve: Callable[..., Target],
    ctx: ProbeContext,
    rsa_cert: CertFiles,
    ec_cert: CertFiles,
    ciphers: str,
    weak: str,
    cert_kind: str,
) -> None:
    cert = rsa_cert if cert_kind == "rsa" else ec_cert
    target = serve(server_context(cert, ciphers=ciphers, maximum=TLS12))
    outcome = weak_ciphers(target, WeakCiphersParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    # AECDH-NULL-SHA is both anonymous and NULL: the other class may be caught as well.
    found = next(a for a in outcome.evidence["accepted"] if a["class"] == weak)
    assert found["version"] == "TLSv1.2"
    assert outcome.evidence["classes"][weak]["method"] == "handshake"
    assert "accepts weak cipher suites: " in outcome.message
    assert f"{weak} ({found['suite']})" in outcome.message


def test_a_server_configured_for_3des_is_judged_by_what_it_really_accepts(
    serve: Callable[..., Target], ctx: ProbeContext, rsa_cert: CertFiles
) -> None:
    # A classic configuration line; whether the server side can really use DES-CBC3-SHA
    # depends on the local OpenSSL, and the verdict must follow what happens on the wire.
    context = server_context(rsa_cert, ciphers="AES128-SHA:DES-CBC3-SHA:@SECLEVEL=0", maximum=TLS12)
    server_has_3des = any(c["name"] == "DES-CBC3-SHA" for c in context.get_ciphers())
    outcome = weak_ciphers(serve(context), WeakCiphersParams(), ctx)

    des = outcome.evidence["classes"]["3DES"]
    if server_has_3des:
        assert outcome.status is FindingStatus.FAIL and des["result"] == "accepted"
    else:
        assert outcome.status is FindingStatus.PASS and des["result"] == "refused"
        assert outcome.evidence["baseline"]["suite"] == "AES128-SHA"


@pytest.mark.parametrize(
    ("suite", "weak", "name"),
    [
        (DES_CBC3_SHA, "3DES", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
        (RC4_SHA, "RC4", "TLS_RSA_WITH_RC4_128_SHA"),
        (EXPORT_DES40, "EXPORT", "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    ],
)
def test_weak_suites_the_local_openssl_lacks_are_caught_from_the_server_hello(
    serve: Callable[..., Target],
    ctx: ProbeContext,
    rsa_cert: CertFiles,
    suite: int,
    weak: str,
    name: str,
) -> None:
    if cipher_context(f"{weak}:@SECLEVEL=0") is not None:
        pytest.skip(f"the local OpenSSL still offers {weak}: it is tested in a full handshake")
    old = old_server({TLS10_WIRE, 0x0303}, {suite})

    def hybrid(hello: ClientHello) -> bytes | None:
        # Weak offers get the old stack's answer; everything else a real handshake.
        return old(hello) if suite in hello.suites else None

    target = serve(server_context(rsa_cert), intercept=hybrid)
    outcome = weak_ciphers(target, WeakCiphersParams(), ctx)

    assert outcome.status is FindingStatus.FAIL
    assert outcome.evidence["accepted"] == [{"class": weak, "suite": name, "version": "TLSv1.2"}]
    assert outcome.evidence["classes"][weak]["method"] == "client_hello"


def test_only_the_forbidden_classes_are_offered(
    serve: Callable[..., Target], ctx: ProbeContext, rsa_cert: CertFiles
) -> None:
    target = serve(
        server_context(rsa_cert, ciphers="ECDHE+AESGCM:aNULL:@SECLEVEL=0", maximum=TLS12)
    )
    outcome = weak_ciphers(target, WeakCiphersParams(forbidden=[WeakClass.RC4]), ctx)
    assert outcome.status is FindingStatus.PASS
    assert list(outcome.evidence["classes"]) == ["RC4"]
    with pytest.raises(ValidationError):
        WeakCiphersParams.model_validate({"forbidden": ["AES"]})
    # YAML reads a bare NULL as null; it still means the NULL class.
    bare = WeakCiphersParams.model_validate({"forbidden": [None, "RC4"]})
    assert bare.forbidden == [WeakClass.NULL, WeakClass.RC4]


# --- peers that are not TLS servers ------------------------------------------------------------


@pytest.mark.parametrize("probe_func", [protocols, weak_ciphers])
def test_garbage_instead_of_tls_is_a_protocol_error(
    serve: Callable[..., Target], ctx: ProbeContext, probe_func: Callable[..., Any]
) -> None:
    def garbage(hello: ClientHello) -> bytes:
        return b"HTTP/1.1 400 Bad Request\r\n\r\n" + b"\x00\xff" * 512

    target = serve(None, intercept=garbage)
    params = ProtocolsParams() if probe_func is protocols else WeakCiphersParams()
    with pytest.raises(ProtocolError, match=r"not .*TLS"):
        probe_func(target, params, ctx)


@pytest.mark.parametrize("probe_func", [protocols, weak_ciphers])
def test_a_server_that_never_answers_is_a_timeout(
    serve: Callable[..., Target], probe_func: Callable[..., Any]
) -> None:
    target = serve(None, intercept=lambda hello: SILENT)
    params = ProtocolsParams() if probe_func is protocols else WeakCiphersParams()
    with pytest.raises(ProbeTimeout, match="timed out"):
        probe_func(target, params, ProbeContext(clock=CLOCK, timeout=0.5))


def test_a_server_that_always_hangs_up_is_an_error_not_a_pass(
    serve: Callable[..., Target], ctx: ProbeContext
) -> None:
    target = serve(None, intercept=lambda hello: None)  # no context: it closes at once
    with pytest.raises((ProtocolError, ConnectivityError), match="closed the connection"):
        weak_ciphers(target, WeakCiphersParams(), ctx)


def test_nothing_listening_is_a_connectivity_error(ctx: ProbeContext) -> None:
    with socket.create_server((ADDRESS, 0)) as sock:
        closed_port = int(sock.getsockname()[1])
    target = Target(name=HOST, address=ADDRESS, roles=("website",), ports={"https": closed_port})
    with pytest.raises(ConnectivityError, match="refused"):
        protocols(target, ProtocolsParams(), ctx)

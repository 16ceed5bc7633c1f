"""Tests of the lab: certificates, loopback-only web and raw servers, and the demo school."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import socket
import ssl
import stat
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cyberstd.lab import (
    DEMO_ADDRESS,
    DEMO_HOST_NAME,
    DEMO_HTTP_PORT,
    DEMO_HTTPS_PORT,
    CertFiles,
    CertificateAuthority,
    CertSet,
    KeyType,
    Lab,
    RawServer,
    WebServer,
    cert_set,
    check_loopback,
    demo_lab,
    self_signed,
)
from cyberstd.lab.web import HostilePeer, Misbehaviour
from cyberstd.probes.tls.certificates import CertExpiryParams, cert_expiry, cert_valid
from cyberstd.probes.tls.versions import MinVersionParams
from cyberstd.probes.tls.versions import min_version as min_version_probe
from cyberstd.probes.web.headers import HstsParams, hsts
from cyberstd.probes.web.redirect import https_redirect
from cyberstd.registry import ProbeContext, ProbeParams, Target
from cyberstd.results import FindingStatus
from tests.conftest import CLOCK, real_timers

HOST = "www.school.test"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertSet:
    return cert_set(tmp_path_factory.mktemp("lab-certs"), HOST, now=CLOCK.now)


def _load(files: CertFiles) -> x509.Certificate:
    return x509.load_pem_x509_certificate(files.cert.read_bytes())


def _get(
    port: int,
    *,
    tls: ssl.SSLContext | None = None,
    host: str = HOST,
    path: str = "/",
    address: str = "127.0.0.1",
) -> tuple[str, dict[str, str], str]:
    """One GET to address:port with plain sockets: status line, headers, body."""
    with contextlib.ExitStack() as stack:
        sock = stack.enter_context(socket.create_connection((address, port), timeout=5))
        if tls is not None:
            sock = stack.enter_context(tls.wrap_socket(sock, server_hostname=host))
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.decode().partition("\r\n\r\n")
    status, *lines = head.split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def _client(ca: Path, **versions: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    for name, value in versions.items():
        setattr(ctx, name, value)
    return ctx


def _lab_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("lab-")]


# --- certificates ------------------------------------------------------------------------------


def test_ca_and_leaf_certificates(certs: CertSet) -> None:
    ca = _load(certs.ca.files)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    leaf = _load(certs.valid)
    assert leaf.issuer == ca.subject
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [HOST]
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.signature_hash_algorithm is not None
    assert leaf.signature_hash_algorithm.name == "sha256"
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    # The leaf verifies against the CA (the signature is the CA's).
    leaf.verify_directly_issued_by(ca)


def test_flawed_certificates_have_their_flaw(certs: CertSet) -> None:
    now = dt.datetime.now(dt.UTC)
    assert _load(certs.expired).not_valid_after_utc < now
    assert _load(certs.not_yet_valid).not_valid_before_utc > now
    soon = _load(certs.expiring_soon).not_valid_after_utc - now
    assert dt.timedelta(days=9) < soon <= dt.timedelta(days=10)
    wrong = _load(certs.wrong_host)
    names = wrong.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert HOST not in names.get_values_for_type(x509.DNSName)
    own = _load(certs.self_signed)
    assert own.issuer == own.subject
    own.verify_directly_issued_by(own)


def test_rsa_keys_and_private_key_files(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path, now=CLOCK.now, key_type=KeyType.RSA)
    files = ca.issue(tmp_path, ["rsa.school.test"], key_type=KeyType.RSA)
    key = _load(files).public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert files.cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert files.key.read_text().startswith("-----BEGIN PRIVATE KEY-----")


def test_bad_certificate_requests_are_refused(tmp_path: Path, certs: CertSet) -> None:
    with pytest.raises(ValueError, match="at least one DNS name"):
        certs.ca.issue(tmp_path, [])
    with pytest.raises(ValueError, match="at least one DNS name"):
        self_signed(tmp_path, [], now=CLOCK.now)
    with pytest.raises(ValueError, match="must lie after"):
        certs.ca.issue(tmp_path, [HOST], valid_from_days=5, expires_in_days=1)


# --- loopback only -----------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["10.0.0.1", "0.0.0.0", "192.168.1.10", "::1", "localhost"])
def test_lab_servers_refuse_addresses_outside_loopback(address: str, certs: CertSet) -> None:
    with pytest.raises(ValueError):
        check_loopback(address)
    with pytest.raises(ValueError):
        WebServer(cert=certs.valid, address=address)
    with pytest.raises(ValueError):
        RawServer(address=address)


def test_any_address_in_127_slash_8_is_accepted() -> None:
    assert check_loopback("127.0.10.1") == "127.0.10.1"
    assert check_loopback("127.255.255.254") == "127.255.255.254"


def test_web_server_needs_a_certificate_for_https() -> None:
    with pytest.raises(ValueError, match="certificate"):
        WebServer(cert=None)
    with pytest.raises(ValueError, match="at least one"):
        WebServer(cert=None, http_port=None, https_port=None)


# --- web server --------------------------------------------------------------------------------


def test_web_server_redirects_and_serves_https(certs: CertSet) -> None:
    with WebServer(cert=certs.valid, host_name=HOST, hsts_max_age=600) as server:
        assert server.http_port != server.https_port
        assert server.ports == {"http": server.http_port, "https": server.https_port}

        status, headers, _ = _get(server.http_port, path="/contact")
        assert status == "HTTP/1.0 301 Moved Permanently"
        assert headers["location"] == f"https://{HOST}:{server.https_port}/contact"

        status, headers, body = _get(server.https_port, tls=_client(certs.ca.cert_path))
        assert status == "HTTP/1.0 200 OK"
        assert headers["strict-transport-security"] == "max-age=600"
        assert f"Welkom op {HOST}" in body
        assert server.sni_seen == [HOST]
        assert [r.scheme for r in server.requests_seen] == ["http", "https"]


def test_web_server_without_redirect_or_hsts(certs: CertSet) -> None:
    with WebServer(cert=certs.valid, host_name=HOST, redirect=False, home_page="<p>hi</p>") as s:
        status, headers, body = _get(s.http_port)
        assert status.endswith("200 OK") and body == "<p>hi</p>"
        _, headers, _ = _get(s.https_port, tls=_client(certs.ca.cert_path))
        assert "strict-transport-security" not in headers


def test_web_server_can_serve_only_one_scheme(certs: CertSet) -> None:
    with WebServer(cert=None, https_port=None) as plain:
        assert set(plain.ports) == {"http"}
        with pytest.raises(RuntimeError):
            _ = plain.https_port
    with WebServer(cert=certs.valid, http_port=None) as secure:
        assert set(secure.ports) == {"https"}


def test_web_server_caps_the_tls_version(certs: CertSet) -> None:
    with WebServer(cert=certs.valid, host_name=HOST, tls_max_version=ssl.TLSVersion.TLSv1_2) as s:
        with (
            socket.create_connection(("127.0.0.1", s.https_port), timeout=5) as raw,
            _client(certs.ca.cert_path).wrap_socket(raw, server_hostname=HOST) as tls,
        ):
            assert tls.version() == "TLSv1.2"
        modern = _client(certs.ca.cert_path, minimum_version=ssl.TLSVersion.TLSv1_3)
        with pytest.raises(ssl.SSLError):
            _get(s.https_port, tls=modern)


def test_web_server_stops_fast_with_a_client_still_connected(certs: CertSet) -> None:
    before = _lab_threads()
    server = WebServer(cert=certs.valid, host_name=HOST).start()
    # Clients that connect and never speak keep handler threads waiting in a read.
    idle = [
        socket.create_connection(("127.0.0.1", port), timeout=5)
        for port in (server.http_port, server.https_port)
    ]
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    elapsed = time.monotonic() - started
    for sock in idle:
        sock.close()
    # Far below the lab's 10 s handler timeout: open connections are ended, not waited out.
    assert elapsed < 3
    assert _lab_threads() == before


def test_web_server_ports_can_be_reused_at_once(certs: CertSet) -> None:
    with WebServer(cert=certs.valid) as first:
        ports = dict(first.ports)
        _get(first.http_port)
    with WebServer(cert=certs.valid, http_port=ports["http"], https_port=ports["https"]) as second:
        assert second.ports == ports


def test_handshake_failures_are_kept_quiet(
    certs: CertSet, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        WebServer(cert=certs.valid) as server,
        socket.create_connection(("127.0.0.1", server.https_port), timeout=5) as raw,
    ):
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n")
        with contextlib.suppress(ConnectionResetError):
            raw.recv(100)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert server.errors == []


def test_web_server_serves_files_redirects_and_404(certs: CertSet) -> None:
    policy = b"version: STSv1\nmode: enforce\nmx: mail.school.test\nmax_age: 604800\n"
    with WebServer(
        cert=certs.valid,
        host_name=HOST,
        address="127.0.70.3",
        files={"/.well-known/mta-sts.txt": ("text/plain", policy)},
        redirects={"/oud": (302, "/nieuw")},
    ) as server:
        tls = _client(certs.ca.cert_path)
        status, headers, body = _get(
            server.https_port, tls=tls, path="/.well-known/mta-sts.txt?x=1", address="127.0.70.3"
        )
        assert status == "HTTP/1.0 200 OK"
        assert headers["content-type"] == "text/plain"
        assert body == policy.decode()
        status, headers, _ = _get(server.https_port, tls=tls, path="/oud", address="127.0.70.3")
        assert status == "HTTP/1.0 302 Found" and headers["location"] == "/nieuw"
        status, _, body = _get(server.https_port, tls=tls, path="/nergens", address="127.0.70.3")
        assert status == "HTTP/1.0 404 Not Found" and "Not found" in body
        # Plain HTTP still redirects every path to HTTPS.
        status, _, _ = _get(server.http_port, path="/.well-known/mta-sts.txt", address="127.0.70.3")
        assert status.endswith("301 Moved Permanently")


def test_web_server_without_redirect_serves_files_over_http_too(certs: CertSet) -> None:
    files = {"/robots.txt": ("text/plain", b"User-agent: *\n")}
    with WebServer(cert=certs.valid, address="127.0.70.3", redirect=False, files=files) as s:
        status, _, body = _get(s.http_port, path="/robots.txt", address="127.0.70.3")
        assert status.endswith("200 OK") and body == "User-agent: *\n"


def test_web_server_header_switches(certs: CertSet) -> None:
    tls = _client(certs.ca.cert_path)
    with WebServer(cert=certs.valid, host_name=HOST) as default:
        _, headers, _ = _get(default.https_port, tls=tls)
        assert headers["server"] == "cyberstd-lab"
    with WebServer(
        cert=certs.valid,
        host_name=HOST,
        server_header=None,
        extra_headers=[("X-Powered-By", "PHP/7.4.3"), ("Set-Cookie", "a=1")],
        https_headers={"X-Frame-Options": "DENY"},
    ) as server:
        _, headers, _ = _get(server.https_port, tls=tls)
        assert "server" not in headers
        assert headers["x-powered-by"] == "PHP/7.4.3" and headers["x-frame-options"] == "DENY"
        # Extra headers go on every answer, https_headers only on HTTPS pages.
        _, headers, _ = _get(server.http_port)
        assert headers["x-powered-by"] == "PHP/7.4.3" and "x-frame-options" not in headers
        _, headers, _ = _get(server.https_port, tls=tls, path="/missing")
        assert headers["x-powered-by"] == "PHP/7.4.3" and "x-frame-options" not in headers


@pytest.mark.parametrize(
    "kwargs",
    [
        {"server_header": "Apache\r\nX-Injected: 1"},
        {"extra_headers": [("X-A", "b\nc")]},
        {"extra_headers": [("X-A: b", "c")]},
        {"https_headers": {"": "x"}},
        {"files": {"no-slash": ("text/plain", b"")}},
        {"redirects": {"oud": (301, "/")}},
    ],
)
def test_web_server_refuses_content_it_cannot_serve(
    certs: CertSet, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        WebServer(cert=certs.valid, **kwargs)  # type: ignore[arg-type]


# --- hostile peer ------------------------------------------------------------------------------


def test_hostile_peer_refuses_addresses_outside_loopback() -> None:
    with pytest.raises(ValueError):
        HostilePeer(behaviour=Misbehaviour.SILENT, address="10.0.0.1")
    with pytest.raises(ValueError, match="filler"):
        HostilePeer(behaviour=Misbehaviour.ENDLESS, filler=b"")


@real_timers
def test_hostile_peer_drips(certs: CertSet) -> None:
    with (
        HostilePeer(
            behaviour=Misbehaviour.DRIP,
            address="127.0.70.4",
            payload=b"HTTP/1.1 200 OK\r\n",
            filler=b"ab",
            interval=0.01,
            cert=certs.valid,
        ) as peer,
        socket.create_connection(("127.0.70.4", peer.port), timeout=5) as raw,
        _client(certs.ca.cert_path).wrap_socket(raw, server_hostname=HOST) as tls,
    ):
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while len(data) < 21:
            data += tls.recv(100)
        assert data.startswith(b"HTTP/1.1 200 OK\r\nabab")
    assert peer.sent >= 21
    assert not any(name.startswith("lab-hostile") for name in _lab_threads())


def test_hostile_peer_sends_without_end_and_stops_fast() -> None:
    before = _lab_threads()
    peer = HostilePeer(
        behaviour=Misbehaviour.ENDLESS, address="127.0.70.4", payload=b"HTTP/1.1 200 OK\r\n"
    ).start()
    silent = HostilePeer(behaviour=Misbehaviour.SILENT, address="127.0.70.4").start()
    clients = [
        socket.create_connection(("127.0.70.4", p), timeout=5) for p in (peer.port, silent.port)
    ]
    received = 0
    while received < 1_000_000:
        received += len(clients[0].recv(65536))
    clients[1].sendall(b"GET / HTTP/1.0\r\n\r\n")
    with pytest.raises(TimeoutError):
        clients[1].settimeout(0.2)
        clients[1].recv(100)
    # Both still hold a connection open (one blocked sending, one waiting): stop ends them.
    peer.stop()
    silent.stop()
    for client in clients:
        client.close()
    assert peer.sent >= received
    assert _lab_threads() == before


# --- raw server --------------------------------------------------------------------------------


def test_raw_server_sends_its_payload_then_keeps_silent() -> None:
    with (
        RawServer(payload=b"220 not what you expected\r\n") as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=0.5) as sock,
    ):
        assert sock.recv(100) == b"220 not what you expected\r\n"
        with pytest.raises(TimeoutError):
            sock.recv(100)
    assert not any(name.startswith("lab-raw") for name in _lab_threads())


def test_raw_server_can_hang_up() -> None:
    with (
        RawServer(close_after_payload=True) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock,
    ):
        assert sock.recv(100) == b""


# --- the demo school ---------------------------------------------------------------------------


def _website_target(lab: Lab) -> Target:
    site = lab.website
    return Target(name=site.name, address=site.address, roles=site.roles, ports=site.ports)


def test_demo_defaults_are_the_documented_ones() -> None:
    assert (DEMO_ADDRESS, DEMO_HOST_NAME) == ("127.0.10.1", "www.demo-school.test")
    assert (DEMO_HTTP_PORT, DEMO_HTTPS_PORT) == (18080, 18443)


def test_demo_lab_shows_its_flaws(tmp_path: Path) -> None:
    with demo_lab(tmp_path, clock=CLOCK, http_port=0, https_port=0) as lab:
        site = lab.website
        assert (site.name, site.address, site.roles) == (DEMO_HOST_NAME, DEMO_ADDRESS, ("website",))
        assert set(site.ports) == {"http", "https"}
        assert lab.ca_bundle.is_file() and lab.ca_bundle.parent == tmp_path
        target = _website_target(lab)
        ctx = ProbeContext(clock=CLOCK, timeout=2.0, ca_bundle=lab.ca_bundle)

        assert https_redirect(target, ProbeParams(), ctx).status is FindingStatus.PASS
        assert cert_valid(target, ProbeParams(), ctx).status is FindingStatus.PASS
        assert min_version_probe(target, MinVersionParams(), ctx).status is FindingStatus.PASS

        short_hsts = hsts(target, HstsParams(), ctx)
        assert short_hsts.status is FindingStatus.FAIL
        assert short_hsts.evidence["max_age"] == 300

        expiry = cert_expiry(target, CertExpiryParams(), ctx)
        assert expiry.status is FindingStatus.PASS
        assert (
            expiry.evidence["days_left"] == 20
        )  # issued 20 days before its end, judged on the same clock
        assert expiry.warning is not None
    assert not _lab_threads()


def test_demo_lab_flaws_can_be_switched(tmp_path: Path) -> None:
    with demo_lab(
        tmp_path,
        clock=CLOCK,
        http_port=0,
        https_port=0,
        cert_days=365,
        hsts_max_age=31536000,
        redirect=False,
    ) as lab:
        target = _website_target(lab)
        ctx = ProbeContext(clock=CLOCK, timeout=2.0, ca_bundle=lab.ca_bundle)
        assert hsts(target, HstsParams(), ctx).status is FindingStatus.PASS
        assert cert_expiry(target, CertExpiryParams(), ctx).warning is None
        assert https_redirect(target, ProbeParams(), ctx).status is FindingStatus.FAIL


def test_demo_lab_on_its_fixed_ports(tmp_path: Path) -> None:
    try:
        with demo_lab(tmp_path, clock=CLOCK) as lab:
            assert lab.website.ports == {"http": DEMO_HTTP_PORT, "https": DEMO_HTTPS_PORT}
            status, headers, _ = _get(DEMO_HTTP_PORT, address=DEMO_ADDRESS, host=DEMO_HOST_NAME)
            assert status.endswith("301 Moved Permanently")
            assert headers["location"] == f"https://{DEMO_HOST_NAME}:{DEMO_HTTPS_PORT}/"
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            pytest.skip("the demo ports are in use (a demo is running on this machine)")
        raise


def test_demo_lab_refuses_a_non_loopback_address(tmp_path: Path) -> None:
    with pytest.raises(ValueError), demo_lab(tmp_path, clock=CLOCK, address="192.0.2.10"):
        pass

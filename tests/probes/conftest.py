"""Fixtures for the probe tests: lab certificates and real servers on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from cyberstd.lab.certs import CertFiles, CertSet, KeyType, cert_set
from cyberstd.lab.web import RawServer, WebServer
from cyberstd.registry import ProbeContext, Target
from tests.conftest import CLOCK

HOST = "www.school.test"
ADDRESS = "127.0.0.1"


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertSet:
    """A lab CA with a valid certificate for HOST and one certificate per flaw."""
    return cert_set(tmp_path_factory.mktemp("certs"), HOST, now=CLOCK.now)


@pytest.fixture(scope="session")
def rsa_cert(certs: CertSet, tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return certs.ca.issue(
        tmp_path_factory.mktemp("rsa"), [HOST, "school.test"], key_type=KeyType.RSA
    )


@pytest.fixture
def ctx(certs: CertSet) -> ProbeContext:
    """Trusts the lab CA; short timeout so that failures surface quickly."""
    return ProbeContext(clock=CLOCK, timeout=2.0, ca_bundle=certs.ca.cert_path)


@pytest.fixture
def start_web(certs: CertSet) -> Iterator[Callable[..., WebServer]]:
    """Start a WebServer (valid certificate, host name HOST by default); stopped after the test."""
    with ExitStack() as stack:

        def start(**kwargs: Any) -> WebServer:
            kwargs.setdefault("cert", certs.valid)
            kwargs.setdefault("host_name", HOST)
            return stack.enter_context(WebServer(**kwargs))

        yield start


@pytest.fixture
def start_raw() -> Iterator[Callable[..., RawServer]]:
    with ExitStack() as stack:

        def start(**kwargs: Any) -> RawServer:
            return stack.enter_context(RawServer(**kwargs))

        yield start


def _target(ports: dict[str, int]) -> Target:
    return Target(name=HOST, address=ADDRESS, roles=("website",), ports=ports)


@pytest.fixture
def target_of() -> Callable[[WebServer], Target]:
    """The Target a school.yaml would declare for a lab web server."""
    return lambda server: _target(server.ports)


@pytest.fixture
def target_on_port() -> Callable[[int], Target]:
    """A Target whose HTTP and HTTPS ports are both `port` (for raw servers and closed ports)."""
    return lambda port: _target({"http": port, "https": port})


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound once, then released)."""
    with socket.create_server((ADDRESS, 0)) as sock:
        return int(sock.getsockname()[1])

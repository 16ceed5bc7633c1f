"""The lab: a local "school" of real servers on loopback (127.0.0.0/8), for the demo and the tests.

Every lab server binds to an address in 127.0.0.0/8 only (one address per simulated host, e.g.
127.0.10.1) and refuses anything else, so the lab never sends a packet off the machine.
Certificates come from a lab CA generated on the spot; scans trust it through `ca_bundle`.

`lab_school` starts the whole demo school (website, mail, DNS, servers, zones) with its flaws
switchable; `cyberstd demo` scans it. `demo_lab` starts only the website, with its flaws as
keyword flags, for tests of the web and TLS probes.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cyberstd.clock import Clock
from cyberstd.lab.certs import (
    CertFiles,
    CertificateAuthority,
    CertSet,
    KeyType,
    cert_set,
    self_signed,
)
from cyberstd.lab.school import DEMO_FLAWS, Flaw, Lab, LabHost, lab_school
from cyberstd.lab.server import check_loopback
from cyberstd.lab.web import RawServer, RequestRecord, WebServer

__all__ = [
    "DEMO_ADDRESS",
    "DEMO_FLAWS",
    "DEMO_HOST_NAME",
    "DEMO_HTTPS_PORT",
    "DEMO_HTTP_PORT",
    "CertFiles",
    "CertSet",
    "CertificateAuthority",
    "Flaw",
    "KeyType",
    "Lab",
    "LabHost",
    "RawServer",
    "RequestRecord",
    "WebServer",
    "cert_set",
    "check_loopback",
    "demo_lab",
    "lab_school",
    "self_signed",
]

DEMO_ADDRESS = "127.0.10.1"
DEMO_HOST_NAME = "www.demo-school.test"
DEMO_HTTP_PORT = 18080
DEMO_HTTPS_PORT = 18443


@contextmanager
def demo_lab(
    workdir: Path,
    *,
    clock: Clock,
    address: str = DEMO_ADDRESS,
    host_name: str = DEMO_HOST_NAME,
    http_port: int = DEMO_HTTP_PORT,
    https_port: int = DEMO_HTTPS_PORT,
    cert_days: float = 20,
    hsts_max_age: int | None = 300,
    redirect: bool = True,
    tls_max_version: ssl.TLSVersion | None = None,
    key_type: KeyType = KeyType.EC,
) -> Iterator[Lab]:
    """Run the demo school's website until the `with` block ends; yield where to find it.

    Defaults are the demo's flaws: a certificate from the lab CA that expires in `cert_days`
    (20: the expiry check warns), HSTS with `max-age=300` (far too short: a finding), a working
    HTTP-to-HTTPS redirect. Switch them with `cert_days=365`, `hsts_max_age=31536000` or None
    (no header), `redirect=False` (site served over plain HTTP), `tls_max_version` (an outdated
    server). Ports 0 let the system pick free ones. Certificates are written into `workdir`.
    """
    check_loopback(address)
    ca = CertificateAuthority.create(
        workdir, now=clock.now, common_name="Demo school lab CA", key_type=key_type
    )
    cert = ca.issue(workdir, [host_name], expires_in_days=cert_days, key_type=key_type)
    with WebServer(
        cert=cert,
        address=address,
        host_name=host_name,
        http_port=http_port,
        https_port=https_port,
        redirect=redirect,
        hsts_max_age=hsts_max_age,
        tls_max_version=tls_max_version,
    ) as web:
        website = LabHost(name=host_name, address=address, roles=("website",), ports=web.ports)
        yield Lab(workdir=workdir, ca_bundle=ca.cert_path, hosts=(website,))

"""The scope guard judges what an address reaches: IPv4 inside IPv6, and what is internal."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstd.cli import main
from cyberstd.errors import ScopeError
from cyberstd.schema import SchoolFile
from cyberstd.school import authorize, authorize_range
from tests.conftest import REPO

TODAY = dt.date(2026, 11, 29)
HOST = "srv.school.test"
SCOPE = "scope:\n  - ranges: [{}]\n    authorized_by: me\n    date: 2026-01-01"


def _school(*ranges: str) -> SchoolFile:
    data: dict[str, Any] = {
        "school": {"id": "s", "name": "S"},
        "domains": ["school.test"],
        "hosts": [{"name": HOST, "roles": ["server"]}],
    }
    if ranges:
        data["scope"] = [
            {"ranges": list(ranges), "authorized_by": "Director", "date": "2026-01-01"}
        ]
    return SchoolFile.model_validate(data)


def _wrapped(v4: ipaddress.IPv4Address) -> dict[str, str]:
    """Every IPv6 form that carries `v4`."""
    n = int(v4)
    hi, lo = n >> 16, n & 0xFFFF
    return {
        "mapped": f"::ffff:{v4}",
        "compatible": f"::{v4}",
        "translated": f"::ffff:0:{v4}",
        "nat64": f"64:ff9b::{v4}",
        "6to4": f"2002:{hi:x}:{lo:x}::1",
        "teredo": str(ipaddress.IPv6Address((0x20010000 << 96) | (n << 64) | (0xFFFFFFFF ^ n))),
    }


INTERNAL_V4 = st.one_of(
    st.integers(int(ipaddress.IPv4Address("10.0.0.0")), int(ipaddress.IPv4Address("10.255.255.255"))),
    st.integers(int(ipaddress.IPv4Address("172.16.0.0")), int(ipaddress.IPv4Address("172.31.255.255"))),
    st.integers(int(ipaddress.IPv4Address("192.168.0.0")), int(ipaddress.IPv4Address("192.168.255.255"))),
    st.integers(int(ipaddress.IPv4Address("169.254.0.0")), int(ipaddress.IPv4Address("169.254.255.255"))),
).map(ipaddress.IPv4Address)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(INTERNAL_V4)
def test_an_internal_ipv4_is_refused_in_every_ipv6_wrapper(v4: ipaddress.IPv4Address) -> None:
    school = _school()
    with pytest.raises(ScopeError):
        authorize(school, HOST, str(v4), TODAY)
    for form, address in _wrapped(v4).items():
        if form == "teredo":
            # a Teredo address reaches its client (here the internal address) via its server
            address = str(ipaddress.IPv6Address((0x20010000 << 96) | (int(ipaddress.IPv4Address("8.8.8.8")) << 64) | (0xFFFFFFFF ^ int(v4))))  # fmt: skip
        with pytest.raises(ScopeError, match=str(v4)):
            authorize(school, HOST, address, TODAY)


@settings(max_examples=100, deadline=None)
@given(INTERNAL_V4)
def test_an_authorised_ipv4_range_allows_its_wrapped_forms(v4: ipaddress.IPv4Address) -> None:
    school = _school(str(ipaddress.IPv4Network(f"{v4}/24", strict=False)))
    authorize(school, HOST, str(v4), TODAY)
    for form in ("mapped", "compatible", "translated", "nat64", "6to4"):
        authorize(school, HOST, _wrapped(v4)[form], TODAY)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1", "2001:4860:4860::8888"],
)
def test_public_addresses_need_no_scope(address: str) -> None:
    authorize(_school(), HOST, address, TODAY)


@pytest.mark.parametrize(
    "address",
    ["fec0::1", "240.0.0.1", "64:ff9b:1::a00:1", "::1", "fe80::1", "fd00::1", "100.64.0.1"],
)  # fmt: skip
def test_site_local_reserved_and_nat64_local_need_a_scope(address: str) -> None:
    with pytest.raises(ScopeError, match="outside every authorised range"):
        authorize(_school(), HOST, address, TODAY)


@pytest.mark.parametrize(
    ("address", "said"),
    [("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("::", "unspecified"),
     ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::ffff:0.0.0.0", "unspecified"),
     ("255.255.255.255", "broadcast")],
)  # fmt: skip
def test_no_scope_makes_a_target_of_multicast_unspecified_or_broadcast(
    address: str, said: str
) -> None:
    """0.0.0.0 reaches the scanning machine itself (a DNS answer for a blocked name), multicast
    and broadcast every host that listens: refused even inside an authorised range."""
    school = _school("0.0.0.0/8", "224.0.0.0/24", "ff02::/16", "::/128", "255.255.255.0/24")
    with pytest.raises(ScopeError, match=said):
        authorize(school, HOST, address, TODAY)


def test_a_range_that_carries_ipv4_is_never_swept_as_ipv6() -> None:
    school = _school("64:ff9b::/96", "10.0.0.0/24")
    with pytest.raises(ScopeError, match="carries IPv4"):
        authorize_range(school, "64:ff9b::a00:0/120", TODAY)
    authorize_range(school, "10.0.0.0/25", TODAY)


@pytest.mark.parametrize(
    ("yaml", "code"),
    [
        ("domains: [be]", "public-suffix"),
        ("domains: [github.io]", "public-suffix"),
        ("domains: [ac.uk]", "public-suffix"),
    ],
)
def test_public_suffixes_are_not_a_schools_domain(tmp_path: Path, yaml: str, code: str) -> None:
    result = _validate(tmp_path, yaml)
    assert result.exit_code == 2 and f"error[{code}]" in result.output, result.output
    assert "school.yaml:" in result.output


@pytest.mark.parametrize(
    ("network", "code"),
    [
        ("0.0.0.0/0", "scope-too-wide"),
        ("::/0", "scope-too-wide"),
        ("10.0.0.0/8", "scope-too-wide"),
        ("2001:db8::/32", "scope-too-wide"),
        ("64:ff9b::/96", "scope-wrapped"),
        ("::ffff:0:0/96", "scope-wrapped"),
        ("2002:a00::/24", "scope-too-wide"),
        ("2002:a00:1::/48", "scope-wrapped"),
    ],
)
def test_scope_wider_than_a_school_or_wrapped_is_refused(
    tmp_path: Path, network: str, code: str
) -> None:
    result = _validate(tmp_path, SCOPE.format(network))
    assert result.exit_code == 2 and f"error[{code}]" in result.output, result.output


@pytest.mark.parametrize("network", ["10.20.0.0/16", "127.0.0.0/8", "2001:db8:1::/48"])
def test_a_schools_own_ranges_are_accepted(tmp_path: Path, network: str) -> None:
    result = _validate(tmp_path, SCOPE.format(network))
    assert result.exit_code == 0, result.output


def _validate(tmp_path: Path, extra: str) -> Any:
    folder = tmp_path / "school"
    folder.mkdir()
    body = "school: {id: x, name: y}\n"
    if not extra.startswith("domains"):
        body += "domains: [school.test]\n"
    (folder / "school.yaml").write_text(body + extra + "\n", encoding="utf-8")
    return CliRunner().invoke(
        main, ["--root", str(REPO), "validate", str(folder), "--as-of", "2026-11-29"]
    )

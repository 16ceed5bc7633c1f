"""The FortiGate files of the real-world corpus (tests/data/realworld/README.md): every check's
verdict on every file, as the school's situation warrants."""

from __future__ import annotations

import datetime as dt

import pytest

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.parsers import parse_file
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, evaluate
from tests.conftest import REPO

CORPUS = REPO / "tests" / "data" / "realworld" / "fortigate"
DAY = dt.date(2026, 11, 29)
P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE

# file -> check -> (verdict, words the message must hold)
EXPECTED: dict[str, dict[str, tuple[FindingStatus, str]]] = {
    "cloud-port1-public.conf": {
        "fortigate.admin-on-wan": (F, "port1"),
        "fortigate.accept-all-inbound": (P, ""),  # only HTTPS to one VIP
        "fortigate.web-filter": (F, "lan naar internet"),
        "fortigate.admin-2fa": (P, ""),
        "fortigate.admin-lockout": (P, ""),  # system global present: FortiOS default 3
        "fortigate.firmware": (P, "7.6.1"),
        "fortigate.traffic-logging": (P, ""),
    },
    "wan1-no-role.conf": {
        "fortigate.admin-on-wan": (F, "wan1"),
        "fortigate.admin-2fa": (NA, "not judged"),
        "fortigate.accept-all-inbound": (NA, "not judged"),
        "fortigate.admin-lockout": (P, ""),
    },
    "pppoe-modem.conf": {
        "fortigate.admin-on-wan": (F, "modem"),
        "fortigate.admin-lockout": (NA, "not judged"),  # no system global in the file
    },
    "no-wan-known.conf": {
        "fortigate.admin-on-wan": (NA, "face the internet"),
        "fortigate.accept-all-inbound": (NA, "face the internet"),
        "fortigate.web-filter": (NA, "face the internet"),
        "fortigate.inter-zone-any": (NA, "face the internet"),
    },
    "vdom-without-admins.conf": {
        "fortigate.admin-2fa": (NA, "not judged"),
        "fortigate.admin-lockout": (NA, "not judged"),
        "fortigate.firmware": (F, "5.2.0"),
        "fortigate.admin-on-wan": (NA, "not judged"),
    },
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    found, problems = load_catalog(REPO)
    assert problems == []
    return found


CASES = [(f, c, *v) for f, checks in EXPECTED.items() for c, v in checks.items()]


@pytest.mark.parametrize(("file", "check", "status", "words"), CASES)
def test_verdict(
    catalog: Catalog, file: str, check: str, status: FindingStatus, words: str
) -> None:
    tree = parse_file(CORPUS / file, "fortigate", display=file)
    params = RuleParams.model_validate(catalog.checks[check].params)
    verdict = evaluate(params, {"fortigate": [tree]}, DAY)
    assert verdict.status is status, verdict.message
    assert words in verdict.message


def test_the_reason_an_interface_faces_the_internet_is_in_the_evidence(catalog: Catalog) -> None:
    tree = parse_file(CORPUS / "cloud-port1-public.conf", "fortigate", display="fw.conf")
    params = RuleParams.model_validate(catalog.checks["fortigate.admin-on-wan"].params)
    verdict = evaluate(params, {"fortigate": [tree]}, DAY)
    (item,) = verdict.evidence["items"]
    assert item["actual"]["role-effective"] == "wan"
    assert "default route" in item["actual"]["role-reason"]


def test_every_corpus_file_is_expected() -> None:
    assert {p.name for p in CORPUS.iterdir()} == set(EXPECTED)

"""The sophos.* checks as the catalog defines them, on the good and weak Sophos Firewall
samples: every check passes on the sound export and fails on the weak one, naming the items
at their lines; without a WAN zone or without what a check reads, nothing passes."""

from __future__ import annotations

import pytest

from cyberstd.catalog import Catalog
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import source_from_text
from cyberstd.results import FindingStatus
from tests.rules.conftest import (
    assert_no_secret,
    evidence_items,
    line_of,
    parse_kind,
    run_check,
    sample,
)

CHECKS = [
    "sophos.admin-on-wan",
    "sophos.accept-all-inbound",
    "sophos.inter-zone-any",
    "sophos.traffic-logging",
    "sophos.log-forwarding",
    "sophos.web-filter",
    "sophos.admin-lockout",
    "sophos.firmware",
]
BAD = sample("sophos", "bad")
# check -> the items the weak sample fails on, by the text of the line each is at
OFFENDERS = {
    "sophos.admin-on-wan": {"WAN": "<Zone ", "SSH voor leverancier": "<LocalServiceACL"},
    "sophos.accept-all-inbound": {"Alles binnen": "<FirewallRule"},
    "sophos.inter-zone-any": {"LAN naar alles": "<FirewallRule"},
    "sophos.traffic-logging": {"LAN naar alles": "<FirewallRule"},
    "sophos.web-filter": {"LAN naar alles": "<FirewallRule"},
}


def test_every_sophos_check_is_tested(catalog: Catalog) -> None:
    assert sorted(c for c in catalog.checks if c.startswith("sophos.")) == sorted(CHECKS)


@pytest.mark.parametrize("check_id", CHECKS)
def test_good_sample_passes(catalog: Catalog, check_id: str) -> None:
    verdict = run_check(catalog, check_id, "good")
    assert verdict.status is FindingStatus.PASS, verdict.message
    assert_no_secret(verdict.message, str(verdict.evidence))


@pytest.mark.parametrize("check_id", CHECKS)
def test_bad_sample_fails(catalog: Catalog, check_id: str) -> None:
    verdict = run_check(catalog, check_id, "bad")
    assert verdict.status is FindingStatus.FAIL, verdict.message
    assert_no_secret(verdict.message, str(verdict.evidence))


@pytest.mark.parametrize("check_id", sorted(OFFENDERS))
def test_bad_sample_names_the_offenders_at_their_lines(catalog: Catalog, check_id: str) -> None:
    verdict = run_check(catalog, check_id, "bad")
    found = {it["label"]: it["line"] for it in evidence_items(verdict.evidence) if "label" in it}
    expected = OFFENDERS[check_id]
    assert set(found) == set(expected)
    lines = BAD.read_text(encoding="utf-8").splitlines()
    for label, tag in expected.items():
        named = line_of(BAD, f">{label}<")  # the entity opens on the last tag before its name
        opens = max(n for n in range(1, named + 1) if tag in lines[n - 1])
        assert found[label] == opens, label
        assert label in verdict.message


def test_a_disabled_rule_is_not_counted(catalog: Catalog) -> None:
    verdict = run_check(catalog, "sophos.accept-all-inbound", "bad")
    assert "Oude regel" not in verdict.message


def test_without_a_wan_zone_nothing_about_the_internet_is_judged(catalog: Catalog) -> None:
    text = sample("sophos", "bad").read_text(encoding="utf-8")
    # no zone of type WAN, and no rule, interface or exception names the WAN zone
    text = text.replace("<Type>WAN</Type>", "<Type>DMZ</Type>").replace(
        "<Name>WAN</Name>", "<Name>Uplink</Name>"
    )
    text = text.replace("<Zone>WAN</Zone>", "<Zone>Uplink</Zone>")
    text = text.replace(">WAN<", ">Uplink<")
    tree = parse_source(source_from_text(text, "Entities.xml"), "sophos")
    assert tree.get("wan-zones") is None
    for check_id in ("sophos.admin-on-wan", "sophos.accept-all-inbound", "sophos.web-filter"):
        verdict = run_check(catalog, check_id, {"sophos": [tree]})
        assert verdict.status is FindingStatus.NOT_APPLICABLE, (check_id, verdict.message)
        assert "face the internet" in verdict.message


def test_an_api_answer_is_judged_only_on_what_it_holds(catalog: Catalog) -> None:
    text = (
        '<Response APIVersion="2100.1">\n'
        "  <Login><status>Authentication Successful</status></Login>\n"
        "  <FirewallRule><Name>LAN naar WAN</Name><Status>Enable</Status>\n"
        "    <NetworkPolicy><Action>Accept</Action><LogTraffic>Enable</LogTraffic>\n"
        "      <SourceZones><Zone>LAN</Zone></SourceZones>\n"
        "      <DestinationZones><Zone>WAN</Zone></DestinationZones>\n"
        "      <WebFilter>Default Workplace Policy</WebFilter>\n"
        "    </NetworkPolicy></FirewallRule>\n"
        "</Response>\n"
    )
    tree = parse_source(source_from_text(text, "answer.xml"), "sophos")
    docs = {"sophos": [tree]}
    assert run_check(catalog, "sophos.web-filter", docs).status is FindingStatus.PASS
    for check_id in ("sophos.log-forwarding", "sophos.firmware", "sophos.admin-lockout"):
        verdict = run_check(catalog, check_id, docs)
        assert verdict.status is FindingStatus.NOT_APPLICABLE, (check_id, verdict.message)


def test_the_sample_is_recognised_as_sophos(catalog: Catalog) -> None:
    tree = parse_kind(catalog, "sophos", sample("sophos", "good"))
    assert tree.get("full-export") is not None


def _rule_to_wan(web: str, action: str = "<Action>Accept</Action>") -> str:
    return (
        '<Response APIVersion="2100.1">\n'
        "  <Login><status>Authentication Successful</status></Login>\n"
        "  <FirewallRule><Name>Leerlingen naar WAN</Name><Status>Enable</Status>\n"
        f"    <NetworkPolicy>{action}<LogTraffic>Disable</LogTraffic>\n"
        "      <SourceZones><Zone>LAN</Zone></SourceZones>\n"
        "      <DestinationZones><Zone>WAN</Zone></DestinationZones>\n"
        f"      <WebFilter>{web}</WebFilter>\n"
        "    </NetworkPolicy></FirewallRule>\n"
        "</Response>\n"
    )


def test_the_built_in_allow_all_web_policy_is_no_web_filter(catalog: Catalog) -> None:
    for web in ("Allow All", "allow all", "None"):
        tree = parse_source(source_from_text(_rule_to_wan(web), "answer.xml"), "sophos")
        verdict = run_check(catalog, "sophos.web-filter", {"sophos": [tree]})
        assert verdict.status is FindingStatus.FAIL, (web, verdict.message)
        assert "Leerlingen naar WAN" in verdict.message


def test_a_rule_without_an_action_is_not_taken_for_a_drop(catalog: Catalog) -> None:
    text = _rule_to_wan("None", action="")
    tree = parse_source(source_from_text(text, "answer.xml"), "sophos")
    for check_id in ("sophos.web-filter", "sophos.traffic-logging"):
        verdict = run_check(catalog, check_id, {"sophos": [tree]})
        assert verdict.status is FindingStatus.FAIL, (check_id, verdict.message)
    dropped = _rule_to_wan("None", action="<Action>Drop</Action>")
    tree = parse_source(source_from_text(dropped, "answer.xml"), "sophos")
    assert run_check(catalog, "sophos.web-filter", {"sophos": [tree]}).status is FindingStatus.PASS

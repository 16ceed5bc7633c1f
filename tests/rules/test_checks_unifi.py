"""GRIP checks on a UniFi gateway's firewall rules (rest/firewallrule), run exactly as the
catalog defines them: the sound sample passes, the weak one fails naming its rules, and an
export without rules, or with only the rules that answer connections made from inside, gives
no pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cyberstd.catalog import Catalog
from cyberstd.kinds import detect
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams
from tests.rules.conftest import (
    assert_named,
    item_line,
    parse_json,
    parse_kind,
    run_check,
    sample,
)

KIND = "unifi-firewall-rules"
BAD: dict[str, tuple[str, ...]] = {
    # an accept from anywhere with every protocol and port; the established/related rule above
    # it answers only connections made from inside and is not counted
    "unifi.wan-accept-all": ("Alles toelaten (tijdelijk)",),
    # SSH and the admin pages of the gateway, from anywhere
    "unifi.admin-on-wan": ("Beheer van buitenaf",),
    # everything between the networks allowed, and no rule that drops anything between them
    "unifi.lan-segmentation": ("LAN naar LAN",),
    "unifi.rule-logging": ("Alles toelaten (tijdelijk)",),
}


def test_every_unifi_check_is_tested_here(catalog: Catalog) -> None:
    assert {cid for cid in catalog.checks if cid.startswith("unifi.")} == set(BAD)
    for cid in BAD:
        kinds = RuleParams.model_validate(catalog.checks[cid].params).kinds()
        assert kinds == [KIND, "unifi-firewall-policies"]


@pytest.mark.parametrize("variant", ["good", "bad"])
def test_detect_recognises_the_samples(catalog: Catalog, variant: str) -> None:
    assert detect(sample(KIND, variant), catalog.kinds) == [KIND]


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_the_sound_gateway_passes(catalog: Catalog, check_id: str) -> None:
    verdict = run_check(catalog, check_id, "good", kinds=[KIND])
    assert verdict.status is FindingStatus.PASS, verdict.message


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_the_weak_gateway_fails_naming_its_rules(catalog: Catalog, check_id: str) -> None:
    path = sample(KIND, "bad")
    verdict = run_check(catalog, check_id, "bad", kinds=[KIND])
    assert verdict.status is FindingStatus.FAIL, verdict.message
    assert_named(
        verdict, path, {name: item_line(path, f'"name": "{name}"') for name in BAD[check_id]}
    )


def _rules(*rules: dict[str, object]) -> str:
    return json.dumps({"meta": {"rc": "ok"}, "data": list(rules)}, indent=2)


def _judge(catalog: Catalog, check_id: str, text: str) -> FindingStatus:
    tree = parse_json(text, "firewallrule.json")
    return run_check(catalog, check_id, {KIND: [tree]}).status


ANY = {"enabled": True, "action": "accept", "protocol": "all", "src_address": "", "dst_port": ""}


def test_an_export_without_rules_is_not_judged(catalog: Catalog) -> None:
    for check_id in BAD:
        assert _judge(catalog, check_id, _rules()) is FindingStatus.NOT_APPLICABLE, check_id


def test_replies_to_inside_connections_are_not_an_open_door(catalog: Catalog) -> None:
    replies = {
        **ANY,
        "name": "est",
        "ruleset": "WAN_IN",
        "state_established": True,
        "state_related": True,
    }
    assert _judge(catalog, "unifi.wan-accept-all", _rules(replies)) is FindingStatus.PASS
    new = {**replies, "state_new": True}
    assert _judge(catalog, "unifi.wan-accept-all", _rules(new)) is FindingStatus.FAIL


def test_a_source_restriction_or_a_disabled_rule_is_not_from_anywhere(catalog: Catalog) -> None:
    partner = {**ANY, "name": "ssh", "ruleset": "WAN_LOCAL", "dst_port": "22"}
    assert _judge(catalog, "unifi.admin-on-wan", _rules(partner)) is FindingStatus.FAIL
    restricted = {**partner, "src_firewallgroup_ids": ["6571a0c2e4b0bb0000000002"]}
    assert _judge(catalog, "unifi.admin-on-wan", _rules(restricted)) is FindingStatus.PASS
    off = {**partner, "enabled": False}
    assert _judge(catalog, "unifi.admin-on-wan", _rules(off)) is FindingStatus.PASS
    other_port = {**partner, "dst_port": "51820", "protocol": "udp"}
    assert _judge(catalog, "unifi.admin-on-wan", _rules(other_port)) is FindingStatus.PASS


def test_drop_rules_named_for_no_network_are_not_judged(catalog: Catalog) -> None:
    drop = {"name": "VLAN 30 naar RFC1918", "ruleset": "LAN_IN", "enabled": True, "action": "drop"}
    drop |= {"src_networkconf_id": "6571a0c2e4b0aa0000000030", "dst_firewallgroup_ids": ["x1"]}
    verdict = run_check(catalog, "unifi.lan-segmentation", {KIND: [parse_json(_rules(drop))]})
    assert verdict.status is FindingStatus.NOT_APPLICABLE
    assert "not judged" in verdict.message
    named = {**drop, "name": "Leerlingen naar LAN blokkeren"}
    assert _judge(catalog, "unifi.lan-segmentation", _rules(named)) is FindingStatus.PASS
    # the name alone is not enough: a drop rule needs a source network, address or group
    unscoped = {**named, "src_networkconf_id": ""}
    assert _judge(catalog, "unifi.lan-segmentation", _rules(unscoped)) is FindingStatus.FAIL


def test_a_bare_list_of_rules_is_read_as_the_controller_answer(
    catalog: Catalog, tmp_path: Path
) -> None:
    rules = json.loads(sample(KIND, "bad").read_text())["data"]
    path = tmp_path / "firewallrule.json"
    path.write_text(json.dumps(rules), encoding="utf-8")
    tree = parse_kind(catalog, KIND, path)
    assert run_check(catalog, "unifi.wan-accept-all", {KIND: [tree]}).status is FindingStatus.FAIL


@pytest.mark.parametrize("dropped", ["enabled", "action"])
def test_a_rule_that_does_not_say_it_is_off_or_stops_traffic_is_counted(
    catalog: Catalog, dropped: str
) -> None:
    # a trimmed export (a script that kept some fields) is no evidence that a rule is harmless
    wide = {**ANY, "name": "alles", "ruleset": "WAN_IN"}
    trimmed = {k: v for k, v in wide.items() if k != dropped}
    for check_id in ("unifi.wan-accept-all", "unifi.rule-logging"):
        assert _judge(catalog, check_id, _rules(trimmed)) is FindingStatus.FAIL, check_id
    local = {**trimmed, "ruleset": "WAN_LOCAL", "dst_port": "22"}
    assert _judge(catalog, "unifi.admin-on-wan", _rules(local)) is FindingStatus.FAIL
    inside = {**trimmed, "ruleset": "LAN_IN"}
    assert _judge(catalog, "unifi.lan-segmentation", _rules(inside)) is FindingStatus.FAIL
    # said plainly, a rule that is off or drops is still not counted
    off = {**wide, "enabled": False} if dropped == "enabled" else {**wide, "action": "drop"}
    assert _judge(catalog, "unifi.wan-accept-all", _rules(off)) is FindingStatus.PASS

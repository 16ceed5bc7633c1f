"""GRIP checks on a UniFi gateway with the zone-based firewall (UniFi Network 9: zones and
policies), run exactly as the catalog defines them: the sound console passes, the weak one
fails naming its policies, and an export that cannot say which zone is the internet or the
pupils' (no zones, unknown zone ids, UniFi's built-in policies only) gives no pass."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cyberstd.catalog import Catalog
from cyberstd.kinds import detect
from cyberstd.parsers.base import ParseError
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import Verdict
from tests.rules.conftest import item_line, parse_kind, run_check, sample

KIND = "unifi-firewall-policies"
BAD: dict[str, str] = {
    # everything from the internet to the Internal zone, and without logging
    "unifi.wan-accept-all": "Alles toelaten (tijdelijk)",
    # SSH and the admin page of the gateway, from anywhere
    "unifi.admin-on-wan": "Beheer van buitenaf",
    # the pupils' zone may reach all of Internal (UniFi's own block comes after it)
    "unifi.lan-segmentation": "Leerlingen naar LAN",
    "unifi.rule-logging": "Alles toelaten (tijdelijk)",
}


def _doc(variant: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(sample(KIND, variant).read_text(encoding="utf-8"))
    return loaded


def _judge(catalog: Catalog, check_id: str, doc: object, tmp_path: Path) -> Verdict:
    path = tmp_path / "firewall-policies.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return run_check(catalog, check_id, {KIND: [parse_kind(catalog, KIND, path)]})


@pytest.mark.parametrize("variant", ["good", "bad"])
def test_detect_recognises_the_samples(catalog: Catalog, variant: str) -> None:
    assert detect(sample(KIND, variant), catalog.kinds) == [KIND]


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_the_sound_console_passes(catalog: Catalog, check_id: str) -> None:
    verdict = run_check(catalog, check_id, "good", kinds=[KIND])
    assert verdict.status is FindingStatus.PASS, verdict.message


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_the_weak_console_fails_naming_its_policy(catalog: Catalog, check_id: str) -> None:
    path = sample(KIND, "bad")
    verdict = run_check(catalog, check_id, "bad", kinds=[KIND])
    assert verdict.status is FindingStatus.FAIL, verdict.message
    name = BAD[check_id]
    failing = [
        item
        for part in verdict.evidence["all_of"]
        if part["status"] == "fail"
        for item in part["items"]
    ]
    assert [(i["label"], i["line"]) for i in failing] == [
        (name, item_line(path, f'"name": "{name}"'))
    ]
    assert name in verdict.message


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_both_firewalls_given_must_both_hold(catalog: Catalog, check_id: str) -> None:
    kinds = ["unifi-firewall-rules", KIND]
    assert run_check(catalog, check_id, "good", kinds=kinds).status is FindingStatus.PASS
    classic_good = {
        k: [parse_kind(catalog, k, sample(k, "good" if k != KIND else "bad"))] for k in kinds
    }
    assert run_check(catalog, check_id, classic_good).status is FindingStatus.FAIL


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_without_zones_or_with_unknown_zones_nothing_is_judged(
    catalog: Catalog, check_id: str, tmp_path: Path
) -> None:
    bad = _doc("bad")
    verdict = _judge(catalog, check_id, bad["policies"], tmp_path)  # the policies alone
    assert verdict.status is FindingStatus.NOT_APPLICABLE, verdict.message
    assert "no zones" in verdict.message
    foreign = copy.deepcopy(bad)
    foreign["zones"] = [z for z in foreign["zones"] if z["name"] != "Gateway"]
    verdict = _judge(catalog, check_id, foreign, tmp_path)
    assert verdict.status is FindingStatus.NOT_APPLICABLE, verdict.message
    assert "not among its zones" in verdict.message


def test_built_in_policies_alone_are_no_evidence(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc("good")
    doc["policies"] = [p for p in doc["policies"] if p["predefined"]]
    for check_id in ("unifi.wan-accept-all", "unifi.admin-on-wan", "unifi.rule-logging"):
        verdict = _judge(catalog, check_id, doc, tmp_path)
        assert verdict.status is FindingStatus.NOT_APPLICABLE, (check_id, verdict.message)


def test_a_pupils_zone_is_told_by_its_name_and_needs_networks(
    catalog: Catalog, tmp_path: Path
) -> None:
    doc = _doc("good")
    check = "unifi.lan-segmentation"
    assert _judge(catalog, check, doc, tmp_path).status is FindingStatus.PASS
    # the same zone under a name that says nothing, and a Hotspot zone without networks
    renamed = copy.deepcopy(doc)
    for zone in renamed["zones"]:
        if zone["name"] == "Leerlingen":
            zone["name"] = "VLAN30"
        if zone.get("zone_key") == "hotspot":
            zone["network_ids"] = []
    verdict = _judge(catalog, check, renamed, tmp_path)
    assert verdict.status is FindingStatus.NOT_APPLICABLE, verdict.message
    assert "named for pupils or guests" in verdict.message
    # without UniFi's built-in policies the default between the zones cannot be seen
    own = copy.deepcopy(doc)
    own["policies"] = [
        p for p in own["policies"] if not p["predefined"] and "blokkeren" not in p["name"]
    ]
    verdict = _judge(catalog, check, own, tmp_path)
    assert verdict.status is FindingStatus.NOT_APPLICABLE, verdict.message
    assert "built-in policies" in verdict.message


def test_replies_and_restricted_policies_are_not_an_open_door(
    catalog: Catalog, tmp_path: Path
) -> None:
    doc = _doc("bad")
    door = next(p for p in doc["policies"] if p["name"] == "Alles toelaten (tijdelijk)")
    door["connection_state_type"] = "RESPOND_ONLY"
    assert _judge(catalog, "unifi.wan-accept-all", doc, tmp_path).status is FindingStatus.PASS
    door["connection_state_type"] = "ALL"
    door["source"] |= {"matching_target": "IP", "ips": ["198.51.100.7"]}
    assert _judge(catalog, "unifi.wan-accept-all", doc, tmp_path).status is FindingStatus.PASS
    admin = next(p for p in doc["policies"] if p["name"] == "Beheer van buitenaf")
    admin["destination"]["port"] = "51820"
    assert _judge(catalog, "unifi.admin-on-wan", doc, tmp_path).status is FindingStatus.PASS
    admin["destination"] |= {"port_matching_type": "ANY", "port": ""}
    assert _judge(catalog, "unifi.admin-on-wan", doc, tmp_path).status is FindingStatus.FAIL


def test_the_network_api_shape_is_read_alike(catalog: Catalog, tmp_path: Path) -> None:
    """The official Network API names the same things otherwise: firewallZoneId, action.type,
    loggingEnabled, metadata.origin, trafficFilter, and pages under data."""
    zones = [
        {"id": "0b1d6a52-0000-4000-8000-000000000001", "name": "Internal", "networkIds": [],
         "metadata": {"origin": "SYSTEM_DEFINED"}},
        {"id": "0b1d6a52-0000-4000-8000-000000000002", "name": "External", "networkIds": [],
         "metadata": {"origin": "SYSTEM_DEFINED"}},
    ]  # fmt: skip
    open_door = {
        "id": "0b1d6a52-0000-4000-8000-0000000000a1", "enabled": True, "name": "Open", "index": 1,
        "action": {"type": "ALLOW"}, "loggingEnabled": False,
        "source": {"firewallZoneId": zones[1]["id"]},
        "destination": {"firewallZoneId": zones[0]["id"]},
        "ipProtocolScope": {"ipVersion": "IPV4_AND_IPV6"}, "metadata": {"origin": "USER_DEFINED"},
    }  # fmt: skip
    page = {"offset": 0, "limit": 25, "count": 1, "totalCount": 1, "data": [open_door]}
    doc = {"zones": {"offset": 0, "limit": 25, "count": 2, "totalCount": 2, "data": zones}}
    doc["policies"] = page
    assert _judge(catalog, "unifi.wan-accept-all", doc, tmp_path).status is FindingStatus.FAIL
    open_door["destination"]["trafficFilter"] = {"type": "IP_ADDRESS"}
    assert _judge(catalog, "unifi.wan-accept-all", doc, tmp_path).status is FindingStatus.PASS
    page["totalCount"] = 60
    with pytest.raises(ParseError, match="one page of several"):
        _judge(catalog, "unifi.wan-accept-all", doc, tmp_path)

"""GRIP checks on Cisco Meraki's Dashboard API exports (organisation administrators, the MX's
outbound L3 firewall rules, the wireless SSIDs), run exactly as the catalog defines them; the
pre-shared keys and RADIUS secrets in the SSID list never reach a verdict."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cyberstd.catalog import Catalog
from cyberstd.kinds import detect
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams
from tests.rules.conftest import (
    assert_no_secret,
    item_line,
    labelled,
    parse_json,
    run_check,
    sample,
)

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE
KINDS = ("meraki-admins", "meraki-l3-firewall", "meraki-ssids")
# What each check names on the weak samples (label -> the key line of its object).
BAD: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # two full administrators and a trainee with full rights on a tag, without 2FA; the
    # partner's SecureX sign-on is the second, undecided part
    "meraki.admin-2fa": (
        "meraki-admins",
        '"email"',
        ("jan.peeters@sintjozef.test", "support@oudepartner.test", "stagiair@sintjozef.test"),
    ),
    "meraki.admin-count": (
        "meraki-admins",
        '"email"',
        (
            "els.claes@sintjozef.test",
            "jan.peeters@sintjozef.test",
            "noc@netpartner.test",
            "support@oudepartner.test",
            "directie@sintjozef.test",
            "secretariaat@sintjozef.test",
        ),
    ),
    # the pupils' VLAN may reach the staff's on every protocol
    "meraki.inter-vlan-any": ("meraki-l3-firewall", '"comment"', ("Leerlingen naar personeel",)),
    "meraki.firewall-syslog": (
        "meraki-l3-firewall",
        '"comment"',
        ("Leerlingen naar personeel", "Default rule"),
    ),
    # the teachers' room is open; the WEP library is named for no one (undecided part)
    "meraki.no-open-staff-ssid": ("meraki-ssids", '"name"', ("Leraarskamer",)),
    "meraki.staff-enterprise": ("meraki-ssids", '"name"', ("SintJozef-Personeel", "Leraarskamer")),
    "meraki.no-wpa1-wep": ("meraki-ssids", '"name"', ("SintJozef-Personeel", "Bibliotheek")),
    "meraki.guest-isolation": ("meraki-ssids", '"name"', ("SintJozef-Gasten",)),
}

UNDECIDED: dict[str, tuple[str, ...]] = {
    "meraki.admin-2fa": ("noc@netpartner.test",),
    "meraki.no-open-staff-ssid": ("Bibliotheek",),
    "meraki.staff-enterprise": ("Bibliotheek",),
}


def _check_of(catalog: Catalog, check_id: str) -> RuleParams:
    return RuleParams.model_validate(catalog.checks[check_id].params)


def test_every_meraki_check_is_tested_here(catalog: Catalog) -> None:
    ours = {cid for cid in catalog.checks if cid.startswith("meraki.")}
    assert ours == set(BAD) | {"meraki.break-glass"}
    for cid in ours:
        assert all(k in KINDS for k in _check_of(catalog, cid).kinds())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("variant", ["good", "bad"])
def test_detect_recognises_the_samples(catalog: Catalog, kind: str, variant: str) -> None:
    assert detect(sample(kind, variant), catalog.kinds) == [kind]


@pytest.mark.parametrize("check_id", [*sorted(BAD), "meraki.break-glass"])
def test_good_samples_pass(catalog: Catalog, check_id: str) -> None:
    verdict = run_check(catalog, check_id, "good")
    assert verdict.status is P, verdict.message


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_weak_samples_fail_naming_the_offenders(catalog: Catalog, check_id: str) -> None:
    kind, key, names = BAD[check_id]
    path = sample(kind, "bad")
    verdict = run_check(catalog, check_id, "bad")
    assert verdict.status is F, verdict.message
    offenders = {n: item_line(path, f'{key}: "{n}"') for n in names}
    # the undecided parts list their items in the evidence too: the partner's SecureX sign-on,
    # the WEP library that is named for no one
    undecided = UNDECIDED.get(check_id, ())
    found = labelled(verdict.evidence)
    assert set(found) == set(offenders) | set(undecided)
    for label, line in offenders.items():
        assert found[label]["file"] == path.name
        assert found[label]["line"] == line, label
        assert label in verdict.message
    assert_no_secret(verdict.message, json.dumps(verdict.evidence))


def _tree(data: Any, name: str) -> Any:
    return parse_json(json.dumps(data, indent=2), name)


def _load(kind: str, variant: str) -> Any:
    return json.loads(sample(kind, variant).read_text(encoding="utf-8"))


def _judge(catalog: Catalog, check_id: str, kind: str, data: Any) -> Any:
    from cyberstd.kinds import normalise

    tree = normalise(catalog.kinds[kind], _tree(data, sample(kind, "good").name))
    return run_check(catalog, check_id, {kind: [tree]})


@pytest.mark.parametrize("check_id", [*sorted(BAD), "meraki.break-glass"])
def test_an_empty_list_is_not_judged(catalog: Catalog, check_id: str) -> None:
    kind = _check_of(catalog, check_id).kind
    empty: Any = {"rules": []} if kind == "meraki-l3-firewall" else []
    verdict = _judge(catalog, check_id, kind, empty)
    assert verdict.status is NA, verdict.message


def test_only_unconfigured_ssids_are_not_judged(catalog: Catalog) -> None:
    slots = [s for s in _load("meraki-ssids", "good") if s["name"].startswith("Unconfigured")]
    for check_id in ("meraki.no-wpa1-wep", "meraki.no-open-staff-ssid", "meraki.staff-enterprise"):
        verdict = _judge(catalog, check_id, "meraki-ssids", slots)
        assert verdict.status is NA, (check_id, verdict.message)
    verdict = _judge(catalog, "meraki.guest-isolation", "meraki-ssids", slots)
    assert verdict.status is NA and "guest networks" in verdict.message


def test_admins_without_two_factor_field_are_not_judged_on_2fa(catalog: Catalog) -> None:
    # the v0-era list: id, name, email, orgAccess, networks, tags and nothing else
    old = [
        {k: a[k] for k in ("id", "name", "email", "orgAccess", "networks", "tags")}
        for a in _load("meraki-admins", "bad")
    ]
    verdict = _judge(catalog, "meraki.admin-2fa", "meraki-admins", old)
    assert verdict.status is NA and "twoFactorAuthEnabled" in verdict.message
    # the number of full administrators is still evidence
    assert _judge(catalog, "meraki.admin-count", "meraki-admins", old).status is F


def test_one_full_administrator_is_no_break_glass(catalog: Catalog) -> None:
    admins = [a for a in _load("meraki-admins", "good") if a["name"] != "Noodaccount ICT"]
    verdict = _judge(catalog, "meraki.break-glass", "meraki-admins", admins)
    assert verdict.status is F and "els.claes@sintjozef.test" in verdict.message
    # an administrator list with no full administrator is not the whole list
    readonly = [a for a in admins if a["orgAccess"] != "full"]
    assert _judge(catalog, "meraki.break-glass", "meraki-admins", readonly).status is NA
    assert _judge(catalog, "meraki.admin-count", "meraki-admins", readonly).status is NA


def test_a_securex_administrator_without_meraki_2fa_is_undecided(catalog: Catalog) -> None:
    admins = _load("meraki-admins", "good")
    admins[1].update(authenticationMethod="Cisco SecureX Sign-On", twoFactorAuthEnabled=False)
    verdict = _judge(catalog, "meraki.admin-2fa", "meraki-admins", admins)
    assert verdict.status is NA and "nood-ict@sintjozef.test" in verdict.message


def test_only_the_default_rule_leaves_segmentation_undecided(catalog: Catalog) -> None:
    default = _load("meraki-l3-firewall", "good")["rules"][-1]
    verdict = _judge(catalog, "meraki.inter-vlan-any", "meraki-l3-firewall", {"rules": [default]})
    assert verdict.status is NA and "Default rule" in verdict.message


def test_a_deny_for_the_guests_alone_is_no_segmentation(catalog: Catalog) -> None:
    rules = _load("meraki-l3-firewall", "bad")["rules"][1:]  # guests denied, Default rule
    verdict = _judge(catalog, "meraki.inter-vlan-any", "meraki-l3-firewall", {"rules": rules})
    assert verdict.status is NA, verdict.message


def test_an_extra_allow_all_rule_is_undecided(catalog: Catalog) -> None:
    rules = _load("meraki-l3-firewall", "good")["rules"]
    extra = dict(rules[-1], comment="Alles toelaten", syslogEnabled=True)
    verdict = _judge(
        catalog, "meraki.inter-vlan-any", "meraki-l3-firewall", {"rules": [extra, *rules]}
    )
    assert verdict.status is NA and "Alles toelaten" in verdict.message


def test_the_inbound_rules_are_not_taken_for_the_outbound_ones(catalog: Catalog) -> None:
    inbound = {
        "rules": [
            {
                "comment": "Webserver",
                "policy": "allow",
                "protocol": "tcp",
                "srcPort": "Any",
                "srcCidr": "Any",
                "destPort": "443",
                "destCidr": "10.20.50.10/32",
                "syslogEnabled": True,
            },
            {
                "comment": "Default rule",
                "policy": "deny",
                "protocol": "Any",
                "srcPort": "Any",
                "srcCidr": "Any",
                "destPort": "Any",
                "destCidr": "Any",
                "syslogEnabled": False,
            },
        ],
        "syslogDefaultRule": False,
    }
    for check_id in ("meraki.inter-vlan-any", "meraki.firewall-syslog"):
        verdict = _judge(catalog, check_id, "meraki-l3-firewall", inbound)
        assert verdict.status is NA and "inbound" in verdict.message, check_id


def test_rules_without_syslog_field_are_not_judged_on_logging(catalog: Catalog) -> None:
    rules = [
        {k: v for k, v in r.items() if k != "syslogEnabled"}
        for r in _load("meraki-l3-firewall", "bad")["rules"]
    ]
    verdict = _judge(catalog, "meraki.firewall-syslog", "meraki-l3-firewall", {"rules": rules})
    assert verdict.status is NA and "syslogEnabled" in verdict.message


def test_nat_mode_isolates_the_guests_and_bridge_mode_needs_lan_isolation(
    catalog: Catalog,
) -> None:
    ssids = _load("meraki-ssids", "bad")
    guest = next(s for s in ssids if s["name"] == "SintJozef-Gasten")
    guest["lanIsolationEnabled"] = True
    assert _judge(catalog, "meraki.guest-isolation", "meraki-ssids", ssids).status is P
    guest.update(lanIsolationEnabled=False, ipAssignmentMode="NAT mode")
    assert _judge(catalog, "meraki.guest-isolation", "meraki-ssids", ssids).status is P


def test_the_secrets_are_redacted(catalog: Catalog) -> None:
    from tests.rules.conftest import parse_kind

    for variant in ("good", "bad"):
        tree = parse_kind(catalog, "meraki-ssids", sample("meraki-ssids", variant))
        assert_no_secret(repr(tree.plain()))
        assert "NAT mode" in repr(tree.plain())


def test_rules_that_do_not_say_their_policy_are_no_evidence_of_logging(catalog: Catalog) -> None:
    rules = [
        {k: v for k, v in r.items() if k != "policy"}
        for r in _load("meraki-l3-firewall", "bad")["rules"]
    ]
    verdict = _judge(catalog, "meraki.firewall-syslog", "meraki-l3-firewall", {"rules": rules})
    assert verdict.status is not P, verdict.message


def test_an_ssid_without_its_wpa_version_is_no_evidence_of_wpa2(catalog: Catalog) -> None:
    ssids = _load("meraki-ssids", "good")
    for ssid in ssids:
        ssid.pop("wpaEncryptionMode", None)
    verdict = _judge(catalog, "meraki.no-wpa1-wep", "meraki-ssids", ssids)
    assert verdict.status is NA and "wpaEncryptionMode" in verdict.message


def test_an_ssid_without_its_auth_mode_is_no_evidence_of_a_key(catalog: Catalog) -> None:
    ssids = _load("meraki-ssids", "good")
    for ssid in ssids:
        ssid.pop("authMode", None)
    verdict = _judge(catalog, "meraki.no-open-staff-ssid", "meraki-ssids", ssids)
    assert verdict.status is NA and "SintJozef-Personeel" in verdict.message
    assert "authMode" in verdict.message

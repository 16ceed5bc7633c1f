"""Configurations that look right at a glance but are weak: the GRIP checks must not pass them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import source_from_text
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, Verdict, evaluate
from tests.conftest import REPO

TODAY = dt.date(2026, 11, 29)
CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    found, problems = load_catalog(REPO)
    assert problems == []
    return found


def judge(catalog: Catalog, check_id: str, kind: str, fmt: str, text: str) -> Verdict:
    params = RuleParams.model_validate(catalog.checks[check_id].params)
    tree = parse_source(source_from_text(text, "export"), fmt)
    return evaluate(params, {kind: [tree]}, TODAY)


def policy(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "displayName": "MFA voor iedereen",
        "state": "enabled",
        "conditions": {
            "clientAppTypes": ["all"],
            "applications": {"includeApplications": ["All"]},
            "users": {"includeUsers": ["All"], "excludeUsers": ["breakglass"]},
            "locations": None,
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    }
    base.update(over)
    return base


def ca(*policies: dict[str, object]) -> str:
    return json.dumps({"@odata.context": CONTEXT, "value": list(policies)})


def test_a_plain_mfa_policy_passes(catalog: Catalog) -> None:
    v = judge(catalog, "entra.mfa-all-users", "entra-conditional-access", "json", ca(policy()))
    assert v.status is FindingStatus.PASS, v.message


@pytest.mark.parametrize(
    "weak",
    [
        # MFA or a compliant device: a stolen password on a compliant laptop is enough
        {"grantControls": {"operator": "OR", "builtInControls": ["mfa", "compliantDevice"]}},
        # only browsers: desktop and mobile apps sign in without MFA
        {"conditions": {**policy()["conditions"], "clientAppTypes": ["browser"]}},  # type: ignore[dict-item]
        # only from one named location
        {"conditions": {**policy()["conditions"], "locations": {"includeLocations": ["0b5b1b2c"]}}},  # type: ignore[dict-item]
        # report-only
        {"state": "enabledForReportingButNotEnforced"},
    ],
)
def test_weakened_mfa_policies_do_not_count(catalog: Catalog, weak: dict[str, object]) -> None:
    v = judge(
        catalog, "entra.mfa-all-users", "entra-conditional-access", "json", ca(policy(**weak))
    )
    assert v.status is FindingStatus.FAIL, v.message


def test_mfa_and_compliant_device_together_counts(catalog: Catalog) -> None:
    strict = policy(
        grantControls={"operator": "AND", "builtInControls": ["mfa", "compliantDevice"]}
    )
    v = judge(catalog, "entra.mfa-all-users", "entra-conditional-access", "json", ca(strict))
    assert v.status is FindingStatus.PASS, v.message


def test_legacy_block_for_one_location_does_not_count(catalog: Catalog) -> None:
    block = policy(
        displayName="Legacy blokkeren (pilot)",
        grantControls={"operator": "OR", "builtInControls": ["block"]},
    )
    block["conditions"] = {
        **policy()["conditions"],  # type: ignore[dict-item]
        "clientAppTypes": ["exchangeActiveSync", "other"],
    }
    v = judge(catalog, "entra.legacy-auth-blocked", "entra-conditional-access", "json", ca(block))
    assert v.status is FindingStatus.PASS, v.message
    block["conditions"]["locations"] = {"includeLocations": ["0b5b1b2c"]}  # type: ignore[index]
    v = judge(catalog, "entra.legacy-auth-blocked", "entra-conditional-access", "json", ca(block))
    assert v.status is FindingStatus.FAIL


def test_stale_accounts_without_sign_in_data_are_not_judged(catalog: Catalog) -> None:
    users = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
        "value": [
            {
                "userPrincipalName": "a@s.test",
                "accountEnabled": True,
                "createdDateTime": "2020-09-01T00:00:00Z",
            },
            {
                "userPrincipalName": "b@s.test",
                "accountEnabled": True,
                "createdDateTime": "2021-09-01T00:00:00Z",
            },
        ],
    }
    v = judge(catalog, "entra.stale-accounts", "entra-users", "json", json.dumps(users))
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert "needs Microsoft Entra ID P1 or P2" in v.message


FORTIGATE = """#config-version=FGT60F-7.4.4-FW-build2662-240514:opmode=0:vdom=0:user=admin
config system interface
    edit "port1"
        set ip 203.0.113.2 255.255.255.248
        set allowaccess ping
        set role wan
    next
    edit "port2"
        set ip 10.0.0.1 255.255.255.0
        set role lan
    next
end
config firewall policy
    edit 7
        set name "alles-binnen"
        set srcintf "port1"
        set dstintf "port2"
        set action accept
        set srcaddr "all"
        set dstaddr "all"
        set service "ALL"
    next
end
"""


def test_inbound_allow_all_from_an_outside_interface_not_named_wan(catalog: Catalog) -> None:
    v = judge(catalog, "fortigate.accept-all-inbound", "fortigate", "fortigate", FORTIGATE)
    assert v.status is FindingStatus.FAIL
    assert "alles-binnen" in v.message
    v = judge(catalog, "fortigate.inter-zone-any", "fortigate", "fortigate", FORTIGATE)
    assert v.status is FindingStatus.PASS  # inbound, not between internal zones


PFSENSE = """<?xml version="1.0"?>
<pfsense>
  <system><webgui><protocol>https</protocol><port>10443</port></webgui></system>
  <filter>
    <rule><type>pass</type><interface>wan,lan</interface><floating>yes</floating>
      <source><any/></source><destination><any/></destination><descr>alles</descr></rule>
    <rule><type>pass</type><interface>wan</interface>
      <source><any/></source><destination><network>wanip</network><port>10443</port></destination>
      <descr>beheer van thuis</descr></rule>
  </filter>
</pfsense>
"""


@pytest.mark.parametrize(
    ("check_id", "label"),
    [("pfsense.wan-pass-any", "alles"), ("pfsense.webgui-on-wan", "beheer van thuis")],
)
def test_pfsense_floating_rules_and_gui_ports(catalog: Catalog, check_id: str, label: str) -> None:
    v = judge(catalog, check_id, "pfsense", "pfsense", PFSENSE)
    assert v.status is FindingStatus.FAIL
    assert label in v.message


def test_ssh_keyboard_interactive_is_a_password_too(catalog: Catalog) -> None:
    text = "PasswordAuthentication no\nUsePAM yes\n"
    v = judge(catalog, "ssh.password-auth", "sshd_config", "sshd_config", text)
    assert v.status is FindingStatus.FAIL
    assert "KbdInteractiveAuthentication" in v.message
    v = judge(
        catalog,
        "ssh.password-auth",
        "sshd_config",
        "sshd_config",
        text + "ChallengeResponseAuthentication no\n",
    )
    assert v.status is FindingStatus.PASS, v.message


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("AuthenticationMethods publickey\nPermitRootLogin no\n", FindingStatus.PASS),
        ("AuthenticationMethods publickey,keyboard-interactive\n", FindingStatus.PASS),
        ("AuthenticationMethods publickey password\n", FindingStatus.FAIL),
        # sshd skips a list that names a method switched off (auth2.c): no way in at all
        (
            "AuthenticationMethods password\nPasswordAuthentication no\n",
            FindingStatus.NOT_APPLICABLE,
        ),
        ("PasswordAuthentication no\nKbdInteractiveAuthentication no\n", FindingStatus.PASS),
    ],
    ids=["keys only", "key and a second factor", "key or password", "password off", "both no"],
)
def test_ssh_keys_only_through_authentication_methods(
    catalog: Catalog, text: str, status: FindingStatus
) -> None:
    """AuthenticationMethods publickey: sshd accepts no login without a key, so the password
    settings do not matter (a false fail before)."""
    v = judge(catalog, "ssh.password-auth", "sshd_config", "sshd_config", text)
    assert v.status is status, v.message

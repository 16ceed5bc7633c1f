"""Active Directory checks (Get-ADUser as CSV or JSON, Get-ADDefaultDomainPasswordPolicy)
run exactly as the catalog defines them, on realistic exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cyberstd.catalog import Catalog
from cyberstd.kinds import detect, missing_parts, normalise
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import Node, ParseError, source_from_text
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams
from tests.rules.conftest import SCHOOL_FACTS, labelled, parse_kind, run_check, sample

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE
USER_CHECKS = ("ad.stale-accounts", "ad.password-never-expires", "ad.domain-admin-count")
POLICY_CHECKS = (
    "ad.password-length",
    "ad.password-complexity",
    "ad.account-lockout",
    "ad.reversible-encryption",
)
DA = "CN=Domain Admins,CN=Users,DC=ks,DC=test"


def ad_checks(catalog: Catalog) -> set[str]:
    return {
        cid
        for cid, c in catalog.checks.items()
        if c.probe == "config.rule"
        and any(k.startswith("ad-") for k in RuleParams.model_validate(c.params).kinds())
    }


def test_every_ad_check_is_tested_here(catalog: Catalog) -> None:
    assert ad_checks(catalog) == {*USER_CHECKS, *POLICY_CHECKS}


@pytest.mark.parametrize("check", [*USER_CHECKS, *POLICY_CHECKS])
def test_sound_domain_passes_weak_domain_fails(catalog: Catalog, check: str) -> None:
    assert run_check(catalog, check, "good", facts=SCHOOL_FACTS).status is P
    assert run_check(catalog, check, "bad", facts=SCHOOL_FACTS).status is F


def test_stale_accounts_are_named_with_their_last_logon(catalog: Catalog) -> None:
    v = run_check(catalog, "ad.stale-accounts", "bad")
    # en-US dates in a file with a #TYPE line: a logon in June, one in February 2025,
    # one in July, and a trainee created in September who never signed on
    assert set(labelled(v.evidence)) == {
        "Administrator",
        "oud.directeur",
        "ex.leerkracht",
        "stagiair.2026",
    }
    assert "lags up to 14 days" in v.message
    assert "LastLogonDate loopt tot 14 dagen achter" in v.message_nl
    good = run_check(catalog, "ad.stale-accounts", "good")
    # the pupil created a week ago who never signed on is not counted, nor a disabled account
    assert good.status is P and "0 of 8 enabled accounts" in good.message


def test_password_never_expires_names_undeclared_service_accounts(catalog: Catalog) -> None:
    undeclared = run_check(catalog, "ad.password-never-expires", "good")
    assert undeclared.status is F and "svc-scan ('12/01/2024 11:15:00')" in undeclared.message
    declared = run_check(catalog, "ad.password-never-expires", "good", facts=SCHOOL_FACTS)
    assert declared.status is P
    bad = run_check(catalog, "ad.password-never-expires", "bad", facts=SCHOOL_FACTS)
    assert set(labelled(bad.evidence)) == {"Administrator", "ict.extern", "svc-backup"}


def _users(catalog: Catalog, text: str, name: str = "ad-users.json") -> Node:
    kind = catalog.kinds["ad-users"]
    tree = normalise(kind, parse_source(source_from_text(text, name), kind.format))
    assert missing_parts(kind, tree) == []
    return tree


def _user(sam: str, admin: int | None = None, groups: list[str] | None = None) -> dict[str, object]:
    return {
        "SamAccountName": sam,
        "Enabled": True,
        "LastLogonDate": "/Date(1795507200000)/",  # 2026-11-24
        "whenCreated": "/Date(1598918400000)/",  # 2020-09-01
        "PasswordNeverExpires": False,
        "AdminCount": admin,
        "MemberOf": groups or [],
    }


def test_domain_admins_past_four_fail_whatever_admincount_says(catalog: Catalog) -> None:
    users = [_user(f"adm{i}", 1, [DA]) for i in range(5)]
    v = run_check(
        catalog, "ad.domain-admin-count", {"ad-users": [_users(catalog, json.dumps(users))]}
    )
    assert v.status is F and "5 enabled direct members of Domain Admins" in v.message


def test_more_protected_accounts_than_four_is_not_decided(catalog: Catalog) -> None:
    # two direct Domain Admins, three more with AdminCount 1 (Backup Operators, a former
    # admin, a member through a nested group): the export cannot say which
    users = [_user("adm1", 1, [DA]), _user("adm2", 1, [DA])]
    users += [
        _user(f"op{i}", 1, ["CN=Backup Operators,CN=Builtin,DC=ks,DC=test"]) for i in range(3)
    ]
    v = run_check(
        catalog, "ad.domain-admin-count", {"ad-users": [_users(catalog, json.dumps(users))]}
    )
    assert v.status is NA and "Get-ADGroupMember 'Domain Admins' -Recursive" in v.message


def test_member_of_as_a_type_name_leaves_admincount_to_decide(catalog: Catalog) -> None:
    head = '"SamAccountName","Enabled","AdminCount","MemberOf"\r\n'
    rows = [
        f'"adm{i}","True","1","Microsoft.ActiveDirectory.Management.ADPropertyValueCollection"'
        for i in range(3)
    ]
    tree = _users(catalog, head + "\r\n".join(rows) + "\r\n", "ad-users.csv")
    v = run_check(catalog, "ad.domain-admin-count", {"ad-users": [tree]})
    assert v.status is P and "3 enabled accounts with AdminCount 1" in v.message
    rows = [r.replace('"1"', '""') for r in rows]  # no AdminCount at all: no evidence
    tree = _users(catalog, head + "\r\n".join(rows) + "\r\n", "ad-users.csv")
    v = run_check(catalog, "ad.domain-admin-count", {"ad-users": [tree]})
    assert v.status is NA and "incomplete or lacks AdminCount" in v.message


def test_powershell_51_json_with_one_user_alone(catalog: Catalog) -> None:
    # ConvertTo-Json writes one user as an object, and its dates as \/Date(ms)\/
    one = json.dumps(_user("oud.leerkracht") | {"LastLogonDate": "\\/Date(1754000000000)\\/"})
    tree = _users(catalog, one.replace("\\\\/", "\\/"))
    v = run_check(catalog, "ad.stale-accounts", {"ad-users": [tree]})
    assert v.status is F and "oud.leerkracht" in v.message


@pytest.mark.parametrize(
    ("duration", "status"),
    [
        ({"Ticks": 9000000000, "TotalMinutes": 15.0}, P),
        ({"Ticks": 6000000000, "TotalMinutes": 10.0}, F),
        # a trimmed TimeSpan: the ticks alone say the duration (10,000,000 a second)
        ({"Ticks": 6000000000}, F),
        ({"Ticks": 18000000000}, P),
        ({"Days": 0}, F),  # nothing that says how long
        ("00:15:00", P),
        ("01:00:00", P),
        ("1.00:00:00", P),
        ("00:14:59", F),
        ("00:00:00", F),
        (None, F),
    ],
)
def test_lockout_duration_as_timespan_object_or_text(
    catalog: Catalog, duration: object, status: FindingStatus
) -> None:
    policy = {
        "DistinguishedName": "DC=ks,DC=test",
        "MinPasswordLength": 12,
        "ComplexityEnabled": True,
        "LockoutThreshold": 5,
        "LockoutDuration": duration,
    }
    kind = catalog.kinds["ad-password-policy"]
    tree = normalise(kind, parse_source(source_from_text(json.dumps(policy), "p.json"), "json"))
    assert run_check(catalog, "ad.account-lockout", {"ad-password-policy": [tree]}).status is status


def test_fine_grained_policies_alone_are_not_judged(catalog: Catalog) -> None:
    fgpp = {"Name": "PSO", "DistinguishedName": "CN=PSO,CN=Password Settings Container,CN=System,DC=ks,DC=test",
            "MinPasswordLength": 16, "ComplexityEnabled": True, "ReversibleEncryptionEnabled": False}  # fmt: skip
    kind = catalog.kinds["ad-password-policy"]
    tree = normalise(kind, parse_source(source_from_text(json.dumps([fgpp]), "p.json"), "json"))
    for check in POLICY_CHECKS:
        v = run_check(catalog, check, {"ad-password-policy": [tree]})
        assert v.status is NA and "default password policy" in v.message, check


def test_a_weak_fine_grained_policy_fails_beside_a_sound_default(catalog: Catalog) -> None:
    tree = parse_kind(catalog, "ad-password-policy", sample("ad-password-policy", "good"))
    weak = json.loads(json.dumps(tree.plain()["policies"][1]))
    weak["MinPasswordLength"] = 8
    both = [tree.plain()["policies"][0], weak]
    kind = catalog.kinds["ad-password-policy"]
    doc = normalise(kind, parse_source(source_from_text(json.dumps(both), "p.json"), "json"))
    v = run_check(catalog, "ad.password-length", {"ad-password-policy": [doc]})
    assert v.status is F and "PSO-Beheerders" in v.message and "('8')" in v.message


def test_the_samples_are_recognised(catalog: Catalog, tmp_path: Path) -> None:
    for kind in ("ad-users", "ad-password-policy"):
        for variant in ("good", "bad"):
            path = sample(kind, variant)
            renamed = tmp_path / f"export-{variant}{path.suffix}"
            renamed.write_bytes(path.read_bytes())
            assert detect(renamed, catalog.kinds) == [kind], (kind, variant)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n", "no header"),
        ("[]", "holds no objects"),
        ("[1, 2]", "list of objects"),
        ('[{"SamAccountName": "a"}', "truncated"),
    ],
)
def test_broken_table_exports_are_refused(text: str, said: str) -> None:
    with pytest.raises(ParseError, match=said):
        parse_source(source_from_text(text, "ad-users.csv"), "table")


def test_an_export_without_enabled_is_refused_saying_what_to_give(catalog: Catalog) -> None:
    kind = catalog.kinds["ad-users"]
    tree = normalise(
        kind, parse_source(source_from_text('[{"SamAccountName": "a"}]', "u.json"), "table")
    )
    assert "enabled" in " ".join(m.render("en") for m in missing_parts(kind, tree))

"""Identity checks that need what only the school knows: which Entra ID groups hold its staff or
its pupils, its domains, the domains and organisational units of its pupils (school.yaml's
`domains` and `identity`). With the facts declared they are judged; without them a verdict that
would depend on them is "not judged", naming what to declare, never a pass and never a fail.

Policies follow Microsoft Graph's conditionalAccessPolicy and conditionalAccessUsers resources
(https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy,
https://learn.microsoft.com/graph/api/resources/conditionalaccessusers): `includeGroups` and
`excludeGroups` hold group object ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cyberstd.catalog import Catalog
from cyberstd.clock import Clock
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.probes import probes
from cyberstd.registry import ProbeContext, Target, TargetKind
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import Verdict
from cyberstd.schema import SchoolFile
from tests.rules.conftest import (
    PUPIL_GROUP,
    SCHOOL_FACTS,
    STAFF_GROUP,
    TODAY,
    assert_named,
    item_line,
    labelled,
    parse_json,
    run_check,
    sample,
)

CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies"
OTHER_GROUP = "4d2f6b8a-0c1e-4f3a-9b5d-7e9a1c3e5f70"  # a group school.yaml says nothing about
STRENGTH = "00000000-0000-0000-0000-000000000002"  # the built-in "Multifactor authentication"
NO_FACTS: dict[str, list[str] | None] = {}


def policy(name: str = "CA100 - MFA voor het personeel", **users: Any) -> dict[str, Any]:
    """An enabled policy requiring MFA for all cloud apps; `users` sets its users condition."""
    return {
        "id": "6f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0",
        "templateId": None,
        "displayName": name,
        "createdDateTime": "2025-08-20T09:12:44.1234567Z",
        "modifiedDateTime": None,
        "state": "enabled",
        "sessionControls": None,
        "conditions": {
            "userRiskLevels": [],
            "signInRiskLevels": [],
            "clientAppTypes": ["all"],
            "platforms": None,
            "locations": None,
            "applications": {
                "includeApplications": ["All"],
                "excludeApplications": [],
                "includeUserActions": [],
            },
            "users": {
                "includeUsers": [],
                "excludeUsers": ["d41f0e6a-8b2c-4f3d-a5e7-19c0b8a7f6e2"],  # emergency access
                "includeGroups": [],
                "excludeGroups": [],
                "includeRoles": [],
                "excludeRoles": [],
                "includeGuestsOrExternalUsers": None,
                "excludeGuestsOrExternalUsers": None,
                **users,
            },
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": ["mfa"],
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength": None,
        },
    }


def ca_docs(*policies: dict[str, Any]) -> dict[str, list[Any]]:
    text = json.dumps({"@odata.context": CONTEXT, "value": list(policies)}, indent=2)
    return {"entra-conditional-access": [parse_json(text, "conditional-access.json")]}


def facts(**over: list[str] | None) -> dict[str, list[str] | None]:
    return {**SCHOOL_FACTS, **{k.replace("__", "."): v for k, v in over.items()}}


def mfa_staff(
    catalog: Catalog, docs: dict[str, list[Any]], known: dict[str, list[str] | None]
) -> Verdict:
    return run_check(catalog, "entra.mfa-all-users", docs, facts=known)


# --- MFA for the staff: a policy for the staff's groups -----------------------------------------


def test_a_policy_for_the_declared_staff_group_passes(catalog: Catalog) -> None:
    v = mfa_staff(catalog, ca_docs(policy(includeGroups=[STAFF_GROUP])), SCHOOL_FACTS)
    assert v.status is FindingStatus.PASS, v.message
    assert v.message.endswith("(at least 1 expected): CA100 - MFA voor het personeel")
    assert "identity.staff_groups" in v.message


def test_a_policy_for_groups_is_not_judged_without_the_declaration(catalog: Catalog) -> None:
    docs = ca_docs(policy(includeGroups=[STAFF_GROUP]))
    v = mfa_staff(catalog, docs, NO_FACTS)
    assert v.status is FindingStatus.NOT_APPLICABLE, v.message
    assert v.undecided == ("identity.staff_groups",)
    assert v.evidence["undeclared"] == ["identity.staff_groups"]
    assert v.message.startswith(
        "enabled conditional access policies requiring MFA for every staff group "
        "(identity.staff_groups) and all apps, excluding no locations, roles, guests, "
        "platforms or groups (but the pupils') and at most two users (emergency access): not "
        "judged: school.yaml does not declare the "
        "Entra ID groups that hold the staff (identity.staff_groups), which decide on: "
        "CA100 - MFA voor het personeel"
    )
    assert "niet beoordeeld: school.yaml vermeldt de Entra ID-groepen met het personeel" in (
        v.message_nl
    )
    # The part that decides it names the policy, at its line.
    (part,) = [p for p in v.evidence["any_of"] if p.get("undeclared")]
    assert [it["label"] for it in part["items"]] == ["CA100 - MFA voor het personeel"]
    assert part["items"][0]["line"] == 4


def test_a_policy_for_another_group_fails_once_the_staff_is_declared(catalog: Catalog) -> None:
    v = mfa_staff(catalog, ca_docs(policy(includeGroups=[OTHER_GROUP])), SCHOOL_FACTS)
    assert v.status is FindingStatus.FAIL, v.message
    assert v.message.startswith("none of the alternatives holds: ")


def test_one_policy_must_cover_every_declared_staff_group(catalog: Catalog) -> None:
    two = facts(identity__staff_groups=[STAFF_GROUP, OTHER_GROUP])
    v = mfa_staff(catalog, ca_docs(policy(includeGroups=[STAFF_GROUP])), two)
    assert v.status is FindingStatus.FAIL, v.message
    both = mfa_staff(catalog, ca_docs(policy(includeGroups=[OTHER_GROUP, STAFF_GROUP])), two)
    assert both.status is FindingStatus.PASS, both.message


def test_group_ids_compare_as_ids_whatever_their_case(catalog: Catalog) -> None:
    v = mfa_staff(catalog, ca_docs(policy(includeGroups=[STAFF_GROUP.upper()])), SCHOOL_FACTS)
    assert v.status is FindingStatus.PASS, v.message


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"state": "enabledForReportingButNotEnforced"}, "report-only"),
        ({"grantControls": {"operator": "OR", "builtInControls": ["mfa", "compliantDevice"]}},
         "a compliant device instead of MFA"),
        ({"conditions_users": {"excludeGroups": [OTHER_GROUP]}}, "a group that is no pupils'"),
        ({"conditions_users": {"excludeRoles": ["62e90394-69f5-4237-9190-012177145e10"]}},
         "an excluded role"),
        ({"conditions_locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}},
         "no MFA on the school's network"),
    ],
)  # fmt: skip
def test_a_weakened_staff_policy_does_not_count(
    catalog: Catalog, change: dict[str, Any], why: str
) -> None:
    weak = policy(includeGroups=[STAFF_GROUP])
    for key, value in change.items():
        if key == "conditions_users":
            weak["conditions"]["users"].update(value)
        elif key == "conditions_locations":
            weak["conditions"]["locations"] = value
        else:
            weak[key] = value
    v = mfa_staff(catalog, ca_docs(weak), SCHOOL_FACTS)
    assert v.status is FindingStatus.FAIL, (why, v.message)
    # Undeclared, an excluded group might be the pupils'; anything else fails regardless.
    undeclared = mfa_staff(catalog, ca_docs(weak), NO_FACTS)
    expected = FindingStatus.NOT_APPLICABLE if OTHER_GROUP in str(change) else FindingStatus.FAIL
    assert undeclared.status is expected, (why, undeclared.message)


def test_a_staff_policy_with_an_authentication_strength_passes(catalog: Catalog) -> None:
    strong = policy("CA101 - Personeel: phishingbestendige MFA", includeGroups=[STAFF_GROUP])
    strong["grantControls"] = {
        "operator": "OR",
        "builtInControls": [],
        "authenticationStrength": {"id": STRENGTH, "displayName": "Multifactor authentication"},
    }
    v = mfa_staff(catalog, ca_docs(strong), SCHOOL_FACTS)
    assert v.status is FindingStatus.PASS, v.message
    assert v.message.endswith(": CA101 - Personeel: phishingbestendige MFA")


# --- MFA for all users, leaving out the pupils' groups -------------------------------------------


def test_all_users_but_the_pupils_group_passes_when_declared(catalog: Catalog) -> None:
    docs = ca_docs(policy(includeUsers=["All"], excludeGroups=[PUPIL_GROUP]))
    v = mfa_staff(catalog, docs, SCHOOL_FACTS)
    assert v.status is FindingStatus.PASS, v.message
    undeclared = mfa_staff(catalog, docs, NO_FACTS)
    assert undeclared.status is FindingStatus.NOT_APPLICABLE, undeclared.message
    assert undeclared.undecided == ("identity.pupil_groups",)
    assert "identity.pupil_groups" in undeclared.message


def test_excluding_the_staff_group_fails(catalog: Catalog) -> None:
    docs = ca_docs(policy(includeUsers=["All"], excludeGroups=[STAFF_GROUP]))
    v = mfa_staff(catalog, docs, SCHOOL_FACTS)
    assert v.status is FindingStatus.FAIL, v.message


def test_excluding_the_pupils_group_still_covers_the_administrators(catalog: Catalog) -> None:
    docs = ca_docs(policy(includeUsers=["All"], excludeGroups=[PUPIL_GROUP]))
    assert run_check(catalog, "entra.mfa-admins", docs, facts=SCHOOL_FACTS).status is (
        FindingStatus.PASS
    )
    assert run_check(catalog, "entra.mfa-admins", docs).status is FindingStatus.NOT_APPLICABLE


def test_a_staff_group_policy_says_nothing_about_administrators(catalog: Catalog) -> None:
    # A separate admin account (as GRIP O12 asks) need not be in the staff group.
    docs = ca_docs(policy(includeGroups=[STAFF_GROUP]))
    v = run_check(catalog, "entra.mfa-admins", docs, facts=SCHOOL_FACTS)
    assert v.status is FindingStatus.FAIL, v.message


def test_all_users_without_exclusions_needs_no_declaration(catalog: Catalog) -> None:
    v = mfa_staff(catalog, ca_docs(policy(includeUsers=["All"])), NO_FACTS)
    assert v.status is FindingStatus.PASS, v.message


# --- through the probe: the facts come from school.yaml ------------------------------------------


def _run_probe(catalog: Catalog, check_id: str, tmp_path: Path, school: dict[str, Any]) -> Any:
    path = tmp_path / "conditional-access.json"
    path.write_text(
        json.dumps({"@odata.context": CONTEXT, "value": [policy(includeGroups=[STAFF_GROUP])]}),
        encoding="utf-8",
    )
    store = ExportStore(catalog.kinds, [ExportFile(path, "exports/m365/conditional-access.json",
                                                   "entra-conditional-access")])  # fmt: skip
    spec = probes()["config.rule"]
    params = spec.params.model_validate(catalog.checks[check_id].params)
    ctx = ProbeContext(
        exports=store, clock=Clock.at(TODAY), school=SchoolFile.model_validate(school)
    )
    return spec.func(Target("sint-jozef", kind=TargetKind.SCHOOL), params, ctx)


def test_the_probe_reads_the_staff_groups_from_school_yaml(
    catalog: Catalog, tmp_path: Path
) -> None:
    base = {"school": {"id": "sint-jozef", "name": "Sint-Jozef"}, "domains": ["sintjozef.be"]}
    declared = {**base, "identity": {"staff_groups": [STAFF_GROUP.upper()]}}
    outcome = _run_probe(catalog, "entra.mfa-all-users", tmp_path, declared)
    assert outcome.status is FindingStatus.PASS, outcome.message
    silent = _run_probe(catalog, "entra.mfa-all-users", tmp_path, base)
    assert silent.status is FindingStatus.NOT_APPLICABLE
    assert "identity.staff_groups" in silent.message
    assert "identity.staff_groups" in silent.messages["nl"]


# --- Google Workspace: the pupils' organisational units ------------------------------------------


def _google(mutate: Any) -> dict[str, list[Any]]:
    data = json.loads(sample("google-users", "good").read_text(encoding="utf-8"))
    mutate(data["users"])
    return {"google-users": [parse_json(json.dumps(data, indent=2), "google-users.json")]}


def _pupils_in_klassen(users: list[dict[str, Any]]) -> None:
    for user in users:
        user["orgUnitPath"] = user["orgUnitPath"].replace("/Leerlingen/Secundair", "/Klassen")


def test_pupils_units_with_their_own_name_are_declared(catalog: Catalog) -> None:
    docs = _google(_pupils_in_klassen)
    # Without a declaration the usual names (/Leerlingen, /Students, ...) are left out, and
    # /Klassen is not one of them: its pupils count as staff without 2-Step Verification.
    usual = run_check(catalog, "google.2sv-staff", docs)
    assert usual.status is FindingStatus.FAIL
    assert set(labelled(usual.evidence)) == {
        "lotte.janssens@leerling.sintjozef.be",
        "noah.vermeersch@leerling.sintjozef.be",
    }
    declared = run_check(
        catalog, "google.2sv-staff", docs, facts=facts(identity__pupil_org_units=["/Klassen"])
    )
    assert declared.status is FindingStatus.PASS, declared.message


def test_declared_pupils_units_replace_the_usual_names(catalog: Catalog) -> None:
    docs = _google(lambda users: None)  # the pupils are in /Leerlingen/Secundair/...
    v = run_check(
        catalog, "google.2sv-staff", docs, facts=facts(identity__pupil_org_units=["/Klassen"])
    )
    assert v.status is FindingStatus.FAIL
    assert "lotte.janssens@leerling.sintjozef.be" in v.message


def test_a_unit_is_under_a_pupils_unit_only_below_its_slash(catalog: Catalog) -> None:
    def rename(users: list[dict[str, Any]]) -> None:
        users[0]["orgUnitPath"] = "/Leerlingen-oud"  # the director, not in a pupils' unit
        users[0]["isEnforcedIn2Sv"] = False

    v = run_check(catalog, "google.2sv-staff", _google(rename), facts=SCHOOL_FACTS)
    assert v.status is FindingStatus.FAIL
    assert v.message.endswith(": directie@sintjozef.be")


# --- MFA registration (Graph userRegistrationDetails) --------------------------------------------


def test_mfa_registration_good(catalog: Catalog) -> None:
    v = run_check(catalog, "entra.mfa-registered", "good", facts=SCHOOL_FACTS)
    assert v.status is FindingStatus.PASS, v.message
    assert v.evidence["count"] == 0


def test_mfa_registration_bad_names_staff_and_admins(catalog: Catalog) -> None:
    # The admin account has nothing registered, an intern neither, a teacher only an e-mail
    # address for password reset; the pupil and the guest are not counted.
    path = sample("entra-registration-details", "bad")
    v = run_check(catalog, "entra.mfa-registered", "bad", facts=SCHOOL_FACTS)
    assert v.status is FindingStatus.FAIL
    upns = ("admin.jdewitte@sintjozef.be", "stagiair.2024@sintjozef.be", "sofie.maes@sintjozef.be")
    assert_named(v, path, {u: item_line(path, f'"userPrincipalName": "{u}"') for u in upns})


def test_mfa_registration_without_pupil_domains(catalog: Catalog) -> None:
    # An unregistered administrator fails whoever the pupils are ...
    bad = run_check(catalog, "entra.mfa-registered", "bad")
    assert bad.status is FindingStatus.FAIL
    assert bad.message.endswith(": admin.jdewitte@sintjozef.be")
    # ... but whether an unregistered member is a pupil, only school.yaml can say.
    good = run_check(catalog, "entra.mfa-registered", "good")
    assert good.status is FindingStatus.NOT_APPLICABLE
    assert good.undecided == ("identity.pupil_domains",)
    assert good.message.endswith(
        "not judged: school.yaml does not declare the domains of the pupils' accounts "
        "(identity.pupil_domains), which decide on: lotte.janssens@leerling.sintjozef.be"
    )


def test_mfa_registration_of_a_tenant_without_the_report(catalog: Catalog) -> None:
    # What cyberstd collect m365 writes for a tenant without Entra ID P1/P2: an empty list.
    text = '{"cyberstdCollected": {"at": "2026-11-28T07:00:00Z"}, "value": []}'
    docs = {"entra-registration-details": [parse_json(text, "registration-details.json")]}
    v = run_check(catalog, "entra.mfa-registered", docs, facts=SCHOOL_FACTS)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert "needs Microsoft Entra ID P1 or P2" in v.message


# --- mail addresses and domains on the school's own domain ---------------------------------------


def test_entra_mail_own_domain(catalog: Catalog) -> None:
    good = run_check(catalog, "entra.mail-own-domain", "good", facts=SCHOOL_FACTS)
    assert good.status is FindingStatus.PASS, good.message  # leerling.sintjozef.be is below it
    path = sample("entra-users", "bad")
    bad = run_check(catalog, "entra.mail-own-domain", "bad", facts=SCHOOL_FACTS)
    assert bad.status is FindingStatus.FAIL
    # a mailbox left on .onmicrosoft.com, and one on the school's former domain; the disabled
    # guest with its own address is not counted
    upns = ("stagiair.2024@sintjozef.be", "oud.secretariaat@sintjozef.be")
    assert_named(bad, path, {u: item_line(path, f'"userPrincipalName": "{u}"') for u in upns})
    assert bad.evidence["items"][0]["actual"]["mail"] == "stagiair.2024@sintjozef.onmicrosoft.com"
    undeclared = run_check(catalog, "entra.mail-own-domain", "bad")
    assert undeclared.status is FindingStatus.NOT_APPLICABLE
    assert undeclared.undecided == ("domains",)


def test_entra_mail_own_domain_leaves_out_guests_and_accounts_without_mail(
    catalog: Catalog,
) -> None:
    users = [
        # a guest, in an export read without userType
        {"userPrincipalName": "voorzitter_ouderraad.be#EXT#@sintjozef.onmicrosoft.com",
         "mail": "voorzitter@ouderraad.be", "accountEnabled": True},
        # the emergency access account: no mailbox
        {"userPrincipalName": "noodaccount01@sintjozef.onmicrosoft.com", "mail": None},
        {"userPrincipalName": "jan.dewitte@sintjozef.be", "mail": "Jan.DeWitte@SintJozef.be"},
    ]  # fmt: skip
    text = json.dumps({"value": users})
    docs = {"entra-users": [parse_json(text, "users.json")]}
    v = run_check(catalog, "entra.mail-own-domain", docs, facts=SCHOOL_FACTS)
    assert v.status is FindingStatus.PASS, v.message
    # An export without any mail address (collected before cyberstd read mail) says nothing.
    for user in users:
        user.pop("mail")
    docs = {"entra-users": [parse_json(json.dumps({"value": users}), "users.json")]}
    v = run_check(catalog, "entra.mail-own-domain", docs, facts=SCHOOL_FACTS)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert "collect it again with cyberstd collect m365" in v.message


def test_google_accounts_on_another_domain(catalog: Catalog) -> None:
    def foreign(users: list[dict[str, Any]]) -> None:
        users[2]["primaryEmail"] = "an.peeters@oud-college.be"
        users[5]["primaryEmail"] = "piet.claes@oud-college.be"  # suspended: not counted

    docs = _google(foreign)
    v = run_check(catalog, "google.mail-own-domain", docs, facts=SCHOOL_FACTS)
    assert v.status is FindingStatus.FAIL
    assert v.message.endswith(": an.peeters@oud-college.be")
    also = run_check(
        catalog,
        "google.mail-own-domain",
        docs,
        facts=facts(domains=["sintjozef.be", "oud-college.be"]),
    )
    assert also.status is FindingStatus.PASS
    good = run_check(catalog, "google.mail-own-domain", "good", facts=SCHOOL_FACTS)
    assert good.status is FindingStatus.PASS


def test_entra_domain_verified(catalog: Catalog) -> None:
    good = run_check(catalog, "entra.domain-verified", "good", facts=SCHOOL_FACTS)
    assert good.status is FindingStatus.PASS, good.message
    assert good.message.startswith(
        "2 verified domains of the school (domains in school.yaml, or a subdomain) "
        "(at least 1 expected): sintjozef.be, leerling.sintjozef.be"
    )
    bad = run_check(catalog, "entra.domain-verified", "bad", facts=SCHOOL_FACTS)
    assert bad.status is FindingStatus.FAIL
    assert bad.message == (
        "0 verified domains of the school (domains in school.yaml, or a subdomain), where at "
        "least 1 are expected; 1 unverified domains of the school, where at most 0 are "
        "expected: sintjozef.be"
    )
    undeclared = run_check(catalog, "entra.domain-verified", "good")
    assert undeclared.status is FindingStatus.NOT_APPLICABLE
    assert undeclared.evidence["undeclared"] == ["domains"]


def test_a_tenant_without_the_schools_domain(catalog: Catalog) -> None:
    data = json.loads(sample("entra-domains", "good").read_text(encoding="utf-8"))
    data["value"] = [d for d in data["value"] if d["id"].endswith(".onmicrosoft.com")]
    docs = {"entra-domains": [parse_json(json.dumps(data, indent=2), "domains.json")]}
    v = run_check(catalog, "entra.domain-verified", docs, facts=SCHOOL_FACTS)
    assert v.status is FindingStatus.FAIL
    assert v.message.startswith("0 verified domains of the school")


# --- policies that leave someone without MFA ----------------------------------------------------


def _weakened(path: str, value: Any) -> dict[str, Any]:
    """An all-users MFA policy with one condition narrowed (path: keys under conditions)."""
    p = policy(includeUsers=["All"])
    node = p["conditions"]
    *parents, last = path.split(".")
    for key in parents:
        if node.get(key) is None:
            node[key] = {}
        node = node[key]
    node[last] = value
    return p


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("applications.excludeApplications", ["Office365"]),  # an app without MFA
        ("signInRiskLevels", ["high"]),  # MFA only on risky sign-ins
        ("userRiskLevels", ["high"]),
        ("platforms.includePlatforms", ["android"]),  # MFA on Android only
        ("devices.deviceFilter", {"mode": "include", "rule": 'device.trustType -eq "AzureAD"'}),
    ],
)
def test_a_policy_that_narrows_where_mfa_applies_does_not_pass(
    catalog: Catalog, path: str, value: Any
) -> None:
    """Microsoft's conditionalAccessConditionSet: a policy for all users and apps can still
    leave sign-ins without MFA through its applications, risk, platform or device conditions."""
    assert mfa_staff(catalog, ca_docs(policy(includeUsers=["All"])), SCHOOL_FACTS).status is (
        FindingStatus.PASS
    )
    for check in ("entra.mfa-all-users", "entra.mfa-admins"):
        v = run_check(catalog, check, ca_docs(_weakened(path, value)), facts=SCHOOL_FACTS)
        assert v.status is not FindingStatus.PASS, (check, path, v.message)


def _google_users(*users: dict[str, Any]) -> dict[str, list[Any]]:
    text = json.dumps({"kind": "admin#directory#users", "users": list(users)}, indent=2)
    return {"google-users": [parse_json(text, "users.json")]}


def test_a_google_export_without_staff_gives_no_verdict_on_staff_mfa(catalog: Catalog) -> None:
    """Only pupils in the export: there is no staff to show 2-Step Verification for, so O7's
    MFA part is not covered by it."""
    pupil = {
        "primaryEmail": "lln.an@school.test",
        "orgUnitPath": "/Leerlingen/3A",
        "suspended": False,
        "isAdmin": False,
        "isEnforcedIn2Sv": False,
    }
    for check in ("google.2sv-staff", "google.2sv-admins"):
        v = run_check(catalog, check, _google_users(pupil), facts=SCHOOL_FACTS)
        assert v.status is FindingStatus.NOT_APPLICABLE, (check, v.message)
    staff = {**pupil, "primaryEmail": "an@school.test", "orgUnitPath": "/Personeel"}
    assert run_check(catalog, "google.2sv-staff", _google_users(pupil, staff)).status is (
        FindingStatus.FAIL
    )
    enforced = {**staff, "isEnforcedIn2Sv": True}
    assert run_check(catalog, "google.2sv-staff", _google_users(pupil, enforced)).status is (
        FindingStatus.PASS
    )


def test_more_excluded_users_than_emergency_access_accounts_is_no_mfa_for_all(
    catalog: Catalog,
) -> None:
    """Two excluded users are the emergency access accounts Microsoft advises; a policy that
    leaves out more people is a way round MFA, and does not count as MFA for everyone."""
    two = ["d41f0e6a-8b2c-4f3d-a5e7-19c0b8a7f6e2", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"]
    three = [*two, "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"]
    allowed = mfa_staff(catalog, ca_docs(policy(includeUsers=["All"], excludeUsers=two)), {})
    assert allowed.status is FindingStatus.PASS, allowed.message
    too_many = mfa_staff(catalog, ca_docs(policy(includeUsers=["All"], excludeUsers=three)), {})
    assert too_many.status is FindingStatus.FAIL, too_many.message
    assert "at most two users (emergency access)" in too_many.message
    assert "hoogstens twee uitgesloten gebruikers (noodtoegang)" in too_many.message_nl

"""GRIP identity checks (Microsoft Entra ID through Graph, Google Workspace Directory API)
run exactly as the catalog defines them, on realistic exports."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from cyberstd.catalog import Catalog
from cyberstd.clock import Clock
from cyberstd.errors import ExportError, ProbeError
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.kinds import detect
from cyberstd.parsers.base import Node
from cyberstd.probes import probes
from cyberstd.registry import ProbeContext, Target, TargetKind
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.rules.engine import RuleParams, evaluate
from tests.rules.conftest import (
    TODAY,
    assert_named,
    assert_no_secret,
    check_params,
    evidence_items,
    item_line,
    line_of,
    parse_json,
    parse_kind,
    run_check,
    sample,
)

IDENTITY_KINDS = (
    "entra-security-defaults",
    "entra-conditional-access",
    "entra-directory-roles",
    "entra-users",
    "entra-domains",
    "entra-registration-details",
    "google-users",
)
MFA_CHECKS = ("entra.mfa-all-users", "entra.mfa-admins", "entra.legacy-auth-blocked")
GA_ROLE = "62e90394-69f5-4237-9190-012177145e10"


def identity_checks(catalog: Catalog) -> set[str]:
    """Every catalog check that reads an Entra or Google export."""
    out = set()
    for cid, check in catalog.checks.items():
        if check.probe != "config.rule":
            continue
        kinds = RuleParams.model_validate(check.params).kinds()
        if any(k.startswith("entra-") or k in ("google-users", "gam-users") for k in kinds):
            out.add(cid)
    return out


def test_every_identity_check_is_tested_here(catalog: Catalog) -> None:
    tested = {
        *MFA_CHECKS,
        "entra.global-admin-count",
        "entra.stale-accounts",
        "google.2sv-staff",
        "google.2sv-admins",
        "google.admin-count",
        "google.stale-accounts",
        # the checks that need what school.yaml declares: test_checks_identity_school.py
        "entra.break-glass",
        "entra.mfa-registered",
        "entra.mail-own-domain",
        "entra.domain-verified",
        "google.break-glass",
        "google.mail-own-domain",
    }
    assert identity_checks(catalog) == tested


# --- the samples are what the kinds recognise ---------------------------------------------------


@pytest.mark.parametrize("variant", ["good", "bad"])
@pytest.mark.parametrize("kind", IDENTITY_KINDS)
def test_detect_recognises_each_sample(
    catalog: Catalog, kind: str, variant: str, tmp_path: Path
) -> None:
    path = sample(kind, variant)
    assert detect(path, catalog.kinds) == [kind]
    # By content alone, under a name that says nothing.
    anonymous = tmp_path / "export.json"
    shutil.copy(path, anonymous)
    assert detect(anonymous, catalog.kinds) == [kind]


def test_graph_samples_carry_their_odata_context() -> None:
    expected = {
        "entra-security-defaults": "$metadata#policies/identitySecurityDefaultsEnforcementPolicy/$entity",
        "entra-conditional-access": "$metadata#identity/conditionalAccess/policies",
        "entra-directory-roles": "$metadata#directoryRoles",
        "entra-users": "$metadata#users(",
        "entra-domains": "$metadata#domains",
        "entra-registration-details": "$metadata#reports/authenticationMethods/userRegistrationDetails",
    }
    for kind, context in expected.items():
        for variant in ("good", "bad"):
            data = json.loads(sample(kind, variant).read_text(encoding="utf-8"))
            assert data["@odata.context"].startswith("https://graph.microsoft.com/v1.0/")
            assert context in data["@odata.context"]
    google = json.loads(sample("google-users", "good").read_text(encoding="utf-8"))
    assert google["kind"] == "admin#directory#users"
    assert {u["kind"] for u in google["users"]} == {"admin#directory#user"}


# --- MFA and legacy authentication: security defaults or conditional access --------------------


@pytest.mark.parametrize("check_id", MFA_CHECKS)
def test_security_defaults_on_passes(catalog: Catalog, check_id: str) -> None:
    v = run_check(catalog, check_id, "good", kinds=["entra-security-defaults"])
    assert v.status is FindingStatus.PASS
    assert v.message == "security defaults (isEnabled) is 'true' (security-defaults.json:6)"


@pytest.mark.parametrize("check_id", MFA_CHECKS)
def test_security_defaults_off_without_policies_fails(catalog: Catalog, check_id: str) -> None:
    path = sample("entra-security-defaults", "bad")
    v = run_check(catalog, check_id, "bad", kinds=["entra-security-defaults"])
    assert v.status is FindingStatus.FAIL
    line = line_of(path, '"isEnabled": false')
    assert f"'false' at security-defaults.json:{line}" in v.message
    (part,) = v.evidence["any_of"]
    assert part["kind"] == "entra-security-defaults"
    assert part["items"] == [
        {
            "file": "security-defaults.json",
            "line": line,
            "path": "isEnabled",
            "actual": False,
            "ok": False,
        }
    ]


@pytest.mark.parametrize(
    ("check_id", "policy"),
    [
        ("entra.mfa-all-users", "CA001 - MFA voor alle gebruikers"),
        ("entra.mfa-admins", "CA001 - MFA voor alle gebruikers"),
        ("entra.legacy-auth-blocked", "CA002 - Verouderde verificatie blokkeren"),
    ],
)
def test_conditional_access_school_passes(catalog: Catalog, check_id: str, policy: str) -> None:
    # An A3 school: security defaults are off (Entra requires it) and policies do the work.
    docs = {
        "entra-security-defaults": [
            parse_kind(catalog, "entra-security-defaults", sample("entra-security-defaults", "bad"))
        ],
        "entra-conditional-access": [
            parse_kind(
                catalog, "entra-conditional-access", sample("entra-conditional-access", "good")
            )
        ],
    }
    v = run_check(catalog, check_id, docs)
    assert v.status is FindingStatus.PASS
    assert v.message.endswith(f"(at least 1 expected): {policy}")
    path = sample("entra-conditional-access", "good")
    named = {it["label"]: it for it in evidence_items(v.evidence) if "label" in it}
    assert named[policy]["file"] == "conditional-access.json"
    assert named[policy]["line"] == item_line(path, f'"displayName": "{policy}"')


@pytest.mark.parametrize("check_id", MFA_CHECKS)
def test_conditional_access_alone_is_judged(catalog: Catalog, check_id: str) -> None:
    good = run_check(catalog, check_id, "good", kinds=["entra-conditional-access"])
    bad = run_check(catalog, check_id, "bad", kinds=["entra-conditional-access"])
    assert good.status is FindingStatus.PASS
    assert bad.status is FindingStatus.FAIL
    # Without a security defaults export, only the policy alternatives are judged.
    parts = check_params(catalog, check_id).alternatives()
    judged = [p["kind"] for p in bad.evidence["any_of"]]
    assert judged == ["entra-conditional-access"] * (len(parts) - 1)


@pytest.mark.parametrize("check_id", MFA_CHECKS)
def test_report_only_disabled_and_partial_policies_do_not_count(
    catalog: Catalog, check_id: str
) -> None:
    # bad: CA001 is report-only, CA002 blocks only Exchange ActiveSync (not "other" clients),
    # CA003 covers helpdesk roles but not Global Administrator, CA004 only SharePoint,
    # CA005 is disabled; security defaults are off.
    v = run_check(catalog, check_id, "bad")
    assert v.status is FindingStatus.FAIL
    assert v.message.startswith("none of the alternatives holds: ")
    sd, *policies = v.evidence["any_of"]
    assert sd["items"][0]["actual"] is False
    assert policies and all(p["count"] == 0 and p["items"] == [] for p in policies)


def _ca_without_first_policy(strength_for_all: bool) -> dict[str, list[Node]]:
    """The good policies without CA001 (MFA for all users with built-in MFA control)."""
    data = json.loads(sample("entra-conditional-access", "good").read_text(encoding="utf-8"))
    data["value"] = data["value"][1:]
    if strength_for_all:
        admins = data["value"][1]
        admins["conditions"]["users"] = {
            **admins["conditions"]["users"],
            "includeUsers": ["All"],
            "includeRoles": [],
        }
    return {
        "entra-conditional-access": [
            parse_json(json.dumps(data, indent=2), "conditional-access.json")
        ]
    }


def test_authentication_strength_for_all_users_counts_as_mfa(catalog: Catalog) -> None:
    docs = _ca_without_first_policy(strength_for_all=True)
    v = run_check(catalog, "entra.mfa-all-users", docs)
    assert v.status is FindingStatus.PASS
    assert v.message.endswith(": CA003 - Beheerders: phishingbestendige MFA")


@pytest.mark.parametrize("strength_for_all", [False, True])
def test_authentication_strength_for_admins_counts_as_admin_mfa(
    catalog: Catalog, strength_for_all: bool
) -> None:
    docs = _ca_without_first_policy(strength_for_all)
    v = run_check(catalog, "entra.mfa-admins", docs)
    assert v.status is FindingStatus.PASS


# --- Global Administrators ----------------------------------------------------------------------


def test_global_admin_count_good(catalog: Catalog) -> None:
    path = sample("entra-directory-roles", "good")
    v = run_check(catalog, "entra.global-admin-count", "good")
    assert v.status is FindingStatus.PASS
    assert v.evidence["count"] == 2
    assert_named(
        v,
        path,
        {
            upn: item_line(path, f'"userPrincipalName": "{upn}"')
            for upn in ("admin.jdewitte@sintjozef.be", "noodaccount01@sintjozef.onmicrosoft.com")
        },
    )


def test_global_admin_count_bad_names_every_member(catalog: Catalog) -> None:
    path = sample("entra-directory-roles", "bad")
    v = run_check(catalog, "entra.global-admin-count", "bad")
    assert v.status is FindingStatus.FAIL
    assert v.message.startswith("8 Global Administrators, where at most 4 are expected: ")
    # The role is found by its template id: the User Administrator role listed first (with
    # secretariaat@ as member too) is not counted twice.
    role = line_of(path, f'"roleTemplateId": "{GA_ROLE}"')
    upns = (
        "admin.jdewitte@sintjozef.be",
        "noodaccount01@sintjozef.onmicrosoft.com",
        "jan.dewitte@sintjozef.be",
        "guido.vermeulen@sintjozef.be",
        "an.peeters@sintjozef.be",
        "secretariaat@sintjozef.be",
        "support_computerhulp-lier.be#EXT#@sintjozef.onmicrosoft.com",
    )
    assert_named(v, path, {u: item_line(path, f'"userPrincipalName": "{u}"', role) for u in upns})
    # The service principal has no UPN: it is named by its place in the file.
    sp_line = item_line(path, '"displayName": "Oude sync-tool Informat"')
    unlabeled = [it for it in v.evidence["items"] if "label" not in it]
    assert unlabeled == [
        {"file": "directory-roles.json", "line": sp_line, "path": "value[1].members[7]"}
    ]
    assert f"directory-roles.json:{sp_line}" in v.message


def test_single_global_admin_is_few_enough_but_has_no_emergency_account(catalog: Catalog) -> None:
    # GRIP O12 asks few administrators: one is few. The second, emergency account is advice.
    data = json.loads(sample("entra-directory-roles", "good").read_text(encoding="utf-8"))
    data["value"][0]["members"] = data["value"][0]["members"][:1]
    docs = {
        "entra-directory-roles": [parse_json(json.dumps(data, indent=2), "directory-roles.json")]
    }
    v = run_check(catalog, "entra.global-admin-count", docs)
    assert v.status is FindingStatus.PASS
    assert v.message == (
        "1 Global Administrators (at most 4 expected): admin.jdewitte@sintjozef.be"
    )
    glass = run_check(catalog, "entra.break-glass", docs)
    assert glass.status is FindingStatus.FAIL
    assert glass.message == (
        "1 Global Administrators, where at least 2 are expected: admin.jdewitte@sintjozef.be"
    )
    assert glass.message_nl == (
        "1 globale beheerders, waar minstens 2 verwacht wordt: admin.jdewitte@sintjozef.be"
    )


@pytest.mark.parametrize("check_id", ["entra.global-admin-count", "entra.break-glass"])
def test_a_role_without_members_is_not_judged(catalog: Catalog, check_id: str) -> None:
    # With Privileged Identity Management an eligible Global Administrator is no member until
    # activated: an export without active members says nothing about how many there are.
    data = json.loads(sample("entra-directory-roles", "good").read_text(encoding="utf-8"))
    data["value"][0]["members"] = []
    docs = {
        "entra-directory-roles": [parse_json(json.dumps(data, indent=2), "directory-roles.json")]
    }
    v = run_check(catalog, check_id, docs)
    assert v.status is FindingStatus.NOT_APPLICABLE, v.message
    assert "not judged" in v.message


# --- stale Entra accounts -----------------------------------------------------------------------


def test_entra_stale_accounts_good(catalog: Catalog) -> None:
    # A disabled leaver, a teacher created 13 days ago who never signed in, a pupil last seen
    # 87 days ago and a break-glass account tested quarterly are all fine.
    v = run_check(catalog, "entra.stale-accounts", "good")
    assert v.status is FindingStatus.PASS
    assert v.evidence["count"] == 0


def test_entra_stale_accounts_bad(catalog: Catalog) -> None:
    path = sample("entra-users", "bad")
    v = run_check(catalog, "entra.stale-accounts", "bad")
    assert v.status is FindingStatus.FAIL
    # piet.claes left in 2025 but is still enabled; stagiair.2024 never signed in
    # (signInActivity null); karel.wouters has no interactive sign-in at all.
    assert_named(
        v,
        path,
        {
            upn: item_line(path, f'"userPrincipalName": "{upn}"')
            for upn in (
                "piet.claes@sintjozef.be",
                "stagiair.2024@sintjozef.be",
                "karel.wouters@sintjozef.be",
                "oud.secretariaat@sintjozef.be",
            )
        },
    )


def _successful_sign_in_rule(catalog: Catalog) -> RuleParams:
    data = dict(catalog.checks["entra.stale-accounts"].params)
    assert "signInActivity.lastSuccessfulSignInDateTime" in data["where_any"][0]
    return RuleParams.model_validate(data)


def test_stale_accounts_on_last_successful_sign_in(catalog: Catalog) -> None:
    # oud.secretariaat@ was last used in October 2025; password spraying since then keeps
    # refreshing lastSignInDateTime, which Graph also sets on failed attempts.
    params = _successful_sign_in_rule(catalog)
    docs = {"entra-users": [parse_kind(catalog, "entra-users", sample("entra-users", "bad"))]}
    v = evaluate(params, docs, TODAY)
    assert v.status is FindingStatus.FAIL
    assert "oud.secretariaat@sintjozef.be" in v.message
    good = {"entra-users": [parse_kind(catalog, "entra-users", sample("entra-users", "good"))]}
    assert evaluate(params, good, TODAY).status is FindingStatus.PASS


def test_stale_accounts_catch_an_account_under_password_spray(catalog: Catalog) -> None:
    v = run_check(catalog, "entra.stale-accounts", "bad")
    assert "oud.secretariaat@sintjozef.be" in v.message


# --- Google Workspace ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check_id",
    ["google.2sv-staff", "google.2sv-admins", "google.admin-count", "google.stale-accounts"],
)
def test_google_good_passes(catalog: Catalog, check_id: str) -> None:
    v = run_check(catalog, check_id, "good", kinds=["google-users"])
    assert v.status is FindingStatus.PASS, v.message


@pytest.mark.parametrize(
    ("check_id", "emails"),
    [
        (
            # Pupils (/Leerlingen/...) are left out; staff without enforcement are not.
            "google.2sv-staff",
            (
                "ict.stagiair@sintjozef.be",
                "secretariaat@sintjozef.be",
                "an.peeters@sintjozef.be",
                "stagiair.2025@sintjozef.be",
            ),
        ),
        ("google.2sv-admins", ("ict.stagiair@sintjozef.be", "secretariaat@sintjozef.be")),
        (
            "google.admin-count",
            (
                "directie@sintjozef.be",
                "ict@sintjozef.be",
                "ict.stagiair@sintjozef.be",
                "secretariaat@sintjozef.be",
                "els.wouters@sintjozef.be",
            ),
        ),
        (
            # A leaver not suspended, an intern who never signed in (1970-01-01), last
            # year's pupil.
            "google.stale-accounts",
            (
                "piet.claes@sintjozef.be",
                "stagiair.2025@sintjozef.be",
                "jonas.desmet@leerling.sintjozef.be",
            ),
        ),
    ],
)
def test_google_bad_fails_naming_accounts(
    catalog: Catalog, check_id: str, emails: tuple[str, ...]
) -> None:
    path = sample("google-users", "bad")
    v = run_check(catalog, check_id, "bad", kinds=["google-users"])
    assert v.status is FindingStatus.FAIL
    assert_named(v, path, {e: item_line(path, f'"primaryEmail": "{e}"') for e in emails})


def test_google_single_admin_is_few_enough_but_has_no_emergency_account(
    catalog: Catalog,
) -> None:
    data = json.loads(sample("google-users", "good").read_text(encoding="utf-8"))
    data["users"][1]["isAdmin"] = False
    docs = {"google-users": [parse_json(json.dumps(data, indent=2), "google-users.json")]}
    v = run_check(catalog, "google.admin-count", docs)
    assert v.status is FindingStatus.PASS
    assert v.message.endswith("(at most 4 expected): directie@sintjozef.be")
    glass = run_check(catalog, "google.break-glass", docs)
    assert glass.status is FindingStatus.FAIL
    assert glass.message.endswith("where at least 2 are expected: directie@sintjozef.be")


@pytest.mark.parametrize("check_id", ["google.admin-count", "google.break-glass"])
def test_google_export_without_a_super_admin_is_not_complete(
    catalog: Catalog, check_id: str
) -> None:
    # Every Google Workspace has a super administrator: a list without one is part of the
    # accounts (one organisational unit) or was read without isAdmin. No pass on it.
    data = json.loads(sample("google-users", "good").read_text(encoding="utf-8"))
    for user in data["users"]:
        user.pop("isAdmin", None)
    docs = {"google-users": [parse_json(json.dumps(data, indent=2), "google-users.json")]}
    v = run_check(catalog, check_id, docs)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert v.message.endswith(
        "not judged: the export names no super administrator (isAdmin), so it is not complete"
    )


def test_google_new_account_that_never_signed_in_is_not_stale(catalog: Catalog) -> None:
    data = json.loads(sample("google-users", "good").read_text(encoding="utf-8"))
    (new,) = [u for u in data["users"] if u["primaryEmail"] == "sofie.maes@sintjozef.be"]
    assert new["lastLoginTime"] == "1970-01-01T00:00:00.000Z"
    new["creationTime"] = "2026-10-01T09:15:00.000Z"
    docs = {"google-users": [parse_json(json.dumps(data, indent=2), "google-users.json")]}
    v = run_check(catalog, "google.stale-accounts", docs)
    assert v.status is FindingStatus.FAIL
    assert v.message.endswith(": sofie.maes@sintjozef.be")


# --- secrets ------------------------------------------------------------------------------------


def test_token_in_a_user_never_reaches_a_verdict(catalog: Catalog) -> None:
    for variant in ("good", "bad"):
        for check_id in sorted(identity_checks(catalog)):
            v = run_check(catalog, check_id, variant)
            assert_no_secret(v.message, repr(v.evidence))
    # A rule that puts whole user objects in its evidence shows the token redacted.
    expose = RuleParams.model_validate(
        {
            "kind": "entra-users",
            "select": "value[*]",
            "expect": {"present": False},
            "label": "userPrincipalName",
        }
    )
    docs = {"entra-users": [parse_kind(catalog, "entra-users", sample("entra-users", "good"))]}
    v = evaluate(expose, docs, TODAY)
    first = v.evidence["items"][0]
    assert first["label"] == "jan.dewitte@sintjozef.be"
    assert first["actual"]["onPremisesExtensionAttributes"]["extensionAttribute15"] == "[redacted]"
    assert_no_secret(v.message, repr(v.evidence))


# --- through the probe, as a run does it --------------------------------------------------------


def _store(catalog: Catalog, folder: Path, files: dict[str, Path]) -> ExportStore:
    exports = []
    for kind, src in files.items():
        dest = folder / "exports" / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.exists():
            shutil.copy(src, dest)
        exports.append(ExportFile(dest, f"exports/{src.name}", kind))
    return ExportStore(catalog.kinds, exports)


def _run_probe(catalog: Catalog, check_id: str, store: ExportStore | None) -> ProbeOutcome:
    spec = probes()["config.rule"]
    params = spec.params.model_validate(catalog.checks[check_id].params)
    ctx = ProbeContext(exports=store, clock=Clock.at(TODAY))
    return spec.func(Target("sint-jozef", kind=TargetKind.SCHOOL), params, ctx)


def test_probe_judges_a_school_folder(catalog: Catalog, tmp_path: Path) -> None:
    store = _store(
        catalog,
        tmp_path,
        {
            "entra-security-defaults": sample("entra-security-defaults", "bad"),
            "entra-conditional-access": sample("entra-conditional-access", "good"),
        },
    )
    outcome = _run_probe(catalog, "entra.mfa-all-users", store)
    assert outcome.status is FindingStatus.PASS
    evidence = outcome.evidence
    assert [(f["path"], f["kind"]) for f in evidence["files"]] == [
        ("exports/security-defaults.json", "entra-security-defaults"),
        ("exports/conditional-access.json", "entra-conditional-access"),
    ]
    digest = hashlib.sha256(sample("entra-conditional-access", "good").read_bytes()).hexdigest()
    assert evidence["files"][1]["sha256"] == digest
    assert [p["status"] for p in evidence["any_of"]] == ["fail", "pass", "fail", "fail", "fail"]
    assert evidence["any_of"][0]["items"][0]["file"] == "exports/security-defaults.json"

    failing = _run_probe(
        catalog,
        "entra.stale-accounts",
        _store(catalog, tmp_path / "b", {"entra-users": sample("entra-users", "bad")}),
    )
    assert failing.status is FindingStatus.FAIL
    assert "exports/users.json" in {it["file"] for it in failing.evidence["items"]}
    assert_no_secret(failing.message, repr(failing.evidence))


def test_probe_export_that_does_not_parse_is_an_export_error(
    catalog: Catalog, tmp_path: Path
) -> None:
    text = sample("entra-users", "good").read_text(encoding="utf-8")
    broken = tmp_path / "src" / "users.json"
    broken.parent.mkdir()
    broken.write_text(text[: text.index("\n", len(text) // 2) + 1], encoding="utf-8")
    store = _store(catalog, tmp_path, {"entra-users": broken})
    with pytest.raises(ExportError, match=r"exports/users\.json:\d+: unexpected end of file"):
        _run_probe(catalog, "entra.stale-accounts", store)


def test_probe_missing_export_file_is_an_export_error(catalog: Catalog, tmp_path: Path) -> None:
    store = _store(catalog, tmp_path, {"google-users": tmp_path / "nowhere" / "google-users.json"})
    with pytest.raises(ExportError, match=r"exports/google-users\.json: file not found"):
        _run_probe(catalog, "google.admin-count", store)


def test_probe_without_export_of_the_kind_is_not_applicable(
    catalog: Catalog, tmp_path: Path
) -> None:
    store = _store(catalog, tmp_path, {"google-users": sample("google-users", "good")})
    outcome = _run_probe(catalog, "entra.global-admin-count", store)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert outcome.message == "the school lists no export of kind entra-directory-roles"


def test_probe_without_export_store_is_a_probe_error(catalog: Catalog) -> None:
    with pytest.raises(ProbeError, match="no export store"):
        _run_probe(catalog, "google.admin-count", None)


def test_catalog_params_validate(catalog: Catalog) -> None:
    for check_id in identity_checks(catalog):
        params = check_params(catalog, check_id)
        assert params.kinds()


def test_stale_accounts_without_account_enabled_count_as_enabled(catalog: Catalog) -> None:
    """Microsoft's documented users-with-signInActivity response has neither accountEnabled
    nor lastSuccessfulSignInDateTime: old sign-ins still make stale accounts."""
    text = (
        '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users'
        '(displayName,userPrincipalName,signInActivity)", "value": ['
        '{"displayName": "Oud", "userPrincipalName": "oud@school.test", "signInActivity": '
        '{"lastSignInDateTime": "2017-09-01T10:00:00Z"}},'
        '{"displayName": "Weg", "userPrincipalName": "weg@school.test", "signInActivity": '
        '{"lastSignInDateTime": "2024-03-02T08:00:00Z"}},'
        '{"displayName": "Nu", "userPrincipalName": "nu@school.test", "signInActivity": '
        '{"lastSignInDateTime": "2026-11-20T08:00:00Z"}}]}'
    )
    from cyberstd.parsers import parse_source
    from cyberstd.parsers.base import source_from_text

    tree = parse_source(source_from_text(text, "users.json"), "json")
    v = run_check(catalog, "entra.stale-accounts", {"entra-users": [tree]})
    assert v.status is FindingStatus.FAIL, v.message
    assert "oud@school.test" in v.message and "weg@school.test" in v.message
    assert "nu@school.test" not in v.message

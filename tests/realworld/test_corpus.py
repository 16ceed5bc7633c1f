"""The real-world corpus (tests/data/realworld/README.md and each folder's SOURCES.md): the
verdict of every check on every file, as the school's real situation warrants. A pass where
the school is exposed, or where the file holds no evidence, fails here."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

import pytest

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, Verdict, evaluate
from tests.conftest import REPO

CORPUS = REPO / "tests" / "data" / "realworld"
DAY = dt.date(2026, 12, 5)
P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE

# file -> (kind, {check: (verdict, words the message must hold)})
EXPECTED: dict[str, tuple[str, dict[str, tuple[FindingStatus, str]]]] = {
    "fortigate/cloud-port1-public.conf": ("fortigate", {
        "fortigate.admin-on-wan": (F, "port1"),
        "fortigate.accept-all-inbound": (P, ""),  # only HTTPS to one VIP
        "fortigate.web-filter": (F, "lan naar internet"),
        "fortigate.admin-2fa": (P, ""),
        "fortigate.admin-lockout": (P, ""),  # system global present: FortiOS default 3
        "fortigate.firmware": (P, "7.6.1"),
        "fortigate.traffic-logging": (P, ""),
    }),
    "fortigate/wan1-no-role.conf": ("fortigate", {
        "fortigate.admin-on-wan": (F, "wan1"),
        "fortigate.admin-2fa": (NA, "not judged"),
        "fortigate.accept-all-inbound": (NA, "not judged"),
        "fortigate.admin-lockout": (P, ""),
    }),
    "fortigate/pppoe-modem.conf": ("fortigate", {
        "fortigate.admin-on-wan": (F, "modem"),
        "fortigate.admin-lockout": (NA, "not judged"),  # no system global in the file
    }),
    "fortigate/no-wan-known.conf": ("fortigate", {
        "fortigate.admin-on-wan": (NA, "face the internet"),
        "fortigate.accept-all-inbound": (NA, "face the internet"),
        "fortigate.web-filter": (NA, "face the internet"),
        "fortigate.inter-zone-any": (NA, "face the internet"),
    }),
    "fortigate/vdom-without-admins.conf": ("fortigate", {
        "fortigate.admin-2fa": (NA, "not judged"),
        "fortigate.admin-lockout": (NA, "not judged"),
        "fortigate.firmware": (F, "5.2.0"),
        "fortigate.admin-on-wan": (NA, "not judged"),
    }),
    "fortigate/radius-admins.conf": ("fortigate", {
        # the second factor of radius-beheer and partner-ict is the RADIUS server's to give
        "fortigate.admin-2fa": (NA, "radius-beheer, partner-ict"),
        "fortigate.admin-on-wan": (P, ""),
        "fortigate.admin-lockout": (P, ""),
    }),
    "fortigate/saml-sso-admins.conf": ("fortigate", {
        # Entra ID decides on MFA for the SSO administrators; the break-glass account has 2FA
        "fortigate.admin-2fa": (NA, "ict@college-west.test"),
        "fortigate.firmware": (F, "7.2.8"),
    }),
    "fortigate/dnsfilter-policies.conf": ("fortigate", {
        # DNS filtering counts for T9 when the profile blocks; one that only monitors does not
        "fortigate.web-filter": (F, ": personeel naar internet"),
        "fortigate.admin-on-wan": (P, ""),
    }),
    "entra/users-signin-activity.json": ("entra-users", {
        "entra.stale-accounts": (F, "2 enabled accounts"),
        "entra.mail-own-domain": (NA, "collect it again"),  # no mail selected
    }),
    "entra/users-with-mail.json": ("entra-users", {
        "entra.mail-own-domain": (NA, "does not declare the school's domains"),
    }),
    "entra/ca-policies-staff-group.json": ("entra-conditional-access", {
        "entra.mfa-all-users": (NA, "(identity.staff_groups), which decide on: MFA - Personeel"),
        "entra.mfa-admins": (F, ""),  # a staff group need not hold the admin accounts
        "entra.legacy-auth-blocked": (P, ""),
    }),
    "entra/domains-graph.json": ("entra-domains", {
        "entra.domain-verified": (NA, "does not declare the school's domains"),
    }),
    "entra/registration-details-graph.json": ("entra-registration-details", {
        # the administrators are registered; whether the others are pupils only school.yaml says
        "entra.mfa-registered": (NA, "ellen.maertens@sintjorisinstituut.test, jens.vandamme@"),
    }),
    "entra/ca-policies-graph.json": ("entra-conditional-access", {
        "entra.mfa-all-users": (F, "excluding no locations"),  # AllTrusted and a group excluded
        "entra.mfa-admins": (F, ""),
        "entra.legacy-auth-blocked": (P, ""),
    }),
    "entra/ca-policy-single-portal.json": ("entra-conditional-access", {
        "entra.mfa-all-users": (P, ""),  # only an emergency-access account excluded
        "entra.mfa-admins": (P, ""),
    }),
    "entra/ca-policies-powershell-array.json": ("entra-conditional-access", {
        "entra.mfa-admins": (P, ""),
        "entra.mfa-all-users": (F, ""),
        "entra.legacy-auth-blocked": (F, ""),
    }),
    "entra/ca-policies-powershell-utf16.json": ("entra-conditional-access", {
        "entra.mfa-admins": (P, ""),
        "entra.mfa-all-users": (F, ""),
        "entra.legacy-auth-blocked": (F, ""),
    }),
    "pfsense/pfsense-two-wans.xml": ("pfsense", {
        "pfsense.wan-pass-any": (F, "tweede lijn"),  # any-any on opt1, which has a gateway
        "pfsense.webgui-on-wan": (F, "SSH beheer leverancier"),  # a wan rule without <type>
        "pfsense.remote-syslog": (F, ""),
    }),
    "pfsense/opnsense-mvc-rules.xml": ("pfsense", {
        "pfsense.wan-pass-any": (F, "new rule store"),
        "pfsense.webgui-on-wan": (F, "new rule store"),
        "pfsense.remote-syslog": (F, ""),
    }),
    "sshd/debian12-dropins.sshd_config": ("sshd_config", {
        # the drop-in (50-cloud-init.conf) turns passwords back on
        "ssh.password-auth": (F, "password (global: PasswordAuthentication yes)"),
        "ssh.root-login": (P, ""),
        "ssh.empty-passwords": (P, ""),
    }),
    "sshd/keys-only-authmethods.sshd_config": ("sshd_config", {
        "ssh.password-auth": (P, "AuthenticationMethods"),
        "ssh.root-login": (P, ""),
        "ssh.empty-passwords": (P, ""),
    }),
    "sshd/totp-after-key.sshd_config": ("sshd_config", {
        "ssh.password-auth": (P, ""),  # a key, then the PAM code: two factors
    }),
    "sshd/pam-kbd-only.sshd_config": ("sshd_config", {
        # what PAM asks is not in sshd_config: not judged, saying what to attest
        "ssh.password-auth": (NA, "decided by the PAM configuration"),
        "ssh.root-login": (P, ""),
    }),
    "sshd/match-groups-mfa.sshd_config": ("sshd_config", {
        "ssh.password-auth": (P, ""),  # every block, and every blend of them, asks a key
    }),
    "secedit/secedit-export.inf": ("secedit", {  # UTF-16 as secedit writes it
        "windows.password-length": (F, "'8'"),
        "windows.password-complexity": (P, ""),
        "windows.account-lockout": (F, "LockoutBadCount"),
    }),
    "secedit/gpo-gpttmpl-partial.inf": ("secedit", {  # a GPO that sets no [System Access]
        "windows.password-length": (NA, "not judged"),
        "windows.password-complexity": (NA, "not judged"),
        "windows.account-lockout": (NA, "not judged"),
    }),
    "secedit/gpo-gpttmpl-password.inf": ("secedit", {
        "windows.password-length": (P, ""),
        "windows.password-complexity": (P, ""),
        "windows.account-lockout": (P, ""),
    }),
    "wifi/unifi-school-sane.json": ("wifi-controller", {
        "wifi.staff-enterprise": (P, ""),  # a shared key on the pupils' network is allowed
        "wifi.no-open-staff-ssid": (P, ""),
        "wifi.no-wpa1": (P, ""),
        "wifi.guest-isolation": (P, ""),
    }),
    "wifi/unifi-wpa-auto-open.json": ("wifi-controller", {
        "wifi.no-wpa1": (F, "Klimop-Personeel"),  # wpa_mode auto lets WPA1 in
        "wifi.no-open-staff-ssid": (F, ""),
        "wifi.guest-isolation": (NA, "no guest network"),
    }),
    "wifi/unifi-roles-by-name.json": ("wifi-controller", {
        # pupils (LLN) may use a shared key; whether staff use BYOD the export cannot say
        "wifi.staff-enterprise": (NA, ": Atheneum-BYOD. GRIP (T3) allows a shared key"),
        "wifi.no-open-staff-ssid": (P, ""),
        "wifi.no-wpa1": (P, ""),
        "wifi.guest-isolation": (P, ""),
    }),
    "wifi/unifi-empty-site.json": ("wifi-controller", {
        "wifi.no-open-staff-ssid": (NA, "not judged"),
        "wifi.no-wpa1": (NA, "not judged"),
        "wifi.guest-isolation": (NA, "not judged"),
        "wifi.staff-enterprise": (NA, "not judged"),
    }),
    "google/users-all-2sv.json": ("google-users", {
        "google.2sv-staff": (P, ""),
        "google.2sv-admins": (P, ""),
        "google.admin-count": (P, ""),
        "google.break-glass": (P, "2 active super administrators"),
        "google.mail-own-domain": (NA, "does not declare the school's domains"),
        "google.stale-accounts": (P, ""),  # the archived teacher cannot sign in
    }),
    "google/users-page1.json": ("google-users", {  # one page of several: no pass on it
        "google.admin-count": (NA, "one page of several"),
        "google.break-glass": (NA, "one page of several"),
        "google.2sv-staff": (NA, "one page of several"),
        "google.stale-accounts": (NA, "one page of several"),
    }),
    "inventory/devices-dutch-headers.csv": ("device-inventory", {  # hostnaam, ip-adres, ...
        "inventory.devices-columns": (P, ""),
        "inventory.devices-fresh": (P, "28/11/2026"),
        "inventory.devices-classified": (F, "without a classification (an empty cell, or no "
                                         "classification column), where at most 0 are expected: "
                                         "PRN-LKK-2"),
    }),
    "inventory/lansweeper-assets.csv": ("device-inventory", {  # AssetName, Type, Location
        "inventory.devices-columns": (P, ""),
        "inventory.devices-fresh": (P, "2026-12-04"),
        "inventory.devices-classified": (F, "12 devices without a classification"),
    }),
    "inventory/toestellen-excel-nl.csv": ("device-inventory", {  # Toestel, Eigenaar/Gebruiker, ...
        "inventory.devices-columns": (P, ""),
        "inventory.devices-fresh": (P, "14/11/2026"),
        "inventory.devices-classified": (F, "PRN-GANG; 1 devices with a classification that is "
                                         "not in the scheme (public, internal, confidential, "
                                         "highly sensitive), where at most 0 are expected: "
                                         "DB-KLAS3 ('hoog')"),
    }),
    "inventory/toepassingen-register.csv": ("application-inventory", {
        "inventory.applications-columns": (F, "without an internal owner (an empty cell, or no "
                                           "owner column), where at most 0 are expected: "
                                           "Microsoft 365 A3, Bingel"),
        "inventory.applications-fresh": (P, "2/09/2026"),
        "inventory.applications-classified": (P, ""),  # "zéér gevoelig", "Vertrouwelijk"
    }),
}  # fmt: skip
# Files a school may give as another kind too: Intune's "All devices" export is a device
# inventory as GRIP O5 accepts one (type: OS; user: Primary user UPN), without classification.
ALSO_AS: dict[str, tuple[str, dict[str, tuple[FindingStatus, str]]]] = {
    "intune/all-devices-export.csv": ("device-inventory", {
        "inventory.devices-columns": (P, ""),
        "inventory.devices-fresh": (P, "2026-12-05"),
        "inventory.devices-classified": (F, "13 devices without a classification"),
    }),
    "intune/all-devices-semicolon.csv": ("device-inventory", {
        "inventory.devices-columns": (P, ""),
        "inventory.devices-fresh": (P, "5/12/2026"),
        "inventory.devices-classified": (F, "13 devices without a classification"),
    }),
}  # fmt: skip
# The same files judged with what the school's school.yaml declares: file -> (kind, facts,
# {check: (verdict, words the message must hold)}).
SINT_JORIS = {"domains": ["sintjorisinstituut.test"]}
WITH_SCHOOL_YAML: dict[str, list[tuple[str, dict[str, list[str]], dict[str, tuple[FindingStatus, str]]]]] = {
    "entra/ca-policies-staff-group.json": [
        ("entra-conditional-access", {"identity.staff_groups": ["b2f4d6e8-1a3c-4e5f-8a7b-9c0d1e2f3a4b"]},
         {"entra.mfa-all-users": (P, "MFA - Personeel"), "entra.mfa-admins": (F, "")}),
        # the staff is another group: the policy for "Personeel" does not cover it
        ("entra-conditional-access", {"identity.staff_groups": ["5e8d2c71-0b9a-4e3f-a6d4-c2b1a0f9e8d7"]},
         {"entra.mfa-all-users": (F, "none of the alternatives holds")}),
    ],
    "entra/ca-policies-graph.json": [
        # the excluded group holds only pupils, but the school's network is still left out
        ("entra-conditional-access", {"identity.pupil_groups": ["5e8d2c71-0b9a-4e3f-a6d4-c2b1a0f9e8d7"]},
         {"entra.mfa-all-users": (F, "excluding no locations")}),
    ],
    "entra/users-with-mail.json": [
        # the scanner's mailbox on .onmicrosoft.com; the disabled shared mailbox, the guest
        # with its own address and the accounts without a mailbox are not counted
        ("entra-users", SINT_JORIS,
         {"entra.mail-own-domain": (F, "1 enabled member accounts with a mail address outside "
                                       "school.yaml's domains, where at most 0 are expected: "
                                       "scanner@sintjorisinstituut.onmicrosoft.com")}),
    ],
    "entra/domains-graph.json": [
        ("entra-domains", SINT_JORIS,
         {"entra.domain-verified": (F, "1 unverified domains of the school, where at most 0 are "
                                       "expected: leerlingen.sintjorisinstituut.test")}),
    ],
    "entra/registration-details-graph.json": [
        ("entra-registration-details", {"identity.pupil_domains": ["leerlingen.sintjorisinstituut.test"]},
         {"entra.mfa-registered": (F, "where at most 0 are expected: ellen.maertens@sintjorisinstituut.test")}),
    ],
    "google/users-all-2sv.json": [
        ("google-users", {"domains": ["sintvictor-kortenbeek.test"]},
         {"google.mail-own-domain": (P, "0 active accounts"),
          "google.2sv-staff": (P, "")}),
        # declared pupils' units replace the usual names: /Leerlingen is then counted as staff
        ("google-users", {"identity.pupil_org_units": ["/Klassen"]},
         {"google.2sv-staff": (F, "ruben.smets@leerling.sintvictor-kortenbeek.test")}),
    ],
}  # fmt: skip
REFUSED = {
    "entra/directory-role-members-only.json": ("entra-directory-roles", "$expand=members"),
}
# Genuine exports cyberstd does not read yet (their kinds come with more vendors): refused
# with a message, never judged wrongly. When one is read, move it to EXPECTED.
NOT_YET_READ = {}


def _vendor_expectations() -> None:
    """Each vendor's files may have their expectations in a module of their own
    (tests/realworld/expected_<vendor>.py, with EXPECTED, WITH_SCHOOL_YAML and REFUSED as
    above); they join the tables here."""
    for found in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if not found.name.startswith("expected_"):
            continue
        module = importlib.import_module(f"tests.realworld.{found.name}")
        tables: dict[str, dict[str, Any]] = {
            "EXPECTED": EXPECTED,
            "WITH_SCHOOL_YAML": WITH_SCHOOL_YAML,
            "REFUSED": REFUSED,
        }
        for name, table in tables.items():
            extra = getattr(module, name, {})
            twice = set(extra) & set(table)
            assert not twice, f"{found.name}: {sorted(twice)} already in {name}"
            table.update(extra)


_vendor_expectations()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    found, problems = load_catalog(REPO)
    assert problems == []
    return found


def _verdict(
    catalog: Catalog, file: str, kind: str, check: str, facts: dict[str, list[str]] | None = None
) -> Verdict:
    store = ExportStore(catalog.kinds)
    export = ExportFile(CORPUS / file, file, kind)
    parsed = store.parsed(export)
    assert parsed.tree is not None, parsed.error
    params = RuleParams.model_validate(catalog.checks[check].params)
    kinds = {k: [parsed.tree] for k in params.kinds() if k == kind}
    assert kinds, (check, kind)
    return evaluate(params, kinds, DAY, facts)


CASES = [
    (f, kind, c, *v)
    for expected in (EXPECTED, ALSO_AS)
    for f, (kind, checks) in expected.items()
    for c, v in checks.items()
]


@pytest.mark.parametrize(("file", "kind", "check", "status", "words"), CASES)
def test_verdict(
    catalog: Catalog, file: str, kind: str, check: str, status: FindingStatus, words: str
) -> None:
    verdict = _verdict(catalog, file, kind, check)
    assert verdict.status is status, verdict.message
    assert words in verdict.message


SCHOOL_CASES = [
    (f, kind, facts, c, *v)
    for f, cases in WITH_SCHOOL_YAML.items()
    for kind, facts, checks in cases
    for c, v in checks.items()
]


@pytest.mark.parametrize(("file", "kind", "facts", "check", "status", "words"), SCHOOL_CASES)
def test_verdict_with_what_school_yaml_declares(
    catalog: Catalog,
    file: str,
    kind: str,
    facts: dict[str, list[str]],
    check: str,
    status: FindingStatus,
    words: str,
) -> None:
    verdict = _verdict(catalog, file, kind, check, facts)
    assert verdict.status is status, verdict.message
    assert words in verdict.message


@pytest.mark.parametrize(
    ("file", "kind", "said"), [(f, *v) for f, v in (REFUSED | NOT_YET_READ).items()]
)
def test_a_wrong_export_is_refused_saying_what_to_give(
    catalog: Catalog, file: str, kind: str, said: str
) -> None:
    parsed = ExportStore(catalog.kinds).parsed(ExportFile(CORPUS / file, file, kind))
    assert parsed.tree is None and parsed.error is not None
    assert said in parsed.error.detail


def test_the_reason_an_interface_faces_the_internet_is_in_the_evidence(catalog: Catalog) -> None:
    verdict = _verdict(catalog, "fortigate/cloud-port1-public.conf", "fortigate",
                       "fortigate.admin-on-wan")  # fmt: skip
    (item,) = verdict.evidence["items"]
    assert item["actual"]["role-effective"] == "wan"
    assert "default route" in item["actual"]["role-reason"]


def test_the_setting_that_opens_a_way_in_is_in_the_evidence(catalog: Catalog) -> None:
    verdict = _verdict(catalog, "sshd/debian12-dropins.sshd_config", "sshd_config",
                       "ssh.password-auth")  # fmt: skip
    failing = [p for p in verdict.evidence["all_of"] if p["status"] == "fail"]
    (item,) = failing[0]["items"]
    assert (item["file"], item["line"]) == ("sshd/sshd_config.d/50-cloud-init.conf", 2)


def test_why_a_policy_is_not_filtered_is_in_the_evidence(catalog: Catalog) -> None:
    verdict = _verdict(catalog, "fortigate/dnsfilter-policies.conf", "fortigate",
                       "fortigate.web-filter")  # fmt: skip
    (part, _) = verdict.evidence["all_of"]
    (item,) = part["items"]
    assert item["label"] == "personeel naar internet"
    assert item["actual"]["web-filter-reason"] == (
        "dnsfilter-profile 'enkel-logging' blocks no FortiGuard category (it only monitors)"
    )


def test_every_corpus_file_is_expected_and_sourced() -> None:
    files = {
        str(p.relative_to(CORPUS))
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix != ".md" and p.parent.name != "sshd_config.d"
    }
    assert files == set(EXPECTED) | set(REFUSED) | set(NOT_YET_READ)
    for folder in {Path(f).parts[0] for f in files}:
        sources = (CORPUS / folder / "SOURCES.md").read_text(encoding="utf-8")
        for f in files:
            if f.startswith(folder + "/"):
                assert Path(f).name in sources, f


@pytest.mark.parametrize(
    ("kind", "marker"),
    [("entra-users", '"@odata.nextLink"'), ("entra-directory-roles", '"members@odata.nextLink"')],
)
def test_one_page_of_several_is_refused(
    catalog: Catalog, tmp_path: Path, kind: str, marker: str
) -> None:
    """A Graph response page with a next link holds part of the list: a check on it could pass
    on the accounts it misses, so it is refused, saying to export every page."""
    link = "https://graph.microsoft.com/v1.0/users?$skiptoken=abc"
    user = {"userPrincipalName": "an@school.test", "signInActivity": {}}
    if kind == "entra-users":
        body = {"value": [user], "@odata.nextLink": link}
    else:
        role = {"displayName": "Global Administrator", "members": [user],
                "members@odata.nextLink": link}  # fmt: skip
        body = {"value": [role]}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    parsed = ExportStore(catalog.kinds).parsed(ExportFile(path, "export.json", kind))
    assert parsed.error is not None and "one page of several" in parsed.error.detail
    assert marker.strip('"') in parsed.error.detail

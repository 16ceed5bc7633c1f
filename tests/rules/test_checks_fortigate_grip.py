"""FortiGate checks as GRIP words them: administrators' second factor (O12, T7) may live on a
RADIUS server or an identity provider, and web filtering (T9) may be DNS filtering.

The backups below follow FortiOS's documented CLI:
- `config system admin` (https://docs.fortinet.com/document/fortigate/6.2.3/cli-reference/15620):
  `remote-auth`, `wildcard`, `remote-group`, `two-factor [disable|fortitoken|...]`;
- RADIUS administrators with a backup password and optional two-factor (FortiOS 7.0 NGFW
  deployment guide, "Configuring RADIUS administrator accounts",
  https://docs.fortinet.com/document/fortigate/7.0.0/ngfw-deployment/804740);
- `config system saml` (https://docs.fortinet.com/document/fortigate/6.2.4/cli-reference/150620)
  and `config system sso-admin`
  (https://docs.fortinet.com/document/fortigate/7.2.6/cli-reference/16620);
- `config firewall policy` (`utm-status`, `profile-type single|group`, `profile-group`,
  `webfilter-profile`, `dnsfilter-profile`) and `config firewall profile-group`
  (https://docs.fortinet.com/document/container-fortios/7.2.2/cli-reference/333889629);
- `config dnsfilter profile` with `config ftgd-dns` > `config filters` > `set category N`,
  `set action [block|monitor]` (https://docs.fortinet.com/document/fortigate/7.4.2/cli-reference/496620),
  and the factory "default" profile, whose filters without `set action` only monitor.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import Node, source_from_text
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, Verdict, evaluate
from tests.conftest import REPO

TODAY = dt.date(2026, 11, 29)
P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE
HEADER = "#config-version=FGT60F-7.4.4-FW-build2662-240514:opmode=0:vdom=0:user=admin\n"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    found, problems = load_catalog(REPO)
    assert problems == []
    return found


def parse(text: str) -> Node:
    return parse_source(source_from_text(HEADER + text, "fw.conf"), "fortigate")


def judge(catalog: Catalog, check_id: str, text: str) -> Verdict:
    params = RuleParams.model_validate(catalog.checks[check_id].params)
    return evaluate(params, {"fortigate": [parse(text)]}, TODAY)


# --- fortigate.admin-2fa ------------------------------------------------------------------------

LOCAL_2FA = """\
    edit "admin"
        set accprofile "super_admin"
        set vdom "root"
        set two-factor fortitoken
        set fortitoken "FTKMOB1A2B3C4D5E"
        set password ENC SH2aaaaBBBBccccDDDDeeeeFFFFggggHHHHiiiiJJJJkkkk=
    next
"""
LOCAL_NO_2FA = """\
    edit "onderhoud"
        set accprofile "super_admin"
        set vdom "root"
        set password ENC SH2zzzzYYYYxxxxWWWWvvvvUUUUttttSSSSrrrrQQQQpppp=
    next
"""
RADIUS_WILDCARD = """\
    edit "radius-beheer"
        set remote-auth enable
        set accprofile "super_admin"
        set vdom "root"
        set wildcard enable
        set remote-group "Beheerders-RADIUS"
    next
"""
RADIUS_WITH_TOKEN = """\
    edit "partner-ict"
        set remote-auth enable
        set accprofile "prof_admin"
        set vdom "root"
        set remote-group "Beheerders-RADIUS"
        set two-factor fortitoken-cloud
        set password ENC SH2mmmmNNNNooooPPPPqqqqRRRRssssTTTTuuuuVVVVwwww=
    next
"""
SAML_SP = """\
config system saml
    set status enable
    set role service-provider
    set default-login-page normal
    set default-profile "prof_admin"
    set idp-entity-id "https://sts.windows.net/00000000-0000-4000-8000-000000000002/"
    set idp-single-sign-on-url "https://login.microsoftonline.com/00000000-0000-4000-8000-000000000002/saml2"
    set idp-cert "REMOTE_Cert_1"
    set server-address "fw.school.test"
end
"""


def admins(*entries: str, extra: str = "") -> str:
    return "config system admin\n" + "".join(entries) + "end\n" + extra


@pytest.mark.parametrize(
    ("text", "status", "words"),
    [
        (admins(LOCAL_2FA), P, "0 local administrators"),
        (admins(LOCAL_2FA, LOCAL_NO_2FA), F, "onderhoud"),
        # RADIUS decides on the second factor: not judged, with what to attest
        (admins(LOCAL_2FA, RADIUS_WILDCARD), NA, "radius-beheer. Whether that server asks"),
        # two-factor set on the remote administrator itself: a pass
        (admins(LOCAL_2FA, RADIUS_WITH_TOKEN), P, ""),
        # a local administrator without two-factor fails, whatever RADIUS does
        (admins(LOCAL_NO_2FA, RADIUS_WILDCARD), F, "onderhoud"),
        (admins(LOCAL_2FA, extra=SAML_SP), NA, "administrator sign-in through SAML"),
        (
            admins(
                LOCAL_2FA,
                extra='config system sso-admin\n    edit "ict@school.test"\n'
                '        set accprofile "super_admin"\n    next\nend\n',
            ),
            NA,
            "1 SSO administrators (system sso-admin, sso-forticloud-admin, "
            "sso-fortigate-cloud-admin): ict@school.test",
        ),
        # SAML switched off, or the FortiGate as the identity provider of other FortiGates
        (admins(LOCAL_2FA, extra=SAML_SP.replace("status enable", "status disable")), P, ""),
        (admins(LOCAL_2FA, extra=SAML_SP.replace("service-provider", "identity-provider")), P, ""),
    ],
    ids=[
        "local with token",
        "local without",
        "radius wildcard",
        "radius with token",
        "local without beside radius",
        "saml sp",
        "sso admin",
        "saml off",
        "fortigate as idp",
    ],
)
def test_admin_2fa(catalog: Catalog, text: str, status: FindingStatus, words: str) -> None:
    v = judge(catalog, "fortigate.admin-2fa", text)
    assert v.status is status, v.message
    assert words in v.message
    assert v.cannot_decide is (status is NA)


def test_remote_administrators_are_not_judged_in_both_languages(catalog: Catalog) -> None:
    v = judge(catalog, "fortigate.admin-2fa", admins(LOCAL_2FA, RADIUS_WILDCARD))
    assert v.message.startswith("not judged: 1 administrators who sign in through RADIUS")
    assert "attested" in v.message
    assert v.message_nl.startswith("niet beoordeeld: 1 beheerders die aanmelden via RADIUS")
    assert "attestatie" in v.message_nl
    part = next(p for p in v.evidence["all_of"] if p.get("undecided"))
    (item,) = part["items"]
    assert item["label"] == "radius-beheer"
    assert item["actual"]["remote-group"] == "Beheerders-RADIUS"


def test_remote_administrators_in_a_vdom_backup(catalog: Catalog) -> None:
    text = (
        "config vdom\nedit root\nnext\nend\nconfig global\n"
        + admins(LOCAL_2FA, RADIUS_WILDCARD)
        + "end\n"
    )
    assert judge(catalog, "fortigate.admin-2fa", text).status is NA


# --- fortigate.web-filter: a web filter or a DNS filter that blocks -----------------------------

INTERFACES = """\
config system interface
    edit "wan1"
        set mode dhcp
        set role wan
    next
    edit "leerlingen"
        set ip 10.1.20.1 255.255.254.0
        set role lan
    next
end
"""
DNS_BLOCKING = """\
    edit "scholen-dns"
        config ftgd-dns
            config filters
                edit 1
                    set category 2
                next
                edit 2
                    set category 26
                    set action block
                next
            end
        end
        set block-botnet enable
    next
"""
DNS_MONITOR = """\
    edit "enkel-logging"
        config ftgd-dns
            config filters
                edit 1
                    set category 2
                next
                edit 2
                    set category 26
                    set action monitor
                next
            end
        end
    next
"""


def policy(*settings: str, utm: bool = True) -> str:
    lines = [
        'set name "leerlingen naar internet"',
        'set srcintf "leerlingen"',
        'set dstintf "wan1"',
        "set action accept",
        'set srcaddr "all"',
        'set dstaddr "all"',
        'set service "ALL"',
        *(["set utm-status enable"] if utm else []),
        *settings,
    ]
    body = "".join(f"        {line}\n" for line in lines)
    return f"config firewall policy\n    edit 1\n{body}    next\nend\n"


def dns_profiles(*entries: str) -> str:
    return "config dnsfilter profile\n" + "".join(entries) + "end\n"


GROUP = """\
config firewall profile-group
    edit "scholen"
        set ssl-ssh-profile "certificate-inspection"
        set dnsfilter-profile "scholen-dns"
    next
end
"""


@pytest.mark.parametrize(
    ("text", "status", "words"),
    [
        (policy('set webfilter-profile "default"'), P, "0 accept policies"),
        # DNS filtering alone: T9 allows it when the profile blocks categories
        (dns_profiles(DNS_BLOCKING) + policy('set dnsfilter-profile "scholen-dns"'), P, ""),
        (
            dns_profiles(DNS_MONITOR) + policy('set dnsfilter-profile "enkel-logging"'),
            F,
            ": leerlingen naar internet",
        ),
        (
            dns_profiles(
                DNS_BLOCKING.replace(
                    "config filters", "set options ftgd-disable\n            config filters"
                )
            )
            + policy('set dnsfilter-profile "scholen-dns"'),
            F,
            "leerlingen naar internet",
        ),
        # profiles need utm-status enable to apply
        (
            dns_profiles(DNS_BLOCKING) + policy('set dnsfilter-profile "scholen-dns"', utm=False),
            F,
            "leerlingen naar internet",
        ),
        (policy(), F, "leerlingen naar internet"),
        # a profile the backup does not hold: what it blocks cannot be seen
        (policy('set dnsfilter-profile "scholen-dns"'), NA, "not in the backup"),
        # the profiles of a profile group
        (
            dns_profiles(DNS_BLOCKING)
            + GROUP
            + policy("set profile-type group", 'set profile-group "scholen"'),
            P,
            "",
        ),
        (policy("set profile-type group", 'set profile-group "scholen"'), NA, "not in the backup"),
        (
            dns_profiles(DNS_MONITOR)
            + GROUP.replace("scholen-dns", "enkel-logging")
            + policy("set profile-type group", 'set profile-group "scholen"'),
            F,
            "leerlingen naar internet",
        ),
    ],
    ids=[
        "web filter",
        "dns filter that blocks",
        "dns filter that monitors",
        "fortiguard off",
        "utm off",
        "no profile",
        "dns profile not in backup",
        "profile group",
        "profile group not in backup",
        "profile group that monitors",
    ],
)
def test_web_filter(catalog: Catalog, text: str, status: FindingStatus, words: str) -> None:
    v = judge(catalog, "fortigate.web-filter", INTERFACES + text)
    assert v.status is status, v.message
    assert words in v.message
    assert v.cannot_decide is (status is NA)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            dns_profiles(DNS_MONITOR) + policy('set dnsfilter-profile "enkel-logging"'),
            "dnsfilter-profile 'enkel-logging' blocks no FortiGuard category (it only monitors)",
        ),
        (policy(utm=False), "utm-status is not enabled, so no security profile applies"),
        (policy(), "no webfilter-profile and no dnsfilter-profile"),
    ],
)
def test_why_nothing_filters_is_in_the_evidence(catalog: Catalog, text: str, reason: str) -> None:
    v = judge(catalog, "fortigate.web-filter", INTERFACES + text)
    (item,) = v.evidence["all_of"][0]["items"]
    assert item["actual"]["web-filter-reason"] == reason


def test_what_filters_a_policy_is_in_the_tree() -> None:
    tree = parse(
        INTERFACES
        + dns_profiles(DNS_BLOCKING)
        + policy('set webfilter-profile "default"', 'set dnsfilter-profile "scholen-dns"')
    )
    got = tree.plain()["firewall policy"]["1"]
    assert got["web-filter"] == [
        "webfilter-profile 'default'",
        "dnsfilter-profile 'scholen-dns' (1 categories blocked)",
    ]
    assert "web-filter-unknown" not in got


def test_dns_filter_profiles_are_looked_up_in_the_policy_vdom(catalog: Catalog) -> None:
    def backup(profile_vdom: str) -> str:
        return (
            "config vdom\nedit root\nnext\nedit tweede\nnext\nend\n"
            "config global\n" + INTERFACES + "end\n"
            f"config vdom\nedit {profile_vdom}\n" + dns_profiles(DNS_BLOCKING) + "next\nend\n"
            "config vdom\nedit root\n"
            + policy('set dnsfilter-profile "scholen-dns"')
            + "next\nend\n"
        )

    assert judge(catalog, "fortigate.web-filter", backup("root")).status is P
    # another VDOM's profile of the same name is not the one this policy uses
    assert judge(catalog, "fortigate.web-filter", backup("tweede")).status is NA

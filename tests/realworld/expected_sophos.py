"""Expected verdicts of the sophos.* checks on the Sophos Firewall files of the real-world
corpus (tests/data/realworld/sophos/SOURCES.md says what each follows and why)."""

from __future__ import annotations

from cyberstd.results import FindingStatus

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE

# file -> (kind, {check: (verdict, words the message must hold)})
EXPECTED: dict[str, tuple[str, dict[str, tuple[FindingStatus, str]]]] = {
    "sophos/entities-sfos195-export.xml": ("sophos", {
        # an export whose archive holds no firewall rules: nothing to judge about them
        "sophos.accept-all-inbound": (NA, "holds none of the items"),
        "sophos.inter-zone-any": (NA, "holds none of the items"),
        "sophos.traffic-logging": (NA, "holds none of the items"),
        "sophos.web-filter": (NA, "holds none of the items"),
        # the WAN zone allows only the SSL VPN; HTTPS and SSH are on LAN and DMZ
        "sophos.admin-on-wan": (P, "0 WAN zones"),
        "sophos.admin-lockout": (P, "'5'"),  # UnsucccessfulAttempt, as SFOS spells it
        "sophos.firmware": (F, "'19.5'"),
        "sophos.log-forwarding": (F, "0 syslog servers"),  # the whole export has none
    }),
    "sophos/api-get-firewallrules.xml": ("sophos", {
        # the supplier's rule lets every service from anywhere into LAN and DMZ
        "sophos.accept-all-inbound": (F, "Smartschool-sync > Server"),
        "sophos.web-filter": (F, "Klassen > Internet"),
        "sophos.traffic-logging": (F, "Klassen > Internet"),
        "sophos.inter-zone-any": (P, ""),  # the pupils reach only the printers, on IPP
        # an answer about rules alone says nothing of device access, logging or firmware
        "sophos.admin-on-wan": (NA, "holds none of the items"),
        "sophos.log-forwarding": (NA, "holds no SyslogServers"),
        "sophos.firmware": (NA, "not set"),
        "sophos.admin-lockout": (NA, "not set"),
    }),
    "sophos/api-get-no-records.xml": ("sophos", {
        "sophos.admin-on-wan": (F, "WAN ('HTTPS')"),
        "sophos.log-forwarding": (F, "0 syslog servers"),  # asked, and the answer is none
        "sophos.accept-all-inbound": (NA, "holds none of the items"),
        "sophos.firmware": (NA, "not set"),
    }),
}  # fmt: skip
REFUSED = {
    "sophos/api-login-failure.xml": ("sophos", "refused the request (Authentication Failure)"),
}

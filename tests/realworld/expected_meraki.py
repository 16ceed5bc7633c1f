"""Expected verdicts on the Cisco Meraki files of the real-world corpus
(tests/data/realworld/meraki/SOURCES.md says what an auditor concludes from each)."""

from __future__ import annotations

from cyberstd.results import FindingStatus

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE

# file -> (kind, {check: (verdict, words the message must hold)})
EXPECTED: dict[str, tuple[str, dict[str, tuple[FindingStatus, str]]]] = {
    "meraki/admins-v1-curl.json": ("meraki-admins", {
        # full rights on a tag and an invitation not yet accepted, both without 2FA; the
        # partner's SecureX sign-on alone would be undecided
        "meraki.admin-2fa": (F, "ict@bs-delinde.test, sam.devos@scholengroep-aa.test"),
        "meraki.admin-count": (P, "3 administrators with full organisation access"),
        "meraki.break-glass": (P, ""),
    }),
    "meraki/admins-v0-powershell.json": ("meraki-admins", {
        # the v0 list has no twoFactorAuthEnabled: 2FA is not judged, the number of admins is
        "meraki.admin-2fa": (NA, "twoFactorAuthEnabled"),
        "meraki.admin-count": (P, "bart.jacobs@sint-rembert.test"),
        "meraki.break-glass": (F, "bart.jacobs@sint-rembert.test"),
    }),
    "meraki/l3-rules-no-src.json": ("meraki-l3-firewall", {
        # only the wireless "Local LAN" deny: nothing keeps the VLANs apart on the MX, but
        # whether the MX routes them the export does not say
        "meraki.inter-vlan-any": (NA, "not judged"),
        "meraki.firewall-syslog": (NA, "no syslogEnabled"),
    }),
    "meraki/l3-rules-vlan-objects.json": ("meraki-l3-firewall", {
        "meraki.inter-vlan-any": (F, "Personeel naar servers"),
        "meraki.firewall-syslog": (F, "Printers voor iedereen"),
    }),
    "meraki/ssids-open-welkom.json": ("meraki-ssids", {
        # an open SSID whose name says nothing of its users: not judged, saying what to attest
        "meraki.no-open-staff-ssid": (NA, "Welkom"),
        "meraki.staff-enterprise": (NA, "Welkom"),
        "meraki.no-wpa1-wep": (NA, "with a key or 802.1X"),
        "meraki.guest-isolation": (NA, "no enabled guest networks"),
    }),
    "meraki/ssids-school-mixed.json": ("meraki-ssids", {
        "meraki.no-open-staff-ssid": (P, ""),
        # the hidden printers' SSID on a shared key is named for devices, not for people
        "meraki.staff-enterprise": (NA, "Printers"),
        "meraki.no-wpa1-wep": (F, "Printers"),
        "meraki.guest-isolation": (P, "0 of 1"),
    }),
    "meraki/ssids-unconfigured.json": ("meraki-ssids", {
        "meraki.no-open-staff-ssid": (NA, "no enabled SSIDs"),
        "meraki.staff-enterprise": (NA, "no enabled network for staff"),
        "meraki.no-wpa1-wep": (NA, "not judged"),
        "meraki.guest-isolation": (NA, "not judged"),
    }),
}  # fmt: skip

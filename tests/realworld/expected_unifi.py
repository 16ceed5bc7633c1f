"""Expected verdicts on the UniFi gateway's firewall rules (tests/data/realworld/unifi/) and on
the FortiGate backups with Wi-Fi (tests/data/realworld/fortigate/fortiwifi-*.conf); joined
with the others by tests/realworld/test_corpus.py."""

from __future__ import annotations

from cyberstd.results import FindingStatus

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE

# file -> (kind, {check: (verdict, words the message must hold)})
EXPECTED: dict[str, tuple[str, dict[str, tuple[FindingStatus, str]]]] = {
    "unifi/firewallrule-usg-school.json": ("unifi-firewall-rules", {
        # "allow established/related" accepts everything, but only replies: not an open door
        "unifi.wan-accept-all": (P, ""),
        "unifi.admin-on-wan": (P, ""),  # the VPN ports only; the NAS rule has a source group
        "unifi.lan-segmentation": (P, "Block LLN naar RFC1918"),
        "unifi.rule-logging": (F, "L2TP VPN"),
    }),
    "unifi/firewallrule-vlan-drops.json": ("unifi-firewall-rules", {
        "unifi.admin-on-wan": (F, "SSH beheer"),
        "unifi.wan-accept-all": (P, ""),  # the disabled camera rule does not count
        # drop rules from VLAN 30 and 40, but which network is the pupils' the export cannot say
        "unifi.lan-segmentation": (NA, "not judged"),
        "unifi.rule-logging": (P, ""),
    }),
    "unifi/firewallrule-zone-based.json": ("unifi-firewall-rules", {
        # a console on the zone-based firewall answers the classic endpoint with no rules
        "unifi.wan-accept-all": (NA, "holds none of the items"),
        "unifi.admin-on-wan": (NA, "holds none of the items"),
        "unifi.lan-segmentation": (NA, "not judged"),
        "unifi.rule-logging": (NA, "holds none of the items"),
    }),
    "unifi/zbf-v2-secondary.json": ("unifi-firewall-policies", {
        "unifi.wan-accept-all": (P, ""),  # the NAS policy names one address and one port
        "unifi.admin-on-wan": (P, ""),  # only WireGuard's port to the gateway
        # the pupils' zone has no way into Internal but the printers; UniFi blocks the rest
        "unifi.lan-segmentation": (P, "Block All Traffic"),
        "unifi.rule-logging": (F, "WireGuard thuiswerk"),
    }),
    "unifi/zbf-network-api-primary.json": ("unifi-firewall-policies", {
        # an allow from External to the Gateway zone without any filter: everything, every port
        "unifi.wan-accept-all": (F, "Extern beheer leverancier"),
        "unifi.admin-on-wan": (F, "Extern beheer leverancier"),
        # every network sits in Internal: no zone says it holds the pupils or the guests
        "unifi.lan-segmentation": (NA, "named for pupils or guests"),
        "unifi.rule-logging": (P, ""),
    }),
    "unifi/zbf-policies-without-zones.json": ("unifi-firewall-policies", {
        # the policies alone: which zone id is the internet, the file cannot say
        "unifi.wan-accept-all": (NA, "holds no zones"),
        "unifi.admin-on-wan": (NA, "holds no zones"),
        "unifi.lan-segmentation": (NA, "holds no zones"),
        "unifi.rule-logging": (NA, "holds no zones"),
    }),
    "fortigate/fortiwifi-default-vap.conf": ("fortigate", {
        "fortiap.no-open-staff-ssid": (P, ""),  # no security set: the default WPA2 with a key
        "fortiap.no-wpa1": (F, "BS-Klimop-Klassen ('wpa-personal')"),
        # neither SSID says whom it serves: a shared key may be the pupils' or the staff's
        "fortiap.staff-enterprise": (NA, "BS-Klimop, BS-Klimop-Klassen"),
        "fortiap.guest-isolation": (NA, "no guest network"),
    }),
    "fortigate/fortiwifi-vaps-radius.conf": ("fortigate", {
        "fortiap.no-open-staff-ssid": (P, ""),  # the open SSID is the visitors' captive portal
        "fortiap.no-wpa1": (P, ""),
        "fortiap.staff-enterprise": (P, "KAW-Personeel"),
        # visitors are isolated from each other, but one policy lets them into the whole LAN
        "fortiap.guest-isolation": (F, "Bezoekers naar printer"),
    }),
}  # fmt: skip

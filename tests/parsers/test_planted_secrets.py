"""Secrets never leave the parser: a marker planted in every secret field of every format is
in no parsed tree, so no rule (the catalog's or a custom one), report or output can show it.

The field names are the ones vendors use, after their own documentation and exports:
FortiOS CLI reference (`set psksecret`, `set passphrase`, `set key` of WEP VAPs and key chains,
`set key-string`, `set md5-keys`, `set ddns-key`, SNMP communities), UniFi's network API
(`x_passphrase`, `security_key`), Intune's device export ("BitLocker recovery key"),
pfSense/OPNsense config.xml (`pre-shared-key`, `<passphrase>`), Sophos Firewall's
Entities.xml (`TOKEN`, SNMP community names, `<PresharedKey>`, SNMPv3 passwords), hostapd and wpa_supplicant
(`wpa_passphrase`, `psk`), HTTP headers (`Authorization: Bearer`). Values are our own.
"""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path

import pytest

from cyberstd.bundle import redacted_export
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import source_from_text

_numbers = count(1)


def marker() -> str:
    """A fresh, harmless-looking value: found anywhere in a tree, it leaked."""
    return f"plantedvalue{next(_numbers):03d}"


def _cases() -> list[tuple[str, str, list[str]]]:
    cases: list[tuple[str, str, list[str]]] = []

    def case(fmt: str, template: str, n: int) -> None:
        values = [marker() for _ in range(n)]
        cases.append((fmt, template.format(*values), values))

    case(
        "fortigate",
        "#config-version=FGT60F-7.4.3-FW-build2573-240201:opmode=0:vdom=0\n"
        "config system interface\n"
        '    edit "wan1"\n'
        '        set ddns-key "{0}"\n'
        "    next\n"
        "end\n"
        "config router key-chain\n"
        '    edit "ospf-keys"\n'
        "        config key\n"
        '            edit "1"\n'
        "                set key-string {1}\n"
        "            next\n"
        "        end\n"
        "    next\n"
        "end\n"
        "config router ospf\n"
        "    config ospf-interface\n"
        '        edit "lan"\n'
        "            set md5-keys 1 {2}\n"
        "        next\n"
        "    end\n"
        "end\n"
        "config wireless-controller vap\n"
        '    edit "oud-wep"\n'
        "        set key {3}\n"
        "        set passphrase {4}\n"
        "    next\n"
        "end\n"
        "config vpn ipsec phase1-interface\n"
        '    edit "naar-scholengroep"\n'
        "        set psksecret {5}\n"
        "    next\n"
        "end\n"
        "config system snmp community\n"
        "    edit 1\n"
        '        set name "{6}"\n'
        "    next\n"
        "end\n",
        7,
    )
    case(
        "json",
        '{{"data": [{{"name": "Leerlingen", "security": "wpapsk", "x_passphrase": "{0}", '
        '"security_key": "{1}", "key": "{2}", "wifi_key": "{3}", "wepKey": "{4}"}}], '
        '"request": {{"headers": {{"Authorization": "Bearer {5}", "X-Note": "Bearer {6}"}}}}}}',
        7,
    )
    case(
        "csv",
        "Device name,BitLocker recovery key,Encryption key,wifi_key,Recovery Key ID\n"
        "LKR-01,{0},{1},{2},5a1b2c3d-0001-4e5f-8a9b-0c1d2e3f4a5b\n",
        3,
    )
    # a school's own inventory in Excel, with Dutch headers
    case(
        "csv",
        "Toestel;Wachtwoord;Paswoord admin;Pincode;Wifi-sleutel;Herstelsleutel\n"
        "LKR-01;{0};{1};{2};{3};{4}\n",
        5,
    )
    case(
        "pfsense",
        '<?xml version="1.0"?>\n<pfsense><version>22.2</version>'
        "<ipsec><phase1><ikeid>1</ikeid><pre-shared-key>{0}</pre-shared-key></phase1></ipsec>"
        "<wireless><interfaces><ath0_wlan0><wpa><passphrase>{1}</passphrase></wpa>"
        "</ath0_wlan0></interfaces></wireless>"
        "<system><user><name>admin</name><bcrypt-hash>{2}</bcrypt-hash></user></system>"
        "</pfsense>\n",
        3,
    )
    case(
        "sophos",
        '<?xml version="1.0" encoding="UTF-8"?>\n<Configuration APIVersion="2100.1" TOKEN="{0}">'
        "<SNMPCommunity><Name>{1}</Name><IPAddress>10.0.0.5</IPAddress></SNMPCommunity>"
        '<User><Username>ict</Username><Password passwordform="encrypt">{2}</Password>'
        '<PasswordHash hashform="mode1">{3}</PasswordHash></User>'
        "<IPSecConnection><Name>naar-scholengroep</Name><AuthenticationType>PresharedKey"
        "</AuthenticationType><PresharedKey>{4}</PresharedKey></IPSecConnection>"
        "<SNMPv3User><Username>monitor</Username><AuthenticationPassword>{5}"
        "</AuthenticationPassword><EncryptionPassword>{6}</EncryptionPassword></SNMPv3User>"
        "<WirelessNetworks><Name>Personeel</Name><PassPhrase>{7}</PassPhrase></WirelessNetworks>"
        "<RADIUSServer><ServerName>nps</ServerName><SharedSecret>{8}</SharedSecret></RADIUSServer>"
        "</Configuration>\n",
        9,
    )
    case("keyvalue", "ssid=Personeel\nwpa_passphrase={0}\npsk={1}\nwep_key0={2}\n", 3)
    return cases


CASES = _cases()


@pytest.mark.parametrize(("fmt", "text", "planted"), CASES, ids=[c[0] for c in CASES])
def test_no_planted_secret_survives_parsing(fmt: str, text: str, planted: list[str]) -> None:
    tree = parse_source(source_from_text(text, f"export.{fmt}"), fmt)
    dumped = json.dumps(tree.plain(), ensure_ascii=False)
    leaked = [m for m in planted if m in dumped]
    assert leaked == [], (fmt, leaked, dumped[:2000])
    assert "[redacted]" in dumped


def test_value_shapes_are_secrets_under_any_name() -> None:
    recovery = "-".join(
        f"{n:06d}" for n in (111111, 222222, 333333, 444444, 555555, 666666, 777777, 888888)
    )
    key = "Qm9ndXNLZXlGb3JUZXN0aW5nT25seSs+LzEyMzQ1Njc4OTA="  # base64, both cases, digits, + / =
    text = json.dumps({"notes": recovery, "blob": key, "header": "Basic dXNlcjpwYXNzd29yZA=="})
    dumped = json.dumps(parse_source(source_from_text(text, "x.json"), "json").plain())
    assert recovery not in dumped and key not in dumped and "dXNlcjpwYXNzd29yZA" not in dumped


def test_dutch_words_holding_pass_are_kept() -> None:
    text = "Toepassing;Aanpassing;Leverancier\nSmartschool;2/09/2026;Smartschool NV\n"
    plain = parse_source(source_from_text(text, "toepassingen.csv"), "csv").plain()
    assert plain["rows"] == [
        {"Toepassing": "Smartschool", "Aanpassing": "2/09/2026", "Leverancier": "Smartschool NV"}
    ]


def test_what_only_names_a_key_is_kept() -> None:
    text = json.dumps(
        {
            "key_mgmt": "WPA-PSK",
            "keyType": "rsa",
            "publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPublicPartOnly",
            "HostKey": "/etc/ssh/ssh_host_ed25519_key",
            "deviceId": "5a1b2c3d-0001-4e5f-8a9b-0c1d2e3f4a5b",
            "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        }
    )
    plain = parse_source(source_from_text(text, "x.json"), "json").plain()
    assert plain["key_mgmt"] == "WPA-PSK" and plain["keyType"] == "rsa"
    assert plain["HostKey"].startswith("/etc/ssh/") and plain["deviceId"].startswith("5a1b")
    assert plain["sha256"].startswith("e3b0")


@pytest.mark.parametrize(("fmt", "text", "planted"), CASES, ids=[c[0] for c in CASES])
def test_no_planted_secret_enters_a_bundle(fmt: str, text: str, planted: list[str]) -> None:
    """An export enters an evidence bundle as its redacted tree: no secret in those bytes,
    and every value still knows its line in the original."""
    data = text.encode()
    member = redacted_export(data, Path("export"), "export", "some-kind", fmt)
    for value in planted:
        assert value.encode() not in member, value
    body = json.loads(member)
    assert body["format"] == fmt and "error" not in body
    assert body["lines"] and all(isinstance(n, int) and n >= 1 for n in body["lines"].values())
    assert body["original_size"] == len(data)


def test_an_unreadable_export_enters_a_bundle_as_its_error() -> None:
    member = json.loads(
        redacted_export(b'{"psk": "planted', Path("x.json"), "x.json", "entra-users", "json")
    )
    assert "tree" not in member and "x.json" in member["error"]
    unknown = json.loads(redacted_export(b"{}", Path("x.json"), "x.json", "nieuw", None))
    assert unknown["error"] == "unknown kind 'nieuw'"

"""The FortiGate parser: FortiOS configuration backups (config / edit / set / next / end)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstd.parsers import formats, parse_file, parse_source
from cyberstd.parsers.base import REDACTED, Node, ParseError, read_source, source_from_text

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "exports" / "fortigate"
GOOD = SAMPLES / "school-fw-good.conf"
BAD = SAMPLES / "school-fw-bad.conf"


def line_of(path: Path, start: str, after: int = 0) -> int:
    """The 1-based line of the first line after line `after` that starts with `start`."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if number > after and line.strip().startswith(start):
            return number
    raise AssertionError(f"{start!r} not in {path}")


def parse_text(text: str) -> Node:
    return parse_source(source_from_text(text, "fw.conf"), "fortigate")


def secrets_of(path: Path) -> list[str]:
    """What must never appear: ENC blobs and every line inside a private key."""
    text = path.read_text()
    found = re.findall(r"ENC (\S+)", text)
    for block in re.findall(r"PRIVATE KEY-----\n(.*?)\n-----END", text, re.DOTALL):
        found.extend(block.splitlines())
    return found


def test_good_sample_shape() -> None:
    tree = parse_file(GOOD, "fortigate").plain()
    assert tree["header"] == {
        "model": "FGT60F",
        "version": "7.4.4",
        "build": "2662",
        "opmode": "0",
        "vdom": "0",
        "user": "it-coordinator",
    }
    assert tree["system global"]["admin-lockout-threshold"] == "3"
    assert tree["system global"]["hostname"] == "school-fw"
    interfaces = tree["system interface"]
    assert list(interfaces) == ["dmz", "wan1", "internal", "guest", "to-district"]
    assert interfaces["wan1"]["ip"] == ["203.0.113.2", "255.255.255.248"]
    assert interfaces["wan1"]["allowaccess"] == "ping"
    assert interfaces["wan1"]["role"] == "wan"
    assert interfaces["internal"]["allowaccess"] == ["ping", "https", "ssh", "fabric"]
    assert interfaces["internal"]["alias"] == "LAN personeel"
    assert interfaces["internal"]["ipv6"] == {"ip6-send-adv": "disable"}
    assert interfaces["guest"]["vlanid"] == "50"
    admins = tree["system admin"]
    assert {a["two-factor"] for a in admins.values()} == {"fortitoken-cloud", "email"}
    assert admins["admin"]["password"] == REDACTED
    assert admins["admin"]["trusthost1"] == ["10.20.0.0", "255.255.252.0"]
    assert tree["system ntp"] == {
        "ntpsync": "enable",
        "type": "custom",
        "ntpserver": {"1": {"server": "be.pool.ntp.org"}, "2": {"server": "time.cloudflare.com"}},
    }
    assert tree["system dhcp server"]["1"]["ip-range"]["1"]["end-ip"] == "192.168.50.250"
    assert tree["log syslogd setting"]["status"] == "enable"
    assert tree["log syslogd setting"]["server"] == "10.20.0.20"
    policies = tree["firewall policy"]
    assert list(policies) == ["1", "2", "3"]
    assert policies["1"]["srcintf"] == "internal"
    assert policies["1"]["webfilter-profile"] == "school-webfilter"
    assert policies["2"]["service"] == ["HTTP", "HTTPS", "DNS"]
    phase1 = tree["vpn ipsec phase1-interface"]["to-district"]
    assert phase1["psksecret"] == REDACTED
    assert phase1["dhgrp"] == ["20", "21"]
    cert = tree["vpn certificate local"]["school-fw-gui"]
    assert cert["private-key"] == REDACTED
    assert cert["certificate"].startswith("-----BEGIN CERTIFICATE-----\n")
    assert cert["certificate"].endswith("\n-----END CERTIFICATE-----")
    assert cert["comments"] == "Certificate for the admin GUI, signed by the district CA"


def test_bad_sample_shape() -> None:
    tree = parse_file(BAD, "fortigate").plain()
    assert tree["header"]["version"] == "7.0.12"
    assert tree["header"]["build"] == "0523"
    wan = tree["system interface"]["wan1"]
    assert wan["role"] == "wan"
    assert {"https", "ssh", "http"} <= set(wan["allowaccess"])
    inbound = tree["firewall policy"]["2"]
    assert (inbound["srcintf"], inbound["action"]) == ("wan1", "accept")
    assert (inbound["srcaddr"], inbound["dstaddr"], inbound["service"]) == ("all", "all", "ALL")
    assert tree["firewall policy"]["1"]["srcintf"] == ["internal", "guest"]
    assert tree["firewall policy"]["3"]["dstintf"] == "internal"
    assert tree["log syslogd setting"] == {"status": "disable"}
    assert all("two-factor" not in a for a in tree["system admin"].values())
    assert tree["system snmp community"]["1"]["hosts"]["1"]["ip"] == ["0.0.0.0", "0.0.0.0"]
    assert tree["user local"]["vpn-directie"]["passwd"] == REDACTED
    assert tree["vpn ipsec phase1-interface"]["naar-thuis-directie"]["mode"] == "aggressive"


def test_every_node_has_the_line_of_its_statement() -> None:
    tree = parse_file(GOOD, "fortigate", display="fw/good.conf")
    interfaces = tree.value["system interface"]
    assert interfaces.line == line_of(GOOD, "config system interface")
    wan = interfaces.value["wan1"]
    assert wan.line == line_of(GOOD, 'edit "wan1"')
    assert wan.value["role"].line == line_of(GOOD, "set role wan")
    ip = wan.value["ip"]
    assert ip.line == line_of(GOOD, "set ip 203.0.113.2")
    assert [n.line for n in ip.value] == [ip.line, ip.line]
    internal = interfaces.value["internal"]
    assert internal.value["ipv6"].line == line_of(GOOD, "config ipv6")
    header = tree.value["header"]
    assert header.line == 1 and header.value["version"].line == 1
    cert_line = line_of(GOOD, 'edit "school-fw-gui"')
    certificate = tree.value["vpn certificate local"].value["school-fw-gui"].value["certificate"]
    assert certificate.line == line_of(GOOD, "set certificate", after=cert_line)
    policy = tree.value["firewall policy"].value["3"]
    assert policy.line == line_of(GOOD, "edit 3", after=line_of(GOOD, "config firewall policy"))
    assert all(n.file == "fw/good.conf" and n.line for n in tree.walk())


def test_secrets_never_appear_in_the_tree() -> None:
    for path in (GOOD, BAD):
        secrets = secrets_of(path)
        assert len(secrets) > 20
        shown = repr(parse_file(path, "fortigate").plain())
        assert not [s for s in secrets if s in shown]
        assert "PRIVATE KEY" not in shown


def test_the_parser_itself_redacts_enc_values_and_private_keys() -> None:
    tree = formats()["fortigate"].func(
        source_from_text(
            "config vpn certificate local\n"
            '    edit "x"\n'
            '        set comments "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----"\n'
            "        set secondary-key ENC QmFzZTY0U2VjcmV0\n"
            "        set range global\n"
            "    next\n"
            "end\n"
        )
    )
    assert tree.plain() == {
        "vpn certificate local": {
            "x": {"comments": REDACTED, "secondary-key": REDACTED, "range": "global"}
        }
    }
    raw = formats()["fortigate"].func(read_source(GOOD)).plain()
    assert raw["vpn ipsec phase1-interface"]["to-district"]["psksecret"] == REDACTED
    assert raw["vpn certificate local"]["school-fw-gui"]["private-key"] == REDACTED


def test_quotes_escapes_unset_and_empty_values() -> None:
    tree = parse_text(
        "config system global\n"
        '    set alias "Sint-Jozef \\"campus\\" 2"\n'
        "    set pre-login-banner\n"
        "    set post-login-banner 'two  spaces'\n"
        "    set hostname first\n"
        "    set hostname second\n"
        "    unset timezone\n"
        '    set comments "line one\n'
        'line two"\n'
        "    set admin-sport 8443\n"
        "end\n"
    )
    assert tree.plain() == {
        "system global": {
            "alias": 'Sint-Jozef "campus" 2',
            "pre-login-banner": "",
            "post-login-banner": "two  spaces",
            "hostname": "second",
            "timezone": None,
            "comments": "line one\nline two",
            "admin-sport": "8443",
        }
    }
    assert tree.value["system global"].value["admin-sport"].line == 10


def test_repeated_blocks_and_entries_merge() -> None:
    tree = parse_text(
        "config vdom\nedit root\nnext\nend\n"
        "config global\nconfig system global\nset hostname fw\nend\nend\n"
        "config vdom\nedit root\nconfig firewall policy\nedit 1\nset action accept\nnext\nend\nnext\nend\n"
        "config firewall address\nedit a\nset subnet 10.0.0.0 255.0.0.0\nnext\nend\n"
        "config firewall address\nedit a\nset comment x\nnext\nedit b\nnext\nend\n"
    )
    assert tree.plain() == {
        "vdom": {
            "root": {
                "firewall policy": {
                    "1": {
                        "action": "accept",
                        "web-filter-reason": "utm-status is not enabled, "
                        "so no security profile applies",
                    }
                }
            }
        },
        "global": {"system global": {"hostname": "fw"}},
        "firewall address": {
            "a": {"subnet": ["10.0.0.0", "255.0.0.0"], "comment": "x"},
            "b": {},
        },
    }


def test_end_inside_an_edit_closes_both() -> None:
    tree = parse_text("config user local\nedit u\nset status enable\nend\nconfig system dns\nend\n")
    assert tree.plain() == {"user local": {"u": {"status": "enable"}}, "system dns": {}}


def test_no_header_is_fine_when_there_is_config() -> None:
    assert "header" not in parse_text("config system global\nset hostname x\nend\n").plain()


def test_truncated_backup_names_the_unclosed_config(tmp_path: Path) -> None:
    text = GOOD.read_text()
    path = tmp_path / "cut.conf"
    path.write_text(text[: text.index("set dst 10.0.0.0")])
    with pytest.raises(ParseError) as info:
        parse_file(path, "fortigate")
    assert info.value.line == line_of(GOOD, "config router static")
    assert "'config router static' has no 'end'" in info.value.detail
    path.write_text(text[: text.index('set server "be.pool.ntp.org"')])
    with pytest.raises(ParseError) as info:
        parse_file(path, "fortigate")
    assert info.value.line == line_of(GOOD, "config system ntp")


def test_backup_cut_inside_a_private_key_leaks_nothing(tmp_path: Path) -> None:
    text = GOOD.read_text()
    path = tmp_path / "cut.conf"
    path.write_text(text[: text.index("END ENCRYPTED PRIVATE KEY")])
    with pytest.raises(ParseError) as info:
        parse_file(path, "fortigate")
    assert info.value.line == line_of(GOOD, "set private-key")
    assert "never closed" in info.value.detail
    assert not [s for s in secrets_of(GOOD) if s in str(info.value)]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "empty file", None),
        ("hostname school-fw\nPermitRootLogin no\n", "not a FortiGate configuration", None),
        ('{"config": "system"}\n', "not a FortiGate configuration", None),
        ("#config-version=FGT60F-7.2.5-FW-build1517-230606:opmode=0\n", "no config blocks", None),
        ("config system global\nset hostname x\nend\nend\n", "'end' without 'config'", 4),
        ("config system global\nnext\nend\n", "'next' without 'edit'", 2),
        ("set hostname x\nconfig system global\nend\n", "'set' outside a config block", 1),
        ("config system admin\nedit\nnext\nend\n", "'edit' takes one name", 2),
        ("config system admin\nedit a b\nnext\nend\n", "'edit' takes one name", 2),
        ("edit 1\nconfig firewall policy\nend\n", "'edit' outside a config block", 1),
        ("config firewall policy\nedit 1\nnext\nset x y\nend\n", "mixes 'edit' entries", 4),
        ("config system global\nset x y\nedit 1\nnext\nend\n", "mixes 'edit' entries", 3),
        ("config system global\nunset\nend\n", "without a setting name", 2),
        ("config system dns\nend\nconfig\nend\n", "'config' without a path", 3),
        ("config system global\nshow full-configuration\nend\n", "expected config, edit", 2),
        ('config system global\nset alias "abc\nend\n', "never closed", 2),
        ("config system global\nset alias abc'def\nend\n", "never closed", 2),
    ],
)
def test_bad_text(text: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError) as info:
        parse_text(text)
    assert message in info.value.detail
    assert info.value.line == line
    assert info.value.file == "fw.conf"


def test_nesting_is_limited() -> None:
    text = "config a\n" * 70 + "end\n" * 70
    with pytest.raises(ParseError, match="nested more than 64"):
        parse_text(text)
    tree = parse_text("config a\n" * 30 + "set k v\n" + "end\n" * 30)
    node = tree.plain()
    for _ in range(30):
        node = node["a"]
    assert node == {"k": "v"}


def test_wrong_vendor_non_utf8_and_binary(tmp_path: Path) -> None:
    sshd = SAMPLES.parent / "sshd_config" / "good" / "sshd_config"
    with pytest.raises(ParseError, match="not a FortiGate configuration"):
        parse_file(sshd, "fortigate")
    latin = tmp_path / "latin.conf"
    latin.write_bytes(b'config system global\n    set alias "caf\xe9"\nend\n')
    with pytest.raises(ParseError) as info:
        parse_file(latin, "fortigate")
    assert info.value.line == 2
    binary = tmp_path / "fgt.bin"
    binary.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)))
    with pytest.raises(ParseError, match="binary"):
        parse_file(binary, "fortigate")


WORDS = st.sampled_from(
    [
        "config",
        "edit",
        "set",
        "unset",
        "next",
        "end",
        "system global",
        '"',
        "'",
        "ENC",
        "#",
        "\n",
        "-----BEGIN PRIVATE KEY-----",
        "#config-version=FGT60F-7.2.5-FW-build1517-1:vdom=0",
        " ",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(WORDS, st.text(max_size=10)), max_size=30).map(" ".join))
def test_any_text_gives_a_tree_or_a_parse_error(text: str) -> None:
    try:
        tree = parse_text(text)
    except ParseError:
        return
    assert isinstance(tree.plain(), dict)

"""Sophos Firewall Entities.xml and XML API answers: tree, derived fields, lines, redaction,
refused entities and bad input."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstd.parsers import parse_file, parse_source
from cyberstd.parsers.base import REDACTED, Node, ParseError, source_from_text

DATA = Path(__file__).resolve().parent.parent / "data" / "exports" / "sophos"
GOOD = DATA / "good" / "Entities.xml"
BAD = DATA / "bad" / "Entities.xml"
SECRETS = ("Pr1nt3rs-Sint-Jozef-2019!", "Leerkracht2024!", "c2ludGpvemVm", "bm90LWEtcmVhbC1oYXNo")


def parse_text(text: str, name: str = "Entities.xml") -> Node:
    return parse_source(source_from_text(text, name), "sophos")


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    hits = [i for i, line in enumerate(lines, 1) if needle in line]
    return hits[nth - 1]


def by_name(tree: Node, tag: str, name: str, key: str = "Name") -> Node:
    node = tree.get(tag)
    assert node is not None
    items = node.value if isinstance(node.value, list) else [node]
    found = [n for n in items if (k := n.get(key)) is not None and k.value == name]
    assert len(found) == 1, (tag, name)
    return found[0]


def test_good_export_tree_and_derived_fields() -> None:
    tree = parse_file(GOOD, "sophos", display="Entities.xml")
    plain = tree.plain()
    assert plain["@APIVersion"] == "2100.1"
    assert plain["firmware"] == "21.0" and plain["full-export"] == "yes"
    assert plain["answers"] == ["all"]
    assert plain["wan-zones"] == ["WAN"] and plain["wan-interfaces"] == ["PortB"]
    zones = {z["Name"]: z for z in plain["Zone"]}
    assert zones["LAN"]["admin-services"] == "HTTPS, SSH"
    assert "admin-services" not in zones["WAN"]  # only SSL VPN and the user portal
    assert zones["Leerlingen"]["role-effective"] == "lan"
    rule = by_name(tree, "FirewallRule", "Leerlingen naar internet").plain()
    assert rule["source-zones"] == ["Leerlingen"] and rule["source-roles"] == ["lan"]
    assert rule["destination-roles"] == ["wan"]
    assert rule["any-service"] is False and rule["any-destination-network"] is True
    assert rule["web-filter"] == "Leerlingen veilig surfen" and rule["log-traffic"] == "enable"
    dmz = by_name(tree, "FirewallRule", "Website naar DMZ").plain()
    assert "web-filter" not in dmz  # "None" is no web policy
    acl = by_name(tree, "LocalServiceACL", "Beheer vanaf ICT-lokaal", "RuleName").plain()
    assert acl["source-role"] == "lan" and acl["admin-services"] == "HTTPS, SSH"


def test_a_rule_without_zones_or_lists_takes_any() -> None:
    tree = parse_file(BAD, "sophos")
    rule = by_name(tree, "FirewallRule", "LAN naar alles").plain()
    assert rule["destination-zones"] == ["Any"] and rule["destination-roles"] == ["any"]
    assert rule["any-source-network"] and rule["any-destination-network"] and rule["any-service"]
    assert by_name(tree, "Zone", "WAN").plain()["admin-services"] == "HTTPS, SNMP"
    assert tree.plain()["firmware"] == "19.5"


def test_lines_point_at_the_elements() -> None:
    tree = parse_file(GOOD, "sophos")
    rule = by_name(tree, "FirewallRule", "Personeel naar internet")
    assert rule.line == line_of(GOOD, "<FirewallRule", 1)
    web = rule.get("web-filter")
    assert web is not None and web.line == line_of(GOOD, "Default Workplace Policy")
    zone = by_name(tree, "Zone", "LAN")
    services = zone.get("admin-services")
    assert services is not None and services.line == line_of(GOOD, "<ApplianceAccess>")
    firmware = tree.get("firmware")
    assert firmware is not None and firmware.line == 2


@pytest.mark.parametrize("path", [GOOD, BAD], ids=["good", "bad"])
def test_secrets_are_redacted(path: Path) -> None:
    dumped = json.dumps(parse_file(path, "sophos").plain(), ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in dumped
    assert "$sfos$" not in dumped and "4F2A9C7E" not in dumped
    assert REDACTED in dumped


def test_api_answer_reads_the_built_in_wan_zone_and_drops_empty_answers() -> None:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Response APIVersion="2000.1" IPS_CAT_VER="1">\n'
        "  <Login><status>Authentication Successful</status></Login>\n"
        '  <FirewallRule transactionid="">\n'
        "    <Name>Camera &gt; NVR</Name><Status>Enable</Status>\n"
        "    <NetworkPolicy><Action>Accept</Action><LogTraffic>Disable</LogTraffic>\n"
        "      <SourceZones><Zone>WAN</Zone></SourceZones>\n"
        "      <Services><Service>Any</Service></Services>\n"
        "    </NetworkPolicy>\n"
        "  </FirewallRule>\n"
        '  <LocalServiceACL transactionid="">\n'
        "    <Status>No. of records Zero.</Status>\n"
        "  </LocalServiceACL>\n"
        "</Response>\n"
    )
    plain = parse_text(text, "answer.xml").plain()
    assert plain["wan-zones"] == ["WAN"]  # named by the rule: SFOS's own WAN zone
    assert "LocalServiceACL" not in plain and "firmware" not in plain
    assert plain["answers"] == ["FirewallRule", "LocalServiceACL"]  # asked, none there
    assert "full-export" not in plain
    rule = plain["FirewallRule"]
    assert rule["Name"] == "Camera > NVR" and rule["any-service"] is True
    assert rule["source-roles"] == ["wan"] and rule["action-effective"] == "accept"


def test_a_refused_sign_in_is_said() -> None:
    text = (
        '<Response APIVersion="2100.1"><Login><status>Authentication Failure</status>'
        "</Login></Response>"
    )
    with pytest.raises(ParseError, match="refused the request") as info:
        parse_text(text)
    assert info.value.line == 1


@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0"?>\n<!DOCTYPE c [<!ENTITY a "aaaa">]>\n<Configuration>&a;</Configuration>',
        '<?xml version="1.0"?>\n<!DOCTYPE c SYSTEM "http://192.0.2.1/x.dtd">\n<Configuration/>',
        '<?xml version="1.0"?>\n<Configuration><Zone>&ext;</Zone></Configuration>',
    ],
)
def test_entities_and_dtds_are_refused(text: str) -> None:
    with pytest.raises(ParseError, match="XML entities are not allowed"):
        parse_text(text)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "empty file", None),
        ('<Configuration APIVersion="2100.1">\n  <Zone>\n', "unexpected end of file", 3),
        ("<Configuration>\n<Zone></Name>\n</Configuration>", "not well-formed XML", 2),
        ("<pfsense><filter/></pfsense>", "not a Sophos Firewall configuration", 1),
        ("not xml at all", "not well-formed XML", 1),
    ],
)
def test_bad_input(text: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_text(text)
    assert info.value.line == line
    assert str(info.value).startswith("Entities.xml")


def test_truncated_export_names_its_line(tmp_path: Path) -> None:
    lines = GOOD.read_text(encoding="utf-8").splitlines()
    cut = tmp_path / "Entities.xml"
    cut.write_text("\n".join(lines[:60]), encoding="utf-8")
    with pytest.raises(ParseError, match="truncated") as info:
        parse_file(cut, "sophos", display="Entities.xml")
    assert info.value.line == 60
    for secret in SECRETS:
        assert secret not in str(info.value)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_tree_or_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_text(text)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<Zone>",
                "</Zone>",
                "<Name>WAN</Name>",
                "<Type>WAN</Type>",
                "<FirewallRule>",
                "</FirewallRule>",
                "<NetworkPolicy>",
                "</NetworkPolicy>",
                "<SourceZones><Zone>LAN</Zone></SourceZones>",
                "<Login><status>x</status></Login>",
                "<Status>No. of records Zero.</Status>",
                "<ApplianceAccess><AdminServices><HTTPS>Enable</HTTPS></AdminServices>",
                "</ApplianceAccess>",
                "&amp;",
                "<![CDATA[x]]>",
            ]
        ),
        max_size=20,
    ),
    st.sampled_from(["Configuration", "Response"]),
)
def test_xml_like_text_gives_a_tree_or_parse_error(parts: list[str], root: str) -> None:
    text = f'<{root} APIVersion="1905.1">{"".join(parts)}</{root}>'
    with contextlib.suppress(ParseError):
        parse_text(text)

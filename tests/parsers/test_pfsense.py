"""pfSense/OPNsense config.xml: tree shape, lines, redaction, refused entities and bad input."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstd.parsers import parse_file, parse_source
from cyberstd.parsers.base import REDACTED, Node, ParseError, is_secret_value, source_from_text

DATA = Path(__file__).resolve().parent.parent / "data" / "exports" / "pfsense"
GOOD = DATA / "config-good.xml"
BAD = DATA / "config-bad.xml"
OPN = DATA / "opnsense-config.xml"
SAMPLES = [GOOD, BAD, OPN]

# Every element of the samples that holds a secret, and the ancestor it must sit under (if any).
SECRET_TAGS = (
    "password",
    "bcrypt-hash",
    "sha512-hash",
    "pre-shared-key",
    "prv",
    "authorizedkeys",
    "secret",
    "ipsecpsk",
    "ldap_bindpw",
    "rocommunity",
    "otp_seed",
    "privkey",
    "psk",
    "tls",
    "api",
)


def parse_text(text: str, name: str = "config.xml") -> Node:
    return parse_source(source_from_text(text, name), "pfsense")


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def child(node: Node | None, *path: str | int) -> Node:
    for part in path:
        assert node is not None, path
        node = node.value[part] if isinstance(part, int) else node.get(part)
    assert node is not None, path
    return node


def secret_values(path: Path) -> list[str]:
    """The text of every secret-holding element in a sample (plus API keys under <apikeys>)."""
    text = path.read_text(encoding="utf-8")
    tags = "|".join(re.escape(t) for t in SECRET_TAGS)
    found = [m.group(2) for m in re.finditer(rf"<({tags})>([^<]+)</\1>", text)]
    for block in re.findall(r"<apikeys>(.*?)</apikeys>", text, re.DOTALL):
        found += re.findall(r"<key>([^<]+)</key>", block)
    return [v for v in found if v.strip()]


# --- tree shape and lines ---------------------------------------------------------------------


def test_good_config_tree() -> None:
    tree = parse_file(GOOD, "pfsense")
    plain = tree.plain()
    assert plain["version"] == "22.2"
    assert plain["lastchange"] == ""
    system = plain["system"]
    assert system["hostname"] == "fw"
    assert system["webgui"] == {
        "protocol": "https",
        "loginautocomplete": "",
        "ssl-certref": "62a0f1c4b7e99",
        "port": "443",
        "max_procs": "2",
        "roaming": "enabled",
        "dashboardcolumns": "2",
    }
    assert system["dnsserver"] == ["9.9.9.9", "149.112.112.112"]
    assert [u["name"] for u in system["user"]] == ["admin", "ict"]
    assert system["user"][0]["bcrypt-hash"] == REDACTED
    assert system["user"][1]["descr"] == "ICT-coördinator"
    assert plain["interfaces"]["wan"]["if"] == "igb0"
    assert plain["interfaces"]["wan"]["ipaddr"] == "dhcp"
    assert plain["interfaces"]["wan"]["enable"] == ""
    rules = plain["filter"]["rule"]
    assert isinstance(rules, list) and len(rules) == 4
    assert rules[0]["type"] == "pass"
    assert rules[0]["interface"] == "wan"
    assert rules[0]["source"] == {"any": ""}
    assert rules[0]["destination"] == {"network": "wanip", "port": "1194"}
    assert rules[0]["descr"] == "OpenVPN voor leerkrachten"  # CDATA read as text
    assert rules[1]["destination"] == {"any": ""}
    assert plain["syslog"]["remoteserver"] == "10.10.0.5:514"
    assert plain["syslog"]["enable"] == ""
    assert plain["staticroutes"] == ""
    assert plain["ca"]["crt"].startswith("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS")  # certificates kept


def test_lines_point_at_the_start_tags() -> None:
    text = GOOD.read_text(encoding="utf-8")
    tree = parse_file(GOOD, "pfsense")
    assert tree.line == line_of(text, "<pfsense>")
    assert child(tree, "version").line == line_of(text, "<version>")
    assert child(tree, "filter").line == line_of(text, "<filter>")
    rules = child(tree, "filter", "rule")
    assert rules.line == line_of(text, "<rule>", 1)  # a list is at its first item
    for i in range(4):
        assert child(rules, i).line == line_of(text, "<rule>", i + 1)
    # the first <any></any> is rule 0's source, the second rule 1's destination
    assert child(rules, 1, "destination", "any").line == line_of(text, "<any></any>", 2)
    syslog = line_of(text, "<syslog>")
    assert (
        child(tree, "syslog", "enable").line
        == syslog + text.splitlines()[syslog:].index("\t\t<enable></enable>") + 1
    )
    user = child(tree, "system", "user", 1)
    assert user.line == line_of(text, "<user>", 2)
    assert child(user, "name").line == line_of(text, "<name>ict</name>")
    assert all(n.file == str(GOOD) for n in tree.walk())
    assert all(isinstance(n.line, int) and n.line >= 1 for n in tree.walk())


def test_bad_config_shows_its_weaknesses() -> None:
    plain = parse_file(BAD, "pfsense").plain()
    rules = plain["filter"]["rule"]
    wan_pass = [r for r in rules if r.get("interface") == "wan" and r.get("type") == "pass"]
    assert {"any": ""} == wan_pass[0]["source"] == wan_pass[0]["destination"]
    assert wan_pass[1]["destination"] == {"network": "wanip", "port": "443"}
    assert "remoteserver" not in plain["syslog"]
    assert "enable" not in plain["syslog"]
    assert plain["system"]["group"]["name"] == "admins"  # a tag that does not repeat: a mapping
    assert plain["nat"]["rule"]["local-port"] == "3389"


def test_opnsense_config_with_attributes() -> None:
    tree = parse_file(OPN, "pfsense")
    plain = tree.plain()
    assert plain["system"]["webgui"]["interfaces"] == "lan"
    assert plain["system"]["webgui"]["port"] == ""
    assert plain["system"]["firmware"]["@version"] == "1.0.1"
    rules = plain["filter"]["rule"]
    assert rules[0]["@uuid"] == "5f7b1a3c-2d4e-4f60-8a9b-0c1d2e3f4a5b"
    assert rules[1]["destination"] == {"network": "(self)", "port": "51820"}
    dest = plain["OPNsense"]["Syslog"]["destinations"]["destination"]
    assert (dest["hostname"], dest["port"], dest["enabled"]) == ("10.30.0.5", "514", "1")
    text = OPN.read_text(encoding="utf-8")
    uuid = child(tree, "filter", "rule", 1, "@uuid")
    assert uuid.line == line_of(text, '<rule uuid="7a9c0e2f')
    assert plain["sysctl"]["item"][1]["tunable"] == "vfs.read_max"


def test_text_beside_children_or_attributes_and_mixed_case() -> None:
    plain = parse_text(
        '<pfsense>\n<a x="1">text</a>\n<b>before<c/>after</b>\n<d y="2"/>\n<E>up</E>\n</pfsense>'
    ).plain()
    assert plain == {
        "a": {"@x": "1", "#text": "text"},
        "b": {"c": "", "#text": "beforeafter"},
        "d": {"@y": "2"},
        "E": "up",
    }


def test_escapes_and_whitespace() -> None:
    text = "<?xml version='1.0'?>\n<pfsense>\n  <descr>  A &amp; B &lt;3 &#233;  </descr>\n</pfsense>\n"
    assert parse_text(text).plain() == {"descr": "A & B <3 é"}


def test_utf16_file(tmp_path: Path) -> None:
    path = tmp_path / "config.xml"
    path.write_bytes(
        '<?xml version="1.0" encoding="UTF-16"?>\n<opnsense><a>été</a></opnsense>'.encode("utf-16")
    )
    assert parse_file(path, "pfsense").plain() == {"a": "été"}


# --- redaction --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_secret_is_redacted(path: Path) -> None:
    secrets = secret_values(path)
    assert len(secrets) >= 3
    tree = parse_file(path, "pfsense")
    shown = repr(tree.plain())
    for secret in secrets:
        assert secret not in shown, secret
    for node in tree.walk():
        if isinstance(node.value, str):
            assert all(s not in node.value for s in secrets)


def test_secrets_the_generic_redaction_would_miss() -> None:
    plain = parse_file(OPN, "pfsense").plain()
    user = plain["system"]["user"]
    assert user["apikeys"]["item"] == {"key": REDACTED, "secret": REDACTED}
    assert user["otp_seed"] == REDACTED
    assert user["authorizedkeys"] == REDACTED
    good = parse_file(GOOD, "pfsense").plain()
    assert good["openvpn"]["openvpn-server"]["tls"] == REDACTED
    assert good["openvpn"]["openvpn-server"]["tls_type"] == "auth"
    assert good["notifications"]["telegram"]["api"] == REDACTED
    assert good["system"]["authserver"]["ldap_bindpw"] == REDACTED
    assert good["cert"]["prv"] == REDACTED
    # empty secrets stay empty: present but not set
    assert good["system"]["user"][1]["authorizedkeys"] == ""
    assert good["system"]["user"][0]["ipsecpsk"] == ""


def test_secret_with_attributes_and_key_outside_apikeys() -> None:
    plain = parse_text(
        '<pfsense><password enc="b64">Zm9vYmFyYmF6cXV4</password>'
        "<ppp><key>not-a-secret-id</key></ppp></pfsense>"
    ).plain()
    assert plain["password"] == {"@enc": "b64", "#text": REDACTED}
    # a bare <key> is redacted wherever it stands: a lost PPP link id costs nothing, a kept
    # secret would
    assert plain["ppp"]["key"] == REDACTED


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_errors_never_show_secrets(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    secrets = secret_values(path)
    for secret in secrets:
        cut = text.index(secret) + len(secret) // 2
        for broken in (text[:cut], text[:cut] + "</x>", text[:cut] + "\x01" + text[cut:]):
            with pytest.raises(ParseError) as info:
                parse_text(broken)
            assert all(s not in str(info.value) for s in secrets)


# --- refused and broken input -----------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE pfsense [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<pfsense><system><hostname>&lol9;</hostname></system></pfsense>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE pfsense [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<pfsense><system><hostname>&xxe;</hostname></system></pfsense>
"""

PARAMETER = """<?xml version="1.0"?>
<!DOCTYPE pfsense [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<pfsense><version>22.2</version></pfsense>
"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE pfsense SYSTEM "http://127.0.0.1:9/pfsense.dtd">
<pfsense><version>22.2</version></pfsense>
"""


@pytest.mark.parametrize(
    "text",
    [
        BILLION_LAUGHS,
        EXTERNAL,
        PARAMETER,
        EXTERNAL_DTD,
        "<!DOCTYPE pfsense>\n<pfsense><a/></pfsense>",
    ],
    ids=["billion-laughs", "external-entity", "parameter-entity", "external-dtd", "doctype"],
)
def test_entities_and_dtds_are_refused(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_text(text)
    assert info.value.detail == "XML entities are not allowed"
    assert info.value.line is not None and info.value.line <= 2


def test_undefined_entity_reference_is_refused() -> None:
    with pytest.raises(ParseError, match="XML entities are not allowed") as info:
        parse_text("<pfsense>\n<descr>&nbsp;</descr>\n</pfsense>")
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "empty file", None),
        ("  \n\t\n", "empty file", None),
        ("<fortigate><a/></fortigate>", "not a pfSense/OPNsense config.xml", 1),
        ("<?xml version='1.0'?>\n<html><body/></html>", "root element is <html>", 2),
        ("<pfsense>\n<system>\n<hostname>fw", "unexpected end of file", 3),
        ("<pfsense><a></b></pfsense>", "not well-formed XML: mismatched tag", 1),
        ("<pfsense><a/></pfsense>\n<pfsense/>", "junk after document element", 2),
        ('{"pfsense": {"version": "22.2"}}', "not well-formed XML", 1),
        ("config system global\n    set hostname fw\nend\n", "not well-formed XML", 1),
        ("<pfsense/>", "holds no configuration", 1),
        ("<pfsense>only text</pfsense>", "holds no configuration", 1),
        ("<pfsense><a>\x01</a></pfsense>", "not well-formed XML", 1),
        ("<pfsense>" + "<a>" * 250 + "</a>" * 250 + "</pfsense>", "nested more than 200", 1),
    ],
    ids=[
        "empty",
        "blank",
        "fortigate-root",
        "html",
        "truncated",
        "mismatched",
        "two-roots",
        "json",
        "fortigate-text",
        "empty-root",
        "text-root",
        "control-char",
        "too-deep",
    ],
)
def test_bad_input(text: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError) as info:
        parse_text(text, "fw.xml")
    assert message in info.value.detail
    assert info.value.line == line
    assert info.value.file == "fw.xml"


def test_truncated_sample(tmp_path: Path) -> None:
    data = GOOD.read_bytes()
    path = tmp_path / "config.xml"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError, match="truncated"):
        parse_file(path, "pfsense")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<pfsense><a>\xe9t\xe9</a></pfsense>',
            "UTF-8",
        ),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(256)), "binary"),
        (bytes(range(256)) * 4, "binary"),
    ],
    ids=["latin1", "gzip", "binary"],
)
def test_non_text_files(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "config.xml"
    path.write_bytes(data)
    with pytest.raises(ParseError, match=message):
        parse_file(path, "pfsense")


# --- properties -------------------------------------------------------------------------------


def check_tree_or_error(parse: Callable[[], Node], file: str) -> None:
    """A parse either fails with a ParseError naming the file, or gives a located mapping."""
    try:
        tree = parse()
    except ParseError as exc:
        assert exc.file == file
        assert exc.detail
        return
    assert isinstance(tree.value, dict)
    assert all(n.file == file and n.line is not None for n in tree.walk())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_tree_or_parse_error(text: str) -> None:
    check_tree_or_error(lambda: parse_text(text), "config.xml")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="<>/!?&;=\"' apfsenopnsense[]-:#%x\n", max_size=200))
def test_xml_like_text_gives_a_tree_or_parse_error(text: str) -> None:
    check_tree_or_error(lambda: parse_text("<pfsense>" + text), "config.xml")


TAG = st.sampled_from(["a", "rule", "if", "descr", "item", "opt1", "Alias"])
TEXT = st.text(
    alphabet=st.characters(categories=["L", "N"]) | st.sampled_from(" <>&'\"."), max_size=12
)
Element = tuple[str, Any]  # (tag, text) or (tag, [children])
ELEMENTS: st.SearchStrategy[Element] = st.recursive(
    st.tuples(TAG, TEXT),
    lambda inner: st.tuples(TAG, st.lists(inner, min_size=1, max_size=4)),
    max_leaves=25,
)


def to_xml(element: Element) -> str:
    tag, body = element
    if isinstance(body, str):
        return f"<{tag}>{escape(body)}</{tag}>" if body else f"<{tag}/>"
    return f"<{tag}>\n" + "\n".join(to_xml(c) for c in body) + f"\n</{tag}>"


def expected(element: Element) -> Any:
    """The documented tree shape, computed independently of the parser."""
    _, body = element
    if isinstance(body, str):
        text = body.strip()
        return REDACTED if is_secret_value(text) else text
    groups: dict[str, list[Any]] = {}
    for c in body:
        groups.setdefault(c[0], []).append(expected(c))
    return {k: v[0] if len(v) == 1 else v for k, v in groups.items()}


@settings(max_examples=200, deadline=None)
@given(st.lists(ELEMENTS, min_size=1, max_size=5), st.sampled_from(["pfsense", "opnsense"]))
def test_generated_configs_parse_to_the_documented_shape(
    children: list[Element], root: str
) -> None:
    text = f"<?xml version={quoteattr('1.0')}?>\n" + to_xml((root, children))
    tree = parse_text(text)
    assert tree.plain() == expected((root, children))
    assert tree.line == 2
    for node in tree.walk():
        assert node.line is not None and 2 <= node.line <= text.count("\n") + 1

"""The secedit parser: Windows security templates (secedit /export), UTF-16 as Windows writes them."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstd.parsers import formats, parse_file, parse_source
from cyberstd.parsers.base import Node, ParseError, read_source, source_from_text

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "exports" / "secedit"
GOOD = SAMPLES / "good-dc01.inf"
BAD = SAMPLES / "bad-balie-pc.inf"
SECRET = "Kast3-Leraar!2019"
LSA = "MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\"
POLICIES = "MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\"


def text_of(path: Path) -> str:
    return path.read_bytes().decode("utf-16")


def line_of(path: Path, start: str) -> int:
    for number, line in enumerate(text_of(path).splitlines(), 1):
        if line.startswith(start):
            return number
    raise AssertionError(f"{start!r} not in {path}")


def unredacted(path: Path) -> Node:
    """The tree the parser itself builds, before parse_source's generic redaction."""
    return formats()["secedit"].func(read_source(path))


def parse_text(text: str) -> Node:
    return parse_source(source_from_text(text, "policy.inf"), "secedit")


def test_samples_are_utf16_with_a_bom_as_secedit_writes_them() -> None:
    for path in (GOOD, BAD):
        assert path.read_bytes().startswith(codecs.BOM_UTF16_LE)
        assert "\r\n" in text_of(path)


def test_good_sample_shape() -> None:
    tree = parse_file(GOOD, "secedit").plain()
    assert list(tree) == [
        "Unicode",
        "System Access",
        "Event Audit",
        "Kerberos Policy",
        "Registry Values",
        "Privilege Rights",
        "Service General Setting",
        "Version",
    ]
    access = tree["System Access"]
    assert access["MinimumPasswordLength"] == 12
    assert access["PasswordComplexity"] == 1
    assert access["LockoutBadCount"] == 5
    assert access["LockoutDuration"] == 30
    assert access["ResetLockoutCount"] == 30
    assert access["MaximumPasswordAge"] == -1
    assert access["NewAdministratorName"] == '"sgnk-beheer"'
    assert tree["Unicode"] == {"Unicode": "yes"}
    assert tree["Event Audit"]["AuditLogonEvents"] == 3
    assert tree["Kerberos Policy"]["MaxTicketAge"] == 10
    values = tree["Registry Values"]
    assert values[POLICIES + "EnableLUA"] == "4,1"
    assert values[LSA + "LmCompatibilityLevel"] == "4,5"
    assert values[LSA + "MSV1_0\\NTLMMinClientSec"] == "4,536870912"
    assert values[POLICIES + "LegalNoticeCaption"] == '1,"Scholengroep Noorderkempen"'
    assert values[POLICIES + "LegalNoticeText"] == (
        "7,Dit systeem is enkel voor bevoegd gebruik.,Aanmeldingen worden gelogd."
    )
    assert (
        values["MACHINE\\System\\CurrentControlSet\\Control\\Session Manager\\SubSystems\\optional"]
        == "7,"
    )
    rights = tree["Privilege Rights"]
    assert rights["SeRemoteInteractiveLogonRight"] == ["*S-1-5-32-544", "*S-1-5-32-555"]
    assert rights["SeDenyNetworkLogonRight"] == ["*S-1-5-32-546"]
    assert tree["Service General Setting"] == {"Spooler": {"mode": 4, "sddl": ""}}
    assert tree["Version"] == {"signature": '"$CHICAGO$"', "Revision": 1}


def test_bad_sample_shape() -> None:
    tree = parse_file(BAD, "secedit").plain()
    access = tree["System Access"]
    assert (access["MinimumPasswordLength"], access["PasswordComplexity"]) == (6, 0)
    assert access["LockoutBadCount"] == 0
    assert "LockoutDuration" not in access
    assert access["ClearTextPassword"] == 1
    assert access["EnableGuestAccount"] == 1
    assert tree["Privilege Rights"]["SeInteractiveLogonRight"][0] == "Guest"
    assert "*S-1-5-32-545" in tree["Privilege Rights"]["SeRemoteInteractiveLogonRight"]
    assert tree["Registry Values"][POLICIES + "EnableLUA"] == "4,0"


def test_registry_values_as_the_parser_builds_them() -> None:
    good = unredacted(GOOD).plain()["Registry Values"]
    bad = unredacted(BAD).plain()["Registry Values"]
    assert good[LSA + "NoLMHash"] == "4,1"
    assert bad[LSA + "NoLMHash"] == "4,0"
    assert bad[LSA + "LimitBlankPasswordUse"] == "4,0"


def test_security_registry_values_survive_redaction() -> None:
    values = parse_file(GOOD, "secedit").plain()["Registry Values"]
    assert values[LSA + "NoLMHash"] == "4,1"


def test_every_setting_has_its_line() -> None:
    tree = parse_file(GOOD, "secedit", display="dc01.inf")
    section = tree.get("System Access")
    assert section is not None and section.line == line_of(GOOD, "[System Access]")
    length = section.get("MinimumPasswordLength")
    assert length is not None and length.line == line_of(GOOD, "MinimumPasswordLength")
    right = tree.value["Privilege Rights"].value["SeBackupPrivilege"]
    assert right.line == line_of(GOOD, "SeBackupPrivilege")
    assert {n.line for n in right.value} == {right.line}
    spooler = tree.value["Service General Setting"].value["Spooler"]
    assert spooler.line == line_of(GOOD, '"Spooler"')
    assert all(n.file == "dc01.inf" and n.line for n in tree.walk())


def test_utf8_with_or_without_bom_reads_the_same(tmp_path: Path) -> None:
    text = text_of(GOOD)
    plain = tmp_path / "plain.inf"
    plain.write_bytes(text.encode("utf-8"))
    bom = tmp_path / "bom.inf"
    bom.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    expected = parse_file(GOOD, "secedit").plain()
    assert parse_file(plain, "secedit").plain() == expected
    assert parse_file(bom, "secedit").plain() == expected


def test_first_value_wins_sections_merge_and_comments_are_skipped() -> None:
    tree = parse_text(
        "; written by hand\n"
        "[System Access]\n"
        "MinimumPasswordLength = 14\n"
        "minimumpasswordlength = 3\n"
        "[Privilege Rights]\n"
        "SeTrustedCredManAccessPrivilege =\n"
        "[system access]\n"
        "PasswordComplexity=1\n"
        "LockoutDuration = -1\n"
        "[Group Membership]\n"
        "*S-1-5-32-544__Memberof =\n"
        "*S-1-5-32-544__Members = *S-1-5-21-1-2-3-500, Directie\n"
    )
    assert tree.plain() == {
        "System Access": {
            "MinimumPasswordLength": 14,
            "PasswordComplexity": 1,
            "LockoutDuration": -1,
        },
        "Privilege Rights": {"SeTrustedCredManAccessPrivilege": []},
        "Group Membership": {
            "*S-1-5-32-544__Memberof": [],
            "*S-1-5-32-544__Members": ["*S-1-5-21-1-2-3-500", "Directie"],
        },
    }
    assert tree.value["System Access"].value["MinimumPasswordLength"].line == 3


def test_signature_alone_is_enough() -> None:
    tree = parse_text(
        '[Version]\nsignature="$CHICAGO$"\nRevision=1\n[Event Audit]\nAuditLogonEvents = 3\n'
    )
    assert tree.plain()["Event Audit"] == {"AuditLogonEvents": 3}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "empty file", None),
        ("[Settings]\ncolor = blue\n", "not a secedit export", None),
        ('[Version]\nsignature="$Other$"\n', "not a secedit export", None),
        ("MinimumPasswordLength = 8\n[System Access]\n", "before the first [section]", 1),
        ('{"System Access": {}}\n', "before the first [section]", 1),
        ("[Unicode]\nUnicode=yes\n[System Access]\nMinimumPassword\n", "neither a [section]", 4),
        ("[Unicode]\n[System Access]\n = 8\n", "neither a [section]", 3),
        ('[Unicode]\n[Service General Setting]\n"Spooler",4\n', "neither a [section]", 3),
    ],
)
def test_bad_text(text: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError) as info:
        parse_text(text)
    assert message in info.value.detail
    assert info.value.line == line


def test_truncated_export_stops_at_the_cut_line(tmp_path: Path) -> None:
    text = text_of(BAD)
    cut = text.index("NoLMHash") + len("NoLM")
    path = tmp_path / "cut.inf"
    path.write_bytes(codecs.BOM_UTF16_LE + text[:cut].encode("utf-16-le"))
    with pytest.raises(ParseError) as info:
        parse_file(path, "secedit")
    assert info.value.line == line_of(BAD, LSA + "NoLMHash")
    odd = tmp_path / "odd.inf"
    odd.write_bytes(GOOD.read_bytes()[:-1])
    with pytest.raises(ParseError, match="UTF-16"):
        parse_file(odd, "secedit")


def test_wrong_vendor_non_utf8_and_binary(tmp_path: Path) -> None:
    sshd = SAMPLES.parent / "sshd_config" / "bad" / "sshd_config"
    with pytest.raises(ParseError, match="before the first"):
        parse_file(sshd, "secedit")
    latin = tmp_path / "latin.inf"
    latin.write_bytes(b'[Unicode]\nUnicode=yes\n[System Access]\nNewGuestName = "G\xe4st"\n')
    with pytest.raises(ParseError) as info:
        parse_file(latin, "secedit")
    assert info.value.line == 4
    binary = tmp_path / "secedit.sdb"
    binary.write_bytes(b"\xef\xcd\xab\x89\x00\x00\x00\x00" + bytes(range(200)))
    with pytest.raises(ParseError, match="binary"):
        parse_file(binary, "secedit")


def test_autologon_password_is_redacted(tmp_path: Path) -> None:
    assert SECRET in text_of(BAD)
    tree = parse_file(BAD, "secedit")
    assert SECRET not in repr(tree.plain())
    winlogon = "MACHINE\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\"
    assert tree.plain()["Registry Values"][winlogon + "DefaultPassword"] == "[redacted]"
    assert tree.plain()["Registry Values"][winlogon + "DefaultUserName"] == '1,"balie"'
    broken = tmp_path / "broken.inf"
    broken.write_text(text_of(BAD) + "this line is not a setting\n")
    with pytest.raises(ParseError) as info:
        parse_file(broken, "secedit")
    assert SECRET not in str(info.value)


LINES = st.sampled_from(
    [
        "[Unicode]",
        "[System Access]",
        "[Privilege Rights]",
        "[Service General Setting]",
        'signature="$CHICAGO$"',
        "[Version]",
        "A = 1",
        "B = *S-1-1-0,x",
        '"s",2,"D:"',
        "; c",
        "[",
        "",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(LINES, st.text(max_size=40)), max_size=12).map("\n".join))
def test_any_text_gives_a_tree_or_a_parse_error(text: str) -> None:
    try:
        tree = parse_text(text)
    except ParseError:
        return
    assert isinstance(tree.plain(), dict)

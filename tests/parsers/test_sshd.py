"""The sshd_config parser: first value wins, repeating keywords, Match blocks, Include files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberstd.parsers import parse_file, parse_source
from cyberstd.parsers.base import Node, ParseError, source_from_text

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "exports" / "sshd_config"
GOOD = SAMPLES / "good" / "sshd_config"
BAD = SAMPLES / "bad" / "sshd_config"
SECRET = "Zomer2024!Leerling"


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of a file that starts with `text` (after blanks)."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip().startswith(text):
            return number
    raise AssertionError(f"{text!r} not in {path}")


def parse_text(text: str) -> Node:
    return parse_source(source_from_text(text, "<sshd_config>"), "sshd_config")


def settings_of(tree: Node) -> Any:
    """The tree as plain values, without the ways to log in the parser works out."""
    plain = tree.plain()
    plain.pop("auth-paths", None)
    return plain


def write(folder: Path, files: dict[str, str]) -> Path:
    """Write files under a folder; returns the path of the first."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder / next(iter(files))


def test_good_sample_shape() -> None:
    tree = settings_of(parse_file(GOOD, "sshd_config", display="good/sshd_config"))
    assert tree["permitrootlogin"] == "no"
    assert tree["passwordauthentication"] == "no"
    assert tree["port"] == ["22"]
    assert tree["listenaddress"] == ["10.20.0.5", "127.0.0.1"]
    assert tree["hostkey"] == ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"]
    assert tree["allowusers"] == ["beheer-jan", "beheer-an", "backup@10.20.0.0/22", "leerplatform"]
    assert tree["acceptenv"] == ["LANG", "LC_*"]
    assert tree["subsystem"] == ["sftp internal-sftp"]
    assert tree["banner"] == "/etc/issue.net"
    assert tree["authorizedkeysfile"] == ".ssh/authorized_keys"
    assert tree["ciphers"].startswith("chacha20-poly1305@openssh.com,")
    assert tree["match"] == [
        {
            "criteria": "User backup Address 10.20.0.0/22",
            "settings": {
                "passwordauthentication": "no",
                "permittty": "no",
                "allowtcpforwarding": "no",
            },
        },
        {
            "criteria": "Group sftponly",
            "settings": {
                "chrootdirectory": "/srv/sftp/%u",
                "forcecommand": "internal-sftp",
                "allowtcpforwarding": "no",
                "x11forwarding": "no",
            },
        },
    ]
    assert all(k == k.lower() for k in tree)


def test_nodes_carry_their_file_and_line() -> None:
    tree = parse_file(GOOD, "sshd_config", display="good/sshd_config")
    drop_in = GOOD.parent / "sshd_config.d" / "10-school-hardening.conf"
    root_login = tree.get("permitrootlogin")
    assert root_login is not None
    assert root_login.file == "good/sshd_config.d/10-school-hardening.conf"
    assert root_login.line == line_of(drop_in, "PermitRootLogin")
    port = tree.get("port")
    assert port is not None and port.file == "good/sshd_config"
    assert port.line == line_of(GOOD, "Port 22")
    assert port.value[0].line == line_of(GOOD, "Port 22")
    users = tree.value["allowusers"].value
    assert [u.line for u in users] == [5, 5, 5, 6]
    first, second = tree.value["match"].value
    assert first.file == "good/sshd_config.d/20-backup.conf"
    assert first.line == 2 and first.value["settings"].value["permittty"].line == 4
    assert second.file == "good/sshd_config"
    assert second.line == line_of(GOOD, "Match Group sftponly")
    assert second.value["criteria"].line == second.line
    assert all(n.file and n.line for n in tree.walk())


def test_first_value_wins_so_an_early_drop_in_overrides_the_main_file() -> None:
    tree = parse_file(BAD, "sshd_config", display="bad/sshd_config")
    password = tree.get("passwordauthentication")
    assert password is not None
    assert (password.value, password.file, password.line) == (
        "yes",
        "bad/sshd_config.d/50-cloud-init.conf",
        1,
    )
    plain = settings_of(tree)
    assert plain["permitrootlogin"] == "yes"
    assert plain["permitemptypasswords"] == "yes"
    assert plain["port"] == ["22", "2222"]
    assert plain["acceptenv"] == ["LANG", "LC_*", "XMODIFIERS"]
    assert plain["authorizedkeysfile"] == ".ssh/authorized_keys .ssh/authorized_keys2"
    assert plain["match"] == [
        {
            "criteria": "Address 0.0.0.0/0",
            "settings": {"permitrootlogin": "yes", "passwordauthentication": "yes"},
        }
    ]


def test_key_value_form_case_quotes_and_comments() -> None:
    tree = parse_text(
        "# comment\n"
        "PERMITROOTLOGIN=no\n"
        "Port = 2222\n"
        "  port=22\n"
        'Banner "/etc/my banner"   # trailing comment\n'
        "ForceCommand /bin/echo 'a  b' \\\"x\\\"\n"
        "PermitRootLogin yes\n"
        "AllowGroups admins  staff\n"
        "denyusers guest\n"
        "DenyUsers root\n"
        'AuthorizedKeysFile ""\n'
        "HostKey /etc/ssh/k#1\n"
    )
    assert settings_of(tree) == {
        "permitrootlogin": "no",
        "port": ["2222", "22"],
        "banner": "/etc/my banner",
        "forcecommand": '/bin/echo a  b "x"',
        "allowgroups": ["admins", "staff"],
        "denyusers": ["guest", "root"],
        "authorizedkeysfile": "",
        "hostkey": ["/etc/ssh/k#1"],
    }


def test_match_blocks_collect_the_lines_up_to_the_next_match() -> None:
    tree = parse_text(
        "PasswordAuthentication no\n"
        "Match User backup Address 10.0.0.0/8\n"
        "  PasswordAuthentication yes\n"
        "  PasswordAuthentication no\n"
        "  AllowUsers backup\n"
        "Match all\n"
        "  X11Forwarding no\n"
    )
    plain = settings_of(tree)
    assert plain["passwordauthentication"] == "no"
    assert "x11forwarding" not in plain
    assert plain["match"] == [
        {
            "criteria": "User backup Address 10.0.0.0/8",
            "settings": {"passwordauthentication": "yes", "allowusers": ["backup"]},
        },
        {"criteria": "all", "settings": {"x11forwarding": "no"}},
    ]
    assert [m.line for m in tree.value["match"].value] == [2, 6]
    assert "match" not in parse_text("Port 22\n").plain()


def test_comment_only_file_is_all_defaults() -> None:
    assert settings_of(parse_text("# nothing changed\n#PermitRootLogin yes\n")) == {}


def test_relative_include_with_glob_in_the_including_folder(tmp_path: Path) -> None:
    main = write(
        tmp_path,
        {
            "sshd_config": "Include conf.d/*.conf\nPermitRootLogin yes\n",
            "conf.d/20-b.conf": "PermitRootLogin no\nPort 2222\n",
            "conf.d/10-a.conf": "Port 22\n",
            "conf.d/notes.txt": "PermitRootLogin prohibit-password\n",
        },
    )
    tree = parse_file(main, "sshd_config", display="x/sshd_config")
    assert settings_of(tree) == {"permitrootlogin": "no", "port": ["22", "2222"]}
    ports = tree.value["port"].value
    assert [(p.file, p.line) for p in ports] == [
        ("x/conf.d/10-a.conf", 1),
        ("x/conf.d/20-b.conf", 2),
    ]


def test_absolute_drop_in_never_reads_the_export_folder_itself(tmp_path: Path) -> None:
    # Without sshd_config.d/ next to the export, a sibling (another server's configuration) is
    # never merged in: the drop-ins are missing, and that is said.
    flat = tmp_path / "flat"
    main = write(
        flat,
        {
            "sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n",
            "web01-sshd.conf": "PasswordAuthentication yes\n",
        },
    )
    with pytest.raises(ParseError, match=r"no sshd_config\.d/ folder next to the export"):
        parse_file(main, "sshd_config")
    (flat / "sshd_config.d").mkdir()  # the server has no drop-ins: an empty folder says so
    assert settings_of(parse_file(main, "sshd_config")) == {"port": ["22"]}
    main.write_text("Include /etc/ssh/sshd_config.d/50-cloud-init.conf\nPort 22\n")
    with pytest.raises(ParseError, match="not found in the export") as info:
        parse_file(main, "sshd_config")
    assert info.value.line == 1
    nested = tmp_path / "nested"
    main = write(
        nested,
        {
            "sshd_config": "Include /etc/ssh/sshd_config.d/99-local.conf\n",
            "sshd_config.d/99-local.conf": "X11Forwarding no\n",
        },
    )
    tree = parse_file(main, "sshd_config", display="n/sshd_config")
    assert settings_of(tree) == {"x11forwarding": "no"}
    assert tree.value["x11forwarding"].file == "n/sshd_config.d/99-local.conf"


def test_a_glob_matching_nothing_is_ignored_a_missing_file_is_not(tmp_path: Path) -> None:
    main = write(tmp_path, {"sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n"})
    (tmp_path / "sshd_config.d").mkdir()
    assert settings_of(parse_file(main, "sshd_config")) == {"port": ["22"]}
    main.write_text("Port 22\nInclude extra.conf\n")
    with pytest.raises(ParseError) as info:
        parse_file(main, "sshd_config")
    assert info.value.line == 2
    assert "extra.conf" in info.value.detail and "not found" in info.value.detail


def test_include_inside_match_and_match_inside_include(tmp_path: Path) -> None:
    main = write(
        tmp_path,
        {
            "sshd_config": (
                "Match Group staff\n"
                "  Include staff.conf\n"
                "  AllowTcpForwarding no\n"
                "Include late.conf\n"
            ),
            "staff.conf": "PermitTTY yes\n",
            "late.conf": "Match User guest\n  PermitTTY no\n",
        },
    )
    tree = settings_of(parse_file(main, "sshd_config"))
    assert tree["match"] == [
        {"criteria": "Group staff", "settings": {"permittty": "yes", "allowtcpforwarding": "no"}},
        {"criteria": "User guest", "settings": {"permittty": "no"}},
    ]


def test_match_opened_in_an_include_ends_with_that_file(tmp_path: Path) -> None:
    main = write(
        tmp_path,
        {
            "sshd_config": "Include m.conf\nPermitRootLogin no\n",
            "m.conf": "Match User x\n  PermitRootLogin yes\n",
        },
    )
    tree = settings_of(parse_file(main, "sshd_config"))
    assert tree["permitrootlogin"] == "no"
    assert tree["match"][0]["settings"] == {"permitrootlogin": "yes"}


@pytest.mark.parametrize(
    ("files", "message", "line"),
    [
        ({"sshd_config": "Include sshd_config\n"}, "Include loop", 1),
        (
            {"sshd_config": "Port 22\nInclude a.conf\n", "a.conf": "Include sshd_config\n"},
            "loop",
            1,
        ),
        ({"sshd_config": "Include /etc/ssh/extra_config\n"}, "cannot map Include", 1),
        ({"sshd_config": "Include ../outside.conf\n"}, "outside the export", 1),
    ],
)
def test_include_errors(
    tmp_path: Path, files: dict[str, str], message: str, line: int | None
) -> None:
    folder = tmp_path / "export"
    (tmp_path / "outside.conf").write_text("Port 1\n")
    main = write(folder, files)
    with pytest.raises(ParseError) as info:
        parse_file(main, "sshd_config")
    assert message in info.value.detail
    assert info.value.line == line


def test_include_depth_is_limited(tmp_path: Path) -> None:
    files = {"sshd_config": "Include f0.conf\n"}
    files |= {f"f{i}.conf": f"Include f{i + 1}.conf\n" for i in range(20)}
    files["f20.conf"] = "Port 22\n"
    main = write(tmp_path, files)
    with pytest.raises(ParseError, match="nested more than 16"):
        parse_file(main, "sshd_config")
    files = {"sshd_config": "Include f0.conf\n"}
    files |= {f"f{i}.conf": f"Include f{i + 1}.conf\n" for i in range(10)}
    files["f10.conf"] = "Port 22\n"
    assert settings_of(parse_file(write(tmp_path / "ok", files), "sshd_config")) == {"port": ["22"]}


def test_unreadable_include_targets(tmp_path: Path) -> None:
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    main = tmp_path / "sshd_config"
    for target in ("loop1", "loop*", "a" * 300):
        main.write_text(f"Port 22\nInclude {target}\n")
        with pytest.raises(ParseError) as info:
            parse_file(main, "sshd_config")
        assert info.value.line == 2
    main.write_text("Include sub\n")
    (tmp_path / "sub").mkdir()
    with pytest.raises(ParseError, match="folder"):
        parse_file(main, "sshd_config")


def test_include_needs_a_file_on_disk() -> None:
    with pytest.raises(ParseError, match="file on disk"):
        parse_text("Include *\n")


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "empty file", None),
        ("  \n\n", "empty file", None),
        ("Port 22\nPermitRootLogin\n", "PermitRootLogin has no value", 2),
        ("Port 22\nPermitRootLogin # yes\n", "has no value", 2),
        ('Port 22\nBanner "/etc/issue\n', "quoted argument is never closed", 2),
        ('{"PermitRootLogin": "no"}\n', "does not start with an sshd_config keyword", 1),
        ("[Unicode]\nUnicode=yes\n", "does not start with an sshd_config keyword", 1),
        ("hello world\nfoo bar\n", "not an sshd_config", None),
        ("Port 22\nWelkom123\n", "unknown keyword, no value", 2),
    ],
)
def test_bad_text(text: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError) as info:
        parse_text(text)
    assert message in info.value.detail
    assert info.value.line == line
    assert info.value.file == "<sshd_config>"
    assert "Welkom123" not in str(info.value)


def test_wrong_vendor_format_is_refused() -> None:
    fortigate = Path(__file__).resolve().parent.parent / "data" / "exports" / "fortigate"
    with pytest.raises(ParseError, match="not an sshd_config") as info:
        parse_file(fortigate / "school-fw-good.conf", "sshd_config")
    # the first 'end': a word without a value
    assert info.value.line == line_of(fortigate / "school-fw-good.conf", "end")


def test_non_utf8_and_binary_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin"
    latin.write_bytes(b"Port 22\nBanner /etc/\xe9t\xe9\n")
    with pytest.raises(ParseError) as info:
        parse_file(latin, "sshd_config")
    assert info.value.line == 2 and "UTF-8" in info.value.detail
    binary = tmp_path / "binary"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)))
    with pytest.raises(ParseError, match="binary"):
        parse_file(binary, "sshd_config")


def test_secrets_in_comments_never_reach_the_tree_or_errors(tmp_path: Path) -> None:
    assert SECRET in BAD.read_text()
    tree = parse_file(BAD, "sshd_config")
    assert SECRET not in repr(tree.plain())
    assert SECRET not in repr(tree)
    broken = write(tmp_path, {"sshd_config": BAD.read_text() + 'Banner "/etc/issue\n'})
    with pytest.raises(ParseError) as info:
        parse_file(broken, "sshd_config")
    assert SECRET not in str(info.value)


LINES = st.sampled_from(
    [
        "Port 22",
        "PermitRootLogin no",
        "Match User x",
        "Include nothing*.conf",
        "Include missing.conf",
        'Banner "x',
        "AllowUsers a b",
        "# c",
        "Key=",
        "=",
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

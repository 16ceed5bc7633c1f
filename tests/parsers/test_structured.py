"""The generic formats: JSON and YAML with lines, INI, key=value and CSV; bad input; secrets."""

from __future__ import annotations

import codecs
import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberstd.parsers import formats, parse_file, parse_source
from cyberstd.parsers.base import REDACTED, ParseError, source_from_text

FORMATS = ("json", "yaml", "ini", "keyvalue", "csv", "table")


def parse(text: str, fmt: str, name: str = "export") -> object:
    return parse_source(source_from_text(text, name), fmt)


# --- JSON -------------------------------------------------------------------------------------

GRAPH = """{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
  "value": [
    {
      "userPrincipalName": "an@school.test",
      "accountEnabled": true,
      "signInActivity": {"lastSignInDateTime": "2026-11-20T08:00:00Z"},
      "passwordProfile": {"password": "Zomer2026!", "forceChangePasswordNextSignIn": false},
      "count": 3, "ratio": 0.5, "none": null, "escaped": "caf\\u00e9 \\"quoted\\""
    }
  ]
}
"""


def test_json_keeps_values_and_lines() -> None:
    tree = parse_source(source_from_text(GRAPH, "users.json"), "json")
    user = tree.value["value"].value[0]
    assert user.line == 4 and user.file == "users.json"
    assert user.value["accountEnabled"].value is True
    assert user.value["signInActivity"].value["lastSignInDateTime"].line == 7
    plain = tree.plain()["value"][0]
    assert plain["count"] == 3 and plain["ratio"] == 0.5 and plain["none"] is None
    assert plain["escaped"] == 'café "quoted"'
    assert plain["passwordProfile"] == {
        "password": REDACTED,
        "forceChangePasswordNextSignIn": False,
    }
    assert "Zomer2026!" not in repr(tree.plain())


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('{"value": [1, 2', "unexpected end of file (the export may be truncated)", 1),
        ('{"a": 1,\n "a": 2}', "duplicate key 'a'", 2),
        ('{"a": 1}\n{"b": 2}', "unexpected text after the JSON document", 2),
        ("{'a': 1}", "expected a quoted key", 1),
        ('{"a": tru}', "unexpected character 't'", 1),
        ("", "empty file", None),
        ('{"a": "\x01"}', "Invalid control character", 1),
        ("[" * 300 + "]" * 300, "nested more than 200 levels deep", 1),
    ],
)
def test_json_errors_name_the_line(text: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError) as info:
        parse(text, "json", "users.json")
    assert message in str(info.value)
    assert info.value.line == line and info.value.file == "users.json"


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
@settings(max_examples=200)
def test_json_reads_what_the_standard_library_writes(value: object) -> None:
    text = json.dumps({"data": value}, indent=1)
    tree = parse(text, "json")
    plain = tree.plain()  # type: ignore[attr-defined]
    # Redaction may replace values under secret-looking keys; everything else round-trips.
    if REDACTED not in json.dumps(plain):
        assert plain == json.loads(text)


# --- YAML -------------------------------------------------------------------------------------


def test_yaml_keeps_lines_dates_as_text_and_redacts() -> None:
    text = (
        "wifi:\n  - ssid: Personeel\n    psk: geheim123\n    since: 2026-09-01\n  - ssid: Gasten\n"
    )
    tree = parse(text, "yaml", "wifi.yaml")
    first = tree.value["wifi"].value[0]  # type: ignore[attr-defined]
    assert first.line == 2
    assert first.value["since"].value == "2026-09-01"
    assert first.value["psk"].value == REDACTED
    assert tree.value["wifi"].value[1].value["ssid"].line == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "duplicate key"),
        ("a: [1, 2\n", "expected"),
        ("a: &x [*x]\n", "recursive"),
    ],
)
def test_yaml_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(text, "yaml", "x.yaml")


# --- INI and key=value ------------------------------------------------------------------------


def test_ini_sections_lines_and_secrets() -> None:
    text = "; backup agent\nglobal = 1\n[server]\nhost = nas.school.test\npassword = 'S3cret!'\n[tls]\nverify: yes\n"
    tree = parse(text, "ini", "agent.ini")
    plain = tree.plain()  # type: ignore[attr-defined]
    assert plain == {
        "": {"global": "1"},
        "server": {"host": "nas.school.test", "password": REDACTED},
        "tls": {"verify": "yes"},
    }
    assert tree.value["server"].value["host"].line == 4  # type: ignore[attr-defined]


def test_keyvalue_and_its_errors() -> None:
    text = '# .env\nexport DB_HOST=db.school.test\nAPI_TOKEN="eyJhbGciOi.abc.def"\nDEBUG=false\n'
    tree = parse(text, "keyvalue", ".env")
    assert tree.plain() == {"DB_HOST": "db.school.test", "API_TOKEN": REDACTED, "DEBUG": "false"}  # type: ignore[attr-defined]
    with pytest.raises(ParseError) as info:
        parse("A=1\nthis is not a setting\n", "keyvalue", ".env")
    assert info.value.line == 2
    with pytest.raises(ParseError, match="neither a"):
        parse("[s]\nno equals sign here\n", "ini")
    for fmt in ("ini", "keyvalue"):
        with pytest.raises(ParseError, match="no settings found"):
            parse("# only a comment\n", fmt)


# --- CSV --------------------------------------------------------------------------------------


def test_csv_semicolons_bom_crlf_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "backup.csv"
    text = 'Job name;Last success;Password\r\nDC01;28/11/2026;"Abc;123"\r\n\r\nNAS;;x\r\n'
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    tree = parse_file(path, "csv", "backup.csv")
    plain = tree.plain()
    assert plain["columns"] == ["Job name", "Last success", "Password"]
    assert plain["rows"] == [
        {"Job name": "DC01", "Last success": "28/11/2026", "Password": REDACTED},
        {"Job name": "NAS", "Last success": None, "Password": REDACTED},
    ]
    assert [r.line for r in tree.value["rows"].value] == [2, 4]


def test_csv_utf16_as_some_portals_write_it(tmp_path: Path) -> None:
    path = tmp_path / "devices.csv"
    path.write_bytes(
        codecs.BOM_UTF16_LE + "Device name\tOS\r\nPC-1\tWindows\r\n".encode("utf-16-le")
    )
    assert parse_file(path, "csv").plain()["rows"] == [{"Device name": "PC-1", "OS": "Windows"}]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a,b\n1,2\n3\n", "row has 1 cells where the header has 2 (truncated export?)", 3),
        ("a,,c\n1,2,3\n", "column 2 of the header has no name", 1),
        ("a,A\n1,2\n", "column 'A' appears twice", 1),
        ('a,b\n1,"unterminated\n', "bad CSV", 2),
        ("  \n", "empty file", None),
    ],
)
def test_csv_errors(text: str, message: str, line: int | None) -> None:
    with pytest.raises(ParseError) as info:
        parse(text, "csv", "x.csv")
    assert message in str(info.value) and info.value.line == line


# --- every generic format -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_bytes_are_refused_with_the_file_named(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "export"
    path.write_bytes(b"name=caf\xe9\n")
    with pytest.raises(ParseError, match="not UTF-8 text") as info:
        parse_file(path, fmt, "exports/export")
    assert info.value.file == "exports/export" and info.value.line == 1
    path.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(ParseError, match="binary data"):
        parse_file(path, fmt)
    with pytest.raises(ParseError, match="more than the limit of 4"):
        parse_file(path, fmt, max_bytes=4)
    with pytest.raises(ParseError, match="file not found"):
        parse_file(tmp_path / "missing", fmt)
    with pytest.raises(ParseError, match="is a folder"):
        parse_file(tmp_path, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@given(text=st.text(max_size=300))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_text_raises_only_parse_error(fmt: str, text: str) -> None:
    with contextlib.suppress(ParseError):
        parse(text, fmt)


ALL_FORMATS = sorted(formats())
BYTES = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=300).map(codecs.BOM_UTF16_LE.__add__),
    st.binary(max_size=300).map(codecs.BOM_UTF8.__add__),
)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
@given(data=BYTES)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_bytes_raise_only_parse_error(tmp_path: Path, fmt: str, data: bytes) -> None:
    """Every format, vendor ones included: arbitrary bytes give a tree or a ParseError."""
    path = tmp_path / "export"
    path.write_bytes(data)
    try:
        parse_file(path, fmt)
    except ParseError as exc:
        assert "export" in str(exc)


def test_secrets_under_a_secret_key_and_inside_urls() -> None:
    text = (
        '{"adminPassword": {"value": "ArmSecret-5", "type": "securestring"},'
        ' "psk": {"value": ["ArmSecret-6"]},'
        ' "db": "postgres://app:Hunter2Pw@db.school.local:5432/app",'
        ' "site": "https://www.school.test/contact@info"}'
    )
    plain = parse(text, "json").plain()  # type: ignore[attr-defined]
    dump = json.dumps(plain)
    for secret in ("ArmSecret-5", "ArmSecret-6", "Hunter2Pw"):
        assert secret not in dump
    assert plain["db"] == f"postgres://app:{REDACTED}@db.school.local:5432/app"
    assert plain["site"] == "https://www.school.test/contact@info"


def test_every_format_module_is_known_for_lazy_import() -> None:
    from cyberstd.parsers import _MODULES

    assert set(_MODULES) == set(formats())

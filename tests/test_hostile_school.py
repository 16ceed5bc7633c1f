"""Hostile school folders are input errors at file:line:col, never silently accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from tests.conftest import REPO

BASE = "school: {id: x, name: y}\ndomains: [school.test]\n"


def _validate(folder: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "validate", str(folder), "--as-of", "2026-11-29"]
    )
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/etc/passwd", "must be relative to the school folder"),
        ("../outside.csv", "must be relative to the school folder"),
        ("exports/../../outside.csv", "must be relative to the school folder"),
        ("exports/link.csv", "is a link out of the school folder"),
    ],
)
def test_exports_stay_inside_the_school_folder(tmp_path: Path, path: str, said: str) -> None:
    folder = tmp_path / "school"
    (folder / "exports").mkdir(parents=True)
    (tmp_path / "outside.csv").write_text("hostname,ip\nx,10.0.0.1\n", encoding="utf-8")
    (folder / "exports" / "link.csv").symlink_to(tmp_path / "outside.csv")
    (folder / "school.yaml").write_text(
        BASE + f"exports:\n  - path: {path}\n    kind: device-inventory\n", encoding="utf-8"
    )
    code, output = _validate(folder)
    assert code == 2 and said in output and "error[outside-folder]" in output, output
    assert "school.yaml:4:11:" in output  # the line and column of the path
    plan = CliRunner().invoke(main, ["--root", str(REPO), "plan", str(folder)])
    assert plan.exit_code == 2


@pytest.mark.parametrize("name", ["attestations.yaml", "waivers.yaml"])
def test_a_broken_link_is_named_not_read_as_absent(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "school"
    folder.mkdir()
    (folder / "school.yaml").write_text(BASE, encoding="utf-8")
    (folder / name).symlink_to(tmp_path / "gone.yaml")
    code, output = _validate(folder)
    assert code == 2 and f"{name} is a link to" in output and "does not exist" in output


def _school(tmp_path: Path, text: str, **files: str | bytes) -> Path:
    folder = tmp_path / "school"
    folder.mkdir(exist_ok=True)
    (folder / "school.yaml").write_text(text, encoding="utf-8")
    for name, content in files.items():
        target = folder / name.replace("__", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return folder


ATTEST = (
    "attestations:\n"
    "  - control: {control}\n"
    "    answer: implemented\n"
    "    explanation: Beleid goedgekeurd.\n"
    "    attested_by: An Peeters\n"
    "    date: {date}\n"
    "    review_by: 2027-06-01\n"
)


# (what, school.yaml, other files, the code, where, words in the message)
CASES = [
    ("deep list", "school: {id: x, name: y}\ndomains: " + "[" * 1000 + "]" * 1000 + "\n",
     {}, "too-deep", "school.yaml:2:", "levels deep"),
    ("very deep list", "school: {id: x, name: y}\ndomains: " + "[" * 100_000 + "]" * 100_000,
     {}, "too-deep", "school.yaml:2:", "levels deep"),
    ("deep mapping", "school: {id: x, name: y}\nnetwork: " + "{a: " * 200 + "1" + "}" * 200,
     {}, "too-deep", "school.yaml:2:", "levels deep"),
    ("python tag on a domain",
     "school: {id: x, name: y}\ndomains:\n  - !!python/object/apply:os.system ['echo x']\n",
     {}, "tag", "school.yaml:3:5:", "!!python/object/apply:os.system"),
    ("python tag on the name", "school: {id: x, name: !!python/name:os.system ''}\n",
     {}, "tag", "school.yaml:1:", "not allowed"),
    ("binary tag", "school: {id: x, name: !!binary aGVsbG8=}\n", {}, "tag", "school.yaml:1:",
     "!!binary"),
    ("set tag", "school: {id: x, name: y}\ndomains: !!set {a.test: null}\n", {}, "tag",
     "school.yaml:2:10:", "!!set"),
    ("custom tag", "school: {id: !mine x, name: y}\n", {}, "tag", "school.yaml:1:", "!mine"),
    ("boolean as a port",
     "school: {id: x, name: y}\nhosts:\n  - {name: www.school.test, roles: [website], "
     "ports: {https: true}}\n", {}, "invalid", "school.yaml:3:", "not a port number"),
    ("quoted port", "school: {id: x, name: y}\nhosts:\n  - {name: www.school.test, "
     "roles: [website], allowed_ports: ['443']}\n", {}, "invalid", "school.yaml:3:",
     "not a port number"),
    ("port zero", "school: {id: x, name: y}\nhosts:\n  - {name: www.school.test, roles: [website], "
     "ports: {https: 0}}\n", {}, "invalid", "school.yaml:3:", "greater than or equal to 1"),
    ("number as a date", "school: {id: x, name: y}\n", {"attestations.yaml": ATTEST.format(
        control="O1", date="1788220800")}, "invalid", "attestations.yaml:6:11:", "YYYY-MM-DD"),
    ("Belgian date", "school: {id: x, name: y}\n", {"attestations.yaml": ATTEST.format(
        control="O1", date="1/9/2026")}, "invalid", "attestations.yaml:6:", "YYYY-MM-DD"),
    ("timestamp as a date", "school: {id: x, name: y}\n", {"attestations.yaml": ATTEST.format(
        control="O1", date="2026-09-01 10:00:00")}, "invalid", "attestations.yaml:6:",
     "YYYY-MM-DD"),
    ("lower-case control id", "school: {id: x, name: y}\n", {"attestations.yaml": ATTEST.format(
        control="o12", date="2026-09-01")}, "unknown-id", "attestations.yaml:2:", "'O12'"),
    ("CA bundle of random bytes", "school: {id: x, name: y}\nnetwork: {ca_bundle: ca.pem}\n",
     {"ca.pem": b"\x8a\x01 not a certificate"}, "not-a-ca-bundle", "school.yaml:2:", "PEM"),
    ("CA bundle that is a private key", "school: {id: x, name: y}\nnetwork: {ca_bundle: ca.pem}\n",
     {"ca.pem": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"},
     "not-a-ca-bundle", "school.yaml:2:", "PEM"),
    ("CA bundle that is empty", "school: {id: x, name: y}\nnetwork: {ca_bundle: ca.pem}\n",
     {"ca.pem": ""}, "not-a-ca-bundle", "school.yaml:2:", "PEM"),
    ("CA bundle that is a folder", "school: {id: x, name: y}\nnetwork: {ca_bundle: certs}\n",
     {"certs__x": "x"}, "missing-file", "school.yaml:2:", "not a file"),
    ("many values, no alias",
     "school: {id: x, name: y}\ndomains:\n" + "  - a.test\n" * 120_000, {},
     "too-many-values", "school.yaml:", "more than 100000 values"),
    ("alias bomb", "school: {id: x, name: y}\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
     + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n"
               for p, n in zip("abcdef", "bcdefg", strict=True)), {},
     "alias-bomb", "school.yaml:", "through aliases"),
    ("bool tag", "school: {id: x, name: !!bool maybe}\n", {}, "tag", "school.yaml:1:23:",
     "!!bool"),
    ("str tag on a list", "school: {id: x, name: y}\ndomains: !!str [a]\n", {}, "tag",
     "school.yaml:2:10:", "!!str"),
    ("YAML 1.1", "%YAML 1.1\n---\nschool: {id: x, name: y}\n", {}, "yaml-version",
     "school.yaml:1:1:", "YAML 1.2"),
    ("merged wrong value", "school:\n  <<: {id: 'bad id!', name: y}\n", {}, "invalid",
     "school.yaml:2:", "not a valid id"),
    ("empty value", "school:\n  id: x\n  name:\ndomains: [a.test]\n", {}, "type",
     "school.yaml:3:", "school.name"),
    ("single-label domain", "school: {id: x, name: y}\ndomains: [localhost]\n", {},
     "public-suffix", "school.yaml:2:", "single label"),
    ("address as domain", "school: {id: x, name: y}\ndomains: [10.0.0.1]\n", {},
     "public-suffix", "school.yaml:2:", "an address"),
    ("domain twice", "school: {id: x, name: y}\ndomains: [a.test, A.TEST.]\n", {},
     "duplicate-id", "school.yaml:2:", "listed twice"),
    ("host on 0.0.0.0", "school: {id: x, name: y}\nhosts:\n  - {name: nas.school.test, "
     "roles: [nas], address: 0.0.0.0}\n", {}, "scope-invalid", "school.yaml:3:", "unspecified"),
    ("multicast host", "school: {id: x, name: y}\nhosts:\n  - {name: nas.school.test, "
     "roles: [nas], address: 224.0.0.1}\n", {}, "scope-invalid", "school.yaml:3:", "multicast"),
    ("scope of 0.0.0.0", "school: {id: x, name: y}\nscope:\n  - {ranges: [0.0.0.0/32], "
     "authorized_by: An, date: 2026-01-05}\n", {}, "scope-invalid", "school.yaml:3:",
     "cannot be authorised"),
    ("timeout NaN", "school: {id: x, name: y}\nnetwork: {timeout: .nan}\n", {}, "invalid",
     "school.yaml:2:", "finite number"),
    ("tiny rate", "school: {id: x, name: y}\nnetwork: {max_rate: 1e-300}\n", {}, "invalid",
     "school.yaml:2:", "greater than or equal to 0.1"),
    ("newline in a host name", 'school: {id: x, name: y}\ndomains: ["school.test\\n"]\n', {},
     "invalid", "school.yaml:2:", "not a valid host name"),
    ("export is a folder", "school: {id: x, name: y}\nexports:\n  - {path: exports, "
     "kind: device-inventory}\n", {"exports__a.csv": "x\n"}, "missing-file", "school.yaml:3:",
     "is a folder"),
    ("unrelated control id", "school: {id: x, name: y}\n", {"attestations.yaml": ATTEST.format(
        control="O99", date="2026-09-01")}, "unknown-id", "attestations.yaml:2:", "'O99'"),
    ("service name typo", "school: {id: x, name: y}\nhosts:\n  - {name: www.school.test, "
     "roles: [website], ports: {htps: 8443, nas-admin: 5000}}\n", {}, "unknown-id",
     "school.yaml:3:", "did you mean 'https'"),
    ("id with a space", "school: {id: 'x ', name: y}\n", {}, "invalid", "school.yaml:1:",
     "spaces around it"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "text", "files", "code", "where", "said"), CASES, ids=[c[0] for c in CASES]
)
def test_hostile_school_files_are_input_errors(
    tmp_path: Path,
    what: str,
    text: str,
    files: dict[str, str | bytes],
    code: str,
    where: str,
    said: str,
) -> None:
    folder = _school(tmp_path, text, **files)
    exit_code, output = _validate(folder)
    assert exit_code == 2, output
    assert f"error[{code}]" in output, output[:2000]
    assert said in output, output[:2000]
    assert any(line.split(" error[")[0].endswith(":") and where in line
               for line in output.splitlines()), output[:2000]  # fmt: skip
    assert "internal error" not in output


EVIDENCE = (
    "attestations:\n"
    "  - control: O1\n"
    "    answer: implemented\n"
    "    explanation: Beleid goedgekeurd.\n"
    "    attested_by: An Peeters\n"
    "    date: 2026-09-01\n"
    "    review_by: 2027-06-01\n"
    "    evidence:\n"
    "      - path: {path}\n"
    "        sha256: " + "a" * 64 + "\n"
)
LONG_NAME = "d" * 256


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ('"a\\0b.pdf"', "control character"),
        ('"beleid\\u0007.pdf"', "control character"),
        (f"{LONG_NAME}/x.pdf", "longer than 255 bytes"),
        ("/".join(["map"] * 1400), "longer than 4096 bytes"),
        ("loop1", "cannot be followed"),
    ],
    ids=["NUL", "BEL", "long name", "long path", "link loop"],
)
def test_unusable_evidence_paths_are_input_errors(tmp_path: Path, path: str, said: str) -> None:
    folder = _school(tmp_path, BASE, **{"attestations.yaml": EVIDENCE.format(path=path)})
    (folder / "loop1").symlink_to(folder / "loop2")
    (folder / "loop2").symlink_to(folder / "loop1")
    code, output = _validate(folder)
    assert code == 2 and said in output, output
    assert "attestations.yaml:9:" in output and "internal error" not in output


@pytest.mark.parametrize(
    ("path", "said"),
    [('"exports/a\\0b.csv"', "control character"), (LONG_NAME, "longer than 255 bytes")],
    ids=["NUL", "long name"],
)
def test_unusable_export_paths_are_input_errors(tmp_path: Path, path: str, said: str) -> None:
    folder = _school(tmp_path, BASE + f"exports:\n  - path: {path}\n    kind: device-inventory\n")
    code, output = _validate(folder)
    assert code == 2 and said in output and "school.yaml:4:" in output, output
    plan = CliRunner().invoke(main, ["--root", str(REPO), "plan", str(folder)])
    assert plan.exit_code == 2 and "internal error" not in plan.output


@pytest.mark.parametrize(
    ("text", "where", "said"),
    [
        (
            "[1, 2]\n",
            "school.yaml:1:1:",
            "document: should be a mapping of fields (key: value), not a list",
        ),
        ("5\n", "school.yaml:1:1:", "not the number 5"),
        ("school: 5\n", "school.yaml:1:9:", "school: should be a mapping"),
    ],
)
def test_a_one_line_type_error_is_placed_where_it_is(
    tmp_path: Path, text: str, where: str, said: str
) -> None:
    code, output = _validate(_school(tmp_path, text))
    assert code == 2 and where in output and said in output, output


def test_an_unrelated_control_is_never_suggested(tmp_path: Path) -> None:
    folder = _school(tmp_path, BASE, **{"attestations.yaml": ATTEST.format(
        control="O99", date="2026-09-01")})  # fmt: skip
    code, output = _validate(folder)
    assert code == 2 and "unknown control 'O99'" in output and "did you mean" not in output


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--explanation", " ", "--by", "An"], "--explanation must not be empty"),
        (["--explanation", "x", "--by", ""], "--by must not be empty"),
        (["--explanation", "x", "--by", "An", "--date", "2099-01-01"], "lies in the future"),
        (["--explanation", "x", "--by", "An", "--evidence", "LOOP"], "cannot be used"),
        (["--explanation", "x", "--by", "An", "--evidence", "x" * 300], "cannot be used"),
    ],
    ids=["empty explanation", "empty name", "future", "link loop", "long name"],
)
def test_attest_refuses_what_validate_would(tmp_path: Path, extra: list[str], said: str) -> None:
    folder = _school(tmp_path, BASE)
    (folder / "l1").symlink_to(folder / "l2")
    (folder / "l2").symlink_to(folder / "l1")
    args = [str(folder / "l1") if a == "LOOP" else a for a in extra]
    result = CliRunner().invoke(
        main,
        ["--root", str(REPO), "attest", str(folder), "O12", "--answer", "implemented", *args],
    )
    assert result.exit_code == 2 and said in result.output, result.output
    assert not (folder / "attestations.yaml").exists()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_named_as_such(tmp_path: Path, encoding: str) -> None:
    folder = _school(tmp_path, "")
    (folder / "school.yaml").write_bytes(BASE.encode(encoding))
    code, output = _validate(folder)
    assert code == 2 and "error[encoding]" in output and "save the file as UTF-8" in output


def test_the_service_names_are_those_the_probes_read() -> None:
    from cyberstd.net.endpoints import MAIL_SERVICES
    from cyberstd.school import SERVICES

    assert set(SERVICES) == {"https"} | {name for name, _, _ in MAIL_SERVICES}


def test_a_zone_without_a_kind_is_refused_once_segmentation_is_asked(tmp_path: Path) -> None:
    text = (
        BASE + "zones:\n"
        "  - {id: wifi-leerlingen, kind: pupils, cidr: 10.30.0.0/24}\n"
        "  - {id: administratie, cidr: 10.20.1.0/24}\n"
        "network: {vantage_zone: wifi-leerlingen}\n"
    )
    code, output = _validate(_school(tmp_path, text))
    assert code == 2 and "zone 'administratie' has no kind" in output, output
    assert "school.yaml:5:" in output
    fixed = text.replace("{id: administratie,", "{id: administratie, kind: administration,")
    code, output = _validate(_school(tmp_path, fixed))
    assert code == 0, output

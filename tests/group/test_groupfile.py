"""group.yaml and the list of schools: what loads, and every mistake with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cyberstd.errors import InputError
from cyberstd.groupfile import load_group, perimeter_school, read_school_list
from cyberstd.groupresults import GroupMode

PERIMETER = """\
group:
  id: kc-perimeter
  name: "Publieke perimeter"
perimeter:
  schools: scholen.csv
  authorization:
    authorized_by: "Kenniscentrum, opdracht KC-2026-117"
    date: 2026-10-01
    expires: 2027-09-30
"""


def _school(folder: Path, school_id: str) -> None:
    folder.mkdir(parents=True)
    (folder / "school.yaml").write_text(f"school:\n  id: {school_id}\n  name: School {school_id}\n")


def _problems(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [p.render("en") for p in exc.value.problems]


def test_a_group_folder_finds_its_school_folders(tmp_path: Path) -> None:
    (tmp_path / "group.yaml").write_text("group:\n  id: sg-noord\n  name: Scholengroep Noord\n")
    _school(tmp_path / "sint-jan", "sint-jan")
    _school(tmp_path / "de-klimop", "de-klimop")
    (tmp_path / "gedeeld").mkdir()  # no school.yaml: not a school
    group = load_group(tmp_path)
    assert group.mode is GroupMode.FOLDERS
    assert [m.key for m in group.members] == ["de-klimop", "sint-jan"]
    assert group.inputs.keys() == {"group.yaml"}


def test_listed_school_folders_must_exist_once_and_beside_group_yaml(tmp_path: Path) -> None:
    (tmp_path / "group.yaml").write_text(
        "group:\n  id: sg\n  name: SG\nschools:\n  - sint-jan\n  - ../elders\n  - weg\n  - sint-jan\n"
    )
    _school(tmp_path / "sint-jan", "sint-jan")
    with pytest.raises(InputError) as caught:
        load_group(tmp_path)
    problems = _problems(caught)
    assert len(problems) == 3
    assert "group.yaml:6:" in problems[0] and "'../elders'" in problems[0]
    assert (
        "group.yaml:7:" in problems[1]
        and "'weg'" in problems[1]
        and "no school.yaml" in problems[1]
    )
    assert "group.yaml:8:" in problems[2] and "twice" in problems[2]


def test_a_folder_without_group_yaml_says_what_to_write(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_group(tmp_path)
    assert "group.id and group.name" in _problems(caught)[0]


def test_both_modes_at_once_are_refused(tmp_path: Path) -> None:
    (tmp_path / "group.yaml").write_text(PERIMETER + "schools: [a]\n")
    with pytest.raises(InputError) as caught:
        load_group(tmp_path)
    assert "not both" in " ".join(_problems(caught))


def test_a_perimeter_list_in_excel_s_belgian_csv(tmp_path: Path) -> None:
    (tmp_path / "group.yaml").write_text(PERIMETER)
    # as Excel saves "CSV UTF-8" in a Belgian locale: BOM, ';', CRLF, Dutch headers
    (tmp_path / "scholen.csv").write_bytes(
        "\ufeffInstellingsnummer;Naam;Domeinen\r\n"
        "012345;Sint-Jan Basisschool;sint-jan.be sintjan.onmicrosoft.com\r\n"
        "054321;GO! Atheneum;atheneum-voorbeeld.be\r\n"
        ";;\r\n".encode()
    )
    group = load_group(tmp_path)
    assert group.mode is GroupMode.PERIMETER
    first, second = group.members
    assert (first.key, first.name, first.domains) == (
        "school-012345",
        "Sint-Jan Basisschool",
        ("sint-jan.be", "sintjan.onmicrosoft.com"),
    )
    assert second.line == 3
    assert group.inputs.keys() == {"group.yaml", "scholen.csv"}
    assert group.authorization is not None and group.authorization.reference is None
    school = perimeter_school(first, None, [], None)
    assert school.profile == "perimeter"
    assert [h.name for h in school.hosts] == ["www.sint-jan.be"]
    assert school.school.institution_number == "012345"


def test_every_bad_row_is_named_by_its_line() -> None:
    data = (
        b"institution_number,name,domains,id\n"
        b"12345,Good,good.be,\n"
        b"12a45,Bad number,bad.be,\n"
        b"22345,,noname.be,\n"
        b"32345,No domain,,\n"
        b"42345,Bad domain,not a domain!,\n"
        b"52345,Bad id,ok.be,kapot id\n"
        b"62345,Twice,twice.be,dup\n"
        b"72345,Twice again,twice2.be,dup\n"
    )
    members, problems = read_school_list(data, "lijst.csv")
    assert [m.key for m in members] == ["school-12345", "dup"]
    lines = [(p.line, p.render("en")) for p in problems]
    assert [line for line, _ in lines] == [3, 4, 5, 6, 7, 9]
    assert "'12a45'" in lines[0][1] and "lijst.csv:3:1" in lines[0][1]
    assert "no name" in lines[1][1]
    assert "no domain" in lines[2][1]
    assert "not a domain!" in lines[3][1]
    assert "'kapot id'" in lines[4][1]
    assert "already on line 8" in lines[5][1]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "empty"),
        (b"naam;domeinen\nX;x.be\n", "instellingsnummer"),
        ("instellingsnummer;naam;domeinen\n1234;Caf\xe9;x.be\n".encode("latin-1"), "UTF-8"),
        (b"instellingsnummer;naam;domeinen\n", "empty"),
    ],
)
def test_a_list_that_cannot_be_read_says_why(data: bytes, said: str) -> None:
    members, problems = read_school_list(data, "lijst.csv")
    assert members == [] and len(problems) == 1
    assert said in problems[0].render("en")
    assert problems[0].render("nl") != problems[0].render("en")


@pytest.mark.parametrize(
    ("domains", "said"),
    [
        ("10.0.0.1", "not a domain name the school can own"),
        ("be", "not a domain name the school can own"),
        ("school.be github.io", "public suffix"),
    ],
)
def test_a_row_whose_domain_no_school_can_own_is_refused(domains: str, said: str) -> None:
    # the same rule as school.yaml's domains: a perimeter scan never takes a whole suffix
    data = f"instellingsnummer;naam;domeinen\n12345;Goed;goed.be\n22345;Fout;{domains}\n"
    members, problems = read_school_list(data.encode(), "lijst.csv")
    assert [m.key for m in members] == ["school-12345"]
    assert len(problems) == 1 and problems[0].line == 3
    assert said in problems[0].render("en")
    assert problems[0].render("nl") != problems[0].render("en")


def test_a_bad_host_name_in_a_row_is_said_in_dutch_too() -> None:
    data = b"instellingsnummer;naam;domeinen\n12345;Fout;http://www.school.be/pad\n"
    _, problems = read_school_list(data, "lijst.csv")
    assert len(problems) == 1
    dutch = problems[0].render("nl")
    assert "geen geldige hostnaam" in dutch and "not a valid" not in dutch


def test_a_latin_1_list_is_named_at_its_first_bad_character() -> None:
    data = "instellingsnummer;naam;domeinen\n1234;Basisschool Sint-André;x.be\n".encode("latin-1")
    _, problems = read_school_list(data, "lijst.csv")
    assert len(problems) == 1
    assert (problems[0].line, problems[0].col) == (2, len("1234;Basisschool Sint-Andr") + 1)
    assert problems[0].render("en").startswith("lijst.csv:2:27:")

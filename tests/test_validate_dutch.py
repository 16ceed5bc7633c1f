"""A coordinator whose console speaks Dutch reads the problems of a school folder in Dutch: the
same file:line:col and codes, the same exit code; in any other locale the English is as it was."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pydantic import BaseModel, ConfigDict, Field

from cyberstd.cli import main
from cyberstd.errors import Problem
from cyberstd.messages import msg
from tests.conftest import REPO
from tests.english import english_in

SHA = "a" * 64
AS_OF = "2026-11-29"
# A school folder that loads, with what only the cross-checks find.
CROSS = {
    "school.yaml": (
        "school: {id: sint-jan, name: Sint-Jan}\n"
        "domains: [sintjan.test, sintjan.test]\n"
        "hosts:\n"
        "  - {name: www.sintjan.test, roles: [website], zone: pupil}\n"
        "zones:\n"
        "  - {id: pupils, cidr: 10.20.0.0/16}\n"
        "network: {vantage_zone: pupls, ca_bundle: ca.pem}\n"
        "exports:\n"
        "  - {path: exports/toestellen.csv, kind: device-inventry}\n"
        "scope:\n"
        "  - {ranges: [10.0.0.0/8], authorized_by: An Peeters, date: 2027-01-05}\n"
        "not_applicable:\n"
        "  - {control: o7, reason: Geen eigen toestellen.}\n"
    ),
    "attestations.yaml": (
        "attestations:\n"
        "  - control: O1\n"
        "    answer: implemented\n"
        "    explanation: Beleid goedgekeurd.\n"
        "    evidence:\n"
        f"      - {{path: bewijs/beleid.pdf, sha256: {SHA}}}\n"
        "    attested_by: An Peeters\n"
        "    date: 2026-09-01\n"
        "    review_by: 2027-06-01\n"
        "  - {control: O1, answer: implemented, explanation: x, attested_by: An,"
        " date: 2026-09-01, review_by: 2027-06-01}\n"
    ),
    "waivers.yaml": (
        "waivers:\n"
        "  - {control: O99, reason: x, approved_by: Directie, expires: 2027-06-30}\n"
        "  - {check: web.hsts.mising, reason: x, approved_by: Directie, expires: 2027-06-30}\n"
        "  - {control: O12, reason: x, approved_by: Directie, expires: 2027-06-30}\n"
        "  - {control: O12, reason: y, approved_by: Directie, approved: 2030-01-01,"
        " expires: 2031-06-30}\n"
    ),
    "exports/toestellen.csv": "hostname,ip\npc1,10.20.0.5\n",
    "ca.pem": "geen certificaat\n",
}
# A school folder whose files do not even read as school files.
PARSE = {
    "school.yaml": (
        "school: {id: sint-jan}\n"
        "domains: [sintjan.test]\n"
        "hosts:\n"
        "  - {name: www.sintjan.test, roles: [webiste], adress: 10.0.0.1}\n"
        "  - {name: 'bad host!', roles: []}\n"
        "zones:\n"
        "  - {id: pupils, cidr: 10.20.0.1/16, kind: pupil}\n"
        "network: {max_rate: 0, timeout: snel}\n"
    ),
    "attestations.yaml": (
        "attestations:\n"
        "  - {control: O2, answer: implmented, explanation: '', attested_by: An,"
        " date: 2026-13-01, review_by: 2027-01-01}\n"
        "  - {control: O3, answer: implemented, explanation: x, attested_by: An,"
        " date: 2026-09-01}\n"
        "  - {control: O4, answer: implemented, explanation: x, attested_by: An,"
        " date: 2026-09-01, review_by: 2026-01-01}\n"
    ),
    "waivers.yaml": (
        "waivers:\n"
        "  - {control: O7, check: web.hsts, reason: x, approved_by: An, expires: 2027-01-01}\n"
        "  - {control: O9, reason: x, approved_by: An, expires: 1/9/2027, extra: 1}\n"
    ),
}
# What `validate` said in English before it spoke Dutch, word for word.
ENGLISH = {
    "cross": [
        "TMP/school.yaml:4:54: error[unknown-id]: unknown zone 'pupil' (did you mean 'pupils'?)",
        "TMP/school.yaml:7:25: error[unknown-id]: unknown zone 'pupls' (did you mean 'pupils'?)",
        "TMP/school.yaml:7:43: error[not-a-ca-bundle]: CA bundle 'ca.pem': holds no PEM "
        "certificate (-----BEGIN CERTIFICATE-----)",
        "TMP/school.yaml:9:42: error[unknown-id]: unknown export kind 'device-inventry' (did "
        "you mean 'device-inventory'?)",
        "TMP/school.yaml:2:25: error[duplicate-id]: domain 'sintjan.test' is listed twice",
        "TMP/school.yaml:11:15: error[scope-too-wide]: range 10.0.0.0/8 is wider than a "
        "school's network (at most /16 for IPv4, /48 for IPv6); list the school's ranges",
        "TMP/school.yaml:11:61: error[date]: authorisation date 2027-01-05 lies in the future",
        "TMP/school.yaml:13:15: error[unknown-id]: unknown control 'o7' (did you mean 'O7'?)",
        "TMP/attestations.yaml:6:16: error[evidence-missing]: evidence file "
        "'bewijs/beleid.pdf' not found",
        "TMP/attestations.yaml:10:15: error[duplicate-id]: control 'O1' is attested twice; "
        "keep one entry",
        "TMP/waivers.yaml:2:15: error[unknown-id]: waiver for unknown control 'O99'",
        "TMP/waivers.yaml:3:13: error[unknown-id]: waiver for unknown check 'web.hsts.mising'"
        " (did you mean 'web.hsts'?)",
        "TMP/waivers.yaml:5:15: error[duplicate-id]: control O12 already has a waiver (entry "
        "3); keep one",
        "13 problems found",
    ],
    "parse": [
        "TMP/school.yaml:1:9: error[missing-field]: required field 'name' is missing",
        "TMP/school.yaml:4:38: error[invalid]: hosts.0.roles.0: 'webiste' is not one of "
        "website, mail, vpn, firewall, dns, server, wifi-controller, nas, printer, other (did"
        " you mean 'website'?)",
        "TMP/school.yaml:4:48: error[unknown-field]: unknown field 'adress' (did you mean "
        "'address'?)",
        "TMP/school.yaml:5:12: error[invalid]: hosts.1.name: 'bad host!' is not a valid host "
        "name (letters, digits and '-', dot-separated)",
        "TMP/school.yaml:5:32: error[invalid]: hosts.1.roles: List should have at least 1 "
        "item after validation, not 0",
        "TMP/school.yaml:7:24: error[invalid]: zones.0.cidr: '10.20.0.1/16' has host bits set"
        " (did you mean '10.20.0.0/16'?)",
        "TMP/school.yaml:7:44: error[invalid]: zones.0.kind: 'pupil' is not one of pupils, "
        "staff, administration, servers, guests, byod, management, iot, dmz, other (did you "
        "mean 'pupils'?)",
        "TMP/school.yaml:8:33: error[invalid]: network.timeout: Input should be a valid "
        "number, unable to parse string as a number",
        "TMP/school.yaml:8:21: error[invalid]: network.max_rate: Input should be greater than"
        " or equal to 0.1",
        "TMP/attestations.yaml:2:27: error[invalid]: attestations.0.answer: 'implmented' is "
        "not one of implemented, partially, not_implemented, not_applicable (did you mean "
        "'implemented'?)",
        "TMP/attestations.yaml:2:52: error[invalid]: attestations.0.explanation: String "
        "should have at least 1 character",
        "TMP/attestations.yaml:2:79: error[date]: attestations.0.date: input should be a "
        "valid date or datetime, month value is outside expected range of 1-12 (got "
        "'2026-13-01')",
        "TMP/attestations.yaml:3:5: error[missing-field]: required field 'review_by' is missing",
        "TMP/attestations.yaml:4:5: error[invalid]: attestations.2: review_by (2026-01-01) is"
        " before date (2026-09-01)",
        "TMP/waivers.yaml:2:5: error[invalid]: waivers.0: give exactly one of 'check' or 'control'",
        "TMP/waivers.yaml:3:56: error[invalid]: waivers.1.expires: '1/9/2027' is not a date; "
        "write it as YYYY-MM-DD (such as 2026-09-01)",
        "TMP/waivers.yaml:3:66: error[unknown-field]: unknown field 'extra'",
        "17 problems found",
    ],
}
FOLDERS = {"cross": CROSS, "parse": PARSE}
LINE = re.compile(r"^(?P<place>\S+:\d+:\d+): (?P<label>\w+)\[(?P<code>[a-z0-9-]+)\]: (?P<text>.+)$")


def _env(lang: str) -> dict[str, str | None]:
    return {"LANG": lang, "LC_ALL": None, "LC_MESSAGES": None}


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "school"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _run(lang: str, *args: str) -> Result:
    result = CliRunner(env=_env(lang)).invoke(main, ["--root", str(REPO), *args])
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result


def _validate(folder: Path, lang: str) -> Result:
    return _run(lang, "validate", str(folder), "--as-of", AS_OF)


def _lines(result: Result, folder: Path) -> list[str]:
    return result.output.replace(str(folder), "TMP").splitlines()


def _problems(lines: list[str]) -> list[re.Match[str]]:
    found = [LINE.match(line) for line in lines]
    return [m for m in found if m is not None]


@pytest.mark.parametrize("case", FOLDERS)
def test_in_another_locale_the_problems_are_the_english_of_before(
    tmp_path: Path, case: str
) -> None:
    folder = _folder(tmp_path, FOLDERS[case])
    result = _validate(folder, "C")
    assert result.exit_code == 2
    assert _lines(result, folder) == ENGLISH[case]


@pytest.mark.parametrize("case", FOLDERS)
def test_in_a_dutch_locale_the_problems_are_dutch_at_the_same_places(
    tmp_path: Path, case: str
) -> None:
    folder = _folder(tmp_path, FOLDERS[case])
    en, nl = _validate(folder, "C"), _validate(folder, "nl_BE.UTF-8")
    assert nl.exit_code == en.exit_code == 2
    en_lines, nl_lines = _lines(en, folder), _lines(nl, folder)
    en_problems, nl_problems = _problems(en_lines), _problems(nl_lines)
    assert len(nl_problems) == len(en_problems) == len(en_lines) - 1
    assert [(m["place"], m["code"]) for m in nl_problems] == [
        (m["place"], m["code"]) for m in en_problems
    ]
    assert {m["label"] for m in nl_problems} == {"fout"}
    for e, n in zip(en_problems, nl_problems, strict=True):
        assert n["text"] != e["text"], n.group(0)
    assert nl_lines[-1] == f"{len(nl_problems)} fouten gevonden"
    texts = "\n".join(m["text"] for m in nl_problems)
    assert english_in(texts) == [], texts


def test_a_folder_with_notices_is_said_valid_in_dutch(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "school.yaml": "school: {id: x, name: y}\ndomains: [sintjan.test]\n",
            "waivers.yaml": (
                "waivers:\n"
                "  - {control: O7, reason: x, approved_by: An, expires: 2026-01-01}\n"
                "  - {check: web.hsts, reason: x, approved_by: An, expires: 2027-01-01}\n"
            ),
        },
    )
    en, nl = _validate(folder, "C"), _validate(folder, "nl_BE.UTF-8")
    assert en.exit_code == nl.exit_code == 0
    assert _lines(en, folder) == [
        "TMP/waivers.yaml:2:5: notice[waiver-no-effect]: the waiver for control O7 takes no "
        "effect: expired on 2026-01-01; it no longer counts",
        "TMP/waivers.yaml:3:5: notice[waiver-no-effect]: the waiver for check web.hsts takes "
        "no effect: check web.hsts will give no verdict: the school declares no host with "
        "role website",
        "valid: catalog, TMP",
    ]
    lines = _lines(nl, folder)
    assert lines[0] == (
        "TMP/waivers.yaml:2:5: opmerking[waiver-no-effect]: de uitzondering voor maatregel O7 "
        "heeft geen effect: verlopen op 2026-01-01; ze telt niet meer"
    )
    assert lines[1].startswith(
        "TMP/waivers.yaml:3:5: opmerking[waiver-no-effect]: de uitzondering voor controle "
        "web.hsts heeft geen effect: controle web.hsts zal geen oordeel geven: "
    )
    assert lines[2] == "in orde: catalogus, TMP"
    assert english_in("\n".join(lines)) == []


def test_a_given_lang_decides_and_a_default_lang_does_not(tmp_path: Path) -> None:
    folder = _folder(tmp_path, PARSE)
    first = ENGLISH["parse"][0].replace("TMP", str(folder))
    # plan --lang en in a Dutch console: English
    plan = _run("nl_BE.UTF-8", "plan", str(folder), "--lang", "en")
    assert plan.exit_code == 2 and plan.output.splitlines()[0] == first
    # scan's --lang is nl by default (for the reports); the console's locale still decides
    out = str(tmp_path / "out")
    scan = _run("C", "scan", str(folder), "--out", out)
    assert scan.exit_code == 2 and scan.output.splitlines()[0] == first
    scan = _run("C", "scan", str(folder), "--out", out, "--lang", "nl")
    assert scan.exit_code == 2
    assert scan.output.splitlines()[0].endswith(
        ": fout[missing-field]: verplicht veld 'name' ontbreekt"
    )


def test_attest_refuses_in_the_console_language(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"school.yaml": "school: {id: x, name: y}\n"})
    args = ["attest", str(folder), "O1", "--answer", "implemented", "--explanation", "x"]
    args += ["--by", "An", "--evidence", "weg.pdf"]
    assert _run("C", *args).output.strip() == "error: evidence file not found: weg.pdf"
    assert _run("nl_BE.UTF-8", *args).output.strip() == "fout: bewijsstuk niet gevonden: weg.pdf"


def test_a_problem_says_its_catalog_message_and_keeps_its_english() -> None:
    said = Problem.of(
        "s.yaml", 3, 5, "unknown-id", msg("input.school.unknown_zone", zone="'x'", hint="")
    )
    assert str(said) == "s.yaml:3:5: error[unknown-id]: unknown zone 'x'"
    assert said.render("en") == str(said)
    assert said.render("nl") == "s.yaml:3:5: fout[unknown-id]: onbekende zone 'x'"
    assert said.render("nl", "notice") == "s.yaml:3:5: opmerking[unknown-id]: onbekende zone 'x'"
    # problems compare by what they say in English, as before
    assert said == Problem("s.yaml", 3, 5, "unknown-id", "unknown zone 'x'")
    plain = Problem("s.yaml", 1, 1, "export", "not a FortiGate configuration")
    assert plain.render("nl") == "s.yaml:1:1: fout[export]: not a FortiGate configuration"


class _Kinds(BaseModel):
    """A field for each kind of pydantic error that the catalog says in Dutch."""

    model_config = ConfigDict(extra="forbid")
    count: int = 1
    share: float = Field(default=1.0, allow_inf_nan=False)
    flag: bool = True
    above: int = Field(default=1, gt=0)
    below: int = Field(default=1, lt=10)
    most: int = Field(default=1, le=10)
    least: float = Field(default=1.0, ge=0.5)
    few: list[int] = Field(default_factory=list, max_length=2)
    word: str = Field(default="x", max_length=3)
    name: str = "x"
    items: list[int] = Field(default_factory=list)
    day: dt.date = dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    "text",
    [
        "count: veel",
        "count: 1.5",
        "count: ~",
        "share: snel",
        "share: .inf",
        "share: ~",
        "flag: misschien",
        "flag: ~",
        "above: 0",
        "below: 10",
        "most: 11",
        "least: 0.25",
        "few: [1, 2, 3]",
        "word: lang",
        "name: [a]",
        "items: {a: 1}",
        "day: '2026-02-30'",
        "day: '2026-13-01'",
        "day: ~",
    ],
)
def test_pydantic_errors_are_said_in_dutch_with_their_english_unchanged(text: str) -> None:
    from cyberstd.validation import parse
    from cyberstd.yamlsrc import load_text

    doc = load_text(text + "\n", text.encode(), "k.yaml")
    model, problems = parse(doc, _Kinds)
    assert model is None and len(problems) == 1
    problem = problems[0]
    assert problem.said is not None and problem.text("en") == problem.message
    dutch = problem.text("nl")
    assert dutch != problem.message and english_in(dutch) == [], (problem.message, dutch)
    assert "Input" not in dutch and "input" not in dutch and "should" not in dutch, dutch


def test_a_misspelt_top_level_key_is_named_with_what_was_meant(tmp_path: Path) -> None:
    """'schol:' at the top of school.yaml sits where the missing 'school' is reported; both
    are said, the misspelt key with "bedoel je"."""
    folder = tmp_path / "sx"
    folder.mkdir()
    (folder / "school.yaml").write_text("schol:\n  id: x\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["validate", str(folder)], env={"LANG": "nl_BE.UTF-8", "LC_ALL": None}
    )
    assert result.exit_code == 2
    assert (
        "school.yaml:1:1: fout[missing-field]: verplicht veld 'school' ontbreekt" in result.output
    )
    assert "school.yaml:1:1: fout[unknown-field]: onbekend veld 'schol' (bedoel je 'school'?)" in (
        result.output
    )

"""`init` writes its comments, and `attest` asks its questions, in Dutch or English (--lang,
else from the locale): one language per folder, and the files still validate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cyberstd import messages
from cyberstd.cli import main
from cyberstd.cli.school import folder_lang
from tests.conftest import REPO

AS_OF = "2026-11-29"
FILES = ("school.yaml", "attestations.yaml", "waivers.yaml")
# Words that give a language away in a comment (none of them a word of the other language).
ENGLISH = {"the", "and", "with", "which", "who", "their", "its", "each", "only", "what"}
DUTCH = {"de", "het", "een", "en", "van", "die", "wie", "zijn", "voor", "wat", "elk", "niet"}


def cli(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, ["--root", str(REPO), *args], input=input, env=env)
    assert "Traceback" not in result.output
    return result


def comments(folder: Path) -> str:
    """Every comment the scaffold wrote, without the schema line and the commented examples."""
    lines = []
    for name in FILES:
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            for text in (part.strip() for part in line.split("#")[1:]):
                if not text or text.startswith(("yaml-language-server:", "-")):
                    continue
                if re.match(r"^[a-z_]+:", text):  # a commented-out key: value
                    continue
                lines.append(text)
    return "\n".join(lines)


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def init_texts(lang: str, folder: Path) -> list[str]:
    """Every line of every init.* text in `lang`, as the scaffold writes it into `folder`."""
    return [
        line
        for id in messages.catalog()
        if id.startswith("init.") and id not in ("init.created", "init.next")
        for line in messages.render(id, lang, {"folder": str(folder)}).splitlines()
    ]


@pytest.mark.parametrize(("lang", "other", "foreign"), [("nl", "en", ENGLISH), ("en", "nl", DUTCH)])
def test_init_writes_one_language_and_the_files_validate(
    tmp_path: Path, lang: str, other: str, foreign: set[str]
) -> None:
    folder = tmp_path / "school"
    result = cli("init", str(folder), "--name", "Sint-Jan", "--lang", lang)
    assert result.exit_code == 0, result.output
    said = comments(folder)
    assert said and not (words(said) & foreign), sorted(words(said) & foreign)
    written = "\n".join((folder / n).read_text(encoding="utf-8") for n in FILES)
    for line in init_texts(lang, folder):
        assert line in written, line
    own = "\n".join(init_texts(lang, folder))
    for line in init_texts(other, folder):
        if line not in own:  # a list of values (pupils, staff, ...) reads the same in both
            assert line not in written, line
    created = "aangemaakt:" if lang == "nl" else "created"
    assert result.output.count(created) == 7  # three files, evidence/, three schemas
    assert (folder / ".schemas" / "school.schema.json").is_file()
    result = cli("validate", str(folder), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output


def test_init_takes_the_language_of_the_locale(tmp_path: Path) -> None:
    cli("init", str(tmp_path / "a"), env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "en_GB.UTF-8"})
    cli("init", str(tmp_path / "b"), env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "nl_BE.UTF-8"})
    cli("init", str(tmp_path / "c"), env={"LC_ALL": "C.UTF-8", "LANG": "en_US.UTF-8"})
    assert "describes one school" in (tmp_path / "a" / "school.yaml").read_text()
    assert "beschrijft één school" in (tmp_path / "b" / "school.yaml").read_text()
    assert "beschrijft één school" in (tmp_path / "c" / "school.yaml").read_text()


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({}, "nl"),
        ({"LANG": "C.UTF-8"}, "nl"),
        ({"LANG": "POSIX"}, "nl"),
        ({"LANG": "nl_BE.UTF-8"}, "nl"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "fr_BE.UTF-8"}, "en"),
        ({"LC_ALL": "nl_NL.UTF-8", "LANG": "en_GB.UTF-8"}, "nl"),
        ({"LC_MESSAGES": "en_GB", "LANG": "nl_BE"}, "en"),
    ],
)
def test_folder_lang(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], lang: str) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert folder_lang() == lang


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_attest_asks_in_the_language_and_writes_a_valid_file(tmp_path: Path, lang: str) -> None:
    folder = tmp_path / "school"
    assert cli("init", str(folder), "--lang", lang).exit_code == 0
    (folder / "attestations.yaml").unlink()  # attest writes a new one, with its header
    result = cli(
        "attest",
        str(folder),
        "O1",
        "--lang",
        lang,
        "--date",
        "2024-09-02",
        input="partially\nHalf done.\nAn, director\n",
    )
    assert result.exit_code == 0, result.output
    nl = ("Mogelijke antwoorden", "toelichting", "verklaard door", "vastgelegd in")
    en = ("Possible answers", "explanation", "attested by", "recorded O1")
    for text in nl if lang == "nl" else en:
        assert text in result.output
    for text in en if lang == "nl" else nl:
        assert text not in result.output
    assert "implemented" in result.output and "not_applicable" in result.output
    written = (folder / "attestations.yaml").read_text(encoding="utf-8")
    assert written.startswith("# yaml-language-server: $schema=.schemas/attestations.schema.json")
    header = "Verklaringen: wat iemand" if lang == "nl" else "Attestations: what a person"
    assert header in written and "answer: partially" in written
    assert cli("validate", str(folder), "--as-of", AS_OF).exit_code == 0


def test_attest_names_no_schema_a_folder_does_not_hold(tmp_path: Path) -> None:
    folder = tmp_path / "school"
    folder.mkdir()
    (folder / "school.yaml").write_text("school: {id: s, name: S}\n")
    args = ["attest", str(folder), "O1", "--answer", "implemented", "--explanation", "Done."]
    result = cli(*args, "--by", "An", "--lang", "en")
    assert result.exit_code == 0, result.output
    written = (folder / "attestations.yaml").read_text(encoding="utf-8")
    assert written.startswith("# Attestations: what a person")


def test_attest_takes_the_dutch_word_for_an_answer(tmp_path: Path) -> None:
    folder = tmp_path / "school"
    assert cli("init", str(folder), "--lang", "nl").exit_code == 0
    result = cli(
        "attest",
        str(folder),
        "O1",
        "--lang",
        "nl",
        "--date",
        "2024-09-02",
        input="Niet ingevoerd\nNog niet gepland.\nAn, directeur\n",
    )
    assert result.exit_code == 0, result.output
    assert "niet ingevoerd" in result.output  # shown beside the id
    written = (folder / "attestations.yaml").read_text(encoding="utf-8")
    assert "answer: not_implemented" in written

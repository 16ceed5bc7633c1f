"""Command help in the user's language: Dutch when the locale is Dutch, the code's own help in
English, and the catalog's English kept equal to it."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from cyberstd.cli import main
from cyberstd.messages import catalog
from tests.english import english_in


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> dict[str, click.Command]:
    out: dict[str, click.Command] = {".".join(path) or "main": group}
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group) and not path:
            out |= _commands(cmd, (*path, name))
        else:
            out[".".join((*path, name))] = cmd
    return out


def test_the_catalog_english_is_the_help_the_code_carries() -> None:
    commands = _commands(main)
    checked = 0
    for key, entry in catalog().items():
        if not key.startswith("help.") or key == "help.help":
            continue
        name = key.removeprefix("help.")
        if name in commands:
            assert entry["en"] == " ".join((commands[name].help or "").split()), key
        else:
            command, _, option = name.rpartition(".")
            param = next(p for p in commands[command].params if p.name == option)
            assert isinstance(param, click.Option)
            assert entry["en"] == " ".join((param.help or "").split()), key
        checked += 1
    assert checked > 40


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["scan"],
        ["init"],
        ["validate"],
        ["attest"],
        ["report"],
        ["standards", "show"],
        ["collect", "m365"],
        ["group", "scan"],
    ],
)
def test_help_is_dutch_when_the_locale_is(args: list[str]) -> None:
    nl = CliRunner(env={"LANG": "nl_BE.UTF-8", "LC_ALL": None, "LC_MESSAGES": None}).invoke(
        main, [*args, "--help"]
    )
    en = CliRunner(env={"LANG": "C.UTF-8", "LC_ALL": None, "LC_MESSAGES": None}).invoke(
        main, [*args, "--help"]
    )
    assert nl.exit_code == 0 and en.exit_code == 0
    assert "Opties:" in nl.output and "Toon deze hulp en stop." in nl.output
    assert "Options:" in en.output and "Show this message and exit." in en.output
    # option names, choices and defaults are the same words in both languages
    body = nl.output.split("\n", 1)[1]
    assert english_in(body.replace("[default:", "[")) == []


@pytest.mark.parametrize(
    ("args", "nl", "en"),
    [
        (["scan", "--nope"], "Fout: Onbekende optie '--nope'.", "Error: No such option '--nope'."),
        (["scan"], "Fout: Ontbrekend argument 'SCHOOL'.", "Error: Missing argument 'SCHOOL'."),
        (["scna"], "(Bedoel je een van: 'scan', 'schema'?)", "(Did you mean one of: 'scan'"),
        (["scan", "a", "b"], "Onverwacht extra argument (b)", "Got unexpected extra argument (b)"),
        (["report", "--lang", "xx", "r.json"], "'xx' is niet een van 'nl', 'en'.", "is not one of"),
        (["scan", "--as-of"], "Optie '--as-of' vraagt een waarde.", "requires an argument"),
    ],
)
def test_a_command_typed_wrongly_is_told_in_the_console_language(
    args: list[str], nl: str, en: str
) -> None:
    env: dict[str, str | None] = {"LANG": "nl_BE.UTF-8", "LC_ALL": None, "LC_MESSAGES": None}
    dutch = CliRunner().invoke(main, args, env=env, prog_name="cyberstd")
    english = CliRunner().invoke(
        main, args, env={**env, "LANG": "en_GB.UTF-8"}, prog_name="cyberstd"
    )
    assert dutch.exit_code == english.exit_code == 2
    assert nl in dutch.output and en in english.output
    assert not english_in(dutch.output)
    assert ("Try 'cyberstd" in english.output) == ("Probeer 'cyberstd" in dutch.output)


def test_every_click_text_in_the_catalog_is_one_click_has() -> None:
    """The catalog finds the Dutch by click's English to the letter: a text click no longer
    has (after an upgrade) would silently stay English, so it must be noticed here."""
    import inspect

    from cyberstd.cli import clicktext

    source = "".join(inspect.getsource(m) for m in clicktext._MODULES)
    texts = [
        form
        for key, entry in catalog().items()
        if key.startswith("click.")
        for form in (entry["en"].values() if isinstance(entry["en"], dict) else [entry["en"]])
    ]
    assert len(texts) > 25
    missing = [t for t in texts if f'"{t}"' not in source]
    assert missing == []

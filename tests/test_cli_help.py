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

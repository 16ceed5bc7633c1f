"""Command help in the user's language: `--help` in Dutch when the environment's locale is
Dutch (LC_ALL, LC_MESSAGES, LANG), from the message catalog (`help.<command>` and
`help.<command>.<option>`); a command without a Dutch text keeps the help its code carries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from cyberstd.cli.common import console_lang
from cyberstd.messages import catalog, render


def help_key(ctx: click.Context, option: str | None = None) -> str:
    """`help.scan`, `help.standards.show`, `help.scan.workers`; `help.main` for the group."""
    parts = _path(ctx) or ["main"]
    return "help." + ".".join([*parts, *([option] if option else [])])


def _path(ctx: click.Context) -> list[str]:
    """The names of the subcommands from the top command down to `ctx`'s."""
    names: list[str] = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return names[::-1]


def _text(key: str, lang: str) -> str | None:
    return render(key, lang) if key in catalog() else None


@contextmanager
def _localised(command: click.Command, ctx: click.Context) -> Iterator[None]:
    """The command's help and its options' help in the console language, for one rendering."""
    lang = console_lang()
    saved: list[tuple[Any, str | None]] = [(command, command.help)]
    if lang != "en":
        command.help = _text(help_key(ctx), lang) or command.help
        for param in command.params:
            if isinstance(param, click.Option) and param.name:
                saved.append((param, param.help))
                param.help = _text(help_key(ctx, param.name), lang) or param.help
    try:
        yield
    finally:
        for owner, text in saved:
            owner.help = text


def _format_options(
    command: click.Command, ctx: click.Context, formatter: click.HelpFormatter
) -> None:
    lang = console_lang()
    rows = []
    help_option = command.get_help_option(ctx)
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
        if record is None:
            continue
        if param is help_option and lang != "en":
            record = (record[0], render("help.help", lang))
        elif lang != "en":
            record = (record[0], record[1].replace("[default: ", "[standaard: "))
        rows.append(record)
    if rows:
        with formatter.section("Options" if lang == "en" else "Opties"):
            formatter.write_dl(rows)


def _format_usage(
    command: click.Command, ctx: click.Context, formatter: click.HelpFormatter
) -> None:
    """ "Usage: cyberstd scan [OPTIONS] SCHOOL", as "Gebruik: … [OPTIES] …" in Dutch."""
    if console_lang() == "en":
        click.Command.format_usage(command, ctx, formatter)
        return
    pieces = " ".join(command.collect_usage_pieces(ctx)).replace("[OPTIONS]", "[OPTIES]")
    pieces = pieces.replace("COMMAND [ARGS]...", "OPDRACHT [ARGUMENTEN]...")
    formatter.write_usage(ctx.command_path, pieces, "Gebruik: ")


def _short(text: str, limit: int = 45) -> str:
    """The first sentence of a help text, cut at a word within `limit` characters."""
    first = " ".join(text.split()).split(". ")[0].rstrip(".")
    if len(first) <= limit:
        return first
    return first[: limit - 3].rsplit(" ", 1)[0] + "..."


class LocalCommand(click.Command):
    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _localised(self, ctx):
            super().format_help(ctx, formatter)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_options(self, ctx, formatter)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_usage(self, ctx, formatter)


class LocalGroup(click.Group):
    """A group whose commands and subgroups give their help in the console language."""

    command_class = LocalCommand
    group_class: type[click.Group] | type[type] | None = type  # subgroups are LocalGroups too

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _localised(self, ctx):
            super().format_help(ctx, formatter)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_usage(self, ctx, formatter)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Commands defined in other modules speak the console language too."""
        if type(cmd) is click.Command:
            cmd.__class__ = LocalCommand
        elif type(cmd) is click.Group:
            cmd.__class__ = LocalGroup
        super().add_command(cmd, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands, each with the first sentence of its help in the language."""
        lang = console_lang()
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            key = "help." + ".".join([*_path(ctx), name])
            text = (_text(key, lang) if lang != "en" else None) or cmd.help or ""
            rows.append((name, _short(text)))
        if rows:
            with formatter.section("Commands" if lang == "en" else "Opdrachten"):
                formatter.write_dl(rows)

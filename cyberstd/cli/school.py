"""A school folder's files for the person who writes them: `cyberstd init` (a commented
scaffold, in Dutch or English), `cyberstd schema` (the files' JSON Schemas, for editors) and
the questions `cyberstd attest` asks."""

from __future__ import annotations

import os
from pathlib import Path

import click

from cyberstd.cli.common import LANG, handle_errors, wrote
from cyberstd.errors import UsageError
from cyberstd.i18n import t

ANSWERS = ["implemented", "partially", "not_implemented", "not_applicable"]


def folder_lang() -> str:
    """The language of init's comments and attest's questions when --lang is not given.

    cyberstd speaks Dutch first: nl, unless the environment's locale (LC_ALL, LC_MESSAGES,
    LANG, the first one set) names another language, such as en_GB.UTF-8; a locale that names
    none (C, POSIX) keeps nl."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            language = value.split(".")[0].split("_")[0].split("@")[0].lower()
            return "en" if language not in ("nl", "c", "posix", "") else "nl"
    return "nl"


LANG_HELP = "nl or en (default: en when the locale names another language than Dutch, else nl)."


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="The school's name (default: the folder name).")
@click.option("--lang", type=LANG, default=None, help=f"Language of the comments: {LANG_HELP}")
@handle_errors
def init(folder: Path, name: str | None, lang: str | None) -> None:
    """Write a commented school folder scaffold into FOLDER, with the files' JSON Schemas in
    FOLDER/.schemas for editors."""
    from cyberstd.scaffold import scaffold

    lang = lang or folder_lang()
    for path in scaffold(folder, name, lang):
        click.echo(t("init.created", lang, path=str(path)))
    click.echo(t("init.next", lang, school_yaml=str(folder / "school.yaml"), folder=str(folder)))


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write into; for a school folder made by an older cyberstd: SCHOOL/.schemas.",
)
@handle_errors
def schema(out: Path) -> None:
    """Write the JSON Schemas of school.yaml, attestations.yaml and waivers.yaml
    (school.schema.json, ...), for editors that validate YAML (yaml-language-server)."""
    from cyberstd.schema_json import write_schemas

    try:
        written = write_schemas(out)
    except OSError as exc:
        raise UsageError(f"cannot write the schemas into {out}: {exc.strerror or exc}") from None
    for path in written:
        wrote(path)


def ask_answer(lang: str) -> str:
    """attest's question for the answer: the four answers with what each means."""
    click.echo(t("attest.answers", lang), err=True)
    for answer in ANSWERS:
        word = t(f"html.answer.{answer}", lang)
        shown = answer if word == answer else f"{answer} / {word}"
        click.echo(f"  {shown:36} {t(f'attest.answer.{answer}', lang)}", err=True)
    words = {t(f"html.answer.{a}", lang): a for a in ANSWERS} | {a: a for a in ANSWERS}
    value: str = click.prompt(
        t("attest.prompt.answer", lang),
        type=click.Choice(list(words), case_sensitive=False),
        show_choices=False,
        err=True,
    )
    return words.get(value) or next(a for w, a in words.items() if w.lower() == value.lower())


def ask_text(id: str, lang: str) -> str:
    value: str = click.prompt(t(id, lang), err=True)
    return value

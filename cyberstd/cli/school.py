"""A school folder and the person who writes it: `cyberstd init` (a commented scaffold, in
Dutch or English), `cyberstd validate` (every problem at once, with notices), `cyberstd attest`
(with the questions it asks) and `cyberstd schema` (the files' JSON Schemas, for editors)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import click

from cyberstd.cli.common import (
    LANG,
    Ctx,
    as_of_option,
    console_lang,
    control_of,
    handle_errors,
    pass_ctx,
    wrote,
)
from cyberstd.errors import InputError, UsageError
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


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@as_of_option
@pass_ctx
@handle_errors
def validate(obj: Ctx, paths: tuple[Path, ...], as_of: dt.date | None) -> None:
    """Check the catalog, checks, profiles and school folders; list every problem at once."""
    from cyberstd.catalog import load_catalog
    from cyberstd.messages import render
    from cyberstd.school import load_school

    catalog, problems = load_catalog(obj.root)
    checked = ["catalog"]
    for path in paths:
        folder = path.parent if path.is_file() else path
        if path.is_dir() and (path / "standards").is_dir() and not (path / "school.yaml").exists():
            _, found = load_catalog(path)
            problems.extend(p for p in found if p not in problems)
            checked.append(str(path))
            continue
        school, found = load_school(folder, catalog, obj.clock(as_of).today)
        problems.extend(found)
        for notice in school_notices(catalog, school, obj.clock(as_of).today, found):
            click.echo(notice, err=True)
        if school is not None and not found:
            from cyberstd.exports import export_problems

            problems.extend(export_problems(school.export_store(catalog.kinds)))
        checked.append(str(folder))
    if problems:
        raise InputError(problems)
    after = "".join(f", {p}" for p in checked[1:])  # the folders after the catalog
    click.echo(render("input.valid", console_lang(), {"paths": after}))


def school_notices(
    catalog: Any, folder: Any, today: Any, problems: list[Any], lang: str | None = None
) -> list[str]:
    """validate's notices on a school folder that loaded: attestations voided by a changed
    evidence file, and waivers that cannot take effect (each at its place in the file), in
    `lang` (default: the console's)."""
    from cyberstd.clock import Clock
    from cyberstd.planview import describe
    from cyberstd.report.escape import visible
    from cyberstd.runner import context_for, make_plan
    from cyberstd.waivers import notices

    if folder is None:
        return []
    found = list(folder.void.values())
    if not problems:
        plan = make_plan(catalog, folder)
        view = describe(plan, context_for(folder, clock=Clock.at(today), kinds=catalog.kinds))
        silent = {n.check: (n.nl, n.en) for n in view.not_judged}
        found += notices(folder, plan.profile, today, silent)
    shown = lang or console_lang()
    return [visible(n.render(shown, "notice")) for n in found]


@click.command()
@click.argument("school_dir", metavar="SCHOOL", type=click.Path(path_type=Path))
@click.argument("control")
@click.option(
    "--answer", type=click.Choice(["implemented", "partially", "not_implemented", "not_applicable"])
)
@click.option("--explanation", help="What is in place, or why not.")
@click.option("--by", "attested_by", help="Who attests (name and role).")
@click.option(
    "--date",
    "on",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date of the attestation (default today).",
)
@click.option(
    "--review-by", type=click.DateTime(["%Y-%m-%d"]), help="Review date (default one year later)."
)
@click.option(
    "--evidence",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Evidence file in the school folder (repeatable).",
)
@click.option(
    "--rehash",
    is_flag=True,
    help="After reviewing a changed evidence file: record its new sha256 and date the "
    "attestation today, keeping the rest.",
)
@click.option("--lang", type=LANG, default=None, help=f"Language of the questions: {LANG_HELP}")
@pass_ctx
@handle_errors
def attest(
    obj: Ctx,
    school_dir: Path,
    control: str,
    answer: str | None,
    explanation: str | None,
    attested_by: str | None,
    on: dt.datetime | None,
    review_by: dt.datetime | None,
    evidence: tuple[Path, ...],
    rehash: bool,
    lang: str | None,
) -> None:
    """Record an attestation for CONTROL in SCHOOL's attestations.yaml (prompts for what is missing)."""
    from cyberstd.attest import NewAttestation, record
    from cyberstd.i18n import t
    from cyberstd.messages import msg
    from cyberstd.results import Answer
    from cyberstd.scaffold import attestations_header
    from cyberstd.schema_json import SCHEMA_DIR

    catalog = obj.catalog()
    if not (school_dir / "school.yaml").is_file():
        raise UsageError(msg("attest.error.not_school", folder=str(school_dir)))
    fw, c = control_of(catalog, control)
    if rehash:
        from cyberstd.attest import rehash as record_hashes

        path, changed = record_hashes(school_dir, c.id, obj.clock().today)
        click.echo(
            f"{c.id}: {len(changed)} evidence file(s) rehashed in {path}: {', '.join(changed) or '-'}"
        )
        return
    lang = lang or folder_lang()
    try:
        if answer is None or explanation is None:
            click.echo(f"{c.id}: {c.title.get(lang)}", err=True)
            for q in fw.mappings[c.id].attestation.questions:
                click.echo(f"  - {q.get(lang)}", err=True)
        if answer is None:
            answer = ask_answer(lang)
        if explanation is None:
            explanation = ask_text("attest.prompt.explanation", lang)
        if attested_by is None:
            attested_by = ask_text("attest.prompt.attested_by", lang)
    except click.Abort:
        raise UsageError(msg("attest.error.aborted")) from None
    day = on.date() if on else obj.clock().today
    review = (
        review_by.date()
        if review_by
        else day.replace(year=day.year + 1)
        if not (day.month == 2 and day.day == 29)
        else day + dt.timedelta(days=365)
    )
    if review < day:
        raise UsageError(msg("attest.error.review_before", review=str(review), day=str(day)))
    if day > obj.clock().today:
        raise UsageError(msg("attest.error.future", day=str(day)))
    for option, value in (("--explanation", explanation), ("--by", attested_by)):
        if not value.strip():
            raise UsageError(msg("attest.error.empty", option=option))
    path = record(
        school_dir,
        NewAttestation(
            c.id, Answer(answer), explanation, attested_by, day, review, tuple(evidence)
        ),
        attestations_header(lang, with_schema=(school_dir / SCHEMA_DIR).is_dir()),
    )
    said = t(f"html.answer.{answer}", lang)
    click.echo(t("attest.recorded", lang, control=c.id, answer=said, path=path, review=review))


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

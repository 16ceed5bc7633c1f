"""`cyberstd group scan`: every school of a group in one run (docs/groups.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
import time
from pathlib import Path
from typing import Any

import click

from cyberstd.cli.common import (
    LANG,
    Ctx,
    as_of_option,
    handle_errors,
    pass_ctx,
    said_lang,
    wrote,
)
from cyberstd.cli.help import LocalGroup
from cyberstd.errors import ExitCode, UsageError
from cyberstd.i18n import t
from cyberstd.messages import msg

DB_NAME = "cyberstd.db"
_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def since_value(text: str | None) -> dt.timedelta | None:
    """`24h`, `90m`, `7d`, `2w` as a time span; a UsageError for anything else."""
    if text is None:
        return None
    found = _SINCE.match(text)
    if found is None or int(found.group(1)) == 0:
        raise UsageError(msg("group.cli.since", value=repr(text)))
    return dt.timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


@click.group(cls=LocalGroup)
def group() -> None:
    """Scan every school of a group in one run: school folders, or a list of schools' public
    perimeters."""


@group.command("scan")
@click.argument("group_dir", metavar="GROUP", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Folder for the roll-up and each school's results and report.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The database of the group's runs (default: cyberstd.db in the group folder).",
)
@click.option(
    "--profile", default=None, help="Profile id for every school (default: each school's)."
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where schools are scanned: here, or on a Dask cluster.",
)
@click.option(
    "--scheduler",
    default=None,
    help="Address of a Dask scheduler (tcp://host:8786); without it, --executor dask starts a cluster here.",
)
@click.option(
    "--schools-at-once",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Schools scanned at the same time (local executor).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Checks at the same time within one school.",
)
@click.option(
    "--since",
    default=None,
    help="Skip schools scanned this recently (24h, 7d) in an earlier run; use those results.",
)
@click.option(
    "--resume/--new-run",
    default=True,
    show_default=True,
    help="Go on with the group's run that was stopped, or start a new one.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 5),
    default=1,
    show_default=True,
    help="Attempts after the first for a school whose scan failed or ran out of time.",
)
@click.option(
    "--deadline",
    type=click.FloatRange(5, 24 * 3600),
    default=900.0,
    show_default=True,
    help="Seconds one school's scan may take.",
)
@click.option(
    "--per-target-rate",
    type=click.FloatRange(0.1, 10000),
    default=20.0,
    show_default=True,
    help="New connections per second to one address, from all schools together.",
)
@click.option(
    "--max-rate",
    type=click.FloatRange(0.1, 100000),
    default=None,
    help="New connections per second across all schools (per machine); default: no limit.",
)
@click.option(
    "--school-reports/--no-school-reports",
    default=None,
    help="Write each school's HTML report beside its results.json (default: for school "
    "folders yes, in perimeter mode no: `cyberstd report` renders one when needed).",
)
@click.option(
    "--csv-sep",
    type=click.Choice([";", ","]),
    default=";",
    show_default=True,
    help="Separator of the group's CSV: ';' for Excel in a Belgian locale (with a byte order "
    "mark and a decimal comma), ',' for other programs (neither).",
)
@click.option("--lang", type=LANG, default="nl", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress; errors only.")
@as_of_option
@pass_ctx
@handle_errors
def scan(
    obj: Ctx,
    group_dir: Path,
    out: Path,
    db: Path | None,
    profile: str | None,
    executor: str,
    scheduler: str | None,
    schools_at_once: int,
    workers: int,
    since: str | None,
    resume: bool,
    retries: int,
    deadline: float,
    per_target_rate: float,
    max_rate: float | None,
    school_reports: bool | None,
    csv_sep: str,
    lang: str,
    quiet: bool,
    as_of: dt.date | None,
) -> None:
    """Scan every school of GROUP (a folder with group.yaml) and write each school's results and
    report, and the group's roll-up: JSON, a dashboard and CSV. A stopped run goes on where it
    stopped when started again."""
    from cyberstd.group.executors import DaskExecutor, LocalExecutor
    from cyberstd.group.job import GroupOptions
    from cyberstd.group.run import GroupRun, RunSettings
    from cyberstd.groupfile import load_group
    from cyberstd.groupresults import GroupMode
    from cyberstd.net.ratelimit import drop_shared
    from cyberstd.net.resolver import drop_caches
    from cyberstd.outputs import writable_folder
    from cyberstd.rollup.rows import errored_schools
    from cyberstd.store import Store

    span = since_value(since)
    if scheduler is not None and executor != "dask":
        raise UsageError(msg("group.cli.scheduler"))
    loaded = load_group(group_dir)
    if school_reports is None:
        school_reports = loaded.mode is GroupMode.FOLDERS
    catalog = obj.catalog()
    if profile is not None:
        catalog.profile(profile)  # an unknown profile stops here, not in every school's scan
    writable_folder(out)
    root = str(obj.root.resolve()) if obj.root is not None else None
    options = GroupOptions(
        profile=profile,
        workers=workers,
        lang=lang,
        catalog_root=root,
        per_target_rate=per_target_rate,
        across_rate=max_rate,
        formats=("html",) if school_reports else (),
    )
    settings = RunSettings(
        options,
        retries=retries,
        deadline=deadline,
        since=span,
        resume=resume,
        ship_folders=executor == "dask",
    )
    store = Store(db or loaded.dir / DB_NAME)
    run: Any = None
    try:
        run = GroupRun(loaded, catalog, store, out, settings, obj.clock(as_of))
        if not quiet:
            _say_how_it_starts(run, store)
        clock = run.clock
        options = dataclasses.replace(options, run_scope=run.info.id)
        chosen: Any
        if executor == "dask":
            chosen = DaskExecutor(scheduler, options, clock.now, clock.as_of)
        else:
            chosen = LocalExecutor(schools_at_once, options, clock.now, clock.as_of)
        try:
            results = run.run(chosen, None if quiet else _progress(said_lang()))
        finally:
            chosen.close()
            drop_caches(run.info.id)
            drop_shared(run.info.id)
        written = _write(results, out, lang, csv_sep)
    except KeyboardInterrupt:
        if run is None:
            raise
        left, total = len(store.pending(run.info.id)), len(run.members)
        said = t("group.cli.interrupted", said_lang(), done=total - left, n=total)
        click.echo(said, err=True)
        sys.exit(130)
    finally:
        store.close()
    if not quiet:
        for path in written:
            wrote(path)
    failed = [s for s in results.schools if s.state not in ("done", "recent")]
    # a school whose checks ended in errors has results, but not a whole judgement: as for
    # `cyberstd scan`, the run is incomplete
    errored = errored_schools(results)
    if errored and not quiet:
        click.echo(t("group.cli.errored", said_lang(), n=errored), err=True)
    sys.exit(ExitCode.INCOMPLETE if failed or errored else ExitCode.OK)


def _say_how_it_starts(run: Any, store: Any) -> None:
    """Say that a stopped run goes on, or that one was set aside for a new run."""
    lang = said_lang()
    if run.resumed:
        n = len(store.pending(run.info.id))
        click.echo(t("group.cli.resumed", lang, run=run.info.id, n=n), err=True)
    elif run.set_aside is not None:
        aside = run.set_aside
        day = aside.as_of.isoformat() if aside.as_of else t("group.cli.as-of-today", lang)
        said = t("group.cli.set-aside", lang, run=aside.id, profile=aside.profile, as_of=day)
        click.echo(said, err=True)


def _progress(lang: str) -> Any:
    last = [0.0]

    def report(done: int, total: int, key: str, state: Any, error: Any) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 2 or state not in ("done", "recent"):
            last[0] = now
            said = t(
                "group.cli.progress",
                lang,
                done=done,
                total=total,
                school=key,
                state=t(f"group.cli.state.{state}", lang),
            )
            if error is not None:  # why, as the dashboard says it
                said += f" ({error.en if lang == 'en' else error.nl})"
            click.echo(said, err=True)

    return report


def _write(results: Any, out: Path, lang: str, sep: Any) -> list[Path]:
    from cyberstd.outputs import write_atomic
    from cyberstd.rollup import render_csv, render_html, render_json

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "group-results.json": render_json(results),
        f"group.{lang}.html": render_html(results, lang),
        f"group.{lang}.csv": render_csv(results, lang, sep),
    }
    return [write_atomic(out / name, text.encode("utf-8")) for name, text in files.items()]

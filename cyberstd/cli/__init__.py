"""Command line: parse, call the core, pick a renderer, map the outcome to an exit code."""

from __future__ import annotations

import datetime as dt
import errno
import json
import sys
from pathlib import Path

import click

from cyberstd import __version__
from cyberstd.cli.common import (
    FAIL_ON,
    LANG,
    Ctx,
    as_of_option,
    console_lang,
    handle_errors,
    pass_ctx,
    said_lang,
    wrote,
)
from cyberstd.cli.help import LocalGroup
from cyberstd.cli.report import (
    PDF_HELP,
    PREVIOUS_HELP,
    PRINTABLE,
    REPORT_FORMATS,
    load_results,
    same_school,
)
from cyberstd.cli.scan import (
    ScanOptions,
    console,
    exit_code_of,
    load_school_folder,
    run_scan,
    school_notices,
    warn_tool_missing,
    write_reports,
)
from cyberstd.cli.school import LANG_HELP, ask_answer, ask_text, folder_lang
from cyberstd.errors import InputError, UsageError


@click.group(cls=LocalGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cyberstd")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CYBERSTD_ROOT",
    help="Folder holding standards/, checks/ and profiles/ (default: the checkout cyberstd runs from).",
)
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    """cyberstd: how far is a school from the cybersecurity standards it must meet?"""
    ctx.obj = Ctx(root)


# --- validate --------------------------------------------------------------------------------


@main.command()
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


# --- standards and checks --------------------------------------------------------------------


@main.group()
def standards() -> None:
    """Browse the frameworks and their controls."""


@standards.command("list")
@click.option("--framework", "framework_id", default=None, help="Framework id (default: all).")
@click.option("--level", type=int, default=None, help="Only controls of this level.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--lang", type=LANG, default="nl")
@pass_ctx
@handle_errors
def standards_list(
    obj: Ctx, framework_id: str | None, level: int | None, fmt: str, lang: str
) -> None:
    """List controls with their level, type and title."""
    catalog = obj.catalog()
    frameworks = (
        [catalog.framework(framework_id)] if framework_id else list(catalog.frameworks.values())
    )
    rows = [
        (fw, c)
        for fw in frameworks
        for c in fw.controls.values()
        if level is None or c.level == level
    ]
    if fmt == "json":
        out = [
            {
                "framework": fw.meta.id,
                "id": c.id,
                "level": c.level,
                "type": c.type,
                "title": {"nl": c.title.nl, "en": c.title.en},
                "evidence": [str(e) for e in c.evidence],
                "checks": fw.mappings[c.id].checks if c.id in fw.mappings else [],
                "crosswalks": c.crosswalks,
            }
            for fw, c in rows
        ]
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "level", "type", "title", "evidence")
    for _, c in rows:
        table.add_row(c.id, str(c.level), c.type, c.title.get(lang), ", ".join(c.evidence))
    Console().print(table)


@standards.command("show")
@click.argument("control")
@click.option("--lang", type=LANG, default="nl")
@pass_ctx
@handle_errors
def standards_show(obj: Ctx, control: str, lang: str) -> None:
    """Show one control: description, how evidence is judged, checks and questions."""
    from cyberstd.messages import msg
    from cyberstd.validation import suggest

    catalog = obj.catalog()
    found = catalog.find_control(control)
    if found is None:
        raise UsageError(
            msg(
                "attest.error.unknown_control",
                control=repr(control),
                hint=suggest(control, catalog.all_control_ids(), close=False),
            )
        )
    fw, c = found
    from cyberstd.mapping_table import control_sheet

    click.echo("\n".join(control_sheet(fw, c.id, lang)))


@main.group()
def checks() -> None:
    """Browse the checks and the probes behind them."""


@checks.command("list")
@click.option("--lang", type=LANG, default="nl")
@pass_ctx
@handle_errors
def checks_list(obj: Ctx, lang: str) -> None:
    """List every check with its probe and severity."""
    catalog = obj.catalog()
    for check in catalog.checks.values():
        click.echo(f"{check.id:28} {check.probe:24} {check.severity:8} {check.title.get(lang)}")


@checks.command("kinds")
@click.option("--lang", type=LANG, default="nl")
@pass_ctx
@handle_errors
def checks_kinds(obj: Ctx, lang: str) -> None:
    """List the kinds of configuration export, their format and how many checks read each."""
    from collections import Counter

    from cyberstd.i18n import t
    from cyberstd.rules.engine import RuleParams

    catalog = obj.catalog()
    readers = Counter(
        kind
        for check in catalog.checks.values()
        if check.probe == "config.rule"
        for kind in RuleParams.model_validate(check.params).kinds()
    )
    for kind in catalog.kinds.values():
        n = readers.get(kind.id, 0)
        click.echo(
            f"{kind.id:26} {kind.format:12} {t('baseline.checks', lang, n=n):12} {kind.title.get(lang)}"
        )


@checks.command("show")
@click.argument("check_id")
@click.option("--lang", type=LANG, default="nl")
@pass_ctx
@handle_errors
def checks_show(obj: Ctx, check_id: str, lang: str) -> None:
    """Show one check: its probe's documentation, parameters and remediation."""
    from cyberstd.profiles import remediation_for
    from cyberstd.registry import probes
    from cyberstd.validation import did_you_mean

    catalog = obj.catalog()
    if check_id not in catalog.checks:
        raise UsageError(f"unknown check {check_id!r}{did_you_mean(check_id, catalog.checks)}")
    check = catalog.checks[check_id]
    spec = probes()[check.probe]
    validated = spec.params.model_validate(check.params)
    # A configuration rule shows as written; other probes with every default filled in.
    params = (
        validated.model_dump(mode="json", exclude_unset=True, by_alias=True)
        if str(spec.kind) == "config"
        else validated.model_dump(mode="json")
    )
    click.echo(
        f"{check.id}: {check.title.get(lang)}\nprobe: {spec.id} ({spec.kind})\nseverity: {check.severity}"
    )
    click.echo(f"params: {json.dumps(params)}\n\n{spec.doc}\n")
    remedy = remediation_for(check.remediation, None)[lang]
    click.echo(("Oplossing: " if lang == "nl" else "Remediation: ") + remedy)


@main.command("profiles")
@click.option("--lang", type=LANG, default="nl")
@pass_ctx
@handle_errors
def profiles_cmd(obj: Ctx, lang: str) -> None:
    """List the profiles."""
    catalog = obj.catalog()
    for p in catalog.profiles.values():
        click.echo(f"{p.id:20} {p.title.get(lang)}")


# --- school folder ---------------------------------------------------------------------------


@main.command()
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
    from cyberstd.validation import suggest

    catalog = obj.catalog()
    if not (school_dir / "school.yaml").is_file():
        raise UsageError(msg("attest.error.not_school", folder=str(school_dir)))
    found = catalog.find_control(control)
    if found is None:
        raise UsageError(
            msg(
                "attest.error.unknown_control",
                control=repr(control),
                hint=suggest(control, catalog.all_control_ids(), close=False),
            )
        )
    fw, c = found
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


# --- plan, scan, report ----------------------------------------------------------------------


@main.command()
@click.argument("school_dir", metavar="SCHOOL", type=click.Path(path_type=Path))
@click.option(
    "--profile", default=None, help="Profile id (default: school.yaml's, else grip-basis-6)."
)
@click.option("--lang", type=LANG, default=None, help="nl or en (default: from LANG, else en).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@as_of_option
@pass_ctx
@handle_errors
def plan(
    obj: Ctx,
    school_dir: Path,
    profile: str | None,
    lang: str | None,
    as_json: bool,
    as_of: dt.date | None,
) -> None:
    """Show what a scan would do: hosts and scope, ranges, ports, exports, and every check that
    would give no verdict, with the reason. Sends nothing."""
    from cyberstd.planview import describe, render
    from cyberstd.report.escape import json_strings, visible
    from cyberstd.runner import context_for, make_plan

    clock = obj.clock(as_of)
    catalog, school = load_school_folder(obj, school_dir)
    the_plan = make_plan(catalog, school, profile)
    view = describe(the_plan, context_for(school, clock=clock, kinds=catalog.kinds))
    if as_json:
        click.echo(json.dumps(json_strings(view.to_json()), indent=2, ensure_ascii=False))
        return
    lang = lang or console_lang()
    for tool in view.missing_tools:
        warn_tool_missing(the_plan, tool, lang)
    for line in render(view, lang):
        click.echo(visible(line))


@main.command()
@click.argument("school_dir", metavar="SCHOOL", type=click.Path(path_type=Path))
@click.option(
    "--profile", default=None, help="Profile id (default: school.yaml's, else grip-basis-6)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(REPORT_FORMATS),
    default=("md",),
    show_default=True,
)
@click.option("--lang", type=LANG, default="nl", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="non_compliant",
    show_default=True,
    help="Lowest control status that makes the exit code 1.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Probes run at once.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 300),
    default=None,
    help="Seconds per network operation.",
)
@click.option(
    "--ca-bundle",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Extra trusted CA certificates (PEM).",
)
@click.option(
    "--max-rate",
    type=click.FloatRange(0.1, 10000),
    default=None,
    help="At most this many new connections per second (default: school.yaml's, else no limit).",
)
@click.option(
    "--resolver",
    default=None,
    metavar="ADDRESS[:PORT]",
    help="DNS server to ask (default: school.yaml's, else the system's).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Only errors and warnings: no progress, no summary, no list of files written.",
)
@as_of_option
@click.option(
    "--redact",
    is_flag=True,
    help="Reports for sharing: internal addresses, host names, accounts and people become "
    "placeholders (results.json stays complete; results.redacted.json is the shared copy).",
)
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write an evidence bundle (zip) here, ready for `cyberstd sign`. Exports enter "
    "it redacted: parsed, every secret replaced, with the original's sha256.",
)
@click.option(
    "--include-raw-exports",
    is_flag=True,
    help="Put the exports into the bundle as they are, secrets included (PSKs, password "
    "hashes, SNMP communities, recovery keys). Only for a recipient who may see those.",
)
@click.option("--pdf", is_flag=True, help=PDF_HELP)
@click.option(
    "--previous",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=PREVIOUS_HELP,
)
@pass_ctx
@handle_errors
def scan(
    obj: Ctx,
    school_dir: Path,
    profile: str | None,
    out: Path,
    formats: tuple[str, ...],
    lang: str,
    fail_on: str,
    workers: int,
    timeout: float | None,
    ca_bundle: Path | None,
    max_rate: float | None,
    resolver: str | None,
    quiet: bool,
    as_of: dt.date | None,
    redact: bool,
    bundle_path: Path | None,
    include_raw_exports: bool,
    pdf: bool,
    previous: Path | None,
) -> None:
    """Scan SCHOOL against its profile and write results.json and the reports into --out."""
    obj.clock(as_of)
    if include_raw_exports and bundle_path is None:
        raise UsageError("--include-raw-exports goes with --bundle")
    if pdf and not set(formats) & set(PRINTABLE):
        raise UsageError("--pdf goes with --format html or --format summary")
    if previous is not None and "summary" not in formats:
        raise UsageError("--previous goes with --format summary")
    old = load_results(previous) if previous is not None else None
    options = ScanOptions(profile, workers, timeout, ca_bundle, max_rate, resolver, quiet, lang)
    results, folder = run_scan(obj, school_dir, options)
    shared = None
    if redact:
        from cyberstd.redact import redact as redact_results

        shared = redact_results(results, domains=folder.school.domains)
    if bundle_path is not None:
        from cyberstd.outputs import refuse_inputs

        refuse_inputs(bundle_path, [Path(p) for p in results.run.inputs], "--bundle")
    same_school(old, results)
    if old is not None and redact:
        from cyberstd.redact import redact as redact_results

        old = redact_results(old, domains=folder.school.domains)
    written = write_reports(results, out, formats, lang, shared, pdf=pdf, previous=old)
    if bundle_path is not None:
        from cyberstd.bundle import ExportPolicy, write_bundle

        reports: dict[str, str | bytes] = {
            p.name: p.read_bytes() for p in written if p.name != "results.json"
        }
        policy = ExportPolicy(obj.catalog().kinds, raw=include_raw_exports)
        if include_raw_exports and folder.school.exports:
            from cyberstd.i18n import t

            click.echo(t("warn.raw_exports", lang, n=len(folder.school.exports)), err=True)
        written.append(write_bundle(results, folder, bundle_path, reports, exports=policy))
    if not quiet:
        from cyberstd.report.terminal import summary

        console().print(summary(results, lang))
        for path in written:
            wrote(path)
    sys.exit(exit_code_of(results, fail_on))


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
)
@click.option("--lang", type=LANG, default="nl", show_default=True)
@click.option(
    "--school",
    "school_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Demo school folder (default: examples/demo-school).",
)
@as_of_option
@pass_ctx
@handle_errors
def demo(obj: Ctx, out: Path, lang: str, school_dir: Path | None, as_of: dt.date | None) -> None:
    """Start the simulated school on loopback, scan it, write the reports, stop the lab.

    The demo school's files were written on one day; the demo copies them to OUT/demo-school
    with every date moved to the run's day (or --as-of), so the demo tells the same story on
    any day."""
    import tempfile

    from cyberstd.catalog import default_root
    from cyberstd.i18n import t
    from cyberstd.lab import lab_school
    from cyberstd.lab.timeshift import DEMO_DAY, MARKER, CopyRefused, shifted_copy

    source = school_dir or (obj.root or default_root()) / "examples" / "demo-school"
    if not (source / "school.yaml").is_file():
        raise UsageError(f"demo school not found at {source}")
    clock = obj.clock(as_of)
    copy = out / "demo-school"
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not (copy / MARKER).is_file():
        raise UsageError(
            f"{out} is not empty and holds no earlier demo; give an empty or new folder with --out"
        )
    try:
        folder = shifted_copy(source, copy, (clock.today - DEMO_DAY).days)
    except (CopyRefused, OSError) as exc:
        raise UsageError(f"cannot write the demo school into {out}: {exc}") from None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="cyberstd-lab-") as tmp,
            lab_school(Path(tmp), clock=clock) as lab,
        ):
            for host in lab.hosts:
                ports = ", ".join(f"{k} {v}" for k, v in host.ports.items())
                said = t("cli.lab.host", said_lang(), host=host.name, address=host.address)
                click.echo(f"{said} ({ports})", err=True)
            results, _ = run_scan(obj, folder, ScanOptions(ca_bundle=lab.ca_bundle, lang=lang))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"the demo's ports are in use (is another demo running?): {exc}"
            ) from None
        raise
    click.echo(t("cli.lab.stopped", said_lang()), err=True)
    written = write_reports(results, out, ("md", "html"), lang)
    from cyberstd.report.terminal import summary

    console().print(summary(results, lang))
    for path in written:
        wrote(path)


def _register() -> None:
    from cyberstd.cli.baseline import baseline
    from cyberstd.cli.bundle import COMMANDS as BUNDLE_COMMANDS
    from cyberstd.cli.catalog import standards_mapping
    from cyberstd.cli.collect import collect
    from cyberstd.cli.diff import diff
    from cyberstd.cli.report import report
    from cyberstd.cli.school import init, schema

    standards.add_command(standards_mapping)
    main.add_command(init)
    main.add_command(schema)
    main.add_command(baseline)
    main.add_command(collect)
    main.add_command(report)
    main.add_command(diff)
    for command in BUNDLE_COMMANDS:
        main.add_command(command)


_register()

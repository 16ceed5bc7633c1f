"""Running a scan: `cyberstd plan` (what a scan would do, sending nothing), `cyberstd scan` and
`cyberstd demo` (the simulated school on loopback), and what they share: loading a school,
running the scan with its progress, writing the reports, the exit code."""

from __future__ import annotations

import datetime as dt
import errno
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

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
from cyberstd.cli.report import (
    PDF_HELP,
    PREVIOUS_HELP,
    PRINTABLE,
    REPORT_FORMATS,
    load_results,
    same_school,
)
from cyberstd.errors import ExitCode, InputError, Problem, UsageError
from cyberstd.messages import msg
from cyberstd.paths import input_paths

if TYPE_CHECKING:
    from cyberstd.progress import ScanProgress


@click.command()
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


@click.command()
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

        refuse_inputs(bundle_path, input_paths(results.run.inputs, folder.dir), "--bundle")
    same_school(old, results)
    if old is not None and redact:
        from cyberstd.redact import redact as redact_results

        old = redact_results(old, domains=folder.school.domains)
    inputs = input_paths(results.run.inputs, folder.dir)
    written = write_reports(results, out, formats, lang, inputs, shared, pdf=pdf, previous=old)
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


@click.command()
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

    from cyberstd.i18n import t
    from cyberstd.lab import lab_school
    from cyberstd.lab.timeshift import DEMO_DAY, MARKER, CopyRefused, shifted_copy
    from cyberstd.paths import default_root

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
    written = write_reports(
        results, out, ("md", "html"), lang, input_paths(results.run.inputs, folder)
    )
    from cyberstd.report.terminal import summary

    console().print(summary(results, lang))
    for path in written:
        wrote(path)


def load_school_folder(obj: Ctx, folder: Path) -> tuple[Any, Any]:
    from cyberstd.school import load_school

    catalog = obj.catalog()
    school, problems = load_school(folder, catalog, obj.clock().today)
    if problems or school is None:
        raise InputError(problems)
    return catalog, school


def exit_code_of(results: Any, fail_on: str) -> ExitCode:
    from cyberstd.results import GAP_ORDER, ControlStatus, FindingStatus

    if fail_on != "none":
        failing = GAP_ORDER[: GAP_ORDER.index(ControlStatus(fail_on)) + 1]
        if any(c.status in failing for c in results.controls):
            return ExitCode.GAPS
    incomplete = any(c.status is ControlStatus.ERROR for c in results.controls) or any(
        f.status is FindingStatus.ERROR for f in results.findings
    )
    return ExitCode.INCOMPLETE if incomplete else ExitCode.OK


def write_reports(
    results: Any,
    out: Path,
    formats: tuple[str, ...],
    lang: str,
    inputs: list[Path],
    shared: Any | None = None,
    *,
    pdf: bool = False,
    previous: Any | None = None,
) -> list[Path]:
    """results.json (always, complete) and the reports; with `shared` (a redacted copy), the
    reports render from it and a redacted JSON goes to results.redacted.json. With `pdf`,
    each page (html, summary) is printed to a PDF beside it; `previous`, an earlier run, gives
    the summary its trend. None of them may land on a file the scan read (`inputs`)."""
    from cyberstd.outputs import write_atomic
    from cyberstd.report import PRINTABLE, SUFFIX, renderer

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in dict.fromkeys(("json", *formats)):
        name = "results.json" if fmt == "json" else f"report.{lang}.{SUFFIX[fmt]}"
        jobs = [(name, results)]
        if shared is not None:
            jobs = (
                [("results.json", results), ("results.redacted.json", shared)]
                if fmt == "json"
                else [(name, shared)]
            )
        for file_name, source in jobs:
            path = out / file_name
            if fmt == "summary":
                from cyberstd.report.summary import render as render_summary

                text = render_summary(source, lang, previous)
            else:
                text = renderer(fmt)(source, lang)
            # bytes, so that CSV keeps its \r\n line ends on every platform
            written.append(write_atomic(path, text.encode("utf-8"), inputs=inputs, option="--out"))
            if pdf and fmt in PRINTABLE:
                from cyberstd.report.pdf import print_pdf

                printed = path.with_name(path.name.removesuffix(".html") + ".pdf")
                written.append(
                    write_atomic(printed, print_pdf(text, lang), inputs=inputs, option="--out")
                )
    return written


@dataclass(frozen=True)
class ScanOptions:
    """What the command line may change about one scan."""

    profile: str | None = None
    workers: int = 8
    timeout: float | None = None
    ca_bundle: Path | None = None
    max_rate: float | None = None
    resolver: str | None = None
    quiet: bool = False
    lang: str = "nl"


def _resolver(text: str | None) -> Any:
    """ADDRESS or ADDRESS:PORT (IPv6 as [ADDRESS]:PORT) -> Resolver."""
    import ipaddress

    from cyberstd.net.resolver import Resolver

    if text is None:
        return None
    host, port = text, "53"
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed:
            raise UsageError(f"--resolver {text!r}: missing ']' after the IPv6 address")
        port = rest.removeprefix(":") or "53"
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        address = ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise UsageError(
            f"--resolver {text!r}: give an IP address, optionally with :PORT"
        ) from None
    if not 1 <= number <= 65535:
        raise UsageError(f"--resolver {text!r}: port must be between 1 and 65535")
    return Resolver(str(address), number)


def run_scan(obj: Ctx, school_dir: Path, options: ScanOptions) -> tuple[Any, Any]:
    """Load the school once, scan it; the results and the loaded school folder."""
    from cyberstd.runner import context_for, evaluate, execute, make_plan, missing_tools

    clock = obj.clock()
    catalog, school = load_school_folder(obj, school_dir)
    if options.ca_bundle is not None:
        from cyberstd.school import ca_bundle_problem

        wrong = ca_bundle_problem(options.ca_bundle)
        if wrong is not None:
            shown = str(options.ca_bundle)
            said = msg("input.ca.option", why=wrong[1])
            raise InputError([Problem.of(shown, 1, 1, wrong[0], said)])
    the_plan = make_plan(catalog, school, options.profile)
    for tool in sorted(missing_tools(the_plan)):
        warn_tool_missing(the_plan, tool, options.lang)
    resolver = _resolver(options.resolver)
    ctx = context_for(
        school,
        ca_bundle=options.ca_bundle,
        timeout=options.timeout,
        max_rate=options.max_rate,
        resolver=resolver,
        clock=clock,
        kinds=catalog.kinds,
    )
    with scan_progress(len(the_plan.items), options, clock) as progress:
        findings = execute(
            the_plan,
            ctx,
            workers=options.workers,
            on_start=None if progress is None else progress.start_item,
            on_finding=None if progress is None else progress.finish,
        )
    return evaluate(the_plan, findings, clock=clock, catalog_inputs=catalog.inputs), school


@contextmanager
def scan_progress(total: int, options: ScanOptions, clock: Any) -> Iterator[ScanProgress | None]:
    """The progress of a scan on stderr (None with -q): a live line in a terminal, else a
    timestamped line every few seconds; a closing line when the scan ends."""
    if options.quiet:
        yield None
        return
    from cyberstd.progress import ScanProgress, heartbeat

    err = console(err=True)

    def write(line: str) -> None:
        click.echo(line, err=True)

    if not err.is_interactive:
        plain = ScanProgress(total, options.lang, write, started=clock.finished())
        with heartbeat(plain):
            yield plain
        plain.end()
        return
    from rich.live import Live
    from rich.text import Text

    live = Live(Text(""), console=err, transient=True, refresh_per_second=8, redirect_stdout=False)
    with live:

        def show(line: str) -> None:
            live.update(Text(line, no_wrap=True, overflow="ellipsis"))

        progress = ScanProgress(total, options.lang, write, started=clock.finished(), show=show)
        yield progress
    progress.end()


def warn_tool_missing(the_plan: Any, tool: str, lang: str) -> None:
    """Say once, before the scan, which checks a missing program stops."""
    from cyberstd.probes import probes
    from cyberstd.runner import TOOL_INSTALL

    stopped = [
        i for i in the_plan.items if i.target and probes()[i.planned.check.probe].tool == tool
    ]
    from cyberstd.i18n import t

    install = TOOL_INSTALL.get(tool, tool)
    text = t("warn.tool_missing", lang, tool=tool, n=len(stopped), install=install)
    click.echo(text, err=True)


def console(err: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=err, highlight=False)

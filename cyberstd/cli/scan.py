"""What the scan and demo commands share: loading a school, running a scan, writing reports.

Kept apart from cli.py (which registers the commands) so that it stays one module per role.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cyberstd.cli.common import Ctx, console_lang
from cyberstd.errors import ExitCode, InputError, Problem, UsageError
from cyberstd.messages import msg

if TYPE_CHECKING:
    from cyberstd.progress import ScanProgress


def load_school_folder(obj: Ctx, folder: Path) -> tuple[Any, Any]:
    from cyberstd.school import load_school

    catalog = obj.catalog()
    school, problems = load_school(folder, catalog, obj.clock().today)
    if problems or school is None:
        raise InputError(problems)
    return catalog, school


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
    shared: Any | None = None,
    *,
    pdf: bool = False,
    previous: Any | None = None,
) -> list[Path]:
    """results.json (always, complete) and the reports; with `shared` (a redacted copy), the
    reports render from it and a redacted JSON goes to results.redacted.json. With `pdf`,
    each page (html, summary) is printed to a PDF beside it; `previous`, an earlier run, gives
    the summary its trend. None of them may land on a file the scan read."""
    from cyberstd.outputs import write_atomic
    from cyberstd.report import PRINTABLE, SUFFIX, renderer

    inputs = [Path(p) for p in results.run.inputs]

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

    from cyberstd.resolve import Resolver

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
    from cyberstd.registry import probes
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

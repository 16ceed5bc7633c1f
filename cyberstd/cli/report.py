"""`cyberstd report`: render a results.json in another format or language, or print it to PDF;
the report formats and options that `cyberstd scan` shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cyberstd.cli.common import LANG, handle_errors, wrote
from cyberstd.errors import UsageError

# The report formats (cyberstd.report.FORMATS), listed here to keep `--help` import-free.
REPORT_FORMATS = [
    "md",
    "json",
    "html",
    "summary",
    "csv",
    "csv-semicolon",
    "oscal",
    "sarif",
    "junit",
    "actionplan",
]
# The formats that print to PDF (cyberstd.report.PRINTABLE).
PRINTABLE = ("html", "summary")
PDF_HELP = (
    "Also print --format html and summary to PDF (A4) through headless Chromium "
    "(sudo apt-get install chromium)."
)
PREVIOUS_HELP = (
    "An earlier results.json of the same school: the summary shows level, score and gaps "
    "then and now."
)


@click.command("report")
@click.argument("results_file", metavar="RESULTS.json", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="md",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@click.option("--lang", type=LANG, default="nl", show_default=True)
@click.option(
    "--redact",
    is_flag=True,
    help="For sharing: internal addresses, host names, accounts and people become placeholders.",
)
@click.option(
    "--pdf",
    is_flag=True,
    help="Print --format html or summary to a PDF (A4) through headless Chromium "
    "(sudo apt-get install chromium); needs -o.",
)
@click.option(
    "--previous",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=PREVIOUS_HELP,
)
@handle_errors
def report(
    results_file: Path,
    fmt: str,
    output: Path | None,
    lang: str,
    redact: bool,
    pdf: bool,
    previous: Path | None,
) -> None:
    """Render a results.json in another format or language."""
    from cyberstd.report import renderer

    if pdf and fmt not in PRINTABLE:
        raise UsageError("--pdf goes with --format html or --format summary")
    if pdf and output is None:
        raise UsageError("--pdf writes a file: give it with -o FILE")
    if previous is not None and fmt != "summary":
        raise UsageError("--previous goes with --format summary")
    results = load_results(results_file)
    old = load_results(previous) if previous is not None else None
    same_school(old, results)
    if redact:
        from cyberstd.redact import redact as redact_results

        results = redact_results(results)
        old = redact_results(old) if old is not None else None
    if fmt == "summary":
        from cyberstd.report.summary import render as render_summary

        text = render_summary(results, lang, old)
    else:
        text = renderer(fmt)(results, lang)
    if output is None:
        click.echo(text, nl=False)
        return
    from cyberstd.outputs import write_atomic

    if pdf:
        from cyberstd.report.pdf import print_pdf

        data = print_pdf(text, lang)
    else:
        data = text.encode("utf-8")
    inputs = [results_file, *([previous] if previous is not None else [])]
    write_atomic(output, data, inputs=inputs, option="--output")
    wrote(output)


def same_school(previous: Any, results: Any) -> None:
    """UsageError unless `previous` is a run of the same school as `results`."""
    if previous is not None and previous.school.id != results.school.id:
        raise UsageError(
            f"--previous is a run of school {previous.school.id!r}, not of "
            f"{results.school.id!r}: give an earlier results.json of the same school"
        )


def load_results(path: Path) -> Any:
    """A results.json, or the InputError that says why it is not one."""
    from cyberstd.report.json import load

    return load(path, str(path))

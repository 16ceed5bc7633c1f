"""`cyberstd diff`: what changed between two results.json of one school."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cyberstd.cli.common import LANG, handle_errors, wrote
from cyberstd.errors import ExitCode

DIFF_FORMATS = ["text", "md", "json"]


@click.command("diff")
@click.argument("old_file", metavar="OLD.json", type=click.Path(path_type=Path))
@click.argument("new_file", metavar="NEW.json", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(DIFF_FORMATS), default="text", show_default=True)
@click.option("--lang", type=LANG, default="nl", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@click.option("--force", is_flag=True, help="Compare runs of different schools.")
@click.option(
    "--redact",
    is_flag=True,
    help="Replace internal addresses, host names, accounts and people by placeholders.",
)
@handle_errors
def diff(
    old_file: Path,
    new_file: Path,
    fmt: str,
    lang: str,
    output: Path | None,
    force: bool,
    redact: bool,
) -> None:
    """Compare two results.json of one school: new gaps, resolved, still failing, and more.

    Exit 0 when nothing got worse, 1 when a control regressed (a new gap, an expired waiver or
    attestation, or a worse status), 2 when a file is not a results.json of this version or the
    runs are of different schools (give --force).
    """
    from cyberstd.diff import compare, load_results, render

    old = load_results(old_file, str(old_file))
    new = load_results(new_file, str(new_file))
    if redact:
        from cyberstd.redact import mapping_for
        from cyberstd.redact import redact as redact_results

        mapping = mapping_for(old, new)
        old = redact_results(old, mapping=mapping)
        new = redact_results(new, mapping=mapping)
    result = compare(old, new, force=force)
    text = render(result, fmt, lang)
    if output is None:
        click.echo(text, nl=False)
    else:
        from cyberstd.outputs import write_atomic

        write_atomic(output, text.encode("utf-8"), inputs=[old_file, new_file], option="--output")
        wrote(output, err=True)
    sys.exit(ExitCode.GAPS if result.regression else ExitCode.OK)

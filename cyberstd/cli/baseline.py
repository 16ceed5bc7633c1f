"""`cyberstd baseline`: configuration files against a profile's rules, for CI and pre-commit."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from cyberstd.cli.common import LANG, Ctx, as_of_option, console_lang, handle_errors, pass_ctx
from cyberstd.errors import ExitCode

BASELINE_FORMATS = ["text", "json", "junit", "sarif"]


def _text(result: Any, lang: str) -> str:
    from cyberstd.i18n import t
    from cyberstd.report.escape import inert
    from cyberstd.report.locations import locations
    from cyberstd.results import FindingStatus

    lines = []
    for f in result.findings:
        if f.status is FindingStatus.PASS:
            continue
        locs = locations(f)
        where = (
            (f"{locs[0].file}:{locs[0].line}" if locs and locs[0].line else locs[0].file)
            if locs
            else f.target
        )
        # one line per finding: a newline in a value from the export cannot forge another
        lines.append(inert(f"{where}: {f.status.value.upper()} [{f.check}] {f.text(lang)}", 2000))
    c = result.counts()
    judged = [f for f in result.files if f.skipped is None]
    counts = [
        t("baseline.pass", lang, n=c["pass"]),
        t("baseline.fail", lang, n=c["fail"]),
        t("baseline.error", lang, n=c["error"]),
    ]
    if c["not_applicable"]:
        counts.append(t("baseline.not_applicable", lang, n=c["not_applicable"]))
    if c["skipped"]:
        counts.append(t("baseline.skipped", lang, n=c["skipped"]))
    lines.append(
        t(
            "baseline.summary",
            lang,
            files=t("baseline.files", lang, n=len(judged)),
            checks=t("baseline.checks", lang, n=len(result.findings) - c["skipped"]),
            counts=", ".join(counts),
        )
    )
    return "\n".join(lines) + "\n"


def _render(result: Any, fmt: str, lang: str) -> str:
    if fmt == "json":
        import json

        return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "sarif":
        from cyberstd.report.sarif import render_findings

        return render_findings(result.findings, lang, complete=not result.invalid)
    if fmt == "junit":
        from cyberstd.report.junit import render_findings as junit

        return junit(result.findings, lang, name=f"cyberstd baseline {result.profile}")
    return _text(result, lang)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--profile", "profile_id", default="ci-baseline", show_default=True)
@click.option(
    "--kind",
    default=None,
    help="The export kind of every file given (default: recognised by name and content).",
)
@click.option(
    "--format", "fmt", type=click.Choice(BASELINE_FORMATS), default="text", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here, not stdout.",
)
@click.option(
    "--lang",
    type=LANG,
    default=None,
    help="nl or en (default: nl when the locale (LC_ALL, LC_MESSAGES, LANG) is Dutch, else en).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes for large runs (default: one per core).",
)
@click.option(
    "--skip-unknown",
    is_flag=True,
    help="Skip files of no recognisable kind instead of failing (for pre-commit); every "
    "output still names each skipped file.",
)
@as_of_option
@pass_ctx
@handle_errors
def baseline(
    obj: Ctx,
    files: tuple[Path, ...],
    profile_id: str,
    kind: str | None,
    fmt: str,
    output: Path | None,
    lang: str | None,
    jobs: int | None,
    skip_unknown: bool,
    as_of: dt.date | None,
) -> None:
    """Check configuration FILES (or folders) against a profile's configuration rules.

    Exit 0 when every rule holds, 1 when one fails, 2 when a file cannot be read or parsed
    (or its kind cannot be told: give --kind). Folders are searched for files of a known kind.
    """
    from cyberstd.baseline import run_baseline

    lang = lang or console_lang()
    catalog = obj.catalog()
    result = run_baseline(
        catalog,
        profile_id,
        list(files),
        kind=kind,
        clock=obj.clock(as_of),
        skip_unknown=skip_unknown,
        workers=jobs,
    )
    if not any(f.skipped is None for f in result.files):
        from cyberstd.errors import UsageError

        named = ", ".join(str(f) for f in files)
        left = [f.path for f in result.files]
        raise UsageError(
            f"no configuration export of a known kind found in {named}"
            + (f" (skipped: {', '.join(left)})" if left else "")
        )
    text = _render(result, fmt, lang)
    if output is not None:
        from cyberstd.outputs import write_atomic

        exports = [Path(f.path) for f in result.files] + [f for f in files if f.is_file()]
        write_atomic(output, text.encode("utf-8"), inputs=exports, option="--output")
        if fmt != "text":
            click.echo(_text(result, lang), nl=False, err=True)
    else:
        click.echo(text, nl=False)
    if result.invalid:
        sys.exit(ExitCode.INVALID)
    sys.exit(ExitCode.GAPS if result.failed else ExitCode.OK)

"""Command line: parse, call the core, pick a renderer, map the outcome to an exit code.

`main` is the `cyberstd` command; each command group lives in its own module and is added here:

- school: init, validate, attest, schema (a school folder and the person who writes it)
- catalog: standards (list, show, mapping), checks (list, kinds, show), profiles
- scan: plan, scan, demo, and what they share (loading a school, running a scan, the reports)
- lab: the loopback lab on its own (`lab fleet`: many simulated schools until Ctrl-C)
- report, diff, baseline, collect, bundle (keygen, sign, verify)
- group: many schools in one run
- common: error handling, the per-command context, shared options; help: `--help` in Dutch;
  clicktext: click's own words about a command typed wrongly, in Dutch

The command modules import common (and help) only, never this package's `main`.
"""

from __future__ import annotations

from pathlib import Path

import click

from cyberstd import __version__
from cyberstd.cli import baseline, bundle, catalog, collect, diff, group, lab, report, scan, school
from cyberstd.cli.clicktext import install as speak_the_console_language
from cyberstd.cli.common import Ctx
from cyberstd.cli.help import LocalGroup

__all__ = ["main"]


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


def _register() -> None:
    for command in (
        school.validate,
        catalog.standards,
        catalog.checks,
        catalog.profiles_cmd,
        school.attest,
        scan.plan,
        scan.scan,
        scan.demo,
        lab.lab,
        school.init,
        school.schema,
        baseline.baseline,
        collect.collect,
        report.report,
        diff.diff,
        group.group,
        *bundle.COMMANDS,
    ):
        main.add_command(command)


_register()
speak_the_console_language()

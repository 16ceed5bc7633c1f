"""`cyberstd standards mapping`: which check evidences which control, and why."""

from __future__ import annotations

import click

from cyberstd.cli.common import LANG, Ctx, handle_errors, pass_ctx
from cyberstd.errors import UsageError


@click.command("mapping")
@click.argument("framework", default="grip")
@click.option("--lang", type=LANG, default="nl")
@pass_ctx
@handle_errors
def standards_mapping(obj: Ctx, framework: str, lang: str) -> None:
    """Print, as Markdown, which check evidences which control, required or advice, and why."""
    from cyberstd.mapping_table import mapping_table
    from cyberstd.validation import did_you_mean

    catalog = obj.catalog()
    if framework not in catalog.frameworks:
        raise UsageError(
            f"unknown framework {framework!r}{did_you_mean(framework, catalog.frameworks)}"
        )
    click.echo(mapping_table(catalog, catalog.framework(framework), lang), nl=False)

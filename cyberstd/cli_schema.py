"""A school folder's files for the person who writes them: `cyberstd schema` (the files' JSON
Schemas, for editors)."""

from __future__ import annotations

from pathlib import Path

import click

from cyberstd.cli_common import handle_errors
from cyberstd.errors import UsageError


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
        click.echo(f"wrote {path}")

"""Browsing the catalog: `cyberstd standards` (list, show, mapping), `cyberstd checks` (list,
kinds, show) and `cyberstd profiles`."""

from __future__ import annotations

import json

import click

from cyberstd.cli.common import LANG, Ctx, control_of, handle_errors, pass_ctx
from cyberstd.cli.help import LocalGroup
from cyberstd.errors import UsageError


@click.group(cls=LocalGroup)
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

    catalog = obj.catalog()
    fw, c = control_of(catalog, control)
    from cyberstd.mapping_table import control_sheet

    click.echo("\n".join(control_sheet(fw, c.id, lang)))


@standards.command("mapping")
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


@click.group(cls=LocalGroup)
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
    from cyberstd.probes import probes
    from cyberstd.profiles import remediation_for
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


@click.command("profiles")
@click.option("--lang", type=LANG, default="nl")
@pass_ctx
@handle_errors
def profiles_cmd(obj: Ctx, lang: str) -> None:
    """List the profiles."""
    catalog = obj.catalog()
    for p in catalog.profiles.values():
        click.echo(f"{p.id:20} {p.title.get(lang)}")

"""`cyberstd collect`: read a school's online services into its folder as exports."""

from __future__ import annotations

import os
from pathlib import Path

import click

from cyberstd.cli.common import handle_errors, wrote
from cyberstd.cli.help import LocalGroup


def _progress(message: str) -> None:
    click.echo(message, err=True)


@click.group(cls=LocalGroup, context_settings={"help_option_names": ["-h", "--help"]})
def collect() -> None:
    """Read a school's online services (read-only) into its folder as configuration exports."""


@collect.command("m365")
@click.argument("school_dir", metavar="SCHOOL", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--timeout",
    type=click.FloatRange(1, 300),
    default=60.0,
    show_default=True,
    help="Seconds to wait for each answer from Microsoft.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(0, 3600),
    default=300.0,
    show_default=True,
    help="Seconds this run may wait in all when Microsoft Graph throttles or is unavailable.",
)
@handle_errors
def m365(school_dir: Path, timeout: float, max_wait: float) -> None:
    """Read SCHOOL's Microsoft 365 tenant (Entra ID and Intune) through Microsoft Graph.

    Writes security defaults, conditional access policies, directory roles with their members,
    users with their sign-in activity, domains, registered authentication methods, Intune
    managed devices with their Defender status and Intune compliance policies to
    SCHOOL/exports/m365/ and lists them in school.yaml. Signs in as an app registration with a
    certificate (recommended: CYBERSTD_M365_CERTIFICATE, a PEM file with the private key and the
    certificate; CYBERSTD_M365_CERTIFICATE_PASSPHRASE if the key is encrypted) or a client
    secret (CYBERSTD_M365_CLIENT_SECRET), with CYBERSTD_M365_TENANT_ID and
    CYBERSTD_M365_CLIENT_ID. It needs the application permissions Policy.Read.All,
    Directory.Read.All, AuditLog.Read.All, RoleManagement.Read.Directory,
    DeviceManagementManagedDevices.Read.All and DeviceManagementConfiguration.Read.All
    (docs/collect-m365.md). Exit code 2: a usage or configuration problem or a refused
    sign-in; 3: the tenant could not be read.
    """
    from cyberstd.cli.common import console_lang
    from cyberstd.collect.graph import GraphClient, Limits, settings_from_env
    from cyberstd.collect.m365 import collect as collect_m365
    from cyberstd.messages import Msg

    lang = console_lang()

    def progress(message: Msg) -> None:
        click.echo(message.render(lang), err=True)

    settings = settings_from_env(os.environ)
    limits = Limits(read_timeout=timeout, max_total_wait=max_wait)
    with GraphClient(settings, progress=progress, limits=limits) as client:
        outcome = collect_m365(school_dir, client, progress=progress)
    for path in outcome.written:
        wrote(path)
    if outcome.added:
        click.echo(f"listed in {school_dir / 'school.yaml'}: {', '.join(outcome.added)}")
    else:
        click.echo(f"{school_dir / 'school.yaml'} already lists every file")

"""`cyberstd collect`: read a school's online services into its folder as exports."""

from __future__ import annotations

import os
from pathlib import Path

import click

from cyberstd.cli.common import handle_errors, said_lang, wrote
from cyberstd.cli.help import LocalGroup
from cyberstd.collect.files import Outcome, prepare
from cyberstd.i18n import t
from cyberstd.messages import Msg


def _said(message: Msg) -> None:
    """A progress line; what it quotes from a server (a role's name) cannot steer the terminal."""
    from cyberstd.report.escape import visible

    click.echo(visible(message.render(said_lang())), err=True)


def _report(school_dir: Path, outcome: Outcome) -> None:
    """What was written, and what school.yaml lists now."""
    for path in outcome.written:
        wrote(path)
    listing = school_dir / "school.yaml"
    if outcome.added:
        click.echo(t("collect.listed", said_lang(), file=listing, paths=", ".join(outcome.added)))
    else:
        click.echo(t("collect.all_listed", said_lang(), file=listing))


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
    from cyberstd.collect.graph import GraphClient, Limits, settings_from_env
    from cyberstd.collect.m365 import EXPORT_DIR
    from cyberstd.collect.m365 import collect as collect_m365

    prepare(school_dir, EXPORT_DIR)
    settings = settings_from_env(os.environ)
    limits = Limits(read_timeout=timeout, max_total_wait=max_wait)
    with GraphClient(settings, progress=_said, limits=limits) as client:
        outcome = collect_m365(school_dir, client, progress=_said)
    _report(school_dir, outcome)


@collect.command("google")
@click.argument("school_dir", metavar="SCHOOL", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--timeout",
    type=click.FloatRange(1, 300),
    default=60.0,
    show_default=True,
    help="Seconds to wait for each answer from Google.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(0, 3600),
    default=300.0,
    show_default=True,
    help="Seconds this run may wait in all when Google throttles or is unavailable.",
)
@handle_errors
def google(school_dir: Path, timeout: float, max_wait: float) -> None:
    """Read SCHOOL's Google Workspace users through the Admin SDK Directory API.

    Writes every user with their 2-Step Verification state, admin flags and last login to
    SCHOOL/exports/google/google-users.json and lists it in school.yaml. Signs in as a
    service account with domain-wide delegation for the read-only scope
    admin.directory.user.readonly, on behalf of an administrator: the key file's path in
    CYBERSTD_GOOGLE_KEY_FILE, the administrator in CYBERSTD_GOOGLE_ADMIN
    (docs/collect-google.md). Exit code 2: a usage or configuration problem or a refusal; 3:
    the domain could not be read.
    """
    from cyberstd.collect.google import EXPORT_DIR
    from cyberstd.collect.google import collect as collect_google
    from cyberstd.collect.google_api import DirectoryClient, Limits, settings_from_env

    prepare(school_dir, EXPORT_DIR)
    settings = settings_from_env(os.environ)
    limits = Limits(timeout=timeout, max_total_wait=max_wait)
    with DirectoryClient(settings, progress=_said, limits=limits) as client:
        outcome = collect_google(school_dir, client, progress=_said)
    _report(school_dir, outcome)

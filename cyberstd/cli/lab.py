"""`cyberstd lab`: the loopback lab on its own. `lab fleet` runs many simulated schools until
Ctrl-C, for group scans to be tested and benchmarked against."""

from __future__ import annotations

import datetime as dt
import errno
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from cyberstd.cli.common import Ctx, DayType, handle_errors, pass_ctx, said_lang
from cyberstd.cli.help import LocalGroup
from cyberstd.errors import UsageError
from cyberstd.messages import msg

# The most schools a fleet has (the largest list a group scan reads).
MAX_FLEET = 20_000


@click.group(cls=LocalGroup)
def lab() -> None:
    """The loopback lab: simulated schools to try cyberstd on, on this machine only."""


@lab.command()
@click.option(
    "--schools",
    type=click.IntRange(1, MAX_FLEET),
    required=True,
    help="How many schools the fleet has.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for group.yaml, the list of schools (or their folders), expected.json and "
    "the lab CA; empty, new, or an earlier fleet's.",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="The same seed gives the same fleet."
)
@click.option(
    "--flawed",
    type=click.FloatRange(0, 1),
    default=0.4,
    show_default=True,
    help="Share of the schools with at least one flaw.",
)
@click.option(
    "--folders",
    is_flag=True,
    help="Write a school folder per school (for `cyberstd scan FOLDER --profile perimeter`) "
    "instead of scholen.csv.",
)
@click.option(
    "--warm",
    is_flag=True,
    help="Build every zone, certificate and website before the fleet says it runs (some "
    "seconds per thousand schools), so that a benchmark does not time the lab's first answers.",
)
@click.option(
    "--as-of",
    "as_of",
    type=DayType(),
    default=None,
    help="Date the fleet's certificates, signatures and authorisations as of this day instead "
    "of today, to match scans run with the same --as-of.",
)
@pass_ctx
@handle_errors
def fleet(
    obj: Ctx,
    schools: int,
    out: Path,
    seed: int,
    flawed: float,
    folders: bool,
    warm: bool,
    as_of: dt.date | None,
) -> None:
    """Start a fleet of simulated schools on loopback (127.16.0.0/16) and keep it running
    until Ctrl-C: one DNS server for every school's zone, shared websites and mail servers,
    a seeded mix of flaws. Writes what a group scan needs into --out, and expected.json with
    the verdict every check must give each school. Needs root for ports 25, 53, 80 and 443."""
    from cyberstd.i18n import t
    from cyberstd.lab.fleet import fleet_lab
    from cyberstd.lab.fleetfiles import FleetRefused
    from cyberstd.lab.fleetplan import DNS_ADDRESS, HOSTING_ADDRESSES

    lang = said_lang()
    clock = obj.clock(as_of)
    try:
        with fleet_lab(out, schools, seed, clock, flawed=flawed, folders=folders) as running:
            if warm:
                running.warm()
            with_flaws = sum(1 for s in running.schools if s.flaws)
            said = t(
                "cli.lab.fleet.running",
                lang,
                n=schools,
                flawed=with_flaws,
                dns=DNS_ADDRESS,
                first=HOSTING_ADDRESSES[0],
                last=HOSTING_ADDRESSES[-1],
            )
            click.echo(said, err=True)
            files = t(
                "cli.lab.fleet.files",
                lang,
                group=running.group_file,
                expected=running.expected_file,
                ca=running.ca_bundle,
            )
            click.echo(files, err=True)
            click.echo(t("cli.lab.fleet.stop", lang), err=True)
            _wait_for_stop()
    except FleetRefused as exc:
        raise UsageError(exc.said or str(exc)) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(msg("cli.lab.fleet.in-use", error=str(exc))) from None
        if exc.errno == errno.EACCES:
            raise UsageError(msg("cli.lab.fleet.needs-root", error=str(exc))) from None
        raise
    click.echo(t("cli.lab.stopped", lang), err=True)


def _wait_for_stop() -> None:
    """Until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)

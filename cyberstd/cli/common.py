"""What every command module shares: error handling, the catalog context, common options."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cyberstd.errors import CyberstdError, ExitCode, InputError, UsageError
from cyberstd.messages import render

if TYPE_CHECKING:
    from cyberstd.clock import Clock

F = TypeVar("F", bound=Callable[..., Any])
LANG = click.Choice(["nl", "en"])
FAIL_ON = ["non_compliant", "error", "partial", "not_assessed", "none"]


def console_lang() -> str:
    """The language of console output when --lang is not given: nl when the environment's
    locale (LC_ALL, LC_MESSAGES, LANG, in that order) is Dutch, else en."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "nl" if value.lower().startswith("nl") else "en"
    return "en"


def said_lang(option: str = "lang") -> str:
    """The language of what a command says on the console about what it did: its `--lang` when
    the user gave it, else console_lang(). A `--lang` left at its default (scan's and report's
    report language, nl) does not make the console Dutch."""
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.get_parameter_source(option) in (
        ParameterSource.COMMANDLINE,
        ParameterSource.ENVIRONMENT,
    ):
        value = ctx.params.get(option)
        if value in ("nl", "en"):
            return str(value)
    return console_lang()


# Problems and errors follow the same rule as what a command says it did.
error_lang = said_lang


def wrote(path: object, *, err: bool = False) -> None:
    """Say that the command wrote `path` ("wrote PATH", "geschreven: PATH")."""
    from cyberstd.i18n import t

    click.echo(t("cli.wrote", said_lang(), path=path), err=err)


def _err(message: str) -> None:
    """An error on stderr; what it quotes from a file cannot steer the terminal."""
    from cyberstd.report.escape import visible

    click.echo(visible(message, keep="\n"), err=True)


def handle_errors(func: F) -> F:
    """Turn library errors into a clear message and an exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            lang = error_lang()
            for problem in exc.problems:
                _err(problem.render(lang))
            _err(render("input.problems_found", lang, {"n": len(exc.problems)}))
            sys.exit(ExitCode.INVALID)
        except CyberstdError as exc:
            lang = error_lang()
            _err(render("input.error", lang, {"text": exc.text(lang)}))
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            from cyberstd.i18n import t

            _err(t("cli.interrupted", error_lang()))
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, without a second error on exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(ExitCode.OK)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("CYBERSTD_DEBUG"):
                raise
            _err(f"internal error: {type(exc).__name__}: {exc} (set CYBERSTD_DEBUG=1 for details)")
            sys.exit(ExitCode.INCOMPLETE)

    return wrapper  # type: ignore[return-value]


class DayType(click.ParamType[dt.date]):
    """A day written YYYY-MM-DD, that exists, within the days a run may be judged as of."""

    name = "YYYY-MM-DD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        from cyberstd.clock import EARLIEST, LATEST

        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            self.fail(f"{text!r} is not a day written YYYY-MM-DD", param, ctx)
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text} is not a day of the calendar", param, ctx)
        if not EARLIEST <= day <= LATEST:
            self.fail(f"{text} lies outside {EARLIEST} to {LATEST}", param, ctx)
        return day


def as_of_option(func: F) -> F:
    """`--as-of DAY`: judge as of that day instead of today (the run's one clock)."""
    return click.option(
        "--as-of",
        "as_of",
        type=DayType(),
        default=None,
        help="Judge as of this day (ages of sign-ins and backups, expiry of attestations, "
        "waivers, scope and certificates) instead of today: to re-check old evidence.",
    )(func)


class Ctx:
    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._clock: Clock | None = None
        self._catalog: Any = None

    def clock(self, as_of: dt.date | None = None) -> Clock:
        """The run's one clock: the system's time, read once per command, and the day it
        judges as of (`--as-of`, else that same moment)."""
        from cyberstd.clock import Clock

        if self._clock is None:
            self._clock = Clock.system()
        if as_of is not None:
            self._clock = Clock.at(as_of, started=self._clock.started)
        return self._clock

    def catalog(self, *, strict: bool = True) -> Any:
        """The catalog, loaded once per command (a valid one is kept for later calls)."""
        from cyberstd.catalog import load_catalog

        if self._catalog is not None:
            return self._catalog
        catalog, problems = load_catalog(self.root)
        if problems and strict:
            raise InputError(problems)
        if not problems:
            self._catalog = catalog
        return catalog


pass_ctx = click.make_pass_decorator(Ctx)


def control_of(catalog: Any, control: str) -> tuple[Any, Any]:
    """The framework and the control a command was given, or a UsageError naming the closest
    id ("unknown control 'o7' (did you mean 'O7'?)")."""
    from cyberstd.messages import msg
    from cyberstd.validation import suggest

    found = catalog.find_control(control)
    if found is None:
        raise UsageError(
            msg(
                "attest.error.unknown_control",
                control=repr(control),
                hint=suggest(control, catalog.all_control_ids(), close=False),
            )
        )
    return found  # type: ignore[no-any-return]

"""Typed error hierarchy; the only place where exit codes are defined."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from cyberstd.messages import Msg


class ExitCode(IntEnum):
    OK = 0
    GAPS = 1
    INVALID = 2
    INCOMPLETE = 3


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, reported as path:line:col: error[code]: message."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: error[{self.code}]: {self.message}"


class CyberstdError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code: ExitCode = ExitCode.INVALID


class InputError(CyberstdError):
    """Invalid input: one or more problems in files the user gave."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(CyberstdError):
    """A command was asked for something that cannot be done (unknown profile, missing folder)."""


class ScopeError(CyberstdError):
    """A network target lies outside the scope that the school authorised.

    Raised with a catalog message (`Msg`), like ProbeError, it says so in every language;
    `str(exc)` is the English text."""

    def __init__(self, message: object = "") -> None:
        super().__init__(message)
        self.said: Msg | None = message if isinstance(message, Msg) else None

    def texts(self) -> tuple[str, dict[str, str]]:
        """The English message, and the others by language."""
        if self.said is None:
            return str(self), {}
        return self.said.render("en"), {"nl": self.said.render("nl")}


class ProbeError(Exception):
    """Raised by a probe; the runner turns it into a finding with status error.

    Raised with a catalog message (`Msg`), the finding says it in every language; raised with
    plain text, only in that text."""

    reason: str = "probe"

    def __init__(self, message: object = "") -> None:
        super().__init__(message)
        self.said: Msg | None = message if isinstance(message, Msg) else None

    def texts(self) -> tuple[str, dict[str, str]]:
        """The English message, and the others by language."""
        if self.said is None:
            return str(self), {}
        return self.said.render("en"), {"nl": self.said.render("nl")}


class ConnectivityError(ProbeError):
    reason = "connectivity"


class ProbeTimeout(ProbeError):
    reason = "timeout"


class ProtocolError(ProbeError):
    reason = "protocol"


class ExportError(ProbeError):
    """A configuration export that cannot be read or parsed."""

    reason = "input"

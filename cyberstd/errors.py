"""Typed error hierarchy; the only place where exit codes are defined."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from cyberstd.messages import Msg, render


class ExitCode(IntEnum):
    OK = 0
    GAPS = 1
    INVALID = 2
    INCOMPLETE = 3


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, reported as path:line:col: error[code]: message.

    `message` is the English text; `said`, when the problem was made from the message
    catalog, says it in every language (`text`, `render`). Problems compare by what the user
    sees in English, so the same problem found twice is one."""

    path: str
    line: int
    col: int
    code: str
    message: str
    said: Msg | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, path: str, line: int, col: int, code: str, said: Msg | str) -> Problem:
        """A problem whose message comes from the catalog (a Msg), or is data only (a str)."""
        if isinstance(said, Msg):
            return cls(path, line, col, code, said.render("en"), said)
        return cls(path, line, col, code, said)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: error[{self.code}]: {self.message}"

    def text(self, lang: str) -> str:
        """The message in `lang` (the English text when it has no catalog message)."""
        return self.said.render(lang) if self.said is not None else self.message

    def render(self, lang: str, kind: str = "error") -> str:
        """path:line:col: error[code]: message in `lang`, the code unchanged; `kind` is error
        or notice (a problem that does not stop the run)."""
        label = render(f"input.label.{kind}", lang)
        return f"{self.path}:{self.line}:{self.col}: {label}[{self.code}]: {self.text(lang)}"


class Said(Exception):
    """An exception that may carry a catalog message (`Msg`): `said` holds it, `str(exc)` is
    the English text, `texts()` gives the English and the other languages."""

    def __init__(self, message: object = "") -> None:
        super().__init__(message)
        self.said: Msg | None = message if isinstance(message, Msg) else None

    def texts(self) -> tuple[str, dict[str, str]]:
        """The English message, and the others by language."""
        if self.said is None:
            return str(self), {}
        return self.said.render("en"), {"nl": self.said.render("nl")}


class CyberstdError(Said):
    """Base of every error the library raises on purpose.

    Raised with a catalog message (`Msg`), it says it in every language (`text`); `str(exc)`
    is the English text."""

    exit_code: ExitCode = ExitCode.INVALID

    def text(self, lang: str) -> str:
        return self.said.render(lang) if self.said is not None else str(self)


class InvalidValue(ValueError):
    """What a pydantic validator raises to refuse a value with a catalog message: validation
    reports it in every language (pydantic shows `str(exc)`, the English text)."""

    def __init__(self, said: Msg) -> None:
        super().__init__(said.render("en"))
        self.said = said


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


class ProbeError(Said):
    """Raised by a probe; the runner turns it into a finding with status error.

    Raised with a catalog message (`Msg`), the finding says it in every language; raised with
    plain text, only in that text."""

    reason: str = "probe"


class ConnectivityError(ProbeError):
    reason = "connectivity"


class ProbeTimeout(ProbeError):
    reason = "timeout"


class ProtocolError(ProbeError):
    reason = "protocol"


class ExportError(ProbeError):
    """A configuration export that cannot be read or parsed."""

    reason = "input"

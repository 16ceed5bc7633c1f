"""Lists in words, in every language: parts joined with a comma, or as alternatives ("a or b",
"a of b").

The result is a catalog message like any other, so a list inside a message renders in that
message's language. Each list is a balanced tree of two-part messages, so that a long list
stays shallow."""

from __future__ import annotations

from collections.abc import Sequence

from cyberstd.messages import Msg, msg, verbatim

COMMA = "runner.list.comma"
OR = "runner.list.or"


def _fold(id: str, parts: Sequence[Msg]) -> Msg:
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return msg(id, a=_fold(id, parts[:half]), b=_fold(id, parts[half:]))


def _parts(parts: Sequence[Msg | str | int]) -> list[Msg]:
    return [p if isinstance(p, Msg) else verbatim(str(p)) for p in parts]


def commas(parts: Sequence[Msg | str | int]) -> Msg:
    """The parts joined with ", " (text and numbers are language-neutral)."""
    items = _parts(parts)
    return _fold(COMMA, items) if items else verbatim("")


def alternatives(parts: Sequence[Msg | str | int]) -> Msg:
    """The parts joined with " or " ("of" in Dutch)."""
    items = _parts(parts)
    return _fold(OR, items) if items else verbatim("")

"""Version numbers as software releases order them, read from what a service announces."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBERS = re.compile(r"(\d+(?:\.\d+)*)([A-Za-z]*)(\d*)")
_PRE_RELEASE = frozenset({"a", "alpha", "b", "beta", "rc", "dev", "pre", "preview"})


@dataclass(frozen=True, eq=False)
class Version:
    """A version number ordered the way software releases are.

    Numbers compare as numbers (2.4.10 > 2.4.9), missing parts count as 0 (10 = 10.0); a
    letter suffix after the numbers is a later patch release (1.0.2k > 1.0.2, 7.4p1 > 7.4),
    except pre-release markers (rc1, beta) that come before the release.
    """

    numbers: tuple[int, ...]
    stage: int
    suffix: str
    suffix_number: int
    text: str = ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key(len(other.numbers)) == other._key(len(self.numbers))

    def __hash__(self) -> int:
        numbers = list(self.numbers)
        while len(numbers) > 1 and numbers[-1] == 0:
            numbers.pop()
        return hash((tuple(numbers), self.stage, self.suffix, self.suffix_number))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key(len(other.numbers)) < other._key(len(self.numbers))

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key(len(other.numbers)) <= other._key(len(self.numbers))

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return other < self

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return other <= self

    def _key(self, width: int) -> tuple[tuple[int, ...], int, str, int]:
        size = max(width, len(self.numbers))
        padded = self.numbers + (0,) * (size - len(self.numbers))
        return padded, self.stage, self.suffix, self.suffix_number


def parse_version(text: str) -> Version | None:
    """The first version number in `text` ('OpenSSH_for_Windows_8.1' gives 8.1), or None."""
    match = _NUMBERS.search(text)
    if match is None:
        return None
    numbers = tuple(int(n) for n in match.group(1).split("."))
    suffix = match.group(2).lower()
    stage = 0 if suffix in _PRE_RELEASE else (2 if suffix else 1)
    number = int(match.group(3)) if match.group(3) else 0
    return Version(numbers, stage, suffix, number, match.group(0))

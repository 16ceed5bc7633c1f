"""Dates in a school folder moved by whole days: the demo school on any day, time-travel tests.

The demo school's files are real-looking exports, written on one day (`DEMO_DAY`): a backup
that last succeeded the evening before, a sign-in five months earlier, a restore test more than
a year ago, a waiver that ran out in the autumn. The demo copies the folder and moves every date
in it by the days between `DEMO_DAY` and the run's day, so that the story (and every verdict)
is the same on whatever day the demo runs. Tests use the same move to judge samples 400 days
ahead and back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path

# The day the demo school's exports were collected; the dates in its files are as of this day.
DEMO_DAY = dt.date(2026, 11, 29)

# Folders whose files are copied as they are: attestations pin their evidence by sha256.
UNSHIFTED = frozenset({"evidence"})
# Files larger than this are copied as they are (no export of the demo school comes close).
_MAX_SHIFTED = 4 * 1024 * 1024
# 2026-11-28, also inside 2026-11-28T16:02:12Z and "2026-11-28 22:00:14"; 2026/11/28, as
# Synology's DSM writes it.
_ISO = re.compile(r"(?<![\d.])(\d{4})([-/])(\d{2})\2(\d{2})(?!\d)")
# 12/06/2025 or 4/12/2026: day/month/year, as Belgian exports write it (Windows in nl-BE
# writes the day without a leading zero); 11/26/2026 10:30:12 PM: month/day/year, which
# US-English exports write, always with AM/PM. One pattern, so that no date moves twice.
_SLASHED = re.compile(
    r"(?<![\d/.])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])"
    r"(?P<us>(?=\s+\d{1,2}:\d{2}(?::\d{2})?\s*[AP]M\b))?"
)
# Marks a folder as a shifted copy and lists its files with their sha256, so that a later demo
# may replace it, and only when nobody changed it.
MARKER = ".cyberstd-demo-copy"


def _moved(year: str, month: str, day: str, days: int) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day)) + dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return None  # not a date (a version, a range): left as it is


def _same_width(number: int, like: str) -> str:
    """A day or month written as wide as the one it replaces (4 stays 4, 04 stays 04)."""
    return f"{number:0{len(like)}d}"


def shift_text(text: str, days: int) -> str:
    """`text` with every date moved by `days`: ISO dates (YYYY-MM-DD, also in date-times, and
    YYYY/MM/DD), day-first DD/MM/YYYY and D/MM/YYYY, and month-first M/D/YYYY followed by a
    time with AM/PM. Each keeps its form; anything that is not a valid date stays as it is."""

    def iso(m: re.Match[str]) -> str:
        day = _moved(m[1], m[3], m[4], days)
        return f"{day.year:04d}{m[2]}{day:%m}{m[2]}{day:%d}" if day is not None else m[0]

    def slashed(m: re.Match[str]) -> str:
        first, second, year = m[1], m[2], m[3]
        if m["us"] is not None:
            day = _moved(year, first, second, days)
            if day is None:
                return m[0]
            # M/d/yyyy unless both were written with two digits
            like = "00" if len(first) == len(second) == 2 else "0"
            return f"{_same_width(day.month, like)}/{_same_width(day.day, like)}/{day.year}"
        if len(second) != 2:
            return m[0]  # 4/5/2026 without AM/PM: which is the month cannot be told
        day = _moved(year, second, first, days)
        if day is None:
            return m[0]
        return f"{_same_width(day.day, first)}/{day:%m}/{day.year}"

    return _SLASHED.sub(slashed, _ISO.sub(iso, text))


def _shift_file(source: Path, target: Path, days: int) -> None:
    data = source.read_bytes()
    if len(data) > _MAX_SHIFTED:
        target.write_bytes(data)
        return
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        target.write_bytes(data)  # not text: copied as it is
        return
    # newline="" keeps CRLF line ends and a byte order mark as the vendor wrote them
    with target.open("w", encoding=encoding, newline="") as out:
        out.write(shift_text(text, days))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unchanged_copy(target: Path) -> bool:
    """Whether `target` is an earlier shifted copy with nothing changed, added or removed."""
    marker = target / MARKER
    if not marker.is_file() or marker.is_symlink():
        return False
    listed: dict[str, str] = {}
    for line in marker.read_text(encoding="utf-8").splitlines():
        digest, sep, name = line.partition("  ")
        if sep and len(digest) == 64:
            listed[name] = digest
    present = {
        p.relative_to(target).as_posix(): p
        for p in target.rglob("*")
        if (p.is_file() or p.is_symlink()) and p != marker
    }
    return set(present) == set(listed) and all(
        not p.is_symlink() and _digest(p) == listed[name] for name, p in present.items()
    )


class CopyRefused(Exception):
    """The shifted copy would overwrite or lose something that is not an earlier copy."""


def shifted_copy(source: Path, target: Path, days: int) -> Path:
    """Copy the school folder `source` to `target` with every date moved by `days`.

    `target` must not exist, or be an earlier shifted copy that nobody changed since (MARKER
    lists every file with its sha256): only then is it replaced. It may not overlap `source`.
    Files under UNSHIFTED folders are copied byte for byte. A symbolic link in `source` is
    refused (a school folder needs none, and it could lead out of the folder).
    """
    src, dst = source.resolve(), target.resolve()
    if src == dst or src in dst.parents or dst in src.parents:
        raise CopyRefused(f"{target} overlaps the school folder {source}; choose another --out")
    files = sorted(source.rglob("*"))
    links = [p for p in files if p.is_symlink()]
    if links:
        raise CopyRefused(
            f"{links[0]} is a symbolic link; the demo copies only plain files and folders"
        )
    if target.is_symlink() or target.exists():
        if not target.is_dir() or target.is_symlink() or not _unchanged_copy(target):
            raise CopyRefused(
                f"{target} exists and is not an unchanged copy of the demo school; move it "
                "away or choose another --out (nothing was changed)"
            )
        shutil.rmtree(target)
    target.mkdir(parents=True)
    written: list[str] = []
    for path in files:
        relative = path.relative_to(source)
        destination = target / relative
        if path.is_dir():
            destination.mkdir(exist_ok=True)
            continue
        if relative.parts[0] in UNSHIFTED or days == 0:
            shutil.copyfile(path, destination)
        else:
            _shift_file(path, destination, days)
        written.append(f"{_digest(destination)}  {relative.as_posix()}")
    (target / MARKER).write_text("\n".join(written) + "\n", encoding="utf-8")
    return target

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
import re
import shutil
from pathlib import Path

# The day the demo school's exports were collected; the dates in its files are as of this day.
DEMO_DAY = dt.date(2026, 11, 29)

# Folders whose files are copied as they are: attestations pin their evidence by sha256.
UNSHIFTED = frozenset({"evidence"})
# Files larger than this are copied as they are (no export of the demo school comes close).
_MAX_SHIFTED = 4 * 1024 * 1024
# 2026-11-28, also inside 2026-11-28T16:02:12Z and "2026-11-28 22:00:14".
_ISO = re.compile(r"(?<![\d.])(\d{4})-(\d{2})-(\d{2})(?!\d)")
# 12/06/2025: day/month/year, as Belgian exports write it.
_DMY = re.compile(r"(?<![\d/.])(\d{2})/(\d{2})/(\d{4})(?![\d/])")
# Marks a folder as a shifted copy, so that a later demo may replace it.
MARKER = ".cyberstd-demo-copy"


def _moved(year: str, month: str, day: str, days: int) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day)) + dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return None  # not a date (a version, a range): left as it is


def shift_text(text: str, days: int) -> str:
    """`text` with every ISO date (YYYY-MM-DD, also in date-times) and every DD/MM/YYYY date
    moved by `days`; anything that is not a valid date stays as it is."""

    def iso(m: re.Match[str]) -> str:
        day = _moved(m[1], m[2], m[3], days)
        return day.isoformat() if day is not None else m[0]

    def dmy(m: re.Match[str]) -> str:
        day = _moved(m[3], m[2], m[1], days)
        return f"{day:%d/%m/%Y}" if day is not None else m[0]

    return _DMY.sub(dmy, _ISO.sub(iso, text))


def _shift_file(source: Path, target: Path, days: int) -> None:
    data = source.read_bytes()
    if len(data) > _MAX_SHIFTED:
        target.write_bytes(data)
        return
    encodings = ("utf-16",) if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8",)
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # newline="" keeps CRLF line ends and a byte order mark as the vendor wrote them
        with target.open("w", encoding=encoding, newline="") as out:
            out.write(shift_text(text, days))
        return
    target.write_bytes(data)


def shifted_copy(source: Path, target: Path, days: int) -> Path:
    """Copy the school folder `source` to `target` with every date moved by `days`.

    `target` must not exist, or be an earlier shifted copy (it holds MARKER): it is replaced.
    Files under UNSHIFTED folders are copied byte for byte.
    """
    if target.exists():
        if not (target / MARKER).is_file():
            raise FileExistsError(f"{target} exists and is not a copy of the demo school")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        destination = target / relative
        if path.is_symlink():
            continue  # a school folder never needs one; never follow it out of the folder
        if path.is_dir():
            destination.mkdir(exist_ok=True)
        elif relative.parts[0] in UNSHIFTED or days == 0:
            shutil.copyfile(path, destination)
        else:
            _shift_file(path, destination, days)
    (target / MARKER).write_text(
        f"The demo school with every date moved by {days} days (from {DEMO_DAY}).\n",
        encoding="utf-8",
    )
    return target

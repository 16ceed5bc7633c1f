"""The one clock of a run: the moment it judges as of, read once and passed in."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The day of a moment is the day in Flanders: a run at 00:30 in Brussels is on that day,
# though it is still the day before in UTC.
try:
    LOCAL: dt.tzinfo = ZoneInfo("Europe/Brussels")
except ZoneInfoNotFoundError:  # a system without time zone data: UTC, an hour or two off
    LOCAL = dt.UTC

# The days a run may be judged as of: certificates and DNSSEC signatures cannot be dated
# outside these, and no school's evidence is older or newer.
EARLIEST = dt.date(1990, 1, 1)
LATEST = dt.date(2099, 12, 31)


@dataclass(frozen=True)
class Clock:
    """The moment a run judges as of (aware, UTC), fixed for the whole run.

    Every verdict that depends on the date (ages of sign-ins and backups, expiry of
    attestations, waivers, scope authorisations and certificates, DNSSEC signature validity)
    asks this object, never the system. Only the command line reads the system time, once,
    with `Clock.system()` or `Clock.at(day, started=...)` for `--as-of`; tests build one with
    `Clock.at(...)`. `started` is when the run really began, which a run judged as of another
    day still records; `finished()` tells its end on the same time line, from a monotonic
    timer.
    """

    now: dt.datetime
    as_of: bool = False
    started_at: dt.datetime | None = None
    _mono: float = field(default_factory=time.monotonic, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("a clock needs an aware time")
        object.__setattr__(self, "now", self.now.astimezone(dt.UTC).replace(microsecond=0))
        begun = self.started_at or self.now
        object.__setattr__(self, "started_at", begun.astimezone(dt.UTC).replace(microsecond=0))

    @property
    def started(self) -> dt.datetime:
        """When the run really began (set in __post_init__, never None after it)."""
        assert self.started_at is not None
        return self.started_at

    @classmethod
    def system(cls) -> Clock:
        """The system's time now: the start of a run that judges as of today."""
        return cls(dt.datetime.now(dt.UTC))

    @classmethod
    def at(cls, moment: dt.date | dt.datetime, *, started: dt.datetime | None = None) -> Clock:
        """A clock fixed at a given day (its noon in Flanders) or moment: `--as-of`, and
        tests. `started`: when the run really began (default: that same moment)."""
        if isinstance(moment, dt.datetime):
            aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
            return cls(aware, as_of=True, started_at=started)
        if not EARLIEST <= moment <= LATEST:
            raise ValueError(f"{moment} lies outside {EARLIEST} to {LATEST}")
        noon = dt.datetime.combine(moment, dt.time(12), LOCAL)
        return cls(noon, as_of=True, started_at=started)

    @property
    def today(self) -> dt.date:
        """The run's day, in Flanders."""
        return self.now.astimezone(LOCAL).date()

    @property
    def timestamp(self) -> float:
        """Seconds since the epoch, for libraries that count time that way."""
        return self.now.timestamp()

    def shifted(self, days: int) -> Clock:
        """The same clock moved by whole days (the demo and the time-travel tests)."""
        return Clock(self.now + dt.timedelta(days=days), as_of=True, started_at=self.started)

    def finished(self) -> dt.datetime:
        """The run's real end: its start plus the time that has passed."""
        elapsed = dt.timedelta(seconds=max(0.0, time.monotonic() - self._mono))
        return (self.started + elapsed).replace(microsecond=0)

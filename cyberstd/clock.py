"""The one clock of a run: the moment it judges as of, read once and passed in."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Clock:
    """The moment a run judges as of (aware, UTC), fixed for the whole run.

    Every verdict that depends on the date (ages of sign-ins and backups, expiry of
    attestations, waivers, scope authorisations and certificates, DNSSEC signature validity)
    asks this object, never the system. Only the command line reads the system time, once,
    with `Clock.system()`; tests build one with `Clock.at(...)`. `finished()` tells the end of
    the run on the same time line, from a monotonic timer, so that a run judged as of another
    day still records how long it took.
    """

    now: dt.datetime
    as_of: bool = False
    _started: float = field(default_factory=time.monotonic, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("a clock needs an aware time")
        object.__setattr__(self, "now", self.now.astimezone(dt.UTC).replace(microsecond=0))

    @classmethod
    def system(cls) -> Clock:
        """The system's time now: the start of a run that judges as of today."""
        return cls(dt.datetime.now(dt.UTC))

    @classmethod
    def at(cls, moment: dt.date | dt.datetime) -> Clock:
        """A clock fixed at a given day (its noon, UTC) or moment: `--as-of`, and tests."""
        if isinstance(moment, dt.datetime):
            aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
            return cls(aware, as_of=True)
        return cls(dt.datetime.combine(moment, dt.time(12), dt.UTC), as_of=True)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def timestamp(self) -> float:
        """Seconds since the epoch, for libraries that count time that way."""
        return self.now.timestamp()

    def shifted(self, days: int) -> Clock:
        """The same clock moved by whole days (the demo and the time-travel tests)."""
        return Clock(self.now + dt.timedelta(days=days), as_of=True)

    def finished(self) -> dt.datetime:
        """The run's end on this clock's time line: start plus the time that has passed."""
        elapsed = dt.timedelta(seconds=max(0.0, time.monotonic() - self._started))
        return (self.now + elapsed).replace(microsecond=0)

"""What a scan is doing, for the person waiting on it.

`ScanProgress` hears three things: a probe started (check id and target), a probe finished
(its finding), and the end of the scan. It says them in one of two ways:

- in a terminal, one live status line that follows every event
  ("12/48 · web.hsts @ www.school.be en nog 2 · 3 geslaagd, 1 gefaald"), handed to `show`;
- elsewhere (a CI log, `| tee`), a plain line with a timestamp at most every `every` seconds,
  with the counts so far and the checks still running, handed to `write`;

and at the end one closing line with the time it took and the counts by status
("klaar in 14,2 s: 48 controles, 30 geslaagd, 6 gefaald, 2 fout, 10 niet van toepassing").

It prints nothing itself: the command line passes `write` and `show`. Time is measured with a
monotonic timer (passed in, so that tests drive it); a timestamp is the run's real start plus
the time measured since, never a second reading of the wall clock, and no result depends on
either.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cyberstd.i18n import t
from cyberstd.report.escape import inert
from cyberstd.results import Finding, FindingStatus

if TYPE_CHECKING:
    from cyberstd.runner import PlanItem

# The order in which counts are said.
STATUS_ORDER = (
    FindingStatus.PASS,
    FindingStatus.FAIL,
    FindingStatus.ERROR,
    FindingStatus.SKIPPED,
    FindingStatus.NOT_APPLICABLE,
)
EVERY = 5.0  # seconds between two plain lines, at least
NAMED = 6  # running checks named on a plain line; the rest are counted
SEP = " · "
NO_TARGET = "-"  # what a finding names as its target when it had none


def elapsed_text(seconds: float, lang: str) -> str:
    """A duration as people read it: "14,2 s" in Dutch, "14.2 s" in English; "3 min 5 s";
    "1 u 2 min" (Dutch) or "1 h 2 min" (English)."""
    if seconds < 60:
        text = f"{max(0.0, seconds):.1f}"
        return t("progress.seconds", lang, s=text.replace(".", ",") if lang == "nl" else text)
    whole = round(seconds)
    if whole < 3600:
        return t("progress.minutes", lang, m=whole // 60, s=whole % 60)
    return t("progress.hours", lang, h=whole // 3600, m=whole % 3600 // 60)


def stamp(moment: dt.datetime) -> str:
    """An ISO 8601 timestamp in UTC, to the second: 2026-05-01T10:00:05Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _name(check: str, target: str | None) -> str:
    shown = inert(check, 120)
    if target is None or target == NO_TARGET:
        return shown
    return f"{shown} @ {inert(target, 120)}"


class ScanProgress:
    """The progress of one scan of `total` probes, said in `lang` ('nl' or 'en').

    `write` receives whole lines (plain lines and the closing line); `show`, when given, the
    live status line after every event, and then no plain lines are written. `started` is the
    real moment the progress began; `monotonic` the timer (time.monotonic unless a test drives
    it); `every` the seconds between two plain lines (default EVERY). Events may arrive from
    several threads."""

    def __init__(
        self,
        total: int,
        lang: str,
        write: Callable[[str], None],
        *,
        started: dt.datetime,
        show: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        every: float | None = None,
    ) -> None:
        self.total = total
        self.lang = lang
        self._write = write
        self._show = show
        self._monotonic = monotonic
        self._every = EVERY if every is None else every
        self._started = started
        self._begun = monotonic()
        self._last = self._begun
        self._running: list[tuple[str, str | None]] = []
        self._counts = dict.fromkeys(STATUS_ORDER, 0)
        self._done = 0
        self._ended = False
        self._lock = threading.Lock()

    # --- events ---------------------------------------------------------------------------

    def start(self, check: str, target: str | None) -> None:
        """A probe of `check` against `target` (None: no target) began."""
        with self._lock:
            self._running.append((check, None if target == NO_TARGET else target))
            self._said()

    def start_item(self, item: PlanItem) -> None:
        """The runner began a plan item (execute's `on_start`)."""
        self.start(item.check_id, item.target.name if item.target is not None else None)

    def finish(self, finding: Finding) -> None:
        """A probe ended with `finding`."""
        with self._lock:
            target = None if finding.target == NO_TARGET else finding.target
            key = (finding.check, target)
            if key not in self._running:  # a finding naming its target otherwise
                key = next((r for r in self._running if r[0] == finding.check), key)
            if key in self._running:
                self._running.remove(key)
            self._counts[finding.status] = self._counts.get(finding.status, 0) + 1
            self._done += 1
            self._said()

    def tick(self) -> None:
        """Time passed: a plain line when one is due (nothing in a terminal)."""
        with self._lock:
            if self._show is None:
                self._due()

    def end(self) -> str:
        """The scan is over: write the closing line (once) and return it."""
        with self._lock:
            line = self.closing_line()
            if self._show is None:
                line = f"{stamp(self._now())} {line}"
            if not self._ended:
                self._ended = True
                self._write(line)
            return line

    # --- what is said ---------------------------------------------------------------------

    def counts_text(self) -> str:
        """The counts so far by status, those above zero: "3 geslaagd, 1 gefaald"."""
        parts = [
            t(f"progress.count.{status.value}", self.lang, n=n)
            for status in STATUS_ORDER
            if (n := self._counts.get(status, 0))
        ]
        return ", ".join(parts)

    def live_line(self) -> str:
        """12/48 · web.hsts @ www.school.be en nog 2 · 3 geslaagd, 1 gefaald"""
        parts = [f"{self._done}/{self.total}"]
        if self._running:
            first = _name(*self._running[0])
            more = len(self._running) - 1
            parts.append(t("progress.more", self.lang, checks=first, n=more) if more else first)
        if counts := self.counts_text():
            parts.append(counts)
        return SEP.join(parts)

    def plain_line(self) -> str:
        """2026-05-01T10:00:05Z 12/48 · 3 geslaagd, 1 gefaald · bezig: web.hsts @ www.school.be"""
        parts = [f"{stamp(self._now())} {self._done}/{self.total}"]
        if counts := self.counts_text():
            parts.append(counts)
        if self._running:
            named = ", ".join(_name(*r) for r in self._running[:NAMED])
            more = len(self._running) - NAMED
            if more > 0:
                named = t("progress.more", self.lang, checks=named, n=more)
            parts.append(t("progress.running", self.lang, checks=named))
        return SEP.join(parts)

    def closing_line(self) -> str:
        """klaar in 14,2 s: 48 controles, 30 geslaagd, 6 gefaald, 2 fout, 10 niet van toepassing"""
        counts = [t("progress.checks", self.lang, n=self._done)]
        if more := self.counts_text():
            counts.append(more)
        elapsed = elapsed_text(self._monotonic() - self._begun, self.lang)
        return t("progress.done", self.lang, elapsed=elapsed, counts=", ".join(counts))

    # --- inside -----------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return self._started + dt.timedelta(seconds=max(0.0, self._monotonic() - self._begun))

    def _said(self) -> None:
        if self._show is not None:
            self._show(self.live_line())
        else:
            self._due()

    def _due(self) -> None:
        if self._ended:
            return
        now = self._monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._write(self.plain_line())


@contextmanager
def heartbeat(progress: ScanProgress, interval: float = 1.0) -> Iterator[ScanProgress]:
    """Tick `progress` every `interval` seconds while the block runs, so that a plain line
    comes even while one slow probe holds everything up."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            progress.tick()

    thread = threading.Thread(target=beat, name="cyberstd-progress", daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        thread.join()

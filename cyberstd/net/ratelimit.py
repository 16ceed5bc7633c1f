"""Thread-safe rate limits on new connections: a scan's own, and in a group run one per target
address and one across every school of the run."""

from __future__ import annotations

import threading
import time

# Limits of group runs kept in this process, by (run, target address) and by run.
_SHARED: dict[tuple[str, str], RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


class RateLimiter:
    """At most `rate` acquisitions per second across threads; None means no limit.

    In a group run (`scope`, the run's id) an acquisition for a target address also waits for
    that address's limit (`per_target` per second, whichever school of the run asks: schools on
    one hosting provider are not all served at once) and for the run's limit across every
    school (`across`). Both are shared by the scans of the run in this process."""

    def __init__(
        self,
        rate: float | None = None,
        *,
        scope: str | None = None,
        per_target: float | None = None,
        across: float | None = None,
    ) -> None:
        for value in (rate, per_target, across):
            if value is not None and value <= 0:
                raise ValueError("rate must be positive")
        self.rate = rate
        self.scope, self.per_target, self.across = scope, per_target, across
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def _wait(self) -> None:
        if self.rate is None:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + 1.0 / self.rate
        delay = start - now
        if delay > 0:
            time.sleep(delay)

    def acquire(self, target: str | None = None) -> None:
        """Wait until one more connection (to `target`, an address, when known) may start."""
        self._wait()
        if self.scope is None:
            return
        if self.across is not None:
            shared(self.scope, "", self.across)._wait()
        if self.per_target is not None and target:
            shared(self.scope, target, self.per_target)._wait()


def shared(scope: str, target: str, rate: float) -> RateLimiter:
    """The limit of one target address ("" for the whole run) in a group run."""
    with _SHARED_LOCK:
        found = _SHARED.get((scope, target))
        if found is None:
            found = _SHARED[(scope, target)] = RateLimiter(rate)
        return found


def drop_shared(scope: str) -> None:
    """Forget the limits of a group run that has ended."""
    with _SHARED_LOCK:
        for key in [k for k in _SHARED if k[0] == scope]:
            del _SHARED[key]

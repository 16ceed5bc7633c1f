"""A thread-safe rate limit on new connections, shared by every probe of one scan."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """At most `rate` acquisitions per second across threads; None means no limit."""

    def __init__(self, rate: float | None = None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def acquire(self) -> None:
        """Wait until one more connection may start."""
        if self.rate is None:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + 1.0 / self.rate
        delay = start - now
        if delay > 0:
            time.sleep(delay)

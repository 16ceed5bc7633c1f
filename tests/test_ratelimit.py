"""The shared rate limit spaces acquisitions across threads."""

from __future__ import annotations

import threading
import time

import pytest

from cyberstd.net.ratelimit import RateLimiter


def test_unlimited_does_not_wait() -> None:
    limiter = RateLimiter(None)
    for _ in range(1000):
        limiter.acquire()


def test_acquisitions_are_spaced_across_threads() -> None:
    limiter = RateLimiter(100.0)
    stamps: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    # 20 acquisitions at 100/s cover at least 19 intervals of 10 ms
    assert stamps[-1] - stamps[0] >= 0.19 - 0.005


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)

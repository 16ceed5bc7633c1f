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


def test_schools_of_one_run_share_each_target_s_limit() -> None:
    from cyberstd.net.ratelimit import drop_shared, shared

    one = RateLimiter(None, scope="run-1", per_target=50.0, across=500.0)
    two = RateLimiter(None, scope="run-1", per_target=50.0, across=500.0)
    other_run = RateLimiter(None, scope="run-2", per_target=50.0)
    target = shared("run-1", "192.0.2.10", 50.0)
    whole = shared("run-1", "", 500.0)
    assert shared("run-1", "192.0.2.10", 50.0) is target
    before, before_whole = target._next, whole._next
    one.acquire("192.0.2.10")
    two.acquire("192.0.2.10")  # another school, the same hosting provider's address
    # two connections booked on the one address, 1/50 s apart, and two on the run's limit
    assert target._next - before >= 2 / 50.0 - 1e-9
    assert whole._next > before_whole
    elsewhere = shared("run-1", "192.0.2.99", 50.0)
    assert elsewhere is not target
    other_run.acquire("192.0.2.10")
    assert shared("run-2", "192.0.2.10", 50.0) is not target
    drop_shared("run-1")
    assert shared("run-1", "192.0.2.10", 50.0) is not target
    drop_shared("run-1")
    drop_shared("run-2")


def test_a_scan_outside_a_group_run_keeps_only_its_own_limit() -> None:
    from cyberstd.net.ratelimit import _SHARED

    before = dict(_SHARED)
    RateLimiter(None, per_target=1.0).acquire("192.0.2.10")  # no run: nothing shared
    assert before == _SHARED

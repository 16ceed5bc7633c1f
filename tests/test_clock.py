"""The run's one clock: the day in Flanders, as-of days, and when the run really ran."""

from __future__ import annotations

import datetime as dt

import pytest

from cyberstd.clock import Clock


def test_the_day_is_the_day_in_flanders() -> None:
    # 23:30 UTC on 5 December is 00:30 on 6 December in Brussels
    assert Clock(dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)).today == dt.date(2026, 12, 6)
    # 22:30 UTC in summer is already the next day too (UTC+2)
    assert Clock(dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)).today == dt.date(2026, 7, 2)
    assert Clock(dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)).today == dt.date(2026, 12, 5)


@pytest.mark.parametrize("day", [dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2028, 2, 29)])
def test_an_as_of_day_is_that_day_and_keeps_when_the_run_began(day: dt.date) -> None:
    began = dt.datetime(2026, 12, 5, 20, 0, tzinfo=dt.UTC)
    clock = Clock.at(day, started=began)
    assert clock.today == day and clock.as_of
    assert clock.started == began
    assert began <= clock.finished() < began + dt.timedelta(minutes=1)
    moved = clock.shifted(-400)
    assert moved.today == day - dt.timedelta(days=400) and moved.started == began


def test_a_clock_needs_an_aware_time_and_a_sane_day() -> None:
    with pytest.raises(ValueError):
        Clock(dt.datetime(2026, 12, 5, 12, 0))
    with pytest.raises(ValueError):
        Clock.at(dt.date(1970, 1, 1))

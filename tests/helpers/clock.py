"""The instant every test starts at, the clock tests move by hand, and stand-in calendars."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

from services.clock.calendar import WorkCalendar, YearSchedule, library_years

TEST_NOW = datetime.fromisoformat(os.environ.get("GAODEDIM_TEST_NOW", "2026-11-18T10:00:00+08:00"))
"""The instant every test starts at, whatever the wall clock says: a Wednesday morning inside
working hours. Run the suite at another instant (a make-up Saturday, New Year's Eve, a Sunday
night) with GAODEDIM_TEST_NOW=2026-09-27T10:00:00+08:00 and the like; no test may assume which."""


if TEST_NOW.tzinfo is None:
    raise ValueError("GAODEDIM_TEST_NOW needs an offset, e.g. 2026-11-18T10:00:00+08:00")


class ManualClock:
    """The services' clock in tests: it stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        self.now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


TEST_YEARS = {
    year: YearSchedule(holidays=frozenset({date(year, 1, 1)}))
    for year in range(TEST_NOW.year, TEST_NOW.year + 3)
    if year not in library_years()
}
"""Stand-ins for the test clock's year and the two after it where chinese-calendar does not know
them (New Year's Day only), loaded as an operator would: a deadline counted from the clock may
reach January, and a sweep may look months ahead."""


def stand_in_calendar() -> WorkCalendar:
    return WorkCalendar(schedules=dict(TEST_YEARS))

"""Which days are working days in mainland China, and when a working day's hours are.

`chinese-calendar` knows the State Council's holiday schedule (with the make-up working days,
调休) for the years already announced. Operators load the years it does not know (each year's
schedule is announced in November or December) and may correct single days; those overrides
win. A year neither knows raises CalendarUnknown: a deadline there is an alert for an operator,
never a silent weekday guess.

Working days are indexed per year (a sorted list of day ordinals), so moving N working days
or counting the working days between two dates is a binary search, not a walk through days.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import chinese_calendar


class CalendarUnknown(Exception):
    def __init__(self, year: int) -> None:
        super().__init__(f"the working-day calendar for {year} is not loaded")
        self.year = year


@dataclass(frozen=True)
class WorkHours:
    """A working day's periods in Shanghai time; the default is 09:00–12:00, 13:30–18:00."""

    periods: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(18)))

    @property
    def seconds_per_day(self) -> float:
        return sum(_secs(e) - _secs(s) for s, e in self.periods)


def _secs(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def library_years() -> range:
    """The years the installed chinese-calendar knows."""
    known = [y for y in range(2000, 2101) if _library_knows(y)]
    return range(known[0], known[-1] + 1) if known else range(0)


def _library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
"""(month, day) of the statutory holidays that fall on the same date every year."""


@dataclass
class YearSchedule:
    """An operator's schedule for one year: holidays off and make-up days on; other days follow
    the week (Monday–Friday on). Used for years the library does not know, and as corrections."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass
class WorkCalendar:
    hours: WorkHours = field(default_factory=WorkHours)
    schedules: dict[int, YearSchedule] = field(default_factory=dict)
    _index: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def _library_workday(self, day: date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError as exc:
            raise CalendarUnknown(day.year) from exc

    def is_workday(self, day: date) -> bool:
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True
            if day in schedule.holidays:
                return False
            if not _library_knows(day.year):
                return day.weekday() < 5
        return self._library_workday(day)

    def exceptions_of(self, year: int) -> tuple[list[date], list[date]]:
        """(weekdays off, weekend days on) of a known year: what makes it differ from a plain
        Monday-to-Friday year, from the library and the operator's corrections together."""
        workdays = set(self.workdays_of(year))
        day, end = date(year, 1, 1), date(year + 1, 1, 1)
        off, on = [], []
        while day < end:
            works = day.toordinal() in workdays
            if day.weekday() < 5 and not works:
                off.append(day)
            elif day.weekday() >= 5 and works:
                on.append(day)
            day += timedelta(days=1)
        return off, on

    def with_plain_years(self, *years: int) -> WorkCalendar:
        """This calendar with `years` taken as plain years: Monday to Friday, less the statutory
        holidays fixed by date (元旦, 劳动节's first two days, 国庆's first three); the lunar ones
        and the make-up days are unknown. For a deadline that is an estimate by nature and says
        so (a rectification's weeks), never for a case's."""
        plain = {
            year: YearSchedule(holidays=frozenset(date(year, m, d) for m, d in FIXED_HOLIDAYS))
            for year in years
            if not self.knows(year)
        }
        return WorkCalendar(hours=self.hours, schedules={**self.schedules, **plain})

    def knows(self, year: int) -> bool:
        return year in self.schedules or _library_knows(year)

    def first_unknown_year(self, since: int) -> int:
        """The first year from `since` on that deadlines cannot fall in: the operators' alert
        fires when its 1 January is near (load next year's calendar each November)."""
        year = since
        while self.knows(year):
            year += 1
        return year

    def workdays_of(self, year: int) -> list[int]:
        """Ordinals of the year's working days, ascending (built once per year)."""
        if year not in self._index:
            if not self.knows(year):
                raise CalendarUnknown(year)
            day, end, out = date(year, 1, 1), date(year + 1, 1, 1), []
            while day < end:
                if self.is_workday(day):
                    out.append(day.toordinal())
                day += timedelta(days=1)
            self._index[year] = out
        return self._index[year]

    def next_workday(self, day: date, n: int = 0) -> date:
        """The n-th working day at or after `day` (n=0: `day` itself if it works)."""
        year = day.year
        days = self.workdays_of(year)
        i = bisect.bisect_left(days, day.toordinal()) + n
        while i >= len(days):
            i -= len(days)
            year += 1
            days = self.workdays_of(year)
        return date.fromordinal(days[i])

    def workdays_between(self, start: date, end: date) -> int:
        """Working days d with start <= d < end."""
        if end <= start:
            return 0
        total = 0
        for year in range(start.year, end.year + 1):
            days = self.workdays_of(year)
            lo = bisect.bisect_left(days, max(start, date(year, 1, 1)).toordinal())
            hi = bisect.bisect_left(days, min(end, date(year + 1, 1, 1)).toordinal())
            total += hi - lo
        return total

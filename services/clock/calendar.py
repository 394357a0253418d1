"""Which days are working days in mainland China, and when a working day's hours are.

`chinese-calendar` knows the State Council's holiday schedule (with the make-up working days,
调休) for the years already announced. A year it does not know raises CalendarUnknown: a
deadline there is an alert for an operator, never a silent weekday guess. The SLA issue layers
the operators' own per-year table over this; it will replace `_library_workday` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

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
        return sum(
            (e.hour * 3600 + e.minute * 60) - (s.hour * 3600 + s.minute * 60)
            for s, e in self.periods
        )


def _library_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CalendarUnknown(day.year) from exc


@dataclass
class WorkCalendar:
    hours: WorkHours = field(default_factory=WorkHours)
    overrides: dict[date, bool] = field(default_factory=dict)
    """Operator-set days (True = working), consulted before the library."""

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return _library_workday(day)

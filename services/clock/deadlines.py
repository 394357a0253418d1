"""Adding policy durations to a moment, in natural or working time (Asia/Shanghai).

A working day counts as the length of one day's working periods (7.5 hours by default), so
"5 working_days" from Monday 10:00 is the next Monday 10:00 when there is no holiday between.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.clock.calendar import WorkCalendar
from services.clock.durations import Duration
from shared.timeutil import SHANGHAI


def _working_seconds(duration: Duration, calendar: WorkCalendar) -> float:
    if duration.unit == "working_hours":
        return duration.amount * 3600
    return duration.amount * calendar.hours.seconds_per_day


def add(start: datetime, duration: Duration, calendar: WorkCalendar) -> datetime:
    """`start` plus `duration`. Raises CalendarUnknown when working time reaches an unknown year."""
    if not duration.is_working:
        return start + duration.natural()
    remaining = _working_seconds(duration, calendar)
    local = start.astimezone(SHANGHAI)
    day = local.date()
    for _ in range(3700):  # ten years of days: far past any policy
        if calendar.is_workday(day):
            for begin, end in calendar.hours.periods:
                period_start = datetime.combine(day, begin, SHANGHAI)
                period_end = datetime.combine(day, end, SHANGHAI)
                frm = max(period_start, local)
                if frm >= period_end:
                    continue
                available = (period_end - frm).total_seconds()
                if remaining <= available:
                    return (frm + timedelta(seconds=remaining)).astimezone(start.tzinfo)
                remaining -= available
        day += timedelta(days=1)
    raise ValueError(f"{duration} does not end within ten years")


def working_seconds_between(a: datetime, b: datetime, calendar: WorkCalendar) -> float:
    """Working time from a to b (0 if b ≤ a): how long a suspended case's clock was stopped."""
    if b <= a:
        return 0.0
    total = 0.0
    la, lb = a.astimezone(SHANGHAI), b.astimezone(SHANGHAI)
    day = la.date()
    while day <= lb.date():
        if calendar.is_workday(day):
            for begin, end in calendar.hours.periods:
                s = max(datetime.combine(day, begin, SHANGHAI), la)
                e = min(datetime.combine(day, end, SHANGHAI), lb)
                if e > s:
                    total += (e - s).total_seconds()
        day += timedelta(days=1)
    return total

"""Adding policy durations to a moment, in natural or working time (Asia/Shanghai).

A working day counts as the length of one day's working periods (7.5 hours by default), so
"5 working_days" from Monday 10:00 is the next Monday 10:00 when there is no holiday between.
Whole days are jumped with the calendar's index; only the first and last day are walked.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from services.clock.calendar import CalendarUnknown, WorkCalendar, _secs
from shared.durations import Duration
from shared.timeutil import SHANGHAI


def _working_seconds(duration: Duration, calendar: WorkCalendar) -> float:
    if duration.unit == "working_hours":
        return duration.amount * 3600
    return duration.amount * calendar.hours.seconds_per_day


def _worked_before(calendar: WorkCalendar, moment: time) -> float:
    """Working seconds of a working day that lie before `moment` (a time of day)."""
    t = _secs(moment) + moment.microsecond / 1e6
    return sum(max(0.0, min(t, _secs(e)) - _secs(s)) for s, e in calendar.hours.periods)


def _at_offset(calendar: WorkCalendar, day: date, offset: float) -> datetime:
    """The moment on working day `day` when `offset` working seconds of it have passed."""
    periods = calendar.hours.periods
    for s, e in periods:
        length = _secs(e) - _secs(s)
        if offset <= length:
            return datetime.combine(day, s, SHANGHAI) + timedelta(seconds=offset)
        offset -= length
    return datetime.combine(day, periods[-1][1], SHANGHAI)


def add(start: datetime, duration: Duration, calendar: WorkCalendar) -> datetime:
    """`start` plus `duration`. Raises CalendarUnknown when working time reaches an unknown year."""
    if not duration.is_working:
        return start + duration.natural()
    per_day = calendar.hours.seconds_per_day
    local = start.astimezone(SHANGHAI)
    day = calendar.next_workday(local.date())
    done_today = _worked_before(calendar, local.time()) if day == local.date() else 0.0
    total = done_today + _working_seconds(duration, calendar)
    whole, rest = divmod(total, per_day)
    if rest == 0 and whole > 0:  # ends exactly at a day's close, not the next day's opening
        whole, rest = whole - 1, per_day
    end_day = calendar.next_workday(day, int(whole))
    return _at_offset(calendar, end_day, rest).astimezone(start.tzinfo)


def working_seconds_between(a: datetime, b: datetime, calendar: WorkCalendar) -> float:
    """Working time from a to b (0 if b ≤ a): how long a suspended case's clock was stopped."""
    if b <= a:
        return 0.0
    la, lb = a.astimezone(SHANGHAI), b.astimezone(SHANGHAI)
    per_day = calendar.hours.seconds_per_day
    days = calendar.workdays_between(la.date(), lb.date() + timedelta(days=1))
    total = days * per_day
    if calendar.is_workday(la.date()):
        total -= _worked_before(calendar, la.time())
    if calendar.is_workday(lb.date()):
        total -= per_day - _worked_before(calendar, lb.time())
    return total


def in_office_hours(moment: datetime, calendar: WorkCalendar) -> bool:
    """Whether `moment` falls on a working day between its first opening and its last close
    (a lunch break is still office hours: people are at their desks that day). A year the
    calendar does not know counts as outside: better one text too many to the duty than an
    urgent case nobody hears of."""
    local = moment.astimezone(SHANGHAI)
    try:
        workday = calendar.is_workday(local.date())
    except CalendarUnknown:
        return False
    periods = calendar.hours.periods
    return workday and periods[0][0] <= local.time() < periods[-1][1]

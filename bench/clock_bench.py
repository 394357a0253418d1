"""Working-day arithmetic over long spans: `add` 2,000 working days and the working seconds
between two dates twelve years apart, against a day-by-day walk doing the same count.

Deadlines are a few working days long, but a calendar upload recomputes every open case and
the figures measure spans of years; both must cost the same whatever the span. Pure Python,
no database. Run: `.venv/bin/python bench/clock_bench.py [rounds]`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.clock.calendar import WorkCalendar
from services.clock.deadlines import add, working_seconds_between
from shared.durations import parse_duration
from shared.timeutil import SHANGHAI

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
START = datetime(2015, 1, 5, 10, tzinfo=SHANGHAI)
END = datetime(2026, 12, 1, 10, tzinfo=SHANGHAI)
SPAN = parse_duration("2000 working_days")


def walk(calendar: WorkCalendar, start: date, working_days: int) -> date:
    """The day `working_days` working days after `start`, one day at a time."""
    day, counted = start, 0
    while counted < working_days:
        day += timedelta(days=1)
        counted += calendar.is_workday(day)
    return day


def per_call(work: Callable[[], object], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        work()
    return (time.perf_counter() - started) / rounds * 1e6


def main() -> None:
    calendar = WorkCalendar()
    due = add(START, SPAN, calendar)
    walked = walk(calendar, START.date(), 2000)
    assert due.date() == walked, (due, walked)  # the same answer, or the comparison is void
    fast_add = per_call(lambda: add(START, SPAN, calendar), ROUNDS)
    fast_between = per_call(lambda: working_seconds_between(START, END, calendar), ROUNDS)
    slow = per_call(lambda: walk(calendar, START.date(), 2000), max(1, ROUNDS // 20))
    print(f"add 2000 working days: {fast_add:,.1f} µs a call (due {due:%Y-%m-%d %H:%M})")
    print(f"working seconds over 12 years: {fast_between:,.1f} µs a call")
    print(f"day-by-day walk of the same 2000 days: {slow:,.1f} µs a call")


if __name__ == "__main__":
    main()

"""Business time is Asia/Shanghai whatever the machine's TZ; storage is always UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]
"""Where an action reads the time. Each action reads it once (at the edge: a request, a job) and
passes that `now` down, so every change one action makes carries the same instant, and tests
can set the time instead of depending on the hour they run at."""


def utcnow() -> datetime:
    """The system clock: the `Clock` every process uses unless a test gives it another."""
    return datetime.now(UTC)


EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
"""The years a date from outside may name. Year 1 or 9999 is never a complaint's date, and at the
edges of Python's range one day's arithmetic or a change of offset overflows."""


def year_problem(moment: date | datetime) -> str | None:
    """Why `moment` is out of range, or None (an aware datetime is judged in UTC)."""
    try:
        year = moment.astimezone(UTC).year if isinstance(moment, datetime) else moment.year
    except OverflowError:
        year = moment.year
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        return f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}"
    return None


def to_shanghai(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in this project is aware")
    return moment.astimezone(SHANGHAI)


def shanghai_iso(moment: datetime | None) -> str | None:
    """RFC 3339 with the +08:00 offset, as the contract shows times to people."""
    return None if moment is None else to_shanghai(moment).isoformat()

"""Months of cases made before they begin (the layout is migration 0002's).

Each month of cases, and of their history, is a partition of its own; the database function
`ensure_case_partitions` makes them, so the migration and this job share one definition. The
worker runs it every hour for the months from now to `MONTHS_AHEAD` later: a quarter of slack
before a missing month would matter. If it still came to that, the month's cases land in the
DEFAULT partition (registrations never fail for it), `gaodedim_cases_in_default_partition`
rises, and the alert's runbook says how to move them (docs/OPERATIONS.md).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Case

MONTHS_AHEAD = 3

MONTH_SHIFT = 40
"""The id's month sits above its low 40 bits: `case_month_first_id` in migration 0002, which
tests/test_partitions.py holds this to."""
LEGACY_END = 1 << MONTH_SHIFT
"""Ids below this were drawn before partitioning; they carry no month."""
_DAY = re.compile(r"-(\d{4})(\d{2})\d{2}-\d+$")

LOCK_TIMEOUT = "2s"
"""Making a partition locks `cases` for a moment; a lock request that waits makes every
registration queue behind it, so it gives up at once and the next hour tries again."""


async def ensure_ahead(session: AsyncSession, *, now: datetime, months: int = MONTHS_AHEAD) -> int:
    """The partitions from `now`'s month to `months` later that did not exist; how many made."""
    await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    made = await session.scalar(
        text("SELECT ensure_case_partitions(:at, :ahead)"), {"at": now, "ahead": months}
    )
    return int(made or 0)


async def in_default(session: AsyncSession) -> int:
    """Cases whose month had no partition when they were registered (0 unless the job failed
    for months): cheap to count, because the DEFAULT partition is empty when all is well."""
    return int(await session.scalar(text("SELECT count(*) FROM cases_default")) or 0)


def first_id(day: date) -> int:
    """The first id of `day`'s month (a Shanghai calendar day, as in the case number)."""
    return (day.year * 12 + day.month - 1) << MONTH_SHIFT


def month_start(case_no: str) -> int | None:
    """The first id of the month the number names; None when it does not have the usual shape."""
    found = _DAY.search(case_no)
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    if not (1 <= year <= 9999 and 1 <= month <= 12):
        return None
    return first_id(date(year, month, 1))


def in_month(lo: ColumnElement[int] | int) -> ColumnElement[bool]:
    """The ids of the month starting at `lo` (and of the cases from before partitioning): with a
    look-up by case number, the condition that keeps it to the partition of the month in the
    number, so it reads one month's index, not every month's. `lo` is a bound parameter in the
    look-ups built once (`services.case.repository`)."""
    return or_(Case.id < LEGACY_END, and_(Case.id >= lo, Case.id < lo + LEGACY_END))

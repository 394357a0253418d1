"""整改 in the monthly report: what was opened, done, verified and found late in the month, and
how often the problems recurred after being fixed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.department import repository as departments
from services.rectification import recurrence
from services.rectification.responses import RectificationFigures, RectificationMonthRow
from shared.models import Rectification
from shared.timeutil import shanghai_iso


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


async def month(
    session: AsyncSession,
    month: str,
    start: datetime | None,
    end: datetime | None,
    units: frozenset[str] | None = None,
) -> RectificationFigures:
    """`start` … `end` (exclusive): the month's Shanghai bounds; `units`: those owned in a
    unit's subtree."""
    if start is None or end is None:
        raise ValueError("a month has both bounds")
    stmt = select(Rectification).where(
        Rectification.created_at < end,
        or_(Rectification.verified_at.is_(None), Rectification.verified_at >= start),
    )
    if units is not None:
        stmt = stmt.where(Rectification.department.in_(sorted(units)))
    found = list(await session.scalars(stmt.order_by(Rectification.id)))
    names = await departments.names(session, (r.department for r in found))
    rows = [
        RectificationMonthRow(
            id=r.id,
            title=r.title,
            department=r.department,
            department_name=names.get(r.department),
            status=r.status,
            due_at=shanghai_iso(r.due_at),
            done_at=shanghai_iso(r.done_at),
            verified_at=shanghai_iso(r.verified_at),
            overdue_at=shanghai_iso(r.overdue_at),
            recurred=await recurrence.in_month(session, r.topic, r.done_at, month),
        )
        for r in found
    ]
    return RectificationFigures(
        opened=sum(_within(r.created_at, start, end) for r in found),
        done=sum(_within(r.done_at, start, end) for r in found),
        verified=sum(_within(r.verified_at, start, end) for r in found),
        overdue=sum(_within(r.overdue_at, start, end) for r in found),
        recurred=sum(row.recurred for row in rows),
        items=rows,
    )

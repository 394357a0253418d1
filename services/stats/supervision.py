"""督办与提级 in figures: orders by how they stand and escalations by level and reason, per
department, for a period (Shanghai days of issue) and a unit's subtree. Orders and escalations
are few next to cases (a handful a department a week), so they are counted from their own
tables through their time indexes, not from a rollup."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.department import repository as departments
from services.stats.responses import (
    DepartmentSupervision,
    LevelCount,
    OrderCounts,
    ReasonCount,
    SupervisionFigures,
)
from services.stats.service import Period, rate
from shared.enums import EscalationReason, Level, SupervisionStatus
from shared.models import Case, Escalation, Supervision


def _within(stmt: Select[Any], moment: Any, department: Any, period: Period) -> Select[Any]:
    stmt = stmt.where(*period.during(moment))
    if period.district:
        stmt = stmt.where(Case.district == period.district)
    if period.units is not None:
        stmt = stmt.where(department.in_(sorted(period.units)))
    return stmt


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


ANSWERED = Supervision.status == SupervisionStatus.answered.value
ON_TIME = and_(ANSWERED, Supervision.answered_at <= Supervision.due_at)


def _counts(issued: int, on_time: int, late: int, still_open: int, overdue: int) -> dict[str, Any]:
    return {
        "issued": issued,
        "answered_on_time": on_time,
        "answered_late": late,
        "open": still_open,
        "overdue": overdue,
        "on_time_rate": rate(on_time, issued),
    }


async def figures(session: AsyncSession, period: Period) -> SupervisionFigures:
    orders = _within(
        select(
            Supervision.department,
            func.count(),
            _count(ON_TIME),
            _count(and_(ANSWERED, Supervision.answered_at > Supervision.due_at)),
            _count(Supervision.status == SupervisionStatus.open.value),
            _count(Supervision.status == SupervisionStatus.overdue.value),
        )
        .join(Case, Case.id == Supervision.case_id)
        .group_by(Supervision.department),
        Supervision.issued_at,
        Supervision.department,
        period,
    )
    per_department = {row[0]: row[1:] for row in (await session.execute(orders)).tuples()}
    raised = _within(
        select(Escalation.department, Escalation.level, Escalation.reason, func.count())
        .join(Case, Case.id == Escalation.case_id)
        .group_by(Escalation.department, Escalation.level, Escalation.reason),
        Escalation.at,
        Escalation.department,
        period,
    )
    by_department: Counter[str | None] = Counter()
    by_level: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for department, level, reason, n in (await session.execute(raised)).tuples():
        by_department[department] += n
        by_level[level] += n
        by_reason[reason] += n
    codes = sorted({*per_department, *(d for d in by_department if d)})
    names = await departments.names(session, codes)
    rows = [
        DepartmentSupervision(
            department=code,
            name=names.get(code),
            escalations=by_department[code],
            **_counts(*per_department.get(code, (0, 0, 0, 0, 0))),
        )
        for code in codes
    ]
    totals = [sum(v[i] for v in per_department.values()) for i in range(5)]
    return SupervisionFigures(
        orders=OrderCounts(**_counts(*totals)),
        escalations=sum(by_level.values()),
        by_level=[LevelCount(level=lv.value, count=by_level[lv.value]) for lv in Level],
        by_reason=[ReasonCount(reason=r.value, count=by_reason[r.value]) for r in EscalationReason],
        departments=rows,
    )

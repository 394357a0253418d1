"""The figures the centres publish (DOMAIN.md, "What the figures are"), as aggregate queries.

Definitions, so every dashboard and report means the same thing:
- received: cases registered in the period (Shanghai dates, inclusive);
- resolved on the spot: the window solved it at once (it has a resolution note);
- out of scope: explained and referred;
- followed up: handed to a department (it has a lead department);
  followed up and resolved: of those, replied or closed;
- closed on time: of the cases replied with a handling deadline, replied by the deadline;
- satisfaction: satisfied or basically satisfied, of the cases rated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.case.repository import OPEN_STATUSES
from services.sla.cards import BASE_SCORE
from shared.enums import CaseStatus
from shared.models import Card, Case, Department
from shared.timeutil import SHANGHAI


@dataclass(frozen=True)
class Period:
    date_from: date | None = None
    date_to: date | None = None
    district: str | None = None

    def where(self, stmt: Select[Any]) -> Select[Any]:
        if self.date_from:
            stmt = stmt.where(
                Case.created_at >= datetime.combine(self.date_from, time.min, SHANGHAI)
            )
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time.min, SHANGHAI)
            stmt = stmt.where(Case.created_at < end)
        if self.district:
            stmt = stmt.where(Case.district == self.district)
        return stmt

    def months(self) -> tuple[str | None, str | None]:
        return (
            self.date_from.strftime("%Y-%m") if self.date_from else None,
            self.date_to.strftime("%Y-%m") if self.date_to else None,
        )


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _count(condition: Any) -> Any:
    return func.count().filter(condition)


REPLIED = Case.replied_at.is_not(None)
ON_TIME = and_(REPLIED, Case.handle_due_at.is_not(None), Case.replied_at <= Case.handle_due_at)
TIMED = and_(REPLIED, Case.handle_due_at.is_not(None))
GOOD = Case.satisfaction.in_(["satisfied", "basically_satisfied"])
OPEN = Case.status.in_([s.value for s in OPEN_STATUSES])


async def summary(session: AsyncSession, period: Period) -> dict[str, Any]:
    row = (
        await session.execute(
            period.where(
                select(
                    func.count(),
                    _count(Case.resolution_note.is_not(None)),
                    _count(Case.referred_to.is_not(None)),
                    _count(OPEN),
                    _count(Case.status == CaseStatus.closed.value),
                    _count(ON_TIME),
                    _count(TIMED),
                    _count(GOOD),
                    _count(Case.satisfaction.is_not(None)),
                    _count(Case.lead_department.is_not(None)),
                    _count(and_(Case.lead_department.is_not(None), REPLIED)),
                    func.coalesce(func.sum(Case.repeat_count), 0),
                )
            )
        )
    ).one()
    (
        received,
        on_spot,
        out_of_scope,
        in_progress,
        closed,
        on_time,
        timed,
        good,
        rated,
        followed,
        followed_resolved,
        repeats,
    ) = (int(v) for v in row)
    return {
        "received": received,
        "resolved_on_spot": on_spot,
        "resolved_on_spot_rate": _rate(on_spot, received),
        "out_of_scope": out_of_scope,
        "in_progress": in_progress,
        "closed": closed,
        "closed_on_time": on_time,
        "closed_on_time_rate": _rate(on_time, timed),
        "satisfaction_rate": _rate(good, rated),
        "rated": rated,
        "followed_up": followed,
        "followed_up_resolved": followed_resolved,
        "repeats": repeats,
    }


async def departments(session: AsyncSession, period: Period) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            period.where(
                select(
                    Case.lead_department, func.count(), _count(ON_TIME), _count(TIMED), _count(OPEN)
                )
                .where(Case.lead_department.is_not(None))
                .group_by(Case.lead_department)
            )
        )
    ).all()
    first, last = period.months()
    cards = select(
        Card.department,
        _count(Card.colour == "yellow"),
        _count(Card.colour == "red"),
        func.coalesce(func.sum(case((Card.status != "revoked", Card.points), else_=0)), 0),
    ).group_by(Card.department)
    if first:
        cards = cards.where(Card.month >= first)
    if last:
        cards = cards.where(Card.month <= last)
    card_rows = {d: (int(y), int(r), int(p)) for d, y, r, p in (await session.execute(cards)).all()}
    names = dict((await session.execute(select(Department.code, Department.name))).tuples().all())
    out = []
    for code in sorted({r[0] for r in rows} | set(card_rows)):
        counts = next((r for r in rows if r[0] == code), (code, 0, 0, 0, 0))
        yellow, red, points = card_rows.get(code, (0, 0, 0))
        out.append(
            {
                "department": code,
                "name": names.get(code),
                "cases": int(counts[1]),
                "in_progress": int(counts[4]),
                "on_time_rate": _rate(int(counts[2]), int(counts[3])),
                "yellow": yellow,
                "red": red,
                "deducted": points,
                "score": BASE_SCORE - points,
            }
        )
    return out


async def categories(session: AsyncSession, period: Period) -> list[dict[str, Any]]:
    """Top blockage categories, most cases first (uncategorised last)."""
    rows = (
        await session.execute(
            period.where(
                select(
                    Case.category,
                    func.count(),
                    _count(OPEN),
                    _count(Case.resolution_note.is_not(None)),
                ).group_by(Case.category)
            )
        )
    ).all()
    ordered = sorted(rows, key=lambda r: (r[0] is None, -int(r[1]), r[0] or ""))
    return [
        {"category": c, "cases": int(n), "in_progress": int(o), "resolved_on_spot": int(s)}
        for c, n, o, s in ordered
    ]


async def trend(session: AsyncSession, period: Period) -> list[dict[str, Any]]:
    """Cases received and resolved on the spot per Shanghai day."""
    day = func.date(func.timezone("Asia/Shanghai", Case.created_at))
    rows = (
        await session.execute(
            period.where(
                select(
                    day, func.count(), _count(Case.resolution_note.is_not(None)), _count(REPLIED)
                )
                .group_by(day)
                .order_by(day)
            )
        )
    ).all()
    return [
        {"date": d.isoformat(), "received": int(n), "resolved_on_spot": int(s), "replied": int(r)}
        for d, n, s, r in rows
    ]

"""The figures the centres publish (DOMAIN.md, "What the figures are"), as aggregate queries.

Definitions, so every dashboard and report means the same thing:
- received: cases registered in the period (Shanghai dates, inclusive);
- resolved on the spot: the window solved it at once (it has a resolution note);
- out of scope: explained and referred;
- followed up: handed to a department (it has a lead department);
  followed up and resolved: of those, replied or closed;
- closed on time: of the cases replied with a handling deadline, replied by the deadline;
- satisfaction (满意率): very satisfied, satisfied or basically satisfied, of the cases rated;
  shown raw and with the unsatisfied ratings whose answer was upheld (不满意甄别) set aside;
- response (响应率): of the cases whose sign clock ended, signed by the deadline;
- resolution (解决率): of the applicants who said whether the matter was solved, those who said
  it was;
- rating response: of the cases asked to rate (answered, or settled at the window), those the
  applicant rated (by SMS or at the window) rather than leaving them to close by themselves.

The counting itself lives in `rollup.MEASURES`; these functions sum it over the period from the
daily rollups (see rollup.py for why that is exact), so all-time figures over a million cases
cost a few thousand rollup rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Subquery

from services.case.categories import label as category_label
from services.department import tree
from services.sla.cards import BASE_SCORE
from services.stats import rollup
from services.stats.responses import CategoryFigures, DayFigures, DepartmentFigures, Summary
from shared.models import Assist, Card, Case, Department
from shared.principal import Principal
from shared.timeutil import SHANGHAI


@dataclass(frozen=True)
class Period:
    date_from: date | None = None
    date_to: date | None = None
    district: str | None = None
    units: frozenset[str] | None = None
    """层级: a unit's figures are those of the cases its subtree leads; None: the city's."""

    def during(self, moment: Any) -> list[ColumnElement[bool]]:
        """The period's Shanghai days as conditions on a moment (a case's creation, an order's
        issue, a reply's submission)."""
        start, end = self.bounds()
        found: list[ColumnElement[bool]] = []
        if start:
            found.append(moment >= start)
        if end:
            found.append(moment < end)
        return found

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The first moment of the period and the first after it (None: open-ended)."""
        return (
            datetime.combine(self.date_from, time.min, SHANGHAI) if self.date_from else None,
            (
                datetime.combine(self.date_to + timedelta(days=1), time.min, SHANGHAI)
                if self.date_to
                else None
            ),
        )

    def where(self, stmt: Select[Any]) -> Select[Any]:
        stmt = stmt.where(*self.during(Case.created_at))
        if self.district:
            stmt = stmt.where(Case.district == self.district)
        if self.units is not None:
            stmt = stmt.where(Case.lead_department.in_(sorted(self.units)))
        return stmt

    def figures(self, breakdown: rollup.Breakdown) -> Subquery:
        """A unit's summary and trend are summed from the rollup by lead department, which
        holds every measure per day as the daily one does."""
        if self.units is not None and breakdown is rollup.BY_DAY:
            breakdown = rollup.BY_DEPARTMENT
        return rollup.combined(breakdown, self.date_from, self.date_to, self.district, self.units)

    def months(self) -> tuple[str | None, str | None]:
        return (
            self.date_from.strftime("%Y-%m") if self.date_from else None,
            self.date_to.strftime("%Y-%m") if self.date_to else None,
        )


def rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


async def summary(session: AsyncSession, period: Period) -> Summary:
    figures = period.figures(rollup.BY_DAY)
    row = (await session.execute(select(*rollup.totals(figures)))).one()
    n = {name: int(value) for name, value in row._mapping.items()}
    return Summary(
        received=n["received"],
        matters=n["received"] - n["merged"],
        merged=n["merged"],
        resolved_on_spot=n["on_spot"],
        resolved_on_spot_rate=rate(n["on_spot"], n["received"]),
        out_of_scope=n["out_of_scope"],
        in_progress=n["in_progress"],
        closed=n["closed"],
        closed_on_time=n["on_time"],
        closed_on_time_rate=rate(n["on_time"], n["timed"]),
        satisfaction_rate=rate(n["good"], n["rated"]),
        satisfaction_rate_upheld_aside=rate(n["good"], n["rated"] - n["upheld"]),
        upheld=n["upheld"],
        response_rate=rate(n["responded"], n["response_due"]),
        responded=n["responded"],
        response_due=n["response_due"],
        resolution_rate=rate(n["solved"], n["solve_asked"]),
        solved=n["solved"],
        solve_asked=n["solve_asked"],
        rated=n["rated"],
        asked_to_rate=n["asked"],
        rating_response_rate=rate(n["rated"], n["asked"]),
        followed_up=n["followed"],
        followed_up_resolved=n["followed_resolved"],
        repeats=n["repeats"],
    )


async def departments(session: AsyncSession, period: Period) -> list[DepartmentFigures]:
    figures = period.figures(rollup.BY_DEPARTMENT)
    dept = figures.c.lead_department
    rows = {
        r.lead_department: r
        for r in (
            await session.execute(
                select(dept, *rollup.totals(figures)).where(dept.is_not(None)).group_by(dept)
            )
        ).all()
    }
    first, last = period.months()
    cards = select(
        Card.department,
        func.count().filter(Card.colour == "yellow"),
        func.count().filter(Card.colour == "red"),
        func.coalesce(func.sum(case((Card.status != "revoked", Card.points), else_=0)), 0),
    ).group_by(Card.department)
    if first:
        cards = cards.where(Card.month >= first)
    if last:
        cards = cards.where(Card.month <= last)
    if period.units is not None:
        cards = cards.where(Card.department.in_(sorted(period.units)))
    card_rows = {d: (int(y), int(r), int(p)) for d, y, r, p in (await session.execute(cards)).all()}
    # 协办: a co-department helped with the period's cases though it led none of them.
    helped_stmt = (
        select(Assist.department, func.count())
        .join(Case, Case.id == Assist.case_id)
        .where(*period.during(Case.created_at))
        .group_by(Assist.department)
    )
    if period.district:
        helped_stmt = helped_stmt.where(Case.district == period.district)
    if period.units is not None:  # the unit's departments as helpers, whoever led the case
        helped_stmt = helped_stmt.where(Assist.department.in_(sorted(period.units)))
    helped = dict((await session.execute(helped_stmt)).tuples().all())
    names = dict((await session.execute(select(Department.code, Department.name))).tuples().all())
    out = []
    for code in sorted(set(rows) | set(card_rows) | set(helped)):
        row = rows.get(code)
        yellow, red, points = card_rows.get(code, (0, 0, 0))
        out.append(
            DepartmentFigures(
                department=code,
                name=names.get(code),
                cases=int(row.received) if row else 0,
                assists=int(helped.get(code, 0)),
                in_progress=int(row.in_progress) if row else 0,
                on_time_rate=rate(int(row.on_time), int(row.timed)) if row else None,
                response_rate=rate(int(row.responded), int(row.response_due)) if row else None,
                resolution_rate=rate(int(row.solved), int(row.solve_asked)) if row else None,
                satisfaction_rate=rate(int(row.good), int(row.rated)) if row else None,
                satisfaction_rate_upheld_aside=(
                    rate(int(row.good), int(row.rated) - int(row.upheld)) if row else None
                ),
                yellow=yellow,
                red=red,
                deducted=points,
                score=BASE_SCORE - points,
            )
        )
    return out


async def categories(session: AsyncSession, period: Period) -> list[CategoryFigures]:
    """Top blockage categories, most cases first (uncategorised last)."""
    figures = period.figures(rollup.BY_CATEGORY)
    category = figures.c.category
    rows = (
        await session.execute(select(category, *rollup.totals(figures)).group_by(category))
    ).all()
    ordered = sorted(rows, key=lambda r: (r.category is None, -int(r.received), r.category or ""))
    return [
        CategoryFigures(
            category=r.category,
            label=category_label(r.category),
            cases=int(r.received),
            in_progress=int(r.in_progress),
            resolved_on_spot=int(r.on_spot),
        )
        for r in ordered
    ]


async def trend(session: AsyncSession, period: Period) -> list[DayFigures]:
    """Cases received, resolved on the spot and replied, per Shanghai day of registration."""
    figures = period.figures(rollup.BY_DAY)
    day = figures.c.day
    rows = (
        await session.execute(select(day, *rollup.totals(figures)).group_by(day).order_by(day))
    ).all()
    return [
        DayFigures(
            date=r.day.isoformat(),
            received=int(r.received),
            resolved_on_spot=int(r.on_spot),
            replied=int(r.replied),
        )
        for r in rows
    ]


async def cases_by_status(session: AsyncSession) -> dict[str, int]:
    """Every case by its current status, all time: the /metrics gauge, from the rollups."""
    figures = rollup.combined(rollup.BY_STATUS)
    status = figures.c.status
    rows = await session.execute(
        select(status, func.coalesce(func.sum(figures.c.received), 0)).group_by(status)
    )
    return {s: int(n) for s, n in rows.tuples()}


async def dirty_days(session: AsyncSession) -> int:
    """Days waiting for the fold: near zero while a worker runs; a backlog means none does."""
    figures = rollup.DIRTY_DAYS
    return int(await session.scalar(select(func.cardinality(figures))) or 0)


async def for_reader(
    session: AsyncSession, period: Period, reader: Principal, unit: str | None
) -> Period:
    """The period as `reader` may see it (`units_for`)."""
    return replace(period, units=await units_for(session, reader, unit))


async def units_for(
    session: AsyncSession, reader: Principal, unit: str | None
) -> frozenset[str] | None:
    """Whose figures `reader` reads (`tree.scope`)."""
    return await tree.scope(session, reader, unit)

"""What /metrics shows of the service's state, read in one place: the edge only sets gauges from
it. Each figure is one cheap probe (a rollup sum, an index range, an empty partition's count),
and /metrics reads them at most every GAUGES_TTL seconds whatever scrapes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.case import partitions
from services.case.lifecycle import OPEN
from services.clock import years
from services.outbox import service as outbox
from services.sla.sweep import lag_seconds
from services.stats.service import cases_by_status, dirty_days
from shared.models import Card, Case
from shared.timeutil import SHANGHAI, to_shanghai


@dataclass(frozen=True)
class Gauges:
    cases_by_status: dict[str, int]
    overdue: int
    """Open cases past their handling deadline."""
    calendar_known_until: float
    """The first instant (epoch seconds) of the first year the calendar does not know."""
    outbox_backlog: dict[str, int]
    outbox_oldest_retrying: dict[str, float]
    sweep_lag_seconds: float
    stats_dirty_days: int
    cases_in_default_partition: int
    cards_this_month: dict[str, int]
    """Standing cards of the Shanghai month, by colour."""


async def read(session: AsyncSession, now: datetime) -> Gauges:
    unknown = (await years.load(session)).first_unknown_year(to_shanghai(now).year)
    return Gauges(
        cases_by_status=await cases_by_status(session),
        overdue=await overdue(session, now),
        calendar_known_until=datetime(unknown, 1, 1, tzinfo=SHANGHAI).timestamp(),
        outbox_backlog=await outbox.backlog(session),
        outbox_oldest_retrying=await outbox.oldest_retrying(session),
        sweep_lag_seconds=await lag_seconds(session, now),
        stats_dirty_days=await dirty_days(session),
        cases_in_default_partition=await partitions.in_default(session),
        cards_this_month=await cards_in_month(session, to_shanghai(now).strftime("%Y-%m")),
    )


async def overdue(session: AsyncSession, now: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.status.in_([s.value for s in OPEN]),
            Case.handle_due_at.is_not(None),
            Case.handle_due_at < now,
        )
    )
    return int(count or 0)


async def cards_in_month(session: AsyncSession, month: str) -> dict[str, int]:
    rows = await session.execute(
        select(Card.colour, func.count())
        .where(Card.month == month, Card.status != "revoked")
        .group_by(Card.colour)
    )
    return {colour: int(n) for colour, n in rows.tuples()}

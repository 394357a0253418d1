"""Running sweep batches until nothing is due, one transaction a batch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import years
from services.rectification import sweep as rectifications
from services.sla import assists
from services.sla.sweep import SweepResult, sweep_batch
from services.supervision.sweep import overdue_batch
from shared.database import transaction

Batch = Callable[..., Awaitable[int]]
LATE: tuple[tuple[str, Batch], ...] = (
    ("orders_overdue", overdue_batch),  # 督办单 left unanswered past their time
    ("assists_overdue", assists.overdue_batch),  # 协办 opinions owed past their time
    ("rectifications_overdue", rectifications.overdue_batch),  # 整改 undone past its time
)
"""What else falls due besides the cases' own deadlines, each a batch of its own rows, and the
`SweepResult` field that counts it."""


async def run_sweep(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime, batch: int = 500
) -> SweepResult:
    """Case batches until one comes back short; the other rows due by `now` (`LATE`) are looked
    at in that last batch's transaction (an idle sweep is one transaction, an index probe each),
    then in batches of their own while there are more."""
    total = SweepResult()
    while True:
        async with transaction(sessionmaker) as session:
            calendar = await years.load(session)
            result = await sweep_batch(session, now=now, calendar=calendar, batch=batch)
            last = result.cases < batch
            found = {
                name: await late(session, now=now, batch=batch) if last else 0
                for name, late in LATE
            }
        for name in (
            "cases",
            "warnings",
            "yellow",
            "red",
            "closed",
            "escalations",
            "reviews_lapsed",
        ):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        if last:
            break
    for name, late in LATE:
        setattr(total, name, found[name])
        while found[name] == batch:
            async with transaction(sessionmaker) as session:
                found[name] = await late(session, now=now, batch=batch)
            setattr(total, name, getattr(total, name) + found[name])
    return total

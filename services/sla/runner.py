"""Running sweep batches until nothing is due, one transaction a batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import years
from services.sla import assists
from services.sla.sweep import SweepResult, sweep_batch
from services.supervision.sweep import overdue_batch
from shared.database import transaction


async def run_sweep(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime, batch: int = 500
) -> SweepResult:
    """Case batches until one comes back short; the open 督办单 due by `now` are looked at in
    that last batch's transaction, and so are the 协办 opinions owed past their time (an idle
    sweep is one transaction, three index probes), then in batches of their own while there are
    more."""
    total = SweepResult()
    while True:
        async with transaction(sessionmaker) as session:
            calendar = await years.load(session)
            result = await sweep_batch(session, now=now, calendar=calendar, batch=batch)
            last = result.cases < batch
            found = await overdue_batch(session, now=now, batch=batch) if last else 0
            owed = await assists.overdue_batch(session, now=now, batch=batch) if last else 0
        for name in ("cases", "warnings", "yellow", "red", "closed", "escalations"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        total.orders_overdue += found
        total.assists_overdue += owed
        if last:
            break
    while found == batch:  # more 督办单 left unanswered past their time
        async with transaction(sessionmaker) as session:
            found = await overdue_batch(session, now=now, batch=batch)
        total.orders_overdue += found
    while owed == batch:  # more 协办 opinions owed past their time
        async with transaction(sessionmaker) as session:
            owed = await assists.overdue_batch(session, now=now, batch=batch)
        total.assists_overdue += owed
    return total

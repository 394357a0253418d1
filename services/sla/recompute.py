"""When operators load or correct a calendar year, the open cases it touches get their deadlines
again, derived from their own history with the new calendar by the same calculator every action
uses (`services/case/timeline.py`). A case whose deadline could not be set (year unknown) gets
one now."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.case import timeline
from services.case.history import note
from services.case.lifecycle import HAS_DEADLINES
from services.case.repository import history
from services.case.routing_record import routing_of
from services.clock.calendar import CalendarUnknown, WorkCalendar
from shared.enums import Note
from shared.models import Case
from shared.principal import SYSTEM
from shared.timeutil import SHANGHAI

DEADLINES = ("sign_due_at", "sign_warn_at", "handle_due_at", "handle_warn_at")


async def recompute_year(session: AsyncSession, year: int, cal: WorkCalendar) -> int:
    """Recompute the open cases `year` can affect; returns how many changed."""
    year_start = datetime(year, 1, 1, tzinfo=SHANGHAI) - timedelta(days=1)
    open_statuses = [s.value for s in HAS_DEADLINES]
    cases = (
        (
            await session.execute(
                select(Case)
                .where(
                    Case.status.in_(open_statuses),
                    or_(Case.handle_due_at >= year_start, Case.handle_due_at.is_(None)),
                    Case.routing.is_not(None),
                )
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    changed = 0
    for case in cases:
        routing = routing_of(case)
        if routing.policy is None:
            continue
        try:
            due = timeline.derive(await history(session, case.id), routing.policy, cal)
        except CalendarUnknown:
            continue
        before = (case.sign_due_at, case.sign_warn_at, case.handle_due_at, case.handle_warn_at)
        timeline.apply(case, due)
        after = (case.sign_due_at, case.sign_warn_at, case.handle_due_at, case.handle_warn_at)
        if before == after and not routing.deadline_alert:
            continue
        case.routing = routing.changed(deadline_alert=None).stored()
        clock = dict(zip(DEADLINES, after, strict=True))
        note(
            session,
            case,
            action=Note.deadlines_recomputed,
            actor=SYSTEM,
            reason=f"calendar {year} changed",
            data={k: v.isoformat() if v else None for k, v in clock.items()},
        )
        changed += 1
    return changed

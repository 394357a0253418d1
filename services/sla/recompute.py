"""When operators load or correct a calendar year, the open cases it touches get their deadlines
again, rebuilt from their own history with the new calendar: the clock starts at the last
routing, assignment or reopening; each suspension (suspend → resume) is measured again; each
approved extension is added again. A case whose deadline could not be set (year unknown)
gets one now."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.case.history import record
from services.case.repository import history
from services.case.routing_record import routing_of
from services.case.schedule import CLOCK_RUNNING, reschedule
from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.clock.policy import share
from services.rules.schemas import SlaPolicy
from shared.durations import Duration, parse_duration
from shared.enums import CaseStatus
from shared.models import Case, CaseEvent
from shared.principal import SYSTEM
from shared.timeutil import SHANGHAI

STARTS = ("route", "assign", "feedback_unsatisfied")


def _clock(
    case: Case, events: list[CaseEvent], policy: SlaPolicy, cal: WorkCalendar
) -> dict[str, Any]:
    """Deadlines as the case's history implies them under `cal`. Raises CalendarUnknown."""
    begin = max((i for i, e in enumerate(events) if e.action in STARTS), default=None)
    if begin is None:
        return {}
    start = events[begin].at
    sign_from = start
    handle = deadlines.add(start, policy.handle_within, cal)
    warn = deadlines.add(start, share(policy.handle_within, policy.warn_at), cal)
    suspended_at: datetime | None = None
    for event in events[begin + 1 :]:
        if event.action == "transfer":
            sign_from = event.at
        elif event.action == "suspend":
            suspended_at = event.at
        elif event.action == "resume" and suspended_at is not None:
            if policy.handle_within.is_working:
                hours = deadlines.working_seconds_between(suspended_at, event.at, cal) / 3600
                if hours:
                    handle = deadlines.add(handle, Duration(hours, "working_hours"), cal)
                    warn = deadlines.add(warn, Duration(hours, "working_hours"), cal)
            else:
                handle += event.at - suspended_at
                warn += event.at - suspended_at
            suspended_at = None
        elif event.action == "extension_approved":
            handle = deadlines.add(handle, parse_duration(event.data["extend_by"]), cal)
    return {
        "sign_due_at": deadlines.add(sign_from, policy.sign_within, cal),
        "sign_warn_at": deadlines.add(sign_from, share(policy.sign_within, policy.warn_at), cal),
        "handle_due_at": handle,
        "handle_warn_at": warn,
    }


async def recompute_year(session: AsyncSession, year: int, cal: WorkCalendar) -> int:
    """Recompute the open cases `year` can affect; returns how many changed."""
    year_start = datetime(year, 1, 1, tzinfo=SHANGHAI) - timedelta(days=1)
    open_statuses = [s.value for s in (*CLOCK_RUNNING, CaseStatus.suspended)]
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
            clock = _clock(case, await history(session, case.id), routing.policy, cal)
        except CalendarUnknown:
            continue
        if not clock:
            continue
        if case.status != CaseStatus.assigned:
            clock.pop("sign_due_at"), clock.pop("sign_warn_at")
        before = {k: getattr(case, k) for k in clock}
        if before == clock and not routing.deadline_alert:
            continue
        for key, value in clock.items():
            setattr(case, key, value)
        case.routing = routing.changed(deadline_alert=None).stored()
        reschedule(case)
        record(
            session,
            case,
            action="deadlines_recomputed",
            actor=SYSTEM,
            from_status=case.status,
            reason=f"calendar {year} changed",
            data={k: v.isoformat() if v else None for k, v in clock.items()},
        )
        changed += 1
    return changed

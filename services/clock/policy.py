"""Deadlines from an SLA policy; which policy a case gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.rules.schemas import RuleTable, SlaPolicy
from shared.durations import Duration
from shared.metrics import DEADLINE_ALERTS

log = structlog.get_logger("gaodedim.clock")


@dataclass(frozen=True)
class Deadlines:
    sign_due_at: datetime | None
    handle_due_at: datetime | None
    alert: str | None = None
    sign_warn_at: datetime | None = None
    handle_warn_at: datetime | None = None
    """Why a deadline could not be set (a calendar year not loaded): shown, never guessed."""


def deadlines_for(policy: SlaPolicy, start: datetime, calendar: WorkCalendar) -> Deadlines:
    try:
        return Deadlines(
            deadlines.add(start, policy.sign_within, calendar),
            deadlines.add(start, policy.handle_within, calendar),
            sign_warn_at=deadlines.add(start, share(policy.sign_within, policy.warn_at), calendar),
            handle_warn_at=deadlines.add(
                start, share(policy.handle_within, policy.warn_at), calendar
            ),
        )
    except CalendarUnknown as exc:
        DEADLINE_ALERTS.inc()
        log.warning("deadline_calendar_unknown", year=exc.year)
        return Deadlines(None, None, alert=str(exc))


def share(duration: Duration, share: float) -> Duration:
    """`share` of a duration, in the same kind of time (80% of 5 working days is 4 of them)."""
    return Duration(duration.amount * share, duration.unit)


def choose(
    table: RuleTable,
    name: str | None,
    *,
    urgent: bool,
    vulnerable: bool,
    start: datetime,
    calendar: WorkCalendar,
) -> tuple[str | None, Deadlines]:
    """The rule's policy, unless the case is urgent or vulnerable and that policy ends sooner
    (green channel, 急事急办). With no rule policy, `standard` if the table has one."""
    if name is None and "standard" in table.sla_policies:
        name = "standard"
    candidates = [name] if name in table.sla_policies else []
    if urgent and "urgent" in table.sla_policies:
        candidates.append("urgent")
    if vulnerable and "vulnerable" in table.sla_policies:
        candidates.append("vulnerable")
    if not candidates:
        return None, Deadlines(None, None, alert="no SLA policy applies")
    best: tuple[str, Deadlines] | None = None
    for candidate in candidates:
        due = deadlines_for(table.sla_policies[candidate], start, calendar)
        if best is None or (
            due.handle_due_at is not None
            and (best[1].handle_due_at is None or due.handle_due_at < best[1].handle_due_at)
        ):
            best = (candidate, due)
    assert best is not None
    return best

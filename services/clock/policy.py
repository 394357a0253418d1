"""Deadlines from an SLA policy; which policy a case gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.routing.schemas import RuleTable, SlaPolicy


@dataclass(frozen=True)
class Deadlines:
    sign_due_at: datetime | None
    handle_due_at: datetime | None
    alert: str | None = None
    """Why a deadline could not be set (a calendar year not loaded): shown, never guessed."""


def deadlines_for(policy: SlaPolicy, start: datetime, calendar: WorkCalendar) -> Deadlines:
    try:
        return Deadlines(
            deadlines.add(start, policy.sign_within, calendar),
            deadlines.add(start, policy.handle_within, calendar),
        )
    except CalendarUnknown as exc:
        return Deadlines(None, None, alert=str(exc))


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

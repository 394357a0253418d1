"""提级: which of the rule table's escalation thresholds a case has crossed and not yet been
raised for. Pure: the sweep's plan and the case's next check read it; the escalation service
acts on it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from services.case.lifecycle import CLOCK_RUNNING, OPEN
from services.case.routing_record import RoutingRecord
from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.rules.schemas import EscalationPolicy
from shared.enums import CaseStatus, EscalationReason

COUNTERS: dict[EscalationReason, str] = {
    EscalationReason.reopened: "reopen_count",
    EscalationReason.transferred: "transfer_count",
    EscalationReason.returned: "return_count",
    EscalationReason.repeats: "repeat_count",
}
"""The thresholds that are counts, and the case's counter each reads."""


class Counted(Protocol):
    """What deciding a crossing reads: an ORM case, or the sweep's narrow row of one."""

    @property
    def status(self) -> str: ...
    @property
    def routing(self) -> dict[str, Any] | None: ...
    @property
    def reopen_count(self) -> int: ...
    @property
    def transfer_count(self) -> int: ...
    @property
    def return_count(self) -> int: ...
    @property
    def repeat_count(self) -> int: ...
    @property
    def escalated(self) -> Sequence[str] | None: ...
    @property
    def handle_due_at(self) -> datetime | None: ...


def policy_of(case: Counted) -> EscalationPolicy:
    """The thresholds of the version that routed the case; the defaults for one routed before
    the table had any (or not routed at all)."""
    return RoutingRecord.of(case.routing).escalation or EscalationPolicy()


def counted(case: Counted) -> list[EscalationReason]:
    """The count thresholds an open case (a returned one waiting for a coordinator too) has
    reached and was not yet raised for."""
    if CaseStatus(case.status) not in OPEN:
        return []
    policy, done = policy_of(case), set(case.escalated or ())
    found = []
    for reason, counter in COUNTERS.items():
        threshold: int | None = getattr(policy, reason.value)
        if reason in done or threshold is None:
            continue
        if getattr(case, counter) >= threshold:
            found.append(reason)
    return found


def overdue_at(case: Counted, calendar: WorkCalendar) -> datetime | None:
    """When a running case's handling is overdue by the threshold (none once raised for it,
    off, or a year the calendar does not know)."""
    policy = policy_of(case)
    if (
        CaseStatus(case.status) not in CLOCK_RUNNING
        or case.handle_due_at is None
        or policy.overdue is None
        or EscalationReason.overdue in (case.escalated or ())
    ):
        return None
    try:
        return deadlines.add(case.handle_due_at, policy.overdue, calendar)
    except CalendarUnknown:
        return None


def count_of(case: Counted, reason: EscalationReason) -> int | None:
    counter = COUNTERS.get(reason)
    return None if counter is None else int(getattr(case, counter))

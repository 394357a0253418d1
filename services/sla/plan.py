"""What a claimed case is due at a moment: its warnings and cards in the order they fall due,
the escalation thresholds it crossed, whether it closes, and when to look again. Pure: nothing
here reads or writes the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.case.crossings import counted, overdue_at
from services.case.lifecycle import AUTO_CLOSING, CLOCK_RUNNING, RATED_UNSATISFIED
from services.case.routing_record import routing_of
from services.case.schedule import auto_close_at
from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.rules.schemas import CardPolicy, SlaPolicy
from shared.enums import CaseStatus as S
from shared.enums import EscalationReason


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed case as the sweep reads it: the columns its plan, history and notices need,
    not the ORM object (a batch is hundreds of cases; only those that close are loaded whole).
    `reply` is never read: cards and warnings fall due only while the clock runs, never on a
    replied case."""

    id: int
    case_no: str
    tracking_code: str
    status: str
    lead_department: str | None
    first_responsible_department: str | None
    callback_url: str | None
    external_ref: str | None
    routing: dict[str, Any] | None
    replied_at: datetime | None
    updated_at: datetime
    sign_warn_at: datetime | None
    sign_due_at: datetime | None
    handle_warn_at: datetime | None
    handle_due_at: datetime | None
    reopen_count: int = 0
    transfer_count: int = 0
    return_count: int = 0
    repeat_count: int = 0
    escalated: list[str] | None = None
    rating_review_due_at: datetime | None = None
    reply: str | None = None


def policies(case: Due) -> tuple[SlaPolicy | None, CardPolicy]:
    routing = routing_of(case)
    return routing.policy, routing.card_policy or CardPolicy()


@dataclass
class Notice:
    """A warning or card a case is due, before it is known whether it was already issued."""

    case: Due
    kind: str  # "warning" or "card"
    deadline: str
    due: datetime
    colour: str | None = None
    points: int | None = None
    card_id: int | None = None
    issued: bool = False


@dataclass
class Plan:
    """What one claimed case is due now, and when the sweep must look at it next."""

    case: Due
    notices: list[Notice]
    closes: bool
    next_check: datetime | None
    reopens: bool = False
    """不满意甄别 left undecided past its time: the case is redone."""
    crossings: list[EscalationReason] = field(default_factory=list)
    """The escalation thresholds it crossed and was not yet raised for (提级)."""


def plan(case: Due, now: datetime, calendar: WorkCalendar) -> Plan:
    """What `case` is due at `now` (in the order it falls due), whether it closes, and when
    to look again. Pure: nothing is written here."""
    status = S(case.status)
    sla, cards = policies(case)
    future: list[datetime] = []
    notices: list[Notice] = []

    def due(point: datetime | None) -> bool:
        if point is None:
            return False
        if point > now:
            future.append(point)
            return False
        return True

    if status is S.assigned and case.sign_due_at is not None:
        if due(case.sign_warn_at):
            notices.append(Notice(case, "warning", "sign", case.sign_due_at))
        if due(case.sign_due_at):
            notices.append(
                Notice(case, "card", "sign", case.sign_due_at, "yellow", cards.yellow_points)
            )
    if status in CLOCK_RUNNING and case.handle_due_at is not None:
        handle_due = case.handle_due_at
        if due(case.handle_warn_at):
            notices.append(Notice(case, "warning", "handle", handle_due))
        if due(handle_due):
            notices.append(
                Notice(case, "card", "handle", handle_due, "yellow", cards.yellow_points)
            )
            if sla is not None:
                try:
                    red_at: datetime | None = deadlines.add(handle_due, sla.red_after, calendar)
                except CalendarUnknown:
                    red_at = None
                if due(red_at):
                    notices.append(
                        Notice(case, "card", "drag", handle_due, "red", cards.red_points)
                    )
    crossings = counted(case)
    if due(overdue_at(case, calendar)):
        crossings.append(EscalationReason.overdue)
    closes = status in AUTO_CLOSING and due(auto_close_at(case))
    reopens = status in RATED_UNSATISFIED and due(case.rating_review_due_at)
    next_check = None if closes or reopens or not future else min(future)
    return Plan(case, notices, closes, next_check, reopens, crossings)

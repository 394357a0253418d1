"""A case's deadlines as its own history implies them: the one calculator.

Every action that moves a deadline (routing, the coordinator's assignment, a transfer, a resume,
an approved extension, a reopening) records its event and then takes the deadlines this module
derives from the whole history; a calendar correction (`services/sla/recompute.py`) derives them
again the same way. So the live deadlines and the recomputed ones cannot drift apart
(`tests/test_timeline.py` drives random histories to show it).

The rules, in the order the events happened:
- `route` starts both clocks; `reopen` (重办, decided by 不满意甄别 or left undecided) starts the
  handling clock again, as `feedback_unsatisfied` did before the review existed (its events then
  carry no `review` mark; one that went to review starts nothing).
- `assign` (the coordinator) starts the signing clock for the new lead and keeps the handling
  clock running: re-assigning a case does not restart the citizen's wait. It starts the handling
  clock only when none runs yet.
- `transfer` starts the signing clock for the new lead; the handling clock keeps running.
- `merge` (并单) leaves the case's own deadlines aside while it follows a lead case (the live
  ones are cleared; nothing here changes); `unmerge` is an assignment: the signing clock starts,
  the handling clock its routing started runs on.
- `suspend` … `resume` moves the handling deadline and its warning by the time suspended
  (working time for a working-time policy, natural time otherwise).
- `extension_approved` moves the handling deadline and its warning by the extension.
Each clock is computed under the case's current SLA policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.case import repository
from services.case.routing_record import routing_of
from services.case.schedule import reschedule
from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.clock.policy import share
from services.rules.schemas import SlaPolicy
from shared.durations import Duration, parse_duration
from shared.enums import Action, CaseStatus, Note
from shared.models import Case

HANDLE_STARTS = frozenset({"route", "reopen"})
SIGN_STARTS = frozenset({"route", "assign", "transfer", "unmerge"})


class Happened(Protocol):
    @property
    def action(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def data(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Deadlines:
    sign_due_at: datetime | None = None
    sign_warn_at: datetime | None = None
    handle_due_at: datetime | None = None
    handle_warn_at: datetime | None = None


def _moved(moment: datetime | None, by: Duration, cal: WorkCalendar) -> datetime | None:
    return None if moment is None else deadlines.add(moment, by, cal)


def paused(since: datetime, until: datetime, policy: SlaPolicy, cal: WorkCalendar) -> Duration:
    """How far a suspension moves the handling clock, in the clock's own kind of time."""
    if policy.handle_within.is_working:
        seconds = deadlines.working_seconds_between(since, until, cal)
        return Duration(seconds / 3600, "working_hours")
    return Duration((until - since).total_seconds(), "seconds")


def derive(events: Sequence[Happened], policy: SlaPolicy, cal: WorkCalendar) -> Deadlines:
    """The deadlines `events` (a case's history, oldest first) imply under `policy` and `cal`.
    Raises CalendarUnknown when a deadline falls in a year the calendar does not know."""
    due = Deadlines()
    suspended_at: datetime | None = None
    for event in events:
        action = event.action
        if action in SIGN_STARTS:
            due = replace(
                due,
                sign_due_at=deadlines.add(event.at, policy.sign_within, cal),
                sign_warn_at=deadlines.add(
                    event.at, share(policy.sign_within, policy.warn_at), cal
                ),
            )
        if (
            action in HANDLE_STARTS
            or (action in (Action.assign, Action.unmerge) and due.handle_due_at is None)
            or (action == Action.feedback_unsatisfied and not event.data.get("review"))
        ):
            suspended_at = None
            due = replace(
                due,
                handle_due_at=deadlines.add(event.at, policy.handle_within, cal),
                handle_warn_at=deadlines.add(
                    event.at, share(policy.handle_within, policy.warn_at), cal
                ),
            )
        elif action == Action.suspend:
            suspended_at = event.at
        elif action == Action.resume and suspended_at is not None:
            by = paused(suspended_at, event.at, policy, cal)
            suspended_at = None
            if by.amount:
                due = replace(
                    due,
                    handle_due_at=_moved(due.handle_due_at, by, cal),
                    handle_warn_at=_moved(due.handle_warn_at, by, cal),
                )
        elif action == Note.extension_approved:
            by = parse_duration(event.data["extend_by"])
            due = replace(
                due,
                handle_due_at=_moved(due.handle_due_at, by, cal),
                handle_warn_at=_moved(due.handle_warn_at, by, cal),
            )
    return due


def apply(case: Case, due: Deadlines) -> None:
    """The derived deadlines on the case, and the case rescheduled. The signing ones only while
    it waits to be signed for: once signed (or returned, reopened) they are history, and the
    sweep no longer reads them."""
    if case.status == CaseStatus.assigned:
        case.sign_due_at, case.sign_warn_at = due.sign_due_at, due.sign_warn_at
    case.handle_due_at, case.handle_warn_at = due.handle_due_at, due.handle_warn_at
    reschedule(case)


async def follow(
    session: AsyncSession,
    case: Case,
    calendar: WorkCalendar,
    *,
    history: Sequence[Happened] | None = None,
) -> Deadlines | None:
    """After an action recorded its event: the case's deadlines from its whole history (read
    here, the new event flushed with it, unless the caller passes `history`). None when the
    case has no SLA policy; when a deadline falls in a year the calendar does not know, the
    deadlines stay as they were and the routing record says why (a calendar upload recomputes)."""
    routing = routing_of(case)
    if routing.policy is None:
        return None
    events = history if history is not None else await repository.history(session, case.id)
    try:
        due = derive(events, routing.policy, calendar)
    except CalendarUnknown as exc:
        case.routing = routing.changed(deadline_alert=str(exc)).stored()
        return None
    apply(case, due)
    if routing.deadline_alert:
        case.routing = routing.changed(deadline_alert=None).stored()
    return due

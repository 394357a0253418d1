"""协办: each co-department owes the lead an opinion by a time. A task is opened when the case
is routed or assigned with co-departments, or when the lead or a coordinator adds one; the
co-department answers once; a coordinator may waive it. The lead's reply waits for every task
(`cases.assists_owed`, kept in step in the same transaction, is what the reply and the need to
know read); a task overdue gives its department one card (services/sla/assists.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.authz import May, may
from services.case import access, repository
from services.case.history import note
from services.case.lifecycle import OPEN
from services.case.notify import notify_departments, notify_followers
from services.case.presenter import people_words
from services.case.responses import AssistOut
from services.case.routing_record import routing_of
from services.case.workflow_schemas import AddCoDepartment, AssistOpinion, WaiveAssist
from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.department import repository as departments
from shared.durations import Duration, parse_duration
from shared.enums import AssistStatus, CaseStatus, Note
from shared.errors import conflict, forbidden, invalid, not_found
from shared.models import Assist, Case
from shared.principal import Principal
from shared.timeutil import shanghai_iso

DEFAULT = parse_duration("2 working_days")
"""When the case has no handling policy to halve (assigned without a rule table)."""


def assist_within(case: Case) -> Duration:
    """The rule's `assist_within`, else half the lead's handling time, else two working days."""
    routing = routing_of(case)
    if routing.assist_within is not None:
        return routing.assist_within
    if routing.policy is not None:
        handle = routing.policy.handle_within
        return Duration(handle.amount / 2, handle.unit)
    return DEFAULT


def _owed(case: Case, codes: Iterable[str]) -> None:
    case.assists_owed = sorted({*(case.assists_owed or ()), *codes})


def _settled(case: Case, code: str) -> None:
    case.assists_owed = [c for c in (case.assists_owed or ()) if c != code]


async def open_tasks(
    session: AsyncSession,
    case: Case,
    codes: Iterable[str],
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
    reason: str | None = None,
) -> list[Assist]:
    """A task for each of `codes` that has none on the case yet (a department asked twice
    keeps its first task), due `assist_within` from now in working time."""
    wanted = [c for c in dict.fromkeys(codes) if c and c != case.lead_department]
    if not wanted:
        return []
    have = set(
        await session.scalars(
            select(Assist.department).where(
                Assist.case_id == case.id, Assist.department.in_(wanted)
            )
        )
    )
    within = assist_within(case)
    try:
        due: datetime | None = deadlines.add(now, within, calendar)
    except CalendarUnknown:
        due = None
    opened = []
    for code in wanted:
        if code in have:
            continue
        task = Assist(
            case_id=case.id,
            department=code,
            reason=reason,
            status=AssistStatus.open.value,
            requested_at=now,
            requested_by_key_id=actor.key_id,
            due_at=due,
        )
        session.add(task)
        opened.append(task)
    if opened:
        _owed(case, (t.department for t in opened))
        await notify_departments(
            session,
            case,
            [t.department for t in opened],
            "assist_requested",
            {"due_at": due.isoformat() if due else None},
        )
        known = list(case.co_departments or ())
        case.co_departments = known + [t.department for t in opened if t.department not in known]
        await session.flush()
        note(
            session,
            case,
            action=Note.assist_requested,
            actor=actor,
            at=now,
            reason=reason,
            data={
                "departments": [t.department for t in opened],
                "due_at": due.isoformat() if due else None,
                "assist_within": str(within),
            },
        )
    return opened


async def add(
    session: AsyncSession,
    case_no: str,
    data: AddCoDepartment,
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
) -> tuple[Assist, Case]:
    """The lead or a coordinator asks one more department for its opinion."""
    case = await repository.get_by_no(session, case_no, for_update=True)
    access.require_in_units(actor, case)
    if not may(actor, May.coordinate) and not (
        may(actor, May.handle_cases) and actor.department == case.lead_department
    ):
        raise forbidden("only the lead department or a coordinator may ask for an assist")
    if CaseStatus(case.status) not in OPEN or case.lead_department is None:
        raise conflict(
            f"case {case.case_no} is {case.status}: assists are for an open case with a lead",
            current_status=case.status,
        )
    if data.department == case.lead_department:
        raise invalid("department", "the lead department does not assist itself")
    target = await departments.get(session, data.department)
    if target is None or not target.active:
        raise invalid("department", f"unknown department '{data.department}'")
    opened = await open_tasks(
        session,
        case,
        [data.department],
        actor=actor,
        now=now,
        calendar=calendar,
        reason=data.reason,
    )
    if not opened:
        raise conflict(f"{data.department} already has an assist task on case {case.case_no}")
    return opened[0], case


async def _task(session: AsyncSession, case: Case, department: str) -> Assist:
    task = await session.scalar(
        select(Assist)
        .where(Assist.case_id == case.id, Assist.department == department)
        .with_for_update()
    )
    if task is None:
        raise not_found(f"no assist task for {department} on case {case.case_no}")
    return task


async def answer(
    session: AsyncSession, case_no: str, data: AssistOpinion, *, actor: Principal, now: datetime
) -> tuple[Assist, Case]:
    """The co-department's opinion, once; late or on time."""
    if not may(actor, May.handle_cases) or actor.department is None:
        raise forbidden("only a co-department answers its assist task")
    case = await repository.get_by_no(session, case_no, for_update=True)
    task = await _task(session, case, actor.department)
    if task.status != AssistStatus.open:
        raise conflict(f"the assist task is {task.status}", assist_status=task.status)
    task.status = AssistStatus.answered.value
    task.opinion, task.answered_at, task.answered_by_key_id = data.opinion, now, actor.key_id
    _settled(case, task.department)
    note(
        session,
        case,
        action=Note.assist_answered,
        actor=actor,
        at=now,
        reason=data.opinion,
        data={
            "department": task.department,
            "on_time": task.due_at is None or now <= task.due_at,
        },
    )
    await notify_followers(session, case, "assist_answered")
    return task, case


async def waive(
    session: AsyncSession,
    case_no: str,
    department: str,
    data: WaiveAssist,
    *,
    actor: Principal,
    now: datetime,
) -> tuple[Assist, Case]:
    """A coordinator lets the lead reply without this department's opinion."""
    if not may(actor, May.coordinate):
        raise forbidden("only a coordinator may waive an assist task")
    case = await repository.get_by_no(session, case_no, for_update=True)
    access.require_in_units(actor, case)
    task = await _task(session, case, department)
    if task.status != AssistStatus.open:
        raise conflict(f"the assist task is {task.status}", assist_status=task.status)
    _waived(task, case, data.reason, now=now, actor=actor)
    note(
        session,
        case,
        action=Note.assist_waived,
        actor=actor,
        at=now,
        reason=data.reason,
        data={"department": task.department},
    )
    return task, case


async def no_longer_asked(
    session: AsyncSession, case: Case, keep: Iterable[str], *, now: datetime, actor: Principal
) -> None:
    """A coordinator re-assigned the case with other co-departments: the tasks of those no
    longer named are let off (their opinion is not owed to the new lead)."""
    kept = set(keep)
    for code in [c for c in (case.assists_owed or ()) if c not in kept]:
        await _let_off(session, case, code, "改派后不再协办", now=now, actor=actor)


async def _let_off(
    session: AsyncSession, case: Case, department: str, why: str, *, now: datetime, actor: Principal
) -> None:
    _waived(await _task(session, case, department), case, why, now=now, actor=actor)


def _waived(task: Assist, case: Case, why: str, *, now: datetime, actor: Principal) -> None:
    """A task let off (by a coordinator's waiver, a re-assignment, a transfer to it): no longer
    owed."""
    task.status = AssistStatus.waived.value
    task.waived_reason, task.waived_at, task.waived_by_key_id = why, now, actor.key_id
    _settled(case, task.department)


async def became_lead(
    session: AsyncSession, case: Case, department: str, *, now: datetime, actor: Principal
) -> None:
    """A co-department the case is transferred to leads it now: its own opinion is no longer
    owed to anyone (its open task is let off, with that reason)."""
    if department in (case.assists_owed or ()):
        await _let_off(session, case, department, "转为牵头部门", now=now, actor=actor)


def require_no_owed(case: Case) -> None:
    """The lead replies once every co-department gave its opinion or was let off."""
    if case.assists_owed:
        raise conflict(
            f"case {case.case_no} still waits for the opinion of {', '.join(case.assists_owed)}",
            owing=list(case.assists_owed),
        )


def assist_out(task: Assist, case: Case, viewer: Principal) -> AssistOut:
    """A task as `viewer` may see it: its opinion and reasons are people's words
    (`presenter.people_words`)."""
    reason, opinion, waived = people_words(
        case, viewer, task.reason, task.opinion, task.waived_reason
    )
    return AssistOut(
        case_no=case.case_no,
        department=task.department,
        status=task.status,
        reason=reason,
        requested_at=shanghai_iso(task.requested_at),
        due_at=shanghai_iso(task.due_at),
        opinion=opinion,
        answered_at=shanghai_iso(task.answered_at),
        answered_on_time=None
        if task.answered_at is None
        else (task.due_at is None or task.answered_at <= task.due_at),
        waived_reason=waived,
        waived_at=shanghai_iso(task.waived_at),
        overdue_at=shanghai_iso(task.overdue_at),
    )


async def of_case(session: AsyncSession, case: Case, viewer: Principal) -> list[AssistOut]:
    rows = await session.scalars(
        select(Assist).where(Assist.case_id == case.id).order_by(Assist.id)
    )
    return [assist_out(t, case, viewer) for t in rows]

"""What departments and coordinators do with an assigned case. Each action locks the case row,
checks role, department and state, changes the case and writes history in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.authz import May, may
from services.case import access, assists, merging, repository, review, timeline
from services.case.assignment import assign_to
from services.case.history import note, transition
from services.case.lifecycle import OPEN
from services.case.notify import notify_followers
from services.case.routing_record import routing_of
from services.case.schedule import reschedule
from services.case.workflow_schemas import (
    Assign,
    ExtensionDecision,
    ExtensionRequest,
    Reply,
    Resume,
    Return,
    Sign,
    Suspend,
    Transfer,
)
from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.clock.policy import Deadlines, choose
from services.department import repository as departments
from services.rules import versions
from services.rules.schemas import SlaPolicy
from shared.durations import Duration, parse_duration
from shared.enums import Action, CaseStatus, Note, ReplyReview
from shared.errors import conflict, forbidden, invalid, not_found
from shared.models import Case, Extension
from shared.principal import Principal


@dataclass(frozen=True)
class WorkflowPolicy:
    return_within: Duration
    max_returns: int
    calendar: WorkCalendar


async def _lead_case(session: AsyncSession, case_no: str, actor: Principal, what: str) -> Case:
    """The case, locked, if `actor` is its lead department's key."""
    case = await repository.get_by_no(session, case_no, for_update=True)
    if not may(actor, May.handle_cases):
        raise forbidden(f"only the lead department may {what}")
    if actor.department != case.lead_department:
        raise forbidden(f"case {case_no} is led by another department")
    return case


def _policy_of(case: Case) -> SlaPolicy | None:
    return routing_of(case).policy


async def sign(
    session: AsyncSession, case_no: str, data: Sign, *, actor: Principal, now: datetime
) -> Case:
    case = await _lead_case(session, case_no, actor, "sign for a case")
    clock_ran = case.status == CaseStatus.assigned and case.sign_due_at is not None
    transition(session, case, Action.sign, actor=actor, now=now, reason=data.note)
    case.signed_at = case.updated_at
    if clock_ran and case.sign_due_at is not None:
        # 响应率: the sign clock that ran ends here (a re-sign after a reopen ends none). A
        # card for signing late set False already; signing after the deadline keeps it so.
        case.responded = case.signed_at <= case.sign_due_at
    await notify_followers(session, case, "signed")
    return case


async def return_case(
    session: AsyncSession,
    case_no: str,
    data: Return,
    *,
    actor: Principal,
    now: datetime,
    policy: WorkflowPolicy,
) -> Case:
    """退单: mis-routed, with a reason, within the return window; the coordinator takes it."""
    case = await _lead_case(session, case_no, actor, "return a case")
    if case.assignment_final:
        raise conflict(
            "the coordinator's assignment is final after the return cap; it cannot be returned",
            return_count=case.return_count,
        )
    if case.assigned_at is not None:
        try:
            window_ends = deadlines.add(case.assigned_at, policy.return_within, policy.calendar)
        except CalendarUnknown:
            window_ends = None
        if window_ends is not None and now > window_ends:
            raise conflict(
                f"the return window ({policy.return_within}) has passed",
                return_window_ended_at=window_ends.isoformat(),
            )
    returned_by = case.lead_department
    transition(
        session,
        case,
        Action.return_,
        actor=actor,
        now=now,
        reason=data.reason,
        data={"returned_by": returned_by},
    )
    case.return_count += 1
    case.lead_department = None
    case.sign_due_at = case.sign_warn_at = None  # nobody is to sign until the coordinator assigns
    reschedule(case)  # a return may cross a threshold (提级)
    await notify_followers(session, case, "returned")
    return case


async def transfer(
    session: AsyncSession,
    case_no: str,
    data: Transfer,
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
) -> Case:
    """转办: the lead (or a coordinator) hands the case on; the deadline keeps running, the
    first-responsible department stays on record and is told."""
    case = await repository.get_by_no(session, case_no, for_update=True)
    access.require_in_units(actor, case)
    if not may(actor, May.coordinate):
        if not may(actor, May.handle_cases) or actor.department != case.lead_department:
            raise forbidden("only the lead department or a coordinator may transfer a case")
        if case.assignment_final:
            raise conflict("the coordinator's assignment is final; ask the coordinator to reassign")
    target = await departments.get(session, data.to_department)
    if target is None or not target.active:
        raise invalid("to_department", f"unknown department '{data.to_department}'")
    if data.to_department == case.lead_department:
        raise invalid("to_department", "the case is already with this department")
    previous = case.lead_department
    transition(
        session,
        case,
        Action.transfer,
        actor=actor,
        now=now,
        reason=data.reason,
        data={"from_department": previous, "to_department": data.to_department},
    )
    case.lead_department = data.to_department
    await assists.became_lead(session, case, data.to_department, now=now, actor=actor)
    case.transfer_count += 1
    case.co_departments = [c for c in case.co_departments if c != data.to_department]
    case.assigned_at = case.updated_at
    case.signed_at = None
    await timeline.follow(session, case, calendar)  # reschedules: a threshold crossed (提级)
    await merging.follow_department(session, case)
    await notify_followers(session, case, "transferred")
    return case


async def suspend(
    session: AsyncSession, case_no: str, data: Suspend, *, actor: Principal, now: datetime
) -> Case:
    """挂起: waiting for the citizen; the handling clock stops until resume."""
    case = await _lead_case(session, case_no, actor, "suspend a case")
    transition(
        session,
        case,
        Action.suspend,
        actor=actor,
        now=now,
        reason=data.reason,
        data={"required_materials": data.required_materials},
    )
    case.suspended_at = case.updated_at
    if data.required_materials:
        case.tracking_card = {**case.tracking_card, "required_materials": data.required_materials}
    await notify_followers(session, case, "suspended")
    return case


async def resume(
    session: AsyncSession,
    case_no: str,
    data: Resume,
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
) -> Case:
    case = await _lead_case(session, case_no, actor, "resume a case")
    earlier = await repository.history(session, case.id)
    suspended_at = case.suspended_at
    event = transition(session, case, Action.resume, actor=actor, now=now, reason=data.note).event
    case.suspended_at = None
    await timeline.follow(session, case, calendar, history=[*earlier, event])
    # Said in the event (before it is flushed): how long the clock stopped, where it now ends.
    policy = _policy_of(case)
    paused: dict[str, Any] = {}
    if policy is not None and suspended_at is not None:
        try:
            by = timeline.paused(suspended_at, now, policy, calendar)
            key = "paused_working_seconds" if by.is_working else "paused_seconds"
            paused = {key: by.amount * 3600 if by.is_working else by.amount}
        except CalendarUnknown as exc:
            paused = {"deadline_alert": str(exc)}
    due = case.handle_due_at
    event.data = {**paused, "handle_due_at": due.isoformat() if due else None}
    await notify_followers(session, case, "resumed")
    return case


async def reply(
    session: AsyncSession, case_no: str, data: Reply, *, actor: Principal, now: datetime
) -> Case:
    """答复: the department's answer to the citizen; feedback (or the auto-close) ends it."""
    case = await _lead_case(session, case_no, actor, "reply to a case")
    assists.require_no_owed(case)
    case.reply = data.reply  # before the transition, so its event (and callback) carries it
    if review.review_of(case) is not ReplyReview.none:
        await review.submit(session, case, actor=actor, now=now)
        return case
    transition(session, case, Action.reply, actor=actor, now=now, reason=data.reply)
    await notify_followers(session, case, "replied")
    await merging.follow_reply(session, case, now=now)
    return case


async def assign(
    session: AsyncSession,
    case_no: str,
    data: Assign,
    *,
    actor: Principal,
    now: datetime,
    policy: WorkflowPolicy,
) -> Case:
    """派单 by the coordinator: for returned, reopened or unrouted cases, or to re-assign. After
    the return cap the assignment is final: no further return, no transfer by the department."""
    if not may(actor, May.coordinate):
        raise forbidden("only a coordinator may assign cases")
    case = await repository.get_by_no(session, case_no, for_update=True)
    access.require_in_units(actor, case)
    for i, code in enumerate([data.department, *data.co_departments]):
        dept = await departments.get(session, code)
        if dept is None or not dept.active:
            field = "department" if i == 0 else f"co_departments[{i - 1}]"
            raise invalid(field, f"unknown department '{code}'")
    current = await versions.compiled(session)
    table = current[1].table if current else None
    wanted = data.sla_policy or routing_of(case).sla_policy
    if data.sla_policy and (table is None or data.sla_policy not in table.sla_policies):
        raise invalid("sla_policy", f"unknown SLA policy '{data.sla_policy}'")
    transition(
        session,
        case,
        Action.assign,
        actor=actor,
        now=now,
        reason=data.reason,
        data={"department": data.department, "co_departments": data.co_departments},
    )
    final = case.return_count >= policy.max_returns
    case.assignment_final = final
    if table is not None:
        policy_name, due = choose(
            table,
            wanted,
            urgent=case.urgent,
            vulnerable=case.vulnerable,
            start=now,
            calendar=policy.calendar,
        )
        sla = table.sla_policies.get(policy_name or "")
    else:
        policy_name, due, sla = wanted, Deadlines(None, None, alert="no rule table published"), None
    routing = routing_of(case).changed(assigned_by="coordinator", reason=data.reason, final=final)
    assign_to(
        case,
        data.department,
        data.co_departments,
        policy=sla,
        policy_name=policy_name,
        due=due,
        routing=routing,
        now=now,
    )
    await assists.no_longer_asked(session, case, data.co_departments, now=now, actor=actor)
    await assists.open_tasks(
        session,
        case,
        data.co_departments,
        actor=actor,
        now=now,
        calendar=policy.calendar,
        reason=data.reason,
    )
    # A re-assignment gives the new lead its signing time and keeps the citizen's clock.
    await timeline.follow(session, case, policy.calendar)
    await merging.follow_department(session, case)
    await notify_followers(session, case, "assigned")
    return case


async def request_extension(
    session: AsyncSession, case_no: str, data: ExtensionRequest, *, actor: Principal, now: datetime
) -> tuple[Extension, Case]:
    case = await _lead_case(session, case_no, actor, "ask for an extension")
    if case.status not in (CaseStatus.assigned, CaseStatus.signed, CaseStatus.suspended):
        raise conflict(f"no extension for a case that is {case.status}", current_status=case.status)
    if case.handle_due_at is None:
        raise conflict("the case has no handling deadline to extend")
    if now >= case.handle_due_at:
        raise conflict(
            "an extension must be asked for before the deadline",
            handle_due_at=case.handle_due_at.isoformat(),
        )
    pending = await session.scalar(
        select(Extension.id).where(Extension.case_id == case.id, Extension.status == "pending")
    )
    if pending is not None:
        raise conflict(
            "an extension request for this case is already waiting", extension_id=pending
        )
    ext = Extension(
        case_id=case.id,
        department=actor.department or "",
        extend_by=str(data.extend_by),
        reason=data.reason,
        requested_by_key_id=actor.key_id,
    )
    session.add(ext)
    await session.flush()
    case.updated_at = now
    note(
        session,
        case,
        action=Note.extension_requested,
        actor=actor,
        reason=data.reason,
        data={"extension_id": ext.id, "extend_by": ext.extend_by},
    )
    return ext, case


async def decide_extension(
    session: AsyncSession,
    extension_id: int,
    data: ExtensionDecision,
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
) -> tuple[Extension, Case]:
    if not may(actor, May.coordinate):
        raise forbidden("only a coordinator may decide an extension")
    ext = await session.get(Extension, extension_id, with_for_update=True)
    if ext is None:
        raise not_found(f"extension {extension_id}")
    if ext.status != "pending":
        raise conflict(f"extension {extension_id} was already {ext.status}", status=ext.status)
    case = (
        await session.execute(select(Case).where(Case.id == ext.case_id).with_for_update())
    ).scalar_one()
    if not access.in_units(actor, case):
        raise not_found(f"extension {extension_id}")  # another unit's: as if it did not exist
    if CaseStatus(case.status) not in OPEN:
        # A finished case keeps its deadlines: more time for a closed case would move the
        # figures, not the work (issue 26 #6).
        raise conflict(
            f"case {case.case_no} is {case.status}: an extension is decided only while it is open",
            status=case.status,
        )
    ext.status = "approved" if data.approve else "rejected"
    ext.decided_at = now
    ext.decided_by_key_id = actor.key_id
    ext.decision_note = data.note
    before = case.handle_due_at
    if data.approve and case.handle_due_at is not None:
        try:  # refused here rather than approved without moving the deadline
            deadlines.add(case.handle_due_at, parse_duration(ext.extend_by), calendar)
        except CalendarUnknown as exc:
            raise conflict(str(exc)) from exc
    earlier = await repository.history(session, case.id)
    case.updated_at = now
    event = note(
        session,
        case,
        action=Note.extension_approved if data.approve else Note.extension_rejected,
        actor=actor,
        reason=data.note,
        # Why more time is needed is what the applicant is told (services/notices).
        data={"extension_id": ext.id, "extend_by": ext.extend_by, "extension_reason": ext.reason},
    ).event
    if data.approve:
        await timeline.follow(session, case, calendar, history=[*earlier, event])
    event.data = {
        **event.data,
        "handle_due_before": before.isoformat() if before else None,
        "handle_due_after": case.handle_due_at.isoformat() if case.handle_due_at else None,
    }
    await notify_followers(session, case, f"extension_{ext.status}")
    return ext, case

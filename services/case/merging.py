"""并单: one matter, many callers. A coordinator merges cases into a lead case; the merged cases
follow it: they wait in `merged`, led by its department, with no clock of their own (the lead's
is the group's, so one breach gives one card, not one per caller), and when the lead is answered
each merged case is answered with the lead's reply, its applicant told as any other and rating
it on their own. Before that reply a case may be taken out of the group (`unmerge`): it goes back
to the department as a new assignment (its sign clock starts; its handling clock is the one its
own routing started, as after any re-assignment).

The lead case is locked first, by a merge as by the lead's reply; the others without waiting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from services import authz
from services.authz import May
from services.case import access, repository, timeline
from services.case.history import note, transition
from services.case.schedule import reschedule
from services.case.workflow_schemas import Merge, Unmerge
from services.clock.calendar import WorkCalendar
from shared.enums import Action, CaseStatus, Note
from shared.errors import conflict, invalid
from shared.models import Case
from shared.principal import SYSTEM, Principal

S = CaseStatus
LOCK_NOT_AVAILABLE = "55P03"
LEADS = (S.assigned, S.signed, S.suspended, S.reopened, S.reviewing)
"""A case a group may follow: with a department handling it and no answer yet."""
JOINS = (S.registered, S.assigned, S.signed, S.suspended, S.returned, S.reopened)
"""A case that may join a group: not answered, not already in one."""


async def _locked(
    session: AsyncSession, lead_no: str, case_nos: list[str], actor: Principal
) -> tuple[Case, list[Case]]:
    """The lead locked first (as its reply locks it before its group), then the others without
    waiting: one another step holds answers 409 at once, so two merges crossing each other's
    cases can never wait on each other."""
    if lead_no in case_nos:
        raise invalid("case_nos", "a case is not merged into itself")
    lead = await repository.get_by_no(session, lead_no, for_update=True)
    access.require_in_units(actor, lead)
    wanted = sorted(set(case_nos))
    try:
        rows = (
            await session.scalars(
                select(Case)
                .where(Case.case_no.in_(wanted))
                .order_by(Case.id)
                .with_for_update(nowait=True)
            )
        ).all()
    except DBAPIError as exc:
        if LOCK_NOT_AVAILABLE not in _sqlstates(exc):
            raise
        raise conflict("another step is changing one of these cases: try again") from exc
    by_no = {c.case_no: c for c in rows}
    missing = [no for no in wanted if no not in by_no or not access.in_units(actor, by_no[no])]
    if missing:
        raise invalid("case_nos", f"no such case within this key's reach: {', '.join(missing[:5])}")
    return lead, [by_no[no] for no in wanted]


def _sqlstates(exc: BaseException) -> set[str]:
    """The SQLSTATEs along an error's chain (SQLAlchemy wraps the adapter wraps asyncpg)."""
    found: set[str] = set()
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            break
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str):
            found.add(state)
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return found


async def merge(
    session: AsyncSession, lead_no: str, data: Merge, *, actor: Principal, now: datetime
) -> tuple[Case, list[Case]]:
    authz.require(actor, May.coordinate)
    lead, members = await _locked(session, lead_no, data.case_nos, actor)
    if lead.merged_into is not None:
        raise conflict(
            f"case {lead.case_no} is itself merged into {lead.merged_into_no}",
            merged_into=lead.merged_into_no,
        )
    if S(lead.status) not in LEADS or lead.lead_department is None:
        raise conflict(
            f"case {lead.case_no} is {lead.status}: a group follows a case a department is "
            "handling and has not answered",
            current_status=lead.status,
        )
    for member in members:
        if member.merged_into is not None or member.merged_count:
            raise conflict(f"case {member.case_no} is in a group already", case_no=member.case_no)
        if S(member.status) not in JOINS:
            raise conflict(
                f"case {member.case_no} is {member.status}: only a case not yet answered "
                "joins a group",
                case_no=member.case_no,
                current_status=member.status,
            )
        if member.assists_owed:
            raise conflict(
                f"case {member.case_no} still waits for co-departments' opinions",
                case_no=member.case_no,
                owing=list(member.assists_owed),
            )
    for member in members:
        transition(
            session,
            member,
            Action.merge,
            actor=actor,
            now=now,
            reason=data.reason,
            data={"into": lead.case_no},
        )
        member.merged_into, member.merged_into_no = lead.id, lead.case_no
        member.lead_department = lead.lead_department
        member.sign_due_at = member.sign_warn_at = None
        member.handle_due_at = member.handle_warn_at = None
        reschedule(member)  # nothing of its own falls due: the lead's clock is the group's
    lead.merged_count += len(members)
    lead.updated_at = now
    note(
        session,
        lead,
        action=Note.merged,
        actor=actor,
        at=now,
        reason=data.reason,
        data={"case_nos": [m.case_no for m in members], "merged_count": lead.merged_count},
    )
    return lead, members


async def unmerge(
    session: AsyncSession,
    lead_no: str,
    data: Unmerge,
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
) -> tuple[Case, list[Case]]:
    authz.require(actor, May.coordinate)
    lead, members = await _locked(session, lead_no, data.case_nos, actor)
    for member in members:
        if member.merged_into != lead.id:
            raise conflict(
                f"case {member.case_no} is not merged into {lead.case_no}", case_no=member.case_no
            )
        if member.status != S.merged:
            raise conflict(
                f"case {member.case_no} is {member.status}: the group was answered, a case "
                "leaves it before the reply",
                case_no=member.case_no,
                current_status=member.status,
            )
    for member in members:
        transition(
            session,
            member,
            Action.unmerge,
            actor=actor,
            now=now,
            reason=data.reason,
            data={"from": lead.case_no},
        )
        member.merged_into = member.merged_into_no = None
        member.assigned_at = now
        await timeline.follow(session, member, calendar)
        reschedule(member)
    lead.merged_count -= len(members)
    lead.updated_at = now
    note(
        session,
        lead,
        action=Note.unmerged,
        actor=actor,
        at=now,
        reason=data.reason,
        data={"case_nos": [m.case_no for m in members], "merged_count": lead.merged_count},
    )
    return lead, members


async def follow_department(session: AsyncSession, lead: Case) -> None:
    """The lead changed hands (a transfer, a coordinator's assignment): its group follows. A
    follower changes only through its lead, whose row the caller holds, so no lock is taken."""
    if not lead.merged_count:
        return
    await session.execute(
        update(Case)
        .where(Case.merged_into == lead.id, Case.status == S.merged.value)
        .values(lead_department=lead.lead_department),
        execution_options={"synchronize_session": False},
    )


async def follow_reply(session: AsyncSession, lead: Case, *, now: datetime) -> int:
    """The lead was answered (its reply reached the citizen): every case merged into it is
    answered with the same words, each applicant told and asked to rate on their own."""
    if not lead.merged_count:
        return 0
    members = (
        await session.scalars(
            select(Case)
            .where(Case.merged_into == lead.id, Case.status == S.merged.value)
            .order_by(Case.id)
            .with_for_update()
        )
    ).all()
    for member in members:
        member.reply = lead.reply
        member.lead_department = lead.lead_department
        transition(
            session,
            member,
            Action.follow_reply,
            actor=SYSTEM,
            now=now,
            reason=lead.reply,
            data={"reply": lead.reply, "lead_case_no": lead.case_no},
        )
        reschedule(member)  # it now closes by itself when its applicant says nothing
    return len(members)

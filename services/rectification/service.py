"""整改: a supervisor opens a rectification for what a kind of case keeps showing; the owning
department starts it and says what it changed (the document that says so); the supervisor
verifies it or reopens it with a reason. Each step locks the row and writes its history in the
step's one transaction; a step the status does not allow is a 409 naming the status.

A unit-bound supervisor opens and judges rectifications its subtree owns; a department key reads
and works on its own. The linked cases are shown as figures, not people (titles with the
applicant erased, as 共性问题's examples), so reading a rectification shows nobody in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import authz
from services.authz import May
from services.case import access
from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.department import repository as departments
from services.privacy import APPLICANT, applicant_of, erase
from services.rectification import recurrence
from services.rectification.responses import (
    RectificationCaseOut,
    RectificationEventOut,
    RectificationOut,
    RecurrenceMonth,
)
from services.rectification.schemas import Done, RectificationCreate, Reopen, Start, Verify
from shared import pagination
from shared.durations import Duration
from shared.enums import RectificationStatus, Role
from shared.errors import conflict, forbidden, invalid, not_found
from shared.models import Card, Case, Rectification, RectificationCase, RectificationEvent
from shared.principal import Principal
from shared.timeutil import shanghai_iso

S = RectificationStatus
UNDONE = (S.open.value, S.in_progress.value)


def _record(
    session: AsyncSession,
    rectification: Rectification,
    action: str,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
    data: dict[str, object] | None = None,
) -> None:
    rectification.updated_at = now
    session.add(
        RectificationEvent(
            rectification_id=rectification.id,
            action=action,
            at=now,
            actor_role=actor.role.value,
            actor_key_id=actor.key_id,
            reason=reason,
            data=data or {},
        )
    )


ASSUMED_YEARS = 3
"""How many unknown years a due time may cross on the Monday-to-Friday assumption (250 working
days reach at most two)."""


def _due(now: datetime, days: int, calendar: WorkCalendar, field: str) -> tuple[datetime, bool]:
    """`days` working days from `now`, and whether part of them fell in a year whose calendar is
    not loaded and were counted Monday to Friday (an estimate the answer says it is: in December
    a month's fix reaches a year whose holidays are not yet announced)."""
    plain: list[int] = []
    while True:
        try:
            at = deadlines.add(now, Duration(days, "working_days"), calendar)
            return at, bool(plain)
        except CalendarUnknown as exc:
            if len(plain) >= ASSUMED_YEARS:
                raise invalid(field, f"{days} working days reach too far ahead") from exc
            plain.append(exc.year)
            calendar = calendar.with_plain_years(exc.year)


async def _linked(session: AsyncSession, case_nos: list[str], actor: Principal) -> list[int]:
    """The cases named, each once; one that does not exist, or that a unit-bound key may not
    reach, is refused alike (422), so the answer tells nobody which case numbers exist."""
    wanted = sorted(set(case_nos))
    if not wanted:
        return []
    found = (await session.scalars(select(Case).where(Case.case_no.in_(wanted)))).all()
    # The one rule of a unit's reach (`access.in_units`), as every unit-bound step uses it.
    reachable = {c.case_no: c.id for c in found if access.in_units(actor, c)}
    missing = [no for no in wanted if no not in reachable]
    if missing:
        raise invalid("case_nos", f"no such case within this key's reach: {', '.join(missing[:5])}")
    return [reachable[no] for no in wanted]


async def open_rectification(
    session: AsyncSession,
    data: RectificationCreate,
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
) -> Rectification:
    authz.require(actor, May.rectify)
    owner = await departments.get(session, data.department)
    if owner is None or not owner.active:
        raise invalid("department", f"no active department {data.department}")
    if actor.units is not None and owner.code not in actor.units:
        raise forbidden(f"department {owner.code} is outside this key's unit")
    case_ids = await _linked(session, data.case_nos, actor)
    due_at, estimated = _due(now, data.due, calendar, "due")
    rectification = Rectification(
        due_at=due_at,
        due_estimated=estimated,
        title=data.title,
        problem=data.problem,
        department=owner.code,
        issuing_unit=actor.department if actor.units is not None else None,
        topic=list(dict.fromkeys(data.topic)),
        status=S.open.value,
        due_days=data.due,
        created_at=now,
        updated_at=now,
        created_by_key_id=actor.key_id,
    )
    session.add(rectification)
    await session.flush()
    session.add_all(
        RectificationCase(rectification_id=rectification.id, case_id=i) for i in case_ids
    )
    _record(
        session,
        rectification,
        "opened",
        actor=actor,
        now=now,
        reason=data.problem,
        data={"due_at": rectification.due_at.isoformat(), "cases": len(case_ids)},
    )
    return rectification


async def _locked(session: AsyncSession, rectification_id: int, actor: Principal) -> Rectification:
    found = await session.get(Rectification, rectification_id, with_for_update=True)
    if found is None or not _may_see(actor, found):
        raise not_found(f"rectification {rectification_id}")
    return found


def _may_see(actor: Principal, rectification: Rectification) -> bool:
    if actor.role is Role.department:
        return rectification.department == actor.department
    if actor.units is not None:
        return rectification.department in actor.units or rectification.issuing_unit in actor.units
    return True


def _require_status(rectification: Rectification, *allowed: S) -> None:
    if rectification.status not in {s.value for s in allowed}:
        raise conflict(
            f"rectification {rectification.id} is {rectification.status}",
            current_status=rectification.status,
        )


async def _owned(session: AsyncSession, rectification_id: int, actor: Principal) -> Rectification:
    authz.require(actor, May.work_on_rectifications)
    return await _locked(session, rectification_id, actor)


async def start(
    session: AsyncSession, rectification_id: int, data: Start, *, actor: Principal, now: datetime
) -> Rectification:
    """The owner takes it in hand."""
    rectification = await _owned(session, rectification_id, actor)
    _require_status(rectification, S.open)
    rectification.status, rectification.started_at = S.in_progress.value, now
    _record(session, rectification, "started", actor=actor, now=now, reason=data.note)
    return rectification


async def done(
    session: AsyncSession, rectification_id: int, data: Done, *, actor: Principal, now: datetime
) -> Rectification:
    """The owner says what changed and where it is written: from now, its recurrence counts."""
    rectification = await _owned(session, rectification_id, actor)
    _require_status(rectification, S.open, S.in_progress)
    rectification.status, rectification.done_at = S.done.value, now
    rectification.started_at = rectification.started_at or now
    rectification.change = data.change.value
    rectification.change_note, rectification.document_ref = data.note, data.document_ref
    _record(
        session,
        rectification,
        "done",
        actor=actor,
        now=now,
        reason=data.note,
        data={"change": data.change.value, "document_ref": data.document_ref},
    )
    return rectification


async def _judged(session: AsyncSession, rectification_id: int, actor: Principal) -> Rectification:
    authz.require(actor, May.rectify)
    rectification = await _locked(session, rectification_id, actor)
    if actor.units is not None and rectification.department not in actor.units:
        raise forbidden(f"rectification {rectification_id} is owned outside this key's unit")
    return rectification


async def verify(
    session: AsyncSession, rectification_id: int, data: Verify, *, actor: Principal, now: datetime
) -> Rectification:
    rectification = await _judged(session, rectification_id, actor)
    _require_status(rectification, S.done)
    rectification.status, rectification.verified_at = S.verified.value, now
    _record(session, rectification, "verified", actor=actor, now=now, reason=data.note)
    return rectification


async def reopen(
    session: AsyncSession,
    rectification_id: int,
    data: Reopen,
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
) -> Rectification:
    """Not fixed after all (the cases keep coming): back to the owner, with the reason and,
    when given, a new due time (its lateness is watched again; the card stays one)."""
    rectification = await _judged(session, rectification_id, actor)
    _require_status(rectification, S.done, S.verified)
    rectification.status = S.in_progress.value
    rectification.done_at = rectification.verified_at = None
    rectification.reopen_count += 1
    if data.due is not None:
        rectification.due_days = data.due
        rectification.due_at, rectification.due_estimated = _due(now, data.due, calendar, "due")
        rectification.overdue_at = None
    _record(
        session,
        rectification,
        "reopened",
        actor=actor,
        now=now,
        reason=data.reason,
        data={"due_at": rectification.due_at.isoformat()},
    )
    return rectification


@dataclass(frozen=True)
class Wanted:
    status: RectificationStatus | None = None
    department: str | None = None
    unit: frozenset[str] | None = None


def _visible(actor: Principal) -> list[ColumnElement[bool]]:
    if actor.role is Role.department:
        return [Rectification.department == actor.department]
    if actor.units is not None:
        ordered = sorted(actor.units)
        return [
            or_(
                Rectification.department.in_(ordered),
                Rectification.issuing_unit.in_(ordered),
            )
        ]
    return []


async def page(
    session: AsyncSession,
    actor: Principal,
    wanted: Wanted,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[RectificationOut], str | None]:
    """Newest first, each with its recurrence."""
    authz.require(actor, May.read_rectifications)
    if actor.role is Role.department and wanted.department not in (None, actor.department):
        raise forbidden("a department key reads its own rectifications only")
    stmt = select(Rectification).where(*_visible(actor))
    if wanted.status is not None:
        stmt = stmt.where(Rectification.status == wanted.status.value)
    if wanted.department:
        stmt = stmt.where(Rectification.department == wanted.department)
    if wanted.unit is not None:
        stmt = stmt.where(Rectification.department.in_(sorted(wanted.unit)))
    if cursor:
        (before,) = pagination.decode_cursor(cursor, pagination.row_id)
        stmt = stmt.where(Rectification.id < before)
    stmt = stmt.order_by(Rectification.id.desc()).limit(limit + 1)
    rows, next_cursor = pagination.page(
        list((await session.scalars(stmt)).all()), limit, lambda r: (r.id,)
    )
    return [await out(session, r) for r in rows], next_cursor


async def one(session: AsyncSession, rectification_id: int, actor: Principal) -> RectificationOut:
    """One rectification, its cases and history; another's reads as if it did not exist."""
    authz.require(actor, May.read_rectifications)
    found = await session.get(Rectification, rectification_id)
    if found is None or not _may_see(actor, found):
        raise not_found(f"rectification {rectification_id}")
    return await out(session, found, whole=True)


async def out(
    session: AsyncSession, rectification: Rectification, *, whole: bool = False
) -> RectificationOut:
    card_id = await session.scalar(select(Card.id).where(Card.rectification_id == rectification.id))
    count = await session.scalar(
        select(func.count())
        .select_from(RectificationCase)
        .where(RectificationCase.rectification_id == rectification.id)
    )
    months = await recurrence.by_month(session, rectification.topic, rectification.done_at)
    names = await departments.names(session, [rectification.department])
    shown = RectificationOut(
        id=rectification.id,
        title=rectification.title,
        problem=rectification.problem,
        department=rectification.department,
        department_name=names.get(rectification.department),
        issuing_unit=rectification.issuing_unit,
        topic=list(rectification.topic),
        status=rectification.status,
        due_days=rectification.due_days,
        due_at=shanghai_iso(rectification.due_at),
        due_estimated=rectification.due_estimated,
        overdue_at=shanghai_iso(rectification.overdue_at),
        card_id=card_id,
        change=rectification.change,
        change_note=rectification.change_note,
        document_ref=rectification.document_ref,
        created_at=shanghai_iso(rectification.created_at),
        started_at=shanghai_iso(rectification.started_at),
        done_at=shanghai_iso(rectification.done_at),
        verified_at=shanghai_iso(rectification.verified_at),
        reopen_count=rectification.reopen_count,
        case_count=int(count or 0),
        recurred=None if rectification.done_at is None else sum(n for _, n in months),
        recurrence=[RecurrenceMonth(month=m, cases=n) for m, n in months],
    )
    if whole:
        shown.cases = await _cases_of(session, rectification.id)
        shown.history = await _history_of(session, rectification.id)
    return shown


async def _cases_of(session: AsyncSession, rectification_id: int) -> list[RectificationCaseOut]:
    rows = (
        await session.execute(
            select(
                Case.case_no,
                Case.status,
                Case.lead_department,
                Case.title,
                Case.created_at,
                *APPLICANT,
            )
            .join(RectificationCase, RectificationCase.case_id == Case.id)
            .where(RectificationCase.rectification_id == rectification_id)
            .order_by(Case.created_at, Case.id)
        )
    ).all()
    return [
        RectificationCaseOut(
            case_no=r.case_no,
            status=r.status,
            lead_department=r.lead_department,
            title=erase(r.title, **applicant_of(r)),
            registered_at=shanghai_iso(r.created_at),
        )
        for r in rows
    ]


async def _history_of(session: AsyncSession, rectification_id: int) -> list[RectificationEventOut]:
    rows = await session.scalars(
        select(RectificationEvent)
        .where(RectificationEvent.rectification_id == rectification_id)
        .order_by(RectificationEvent.id)
    )
    return [
        RectificationEventOut(
            action=e.action,
            at=shanghai_iso(e.at),
            actor_role=e.actor_role,
            reason=e.reason,
            data=e.data,
        )
        for e in rows
    ]

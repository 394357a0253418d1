"""督办 and 催办: a coordinator or a supervisor orders the lead department to act on a case by a
time; the department answers; 催办 reminds it without a deadline. Each step locks the case row
(or the order row) and writes its history, notices and audit in the step's one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import authz
from services.authz import May
from services.case import access, repository
from services.case.history import note
from services.case.lifecycle import HAS_DEADLINES
from services.case.notify import notify_followers
from services.case.presenter import people_words
from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.department import repository as departments
from services.supervision import numbers, tell
from services.supervision.responses import Reminded, SupervisionOut
from services.supervision.schemas import Remind, Respond, Supervise
from shared import pagination
from shared.durations import Duration
from shared.enums import CaseStatus, Level, Note, Role, SupervisionSource, SupervisionStatus
from shared.errors import conflict, forbidden, not_found
from shared.models import Card, Case, Supervision
from shared.principal import Principal
from shared.timeutil import shanghai_iso, to_shanghai


@dataclass(frozen=True)
class Issuer:
    """Where an order comes from: a unit (a bound key's, or the level a case was raised to) or,
    for none, the city's centre."""

    unit: str | None
    level: Level


async def issuer_of(session: AsyncSession, actor: Principal) -> Issuer:
    if actor.units is None or actor.department is None:
        return Issuer(None, Level.city)
    unit = await departments.get(session, actor.department)
    return Issuer(actor.department, Level(unit.level) if unit else Level.city)


async def issue(
    session: AsyncSession,
    case: Case,
    *,
    reason: str,
    respond_within: Duration,
    issuer: Issuer,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
    source: SupervisionSource = SupervisionSource.order,
    noted: bool = True,
) -> Supervision:
    """The order on a locked, open case with a lead department: numbered, due in working time,
    written with its history (and the hotline's callback), its webhooks and its text. Not
    `noted`: the caller's own history row names the order (an escalation's does)."""
    if CaseStatus(case.status) not in HAS_DEADLINES or case.lead_department is None:
        raise conflict(
            f"case {case.case_no} is {case.status}: an order goes to the department handling "
            "an open case",
            current_status=case.status,
        )
    try:
        due = deadlines.add(now, respond_within, calendar)
    except CalendarUnknown as exc:
        raise conflict(str(exc)) from exc
    lead = await departments.get(session, case.lead_department)
    (order_no,) = await numbers.take(session, to_shanghai(now).date())
    order = Supervision(
        order_no=order_no,
        case_id=case.id,
        department=case.lead_department,
        copied_to=lead.parent_code if lead else None,
        issuing_unit=issuer.unit,
        level=issuer.level.value,
        source=source.value,
        reason=reason,
        respond_within=str(respond_within),
        due_at=due,
        status=SupervisionStatus.open.value,
        issued_at=now,
        issued_by_key_id=actor.key_id,
    )
    session.add(order)
    await session.flush()
    texted = lead is not None and tell.text_department(
        session,
        lead,
        tell.order_text(order, case.case_no),
        case_no=case.case_no,
        event="supervised",
    )
    if noted:
        _noted(session, case, order, actor=actor, now=now, reason=reason, texted=texted)
    await tell.webhooks(
        session,
        order,
        case,
        event="supervised",
        to=(order.department, order.copied_to),
    )
    return order


def _noted(
    session: AsyncSession,
    case: Case,
    order: Supervision,
    *,
    actor: Principal,
    now: datetime,
    reason: str,
    texted: bool,
) -> None:
    note(
        session,
        case,
        action=Note.supervised,
        actor=actor,
        at=now,
        reason=reason,
        data={
            "supervision_id": order.id,
            "order_no": order.order_no,
            "department": order.department,
            "copied_to": order.copied_to,
            "issuing_unit": order.issuing_unit,
            "level": order.level,
            "source": order.source,
            "due_at": order.due_at.isoformat(),
            "texted": texted,
        },
    )


async def supervise(
    session: AsyncSession,
    case_no: str,
    data: Supervise,
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
) -> tuple[Supervision, Case]:
    """督办 by a coordinator or a supervisor, on a case in its unit's subtree."""
    authz.require(actor, May.supervise)
    case = await repository.get_by_no(session, case_no, for_update=True)
    access.require_in_units(actor, case)
    order = await issue(
        session,
        case,
        reason=data.reason,
        respond_within=data.respond_within,
        issuer=await issuer_of(session, actor),
        actor=actor,
        now=now,
        calendar=calendar,
    )
    return order, case


async def respond(
    session: AsyncSession, order_id: int, data: Respond, *, actor: Principal, now: datetime
) -> tuple[Supervision, Case]:
    """The addressed department answers, open or late; once."""
    authz.require(actor, May.handle_cases)
    order = await session.get(Supervision, order_id, with_for_update=True)
    if order is None:
        raise not_found(f"supervision order {order_id}")
    if actor.department != order.department:
        raise forbidden(f"order {order.order_no} is addressed to another department")
    if order.status == SupervisionStatus.answered:
        raise conflict(f"order {order.order_no} was already answered", status=order.status)
    case = (
        await session.execute(select(Case).where(Case.id == order.case_id).with_for_update())
    ).scalar_one()
    order.status = SupervisionStatus.answered.value
    order.progress, order.answered_at, order.answered_by_key_id = data.progress, now, actor.key_id
    note(
        session,
        case,
        action=Note.supervision_answered,
        actor=actor,
        at=now,
        reason=data.progress,
        data={
            "supervision_id": order.id,
            "order_no": order.order_no,
            "on_time": now <= order.due_at,
        },
    )
    await tell.webhooks(
        session,
        order,
        case,
        event="supervision_answered",
        to=(order.copied_to, order.issuing_unit),
    )
    return order, case


async def remind(
    session: AsyncSession, case_no: str, data: Remind, *, actor: Principal, now: datetime
) -> Reminded:
    """催办: the lead department hears it again (webhook, text); counted, no deadline moves."""
    authz.require(actor, May.supervise)
    case = await repository.get_by_no(session, case_no, for_update=True)
    access.require_in_units(actor, case)
    if CaseStatus(case.status) not in HAS_DEADLINES or case.lead_department is None:
        raise conflict(
            f"case {case.case_no} is {case.status}: a reminder goes to the department "
            "handling an open case",
            current_status=case.status,
        )
    case.remind_count += 1
    lead = await departments.get(session, case.lead_department)
    texted = lead is not None and tell.text_department(
        session,
        lead,
        f"【催办】案件{case.case_no}请加快办理(第{case.remind_count}次催办)。",
        case_no=case.case_no,
        event="reminded",
    )
    note(
        session,
        case,
        action=Note.reminded,
        actor=actor,
        at=now,
        reason=data.note,
        data={
            "department": case.lead_department,
            "remind_count": case.remind_count,
            "texted": texted,
        },
    )
    await notify_followers(session, case, "reminded", {"remind_count": case.remind_count})
    return Reminded(
        case_no=case.case_no,
        department=case.lead_department,
        remind_count=case.remind_count,
        reminded_at=shanghai_iso(now),
    )


def supervision_out(
    order: Supervision, case: Case, viewer: Principal, card_id: int | None = None
) -> SupervisionOut:
    """The order as `viewer` may see it: its reason and answer are people's words
    (`presenter.people_words`)."""
    reason, progress = people_words(case, viewer, order.reason, order.progress)
    return SupervisionOut(
        id=order.id,
        order_no=order.order_no,
        case_no=case.case_no,
        department=order.department,
        copied_to=order.copied_to,
        issuing_unit=order.issuing_unit,
        level=order.level,
        source=order.source,
        reason=reason,
        respond_within=order.respond_within,
        due_at=shanghai_iso(order.due_at),
        status=order.status,
        issued_at=shanghai_iso(order.issued_at),
        progress=progress,
        answered_at=shanghai_iso(order.answered_at),
        answered_on_time=None if order.answered_at is None else order.answered_at <= order.due_at,
        overdue_at=shanghai_iso(order.overdue_at),
        card_id=card_id,
    )


def _with_cards(stmt: Select[tuple[Supervision]]) -> Select[tuple[Supervision, Case, int | None]]:
    return (
        stmt.add_columns(Case, Card.id)
        .join(Case, Case.id == Supervision.case_id)
        .outerjoin(Card, Card.supervision_id == Supervision.id)
    )


async def of_case(
    session: AsyncSession, case: Case, viewer: Principal
) -> list[SupervisionOut] | None:
    """The orders on one case, oldest first, for the case's own answer; none for a reader who
    may not read orders (a portal, the hotline: they hear of an order by its callback)."""
    if not authz.may(viewer, May.read_supervisions):
        return None
    rows = await session.execute(
        select(Supervision, Card.id)
        .outerjoin(Card, Card.supervision_id == Supervision.id)
        .where(Supervision.case_id == case.id)
        .order_by(Supervision.id)
    )
    return [supervision_out(order, case, viewer, card) for order, card in rows.tuples()]


def _concerns(units: frozenset[str]) -> ColumnElement[bool]:
    """The orders a unit's subtree has to do with: addressed to it, copied to it or issued by
    it (a district sees what it sent to a city department)."""
    ordered = sorted(units)
    return or_(
        Supervision.department.in_(ordered),
        Supervision.copied_to.in_(ordered),
        Supervision.issuing_unit.in_(ordered),
    )


@dataclass(frozen=True)
class OrderFilter:
    department: str | None = None
    unit: frozenset[str] | None = None
    """The departments of a unit's subtree (`unit=`)."""
    status: SupervisionStatus | None = None
    case_no: str | None = None


async def list_orders(
    session: AsyncSession,
    actor: Principal,
    wanted: OrderFilter,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[SupervisionOut], str | None]:
    """Newest first. A department key sees the orders addressed to it; a unit-bound key those
    to its subtree."""
    authz.require(actor, May.read_supervisions)
    stmt = _with_cards(select(Supervision))
    if actor.role is Role.department:
        if wanted.department and wanted.department != actor.department:
            raise forbidden("a department key sees the orders addressed to it only")
        stmt = stmt.where(Supervision.department == actor.department)
    if actor.units is not None:
        stmt = stmt.where(_concerns(actor.units))
    if wanted.department:
        stmt = stmt.where(Supervision.department == wanted.department)
    if wanted.unit is not None:
        stmt = stmt.where(Supervision.department.in_(sorted(wanted.unit)))
    if wanted.case_no:
        stmt = stmt.where(Case.case_no == wanted.case_no)
    if wanted.status is not None:
        stmt = stmt.where(Supervision.status == wanted.status.value)
    if cursor:
        (before,) = pagination.decode_cursor(cursor, pagination.row_id)
        stmt = stmt.where(Supervision.id < before)
    stmt = stmt.order_by(Supervision.id.desc()).limit(limit + 1)
    rows, next_cursor = pagination.page(
        list((await session.execute(stmt)).tuples()), limit, lambda row: (row[0].id,)
    )
    return [supervision_out(order, case, actor, card) for order, case, card in rows], next_cursor


async def one(session: AsyncSession, order_id: int, actor: Principal) -> SupervisionOut:
    """One order; another department's or another unit's reads as if it did not exist."""
    authz.require(actor, May.read_supervisions)
    row = (
        await session.execute(_with_cards(select(Supervision)).where(Supervision.id == order_id))
    ).first()
    if row is None:
        raise not_found(f"supervision order {order_id}")
    order, case, card = row
    if actor.role is Role.department and order.department != actor.department:
        raise not_found(f"supervision order {order_id}")
    if actor.units is not None and actor.units.isdisjoint(
        (order.department, order.copied_to, order.issuing_unit)
    ):
        raise not_found(f"supervision order {order_id}")
    return supervision_out(order, case, actor, card)

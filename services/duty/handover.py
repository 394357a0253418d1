"""交接班: what a unit's shift leaves open. The shift is the day's roster for the unit (from its
first start to its last end; the whole Shanghai day when nobody is on it), the unit its
subtree; each list is bounded, oldest first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import authz
from services.authz import May
from services.case.lifecycle import OPEN
from services.department import tree
from services.duty.responses import Handover, HandoverCase, HandoverEscalation, HandoverOrder
from shared.enums import SupervisionStatus
from shared.errors import forbidden, not_found
from shared.models import Case, Department, DutyShift, Escalation, Supervision
from shared.principal import Principal
from shared.timeutil import SHANGHAI, shanghai_iso

LIMIT = 500
"""A shift's handover is read by a person: more than this in one shift is a crisis, and the
lists and figures say the rest."""


async def _window(session: AsyncSession, unit: str, on: date) -> tuple[datetime, datetime, bool]:
    start = datetime.combine(on, time(), SHANGHAI)
    row = (
        await session.execute(
            select(func.min(DutyShift.starts_at), func.max(DutyShift.ends_at)).where(
                DutyShift.unit == unit, DutyShift.day == on
            )
        )
    ).one()
    if row[0] is None:
        return start, start + timedelta(days=1), False
    return row[0], row[1], True


async def handover(session: AsyncSession, unit: str, on: date, *, actor: Principal) -> Handover:
    authz.require(actor, May.read_handover)
    if actor.units is not None and unit not in actor.units:
        raise forbidden(f"unit {unit} is outside this key's unit")
    if await session.get(Department, unit) is None:
        raise not_found(f"unit {unit}")
    units = sorted(await tree.subtree(session, unit))
    start, end, rostered = await _window(session, unit, on)
    open_statuses = [s.value for s in OPEN]

    raised = await session.execute(
        select(Escalation, Case.case_no, Case.status, Supervision.order_no)
        .join(Case, Case.id == Escalation.case_id)
        .outerjoin(Supervision, Supervision.id == Escalation.supervision_id)
        .where(
            Escalation.at >= start,
            Escalation.at < end,
            or_(Escalation.unit.in_(units), Escalation.department.in_(units)),
            Case.status.in_(open_statuses),
        )
        .order_by(Escalation.at, Escalation.id)
        .limit(LIMIT)
    )
    overdue = await session.execute(
        select(Supervision, Case.case_no)
        .join(Case, Case.id == Supervision.case_id)
        .where(
            Supervision.status == SupervisionStatus.overdue.value,
            Supervision.overdue_at >= start,
            Supervision.overdue_at < end,
            or_(
                Supervision.department.in_(units),
                Supervision.copied_to.in_(units),
                Supervision.issuing_unit.in_(units),
            ),
        )
        .order_by(Supervision.overdue_at, Supervision.id)
        .limit(LIMIT)
    )
    urgent = await session.scalars(
        select(Case)
        .where(
            Case.urgent.is_(True),
            Case.created_at >= start,
            Case.created_at < end,
            Case.status.in_(open_statuses),
            or_(
                Case.lead_department.in_(units),
                Case.first_responsible_department.in_(units),
                Case.intake_hall.in_(units),
            ),
        )
        .order_by(Case.created_at, Case.id)
        .limit(LIMIT)
    )
    return Handover(
        unit=unit,
        date=on.isoformat(),
        starts_at=shanghai_iso(start) if rostered else None,
        ends_at=shanghai_iso(end) if rostered else None,
        escalations=[
            HandoverEscalation(
                case_no=case_no,
                status=status,
                level=e.level,
                reason=e.reason,
                unit=e.unit,
                at=shanghai_iso(e.at),
                order_no=order_no,
            )
            for e, case_no, status, order_no in raised.tuples()
        ],
        overdue_orders=[
            HandoverOrder(
                order_no=o.order_no,
                case_no=case_no,
                department=o.department,
                level=o.level,
                due_at=shanghai_iso(o.due_at),
                overdue_at=shanghai_iso(o.overdue_at),
            )
            for o, case_no in overdue.tuples()
        ],
        urgent=[
            HandoverCase(
                case_no=c.case_no,
                status=c.status,
                category=c.category,
                lead_department=c.lead_department,
                created_at=shanghai_iso(c.created_at),
            )
            for c in urgent
        ],
    )

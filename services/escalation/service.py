"""提级: a case that crossed a threshold of the rule table is raised one level (street →
district → city): the crossing is recorded once (`escalations`, unique per case and reason),
the level's unit issues a 督办单 to the lead department, the hotline hears of it, and whoever
is on duty for that unit (or the nearest unit above with anyone) is texted; the history's one
`escalated` row names the order and who was told.

Called by the SLA sweep for the cases of its batch, in the batch's transaction, on rows the
batch already holds (`FOR UPDATE SKIP LOCKED`): a worker killed half-way rolls everything
back, and the unique key makes a retried or concurrent batch skip what another committed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.case.crossings import count_of, policy_of
from services.case.history import note
from services.case.lifecycle import HAS_DEADLINES
from services.case.responses import EscalationOut
from services.clock.calendar import WorkCalendar
from services.department import tree
from services.duty import alerts
from services.supervision import service as supervision
from shared import metrics
from shared.enums import CaseStatus, EscalationReason, Level, Note, SupervisionSource
from shared.models import Case, Department, Escalation, Supervision
from shared.principal import SYSTEM
from shared.timeutil import shanghai_iso, to_shanghai

LABELS = {
    EscalationReason.reopened: "重办{count}次",
    EscalationReason.transferred: "转办{count}次",
    EscalationReason.returned: "退单{count}次",
    EscalationReason.overdue: "超期{overdue}未办结",
    EscalationReason.repeats: "重复来电{count}次",
}

RECORD = text("""
    INSERT INTO escalations (case_id, reason, count, from_level, level, unit, department, at)
    VALUES (:case_id, :reason, :count, :from_level, :level, :unit, :department, :at)
    ON CONFLICT (case_id, reason) DO NOTHING
    RETURNING id
""")


async def level_of(session: AsyncSession, case: Case) -> Level:
    """The level a case stands at: raised, the level it was raised to; else its lead
    department's (a case nobody leads yet: its intake hall's; none: the city's)."""
    if case.escalation_level:
        return Level(case.escalation_level)
    code = case.lead_department or case.intake_hall
    unit = await session.get(Department, code) if code else None
    return Level(unit.level) if unit is not None and unit.level else Level.city


async def unit_at(session: AsyncSession, case: Case, level: Level) -> str | None:
    """The unit of `level` above the case's lead department (or intake hall): the nearest one
    above it at that level or higher; at the top of the tree, the top itself."""
    code = case.lead_department or case.intake_hall
    if code is None:
        return None
    chain = await tree.ancestors(session, code)
    for unit in chain[1:]:
        if Level(unit.level or Level.city).rank <= level.rank:
            return unit.code
    return chain[-1].code if chain else None


def label(case: Case, reason: EscalationReason) -> str:
    policy = policy_of(case)
    return LABELS[reason].format(count=count_of(case, reason), overdue=policy.overdue)


async def raise_case(
    session: AsyncSession,
    case: Case,
    reasons: Iterable[EscalationReason],
    *,
    now: datetime,
    calendar: WorkCalendar,
) -> int:
    """Each crossing of `case` (locked by the caller) raised once: how many were new."""
    raised = 0
    for reason in reasons:
        start = await level_of(session, case)
        target = start.above
        unit = await unit_at(session, case, target)
        recorded = (
            await session.execute(
                RECORD,
                {
                    "case_id": case.id,
                    "reason": reason.value,
                    "count": count_of(case, reason),
                    "from_level": start.value,
                    "level": target.value,
                    "unit": unit,
                    "department": case.lead_department,
                    "at": now,
                },
            )
        ).scalar_one_or_none()
        if recorded is None:  # another batch raised it first: keep the case's record in step
            case.escalated = sorted({*(case.escalated or ()), reason.value})
            continue
        raised += 1
        why = f"提级督办:{label(case, reason)}"
        case.escalation_level = target.value
        case.escalated = sorted({*(case.escalated or ()), reason.value})
        order = None
        if CaseStatus(case.status) in HAS_DEADLINES and case.lead_department is not None:
            order = await supervision.issue(
                session,
                case,
                reason=why,
                respond_within=policy_of(case).respond_within,
                issuer=supervision.Issuer(unit, target),
                actor=SYSTEM,
                now=now,
                calendar=calendar,
                source=SupervisionSource.escalation,
                noted=False,  # the escalation's own row names the order
            )
            await session.execute(
                text("UPDATE escalations SET supervision_id = :order WHERE id = :id"),
                {"order": order.id, "id": recorded},
            )
        told = (
            await alerts.text_on_duty(
                session,
                unit,
                now,
                f"【提级】案件{case.case_no}{why},已提至{_LEVELS[target]}"
                f"({to_shanghai(now):%m月%d日%H:%M})。",
                case_no=case.case_no,
                event="escalated",
            )
            if unit
            else []
        )
        note(
            session,
            case,
            action=Note.escalated,
            actor=SYSTEM,
            at=now,
            reason=why,
            data={
                "escalation": {
                    "level": target.value,
                    "from_level": start.value,
                    "unit": unit,
                    "reason": reason.value,
                    "count": count_of(case, reason),
                    "at": now.isoformat(),
                },
                **(
                    {
                        "order_no": order.order_no,
                        "supervision_id": order.id,
                        "department": order.department,
                        "level": order.level,
                        "due_at": order.due_at.isoformat(),
                    }
                    if order
                    else {}
                ),
                "told": told,
            },
        )
        metrics.ESCALATIONS.labels(target.value, reason.value).inc()
    return raised


_LEVELS = {Level.city: "市级", Level.district: "区级", Level.street: "街镇级"}


async def raise_batch(
    session: AsyncSession,
    crossings: dict[int, list[EscalationReason]],
    *,
    now: datetime,
    calendar: WorkCalendar,
) -> int:
    """The crossings a sweep batch found, case by case in id order (the rows are the batch's,
    already locked): how many were new. Crossings are rare next to the batch's cards, so each
    is handled as a row."""
    if not crossings:
        return 0
    cases = await session.scalars(
        select(Case).where(Case.id.in_(sorted(crossings))).order_by(Case.id)
    )
    raised = 0
    for case in cases:
        raised += await raise_case(session, case, crossings[case.id], now=now, calendar=calendar)
    return raised


async def of_case(session: AsyncSession, case: Case) -> list[EscalationOut]:
    """Each time the case was raised, oldest first, with the order its level issued: no
    applicant in it, so every reader of the case sees it."""
    rows = await session.execute(
        select(Escalation, Supervision.order_no)
        .outerjoin(Supervision, Supervision.id == Escalation.supervision_id)
        .where(Escalation.case_id == case.id)
        .order_by(Escalation.id)
    )
    return [
        EscalationOut(
            level=e.level,
            from_level=e.from_level,
            unit=e.unit,
            reason=e.reason,
            count=e.count,
            department=e.department,
            at=shanghai_iso(e.at),
            order_no=order_no,
        )
        for e, order_no in rows.tuples()
    ]

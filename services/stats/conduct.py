"""作风 in figures: cases by `kind` and by `trigger`, and the `refused` ones (能办不办: a
conduct matter, 问题线索) per lead department. Counted from the cases of the period (the case
list's indexes by creation time), not from the rollup: these breakdowns are read by
supervisors, not by every dashboard refresh."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.case import repository
from services.case.categories import label as category_label
from services.case.lifecycle import OPEN
from services.department import repository as departments
from services.privacy import applicant_of, redact
from services.stats.responses import (
    ConductFigures,
    ConductLead,
    KindCount,
    RefusedByDepartment,
    TriggerCount,
)
from services.stats.service import Period
from shared.enums import Kind, Trigger
from shared.models import Case
from shared.timeutil import shanghai_iso

LEADS = 1000
"""A month's 问题线索 in the report: more than this is a crisis the figures already show."""

KINDS = {
    Kind.cannot: "不能办(法律政策不允许)",
    Kind.hard: "难办(关键材料缺失等)",
    Kind.refused: "能办不办(作风问题)",
}
TRIGGERS = {
    Trigger.not_told_once: "未一次性告知",
    Trigger.materials_refused: "材料被拒收",
    Trigger.overdue_elsewhere: "别处超时未办",
    Trigger.other: "其他",
}


def kind_label(kind: str | None) -> str:
    return KINDS[Kind(kind)] if kind else "未分类"


def trigger_label(trigger: str | None) -> str:
    return TRIGGERS[Trigger(trigger)] if trigger else "未说明"


async def figures(session: AsyncSession, period: Period) -> ConductFigures:
    open_now = func.count().filter(Case.status.in_([s.value for s in OPEN]))
    kinds = await session.execute(
        period.where(select(Case.kind, func.count(), open_now).group_by(Case.kind))
    )
    triggers = await session.execute(
        period.where(select(Case.trigger, func.count()).group_by(Case.trigger))
    )
    refused = list(
        (
            await session.execute(
                period.where(
                    select(Case.lead_department, func.count())
                    .where(Case.kind == Kind.refused.value)
                    .group_by(Case.lead_department)
                )
            )
        ).tuples()
    )
    names = await departments.names(session, (d for d, _ in refused if d))
    return ConductFigures(
        by_kind=sorted(
            (
                KindCount(kind=k, label=kind_label(k), cases=n, in_progress=o)
                for k, n, o in kinds.tuples()
            ),
            key=lambda c: (c.kind is None, c.kind or ""),
        ),
        by_trigger=sorted(
            (
                TriggerCount(trigger=t, label=trigger_label(t), cases=n)
                for t, n in triggers.tuples()
            ),
            key=lambda c: (c.trigger is None, c.trigger or ""),
        ),
        refused=sorted(
            (
                RefusedByDepartment(department=d, name=names.get(d) if d else None, cases=n)
                for d, n in refused
            ),
            key=lambda r: (-r.cases, r.department or ""),
        ),
    )


async def leads(session: AsyncSession, period: Period) -> list[ConductLead]:
    """The period's `refused` cases, oldest first, masked as the report is."""
    cases = list(
        await session.scalars(
            period.where(select(Case).where(Case.kind == Kind.refused.value))
            .order_by(Case.created_at, Case.id)
            .limit(LEADS)
        )
    )
    names = await departments.names(
        session, (c.lead_department for c in cases if c.lead_department)
    )
    handlers = await repository.signers(session, [c.id for c in cases])
    return [
        ConductLead(
            case_no=c.case_no,
            created_at=shanghai_iso(c.created_at),
            department=c.lead_department,
            department_name=names.get(c.lead_department) if c.lead_department else None,
            trigger=trigger_label(c.trigger),
            category=category_label(c.category),
            title=redact(c.title, **applicant_of(c)),
            status=c.status,
            handled_by=handlers.get(c.id),
        )
        for c in cases
    ]

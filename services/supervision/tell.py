"""Who hears of a 督办 step, through the outbox: the departments' webhooks and a text to the
department's notice mobile (whoever is on duty: `services.duty.alerts`). Written in the step's
transaction, so nobody is told of an order that rolled back and nobody is left untold of one
that stood."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.case.notify import notify_departments
from services.outbox import service as outbox
from services.outbox.topics import Topic
from shared.models import Case, Department, Supervision
from shared.timeutil import to_shanghai


def _when(moment: datetime) -> str:
    return f"{to_shanghai(moment):%m月%d日%H:%M}"


def order_text(order: Supervision, case_no: str) -> str:
    """What the department's mobile reads: the order and the case, never the applicant."""
    return f"【督办】{order.order_no}:案件{case_no}请于{_when(order.due_at)}前反馈办理进展。"


def overdue_text(order: Supervision, case_no: str) -> str:
    return f"【督办逾期】{order.order_no}(案件{case_no},{order.department})逾期未反馈。"


async def webhooks(
    session: AsyncSession, order: Supervision, case: Case, *, event: str, to: Iterable[str | None]
) -> None:
    """The order's event to each of `to` that has a webhook (the departments' notices, as every
    step on a case): its number, level and time; no reason or answer (those are on the case,
    for those who may read it)."""
    await notify_departments(
        session,
        case,
        [code for code in to if code],
        event,
        {
            "order_no": order.order_no,
            "supervision_id": order.id,
            "level": order.level,
            "due_at": order.due_at.isoformat(),
            "order_status": order.status,
        },
    )


def text_department(
    session: AsyncSession, department: Department, text: str, *, case_no: str, event: str
) -> bool:
    """A text to the department's notice mobile, when it has one."""
    if not department.notice_mobile:
        return False
    outbox.enqueue(
        session,
        Topic.staff_sms,
        {"department": department.code, "text": text, "case_no": case_no, "event": event},
        ordering_key=f"{Topic.staff_sms}:{department.code}",
    )
    return True

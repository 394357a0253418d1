"""一跟到底 notifications: who hears of a step on a case, through the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.department import repository as departments
from services.outbox import service as outbox
from shared.models import Case

TOPIC_NOTIFY = "department.notify"


async def notify_followers(
    session: AsyncSession, case: Case, event: str, extra: dict[str, Any] | None = None
) -> None:
    """The first-responsible department hears of every step on a case it handed on, and the
    lead department of what concerns it. Only departments with a webhook are sent anything."""
    wanted = {case.first_responsible_department, case.lead_department} - {None}
    for code in sorted(c for c in wanted if c):
        dept = await departments.get(session, code)
        if dept is not None and dept.webhook_url:
            outbox.enqueue(
                session,
                TOPIC_NOTIFY,
                ordering_key=f"{TOPIC_NOTIFY}:{code}:{case.case_no}",
                payload={
                    "department": code,
                    "url": dept.webhook_url,
                    "case_no": case.case_no,
                    "event": event,
                    "status": case.status,
                    "lead_department": case.lead_department,
                    **(extra or {}),
                },
            )

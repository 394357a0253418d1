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
        url = await _webhook(session, code)
        if url:
            outbox.enqueue(
                session,
                TOPIC_NOTIFY,
                ordering_key=f"{TOPIC_NOTIFY}:{code}:{case.case_no}",
                payload={
                    "department": code,
                    "url": url,
                    "case_no": case.case_no,
                    "event": event,
                    "status": case.status,
                    "lead_department": case.lead_department,
                    **(extra or {}),
                },
            )


async def _webhook(session: AsyncSession, code: str) -> str | None:
    """A department's webhook, looked up once per transaction: a sweep batch notifies the same
    few departments hundreds of times, and the session's identity map does not keep a
    department it no longer references."""
    known: dict[str, str | None] = session.info.setdefault("department_webhooks", {})
    if code not in known:
        dept = await departments.get(session, code)
        known[code] = dept.webhook_url if dept is not None else None
    return known[code]

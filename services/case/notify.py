"""一跟到底 notifications: who hears of a step on a case, through the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.outbox import service as outbox
from services.outbox.topics import Topic
from shared.models import Case, Department


class Followed(Protocol):
    """What a notice says of a case: an ORM case, or the SLA sweep's narrow row of one."""

    @property
    def case_no(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def lead_department(self) -> str | None: ...
    @property
    def first_responsible_department(self) -> str | None: ...


def followers(case: Followed) -> list[str]:
    """The first-responsible department hears of every step on a case it handed on, and the
    lead department of what concerns it."""
    return sorted({c for c in (case.first_responsible_department, case.lead_department) if c})


def notices(
    case: Followed,
    event: str,
    extra: dict[str, Any] | None,
    webhooks: dict[str, str | None],
    to: Iterable[str] | None = None,
) -> list[outbox.Message]:
    """The messages for one step, given the departments' webhooks: only departments with a
    webhook are sent anything; `to`: these departments, not the followers."""
    return [
        outbox.Message(
            Topic.department_notify,
            ordering_key=f"{Topic.department_notify}:{code}:{case.case_no}",
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
        for code in (sorted(set(to)) if to is not None else followers(case))
        if (url := webhooks.get(code))
    ]


async def webhooks(session: AsyncSession, codes: Iterable[str]) -> dict[str, str | None]:
    """Departments' webhooks, looked up once per transaction: a sweep batch notifies the same
    few departments hundreds of times, and the session's identity map does not keep a
    department it no longer references."""
    known: dict[str, str | None] = session.info.setdefault("department_webhooks", {})
    missing = set(codes) - known.keys()
    if missing:
        rows = await session.execute(
            select(Department.code, Department.webhook_url).where(Department.code.in_(missing))
        )
        known.update(dict.fromkeys(missing))
        known.update({code: url for code, url in rows.tuples()})
    return known


async def notify_followers(
    session: AsyncSession, case: Case, event: str, extra: dict[str, Any] | None = None
) -> None:
    await notify_departments(session, case, followers(case), event, extra)


async def notify_departments(
    session: AsyncSession,
    case: Case,
    codes: Iterable[str],
    event: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """A step told to these departments (a co-department asked for its opinion, carded)."""
    to = sorted(set(codes))
    for message in notices(case, event, extra, await webhooks(session, to), to):
        outbox.enqueue(session, message.topic, message.payload, ordering_key=message.ordering_key)

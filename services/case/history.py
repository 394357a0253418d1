"""Writing the append-only case history; every status change goes through `transition`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.case.lifecycle import Action, next_status
from services.sla.schedule import reschedule
from shared.enums import CaseStatus
from shared.models import Case, CaseEvent
from shared.principal import Principal
from shared.timeutil import utcnow


def record(
    session: AsyncSession,
    case: Case,
    *,
    action: str,
    actor: Principal,
    from_status: str | None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        at=at or case.updated_at,
        action=action,
        from_status=from_status,
        to_status=case.status,
        actor_role=actor.role.value,
        actor_key_id=actor.key_id,
        actor_department=actor.department,
        reason=reason,
        data=data or {},
    )
    session.add(event)
    return event


def transition(
    session: AsyncSession,
    case: Case,
    action: Action,
    *,
    actor: Principal,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Move `case` by `action` (409 if the life cycle forbids it) and write the event for it."""
    before = CaseStatus(case.status)
    case.status = next_status(before, action).value
    case.updated_at = utcnow()
    if case.status == CaseStatus.closed:
        case.closed_at = case.updated_at
    if case.status == CaseStatus.replied:
        case.replied_at = case.updated_at
    reschedule(case)
    return record(
        session,
        case,
        action=action.value,
        actor=actor,
        from_status=before.value,
        reason=reason,
        data=data,
    )

"""Writing the append-only case history; every status change goes through `transition`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.case.lifecycle import Action, next_status
from services.outbox import service as outbox
from services.sla.schedule import reschedule
from shared.enums import CaseStatus
from shared.models import Case, CaseEvent
from shared.principal import Principal


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
    if case.callback_url and (
        action.endswith("_card") or (from_status and from_status != case.status)
    ):
        _call_back(session, case, event)
    return event


TOPIC_CALLBACK = "channel.callback"
"""A status change or card on a case whose channel asked to hear of them (the 12345 order)."""


def _call_back(session: AsyncSession, case: Case, event: CaseEvent) -> None:
    """Written with the change itself: the channel hears of it even if we crash right after."""
    outbox.enqueue(
        session,
        TOPIC_CALLBACK,
        ordering_key=f"{TOPIC_CALLBACK}:{case.case_no}",
        payload={
            "url": case.callback_url,
            "order_id": case.external_ref,
            "case_no": case.case_no,
            "tracking_code": case.tracking_code,
            "event": event.action,
            "status": case.status,
            "lead_department": case.lead_department,
            "at": event.at.isoformat() if event.at else None,
            "reply": case.reply if case.status == "replied" else None,
            "card": {k: event.data[k] for k in ("deadline", "points") if k in event.data} or None,
        },
    )


def transition(
    session: AsyncSession,
    case: Case,
    action: Action,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Move `case` by `action` (409 if the life cycle forbids it) and write the event for it,
    both stamped with the action's `now`."""
    before = CaseStatus(case.status)
    case.status = next_status(before, action).value
    case.updated_at = now
    if case.status == CaseStatus.closed:
        case.closed_at = case.updated_at
    if case.status == CaseStatus.replied:
        case.replied_at = case.updated_at
    if case.status != CaseStatus.registered:
        case.held_until = None  # out of the window's hands, however it left
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

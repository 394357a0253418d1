"""Writing the append-only case history; every status change goes through `transition`.

A history row is never written alone: the applicant's notice of the step (when they hear of it)
and the channel's callback (when a channel asked to hear) go into the outbox in the same
transaction, so neither is lost to a crash right after. `record`, `note` and `transition` say
so in what they return (`Recorded`): the row, and what it set going."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.case.lifecycle import next_status
from services.case.schedule import reschedule
from services.notices import service as notices
from services.outbox import service as outbox
from services.outbox.topics import Topic
from shared.enums import CALLED_BACK, Action, CaseStatus, Note
from shared.models import Case, CaseEvent
from shared.principal import Principal


@dataclass(frozen=True)
class Recorded:
    """A history row and the messages written with it."""

    event: CaseEvent
    notice: str | None
    """The applicant's notice of the step (its event: `replied`…), or None: not one they hear
    of, opted out, no phone, or one like it already sent today."""
    callback: outbox.Message | None
    """The channel's callback, or None: no channel asked (no `callback_url`), or not a status
    change or a card."""


class Reported(Protocol):
    """What a callback says of a case: an ORM case, or the SLA sweep's narrow row of one."""

    @property
    def case_no(self) -> str: ...
    @property
    def tracking_code(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def lead_department(self) -> str | None: ...
    @property
    def callback_url(self) -> str | None: ...
    @property
    def external_ref(self) -> str | None: ...
    @property
    def reply(self) -> str | None: ...


def event_values(
    case_id: int,
    *,
    action: str,
    actor: Principal,
    from_status: str | None,
    to_status: str,
    at: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One history row's columns: what `record` adds one at a time and `append` many at once."""
    return {
        "case_id": case_id,
        "at": at,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "actor_role": actor.role.value,
        "actor_key_id": actor.key_id,
        "actor_department": actor.department,
        "reason": reason,
        "data": data or {},
    }


def calls_back(case: Reported, action: str, from_status: str | None) -> bool:
    """The channel that asked hears of every status change, every card and every 督办."""
    return bool(case.callback_url) and (
        action in CALLED_BACK or (from_status is not None and from_status != case.status)
    )


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
) -> Recorded:
    event = CaseEvent(
        **event_values(
            case.id,
            action=action,
            actor=actor,
            from_status=from_status,
            to_status=case.status,
            at=at or case.updated_at,
            reason=reason,
            data=data,
        )
    )
    session.add(event)
    notice = notices.enqueue_for(
        session,
        case,
        action=action,
        from_status=from_status,
        reason=reason,
        data=event.data,
        at=event.at,
    )
    message = None
    if calls_back(case, action, from_status):
        message = callback(case, event.action, event.at, event.data)
        outbox.enqueue(session, message.topic, message.payload, ordering_key=message.ordering_key)
    return Recorded(event, notice, message)


def note(
    session: AsyncSession,
    case: Case,
    *,
    action: Note,
    actor: Principal,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Recorded:
    """An event that leaves the status as it is (a repeat, a card, an extension asked for)."""
    return record(
        session,
        case,
        action=action,
        actor=actor,
        from_status=case.status,
        reason=reason,
        data=data,
        at=at,
    )


APPEND = text("""
    INSERT INTO case_events (case_id, at, action, from_status, to_status, actor_role,
                             actor_key_id, actor_department, reason, data)
    SELECT case_id, at, action, from_status, to_status, actor_role, actor_key_id,
           actor_department, reason, CAST(data AS jsonb)
    FROM unnest(CAST(:case_ids AS bigint[]), CAST(:ats AS timestamptz[]),
                CAST(:actions AS text[]), CAST(:froms AS text[]), CAST(:tos AS text[]),
                CAST(:roles AS text[]), CAST(:keys AS uuid[]), CAST(:departments AS text[]),
                CAST(:reasons AS text[]), CAST(:data AS text[]))
         AS e(case_id, at, action, from_status, to_status, actor_role, actor_key_id,
              actor_department, reason, data)
""")


async def append(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    """Many history rows (`event_values`) in one statement, for a batch job that writes
    hundreds at once; the rows are exactly what `record` would have written one by one."""
    if not events:
        return
    await session.execute(
        APPEND,
        {
            "case_ids": [e["case_id"] for e in events],
            "ats": [e["at"] for e in events],
            "actions": [e["action"] for e in events],
            "froms": [e["from_status"] for e in events],
            "tos": [e["to_status"] for e in events],
            "roles": [e["actor_role"] for e in events],
            "keys": [e["actor_key_id"] for e in events],
            "departments": [e["actor_department"] for e in events],
            "reasons": [e["reason"] for e in events],
            "data": [json.dumps(e["data"], ensure_ascii=False) for e in events],
        },
    )


def callback(
    case: Reported, action: str, at: datetime | None, data: dict[str, Any]
) -> outbox.Message:
    """The channel's message for one history row, written with the change itself: the channel
    hears of it even if we crash right after."""
    return outbox.Message(
        Topic.channel_callback,
        ordering_key=f"{Topic.channel_callback}:{case.case_no}",
        payload={
            "url": case.callback_url,
            "order_id": case.external_ref,
            "case_no": case.case_no,
            "tracking_code": case.tracking_code,
            "event": action,
            "status": case.status,
            "lead_department": case.lead_department,
            "at": at.isoformat() if at else None,
            "reply": case.reply if case.status == "replied" else None,
            "card": {k: data[k] for k in ("deadline", "points") if k in data} or None,
            **_supervision(data),
            **({"escalation": data["escalation"]} if action == Note.escalated else {}),
        },
    )


def _supervision(data: dict[str, Any]) -> dict[str, Any]:
    """A 督办's callback says which order, from which level, due when (and only a 督办's)."""
    if "order_no" not in data:
        return {}
    keys = ("order_no", "due_at", "level", "department", "card_id")
    return {"supervision": {k: data[k] for k in keys if k in data}}


def transition(
    session: AsyncSession,
    case: Case,
    action: Action,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> Recorded:
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

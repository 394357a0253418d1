"""Operators' view of outbound deliveries: what is waiting, what gave up, and a retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.authz import May
from services.outbox import service as outbox
from shared.database import transaction
from shared.errors import not_found
from shared.principal import Principal
from shared.timeutil import shanghai_iso
from web.auth import allowed
from web.contract import Page
from web.deps import Sessionmaker
from web.params import Cursor, RowId

router = APIRouter(prefix="/api/v1/outbox", tags=["outbox"])


class OutboxMessageOut(BaseModel):
    """A message as operators see it: where it stands, never its payload (which can hold a
    case's callback URL and the like), only the case, department and event it concerns."""

    id: int
    topic: str = Field(examples=["department.notify", "channel.callback", "case.registered"])
    attempts: int
    last_error: str | None
    created_at: str | None
    next_attempt_at: str | None
    delivered_at: str | None
    failed_at: str | None
    case_no: str | None
    department: str | None
    event: str | None


class Retried(BaseModel):
    id: int
    state: str = Field(examples=["pending"])


Operator = Annotated[Principal, allowed(May.operate_outbox)]


@router.get("", response_model=Page[OutboxMessageOut])
async def list_messages(
    _: Operator,
    sessions: Sessionmaker,
    state: Annotated[str, Query(pattern="^(pending|failed|delivered)$")] = "failed",
    topic: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    async with transaction(sessions) as session:
        rows, next_cursor = await outbox.listing(
            session, state=state, topic=topic, limit=limit, cursor=cursor
        )
    items = [
        {
            "id": m.id,
            "topic": m.topic,
            "attempts": m.attempts,
            "last_error": m.last_error,
            "created_at": shanghai_iso(m.created_at),
            "next_attempt_at": shanghai_iso(m.available_at),
            "delivered_at": shanghai_iso(m.delivered_at),
            "failed_at": shanghai_iso(m.failed_at),
            "case_no": m.payload.get("case_no"),
            "department": m.payload.get("department"),
            "event": m.payload.get("event"),
        }
        for m in rows
    ]
    return {"items": items, "next_cursor": next_cursor, "limit": limit}


@router.post("/{message_id}/retry", status_code=202, response_model=Retried)
async def retry(message_id: RowId, _: Operator, sessions: Sessionmaker) -> dict[str, Any]:
    async with transaction(sessions) as session:
        if not await outbox.retry(session, message_id):
            raise not_found(f"failed outbox message {message_id}")
    return {"id": message_id, "state": "pending"}

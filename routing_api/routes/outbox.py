"""Operators' view of outbound deliveries: what is waiting, what gave up, and a retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.authz import May
from services.outbox import service as outbox
from services.outbox.responses import OutboxMessageOut, Retried
from shared.database import transaction
from shared.errors import forbidden, not_found
from shared.principal import Principal
from shared.view import Page
from web.auth import allowed
from web.deps import Sessionmaker
from web.params import Cursor, RowId

router = APIRouter(prefix="/api/v1/outbox", tags=["outbox"])


Operator = Annotated[Principal, allowed(May.operate_outbox)]


def _city_only(operator: Principal) -> None:
    """The deliveries are the whole city's (every case's number, every department's hooks):
    a supervisor bound to a unit does not operate them."""
    if operator.units is not None:
        raise forbidden("the outbox is the city's: a key bound to a unit does not operate it")


@router.get("", response_model=Page[OutboxMessageOut])
async def list_messages(
    operator: Operator,
    sessions: Sessionmaker,
    state: Annotated[str, Query(pattern="^(pending|failed|delivered)$")] = "failed",
    topic: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> Page[OutboxMessageOut]:
    _city_only(operator)
    async with transaction(sessions) as session:
        rows, next_cursor = await outbox.listing(
            session, state=state, topic=topic, limit=limit, cursor=cursor
        )
    items = [outbox.message_out(m) for m in rows]
    return Page[OutboxMessageOut](items=items, next_cursor=next_cursor, limit=limit)


@router.post("/{message_id}/retry", status_code=202, response_model=Retried)
async def retry(message_id: RowId, operator: Operator, sessions: Sessionmaker) -> Retried:
    _city_only(operator)
    async with transaction(sessions) as session:
        if not await outbox.retry(session, message_id):
            raise not_found(f"failed outbox message {message_id}")
    return Retried(id=message_id, state="pending")

"""The window's inbox of what applicants texted back that needs a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.authz import May
from services.case import access
from services.notices import inbox
from services.notices.responses import SmsReplyOut
from shared.database import transaction
from shared.principal import Principal
from shared.view import Page
from web.auth import allowed
from web.deps import Now, Sessionmaker
from web.params import Cursor, RowId

router = APIRouter(prefix="/api/v1/sms-replies", tags=["cases"])
Reader = Annotated[Principal, allowed(May.read_sms_replies)]


@router.get("", response_model=Page[SmsReplyOut])
async def list_sms_replies(
    reader: Reader,
    sessions: Sessionmaker,
    waiting: Annotated[
        bool, Query(description="only replies no rule acted on and nobody has read")
    ] = True,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> Page[SmsReplyOut]:
    async with transaction(sessions) as session:
        items, next_cursor = await inbox.page(
            session, access.inbox_scope(reader), waiting=waiting, limit=limit, cursor=cursor
        )
    return Page[SmsReplyOut](items=items, next_cursor=next_cursor, limit=limit)


@router.post("/{reply_id}/read", response_model=SmsReplyOut)
async def mark_sms_reply_read(
    reply_id: RowId, reader: Reader, sessions: Sessionmaker, now: Now
) -> SmsReplyOut:
    async with transaction(sessions) as session:
        return await inbox.mark_read(session, reply_id, access.inbox_scope(reader), now=now)

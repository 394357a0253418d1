"""The window's reply inbox: what applicants texted that no rule could act on, until a person
has read it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import pagination
from shared.errors import not_found
from shared.models import Case, SmsReply
from shared.timeutil import shanghai_iso


def _rows() -> Select[tuple[SmsReply, str]]:
    """Each reply with its case's number (None through the outer join when it has no case)."""
    return select(SmsReply, Case.case_no).outerjoin(Case, Case.id == SmsReply.case_id)


def reply_out(reply: SmsReply, case_no: str | None) -> dict[str, Any]:
    return {
        "id": reply.id,
        "received_at": shanghai_iso(reply.received_at),
        "case_no": case_no,
        "phone_last4": reply.phone_last4,
        "text": reply.text,
        "outcome": reply.outcome,
        "read_at": shanghai_iso(reply.read_at),
    }


async def page(
    session: AsyncSession, *, waiting: bool, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; `waiting`: only the messages for a person nobody has read yet (their own
    partial index, however many ratings pile up beside them)."""
    stmt = _rows()
    if waiting:
        stmt = stmt.where(SmsReply.outcome == "other", SmsReply.read_at.is_(None))
    if cursor:
        (before,) = pagination.decode_cursor(cursor, pagination.row_id)
        stmt = stmt.where(SmsReply.id < before)
    stmt = stmt.order_by(SmsReply.id.desc()).limit(limit + 1)
    rows = [reply_out(r, no) for r, no in (await session.execute(stmt)).tuples()]
    return pagination.page(rows, limit, lambda r: (r["id"],))


async def of_case(session: AsyncSession, case_id: int) -> list[dict[str, Any]]:
    stmt = _rows().where(SmsReply.case_id == case_id).order_by(SmsReply.id)
    return [reply_out(r, no) for r, no in (await session.execute(stmt)).tuples()]


async def mark_read(session: AsyncSession, reply_id: int, *, now: datetime) -> dict[str, Any]:
    """Read once: marking it again keeps the first reader's time."""
    reply = await session.get(SmsReply, reply_id, with_for_update=True)
    if reply is None:
        raise not_found(f"reply {reply_id}")
    if reply.read_at is None:
        reply.read_at = now
    case_no = (
        await session.scalar(select(Case.case_no).where(Case.id == reply.case_id))
        if reply.case_id
        else None
    )
    return reply_out(reply, case_no)

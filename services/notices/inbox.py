"""The window's reply inbox: what applicants texted that no rule could act on, until a person
has read it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notices.responses import SmsReplyOut
from shared import audit, pagination
from shared.errors import not_found
from shared.models import Case, SmsReply
from shared.timeutil import shanghai_iso


@dataclass(frozen=True)
class Scope:
    """Whose replies a reader sees: every one (the coordinator), or those on the cases of a
    hall and of a key (a window: what it may read in clear; services/case/access)."""

    everything: bool = False
    hall: str | None = None
    key_id: uuid.UUID | None = None
    units: frozenset[str] | None = None
    """A unit-bound coordinator (层级): the replies on its subtree's cases, and none that
    matched no case (those are the city's coordinator's)."""

    def condition(self) -> ColumnElement[bool] | None:
        if self.everything:
            return None
        mine = [Case.intake_hall == self.hall] if self.hall else []
        if self.key_id is not None:
            mine.append(Case.created_by_key_id == self.key_id)
        if self.units is not None:
            units = sorted(self.units)
            mine += [
                Case.lead_department.in_(units),
                Case.first_responsible_department.in_(units),
                Case.intake_hall.in_(units),
            ]
        return or_(*mine) if mine else false()


def _rows() -> Select[tuple[SmsReply, str]]:
    """Each reply with its case's number (None through the outer join when it has no case)."""
    return select(SmsReply, Case.case_no).outerjoin(Case, Case.id == SmsReply.case_id)


def reply_out(reply: SmsReply, case_no: str | None) -> SmsReplyOut:
    """The applicant's own words, in clear: the reading writes an audit row naming the case
    (issue 26 #7)."""
    if case_no is not None and reply.text:
        audit.disclosed(case_no, ["sms_text"])
    return SmsReplyOut(
        id=reply.id,
        received_at=shanghai_iso(reply.received_at),
        case_no=case_no,
        phone_last4=reply.phone_last4,
        text=reply.text,
        outcome=reply.outcome,
        read_at=shanghai_iso(reply.read_at),
    )


async def page(
    session: AsyncSession, scope: Scope, *, waiting: bool, limit: int, cursor: str | None
) -> tuple[list[SmsReplyOut], str | None]:
    """Newest first; `waiting`: only the messages for a person nobody has read yet (their own
    partial index, however many ratings pile up beside them)."""
    stmt = _rows()
    if (mine := scope.condition()) is not None:
        stmt = stmt.where(mine)
    if waiting:
        stmt = stmt.where(SmsReply.outcome == "other", SmsReply.read_at.is_(None))
    if cursor:
        (before,) = pagination.decode_cursor(cursor, pagination.row_id)
        stmt = stmt.where(SmsReply.id < before)
    stmt = stmt.order_by(SmsReply.id.desc()).limit(limit + 1)
    rows = [reply_out(r, no) for r, no in (await session.execute(stmt)).tuples()]
    if rows:
        # Replies matched to no case are shown too: the inbox's row says it was read.
        audit.exported(f"sms reply inbox, {min(len(rows), limit)} replies")
    return pagination.page(rows, limit, lambda r: (r.id,))


async def of_case(session: AsyncSession, case_id: int, case_no: str) -> list[SmsReplyOut]:
    """One case's replies: the number is the caller's, so no join to the (partitioned) cases,
    which cost a case read as much as its audit row."""
    stmt = select(SmsReply).where(SmsReply.case_id == case_id).order_by(SmsReply.id)
    return [reply_out(r, case_no) for r in (await session.execute(stmt)).scalars()]


async def mark_read(
    session: AsyncSession, reply_id: int, scope: Scope, *, now: datetime
) -> SmsReplyOut:
    """Read once: marking it again keeps the first reader's time. A reply the reader may not
    see is as missing as one that does not exist."""
    stmt = _rows().where(SmsReply.id == reply_id).with_for_update(of=SmsReply)
    if (mine := scope.condition()) is not None:
        stmt = stmt.where(mine)
    found = (await session.execute(stmt)).tuples().first()
    if found is None:
        raise not_found(f"reply {reply_id}")
    reply, case_no = found
    if reply.read_at is None:
        reply.read_at = now
    return reply_out(reply, case_no)

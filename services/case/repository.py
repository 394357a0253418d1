"""Every query on cases and their history, in one place."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.case import partitions
from services.case.lifecycle import FINISHED, OPEN
from shared import pagination
from shared.enums import CaseStatus, Level
from shared.errors import not_found
from shared.models import ApiKey, Case, CaseEvent, Notice, TrackingCode


def _by_no(*, in_month: bool, for_update: bool) -> Select[tuple[Case]]:
    stmt = select(Case).where(Case.case_no == bindparam("no"))
    if in_month:
        stmt = stmt.where(partitions.in_month(bindparam("lo", type_=BigInteger)))
    return stmt.with_for_update() if for_update else stmt


def _lock_by_nos(*, in_month: bool) -> Select[tuple[Case]]:
    stmt = select(Case).where(Case.case_no.in_(bindparam("nos", expanding=True)))
    if in_month:
        stmt = stmt.where(partitions.in_month(bindparam("lo", type_=BigInteger)))
    return stmt.order_by(Case.id).with_for_update()


_BY_NO = {
    (month, lock): _by_no(in_month=month, for_update=lock)
    for month in (True, False)
    for lock in (True, False)
}
_LOCK_BY_NOS = {month: _lock_by_nos(in_month=month) for month in (True, False)}
"""The look-ups by number, one case or a group's, built once: every hand-over and every action
on a case runs one, and building it per call cost more than the database spends on it (issue
32)."""


async def get_by_no(session: AsyncSession, case_no: str, *, for_update: bool = False) -> Case:
    """Looked for first in the month its number names (its id carries the same month); only a
    number not found there is looked for everywhere, so no case is ever lost to that rule."""
    lo = partitions.month_start(case_no)
    case = None
    if lo is not None:
        case = await _one(session, _BY_NO[True, for_update], {"no": case_no, "lo": lo})
    if case is None:
        case = await _one(session, _BY_NO[False, for_update], {"no": case_no})
    if case is None:
        raise not_found(f"case {case_no}")
    return case


async def _one(
    session: AsyncSession, stmt: Select[tuple[Case]], values: dict[str, Any]
) -> Case | None:
    return (await session.execute(stmt, values)).scalar_one_or_none()


async def _all(
    session: AsyncSession, stmt: Select[tuple[Case]], values: dict[str, Any]
) -> Sequence[Case]:
    return (await session.execute(stmt, values)).scalars().all()


async def lock_many_by_no(session: AsyncSession, case_nos: list[str]) -> dict[str, Case]:
    """The cases of these numbers that exist, locked for update in the order of their ids (so
    two groups that share cases wait for each other instead of deadlocking), in one statement
    per partition-month condition: one for a group registered in one month."""
    months: dict[int | None, list[str]] = {}
    for no in dict.fromkeys(case_nos):
        months.setdefault(partitions.month_start(no), []).append(no)
    found: dict[str, Case] = {}
    for lo, nos in months.items():
        values: dict[str, Any] = {"nos": nos} if lo is None else {"nos": nos, "lo": lo}
        found.update(
            (c.case_no, c) for c in await _all(session, _LOCK_BY_NOS[lo is not None], values)
        )
    missing = [no for no in case_nos if no not in found]
    if missing:  # a number whose month does not hold it: looked for everywhere, as one by one
        found.update(
            (c.case_no, c) for c in await _all(session, _LOCK_BY_NOS[False], {"nos": missing})
        )
    return found


async def get_by_tracking_code(session: AsyncSession, code: str) -> Case | None:
    stmt = select(Case).join(TrackingCode, TrackingCode.case_id == Case.id)
    stmt = stmt.where(TrackingCode.code == code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def notices(session: AsyncSession, case_id: int) -> list[Notice]:
    stmt = select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)
    return list((await session.execute(stmt)).scalars())


async def history(session: AsyncSession, case_id: int) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    return list((await session.execute(stmt)).scalars())


@dataclass
class CaseFilter:
    statuses: list[CaseStatus] | None = None
    department: str | None = None
    channel: str | None = None
    overdue: bool | None = None
    kind: str | None = None
    trigger: str | None = None
    escalated: bool | None = None
    level: Level | None = None
    """Raised (提级) to this level."""
    created_from: datetime | None = None
    created_to: datetime | None = None
    created_by_key_id: object | None = None
    units: frozenset[str] | None = None
    """A unit's subtree (层级): the cases it leads, first answered for or registered at."""


def involving(department: str) -> object:
    """A department's cases: it leads, was first asked, co-handles, or registered them."""
    return or_(
        Case.lead_department == department,
        Case.first_responsible_department == department,
        Case.intake_department == department,
        Case.co_departments.contains([department]),
    )


def _filtered(filters: CaseFilter, now: datetime) -> Select[tuple[Case]]:
    stmt = select(Case)
    if filters.statuses:
        stmt = stmt.where(Case.status.in_([s.value for s in filters.statuses]))
    if filters.department:
        stmt = stmt.where(involving(filters.department))  # type: ignore[arg-type]
    if filters.channel:
        stmt = stmt.where(Case.channel == filters.channel)
    if filters.kind:
        stmt = stmt.where(Case.kind == filters.kind)
    if filters.trigger:
        stmt = stmt.where(Case.trigger == filters.trigger)
    if filters.escalated is not None:
        raised = Case.escalation_level.is_not(None)
        stmt = stmt.where(raised if filters.escalated else ~raised)
    if filters.level is not None:
        stmt = stmt.where(Case.escalation_level == filters.level.value)
    if filters.created_from:
        stmt = stmt.where(Case.created_at >= filters.created_from)
    if filters.created_to:
        stmt = stmt.where(Case.created_at < filters.created_to)
    if filters.created_by_key_id is not None:
        stmt = stmt.where(Case.created_by_key_id == filters.created_by_key_id)
    if filters.units is not None:
        units = sorted(filters.units)
        stmt = stmt.where(
            or_(
                Case.lead_department.in_(units),
                Case.first_responsible_department.in_(units),
                Case.intake_hall.in_(units),
            )
        )
    if filters.overdue is not None:
        late = and_(
            Case.status.in_([s.value for s in OPEN]),
            or_(
                and_(Case.handle_due_at.is_not(None), Case.handle_due_at < now),
                and_(
                    Case.status == CaseStatus.assigned.value,
                    Case.sign_due_at.is_not(None),
                    Case.sign_due_at < now,
                ),
            ),
        )
        stmt = stmt.where(late if filters.overdue else ~late)
    return stmt


async def page(
    session: AsyncSession,
    filters: CaseFilter,
    *,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> tuple[list[Case], str | None]:
    """Newest first, keyset-paginated on (created_at, id) so a page never shifts under inserts."""
    stmt = _filtered(filters, now)
    if cursor:
        moment, ident = pagination.decode_cursor(cursor, pagination.moment, pagination.row_id)
        stmt = stmt.where(
            or_(Case.created_at < moment, and_(Case.created_at == moment, Case.id < ident))
        )
    stmt = stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit + 1)
    rows = (await session.execute(stmt)).scalars().all()
    return pagination.page(rows, limit, lambda c: (c.created_at, c.id))


@dataclass(frozen=True)
class RequestFilter:
    """Open311's query of requests (GeoReport v2): numbered pages, not cursors, as its clients
    page. `created_by` (a portal's key) or `channels` (the public feed's) bounds what is read."""

    created_by: uuid.UUID | None = None
    channels: tuple[str, ...] | None = None
    case_nos: tuple[str, ...] | None = None
    category: str | None = None
    finished: bool | None = None
    """True: only closed (finished) requests; False: only open ones; None: both."""


async def requests(
    session: AsyncSession, filters: RequestFilter, *, size: int, page: int
) -> list[Case]:
    """Newest first, `size` to a page."""
    stmt = select(Case).order_by(Case.created_at.desc(), Case.id.desc())
    if filters.created_by is not None:
        stmt = stmt.where(Case.created_by_key_id == filters.created_by)
    if filters.channels is not None:
        stmt = stmt.where(Case.channel.in_(filters.channels))
    if filters.case_nos:
        stmt = stmt.where(Case.case_no.in_(filters.case_nos))
    if filters.category:
        stmt = stmt.where(Case.category == filters.category)
    if filters.finished is not None:
        finished = Case.status.in_([s.value for s in FINISHED])
        stmt = stmt.where(finished if filters.finished else ~finished)
    stmt = stmt.limit(size).offset((page - 1) * size)
    return list((await session.execute(stmt)).scalars())


async def signers(session: AsyncSession, case_ids: list[int]) -> dict[int, str]:
    """Who handled each case: the label of the department key that last signed for it (a
    person or a desk, as the security administrator named the key), for supervisors following
    up a conduct matter (能办不办)."""
    if not case_ids:
        return {}
    last_sign = (
        select(CaseEvent.case_id, func.max(CaseEvent.id).label("event_id"))
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.action == "sign")
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    rows = await session.execute(
        select(CaseEvent.case_id, ApiKey.label, ApiKey.holder)
        .join(last_sign, last_sign.c.event_id == CaseEvent.id)
        .join(ApiKey, ApiKey.id == CaseEvent.actor_key_id)
    )
    return {
        case_id: str(label or holder) for case_id, label, holder in rows.tuples() if label or holder
    }

"""Reading the audit trail (for the auditor) and keeping it as long as the law asks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.responses import AuditEntryOut
from shared import pagination
from shared.database import delete_first
from shared.models import AuditEntry
from shared.timeutil import shanghai_iso

PRUNE_BATCH = 5_000
LEAST_RETENTION = timedelta(days=183)
"""Six months: 等保 2.0's floor, which the table's trigger enforces whatever the setting."""


@dataclass
class TrailFilter:
    case_no: str | None = None
    key_id: uuid.UUID | None = None
    role: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=shanghai_iso(entry.at),
        key_id=str(entry.key_id) if entry.key_id else None,
        role=entry.role,
        operation=entry.operation,
        case_nos=list(entry.case_nos),
        fields=list(entry.fields),
        address=entry.address,
        reason=entry.reason,
        subject=entry.subject,
    )


async def page(
    session: AsyncSession, filters: TrailFilter, *, limit: int, cursor: str | None
) -> tuple[list[AuditEntryOut], str | None]:
    """Newest first; a case number through the GIN index on the rows' case lists."""
    stmt = select(AuditEntry)
    if filters.case_no:
        stmt = stmt.where(AuditEntry.case_nos.contains([filters.case_no]))
    if filters.key_id:
        stmt = stmt.where(AuditEntry.key_id == filters.key_id)
    if filters.role:
        stmt = stmt.where(AuditEntry.role == filters.role)
    if filters.date_from:
        stmt = stmt.where(AuditEntry.at >= filters.date_from)
    if filters.date_to:
        stmt = stmt.where(AuditEntry.at < filters.date_to)
    if cursor:
        (before,) = pagination.decode_cursor(cursor, pagination.row_id)
        stmt = stmt.where(AuditEntry.id < before)
    stmt = stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)
    rows = [entry_out(e) for e in (await session.execute(stmt)).scalars()]
    return pagination.page(rows, limit, lambda r: (r.id,))


async def prune(session: AsyncSession, *, older_than: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Rows past the retention go, a batch at a time; never one younger than six months (the
    trigger refuses it, so a wrong setting fails loudly instead of losing the trail)."""
    keep = max(older_than, LEAST_RETENTION)
    return await delete_first(
        session,
        AuditEntry,
        where=AuditEntry.at < func.now() - keep,
        order_by=AuditEntry.id,
        batch=batch,
    )

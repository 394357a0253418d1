"""The audit trail of who saw applicants' personal data: the auditor's, and only theirs."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from services.audit import trail
from services.audit.responses import AuditEntryOut
from services.authz import May
from shared.database import transaction
from shared.enums import Role
from shared.principal import Principal
from shared.timeutil import SHANGHAI
from shared.view import Page
from web.auth import allowed
from web.deps import Sessionmaker
from web.params import Cursor

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Auditor = Annotated[Principal, allowed(May.read_audit)]


Day = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2999, 12, 31))]


@router.get("", response_model=Page[AuditEntryOut])
async def list_audit(
    _: Auditor,
    sessions: Sessionmaker,
    case_no: Annotated[str | None, Query(max_length=40)] = None,
    key_id: uuid.UUID | None = None,
    role: Role | None = None,
    date_from: Annotated[Day, Query(alias="from", description="Shanghai day, inclusive")] = None,
    date_to: Annotated[Day, Query(alias="to", description="Shanghai day, inclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> Page[AuditEntryOut]:
    filters = trail.TrailFilter(
        case_no=case_no,
        key_id=key_id,
        role=role.value if role else None,
        date_from=_start(date_from),
        date_to=_start(date_to + timedelta(days=1)) if date_to else None,
    )
    async with transaction(sessions) as session:
        items, next_cursor = await trail.page(session, filters, limit=limit, cursor=cursor)
    return Page[AuditEntryOut](items=items, next_cursor=next_cursor, limit=limit)


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, SHANGHAI) if day else None

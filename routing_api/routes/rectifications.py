"""整改: the rectification register, from what the cases show to a verified fix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from routing_api.deps import Calendar
from services.authz import May
from services.department import tree
from services.rectification import service as rectifications
from services.rectification.responses import RectificationOut
from services.rectification.schemas import Done, RectificationCreate, Reopen, Start, Verify
from shared.database import transaction
from shared.enums import RectificationStatus
from shared.principal import Principal
from shared.view import Page
from web.auth import allowed
from web.deps import Now, Sessionmaker
from web.params import Cursor, RowId

router = APIRouter(prefix="/api/v1", tags=["rectifications"])
Supervisor = Annotated[Principal, allowed(May.rectify)]
Owner = Annotated[Principal, allowed(May.work_on_rectifications)]
Reader = Annotated[Principal, allowed(May.read_rectifications)]
"""The roles that may read the register; the service narrows a department key to its own and a
unit-bound key to its subtree's."""


@router.post("/rectifications", status_code=201, response_model=RectificationOut)
async def open_rectification(
    body: RectificationCreate,
    actor: Supervisor,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> RectificationOut:
    """整改: the owner department is to fix what a topic's cases show, due in working days."""
    async with transaction(sessions) as session:
        found = await rectifications.open_rectification(
            session, body, actor=actor, now=now, calendar=calendar
        )
        return await rectifications.out(session, found, whole=True)


@router.get("/rectifications", response_model=Page[RectificationOut])
async def list_rectifications(
    actor: Reader,
    sessions: Sessionmaker,
    status: RectificationStatus | None = None,
    department: Annotated[str | None, Query(max_length=32)] = None,
    unit: Annotated[
        str | None, Query(max_length=32, description="owned within this unit's subtree")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> Page[RectificationOut]:
    async with transaction(sessions) as session:
        units = await tree.scope(session, actor, unit) if unit is not None else None
        items, next_cursor = await rectifications.page(
            session,
            actor,
            rectifications.Wanted(status=status, department=department, unit=units),
            limit=limit,
            cursor=cursor,
        )
    return Page[RectificationOut](items=items, next_cursor=next_cursor, limit=limit)


@router.get("/rectifications/{rectification_id}", response_model=RectificationOut)
async def get_rectification(
    rectification_id: RowId, actor: Reader, sessions: Sessionmaker
) -> RectificationOut:
    async with transaction(sessions) as session:
        return await rectifications.one(session, rectification_id, actor)


@router.post("/rectifications/{rectification_id}/start", response_model=RectificationOut)
async def start_rectification(
    rectification_id: RowId, body: Start, actor: Owner, sessions: Sessionmaker, now: Now
) -> RectificationOut:
    async with transaction(sessions) as session:
        found = await rectifications.start(session, rectification_id, body, actor=actor, now=now)
        return await rectifications.out(session, found, whole=True)


@router.post("/rectifications/{rectification_id}/done", response_model=RectificationOut)
async def finish_rectification(
    rectification_id: RowId, body: Done, actor: Owner, sessions: Sessionmaker, now: Now
) -> RectificationOut:
    async with transaction(sessions) as session:
        found = await rectifications.done(session, rectification_id, body, actor=actor, now=now)
        return await rectifications.out(session, found, whole=True)


@router.post("/rectifications/{rectification_id}/verify", response_model=RectificationOut)
async def verify_rectification(
    rectification_id: RowId, body: Verify, actor: Supervisor, sessions: Sessionmaker, now: Now
) -> RectificationOut:
    async with transaction(sessions) as session:
        found = await rectifications.verify(session, rectification_id, body, actor=actor, now=now)
        return await rectifications.out(session, found, whole=True)


@router.post("/rectifications/{rectification_id}/reopen", response_model=RectificationOut)
async def reopen_rectification(
    rectification_id: RowId,
    body: Reopen,
    actor: Supervisor,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> RectificationOut:
    async with transaction(sessions) as session:
        found = await rectifications.reopen(
            session, rectification_id, body, actor=actor, now=now, calendar=calendar
        )
        return await rectifications.out(session, found, whole=True)

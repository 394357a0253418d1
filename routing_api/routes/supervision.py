"""督办 and 催办: orders to the lead department, their answers, and reminders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from routing_api.deps import Calendar
from services.authz import May
from services.department import tree
from services.supervision import service as supervision
from services.supervision.responses import Reminded, SupervisionOut
from services.supervision.schemas import Remind, Respond, Supervise
from shared.database import transaction
from shared.enums import SupervisionStatus
from shared.principal import Principal
from shared.view import Page
from web.auth import allowed
from web.deps import Now, Sessionmaker
from web.params import Cursor, RowId

router = APIRouter(prefix="/api/v1", tags=["supervision"])
CaseNo = Annotated[str, Path(max_length=40)]
Supervisor = Annotated[Principal, allowed(May.supervise)]
Department = Annotated[Principal, allowed(May.handle_cases)]
Reader = Annotated[Principal, allowed(May.read_supervisions)]
"""The roles that may read orders; the service narrows a department key to those addressed to
it and a unit-bound key to its subtree's."""


@router.post("/cases/{case_no}/supervise", status_code=201, response_model=SupervisionOut)
async def supervise(
    case_no: CaseNo,
    body: Supervise,
    actor: Supervisor,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> SupervisionOut:
    """督办: a numbered order to the case's lead department, due in working time, copied to the
    unit above it (webhooks, a text to its notice mobile, the history, the hotline)."""
    async with transaction(sessions) as session:
        order, case = await supervision.supervise(
            session, case_no, body, actor=actor, now=now, calendar=calendar
        )
        return supervision.supervision_out(order, case, actor)


@router.post("/cases/{case_no}/remind", response_model=Reminded)
async def remind(
    case_no: CaseNo, body: Remind, actor: Supervisor, sessions: Sessionmaker, now: Now
) -> Reminded:
    """催办: the lead department reminded (webhook, text), counted on the case; no deadline."""
    async with transaction(sessions) as session:
        return await supervision.remind(session, case_no, body, actor=actor, now=now)


@router.post("/supervisions/{supervision_id}/respond", response_model=SupervisionOut)
async def respond(
    supervision_id: RowId, body: Respond, actor: Department, sessions: Sessionmaker, now: Now
) -> SupervisionOut:
    """The addressed department's answer (its progress), on time or late; once."""
    async with transaction(sessions) as session:
        order, case = await supervision.respond(session, supervision_id, body, actor=actor, now=now)
        return supervision.supervision_out(order, case, actor)


@router.get("/supervisions", response_model=Page[SupervisionOut])
async def list_supervisions(
    actor: Reader,
    sessions: Sessionmaker,
    department: Annotated[str | None, Query(max_length=32)] = None,
    unit: Annotated[
        str | None, Query(max_length=32, description="orders to this unit's subtree")
    ] = None,
    status: SupervisionStatus | None = None,
    case_no: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> Page[SupervisionOut]:
    async with transaction(sessions) as session:
        units = await tree.scope(session, actor, unit) if unit is not None else None
        items, next_cursor = await supervision.list_orders(
            session,
            actor,
            supervision.OrderFilter(
                department=department, unit=units, status=status, case_no=case_no
            ),
            limit=limit,
            cursor=cursor,
        )
    return Page[SupervisionOut](items=items, next_cursor=next_cursor, limit=limit)


@router.get("/supervisions/{supervision_id}", response_model=SupervisionOut)
async def get_supervision(
    supervision_id: RowId, actor: Reader, sessions: Sessionmaker
) -> SupervisionOut:
    async with transaction(sessions) as session:
        return await supervision.one(session, supervision_id, actor)

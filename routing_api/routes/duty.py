"""值班: a unit's duty roster, and who is on duty now."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.authz import May
from services.duty import handover as handovers
from services.duty import service as duty
from services.duty.responses import Handover, OnDuty, RosterDay, RosterSaved
from services.duty.schemas import Roster
from shared.database import transaction
from shared.principal import Principal
from shared.timeutil import to_shanghai
from web.auth import allowed
from web.deps import Now, Sessionmaker

router = APIRouter(prefix="/api/v1/duty", tags=["duty"])
Keeper = Annotated[Principal, allowed(May.keep_duty_roster)]
Reader = Annotated[Principal, allowed(May.read_duty_roster)]
HandoverReader = Annotated[Principal, allowed(May.read_handover)]
Unit = Annotated[str, Path(max_length=32, description="a department or hall code (its unit)")]
Day = Annotated[
    date | None,
    Query(
        ge=date(2000, 1, 1),
        le=date(2100, 12, 31),
        description="a Shanghai day, YYYY-MM-DD; none: today",
    ),
]


@router.get("/now", response_model=OnDuty)
async def on_duty_now(
    reader: Reader,
    sessions: Sessionmaker,
    now: Now,
    unit: Annotated[str, Query(max_length=32, description="the unit whose duty is asked")],
) -> OnDuty:
    """Nobody on duty in the unit: the nearest unit above it that has someone answers."""
    async with transaction(sessions) as session:
        return await duty.now_for(session, unit, now, actor=reader)


@router.get("/{unit}", response_model=RosterDay)
async def get_roster(
    unit: Unit, reader: Reader, sessions: Sessionmaker, now: Now, date: Day = None
) -> RosterDay:
    on = date or to_shanghai(now).date()
    async with transaction(sessions) as session:
        return await duty.day(session, unit, on, actor=reader)


@router.put("/{unit}", response_model=RosterSaved)
async def put_roster(
    unit: Unit, body: Roster, keeper: Keeper, sessions: Sessionmaker
) -> RosterSaved:
    """Each day the body names gets exactly the body's shifts for it."""
    async with transaction(sessions) as session:
        return await duty.save(session, unit, body, actor=keeper)


@router.get("/{unit}/handover", response_model=Handover)
async def get_handover(
    unit: Unit, reader: HandoverReader, sessions: Sessionmaker, now: Now, date: Day = None
) -> Handover:
    """交接班: the day's escalations, overdue orders and urgent cases of the unit's subtree,
    still open."""
    on = date or to_shanghai(now).date()
    async with transaction(sessions) as session:
        return await handovers.handover(session, unit, on, actor=reader)

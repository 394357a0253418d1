"""协办: co-departments asked for their opinion, their answers, and a coordinator's waiver."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from routing_api.deps import Calendar
from services.authz import May
from services.case import assists
from services.case.responses import AssistOut
from services.case.workflow_schemas import AddCoDepartment, AssistOpinion, WaiveAssist
from shared.database import transaction
from shared.principal import Principal
from web.auth import allowed
from web.deps import Now, Sessionmaker

router = APIRouter(prefix="/api/v1/cases", tags=["assists"])
CaseNo = Annotated[str, Path(max_length=40)]
Code = Annotated[str, Path(max_length=32, description="the co-department's code")]
LeadOrCoordinator = Annotated[Principal, allowed(May.handle_cases, May.coordinate)]
Department = Annotated[Principal, allowed(May.handle_cases)]
Coordinator = Annotated[Principal, allowed(May.coordinate)]


@router.post("/{case_no}/co-departments", status_code=201, response_model=AssistOut)
async def add_co_department(
    case_no: CaseNo,
    body: AddCoDepartment,
    actor: LeadOrCoordinator,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> AssistOut:
    """One more department's opinion, due in the case's assist time; the lead replies once it
    is given (or waived)."""
    async with transaction(sessions) as session:
        task, case = await assists.add(
            session, case_no, body, actor=actor, now=now, calendar=calendar
        )
        return assists.assist_out(task, case, actor)


@router.post("/{case_no}/assist", response_model=AssistOut)
async def assist(
    case_no: CaseNo, body: AssistOpinion, actor: Department, sessions: Sessionmaker, now: Now
) -> AssistOut:
    """The co-department's opinion on the case, once."""
    async with transaction(sessions) as session:
        task, case = await assists.answer(session, case_no, body, actor=actor, now=now)
        return assists.assist_out(task, case, actor)


@router.post("/{case_no}/assists/{department}/waive", response_model=AssistOut)
async def waive_assist(
    case_no: CaseNo,
    department: Code,
    body: WaiveAssist,
    actor: Coordinator,
    sessions: Sessionmaker,
    now: Now,
) -> AssistOut:
    """The lead may reply without this department's opinion."""
    async with transaction(sessions) as session:
        task, case = await assists.waive(session, case_no, department, body, actor=actor, now=now)
        return assists.assist_out(task, case, actor)

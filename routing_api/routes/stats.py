"""Dashboard JSON: the published figures, by period and district."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.authz import May
from services.stats import common_issues as issues
from services.stats import conduct as conduct_figures
from services.stats import responses, service
from services.stats import reviews as review_figures
from services.stats import supervision as supervision_figures
from services.stats.responses import ConductFigures, ReviewFigures, SupervisionFigures
from shared.database import transaction
from shared.errors import invalid
from shared.principal import Principal
from shared.timeutil import year_problem
from shared.view import Items
from web.auth import allowed
from web.deps import ReadSessionmaker

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])


UnitReader = Annotated[Principal, allowed(May.read_stats)]
"""Every figure is read by unit (层级): a key bound to one reads its own unit's."""
Unit = Annotated[
    str | None,
    Query(
        max_length=32,
        description="层级: the figures of the cases this unit's subtree leads; a key bound to "
        "a unit reads its own (and may name a unit below it)",
    ),
]


async def period(
    date_from: Annotated[date | None, Query(description="YYYY-MM-DD, Shanghai")] = None,
    date_to: Annotated[date | None, Query(description="YYYY-MM-DD, inclusive")] = None,
    district: Annotated[str | None, Query(max_length=64)] = None,
) -> service.Period:
    """The filters every figure takes."""
    for name, day in (("date_from", date_from), ("date_to", date_to)):
        problem = year_problem(day) if day else None
        if problem:
            raise invalid(name, problem)
    if date_from and date_to and date_to < date_from:
        raise invalid("date_to", "is before date_from")
    return service.Period(date_from, date_to, district)


Period = Annotated[service.Period, Depends(period)]


@router.get("/summary", response_model=responses.Summary)
async def summary(
    reader: UnitReader, sessions: ReadSessionmaker, p: Period, unit: Unit = None
) -> responses.Summary:
    async with transaction(sessions) as session:
        return await service.summary(session, await service.for_reader(session, p, reader, unit))


@router.get("/departments", response_model=Items[responses.DepartmentFigures])
async def departments(
    reader: UnitReader, sessions: ReadSessionmaker, p: Period, unit: Unit = None
) -> Items[responses.DepartmentFigures]:
    async with transaction(sessions) as session:
        scoped = await service.for_reader(session, p, reader, unit)
        return Items[responses.DepartmentFigures](items=await service.departments(session, scoped))


@router.get("/categories", response_model=Items[responses.CategoryFigures])
async def categories(
    reader: UnitReader, sessions: ReadSessionmaker, p: Period, unit: Unit = None
) -> Items[responses.CategoryFigures]:
    async with transaction(sessions) as session:
        scoped = await service.for_reader(session, p, reader, unit)
        return Items[responses.CategoryFigures](items=await service.categories(session, scoped))


@router.get("/trend", response_model=Items[responses.DayFigures])
async def trend(
    reader: UnitReader, sessions: ReadSessionmaker, p: Period, unit: Unit = None
) -> Items[responses.DayFigures]:
    async with transaction(sessions) as session:
        scoped = await service.for_reader(session, p, reader, unit)
        return Items[responses.DayFigures](items=await service.trend(session, scoped))


@router.get("/common-issues", response_model=Items[responses.Topic])
async def common_issues(
    reader: UnitReader,
    sessions: ReadSessionmaker,
    p: Period,
    min_cases: Annotated[int, Query(ge=2, le=1000)] = 3,
    unit: Unit = None,
) -> Items[responses.Topic]:
    """共性问题: recurring topics in the period's cases (the newest 5,000)."""
    async with transaction(sessions) as session:
        scoped = await service.for_reader(session, p, reader, unit)
        topics = await issues.common_issues(session, scoped, min_cases=min_cases)
    return Items[responses.Topic](items=topics)


@router.get("/supervision", response_model=SupervisionFigures)
async def supervision(
    reader: UnitReader, sessions: ReadSessionmaker, p: Period, unit: Unit = None
) -> SupervisionFigures:
    """督办与提级: orders issued in the period by how they stand, escalations by level and
    reason, per department (a unit's: its subtree's departments)."""
    async with transaction(sessions) as session:
        scoped = await service.for_reader(session, p, reader, unit)
        return await supervision_figures.figures(session, scoped)


@router.get("/reviews", response_model=ReviewFigures)
async def reviews(
    reader: UnitReader, sessions: ReadSessionmaker, p: Period, unit: Unit = None
) -> ReviewFigures:
    """答复审核: replies submitted for review in the period, approved, sent back or waiting,
    per department."""
    async with transaction(sessions) as session:
        scoped = await service.for_reader(session, p, reader, unit)
        return await review_figures.figures(session, scoped)


@router.get("/conduct", response_model=ConductFigures)
async def conduct(
    reader: UnitReader, sessions: ReadSessionmaker, p: Period, unit: Unit = None
) -> ConductFigures:
    """作风: the period's cases by kind and trigger, and 能办不办 (`refused`) per department."""
    async with transaction(sessions) as session:
        scoped = await service.for_reader(session, p, reader, unit)
        return await conduct_figures.figures(session, scoped)

"""Dashboard JSON: the published figures, by period and district."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services import authz
from services.authz import May
from services.stats import common_issues as issues
from services.stats import responses, service
from shared.database import transaction
from shared.errors import invalid
from shared.principal import Principal
from shared.timeutil import year_problem
from shared.view import Items
from web.auth import allowed
from web.deps import ReadSessionmaker

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])


async def city_reader(principal: Annotated[Principal, allowed(May.read_stats)]) -> Principal:
    authz.require_whole_city(principal, "the figures")
    return principal


Reader = Annotated[Principal, Depends(city_reader)]


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
async def summary(_: Reader, sessions: ReadSessionmaker, p: Period) -> responses.Summary:
    async with transaction(sessions) as session:
        return await service.summary(session, p)


@router.get("/departments", response_model=Items[responses.DepartmentFigures])
async def departments(
    _: Reader, sessions: ReadSessionmaker, p: Period
) -> Items[responses.DepartmentFigures]:
    async with transaction(sessions) as session:
        return Items[responses.DepartmentFigures](items=await service.departments(session, p))


@router.get("/categories", response_model=Items[responses.CategoryFigures])
async def categories(
    _: Reader, sessions: ReadSessionmaker, p: Period
) -> Items[responses.CategoryFigures]:
    async with transaction(sessions) as session:
        return Items[responses.CategoryFigures](items=await service.categories(session, p))


@router.get("/trend", response_model=Items[responses.DayFigures])
async def trend(_: Reader, sessions: ReadSessionmaker, p: Period) -> Items[responses.DayFigures]:
    async with transaction(sessions) as session:
        return Items[responses.DayFigures](items=await service.trend(session, p))


@router.get("/common-issues", response_model=Items[responses.Topic])
async def common_issues(
    _: Reader,
    sessions: ReadSessionmaker,
    p: Period,
    min_cases: Annotated[int, Query(ge=2, le=1000)] = 3,
) -> Items[responses.Topic]:
    """共性问题: recurring topics in the period's cases (the newest 5,000)."""
    async with transaction(sessions) as session:
        topics = await issues.common_issues(session, p, min_cases=min_cases)
    return Items[responses.Topic](items=topics)

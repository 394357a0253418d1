"""Dashboard JSON: the published figures, by period and district."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.authz import May
from services.stats import common_issues as issues
from services.stats import service, views
from shared.database import transaction
from shared.errors import invalid
from shared.principal import Principal
from shared.timeutil import year_problem
from shared.view import Items
from web.auth import allowed
from web.deps import ReadSessionmaker

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])
Reader = Annotated[Principal, allowed(May.read_stats)]


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


@router.get("/summary", response_model=views.Summary)
async def summary(_: Reader, sessions: ReadSessionmaker, p: Period) -> dict[str, Any]:
    async with transaction(sessions) as session:
        return await service.summary(session, p)


@router.get("/departments", response_model=Items[views.DepartmentFigures])
async def departments(_: Reader, sessions: ReadSessionmaker, p: Period) -> dict[str, Any]:
    async with transaction(sessions) as session:
        return {"items": await service.departments(session, p)}


@router.get("/categories", response_model=Items[views.CategoryFigures])
async def categories(_: Reader, sessions: ReadSessionmaker, p: Period) -> dict[str, Any]:
    async with transaction(sessions) as session:
        return {"items": await service.categories(session, p)}


@router.get("/trend", response_model=Items[views.DayFigures])
async def trend(_: Reader, sessions: ReadSessionmaker, p: Period) -> dict[str, Any]:
    async with transaction(sessions) as session:
        return {"items": await service.trend(session, p)}


@router.get("/common-issues", response_model=Items[views.Topic])
async def common_issues(
    _: Reader,
    sessions: ReadSessionmaker,
    p: Period,
    min_cases: Annotated[int, Query(ge=2, le=1000)] = 3,
) -> dict[str, Any]:
    """共性问题: recurring topics in the period's cases (the newest 5,000)."""
    async with transaction(sessions) as session:
        return {"items": await issues.common_issues(session, p, min_cases=min_cases)}

"""The working-day calendar: what a year looks like, and operators' schedules for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.authz import May
from services.clock import years
from services.clock.responses import YearOut, YearSaved
from services.sla.recompute import recompute_year
from shared.database import transaction
from shared.errors import DomainError, FieldError
from shared.principal import Principal
from web.auth import CurrentPrincipal, allowed
from web.deps import Sessionmaker

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])
Year = Annotated[int, Path(ge=2000, le=2100)]
Editor = Annotated[Principal, allowed(May.configure)]


@router.get("/{year}", response_model=YearOut)
async def get_year(year: Year, _: CurrentPrincipal, sessions: Sessionmaker) -> YearOut:
    async with transaction(sessions) as session:
        return await years.year_out(session, year)


@router.put("/{year}", response_model=YearSaved)
async def put_year(
    year: Year, body: years.YearIn, actor: Editor, sessions: Sessionmaker
) -> YearSaved:
    """Load (or correct) a year's schedule: its holidays and make-up working days."""
    problems = body.check_year(year)
    if problems:
        raise DomainError(
            detail=f"{problems[0][0]}: {problems[0][1]}",
            status=422,
            title="Validation failed",
            type="/problems/validation",
            errors=[FieldError(f, m) for f, m in problems],
        )
    async with transaction(sessions) as session:
        await years.save_year(session, year, body, actor=actor)
        recomputed = await recompute_year(session, year, await years.load(session))
    async with transaction(sessions) as session:
        shown = await years.year_out(session, year)
    return YearSaved(**dict(shown), cases_recomputed=recomputed)

"""What the routing routes need from the app: the calendar and the workflow policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.case.workflow import WorkflowPolicy
from services.clock import years
from services.clock.calendar import WorkCalendar
from shared.durations import parse_duration


async def calendar(request: Request) -> WorkCalendar:
    """The library's years plus the operators' (read fresh when the table has changed)."""
    async with request.app.state.sessionmaker() as session:
        return await years.load(session, max_age=request.app.state.settings.config_cache_seconds)


Calendar = Annotated[WorkCalendar, Depends(calendar)]


async def workflow_policy(request: Request, cal: Calendar) -> WorkflowPolicy:
    settings = request.app.state.settings
    return WorkflowPolicy(
        return_within=parse_duration(settings.return_within),
        max_returns=settings.max_returns,
        calendar=cal,
    )


Policy = Annotated[WorkflowPolicy, Depends(workflow_policy)]

"""What the routing routes need from the app: the calendar and the workflow policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.case.workflow import WorkflowPolicy
from services.clock.calendar import WorkCalendar
from services.clock.durations import parse_duration


def calendar(request: Request) -> WorkCalendar:
    cal: WorkCalendar | None = getattr(request.app.state, "calendar", None)
    if cal is None:
        cal = request.app.state.calendar = WorkCalendar()
    return cal


def workflow_policy(request: Request) -> WorkflowPolicy:
    settings = request.app.state.settings
    return WorkflowPolicy(
        return_within=parse_duration(settings.return_within),
        max_returns=settings.max_returns,
        calendar=calendar(request),
    )


Calendar = Annotated[WorkCalendar, Depends(calendar)]
Policy = Annotated[WorkflowPolicy, Depends(workflow_policy)]

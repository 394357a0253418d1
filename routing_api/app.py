"""The back-office API (port 8002): keys, departments, rules and routing, the department
workflow, the calendar, cards and the outbox."""

from __future__ import annotations

from fastapi import FastAPI

from routing_api.routes import (
    assists,
    audit,
    calendar,
    cards,
    departments,
    duty,
    keys,
    matters,
    notices,
    outbox,
    rectifications,
    reports,
    rules,
    stats,
    supervision,
    workflow,
)
from shared.settings import Settings
from shared.timeutil import Clock, utcnow
from web.app import build_app
from web.outbound import document_department_notices

ROUTERS = [
    keys,
    departments,
    rules,
    matters,
    workflow,
    assists,
    calendar,
    duty,
    supervision,
    rectifications,
    cards,
    notices,
    outbox,
    stats,
    reports,
    audit,
]


def create_app(settings: Settings | None = None, clock: Clock = utcnow) -> FastAPI:
    app = build_app(
        "routing",
        "gaodedim routing API",
        [m.router for m in ROUTERS],
        settings,
        clock,
        purpose=(
            "办不成事反映窗口 · 分办与督办: the back office. The first-inquiry rule table routes "
            "each case to the department that must own it (首问负责制); departments sign, "
            "handle and reply within working-day deadlines (限时办理); coordinators assign, "
            "supervisors rule on card appeals and read the figures."
        ),
    )
    document_department_notices(app)
    return app

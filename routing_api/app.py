"""The back-office API (port 8002): keys and departments now; rules and workflow next."""

from __future__ import annotations

from fastapi import FastAPI

from routing_api.routes import calendar, cards, departments, keys, rules, workflow
from shared.app import build_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(
        "routing",
        "gaodedim routing API",
        [
            keys.router,
            departments.router,
            rules.router,
            workflow.router,
            calendar.router,
            cards.router,
        ],
        settings,
    )

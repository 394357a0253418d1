"""The citizen- and channel-facing API (port 8001)."""

from __future__ import annotations

from fastapi import FastAPI

from intake_api.routes import cases, hotline, open311, track
from shared.settings import Settings
from shared.timeutil import Clock, utcnow
from shared.web.app import build_app


def create_app(settings: Settings | None = None, clock: Clock = utcnow) -> FastAPI:
    return build_app(
        "intake",
        "gaodedim intake API",
        [cases.router, track.router, hotline.router, open311.router],
        settings,
        clock,
    )

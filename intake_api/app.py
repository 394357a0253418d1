"""The citizen- and channel-facing API (port 8001)."""

from __future__ import annotations

from fastapi import FastAPI

from intake_api.routes import cases, hotline, open311, replies, sms, track
from shared.settings import Settings
from shared.timeutil import Clock, utcnow
from web.app import build_app
from web.outbound import document_hotline_callbacks


def create_app(settings: Settings | None = None, clock: Clock = utcnow) -> FastAPI:
    app = build_app(
        "intake",
        "gaodedim intake API",
        [cases.router, replies.router, track.router, hotline.router, sms.router, open311.router],
        settings,
        clock,
        purpose=(
            "办不成事反映窗口 · 受理: where a complaint that could not be got done elsewhere is "
            "registered (window, portal, 12345 hotline, Open311), stored before anything else "
            "happens, and handed to routing at once; and where the citizen follows it."
        ),
    )
    document_hotline_callbacks(app)
    return app

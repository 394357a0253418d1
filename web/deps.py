"""What a route asks FastAPI for: the sessionmaker, the request's one `now`, the settings, and
a nudge to the worker after a commit that wrote outbox messages."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import structlog
from arq.connections import ArqRedis
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.queue import WORKER_KICK_JOB
from shared.settings import Settings

log = structlog.get_logger("gaodedim.app")


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    # `async def` dependencies run on the event loop; a plain `def` would cost a thread hop.
    return request.app.state.sessionmaker  # type: ignore[no-any-return]


Sessionmaker = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def get_read_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.read_sessionmaker  # type: ignore[no-any-return]


ReadSessionmaker = Annotated[async_sessionmaker[AsyncSession], Depends(get_read_sessionmaker)]
"""The figures' and the report's reads: STATS_DATABASE_URL's replica when one is set."""


async def now_of(request: Request) -> datetime:
    """The request's one reading of the clock; FastAPI caches a dependency per request, so every
    part of one request sees the same instant."""
    return request.app.state.clock()  # type: ignore[no-any-return]


Now = Annotated[datetime, Depends(now_of)]


async def kick_worker(request: Request) -> None:
    """After a commit that wrote outbox messages: ask the worker to deliver now rather than at its
    next poll. Best effort: if Redis is down the poll still finds the messages."""
    redis: ArqRedis | None = request.app.state.redis
    if redis is None:
        return
    try:
        async with asyncio.timeout(request.app.state.settings.redis_timeout_seconds):
            await redis.enqueue_job(WORKER_KICK_JOB, _job_id=f"{WORKER_KICK_JOB}:kick")
    except Exception as exc:  # delivery is only delayed, never lost
        log.warning("worker_kick_failed", error_type=type(exc).__name__)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]

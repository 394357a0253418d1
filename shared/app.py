"""What both APIs share: lifespan (engine, Redis), errors, metrics, health, body limit.

Everything with a connection is created in the lifespan, never at import time, so tests and
several processes can build apps freely.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import structlog
from arq.connections import ArqRedis, RedisSettings
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services import keywords
from services.apikey import service as keys
from services.apikey.cache import KeyCache
from services.case.codes import CaseNumbers
from services.case.repository import OPEN_STATUSES
from services.outbox import service as outbox
from services.sla.sweep import lag_seconds
from services.stats import service as stats
from shared import problems, telemetry
from shared.body_limit import BodyLimitMiddleware
from shared.database import make_engine, make_sessionmaker, transaction
from shared.deadline import DeadlineMiddleware
from shared.enums import CaseStatus
from shared.input_guard import InputGuardMiddleware
from shared.logging import configure as configure_logging
from shared.models import Card, Case
from shared.process import SUPERVISED, die_with_parent
from shared.routing_client import make_client
from shared.settings import Settings, get_settings
from shared.timeutil import Clock, to_shanghai, utcnow

log = structlog.get_logger("gaodedim.app")

WORKER_KICK_JOB = "dispatch_outbox"


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 3
    return settings


def make_redis(settings: Settings) -> ArqRedis | None:
    """Connected on first use, not here: an API starts and takes cases while Redis is down (the
    worker's poll delivers what a missed wake-up would have), and every call is bounded."""
    if not settings.redis_url:
        return None
    timeout = settings.redis_timeout_seconds
    return ArqRedis.from_url(  # type: ignore[no-any-return]
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )


def build_app(
    name: str,
    title: str,
    routers: Sequence[APIRouter],
    settings: Settings | None = None,
    clock: Clock = utcnow,
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if os.environ.get(SUPERVISED):
            die_with_parent()  # under `make run`, an API process ends with whoever started it
        engine = make_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.key_cache = KeyCache(app.state.sessionmaker, settings.key_cache_seconds)
        # Blocks of case numbers are reserved while a registration holds its own connection:
        # from a connection of their own, or 32 registrations waiting for a block would hold
        # the whole pool while the reservation waits for a connection from it.
        numbers_engine = make_engine(settings, pool_size=1, max_overflow=0)
        app.state.case_numbers = CaseNumbers(
            make_sessionmaker(numbers_engine), block=settings.case_number_block
        )
        app.state.redis = make_redis(settings)
        app.state.routing_client = make_client(settings) if settings.service_key else None
        if settings.bootstrap_admin_key:
            async with transaction(app.state.sessionmaker) as session:
                if await keys.bootstrap_admin(session, settings.bootstrap_admin_key):
                    log.info("bootstrap_admin_key_installed")
        # jieba loads its dictionary on first use (about a second): here, not in the first
        # citizen's registration.
        await asyncio.to_thread(keywords.warm)
        log.info("started", app=name)
        try:
            yield
        finally:
            if app.state.redis is not None:
                await app.state.redis.aclose()
            if app.state.routing_client is not None:
                await app.state.routing_client.aclose()
            await engine.dispose()
            await numbers_engine.dispose()

    app = FastAPI(title=title, version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.app_name = name
    app.state.clock = clock
    problems.install(app)
    app.add_middleware(telemetry.RequestMiddleware, app_name=name)
    app.add_middleware(InputGuardMiddleware)  # inside the body limit: reads bounded bodies
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(DeadlineMiddleware, seconds=settings.request_timeout_seconds)
    if settings.forwarded_allow_ips:
        # Only a configured proxy may name the client (X-Forwarded-For, right-most untrusted
        # address); uvicorn runs with --no-proxy-headers so it trusts nobody itself.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.include_router(_health_router())
    for router in routers:
        app.include_router(router)
    return app


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive and serving."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """Ready when the database and Redis both answer within two seconds."""
        checks: dict[str, str] = {}
        try:
            async with request.app.state.sessionmaker() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), 2)
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready; say which
            checks["database"] = f"error: {type(exc).__name__}"
        redis = request.app.state.redis
        try:
            if redis is None:
                raise RuntimeError("REDIS_URL is not set")
            await asyncio.wait_for(redis.ping(), 2)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", response_class=PlainTextResponse)
    async def metrics(request: Request) -> PlainTextResponse:
        """Request metrics are live; the domain gauges (counts over the cases table) are read at
        most every METRICS_CACHE_SECONDS per process, so frequent scrapes cost no full counts."""
        state = request.app.state
        ttl = state.settings.metrics_cache_seconds
        if time.monotonic() - getattr(state, "gauges_read_at", float("-inf")) >= ttl:
            async with state.sessionmaker() as session:
                await refresh_gauges(session, state.clock())
            state.gauges_read_at = time.monotonic()
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    return router


async def refresh_gauges(session: AsyncSession, now: datetime) -> None:
    counts = await stats.cases_by_status(session)
    for status in CaseStatus:
        telemetry.CASES_BY_STATUS.labels(status.value).set(counts.get(status.value, 0))
    overdue = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.status.in_([s.value for s in OPEN_STATUSES]),
            Case.handle_due_at.is_not(None),
            Case.handle_due_at < now,
        )
    )
    telemetry.CASES_OVERDUE.set(overdue or 0)
    for state, n in (await outbox.backlog(session)).items():
        telemetry.OUTBOX_BACKLOG.labels(state).set(n)
    telemetry.SWEEP_LAG.set(await lag_seconds(session, now))
    telemetry.STATS_DIRTY_DAYS.set(await stats.dirty_days(session))
    month = to_shanghai(now).strftime("%Y-%m")
    cards = await session.execute(
        select(Card.colour, func.count())
        .where(Card.month == month, Card.status != "revoked")
        .group_by(Card.colour)
    )
    counted = {colour: n for colour, n in cards.tuples()}
    for colour in ("yellow", "red"):
        telemetry.CARDS_THIS_MONTH.labels(colour).set(counted.get(colour, 0))


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    # `async def` dependencies run on the event loop; a plain `def` would cost a thread hop.
    return request.app.state.sessionmaker  # type: ignore[no-any-return]


Sessionmaker = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


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


def json_body(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(obj, status_code=status, headers=headers)

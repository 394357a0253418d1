"""The app factory both APIs are built with: lifespan (engine, Redis), errors, middleware,
health and metrics.

Everything with a connection is created in the lifespan, never at import time, so tests and
several processes can build apps freely.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services import keywords
from services.apikey import service as keys
from services.apikey.cache import KeyCache
from services.case.codes import CaseNumbers
from services.stats import gauges
from shared import metrics
from shared.database import make_engine, make_sessionmaker, transaction
from shared.enums import CaseStatus
from shared.logging import configure as configure_logging
from shared.migrate import schema_state
from shared.process import SUPERVISED, die_with_parent
from shared.queue import make_redis
from shared.routing_client import make_client
from shared.settings import Settings, get_settings
from shared.timeutil import Clock, utcnow
from shared.version import package_version
from shared.view import View
from web import contract, problems, telemetry
from web.audit_edge import AuditMiddleware
from web.body_limit import BodyLimitMiddleware
from web.deadline import DeadlineMiddleware
from web.input_guard import InputGuardMiddleware

log = structlog.get_logger("gaodedim.app")


def build_app(
    name: str,
    title: str,
    routers: Sequence[APIRouter],
    settings: Settings | None = None,
    clock: Clock = utcnow,
    *,
    purpose: str = "",
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, fmt=settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if os.environ.get(SUPERVISED):
            die_with_parent()  # under `make run`, an API process ends with whoever started it
        engine = make_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        replica = (
            make_engine(settings, url=settings.stats_database_url)
            if settings.stats_database_url
            else None
        )
        app.state.read_sessionmaker = (
            make_sessionmaker(replica) if replica is not None else app.state.sessionmaker
        )
        app.state.key_cache = KeyCache(app.state.sessionmaker, settings.key_cache_seconds)
        # Blocks of case numbers are reserved while a registration holds its own connection:
        # from a connection of their own, or 32 registrations waiting for a block would hold
        # the whole pool while the reservation waits for a connection from it.
        numbers_engine = make_engine(settings, pool_size=1, max_overflow=0)
        app.state.case_numbers = CaseNumbers(
            make_sessionmaker(numbers_engine),
            block=settings.case_number_block,
            prefix=settings.case_no_prefix,
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
            if (groups := getattr(app.state, "handover", None)) is not None:
                await groups.aclose()  # the hand-overs on their way finish first
            if app.state.routing_client is not None:
                await app.state.routing_client.aclose()
            await engine.dispose()
            await numbers_engine.dispose()
            if replica is not None:
                await replica.dispose()

    # Swagger UI and ReDoc from files shipped in fastapi-offline, not a CDN: a government
    # intranet has no internet (tests/test_docs_offline.py opens /docs in headless Chromium).
    tags = [t for r in routers for t in r.tags if isinstance(t, str)]
    app = FastAPIOffline(
        title=title,
        version=package_version(),
        description=f"{purpose}\n\n{contract.AUTH}".strip(),
        openapi_tags=contract.tags_of([*sorted(set(tags), key=tags.index), "health"]),
        lifespan=lifespan,
        # A generated client names its functions and models after these: `register_case`,
        # not `register_case_api_v1_cases_post`, and one `CardPolicy`, not an -Input and an
        # -Output twin with the same title (which openapi-python-client refuses).
        generate_unique_id_function=contract.operation_id,
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.app_name = name
    app.state.clock = clock
    problems.install(app)
    app.add_middleware(AuditMiddleware)  # innermost: around the routes, inside everything else
    app.add_middleware(InputGuardMiddleware)  # inside the body limit: reads bounded bodies
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(DeadlineMiddleware, seconds=settings.request_timeout_seconds)
    # Outside the deadline: a request that ran out of time is logged and counted as the 503 it
    # answered, not as a 500 (issue 26 #17), and every answer gets its id and headers.
    app.add_middleware(telemetry.RequestMiddleware, app_name=name)
    if settings.forwarded_allow_ips:
        # Only a configured proxy may name the client (X-Forwarded-For, right-most untrusted
        # address); uvicorn runs with --no-proxy-headers so it trusts nobody itself.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    every = [_health_router(), *routers]
    for router in every:
        # A router that names its own problems (a keyless one) is documented with just those.
        app.include_router(router, responses={} if router.responses else contract.PROBLEM_RESPONSES)
    contract.document(app, every)
    return app


class Readiness(View):
    status: str = Field(examples=["ready", "not ready"])
    checks: dict[str, str] = Field(
        examples=[{"database": "ok", "redis": "error: TimeoutError"}],
        description="each dependency: ok, or the kind of error (no detail leaks)",
    )


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"], responses=contract.problems("503"))

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive and serving."""
        return {"status": "ok"}

    @router.get(
        "/readyz",
        response_model=Readiness,
        responses={
            503: {"model": Readiness, "description": "the database or Redis is not answering"}
        },
    )
    async def readyz(request: Request) -> JSONResponse:
        """Ready when the database and Redis both answer within two seconds and the schema is
        at this release's migration head (or past it, during a rolling upgrade): a process
        started before its migration ran stays out of service until it has."""
        state = request.app.state
        checks: dict[str, str] = {}

        async def database() -> None:
            async with state.sessionmaker() as session:
                checks["schema"] = await asyncio.wait_for(schema_state(session), 2)

        async def redis() -> None:
            if state.redis is None:
                raise RuntimeError("REDIS_URL is not set")
            await asyncio.wait_for(state.redis.ping(), 2)

        async def replica() -> None:
            async with state.read_sessionmaker() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), 2)

        checks["database"] = await _outcome(database())
        if checks["database"] != "ok":
            checks.pop("schema", None)
        checks["redis"] = await _outcome(redis())
        if state.settings.stats_database_url:
            checks["stats_database"] = await _outcome(replica())
        ready = all(v == "ok" for v in checks.values())
        _record_readiness(ready)
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


async def _outcome(check: Awaitable[None]) -> str:
    """`ok`, or the kind of failure: any failure means not ready, and its message (which may
    quote a row or a URL) is never shown."""
    try:
        await check
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def _record_readiness(ready: bool) -> None:
    """Out here: inside the health router, `metrics` is the /metrics route's own function."""
    metrics.READY.set(1 if ready else 0)


async def refresh_gauges(session: AsyncSession, now: datetime) -> None:
    """The service's state (read in `services.stats.gauges`) onto the Prometheus gauges."""
    read = await gauges.read(session, now)
    for status in CaseStatus:
        metrics.CASES_BY_STATUS.labels(status.value).set(read.cases_by_status.get(status.value, 0))
    metrics.CASES_OVERDUE.set(read.overdue)
    metrics.CALENDAR_KNOWN_UNTIL.set(read.calendar_known_until)
    for state, n in read.outbox_backlog.items():
        metrics.OUTBOX_BACKLOG.labels(state).set(n)
    metrics.OUTBOX_OLDEST_RETRYING.clear()
    for topic, age in read.outbox_oldest_retrying.items():
        metrics.OUTBOX_OLDEST_RETRYING.labels(topic).set(age)
    metrics.SWEEP_LAG.set(read.sweep_lag_seconds)
    metrics.STATS_DIRTY_DAYS.set(read.stats_dirty_days)
    metrics.CASES_IN_DEFAULT_PARTITION.set(read.cases_in_default_partition)
    for colour in ("yellow", "red"):
        metrics.CARDS_THIS_MONTH.labels(colour).set(read.cards_this_month.get(colour, 0))

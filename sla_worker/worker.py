"""The arq worker: outbox delivery (routing hand-over, department and channel webhooks), the SLA
sweep (warnings, cards, auto-closes) and the stats rollup fold.

Jobs may run more than once (arq's own warning), so each is idempotent: delivery is claimed
row by row in the database, not trusted to Redis.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar, Protocol

import httpx
import structlog
from arq import cron, func
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import trail
from services.case import partitions, retention
from services.idempotency import service as idempotency
from services.notices import providers
from services.outbox import service as outbox
from services.sla.runner import run_sweep
from services.sla.sweep import lag_seconds, summary
from services.stats import common_issues, rollup
from shared import metrics
from shared.database import in_batches, make_engine, make_sessionmaker, transaction
from shared.durations import parse_duration
from shared.logging import configure as configure_logging
from shared.queue import WORKER_KICK_JOB
from shared.routing_client import make_client
from shared.settings import get_settings
from shared.timeutil import utcnow
from sla_worker import handlers
from sla_worker import metrics as metrics_server
from sla_worker.dispatch import dispatch_all

log = structlog.get_logger("gaodedim.worker")

JOB_BATCHES = 20
"""Transactions a back-fill or prune run may take, so no run holds the worker for long."""


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, fmt=settings.log_format)
    ctx["clock"] = utcnow
    ctx["engine"] = make_engine(settings, pool_size=settings.worker_db_pool_size)
    ctx["sessionmaker"] = make_sessionmaker(ctx["engine"])
    ctx["routing_client"] = make_client(settings)
    ctx["http"] = httpx.AsyncClient(timeout=10)
    if "handlers" not in ctx:
        ctx["handlers"] = handlers.build(
            ctx["routing_client"],
            ctx["http"],
            settings.webhook_signing_secret,
            settings.hotline_webhook_secret,
            allowed=settings.callback_targets,
            notices=handlers.notice_handler(
                ctx["sessionmaker"],
                providers.make(settings, ctx["http"]),
                settings.notice_signature,
                ctx["clock"],
            ),
            staff=handlers.staff_sms_handler(
                ctx["sessionmaker"], providers.make(settings, ctx["http"])
            ),
        )
    ctx["stop_metrics"] = metrics_server.serve(settings)
    log.info("worker_started", topics=sorted(ctx["handlers"]))


async def shutdown(ctx: dict[str, Any]) -> None:
    """Idempotent: the runner calls it when arq could not (Redis gone mid-close)."""
    if stop_metrics := ctx.pop("stop_metrics", None):
        stop_metrics()
    if client := ctx.pop("routing_client", None):
        await client.aclose()
    if http := ctx.pop("http", None):
        await http.aclose()
    if engine := ctx.pop("engine", None):
        await engine.dispose()


async def dispatch_outbox(ctx: dict[str, Any]) -> int:
    return await dispatch_all(ctx["sessionmaker"], ctx["handlers"], handlers.RETRIES)


async def sla_sweep(ctx: dict[str, Any]) -> dict[str, Any]:
    """Warnings, cards and auto-closes that are due; then deliver what they wrote."""
    now = ctx["clock"]()
    result = summary(await run_sweep(ctx["sessionmaker"], now=now))
    async with ctx["sessionmaker"]() as session:
        metrics.SWEEP_LAG.set(await lag_seconds(session, now))
    if result["cases"]:
        log.info("sla_sweep", **result)
        await dispatch_all(ctx["sessionmaker"], ctx["handlers"], handlers.RETRIES)
    return result


async def stats_refresh(ctx: dict[str, Any]) -> int:
    """Fold changed days into the stats rollups, so dashboards stay cheap (services/stats)."""
    days = await rollup.refresh_all(ctx["sessionmaker"])
    metrics.STATS_DAYS_FOLDED.inc(days)
    if days > 1:
        log.info("stats_refresh", days=days)
    return days


async def fill_keywords(ctx: dict[str, Any]) -> int:
    """Keywords for newly registered cases (共性问题), which intake stores without them to keep
    segmentation off the caller's path: every 30 s, about 6,900 cases a second."""
    filled = await in_batches(
        ctx["sessionmaker"],
        common_issues.backfill_keywords,
        full=common_issues.BACKFILL_BATCH,
        most=JOB_BATCHES,
    )
    if filled:
        log.info("keywords_filled", cases=filled)
    return filled


async def make_partitions(ctx: dict[str, Any]) -> int:
    """Next months' partitions of cases and their history, before their first case comes."""
    async with transaction(ctx["sessionmaker"]) as session:
        made = await partitions.ensure_ahead(session, now=ctx["clock"]())
    if made:
        log.info("partitions_made", months=made)
    return made


class Prune(Protocol):
    """A table's batch of deletions of rows older than `older_than` (outbox, idempotency,
    the audit trail)."""

    async def __call__(self, session: AsyncSession, *, older_than: timedelta) -> int: ...


async def _prune_past(ctx: dict[str, Any], retention: str, prune: Prune, full: int) -> int:
    """Delete what `prune` deletes, older than `retention`, in bounded transactions."""
    keep = parse_duration(retention).natural()

    async def batch(session: AsyncSession) -> int:
        return await prune(session, older_than=keep)

    return await in_batches(ctx["sessionmaker"], batch, full=full, most=JOB_BATCHES)


async def prune_outbox(ctx: dict[str, Any]) -> int:
    """Delivered messages past OUTBOX_RETENTION go, so the outbox stays small for ever."""
    retention = get_settings().outbox_retention
    pruned = await _prune_past(ctx, retention, outbox.prune, outbox.PRUNE_BATCH)
    if pruned:
        log.info("outbox_pruned", messages=pruned)
    return pruned


async def prune_audit(ctx: dict[str, Any]) -> int:
    """Audit rows past AUDIT_RETENTION go (never younger than six months: the table refuses)."""
    retention = get_settings().audit_retention
    pruned = await _prune_past(ctx, retention, trail.prune, trail.PRUNE_BATCH)
    if pruned:
        log.info("audit_pruned", rows=pruned)
    return pruned


async def anonymise_closed(ctx: dict[str, Any]) -> int:
    """Closed cases past PERSONAL_DATA_RETENTION lose their applicant's personal data."""
    keep = parse_duration(get_settings().personal_data_retention).natural()
    now = ctx.get("clock", utcnow)()

    async def batch(session: AsyncSession) -> int:
        return await retention.anonymise_due(session, now=now, keep=keep)

    done = await in_batches(ctx["sessionmaker"], batch, full=retention.BATCH, most=JOB_BATCHES)
    if done:
        log.info("personal_data_anonymised", cases=done)
    return done


async def job_started(ctx: dict[str, Any]) -> None:
    metrics_server.HEARTBEAT.beat()


async def prune_idempotency(ctx: dict[str, Any]) -> int:
    """First answers past IDEMPOTENCY_RETENTION go: they carry personal data, and a retry
    comes within minutes, not weeks."""
    retention = get_settings().idempotency_retention
    pruned = await _prune_past(ctx, retention, idempotency.prune, idempotency.PRUNE_BATCH)
    if pruned:
        log.info("idempotency_pruned", records=pruned)
    return pruned


class WorkerSettings:
    on_job_start = job_started
    functions: ClassVar[list[Any]] = [func(dispatch_outbox, name=WORKER_KICK_JOB, keep_result=0)]
    cron_jobs: ClassVar[list[Any]] = [
        # The safety net behind the after-commit kick: every 10 s, whatever Redis lost.
        cron(
            dispatch_outbox,
            second=set(range(0, 60, 10)),
            unique=True,
            run_at_startup=True,
            keep_result=0,
        ),
        cron(
            sla_sweep, second=set(range(5, 60, 15)), unique=True, run_at_startup=True, keep_result=0
        ),
        cron(
            make_partitions,
            minute={31},
            second={10},
            unique=True,
            run_at_startup=True,
            keep_result=0,
        ),
        cron(prune_outbox, minute={17}, second={40}, unique=True, keep_result=0),
        cron(prune_idempotency, minute={47}, second={40}, unique=True, keep_result=0),
        cron(prune_audit, hour={3}, minute={27}, second={40}, unique=True, keep_result=0),
        cron(anonymise_closed, minute={7}, second={10}, unique=True, keep_result=0),
        cron(fill_keywords, second={25, 55}, unique=True, run_at_startup=True, keep_result=0),
        cron(
            stats_refresh,
            second=set(range(2, 60, 10)),
            unique=True,
            run_at_startup=True,
            keep_result=0,
        ),
    ]
    on_startup = startup
    on_shutdown = shutdown
    max_tries = 5
    health_check_interval = 30

"""Running the worker: arq on Redis while Redis answers, the database alone while it does not.

Redis only wakes the worker sooner (the APIs' after-commit kick) and spreads the cron jobs;
every job's work is claimed in the database. So a Redis outage must not stop delivery or the
SLA sweep (issue 26 #15): arq's poll raises when Redis goes, and instead of exiting into a
restart loop the worker carries on from the database (the outbox every 5 s, the sweep every
15 s) and goes back to arq when Redis answers again. Signals are the runner's, not arq's, so
SIGTERM stops either mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import structlog
from arq.worker import Worker, get_kwargs
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.queue import redis_settings
from shared.settings import Settings
from sla_worker import metrics as metrics_server
from sla_worker import worker

log = structlog.get_logger("gaodedim.worker")

REDIS_DOWN = (RedisError, OSError, TimeoutError)
"""What arq raises when Redis cannot be reached (connection refused, reset, timed out)."""
TICK_SECONDS = 5.0
SWEEP_EVERY = 3
"""Ticks between sweeps without Redis: 15 s, as the cron does."""


async def serve(settings: Settings) -> None:
    assert settings.redis_url
    stop = asyncio.Event()
    running: list[asyncio.Task[None]] = []

    def stopping() -> None:
        stop.set()
        for task in running:
            task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping)
    while not stop.is_set():
        options: dict[str, Any] = {
            **get_kwargs(worker.WorkerSettings),  # type: ignore[arg-type]
            "redis_settings": redis_settings(settings.redis_url),
            "handle_signals": False,
        }
        arq = Worker(**options)
        running[:] = [asyncio.ensure_future(arq.async_run())]
        try:
            await running[0]
        except asyncio.CancelledError:
            if not stop.is_set():
                raise
        except REDIS_DOWN as exc:
            log.warning("redis_unreachable_working_from_database", error_type=type(exc).__name__)
        finally:
            await _close(arq)
        if not stop.is_set():
            await from_database(settings, stop)


async def _close(arq: Worker) -> None:
    """arq's close needs Redis (it deletes its health key first) and skips `on_shutdown` when
    that fails: the database pool and the metrics port are released here whatever happens."""
    try:
        async with asyncio.timeout(10):
            await arq.close()
    except (*REDIS_DOWN, asyncio.CancelledError):
        pass
    await worker.shutdown(arq.ctx)


async def from_database(settings: Settings, stop: asyncio.Event) -> None:
    """Deliver and sweep from the database until Redis answers again (or SIGTERM)."""
    ctx: dict[str, Any] = {}
    await worker.startup(ctx)
    try:
        tick = 0
        while not stop.is_set():
            metrics_server.HEARTBEAT.beat()
            await _job(worker.dispatch_outbox, ctx)
            if tick % SWEEP_EVERY == 0:
                await _job(worker.sla_sweep, ctx)
            tick += 1
            if await redis_answers(settings):
                log.info("redis_back_working_from_arq")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_SECONDS)
    finally:
        await worker.shutdown(ctx)


async def _job(job: Any, ctx: dict[str, Any]) -> None:
    """A job that fails (the database is down too) is logged and tried at the next tick, as
    arq would retry it; it never ends the worker."""
    try:
        await job(ctx)
    except Exception as exc:
        log.error("job_failed_without_redis", job=job.__name__, error_type=type(exc).__name__)


async def redis_answers(settings: Settings) -> bool:
    assert settings.redis_url
    client = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except REDIS_DOWN:
        return False
    finally:
        with contextlib.suppress(*REDIS_DOWN):
            await client.aclose()

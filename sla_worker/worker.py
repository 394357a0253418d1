"""The arq worker: outbox delivery now; clocks, warnings and cards come with the SLA issue.

Jobs may run more than once (arq's own warning), so each is idempotent: delivery is claimed
row by row in the database, not trusted to Redis.
"""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from arq import cron, func

from shared.app import WORKER_KICK_JOB
from shared.database import make_engine, make_sessionmaker
from shared.logging import configure as configure_logging
from shared.settings import get_settings
from sla_worker.dispatch import Handler, dispatch_all

log = structlog.get_logger("gaodedim.worker")

HANDLERS: dict[str, Handler] = {}
"""Topic → delivery. `case.registered` (routing hand-over) is added by the routing issue."""


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    ctx["engine"] = make_engine(settings, pool_size=5)
    ctx["sessionmaker"] = make_sessionmaker(ctx["engine"])
    ctx.setdefault("handlers", HANDLERS)
    log.info("worker_started", topics=sorted(ctx["handlers"]))


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["engine"].dispose()


async def dispatch_outbox(ctx: dict[str, Any]) -> int:
    return await dispatch_all(ctx["sessionmaker"], ctx["handlers"])


class WorkerSettings:
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
    ]
    on_startup = startup
    on_shutdown = shutdown
    max_tries = 5
    health_check_interval = 30

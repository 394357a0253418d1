"""Delivering outbox messages: claim due ones, hand each to its topic's handler, record the
outcome. A topic with no handler yet is left pending, never dropped: the handler that a later
release adds finds every message that waited for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.outbox import service as outbox
from shared import metrics
from shared.database import transaction

Handler = Callable[[dict[str, Any]], Awaitable[None]]
log = structlog.get_logger("gaodedim.outbox")


async def dispatch_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    handlers: Mapping[str, Handler],
    *,
    batch: int = 50,
) -> int:
    """Deliver one batch; returns how many were delivered. The claim commits before delivery so
    a slow handler holds no database lock."""
    async with transaction(sessionmaker) as session:
        claimed = await outbox.claim(session, list(handlers), limit=batch)
    delivered = 0
    for message in claimed:
        try:
            # The message id is the event's stable id: a redelivery after a crash carries the same
            # one, so receivers can drop duplicates.
            await handlers[message.topic]({**message.payload, "event_id": message.id})
        except Exception as exc:  # any failure is recorded and retried with back-off
            metrics.OUTBOX_FAILED_ATTEMPTS.labels(message.topic).inc()
            log.warning(
                "outbox_delivery_failed",
                id=message.id,
                topic=message.topic,
                attempts=message.attempts,
                error_type=type(exc).__name__,
            )
            async with transaction(sessionmaker) as session:
                await outbox.mark_failed_attempt(session, message, f"{type(exc).__name__}: {exc}")
            continue
        async with transaction(sessionmaker) as session:
            await outbox.mark_delivered(session, message.id)
        metrics.OUTBOX_DELIVERED.labels(message.topic).inc()
        delivered += 1
    return delivered


async def dispatch_all(
    sessionmaker: async_sessionmaker[AsyncSession], handlers: Mapping[str, Handler]
) -> int:
    total = 0
    while True:
        n = await dispatch_once(sessionmaker, handlers)
        total += n
        if n == 0:
            return total

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
    retries: Mapping[str, outbox.Retry] | None = None,
) -> int:
    """Deliver one batch; returns how many were delivered. The claim commits before delivery so
    a slow handler holds no database lock. `retries`: a topic's retry policy (default
    `outbox.DEFAULT`)."""
    retries = retries or {}
    async with transaction(sessionmaker) as session:
        claimed = await outbox.claim(session, list(handlers), limit=batch)
    delivered = 0
    # Topics retried until done that failed in this batch: the rest of the batch waits.
    down: dict[str, str] = {}
    recovered: set[str] = set()
    for message in claimed:
        retry = retries.get(message.topic, outbox.DEFAULT)
        if message.topic in down:
            # Routing just failed one hand-over: fifty more would each wait out the same
            # timeout. They go back, with a try counted, for the next run's probe to call.
            async with transaction(sessionmaker) as session:
                await outbox.mark_failed_attempt(
                    session, message, f"not tried: {down[message.topic]}", retry
                )
            continue
        try:
            # The message id is the event's stable id: a redelivery after a crash carries the same
            # one, so receivers can drop duplicates.
            payload = dict(message.payload)
            request_id = payload.pop(outbox.REQUEST_ID, None)
            case_no = payload.get("case_no")
            # Its lines follow the request that wrote the message, and name the case.
            with structlog.contextvars.bound_contextvars(
                **({"request_id": request_id} if request_id else {}),
                **({"case_no": case_no} if case_no else {}),
            ):
                await handlers[message.topic]({**payload, "event_id": message.id})
        except Exception as exc:  # any failure is recorded and retried with back-off
            metrics.OUTBOX_FAILED_ATTEMPTS.labels(message.topic).inc()
            log.warning(
                "outbox_delivery_failed",
                id=message.id,
                topic=message.topic,
                attempts=message.attempts,
                error_type=type(exc).__name__,
            )
            error = f"{type(exc).__name__}: {exc}"
            async with transaction(sessionmaker) as session:
                await outbox.mark_failed_attempt(session, message, error, retry)
            if retry.until_done:
                down[message.topic] = error[:200]
            continue
        async with transaction(sessionmaker) as session:
            await outbox.mark_delivered(session, message.id)
            if retry.until_done and message.topic not in recovered:
                # The receiver answers: whatever waited out a back-off goes now, oldest first.
                recovered.add(message.topic)
                released = await outbox.release_waiting(session, message.topic)
                if released:
                    log.info("outbox_released", topic=message.topic, messages=released)
        metrics.OUTBOX_DELIVERED.labels(message.topic).inc()
        delivered += 1
    return delivered


async def dispatch_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    handlers: Mapping[str, Handler],
    retries: Mapping[str, outbox.Retry] | None = None,
) -> int:
    """Deliver until nothing is due. Each run first makes the oldest waiting message of every
    until-done topic due (one probe call per run), so a receiver's return is found within a
    run (every 10 s, and at each kick), not after a back-off."""
    probes = [t for t, r in (retries or {}).items() if r.until_done and t in handlers]
    if probes:
        async with transaction(sessionmaker) as session:
            for topic in probes:
                await outbox.probe(session, topic)
    total = 0
    while True:
        n = await dispatch_once(sessionmaker, handlers, retries=retries)
        total += n
        if n == 0:
            return total

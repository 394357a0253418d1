"""The transactional outbox: write a message with the change; deliver it after the commit.

Delivery keeps the database's time (`now()`), not an action's clock: when a message is due is
a matter between the processes that share the table.

Delivery is at-least-once: a claim leases a message for a while (moves `available_at` ahead),
so a worker that dies mid-delivery leaves it to be claimed again. Handlers must be idempotent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.outbox.responses import OutboxMessageOut
from shared import audit, pagination
from shared.database import NO_SYNC, delete_first
from shared.models import OutboxMessage
from shared.timeutil import shanghai_iso

LEASE = timedelta(seconds=30)
"""How long a claimed message is hidden from other workers: longer than any delivery may take
(HTTP calls time out after 10 s), short enough that a killed worker's claims come back soon."""
MAX_ATTEMPTS = 12
"""With the back-off below (5·2ⁿ s, at most 6 h), about 5.7 hours of retries before a message
is marked failed."""


@dataclass(frozen=True)
class Retry:
    """How a topic's failed deliveries are retried. A receiver outside the city's control (a
    department's webhook, the hotline) gets `DEFAULT`: back-off, then a dead letter an operator
    retries. Our own routing gets `UNTIL_DONE` (issue 26): a registered case is routed however
    long routing was down, never marked failed, and the waiting ones go, oldest first, as soon
    as one gets through (`probe`, `release_waiting`)."""

    ceiling: timedelta = timedelta(hours=6)
    attempts: int | None = MAX_ATTEMPTS
    """None: never given up."""
    until_done: bool = False
    """One failure in a batch spares the rest of the batch the same wait (they are put back,
    not tried); the oldest waiting message is tried at each delivery run, and one success
    makes every waiting message due at once."""


DEFAULT = Retry()
UNTIL_DONE = Retry(ceiling=timedelta(seconds=30), attempts=None, until_done=True)


REQUEST_ID = "request_id"
"""The id of the request that wrote a message, kept in its payload for the worker's log lines and
taken out before a handler sees the payload (no receiver gets it)."""


def enqueue(
    session: AsyncSession,
    topic: str,
    payload: dict[str, Any],
    *,
    delay: timedelta | None = None,
    ordering_key: str | None = None,
) -> OutboxMessage:
    """`delay` holds delivery back (a held case's hand-over); by default it is at once. Delivery
    runs on the database's clock, not the action's, so the delay is counted from the database's
    `now()`: a message is never due earlier or later than its delay because two clocks differ."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id and REQUEST_ID not in payload:  # the worker's delivery lines carry it on
        payload = {**payload, REQUEST_ID: request_id}
    message = OutboxMessage(topic=topic, payload=payload, ordering_key=ordering_key)
    if delay is not None:
        message.available_at = func.now() + delay
    session.add(message)
    return message


ENQUEUE_MANY = text("""
    INSERT INTO outbox (topic, payload, ordering_key)
    SELECT topic, CAST(payload AS jsonb), ordering_key
    FROM unnest(CAST(:topics AS text[]), CAST(:payloads AS text[]), CAST(:keys AS text[]))
         WITH ORDINALITY AS m(topic, payload, ordering_key, n)
    ORDER BY n
""")


@dataclass(frozen=True)
class Message:
    topic: str
    payload: dict[str, Any]
    ordering_key: str | None = None


async def enqueue_many(session: AsyncSession, messages: list[Message]) -> None:
    """Many messages, due at once, in one statement: a batch job's hundreds of notices. Ids
    follow the list's order, so messages with one ordering key are delivered as listed."""
    if not messages:
        return
    await session.execute(
        ENQUEUE_MANY,
        {
            "topics": [m.topic for m in messages],
            "payloads": [json.dumps(m.payload, ensure_ascii=False) for m in messages],
            "keys": [m.ordering_key for m in messages],
        },
    )


def backoff(attempts: int, ceiling: timedelta = DEFAULT.ceiling) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts, 20) * 5), ceiling)


@dataclass
class Claimed:
    id: int
    topic: str
    payload: dict[str, Any]
    attempts: int


async def claim(session: AsyncSession, topics: list[str], *, limit: int = 50) -> list[Claimed]:
    """Take due messages of `topics` for delivery; concurrent workers never take the same one,
    and a message with an ordering key is taken only when every message before it with that key
    has been delivered: a later event waits behind an earlier one that is failing (or still
    being delivered), even across workers, so a receiver sees one case's events in order."""
    if not topics:
        return []
    result = await session.execute(
        text(
            """
            UPDATE outbox SET available_at = now() + make_interval(secs => :lease),
                              attempts = attempts + 1, last_error = NULL
            WHERE id IN (
                SELECT id FROM outbox
                WHERE delivered_at IS NULL AND failed_at IS NULL
                  AND available_at <= now() AND topic = ANY(:topics)
                  AND (ordering_key IS NULL OR NOT EXISTS (
                      SELECT 1 FROM outbox AS earlier
                      WHERE earlier.ordering_key = outbox.ordering_key
                        AND earlier.id < outbox.id AND earlier.delivered_at IS NULL))
                ORDER BY available_at, id
                LIMIT :limit
                FOR UPDATE SKIP LOCKED
            )
            RETURNING id, topic, payload, attempts
            """
        ),
        {"lease": LEASE.total_seconds(), "topics": topics, "limit": limit},
    )
    # RETURNING keeps no order: deliver the batch oldest first (released waiting messages,
    # made due at their creation time, before anything newer).
    return sorted((Claimed(r.id, r.topic, r.payload, r.attempts) for r in result), key=_by_id)


def _by_id(message: Claimed) -> int:
    return message.id


# A case's pending message of one topic, found through `ix_outbox_pending_case`. Written as
# text: these run once per registration, and building the statement cost more than running it.
_SETTLE = text("""
    UPDATE outbox SET delivered_at = now(), last_error = NULL
    WHERE payload ->> 'case_no' = :case_no AND delivered_at IS NULL AND topic = :topic
""")
_RELEASE = text("""
    UPDATE outbox SET available_at = now()
    WHERE payload ->> 'case_no' = :case_no AND delivered_at IS NULL AND topic = :topic
      AND available_at > now()
""")


async def settle_for_case(session: AsyncSession, topic: str, case_no: str) -> None:
    """What a pending `topic` message for `case_no` asked for is done (in this transaction):
    mark it delivered, so the worker does not deliver it a second time."""
    await session.execute(_SETTLE, {"topic": topic, "case_no": case_no})


async def release_for_case(session: AsyncSession, topic: str, case_no: str) -> None:
    """A pending `topic` message for `case_no` held back for a while is due now."""
    await session.execute(_RELEASE, {"topic": topic, "case_no": case_no})


async def mark_delivered(session: AsyncSession, message_id: int) -> None:
    await session.execute(
        update(OutboxMessage)
        .execution_options(**NO_SYNC)
        .where(OutboxMessage.id == message_id)
        .values(delivered_at=func.now(), last_error=None)
    )


async def mark_failed_attempt(
    session: AsyncSession, message: Claimed, error: str, retry: Retry = DEFAULT
) -> None:
    """Schedule a retry with back-off, or give up visibly after `retry.attempts`."""
    values: dict[str, Any] = {"last_error": error[:2000]}
    if retry.attempts is not None and message.attempts >= retry.attempts:
        values["failed_at"] = func.now()
    else:
        values["available_at"] = func.now() + backoff(message.attempts, retry.ceiling)
    await session.execute(
        update(OutboxMessage)
        .execution_options(**NO_SYNC)
        .where(OutboxMessage.id == message.id)
        .values(**values)
    )


# Waiting after a failed try: pending, failed at least once, not due. A held case's hand-over
# (delayed on purpose, never tried) is not waiting, and neither is one leased by a worker for
# another try right now (a claim clears `last_error`; a failure sets it again).
_PROBE = text("""
    UPDATE outbox SET available_at = now()
    WHERE id = (SELECT id FROM outbox
                WHERE topic = :topic AND delivered_at IS NULL AND failed_at IS NULL
                  AND last_error IS NOT NULL AND available_at > now()
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
""")
_RELEASE_WAITING = text("""
    UPDATE outbox SET available_at = created_at
    WHERE topic = :topic AND delivered_at IS NULL AND failed_at IS NULL
      AND last_error IS NOT NULL AND available_at > now()
""")


async def probe(session: AsyncSession, topic: str) -> None:
    """The oldest message of `topic` waiting out its back-off is due now: each delivery run
    tries one, so the receiver's return is noticed within a run, not a back-off."""
    await session.execute(_PROBE, {"topic": topic})


async def release_waiting(session: AsyncSession, topic: str) -> int:
    """The receiver answered again: every message of `topic` waiting out a back-off is due at
    once, at the time it was written, so the oldest go first (before anything newer)."""
    result = await session.execute(_RELEASE_WAITING, {"topic": topic})
    return int(getattr(result, "rowcount", 0) or 0)


async def oldest_retrying(session: AsyncSession) -> dict[str, float]:
    """Per topic, the age in seconds of the oldest undelivered message that has failed at
    least once: how long a receiver has kept cases or calls waiting (the alert's figure)."""
    result = await session.execute(
        text(
            """
            SELECT topic, EXTRACT(EPOCH FROM now() - min(created_at)) AS age FROM outbox
            WHERE delivered_at IS NULL AND failed_at IS NULL AND last_error IS NOT NULL
            GROUP BY topic
            """
        )
    )
    return {r.topic: float(r.age) for r in result}


async def backlog(session: AsyncSession) -> dict[str, int]:
    pending = await session.execute(
        select(func.count()).where(
            OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None)
        )
    )
    failed = await session.execute(select(func.count()).where(OutboxMessage.failed_at.is_not(None)))
    return {"pending": int(pending.scalar_one()), "failed": int(failed.scalar_one())}


PRUNE_BATCH = 5000


async def prune(session: AsyncSession, *, older_than: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Delete delivered messages older than the retention, a batch at a time: the case history
    keeps what happened; the outbox only has to remember what is still to send."""
    return await delete_first(
        session,
        OutboxMessage,
        where=and_(
            OutboxMessage.delivered_at.is_not(None),
            OutboxMessage.delivered_at < func.now() - older_than,
        ),
        order_by=OutboxMessage.delivered_at,
        batch=batch,
    )


async def listing(
    session: AsyncSession, *, state: str, topic: str | None, limit: int, cursor: str | None
) -> tuple[list[OutboxMessage], str | None]:
    """Messages by state, newest first, a page at a time: `failed` ones are the deliveries that
    gave up."""
    stmt = select(OutboxMessage)
    if state == "failed":
        stmt = stmt.where(OutboxMessage.failed_at.is_not(None))
    elif state == "pending":
        stmt = stmt.where(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None))
    else:
        stmt = stmt.where(OutboxMessage.delivered_at.is_not(None))
    if topic:
        stmt = stmt.where(OutboxMessage.topic == topic)
    if cursor:
        (before,) = pagination.decode_cursor(cursor, pagination.row_id)
        stmt = stmt.where(OutboxMessage.id < before)
    stmt = stmt.order_by(OutboxMessage.id.desc()).limit(limit + 1)
    return pagination.page(list((await session.execute(stmt)).scalars()), limit, lambda m: (m.id,))


async def retry(session: AsyncSession, message_id: int) -> bool:
    """Give a failed message a fresh set of attempts (after the receiver was fixed)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.failed_at.is_not(None))
        .values(failed_at=None, attempts=0, available_at=func.now())
        .returning(OutboxMessage.id)
    )
    retried = result.scalar_one_or_none() is not None
    if retried:
        audit.changed(f"outbox message {message_id}: retried")
    return retried


def message_out(m: OutboxMessage) -> OutboxMessageOut:
    """Where a message stands, never its payload: only the case, department and event it
    concerns (a payload can hold a case's callback URL and the like)."""
    return OutboxMessageOut(
        id=m.id,
        topic=m.topic,
        attempts=m.attempts,
        last_error=m.last_error,
        created_at=shanghai_iso(m.created_at),
        next_attempt_at=shanghai_iso(m.available_at),
        delivered_at=shanghai_iso(m.delivered_at),
        failed_at=shanghai_iso(m.failed_at),
        case_no=m.payload.get("case_no"),
        department=m.payload.get("department"),
        event=m.payload.get("event"),
    )

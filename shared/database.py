"""Engine and sessions. Nothing is created at import time; the app lifespan and the worker
start-up own the engine, and a transaction commits only at the request or job boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import InstrumentedAttribute

from shared import audit
from shared.models.base import Base
from shared.settings import Settings

NO_SYNC = {"synchronize_session": False}
"""Execution options for a bulk UPDATE whose rows no loaded object needs refreshed (outbox
messages and idempotency records on the registration, routing and delivery paths): SQLAlchemy's
default first works out which objects in the session to refresh, which there cost as much as the
UPDATE itself."""


def make_engine(
    settings: Settings,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    url: str | None = None,
) -> AsyncEngine:
    """`url`: another server with the same settings (the stats replica); DATABASE_URL if None."""
    url = url or settings.database_url
    if url is None:
        raise RuntimeError("DATABASE_URL is not set (make run / make test start an embedded one)")
    return create_async_engine(
        url,
        pool_size=pool_size or settings.db_pool_size,
        max_overflow=settings.db_max_overflow if max_overflow is None else max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        # No ping before each checkout (a round trip per transaction): a connection that died
        # with its server fails its first statement instead, which answers 503 and is dropped
        # from the pool, and the client's retry gets a fresh one.
        pool_pre_ping=False,
        # A failed statement's parameters are citizens' names and phones: never in an error
        # message (and so never in a log line or a traceback).
        hide_parameters=True,
        connect_args={
            # Client-side bounds: a frozen server never answers a statement_timeout.
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_statement_timeout_ms / 1000 + 1,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "gaodedim",
                "timezone": "UTC",
            },
        },
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block ends cleanly, roll back on any exception. What the
    block showed of personal data in clear is recorded in it, before the commit (shared.audit)."""
    async with sessionmaker() as session, session.begin():
        try:
            yield session
        except BaseException:
            audit.undo_changes()  # rolled back: nothing changed, so no row says it did
            raise
        await audit.flush(session)


async def in_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    batch: Callable[[AsyncSession], Awaitable[int]],
    *,
    full: int,
    most: int | None = None,
) -> int:
    """Run `batch` (which returns how much it did) one transaction at a time until one does
    less than `full`, or `most` times: backlogs go steadily, no transaction runs long.
    Returns the total done."""
    done, runs = 0, 0
    while most is None or runs < most:
        async with transaction(sessionmaker) as session:
            n = await batch(session)
        done, runs = done + n, runs + 1
        if n < full:
            break
    return done


async def delete_first(
    session: AsyncSession,
    model: type[Base],
    *,
    where: ColumnElement[bool],
    order_by: ColumnElement[Any] | InstrumentedAttribute[Any],
    batch: int,
) -> int:
    """Delete up to `batch` rows of `model` that match `where`, first in `order_by`: one prune
    step (the outbox, idempotency records, the audit trail), bounded so no transaction runs
    long. Returns how many went."""
    key = model.__table__.c.id
    first = select(key).where(where).order_by(order_by).limit(batch)
    result = await session.execute(delete(model).where(key.in_(first.scalar_subquery())))
    return int(getattr(result, "rowcount", 0) or 0)

"""`Idempotency-Key`: the same key and body get the first answer; the same key with another
body is a 409. The record is written in the request's own transaction, so a request that fails
leaves no record and can be retried with the same key.

Two requests with one key at once: the second's INSERT waits on the unique index until the first
commits, then finds the finished record and replays it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.errors import conflict, invalid
from shared.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass
class Claim:
    record_id: int | None
    replay_status: int | None = None
    replay_body: Any = None
    settled: bool = True

    @property
    def is_replay(self) -> bool:
        return self.replay_status is not None


async def claim(session: AsyncSession, *, scope: str, key: str, fingerprint: str) -> Claim:
    """The record for a new request, or the first request's answer to replay (`settled` False
    while the first request is still finishing it: see `settled_answer`)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise invalid("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")
    inserted = await session.execute(
        insert(IdempotencyRecord)
        .values(scope=scope, key=key, request_hash=fingerprint)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(IdempotencyRecord.id)
    )
    record_id = inserted.scalar_one_or_none()
    if record_id is not None:
        return Claim(record_id=record_id)
    existing = await _record(session, scope, key)
    if existing.request_hash != fingerprint:
        raise conflict(
            "this Idempotency-Key was used with a different request body",
            idempotency_key=key,
        )
    return Claim(
        record_id=None,
        replay_status=existing.status_code,
        replay_body=existing.response_body,
        settled=existing.settled,
    )


async def settled_answer(
    sessionmaker: async_sessionmaker[AsyncSession], *, scope: str, key: str, wait_seconds: float
) -> tuple[int, Any]:
    """The first request's final answer, waited for up to `wait_seconds` without holding a
    connection between looks (waiting replays must not starve the first request of the
    connection it needs to settle). A first request that died before settling leaves its
    committed answer, which is then final."""
    deadline = time.monotonic() + wait_seconds
    while True:
        async with sessionmaker() as session:
            record = await _record(session, scope, key)
        if record.settled or time.monotonic() >= deadline:
            assert record.status_code is not None
            return record.status_code, record.response_body
        await asyncio.sleep(0.05)


async def _record(session: AsyncSession, scope: str, key: str) -> IdempotencyRecord:
    return (
        await session.execute(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def store(
    session: AsyncSession, record_id: int, status: int, body: Any, *, settled: bool = True
) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(status_code=status, response_body=body, settled=settled)
    )


async def settle(session: AsyncSession, record_id: int, body: Any | None = None) -> None:
    """The first request's answer is final: `body` if it changed after the commit, else as
    stored."""
    values: dict[str, Any] = {"settled": True}
    if body is not None:
        values["response_body"] = body
    await session.execute(
        update(IdempotencyRecord).where(IdempotencyRecord.id == record_id).values(**values)
    )

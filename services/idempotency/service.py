"""`Idempotency-Key`: the same key and body get the first answer; the same key with another
body is a 409. The record is written in the request's own transaction, so a request that fails
leaves no record and can be retried with the same key.

Two requests with one key at once: the second's INSERT waits on the unique index until the first
commits, then finds the finished record and replays it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from shared.database import delete_first
from shared.errors import conflict, invalid
from shared.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


_CLAIM = text(
    "INSERT INTO idempotency_records (scope, key, request_hash) VALUES (:scope, :key, :hash) "
    "ON CONFLICT (scope, key) DO NOTHING RETURNING id"
)
"""As text: SQLAlchemy 2.0 cannot cache a PostgreSQL `insert()` (the ON CONFLICT form), so the
construct would be compiled again on every registration."""


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
    when the answer goes on changing after the commit: see `web.idempotent.replay`)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise invalid("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")
    inserted = await session.execute(_CLAIM, {"scope": scope, "key": key, "hash": fingerprint})
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


async def is_settled(session: AsyncSession, *, scope: str, key: str) -> bool:
    settled = await session.scalar(
        select(IdempotencyRecord.settled).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )
    return bool(settled)


async def _record(session: AsyncSession, scope: str, key: str) -> IdempotencyRecord:
    return (
        await session.execute(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


_STORE = text(
    "UPDATE idempotency_records SET status_code = :status, response_body = :body, "
    "settled = :settled WHERE id = :id"
).bindparams(bindparam("body", type_=JSONB))
_SETTLE = text("UPDATE idempotency_records SET settled = true WHERE id = :id")
"""Built once (issue 32): a statement constructed per call costs SQLAlchemy more to build and
look up in its cache than the database spends running it, once or twice per registration."""


async def store(
    session: AsyncSession, record_id: int, status: int, body: Any, *, settled: bool = True
) -> None:
    await session.execute(
        _STORE, {"status": status, "body": body, "settled": settled, "id": record_id}
    )


async def settle(session: AsyncSession, record_id: int) -> None:
    await session.execute(_SETTLE, {"id": record_id})


PRUNE_BATCH = 5000


async def prune(session: AsyncSession, *, older_than: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Delete first answers older than IDEMPOTENCY_RETENTION, a batch at a time (oldest ids
    first: ids grow with time, so the primary key finds them without an index of its own).
    They hold the applicant's personal data and are only there for retries."""
    return await delete_first(
        session,
        IdempotencyRecord,
        where=IdempotencyRecord.created_at < func.now() - older_than,
        order_by=IdempotencyRecord.id,
        batch=batch,
    )

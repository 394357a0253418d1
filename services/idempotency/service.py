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
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

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

    @property
    def is_replay(self) -> bool:
        return self.replay_status is not None


async def claim(session: AsyncSession, *, scope: str, key: str, fingerprint: str) -> Claim:
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
    existing = (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
            )
        )
    ).scalar_one()
    if existing.request_hash != fingerprint:
        raise conflict(
            "this Idempotency-Key was used with a different request body",
            idempotency_key=key,
        )
    return Claim(
        record_id=None, replay_status=existing.status_code, replay_body=existing.response_body
    )


async def store(session: AsyncSession, record_id: int, status: int, body: Any) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(status_code=status, response_body=body)
    )

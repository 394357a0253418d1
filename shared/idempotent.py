"""Running a create under an `Idempotency-Key`, for any endpoint that creates something."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.idempotency import service as idempotency
from shared.database import transaction
from shared.principal import Principal


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool
    record_id: int | None


async def run(
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    method: str,
    path: str,
    body: Any,
    create: Callable[[], Awaitable[tuple[int, Any]]],
) -> Outcome:
    """The record joins the caller's transaction: all or nothing."""
    if key is None:
        status, out = await create()
        return Outcome(status, out, False, None)
    claim = await idempotency.claim(
        session,
        scope=principal.scope,
        key=key,
        fingerprint=idempotency.request_hash(method, path, body),
    )
    if claim.is_replay:
        assert claim.replay_status is not None
        return Outcome(claim.replay_status, claim.replay_body, True, None)
    status, out = await create()
    assert claim.record_id is not None
    await idempotency.store(session, claim.record_id, status, out)
    return Outcome(status, out, False, claim.record_id)


async def amend(
    sessionmaker: async_sessionmaker[AsyncSession], outcome: Outcome, body: Any
) -> Outcome:
    """Replace the answer kept for a replay when work after the commit changed it (a case
    routed at once), so a retry gets exactly what the first caller got."""
    if outcome.record_id is not None:
        async with transaction(sessionmaker) as session:
            await idempotency.store(session, outcome.record_id, outcome.status, body)
    return Outcome(outcome.status, body, outcome.replayed, outcome.record_id)


def response(outcome: Outcome, headers: dict[str, str] | None = None) -> JSONResponse:
    all_headers = dict(headers or {})
    if outcome.replayed:
        all_headers["Idempotent-Replayed"] = "true"
    return JSONResponse(outcome.body, status_code=outcome.status, headers=all_headers)

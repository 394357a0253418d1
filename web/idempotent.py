"""Running a create under an `Idempotency-Key`, for any endpoint that creates something."""

from __future__ import annotations

import asyncio
import time
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
    settled: bool = True


async def run(
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    method: str,
    path: str,
    body: Any,
    create: Callable[[], Awaitable[tuple[int, Any]]],
    unsettled: Callable[[int, Any], bool] = lambda _status, _body: False,
) -> Outcome:
    """The record joins the caller's transaction: all or nothing. `unsettled(status, body)` says
    the answer will still change after the commit (the stored body is then only the start of
    it). A replay of an unsettled answer comes back with `settled` False: call `replay` after
    the transaction."""
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
        return Outcome(claim.replay_status, claim.replay_body, True, None, claim.settled)
    status, out = await create()
    assert claim.record_id is not None
    await idempotency.store(
        session, claim.record_id, status, out, settled=not unsettled(status, out)
    )
    return Outcome(status, out, False, claim.record_id)


async def replay(
    sessionmaker: async_sessionmaker[AsyncSession],
    outcome: Outcome,
    *,
    principal: Principal,
    key: str,
    wait_seconds: float,
    current: Callable[[AsyncSession], Awaitable[tuple[bool, Any]]],
) -> Outcome:
    """A replay of an answer that goes on changing after its commit (a case being routed): the
    resource as it stands now (`current` gives it and says whether it is final). While the first
    request may still be at work, the replay waits, up to `wait_seconds`, for the resource to be
    final or for the first request to settle (its work after the commit failed)."""
    if outcome.settled:
        return outcome
    deadline = time.monotonic() + wait_seconds
    while True:
        async with transaction(sessionmaker) as session:
            final, body = await current(session)
            if not final:
                final = await idempotency.is_settled(session, scope=principal.scope, key=key)
        if final or time.monotonic() >= deadline:
            return Outcome(outcome.status, body, True, None)
        await asyncio.sleep(0.05)


def response(outcome: Outcome, headers: dict[str, str] | None = None) -> JSONResponse:
    all_headers = dict(headers or {})
    if outcome.replayed:
        all_headers["Idempotent-Replayed"] = "true"
    return JSONResponse(outcome.body, status_code=outcome.status, headers=all_headers)

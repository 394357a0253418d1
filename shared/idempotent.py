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
    the answer will still change after the commit (then `settle` must follow). A replay of an
    unsettled answer comes back with `settled` False: call `replay` after the transaction."""
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
) -> Outcome:
    """A replay whose first request was still finishing: its final answer, once settled."""
    if outcome.settled:
        return outcome
    status, body = await idempotency.settled_answer(
        sessionmaker, scope=principal.scope, key=key, wait_seconds=wait_seconds
    )
    return Outcome(status, body, True, None)


async def settle(
    sessionmaker: async_sessionmaker[AsyncSession], outcome: Outcome, body: Any | None = None
) -> Outcome:
    """The answer is final: `body` when work after the commit changed it (a case routed at
    once), else the stored one; replays waiting for it answer exactly what this caller got."""
    if outcome.record_id is not None:
        async with transaction(sessionmaker) as session:
            await idempotency.settle(session, outcome.record_id, body)
    final = outcome.body if body is None else body
    return Outcome(outcome.status, final, outcome.replayed, outcome.record_id)


def response(outcome: Outcome, headers: dict[str, str] | None = None) -> JSONResponse:
    all_headers = dict(headers or {})
    if outcome.replayed:
        all_headers["Idempotent-Replayed"] = "true"
    return JSONResponse(outcome.body, status_code=outcome.status, headers=all_headers)

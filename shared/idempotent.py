"""Running a create under an `Idempotency-Key`, for any endpoint that creates something."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.idempotency import service as idempotency
from shared.principal import Principal


async def run(
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    method: str,
    path: str,
    body: Any,
    create: Callable[[], Awaitable[tuple[int, Any]]],
) -> tuple[int, Any, bool]:
    """(status, body, replayed). The record joins the caller's transaction: all or nothing."""
    if key is None:
        status, out = await create()
        return status, out, False
    claim = await idempotency.claim(
        session,
        scope=principal.scope,
        key=key,
        fingerprint=idempotency.request_hash(method, path, body),
    )
    if claim.is_replay:
        assert claim.replay_status is not None
        return claim.replay_status, claim.replay_body, True
    status, out = await create()
    assert claim.record_id is not None
    await idempotency.store(session, claim.record_id, status, out)
    return status, out, False


def response(
    status: int, body: Any, replayed: bool, headers: dict[str, str] | None = None
) -> JSONResponse:
    all_headers = dict(headers or {})
    if replayed:
        all_headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, status_code=status, headers=all_headers)

"""One way in for a new case, whatever the channel: the REST call, a 12345 hotline order, an
Open311 request.

The complaint is stored first, in one transaction with what its channel keeps beside it (an
idempotency record, a hotline order) and its routing message in the outbox, under a fresh
tracking code (a rare clash with another process's code retries the whole transaction). Only
then is a case that needs routing handed to routing, and routing's answer (the case as it now
stands, with its department) comes back to the channel to show. When routing does not answer in
time the outbox's message routes the case later: nothing is lost either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case import codes
from shared.database import transaction
from web.cases import route_now

Stored = TypeVar("Stored")


@dataclass(frozen=True)
class Registration(Generic[Stored]):
    stored: Stored
    """What the channel's transaction returned (its outcome: the case, a replay, a repeat)."""
    routed: dict[str, Any] | None
    """Routing's answer when the case was routed at once; None when it was not to be (a repeat,
    a case held at the window, a replay) or routing did not answer in time."""


def _no_record(_: Any) -> int | None:
    return None


async def register(
    request: Request,
    sessions: async_sessionmaker[AsyncSession],
    store: Callable[[AsyncSession], Awaitable[Stored]],
    *,
    to_route: Callable[[Stored], str | None],
    idempotency_record: Callable[[Stored], int | None] = _no_record,
) -> Registration[Stored]:
    """`store` writes the case (through the case service) in the transaction it is given;
    `to_route` names the case to route now, or None; `idempotency_record`, the caller's record
    to mark final when routing cannot answer, so its replays stop waiting for a routed case."""

    async def attempt() -> Stored:
        async with transaction(sessions) as session:
            return await store(session)

    stored = await codes.with_fresh_tracking_code(attempt)
    case_no = to_route(stored)
    if case_no is None:
        return Registration(stored, None)
    routed = await route_now(request, case_no, idempotency_record=idempotency_record(stored))
    return Registration(stored, routed)

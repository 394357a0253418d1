"""The request edge shared by the routes that act on one case: run the service action in its
own transaction (commit on success, roll back on any error), then show the case to the caller;
hand a newly stored case to routing right after its commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case import presenter
from services.case import service as cases
from services.case.responses import CaseOut
from services.idempotency import service as idempotency
from shared.database import transaction
from shared.handover_groups import HandoverGroups
from shared.models import Case
from shared.principal import Principal
from web.deps import kick_worker

CaseAction = Callable[..., Awaitable[Case]]


async def act_on_case(
    sessionmaker: async_sessionmaker[AsyncSession],
    action: CaseAction,
    case_no: str,
    body: Any,
    principal: Principal,
    now: datetime,
) -> CaseOut:
    async with transaction(sessionmaker) as session:
        case = await action(session, case_no, body, actor=principal, now=now)
    return presenter.case_out(case, principal)


def handover_groups(state: Any) -> HandoverGroups | None:
    """The process's grouping of hand-overs, over the routing client it holds now (none without
    a service key)."""
    client = state.routing_client
    if client is None:
        return None
    groups: HandoverGroups | None = getattr(state, "handover", None)
    if groups is None or groups.client is not client:
        settings = state.settings
        groups = HandoverGroups(
            client, most=settings.handover_group_max, in_flight=settings.handover_in_flight
        )
        state.handover = groups
    return groups


async def route_now(
    request: Request, case_no: str, *, idempotency_record: int | None = None
) -> dict[str, Any] | None:
    """Routing's answer for a case just stored (the case as it now stands), or None when routing
    could not answer in time: then the case's routing message is released to the worker at once
    (it otherwise waits out `HANDOVER_GRACE` for this call to settle it), and the caller's
    idempotency record is marked final, so replays stop waiting for a routed case."""
    groups = handover_groups(request.app.state)
    routed = await groups.route(case_no) if groups is not None else None
    if routed is not None:
        return routed
    async with transaction(request.app.state.sessionmaker) as session:
        await cases.release_hand_over(session, case_no)
        if idempotency_record is not None:
            await idempotency.settle(session, idempotency_record)
    await kick_worker(request)
    return None

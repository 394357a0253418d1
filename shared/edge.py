"""The request edge shared by every route that acts on one case: run the service action in its
own transaction (commit on success, roll back on any error), then show the case to the caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case import presenter
from shared.database import transaction
from shared.models import Case
from shared.principal import Principal

CaseAction = Callable[..., Awaitable[Case]]


async def act_on_case(
    sessionmaker: async_sessionmaker[AsyncSession],
    action: CaseAction,
    case_no: str,
    body: Any,
    principal: Principal,
    now: datetime,
) -> dict[str, Any]:
    async with transaction(sessionmaker) as session:
        case = await action(session, case_no, body, actor=principal, now=now)
    return presenter.case_out(case, principal.role)
